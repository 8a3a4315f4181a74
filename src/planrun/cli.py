"""The command line: parse options, call one core function, return an exit code.

This is the only module that imports typer. Core modules are imported inside the commands so
``planrun --version`` stays fast. ``_boundary`` is the single place that turns PlanError into
one clean message and its exit code; nothing a user types or writes reaches a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer

from planrun import __version__
from planrun.errors import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_SELECTED,
    EXIT_OK,
    InvalidPlanError,
    PlanError,
)

if TYPE_CHECKING:
    from planrun.config import Config
    from planrun.diagnostics import Diagnostic
    from planrun.selection import ExecuteOptions
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


def _err(text: str) -> None:
    """A message on stderr; plan text in it is escaped for a terminal and for CI logs."""
    from planrun.render.output import echo

    with contextlib.suppress(OSError):  # nowhere left to say anything
        sys.stderr.write(echo(text) + "\n")


def _command(line: str) -> None:
    """A workflow command planrun means (an annotation): written as it is."""
    with contextlib.suppress(OSError):
        sys.stderr.write(line + "\n")


def _out(text: str, *, raw: bool = False) -> None:
    """Write to stdout; JSON documents (``raw``) are already escaped."""
    from planrun.errors import OutputError
    from planrun.render.output import echo

    try:
        sys.stdout.write(text if raw else echo(text))
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _flush_stdout() -> None:
    """Flush stdout, so a full disk or a closed pipe is an error now, not a traceback at exit;
    after a failure, stdout points at /dev/null so the interpreter's last flush is quiet."""
    from planrun.errors import OutputError

    try:
        sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _boundary(func: Callable[P, int]) -> Callable[P, None]:
    """Run a command; turn its result, a PlanError, or any other exception (exit 3, one line,
    a crash log; ``PLANRUN_DEBUG=1`` lets it through) into the process exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        from planrun import crash

        try:
            code = func(*args, **kwargs)
            _flush_stdout()
        except InvalidPlanError as exc:
            _invalid(exc)
            code = exc.exit_code
        except PlanError as exc:
            _plan_error(exc)
            code = exc.exit_code
        except KeyboardInterrupt:
            _err("planrun: interrupted")
            code = EXIT_INTERRUPTED
        except _TYPER_EXITS:
            raise  # typer's own way out, with its own message
        except Exception as exc:
            if crash.debugging():
                raise
            root = kwargs.get("root")
            _err(crash.report(exc, root if isinstance(root, Path) else None))
            code = EXIT_INTERNAL
        raise typer.Exit(code)

    return wrapper


def _invalid(exc: InvalidPlanError) -> None:
    for diag in exc.diagnostics:
        if diag.severity != "info":
            _err(diag.format())
    _annotate(exc.diagnostics)
    _err(f"planrun: {exc.message}")


def _plan_error(exc: PlanError) -> None:
    from planrun.errors import OutputError

    if isinstance(exc, OutputError) and "standard output" in exc.message:
        _silence_stdout()
    _err(f"planrun: error: {exc.message}")
    if exc.hint:
        _err(f"    hint: {exc.hint}")


def _report_error(exc: PlanError) -> int:
    """Print an expected error (an invalid plan's diagnostics, or one message and a hint)."""
    if isinstance(exc, InvalidPlanError):
        _invalid(exc)
    else:
        _plan_error(exc)
    return exc.exit_code


def _config() -> Config:
    from planrun.config import load_config

    return load_config()


def _paths(paths: list[Path] | None, config: Config) -> list[Path]:
    """PATH arguments, else the configured default, else plans/."""
    if paths:
        return paths
    if config.path:
        return [p for p in (config.resolve(x) for x in config.path) if p is not None]
    return [Path("plans")]


def _format(fmt: str | None, config: Config) -> str | None:
    return fmt if fmt is not None else config.format


def _inputs(paths: list[Path] | None, fmt: str | None) -> tuple[list[Path], str | None, Config]:
    """The plan paths and format a command works on (flags, else configuration), and the
    configuration itself."""
    config = _config()
    return _paths(paths, config), _format(fmt, config), config


def _annotate(diagnostics: Sequence[Diagnostic]) -> None:
    """Under GitHub Actions, an annotation per error and warning, on its line of the diff."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    from planrun.render.github import annotation

    for d in diagnostics:
        if d.severity != "info":
            kind = "error" if d.severity == "error" else "warning"
            _command(annotation(kind, d.file, d.line, f"[{d.code}] {d.message}"))


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
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors and warnings, no count line.")
    ] = False,
    no_derive: NoDeriveOpt = False,
) -> int:
    """Check plans: schema, ids, dependencies, cycles, verify commands. Exit 1 on errors."""
    from planrun.render import jsondoc
    from planrun.validate import validate_paths

    targets, plan_fmt, config = _inputs(paths, fmt)
    result = validate_paths(targets, plan_fmt, derive=config.derive and not no_derive)
    doc = jsondoc.validate_doc(result, strict=strict)
    diags = result.diagnostics.sorted()
    if json_out:
        _out(jsondoc.dumps(doc), raw=True)
    else:
        _block([d.format() for d in diags if verbose or d.severity != "info"])
        if not quiet:
            _out(_validate_summary(result) + "\n")
    _flush_stdout()
    _annotate(diags)
    if doc["ok"] and not result.plans:
        # As pytest exits 5 when it collects nothing: a gate over no plans is not green.
        _err(f"planrun: error: no plans found in {', '.join(str(t) for t in targets)}")
        return EXIT_NOTHING_SELECTED
    return EXIT_OK if doc["ok"] else EXIT_FAILED


def _block(lines: list[str]) -> None:
    """Lines echoing plan text; under GitHub Actions between stop-commands markers."""
    from planrun.escape import terminal
    from planrun.render import github

    if not lines:
        return
    if github.active():
        _out("\n".join(github.stop_commands([terminal(x) for x in lines])) + "\n", raw=True)
    else:
        _out("\n".join(lines) + "\n")


def _validate_summary(result: Validation) -> str:
    checked = [p for p in result.plans if not p.context]
    plans = len(checked)
    tasks = sum(len(p.tasks) for p in checked)
    errors = result.diagnostics.count("error")
    warnings = result.diagnostics.count("warning")
    head = f"{plans} plan{'s' if plans != 1 else ''}, {tasks} task{'s' if tasks != 1 else ''}"
    context = len(result.plans) - plans
    if context:
        head += f" (and {context} sibling plan{'s' if context != 1 else ''} read as context)"
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
    from planrun.render import jsondoc
    from planrun.validate import load_valid

    targets, plan_fmt, _ = _inputs(paths, fmt)
    result = load_valid(targets, plan_fmt)
    graph = result.graph
    if avoid_conflicts:
        graph.assign_waves(avoid_conflicts=True)
    critical = graph.critical_path()
    if json_out:
        _out(jsondoc.dumps(jsondoc.waves_doc(graph, critical)), raw=True)
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
    _out("\n".join(out) + "\n")
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
    from planrun.errors import UsageError
    from planrun.render import graphfmt
    from planrun.validate import load_valid

    if out_format not in graphfmt.FORMATS:
        raise UsageError(
            f'unknown graph format "{out_format}"; use one of: {", ".join(graphfmt.FORMATS)}'
        )
    targets, plan_fmt, _ = _inputs(paths, plan_format)
    result = load_valid(targets, plan_fmt)
    _out(graphfmt.render(result.graph, out_format))
    return EXIT_OK


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


@app.command()
@_boundary
def execute(
    paths: PathsArg = None,
    wave: Annotated[int | None, typer.Option("--wave", help="Run only this wave.")] = None,
    task: Annotated[
        list[str] | None,
        typer.Option("--task", "-t", help="Run only this task (full or bare id); repeatable."),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Parallel jobs (default: CPUs).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.001, help="Seconds per command when the plan sets none."),
    ] = None,
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
    from planrun.render import jsondoc
    from planrun.selection import ExecuteOptions
    from planrun.shard import parse_shard

    targets, plan_fmt, config = _inputs(paths, fmt)
    opts = ExecuteOptions(
        paths=targets,
        fmt=plan_fmt,
        root=root,
        wave=wave,
        tasks=task or [],
        jobs=jobs or config.jobs,
        timeout=timeout or config.timeout,
        fail_fast=not keep_going,
        failed=failed,
        force=force,
        shell=config.shell,
        avoid_conflicts=avoid_conflicts,
        shard=parse_shard(shard) if shard is not None else None,
        reuse=config.reuse and not fresh,
        argv=sys.argv[1:],
        derive=config.derive and not no_derive,
        base=base or config.base_ref,
        prove=prove,
        strict_scope=strict_scope or config.strict_scope,
    )
    summary_target = None if no_summary else _summary_target(summary_file, config, targets)
    opts.outputs = [p for p in (summary_target, junit) if p is not None]
    if dry_run:
        return _dry_run(opts, json_out)
    from planrun.execution import Reporter
    from planrun.execution import run_plans as run
    from planrun.render.output import PlainReporter, RichReporter
    from planrun.render.reports import ReportFiles

    files = ReportFiles(
        summary=summary_target,
        template=template or config.resolve(config.summary_template),
        junit=junit,
        root=_output_root(targets, root),
    )
    files.check()
    reporter: PlainReporter | RichReporter
    if json_out:
        reporter = PlainReporter(sys.stderr, verbose=verbose, quiet=quiet)
    elif sys.stdout.isatty() and os.environ.get("TERM") != "dumb" and not quiet:
        reporter = RichReporter(sys.stdout)
    else:
        reporter = PlainReporter(sys.stdout, verbose=verbose, quiet=quiet)
    live: Reporter = reporter
    report = run(opts, live)
    # From here on every output is attempted, whatever failed before it (the results are
    # recorded already): a closed stdout must not cost SUMMARY.md.
    errors: list[PlanError] = []
    if json_out:
        doc = jsondoc.dumps(jsondoc.run_doc(report, report.results))
        errors += _attempt(lambda: _out(doc, raw=True))
    from planrun.render import github

    if github.active():
        errors += _attempt(_flush_stdout)
        for line in github.failure_annotations(report.results):
            _command(line)
        for line in github.evidence_annotations(report.results, report.evidence):
            _command(line)
    errors += files.write(report, report.everything, report, _err)
    if reporter.broken is not None:
        from planrun.errors import OutputError

        _silence_stdout()
        stream = "standard error" if json_out else "standard output"
        reason = reporter.broken.strerror or reporter.broken
        errors.append(OutputError(f"cannot write to {stream}: {reason}"))
    return _report_errors(errors, report.exit_code)


def _attempt(step: Callable[[], None]) -> list[PlanError]:
    try:
        step()
    except PlanError as exc:
        return [exc]
    return []


def _summary_target(option: Path | None, config: Config, targets: list[Path]) -> Path:
    from planrun.render.summary import default_path

    return option or config.resolve(config.summary) or default_path(targets)


def _output_root(targets: list[Path], root: Path | None) -> Path:
    """The root an output may link into, known before the plans are loaded."""
    from planrun.roots import run_root

    return run_root([], targets, root)


def _report_errors(errors: Sequence[PlanError], code: int) -> int:
    """Every output that failed, one message each; exit 2 if any did."""
    from planrun.errors import EXIT_USAGE

    for exc in errors:
        _plan_error(exc)
    return EXIT_USAGE if errors else code


@app.command()
@_boundary
def watch(
    paths: PathsArg = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Parallel jobs (default: CPUs).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.001, help="Seconds per command when the plan sets none."),
    ] = None,
    summary_file: SummaryOpt = None,
    root: RootOpt = None,
    fmt: FormatOpt = None,
) -> int:
    """Run the plans, then rerun what changed each time files change (Ctrl-C stops)."""
    from planrun.execution import Reporter, run_plans
    from planrun.render.output import PlainReporter, RichReporter
    from planrun.render.reports import ReportFiles
    from planrun.results import Report
    from planrun.selection import ExecuteOptions
    from planrun.watch import watch as watch_plans

    targets, plan_fmt, config = _inputs(paths, fmt)
    opts = ExecuteOptions(
        paths=targets,
        fmt=plan_fmt,
        root=root,
        jobs=jobs or config.jobs,
        timeout=timeout or config.timeout,
        shell=config.shell,
        reuse=config.reuse,
        argv=sys.argv[1:],
        base=config.base_ref,
        strict_scope=config.strict_scope,
    )
    target = _summary_target(summary_file, config, targets)
    files = ReportFiles(
        summary=target,
        template=config.resolve(config.summary_template),
        root=_output_root(targets, root),
    )
    files.check()
    opts.outputs = [target]  # its own SUMMARY.md is no one's undeclared change

    def once(selection: ExecuteOptions) -> Report:
        reporter: Reporter
        if sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
            reporter = RichReporter(sys.stdout)
        else:
            reporter = PlainReporter(sys.stdout, quiet=True)
        report = run_plans(selection, reporter)
        errors = files.write(report, report.everything, None, _err)
        if errors:
            raise errors[0]
        return report

    def say(text: str) -> None:
        _out(text + "\n")
        _flush_stdout()

    def on_error(exc: PlanError) -> None:
        _report_error(exc)

    return watch_plans(opts, once, say, lambda _opts: {target.resolve()}, on_error)


def _dry_run(opts: ExecuteOptions, json_out: bool) -> int:
    from planrun.execution import dry_run
    from planrun.render import jsondoc

    planned = dry_run(opts, _warn)
    if json_out:
        doc = {
            "schema_version": jsondoc.SCHEMA_VERSION,
            "dry_run": True,
            "tasks": [
                {
                    "id": p.unit.id,
                    "wave": p.unit.wave,
                    "commands": [s.run for s in p.steps],
                    "checks": p.checks,
                    "cached": p.cached,
                }
                for p in planned
            ],
        }
        _out(jsondoc.dumps(doc), raw=True)
        return EXIT_OK
    runs = sum(1 for p in planned if not p.cached)
    reuse = f" and reuse {len(planned) - runs}" if runs != len(planned) else ""
    out = [f"would run {runs} task{'s' if runs != 1 else ''}{reuse}, in this order:"]
    for p in planned:
        if p.cached:
            out.append(f"  wave {p.unit.wave}  {p.unit.id}  (cached: its recorded pass holds)")
            continue
        out.append(f"  wave {p.unit.wave}  {p.unit.id}")
        for step in p.steps:
            first, *rest = step.run.splitlines()
            expects = f"  (expects exit {step.expect_exit})" if step.expect_exit else ""
            out.append(f"      $ {first}{expects if not rest else ''}")
            out.extend(f"        {line}" for line in rest)
            if rest and expects:
                out.append(f"     {expects}")
        out.extend(f"      check {c}" for c in p.checks)
        if not p.steps and not p.checks:
            kind = "manual" if p.unit.manual else "nothing to run"
            out.append(f"      ({kind})")
    _out("\n".join(out) + "\n")
    return EXIT_OK


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
    from planrun.recorded import read_status as get_status
    from planrun.render import jsondoc
    from planrun.render.output import result_line, status_evidence

    targets, plan_fmt, config = _inputs(paths, fmt)
    report = get_status(targets, plan_fmt, root, _warn, derive=config.derive and not no_derive)
    if json_out:
        _out(jsondoc.dumps(jsondoc.run_doc(report, report.results)), raw=True)
        return EXIT_OK
    out = [result_line(r) for r in report.results]
    if report.milestones:
        out.append("")
        out.append("Milestones:")
        out.extend(
            f"  {m.status:<8} {m.id}: {m.name} ({m.passed}/{m.total} passed)"
            for m in report.milestones
        )
    out.extend(status_evidence(report.evidence, report.results))
    last = f" (last run {report.run_id})" if report.run_id else " (nothing has run yet)"
    out.append("")
    out.append(f"status: {report.status}{last}")
    _out("\n".join(out) + "\n")
    return EXIT_OK


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
    from planrun.recorded import read_status as get_status
    from planrun.render.reports import ReportFiles

    targets, plan_fmt, config = _inputs(paths, fmt)
    files = ReportFiles(
        summary=_summary_target(output, config, targets),
        template=template or config.resolve(config.summary_template),
        root=_output_root(targets, root),
    )
    files.check()
    if merge is not None:
        _merge(targets, plan_fmt, root, merge)
    report = get_status(targets, plan_fmt, root, _warn, derive=config.derive)
    errors = files.write(report, report.results, None, _err)
    code = EXIT_OK
    if merge is not None:
        # The merge is the CI gate after the shards: a task no document reported (a job that
        # never ran or never uploaded) did not pass either.
        missing = sum(1 for r in report.results if r.status == "not_run")
        if missing:
            _err(
                f"planrun: {missing} task{'s' if missing != 1 else ''} of these plans "
                f"{'have' if missing != 1 else 'has'} no result in {merge}"
            )
        if missing or report.status in ("failed", "interrupted"):
            code = EXIT_FAILED
    return _report_errors(errors, code)


def _merge(paths: list[Path], fmt: str | None, root: Path | None, folder: Path) -> None:
    from planrun.merge import merge
    from planrun.roots import run_root
    from planrun.validate import load_valid

    graph = load_valid(paths, fmt, exit_code=2).graph
    report = merge(graph, run_root(graph.plans, paths, root), folder, _warn)
    for note in report.notes:
        _err(f"planrun: note: {note}")
    blocked = (
        f"; {report.blocked} task{'s' if report.blocked != 1 else ''} recorded as blocked "
        "behind a dependency that did not pass"
        if report.blocked
        else ""
    )
    _err(f"merged {report.reported} results from {report.documents} documents{blocked}")


def _warn(message: str) -> None:
    _err(f"planrun: warning: {message}")


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
    from planrun.recorded import next_units
    from planrun.render import jsondoc

    targets, plan_fmt, config = _inputs(paths, fmt)
    units = next_units(targets, plan_fmt, root, _warn, derive=config.derive and not no_derive)
    if json_out:
        _out(jsondoc.dumps(jsondoc.next_doc(units)), raw=True)
        return EXIT_OK
    if not units:
        _out("nothing is ready: every task has passed, or waits on one that has not\n")
        return EXIT_OK
    width = max(len(u.id) for u in units)
    for unit in units:
        _out(f"{unit.id:<{width}}  wave {unit.wave}  {unit.name}\n")
    return EXIT_OK


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
    from planrun.convert import pick_plan, to_canonical
    from planrun.document import Document
    from planrun.errors import RefusedError
    from planrun.validate import load_valid
    from planrun.writer import check_output, write_output

    if output is not None:
        if os.path.lexists(output):
            raise RefusedError(
                f"{output} already exists; convert never overwrites a file", hint=_CONVERT_HINT
            )
        check_output(output, overwrite="never", hint=_CONVERT_HINT)
    _, plan_fmt, config = _inputs([path], fmt)
    # Derived checks are written out with `derived: true`, so the converted plan is judged
    # the same way and still labels them (--no-derive drops them when it is read).
    # Sibling plans loaded as context are not converted.
    result = load_valid([path], plan_fmt, derive=config.derive and not no_derive)
    plan = pick_plan(path, [p for p in result.plans if not p.context], plan_id)
    text = to_canonical(plan, None if path.is_dir() else Document.read(path))
    if output is None:
        _out(text, raw=True)  # a plan file's text: redirected to a file, kept as it is
        return EXIT_OK
    write_output(output, text, overwrite="never", hint=_CONVERT_HINT)
    _err(f"wrote {output}")
    return EXIT_OK


_CONVERT_HINT = "choose another -o, or remove the file first"


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
    from planrun.export import default_install, github_workflow
    from planrun.roots import git_work_tree
    from planrun.validate import load_valid
    from planrun.writer import check_output, write_output

    targets, plan_fmt, _ = _inputs(paths, fmt)
    hint = "choose another -o FILE (planrun replaces only a workflow it wrote)"
    if output is not None:
        check_output(output, overwrite="planrun", root=_output_root(targets, None), hint=hint)
    graph = load_valid(targets, plan_fmt).graph
    if install is None:
        install = default_install(git_work_tree(Path.cwd()) or Path.cwd())
    workflow = github_workflow(
        graph,
        [str(p) for p in targets],
        granularity=granularity,
        install=install,
        shards=shards,
        python=python,
    )
    for warning in workflow.warnings:
        _warn(warning)
    if output is None:
        _out(workflow.text, raw=True)
        return EXIT_OK
    write_output(
        output, workflow.text, overwrite="planrun", root=_output_root(targets, None), hint=hint
    )
    _err(f"wrote {output} ({len(workflow.jobs) + 1} jobs)")
    return EXIT_OK


@app.command()
@_boundary
def schema() -> int:
    """Print the JSON Schema of the canonical plan frontmatter."""
    from planrun.model import json_schema
    from planrun.render import jsondoc

    _out(jsondoc.dumps(json_schema()), raw=True)
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
    _out(f"created {path}\nnext: edit it, then run: planrun validate {path}\n")
    return EXIT_OK


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


def _hook_input() -> str | None:
    """The hook input on stdin; None on a terminal (nobody is piping any)."""
    if sys.stdin is None or sys.stdin.isatty():
        return None
    return sys.stdin.read()


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
    from planrun.errors import EXIT_USAGE, UsageError
    from planrun.hooks import ADAPTERS, run_hook
    from planrun.suggest import closest

    listing = "\n".join(f"  {a.name:<14} {a.summary}" for a in ADAPTERS.values())
    if adapter is None:
        _err("usage: planrun hook ADAPTER   (reads the hook input on stdin)\nadapters:\n" + listing)
        return EXIT_USAGE
    if adapter not in ADAPTERS:
        guess = closest(adapter, list(ADAPTERS))
        hint = f' (did you mean "{guess}"?)' if guess else ""
        raise UsageError(f'no hook adapter "{adapter}"{hint}; adapters:\n{listing}')
    reply = run_hook(ADAPTERS[adapter], _hook_input)
    sys.stdout.write(reply.stdout)
    sys.stderr.write(reply.stderr)
    return reply.exit_code


def main() -> None:
    from planrun import crash

    try:
        app()
    except _TYPER_EXITS:
        raise
    except Exception as exc:  # outside any command (option parsing, completion)
        if crash.debugging():
            raise
        _err(crash.report(exc))
        raise SystemExit(EXIT_INTERNAL) from None
