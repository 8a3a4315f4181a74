"""How a run looks: one line per finished task, or a live rich display on a terminal.

Both end with the same report: every failure with its command and output tail, what was
blocked and why, what was interrupted, and a count line.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from planrun.environment import ROOT_WARNING
from planrun.escape import path, terminal
from planrun.graph import PlanGraph, Unit
from planrun.plural import pluralize
from planrun.render import github
from planrun.results import UnitResult
from planrun.statuses import BLOCKED, ERROR, FAILED, STALE, TIMEOUT, UNVERIFIED
from planrun.verdicts import count_words, manual_truths

if TYPE_CHECKING:
    from planrun.report import Report

LABELS = {
    "passed": "PASS",
    "failed": "FAIL",
    "timeout": "TIMEOUT",
    "blocked": "BLOCKED",
    "stale": "STALE",
    "error": "ERROR",
    "manual": "MANUAL",
    "unverified": "UNVERIFIED",
    "not_run": "SKIP",
}


def echo(text: str) -> str:
    """Text from plans and child output made safe to print: no control characters or escape
    sequences, and under GitHub Actions no line that the runner would take as a command."""
    text = terminal(text)
    return github.neutralize(text) if github.active() else text


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
    # A failure's reason comes below it with its output; a pass's says why it is weak.
    if result.status not in ("failed", "timeout") and result.reason:
        line += f"  ({result.reason})"
    return line


def counts_line(results: list[UnitResult], duration: float) -> str:
    parts = count_words(Counter(r.status for r in results))
    cached = sum(1 for r in results if r.cached)
    reused = f" ({cached} cached)" if cached else ""
    truths = manual_truths(results)
    if truths:
        parts.append(f"{pluralize(truths, 'manual truth')} to check by hand")
    return f"{', '.join(parts) or 'nothing selected'}{reused} in {duration:.1f}s"


def report_lines(report: Report) -> list[str]:
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
    others = [r for r in report.results if r.status in (BLOCKED, UNVERIFIED, ERROR, STALE)]
    if others:
        out.append("")
        out.extend(f"{LABELS[r.status]:<10} {r.unit.id}: {r.reason}" for r in others)
    if report.interrupted:
        out.append("")
        out.append("interrupted (children stopped): " + ", ".join(u.id for u in report.interrupted))
    out.extend(evidence_lines(report.evidence))
    out.append("")
    prove = report.evidence.get("prove_line")
    out.append(
        f"{report.status.upper()}: {counts_line(report.results, report.duration or 0.0)}"
        + (f"; {prove}" if prove else "")
        + f"  [run {report.run_id}]"
    )
    return out


def status_evidence(evidence: dict[str, Any], results: list[UnitResult]) -> list[str]:
    """``planrun status``: the last run's base, tested tree and the claims that do not hold."""
    if not evidence:
        return []
    out = [""]
    base = evidence.get("base_label") or evidence.get("base")
    if base:
        out.append(f"base: {base}")
    else:
        bases = evidence.get("bases") or {}
        labels = [
            f"{pid} {b.get('label') or 'none'}" for pid, b in bases.items() if isinstance(b, dict)
        ]
        out.append("bases: " + (", ".join(labels) or "none"))
    out.append(f"tested tree: {evidence.get('tree') or 'not recorded (not in git)'}")
    claims = [(r.unit.id, r.claim_problem()) for r in results]
    out.extend(f"FALSE CLAIM {uid}: {why}" for uid, why in claims if why)
    out.extend(evidence_lines(evidence))
    return out


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    """Changes no task declares (a failure with --strict-scope), and why there is no evidence."""
    out: list[str] = []
    undeclared = evidence.get("undeclared_changes") or []
    if undeclared:
        label = "SCOPE" if evidence.get("strict_scope") else "warning:"
        shown = ", ".join(map(path, undeclared[:8])) + (", ..." if len(undeclared) > 8 else "")
        count = len(undeclared)
        out.append("")
        out.append(f"{label} {pluralize(count, 'changed file')} no task declares: {shown}")
    environment = evidence.get("environment") or {}
    if environment.get("root"):
        out.append(f"warning: {ROOT_WARNING}")
    if evidence.get("tree"):  # in git: a plan without a base there is worth a line
        out.extend(f"evidence unavailable: {why}" for why in evidence.get("unavailable") or [])
    return out


def _is_pipe(stream: TextIO) -> bool:
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False  # no file descriptor (a test's buffer)
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class PlainReporter:
    """One line per finished task; for pipes, CI logs and ``--json`` (on stderr)."""

    def __init__(self, stream: TextIO, *, verbose: bool = False, quiet: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose and not quiet
        self.quiet = quiet
        self.broken: OSError | None = None
        """Why the stream stopped taking output (closed pipe, full disk): the run goes on,
        every result is recorded, and the command reports this at the end."""
        self._piped = _is_pipe(stream)
        self._piped_lines = 0

    def piped_lines(self) -> int:
        """How many lines went to a pipe (``| tee run.log``): where they land is unknown, maybe
        the work tree, so a snapshot of the tree taken before them is not shared after them
        (sideeffects.py); a file (excused by its inode there) or a terminal needs no count."""
        return self._piped_lines

    def _write(self, text: str, *, raw: bool = False) -> None:
        if self.broken is not None:
            return
        try:
            self.stream.write((text if raw else echo(text)) + "\n")
            self.stream.flush()
        except OSError as exc:
            self.broken = exc
        if self._piped:
            self._piped_lines += 1

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
        with contextlib.suppress(OSError):  # a closed stderr must not stop the interrupt
            sys.stderr.write(interrupt_message(kill=kill) + "\n")
            sys.stderr.flush()

    def finish(self, report: Report) -> None:
        lines = report_lines(report)
        if not github.active():
            for line in lines:
                self._write(line)
            return
        # Output tails and commands are echoed between stop-commands markers.
        for line in github.stop_commands([terminal(line) for line in lines]):
            self._write(line, raw=True)


class RichReporter:
    """A live display on a terminal: a progress bar per wave, running tasks with elapsed time."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console

        self.console = Console(file=stream)
        self._running: dict[str, float] = {}
        self._live: Any = None
        self.broken: OSError | None = None

    def _print(self, text: str, style: str | None = None) -> None:
        if self.broken is not None:
            return
        try:
            self.console.print(echo(text), style=style, markup=False, highlight=False)
        except OSError as exc:
            self.broken = exc

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
            Text(f"  running {echo(uid)}  {now - since:.1f}s", style="cyan")
            for uid, since in list(self._running.items())[:12]
        ]
        return Group(self.progress, *running)

    def unit_started(self, unit: Unit) -> None:
        self._running[unit.id] = time.monotonic()

    def unit_finished(self, result: UnitResult) -> None:
        self._running.pop(result.unit.id, None)
        style = {"passed": "green", "failed": "red", "timeout": "red"}.get(result.status, "yellow")
        self._print(result_line(result), style=style)
        bar = self._bars.get(result.unit.wave)
        if bar is not None:
            self.progress.advance(bar)

    def warn(self, message: str) -> None:
        self._print(f"planrun: warning: {message}", style="yellow")

    def interrupting(self, *, kill: bool) -> None:
        self._print(interrupt_message(kill=kill), style="yellow")

    def finish(self, report: Report) -> None:
        if self._live is not None:
            self._live.stop()
        for line in report_lines(report):
            self._print(line)
