"""The command line: parse options, call one core function, return an exit code.

This is the only module that imports typer. Core modules are imported inside the commands so
``planrun --version`` stays fast. ``_boundary`` is the single place that turns PlanError into
one clean message and its exit code; nothing a user types or writes reaches a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer

from planrun import __version__
from planrun.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, InvalidPlanError, PlanError
from planrun.render import console

if TYPE_CHECKING:
    from planrun.settings import Settings

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
# typer's own ways out (Exit, Abort, and its usage errors) carry their own message and code.
# (ClickException is found through BadParameter: typer vendors click in newer versions.)
_TYPER_EXITS: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Plan files or folders of plans (default: plans/).", show_default=False),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Read every file in this format instead of detecting it."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
NoDeriveOpt = Annotated[
    bool,
    typer.Option(
        "--no-derive",
        help="Do not derive checks from the text of tasks that have no verify "
        "(also: derive = false in the configuration).",
    ),
]


def _boundary(func: Callable[P, int]) -> Callable[P, None]:
    """Run a command; turn its result, a PlanError, or any other exception (exit 3, one line,
    a crash log; ``PLANRUN_DEBUG=1`` lets it through) into the process exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        from planrun import crash

        try:
            code = func(*args, **kwargs)
            console.flush_stdout()
        except InvalidPlanError as exc:
            console.invalid(exc)
            code = exc.exit_code
        except PlanError as exc:
            console.plan_error(exc)
            code = exc.exit_code
        except KeyboardInterrupt:
            console.err("planrun: interrupted")
            code = EXIT_INTERRUPTED
        except _TYPER_EXITS:
            raise  # typer's own way out, with its own message
        except Exception as exc:
            if crash.debugging():
                raise
            root = kwargs.get("root")
            console.err(crash.report(exc, root if isinstance(root, Path) else None))
            code = EXIT_INTERNAL
        raise typer.Exit(code)

    return wrapper


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


SummaryOpt = Annotated[
    Path | None,
    typer.Option("--summary", help="Write SUMMARY.md here (default: beside the plan)."),
]
TemplateOpt = Annotated[
    Path | None,
    typer.Option("--template", help="A jinja2 template to render SUMMARY.md with."),
]
RootOpt = Annotated[
    Path | None,
    typer.Option(
        "--root", help="Where commands run and paths resolve (default: plan root:, git root, cwd)."
    ),
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Parallel jobs (default: CPUs).")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0.001, help="Seconds per command when the plan sets none."),
]


def _settings(
    paths: list[Path] | None, fmt: str | None, root: Path | None = None, no_derive: bool = False
) -> Settings:
    """Flags over the configuration over the defaults, resolved once for the command."""
    from planrun.settings import Settings

    return Settings.of(paths, fmt, root=root, no_derive=no_derive)


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
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors and warnings, no count line.")
    ] = False,
    no_derive: NoDeriveOpt = False,
) -> int:
    """Check plans: schema, ids, dependencies, cycles, verify commands. Exit 1 on errors."""
    from planrun.commands import plans

    s = _settings(paths, fmt, no_derive=no_derive)
    return plans.validate(s, strict=strict, json_out=json_out, verbose=verbose, quiet=quiet)


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
    from planrun.commands import plans

    s = _settings(paths, fmt)
    return plans.waves(s, json_out=json_out, avoid_conflicts=avoid_conflicts)


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
    from planrun.commands import plans

    return plans.graph(paths, plan_format, out_format)


@app.command()
@_boundary
def execute(
    paths: PathsArg = None,
    wave: Annotated[int | None, typer.Option("--wave", help="Run only this wave.")] = None,
    task: Annotated[
        list[str] | None,
        typer.Option("--task", "-t", help="Run only this task (full or bare id); repeatable."),
    ] = None,
    jobs: JobsOpt = None,
    timeout: TimeoutOpt = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going/--fail-fast",
            help="After a failure, go on with what does not depend on it (default), or start "
            "nothing new.",
        ),
    ] = True,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only tasks that did not pass last time.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Count dependencies outside the selection as passed."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would run, in order; run nothing.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Run everything; reuse no recorded pass (config: reuse = false)."
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="Run part K of N disjoint parts of the selection (CI matrix jobs).",
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Write JUnit XML results to this file.")
    ] = None,
    summary_file: SummaryOpt = None,
    no_summary: Annotated[
        bool, typer.Option("--no-summary", help="Do not write SUMMARY.md.")
    ] = False,
    template: TemplateOpt = None,
    json_out: JsonOpt = False,
    root: RootOpt = None,
    fmt: FormatOpt = None,
    avoid_conflicts: Annotated[
        bool,
        typer.Option(
            "--avoid-conflicts",
            help="Move a task that shares a file with an earlier task of its wave to a later "
            "wave (as waves --avoid-conflicts), and never run two such tasks at once.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show each task as it starts.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only failures and the final line.")
    ] = False,
    no_derive: NoDeriveOpt = False,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Hold claims against this commit (default: the parent of the commit that "
            "added the plan).",
        ),
    ] = None,
    prove: Annotated[
        bool,
        typer.Option(
            "--prove", help="Run passing checks again on the base tree; passing there is vacuous."
        ),
    ] = False,
    strict_scope: Annotated[
        bool,
        typer.Option("--strict-scope", help="Changed files that no task declares fail the run."),
    ] = False,
) -> int:
    """Run the verify commands and must_haves checks of the selected tasks."""
    from planrun.commands import run

    s = _settings(paths, fmt, root, no_derive)
    opts = s.execute_options(
        argv=sys.argv[1:],
        wave=wave,
        tasks=task,
        jobs=jobs,
        timeout=timeout,
        fail_fast=not keep_going,
        failed=failed,
        force=force,
        avoid_conflicts=avoid_conflicts,
        shard=shard,
        fresh=fresh,
        base=base,
        prove=prove,
        strict_scope=strict_scope,
    )
    return run.execute(
        s,
        opts,
        dry_run=dry_run,
        json_out=json_out,
        summary=None if no_summary else s.summary_path(summary_file),
        junit=junit,
        template=template,
        verbose=verbose,
        quiet=quiet,
    )


