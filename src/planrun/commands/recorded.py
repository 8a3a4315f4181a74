"""The commands that read the recorded results and run nothing: status, next, and summary
(with ``--merge``, first recording the results of other machines)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from planrun.errors import EXIT_FAILED, EXIT_OK
from planrun.render import console

if TYPE_CHECKING:
    from planrun.settings import Settings


def status(s: Settings, *, json_out: bool) -> int:
    """The last recorded result of every task and milestone."""
    from planrun.recorded import read_status as get_status

    report = get_status(s.paths, s.fmt, s.root, console.warn, derive=s.derive)
    if json_out:
        from planrun.render import jsondoc

        console.out(jsondoc.dumps(jsondoc.run_doc(report, report.results)), raw=True)
    else:
        from planrun.render import text

        console.out(text.status(report))
    return EXIT_OK


def next_(s: Settings, *, json_out: bool) -> int:
    """The tasks ready to work on."""
    from planrun.recorded import next_units

    units = next_units(s.paths, s.fmt, s.root, console.warn, derive=s.derive)
    if json_out:  # an agent's call: the text renderer (and what it imports) is not loaded
        from planrun.render import jsondoc

        console.out(jsondoc.dumps(jsondoc.next_doc(units)), raw=True)
        return EXIT_OK
    from planrun.render import text

    for line in text.next_lines(units):
        console.out(line)
    return EXIT_OK


def summary(s: Settings, *, output: Path | None, merge: Path | None, template: Path | None) -> int:
    """SUMMARY.md from the recorded state; with ``merge``, the CI gate after the shards."""
    from planrun.recorded import read_status as get_status
    from planrun.render import text
    from planrun.render.reports import ReportFiles

    files = ReportFiles(
        summary=s.summary_path(output), template=s.template(template), root=s.output_root()
    )
    files.check()
    if merge is not None:
        _merge(s, merge)
    report = get_status(s.paths, s.fmt, s.root, console.warn, derive=s.derive)
    errors = files.write(report, report.results, None, console.err)
    code = EXIT_OK
    if merge is not None:
        # The merge is the CI gate after the shards: a task no document reported (a job that
        # never ran or never uploaded) did not pass either.
        missing = sum(1 for r in report.results if r.status == "not_run")
        if missing:
            console.err(text.unreported(missing, merge))
        if missing or report.status in ("failed", "interrupted"):
            code = EXIT_FAILED
    return console.report_errors(errors, code)


def _merge(s: Settings, folder: Path) -> None:
    from planrun.merge import merge
    from planrun.render import text
    from planrun.roots import run_root
    from planrun.validate import load_valid

    graph = load_valid(s.paths, s.fmt, exit_code=2).graph
    report = merge(graph, run_root(graph.plans, s.paths, s.root), folder, console.warn)
    for note in report.notes:
        console.err(f"planrun: note: {note}")
    console.err(text.merged(report))
