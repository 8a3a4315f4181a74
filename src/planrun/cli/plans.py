"""The commands that read, draw and write plans: validate, waves, graph, convert, export,
schema, new (their bodies are in ``planrun.commands.plans``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planrun.cli.boundary import boundary
from planrun.cli.options import FormatOpt, JsonOpt, NoDeriveOpt, PathsArg, settings


@boundary
def validate(
    paths: PathsArg = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show info diagnostics.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors and warnings, no count line.")
    ] = False,
    no_derive: NoDeriveOpt = False,
) -> int:
    """Check plans: schema, ids, dependencies, cycles, verify commands. Exit 1 on errors."""
    from planrun.commands import plans

    s = settings(paths, fmt, no_derive=no_derive)
    return plans.validate(s, strict=strict, json_out=json_out, verbose=verbose, quiet=quiet)


@boundary
def waves(
    paths: PathsArg = None,
    json_out: JsonOpt = False,
    avoid_conflicts: Annotated[
        bool,
        typer.Option(
            "--avoid-conflicts",
            help="Move a task that shares a file with an earlier task of its wave to a later wave.",
        ),
    ] = False,
    fmt: FormatOpt = None,
) -> int:
    """Show the waves (parallel groups) and the critical path."""
    from planrun.commands import plans

    s = settings(paths, fmt)
    return plans.waves(s, json_out=json_out, avoid_conflicts=avoid_conflicts)


@boundary
def graph(
    paths: PathsArg = None,
    out_format: Annotated[str, typer.Option("--format", help="mermaid, dot or json.")] = "mermaid",
    plan_format: Annotated[
        str | None, typer.Option("--plan-format", help="Read plans in this format.")
    ] = None,
) -> int:
    """Print the dependency graph as mermaid, Graphviz dot or JSON."""
    from planrun.commands import plans

    return plans.graph(paths, plan_format, out_format)


@boundary
def convert(
    path: Annotated[
        Path, typer.Argument(help="The plan file (or a folder that is one plan) to convert.")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    plan_id: Annotated[
        str | None, typer.Option("--plan", help="Which plan, when the file holds several.")
    ] = None,
    fmt: FormatOpt = None,
    no_derive: NoDeriveOpt = False,
) -> int:
    """Print a plan in the canonical planrun format (what `planrun new` writes)."""
    from planrun.commands import plans

    return plans.convert(path, output, plan_id, fmt, no_derive=no_derive)


@boundary
def export_github_actions(
    paths: PathsArg = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (e.g. .github/workflows/planrun.yml)."),
    ] = None,
    granularity: Annotated[
        str,
        typer.Option(
            "--granularity", help="One job per task, per plan, or a matrix of shards per wave."
        ),
    ] = "task",
    shards: Annotated[
        int, typer.Option("--shards", min=1, help="Shards per wave with --granularity shard.")
    ] = 2,
    install: Annotated[
        str | None,
        typer.Option(
            "--install",
            help="What each job pip-installs (default: the repository, when it is planrun's).",
        ),
    ] = None,
    python: Annotated[str, typer.Option("--python", help="Python version of the jobs.")] = "3.12",
    fmt: FormatOpt = None,
) -> int:
    """A GitHub Actions workflow running each task as a job, needs following the graph."""
    from planrun.commands import plans

    return plans.export_github_actions(
        settings(paths, fmt),
        output=output,
        granularity=granularity,
        shards=shards,
        install=install,
        python=python,
    )


@boundary
def schema() -> int:
    """Print the JSON Schema of the canonical plan frontmatter."""
    from planrun.commands import plans

    return plans.schema()


@boundary
def new(
    name: Annotated[str, typer.Argument(help="Plan name; the file is DIR/NAME.md.")],
    directory: Annotated[
        Path, typer.Option("--dir", "-d", help="Folder to write the plan in.")
    ] = Path("plans"),
    title: Annotated[str | None, typer.Option("--title", help="Plan title.")] = None,
) -> int:
    """Write a new canonical plan from the template (never overwrites)."""
    from planrun.commands import plans

    return plans.new(name, directory, title)