@app.command()
@_boundary
def watch(
    paths: PathsArg = None,
    jobs: JobsOpt = None,
    timeout: TimeoutOpt = None,
    summary_file: SummaryOpt = None,
    root: RootOpt = None,
    fmt: FormatOpt = None,
) -> int:
    """Run the plans, then rerun what changed each time files change (Ctrl-C stops)."""
    from planrun.commands import run

    s = _settings(paths, fmt, root)
    opts = s.execute_options(argv=sys.argv[1:], jobs=jobs, timeout=timeout)
    return run.watch(s, opts, summary_file)


@app.command()
@_boundary
def status(
    paths: PathsArg = None,
    json_out: JsonOpt = False,
    root: RootOpt = None,
    fmt: FormatOpt = None,
    no_derive: NoDeriveOpt = False,
) -> int:
    """Show the last recorded result of every task and milestone."""
    from planrun.commands import recorded

    return recorded.status(_settings(paths, fmt, root, no_derive), json_out=json_out)


@app.command(name="summary")
@_boundary
def summary_(
    paths: PathsArg = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: beside the plan).")
    ] = None,
    merge: Annotated[
        Path | None,
        typer.Option(
            "--merge",
            help="First record the `execute --json` documents in this folder (results from "
            "other machines); exit 1 if a task did not pass.",
        ),
    ] = None,
    template: TemplateOpt = None,
    root: RootOpt = None,
    fmt: FormatOpt = None,
) -> int:
    """Re-render SUMMARY.md from the recorded state, without running anything."""
    from planrun.commands import recorded

    s = _settings(paths, fmt, root)
    return recorded.summary(s, output=output, merge=merge, template=template)


@app.command(name="next")
@_boundary
def next_(
    paths: PathsArg = None,
    json_out: JsonOpt = False,
    root: RootOpt = None,
    fmt: FormatOpt = None,
    no_derive: NoDeriveOpt = False,
) -> int:
    """List tasks ready to work on: not passed yet, every dependency passed."""
    from planrun.commands import recorded

    return recorded.next_(_settings(paths, fmt, root, no_derive), json_out=json_out)


@app.command()
@_boundary
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


export_app = typer.Typer(
    name="export",
    help="Export plans to other tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(export_app)


@export_app.command("github-actions")
@_boundary
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
        _settings(paths, fmt),
        output=output,
        granularity=granularity,
        shards=shards,
        install=install,
        python=python,
    )


@app.command()
@_boundary
def schema() -> int:
    """Print the JSON Schema of the canonical plan frontmatter."""
    from planrun.commands import plans

    return plans.schema()


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
    from planrun.commands import plans

    return plans.new(name, directory, title)


@app.command()
@_boundary
def mcp() -> int:
    """Serve planrun's commands as MCP tools over stdio (needs: pip install 'planrun[mcp]')."""
    from planrun.errors import UsageError

    try:
        from planrun.mcp_server import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types", "anyio"):
            raise
        raise UsageError(
            "planrun mcp needs the MCP Python SDK, which is not installed: "
            "install planrun[mcp] (pip install 'planrun[mcp]')"
        ) from None
    serve()
    return EXIT_OK


@app.command()
@_boundary
def hook(
    adapter: Annotated[
        str | None,
        typer.Argument(help="The agent whose hook this is (run without one to list them)."),
    ] = None,
) -> int:
    """An agent hook that refuses to let the agent stop while a task it claimed done fails.

    Reads the agent's hook input on stdin. claude-code: exit 0 lets the agent stop, exit 2
    refuses, with what to do on stderr (at most hook_max_blocks times in a row)."""
    from planrun import hooks

    return hooks.command(adapter)


def main() -> None:
    from planrun import crash

    try:
        app()
    except _TYPER_EXITS:
        raise
    except Exception as exc:  # outside any command (option parsing, completion)
        if crash.debugging():
            raise
        console.err(crash.report(exc))
        raise SystemExit(EXIT_INTERNAL) from None
