"""How a run looks: one line per finished task, or a live rich display on a terminal.

Both end with the same report: every failure with its command and output tail, what was
blocked and why, what was interrupted, and a count line.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from planrun.graph import PlanGraph, Unit
from planrun.results import BLOCKED, FAILED, TIMEOUT, UNVERIFIED, UnitResult, count_words

if TYPE_CHECKING:
    from planrun.runner import RunReport

LABELS = {
    "passed": "PASS",
    "failed": "FAIL",
    "timeout": "TIMEOUT",
    "blocked": "BLOCKED",
    "manual": "MANUAL",
    "unverified": "UNVERIFIED",
    "not_run": "SKIP",
}


def interrupt_message(*, kill: bool) -> str:
    if kill:
        return "planrun: interrupted again: killing running tasks now"
    return (
        "planrun: interrupted: stopping running tasks (SIGTERM, then SIGKILL after 5s); "
        "interrupt again to kill them now"
    )


def result_line(result: UnitResult) -> str:
    label = LABELS[result.status]
    took = f"  {result.duration:.1f}s" if result.duration is not None else ""
    if result.cached:
        took = f"  (cached, from run {result.run_id})"
    line = f"{label:<10} {result.unit.id}{took}"
    if result.derived:
        line += "  [derived checks]"
    if result.status not in ("passed", "failed", "timeout") and result.reason:
        line += f"  ({result.reason})"
    return line


def counts_line(results: list[UnitResult], duration: float) -> str:
    parts = count_words(Counter(r.status for r in results))
    cached = sum(1 for r in results if r.cached)
    reused = f" ({cached} cached)" if cached else ""
    return f"{', '.join(parts) or 'nothing selected'}{reused} in {duration:.1f}s"


def report_lines(report: RunReport) -> list[str]:
    out: list[str] = []
    failures = [r for r in report.results if r.status in (FAILED, TIMEOUT)]
    for result in failures:
        out.append("")
        out.append(f"--- {LABELS[result.status]} {result.unit.id}: {result.reason}")
        out.extend(f"$ {cmd.run}" for cmd in result.commands if not cmd.ok)
        out.extend(f"  x {c.kind}: {c.message}" for c in result.checks if c.ok is False)
        if result.tail.strip():
            out.append(f"output (last lines, full log: {result.log}):")
            out.extend("  " + line for line in result.tail.splitlines()[-40:])
    others = [r for r in report.results if r.status in (BLOCKED, UNVERIFIED)]
    if others:
        out.append("")
        out.extend(f"{LABELS[r.status]:<10} {r.unit.id}: {r.reason}" for r in others)
    if report.interrupted:
        out.append("")
        out.append("interrupted (children stopped): " + ", ".join(u.id for u in report.interrupted))
    out.append("")
    out.append(
        f"{report.status.upper()}: {counts_line(report.results, report.duration)}"
        f"  [run {report.run_id}]"
    )
    return out


class PlainReporter:
    """One line per finished task; for pipes, CI logs and ``--json`` (on stderr)."""

    def __init__(self, stream: TextIO, *, verbose: bool = False, quiet: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose and not quiet
        self.quiet = quiet

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def start(self, graph: PlanGraph, units: list[Unit], jobs: int, run_id: str) -> None:
        if self.verbose:
            self._write(f"run {run_id}: {len(units)} tasks, {jobs} jobs")

    def unit_started(self, unit: Unit) -> None:
        if self.verbose:
            self._write(f"{'START':<10} {unit.id}")

    def unit_finished(self, result: UnitResult) -> None:
        if not self.quiet or result.status in (FAILED, TIMEOUT):
            self._write(result_line(result))

    def warn(self, message: str) -> None:
        self._write(f"planrun: warning: {message}")

    def interrupting(self, *, kill: bool) -> None:
        sys.stderr.write(interrupt_message(kill=kill) + "\n")
        sys.stderr.flush()

    def finish(self, report: RunReport) -> None:
        for line in report_lines(report):
            self._write(line)


class RichReporter:
    """A live display on a terminal: a progress bar per wave, running tasks with elapsed time."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console

        self.console = Console(file=stream)
        self._running: dict[str, float] = {}
        self._live: Any = None

    def start(self, graph: PlanGraph, units: list[Unit], jobs: int, run_id: str) -> None:
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=self.console,
        )
        per_wave = Counter(u.wave for u in units)
        self._bars = {
            wave: self.progress.add_task(f"wave {wave}", total=count)
            for wave, count in sorted(per_wave.items())
        }
        self._live = Live(self, console=self.console, refresh_per_second=8, transient=True)
        self._live.start()

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        now = time.monotonic()
        running = [
            Text(f"  running {uid}  {now - since:.1f}s", style="cyan")
            for uid, since in list(self._running.items())[:12]
        ]
        return Group(self.progress, *running)

    def unit_started(self, unit: Unit) -> None:
        self._running[unit.id] = time.monotonic()

    def unit_finished(self, result: UnitResult) -> None:
        self._running.pop(result.unit.id, None)
        style = {"passed": "green", "failed": "red", "timeout": "red"}.get(result.status, "yellow")
        self.console.print(result_line(result), style=style, markup=False, highlight=False)
        bar = self._bars.get(result.unit.wave)
        if bar is not None:
            self.progress.advance(bar)

    def warn(self, message: str) -> None:
        self.console.print(f"planrun: warning: {message}", style="yellow", markup=False)

    def interrupting(self, *, kill: bool) -> None:
        self.console.print(interrupt_message(kill=kill), style="yellow", markup=False)

    def finish(self, report: RunReport) -> None:
        if self._live is not None:
            self._live.stop()
        for line in report_lines(report):
            self.console.print(line, markup=False, highlight=False)
