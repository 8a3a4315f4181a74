"""The command line: parse options, call one core function, return an exit code.

This is the only module that imports typer. Core modules are imported inside the commands so
``planrun --version`` stays fast. ``_boundary`` is the single place that turns PlanError into
one clean message and its exit code; nothing a user types or writes reaches a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer

from planrun import __version__
from planrun.errors import EXIT_FAILED, EXIT_OK, InvalidPlanError, PlanError

if TYPE_CHECKING:
    from planrun.validate import Validation

app = typer.Typer(
    name="planrun",
    help="Validate agent-written plans, run their verify commands in dependency waves, "
    "and report what is really done.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

P = ParamSpec("P")

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Plan files or folders of plans (default: plans/).", show_default=False),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Read every file in this format instead of detecting it."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _boundary(func: Callable[P, int]) -> Callable[P, None]:
    """Run a command; turn its result or PlanError into the process exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            code = func(*args, **kwargs)
        except InvalidPlanError as exc:
            for diag in exc.diagnostics:
                if diag.severity != "info":
                    _err(diag.format())
            _err(f"planrun: {exc.message}")
            code = exc.exit_code
        except PlanError as exc:
            _err(f"planrun: error: {exc.message}")
            if exc.hint:
                _err(f"    hint: {exc.hint}")
            code = exc.exit_code
        raise typer.Exit(code)

    return wrapper


def _paths(paths: list[Path] | None) -> list[Path]:
    return paths or [Path("plans")]


def _annotate(severity: str, file: str, line: int | None, message: str) -> None:
    """GitHub Actions workflow command, so the problem shows on the right line of the diff."""
    kind = "error" if severity == "error" else "warning"
    where = f"file={file},line={line}" if line else f"file={file}"
    _err(f"::{kind} {where}::{message.replace(chr(10), ' ')}")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"planrun {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """planrun: the referee between "the agent says it is done" and "it is done"."""


@app.command()
@_boundary
def validate(
    paths: PathsArg = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    json_out: JsonOpt = False,
    fmt: FormatOpt = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show info diagnostics.")
    ] = False,
) -> int:
    """Check plans: schema, ids, dependencies, cycles, verify commands. Exit 1 on errors."""
    from planrun import jsondoc
    from planrun.validate import validate_paths

    result = validate_paths(_paths(paths), fmt)
    doc = jsondoc.validate_doc(result, strict=strict)
    diags = result.diagnostics.sorted()
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for d in diags:
            if d.severity != "info":
                _annotate(d.severity, d.file, d.line, f"[{d.code}] {d.message}")
    if json_out:
        sys.stdout.write(jsondoc.dumps(doc))
    else:
        shown = [d for d in diags if verbose or d.severity != "info"]
        for diag in shown:
            sys.stdout.write(diag.format() + "\n")
        sys.stdout.write(_validate_summary(result) + "\n")
    return EXIT_OK if doc["ok"] else EXIT_FAILED


def _validate_summary(result: Validation) -> str:
    plans = len(result.plans)
    tasks = sum(len(p.tasks) for p in result.plans)
    errors = result.diagnostics.count("error")
    warnings = result.diagnostics.count("warning")
    head = f"{plans} plan{'s' if plans != 1 else ''}, {tasks} task{'s' if tasks != 1 else ''}"
    if not errors and not warnings:
        return f"{head}: no problems found."
    return (
        f"{head}: {errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}."
    )


@app.command()
@_boundary
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
    from planrun import jsondoc
    from planrun.validate import load_valid

    result = load_valid(_paths(paths), fmt)
    graph = result.graph
    if avoid_conflicts:
        graph.assign_waves(avoid_conflicts=True)
    critical = graph.critical_path()
    if json_out:
        sys.stdout.write(jsondoc.dumps(jsondoc.waves_doc(graph, critical)))
        return EXIT_OK
    out = []
    for number, wave in enumerate(graph.waves(), start=1):
        out.append(f"Wave {number} ({len(wave)} task{'s' if len(wave) != 1 else ''})")
        out.extend(f"  {u.id}" for u in wave)
    count = len(critical)
    out.append(
        f"Critical path ({count} task{'s' if count != 1 else ''}): "
        + " -> ".join(u.id for u in critical)
    )
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_OK


@app.command()
@_boundary
def graph(
    paths: PathsArg = None,
    out_format: Annotated[str, typer.Option("--format", help="mermaid, dot or json.")] = "mermaid",
    plan_format: Annotated[
        str | None, typer.Option("--plan-format", help="Read plans in this format.")
    ] = None,
) -> int:
    """Print the dependency graph as mermaid, Graphviz dot or JSON."""
    from planrun import graphfmt
    from planrun.errors import UsageError
    from planrun.validate import load_valid

    if out_format not in graphfmt.FORMATS:
        raise UsageError(
            f'unknown graph format "{out_format}"; use one of: {", ".join(graphfmt.FORMATS)}'
        )
    result = load_valid(_paths(paths), plan_format)
    sys.stdout.write(graphfmt.render(result.graph, out_format))
    return EXIT_OK


@app.command()
@_boundary
def schema() -> int:
    """Print the JSON Schema of the canonical plan frontmatter."""
    from planrun import jsondoc
    from planrun.model import json_schema

    sys.stdout.write(jsondoc.dumps(json_schema()))
    return EXIT_OK


@app.command()
@_boundary
def new(
    name: Annotated[str, typer.Argument(help="Plan name; the file is DIR/NAME.md.")],
    directory: Annotated[
        Path, typer.Option("--dir", "-d", help="Folder to write the plan in.")
    ] = Path("plans"),
    title: Annotated[str | None, typer.Option("--title", help="Plan title.")] = None,
) -> int:
    """Write a new canonical plan from the template (never overwrites)."""
    from planrun.scaffold import new_plan

    path = new_plan(name, directory, title)
    sys.stdout.write(f"created {path}\nnext: edit it, then run: planrun validate {path}\n")
    return EXIT_OK


def main() -> None:
    app()
