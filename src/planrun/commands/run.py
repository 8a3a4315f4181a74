"""The commands that run checks: execute (and its dry run) and watch. Each resolves and checks
every file it will write before the first task starts, and attempts every output after the
run, whatever failed before it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.errors import EXIT_OK, PlanError
from planrun.render import console

if TYPE_CHECKING:
    from planrun.report import Report
    from planrun.selection import ExecuteOptions
    from planrun.settings import Settings


def execute(
    s: Settings,
    opts: ExecuteOptions,
    *,
    dry_run: bool,
    json_out: bool,
    summary: Path | None,
    junit: Path | None,
    template: Path | None,
    verbose: bool,
    quiet: bool,
) -> int:
    """Run the selected tasks (``summary`` None: no SUMMARY.md), then write every output."""
    opts.outputs = [p for p in (summary, junit) if p is not None]
    if dry_run:
        return _dry_run(opts, json_out)
    from planrun.sideeffects import own_output_paths

    # `execute plan.md > run.log` in the work tree: planrun's own log is not the work either.
    opts.outputs += own_output_paths()
    from planrun.execution import Reporter
    from planrun.execution import run_plans as run
    from planrun.render import github, jsondoc
    from planrun.render.output import PlainReporter, RichReporter
    from planrun.render.reports import ReportFiles

    files = ReportFiles(
        summary=summary, template=s.template(template), junit=junit, root=s.output_root()
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
        errors += console.attempt(lambda: console.out(doc, raw=True))
    if github.active():
        errors += console.attempt(console.flush_stdout)
        for line in github.failure_annotations(report.results):
            console.command(line)
        for line in github.evidence_annotations(report.results, report.evidence):
            console.command(line)
    errors += files.write(report, report.everything, report, console.err)
    if reporter.broken is not None:
        from planrun.errors import OutputError

        console.silence_stdout()
        stream = "standard error" if json_out else "standard output"
        reason = reporter.broken.strerror or reporter.broken
        errors.append(OutputError(f"cannot write to {stream}: {reason}"))
    return console.report_errors(errors, report.exit_code)


def _dry_run(opts: ExecuteOptions, json_out: bool) -> int:
    from planrun.execution import dry_run
    from planrun.render import dryrun, jsondoc

    planned = dry_run(opts, console.warn)
    if json_out:
        console.out(jsondoc.dumps(dryrun.doc(planned)), raw=True)
    else:
        console.out(dryrun.text(planned))
    return EXIT_OK


def watch(s: Settings, opts: ExecuteOptions, summary: Path | None) -> int:
    """Run the plans, then rerun what changed each time files change."""
    from planrun.execution import Reporter, run_plans
    from planrun.render.output import PlainReporter, RichReporter
    from planrun.render.reports import ReportFiles
    from planrun.watch import watch as watch_plans

    target = s.summary_path(summary)
    files = ReportFiles(summary=target, template=s.template(), root=s.output_root())
    files.check()
    opts.outputs = [target]  # its own SUMMARY.md is no one's undeclared change

    def once(selection: ExecuteOptions) -> Report:
        reporter: Reporter
        if sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
            reporter = RichReporter(sys.stdout)
        else:
            reporter = PlainReporter(sys.stdout, quiet=True)
        report = run_plans(selection, reporter)
        errors = files.write(report, report.everything, None, console.err)
        if errors:
            raise errors[0]
        return report

    def say(text: str) -> None:
        console.out(text + "\n")
        console.flush_stdout()

    def on_error(exc: PlanError) -> None:
        console.report_error(exc)

    return watch_plans(opts, once, say, lambda _opts: {target.resolve()}, on_error)
