"""``execute --prove``: run each passing task's checks again on its base tree.

A check that passes without the change too proved nothing about the change (``vacuous``). The
base tree is a temporary ``git worktree add --detach`` at the base commit (an empty folder for
the empty tree), outside the user's work tree, with the same ROOT-relative layout; it is
removed afterwards, on an interrupt or an exception too. The user's work tree and index are
never touched. Checks run in parallel through the same ProcessPool as ``execute``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from planrun import proc, procpool
from planrun.bases import Base
from planrun.environment import describe as describe_environment
from planrun.errors import UsageError
from planrun.evidence import Evidence
from planrun.graph import Unit
from planrun.plural import pluralize
from planrun.procpool import Outcome
from planrun.results import CheckResult, CommandRecord, UnitResult
from planrun.scheduler import Step, StopSignal
from planrun.statuses import PASSED, UNVERIFIED
from planrun.verdicts import VACUOUS_REASON

BaseKey = tuple[Path, str]


class BaseExecutor(Protocol):
    """Builds a unit's commands and in-process checks for a relocated ROOT."""

    def steps(self, unit: Unit) -> list[Step]: ...

    def checks(self, unit: Unit) -> list[CheckResult]: ...

    def close_log(self, unit: Unit) -> None: ...

    def record(self, step: Step, outcome: Outcome) -> CommandRecord:
        """How a finished command is judged (the evidence rules of checkrules.py)."""
        ...


@dataclass
class ProveReport:
    tasks: int = 0  # tasks whose checks ran on the base
    vacuous: int = 0
    duration: float = 0.0
    interrupted: bool = False
    verdicts: dict[int, bool] = field(default_factory=dict)  # unit index -> passed at base

    def to_json(self) -> dict[str, object]:
        return {
            "tasks": self.tasks,
            "vacuous": self.vacuous,
            "duration_s": round(self.duration, 3),
            "interrupted": self.interrupted,
        }

    def line(self) -> str:
        """The cost and outcome, for the summary line."""
        if self.interrupted:
            return f"prove: interrupted after {self.duration:.1f}s"
        return (
            f"prove: {pluralize(self.tasks, 'task')} re-checked on the base "
            f"in {self.duration:.1f}s, {self.vacuous} vacuous"
        )


@contextmanager
def base_trees(bases: Sequence[Base]) -> Iterator[dict[BaseKey, Path]]:
    """A checked-out copy of each base, in a temporary folder; all removed on the way out."""
    tmp = Path(tempfile.mkdtemp(prefix="planrun-prove-"))
    made: list[tuple[Path, Path]] = []
    out: dict[BaseKey, Path] = {}
    try:
        for number, base in enumerate(bases):
            key = (base.repo, base.commit)
            if key in out:
                continue
            where = tmp / str(number)
            if base.empty:
                where.mkdir()
            else:
                made.append((base.repo, where))
                added = proc.run_git(
                    base.repo,
                    "-c",
                    "core.hooksPath=/dev/null",
                    "worktree",
                    "add",
                    "--detach",
                    "--quiet",
                    str(where),
                    base.commit,
                )
                if not added.ok:
                    raise UsageError(
                        f"--prove: cannot check out {base.label} in a temporary worktree: "
                        + (added.stderr.strip().splitlines() or ["git failed"])[-1]
                    )
            out[key] = where
        yield out
    finally:
        stale = [
            repo
            for repo, where in made
            if not proc.run_git(repo, "worktree", "remove", "--force", str(where)).ok
        ]
        shutil.rmtree(tmp, ignore_errors=True)
        # Only when a removal failed (a checkout cut short): prune drops the record of a tree
        # whose folder is gone (ours, now deleted; and any other such stale record).
        for repo in dict.fromkeys(stale):
            proc.run_git(repo, "worktree", "prune")


def relocate(root: Path, base: Base, tree: Path) -> Path | None:
    """``root`` inside the base tree (same place relative to the repository), or None when
    the root lies outside the repository."""
    try:
        rel = root.relative_to(base.repo)
    except ValueError:
        return None
    where = tree / rel
    where.mkdir(parents=True, exist_ok=True)  # inside the temporary tree only
    return where


def run_on_base(
    units: Sequence[Unit],
    executor: BaseExecutor,
    *,
    jobs: int,
    shell: str | None,
    stop: StopSignal,
) -> ProveReport:
    """Run ``units``' checks (already relocated by ``executor``) up to ``jobs`` at a time; an
    interrupt (``stop``) stops them and leaves the rest unproved."""
    started = time.monotonic()
    pool = procpool.ProcessPool(shell=shell)
    stop.wake = pool.wake
    run = _BaseRun(executor, pool)
    queue = deque(units)
    try:
        while queue or run.running:
            if stop.count:
                run.report.interrupted = True
                queue.clear()
                pool.terminate_all(kill=stop.count >= 2)
            while queue and len(run.running) < max(1, jobs) and not stop.count:
                unit = queue.popleft()
                run.advance(unit, executor.steps(unit), 0)
            if not run.running:
                continue
            for token, outcome in pool.wait():
                run.step_done(cast(int, token), outcome)
    finally:
        stop.wake = None  # the pool's wake-up pipe is closed next; its fd number may be reused
        pool.close()
        for unit, _, _ in list(run.running.values()):
            executor.close_log(unit)
    report = run.report
    report.tasks = len(report.verdicts)
    report.vacuous = sum(report.verdicts.values())
    report.duration = time.monotonic() - started
    return report


class _BaseRun:
    """Each unit's commands one after another; the first that fails settles it."""

    def __init__(self, executor: BaseExecutor, pool: procpool.ProcessPool) -> None:
        self.executor = executor
        self.pool = pool
        self.report = ProveReport()
        self.running: dict[int, tuple[Unit, list[Step], int]] = {}

    def settle(self, unit: Unit, *, passed: bool | None) -> None:
        self.executor.close_log(unit)
        self.running.pop(unit.index, None)
        if passed is not None:
            self.report.verdicts[unit.index] = passed

    def advance(self, unit: Unit, steps: list[Step], done: int) -> None:
        if done < len(steps):
            step = steps[done]
            if step.spec is None:
                self.settle(unit, passed=False)  # it cannot even run there (a missing cwd)
                return
            self.running[unit.index] = (unit, steps, done)
            self.pool.start(unit.index, step.spec)
            return
        with self.pool.tended():  # the other base checks' deadlines hold meanwhile
            failed = any(c.ok is False for c in self.executor.checks(unit))
        self.settle(unit, passed=not failed)

    def step_done(self, index: int, outcome: Outcome) -> None:
        unit, steps, done = self.running[index]
        if outcome.killed_by == "interrupt":
            self.settle(unit, passed=None)
            return
        # Judged as in the run: a check that must fail, or the command an `|| echo` masks. A
        # test run that ran no tests there did not pass there either.
        found = self.executor.record(steps[done], outcome)
        if not found.ok or found.weak is not None:
            self.settle(unit, passed=False)
            return
        self.advance(unit, steps, done + 1)


def prove_passed(
    results: Sequence[UnitResult],
    facts: Evidence,
    root_of: Callable[[Unit], Path],
    on_base: Callable[[Callable[[Unit], Path | None]], BaseExecutor],
    *,
    jobs: int,
    shell: str | None,
    stop: StopSignal,
) -> ProveReport:
    """Re-check every passed result that has a base, on that base's tree; a result whose
    checks pass there too becomes unverified with ``vacuous`` true, else ``vacuous`` false.
    ``on_base`` makes an executor whose ROOT is moved by the function it is given."""
    candidates = [r for r in results if r.status == PASSED and facts.base_of(r.unit)]
    bases = [b for b in (facts.base_of(r.unit) for r in candidates) if b is not None]
    with base_trees(bases) as trees:

        def moved(unit: Unit) -> Path | None:
            base = facts.base_of(unit)
            if base is None:
                return None
            return relocate(root_of(unit), base, trees[(base.repo, base.commit)])

        units = [r.unit for r in candidates if moved(r.unit) is not None]
        report = run_on_base(units, on_base(moved), jobs=jobs, shell=shell, stop=stop)
    by_index = {r.unit.index: r for r in candidates}
    for index, passed_at_base in report.verdicts.items():
        result = by_index[index]
        result.vacuous = passed_at_base
        if passed_at_base:
            result.status, result.reason = UNVERIFIED, VACUOUS_REASON
    return report


def evidence_doc(
    facts: Evidence,
    programs: list[tuple[str, str | None]],
    proved: ProveReport | None,
    strict_scope: bool,
) -> dict[str, Any]:
    """What a run records of its evidence (stored with the run; in JSON and SUMMARY.md)."""
    common = facts.common_base()
    return {
        **facts.to_json(),
        "base_label": common.label if common else None,
        "unavailable": facts.unavailable(),
        "strict_scope": strict_scope,
        "environment": describe_environment(programs),
        "prove": proved.to_json() if proved else None,
        "prove_line": proved.line() if proved else None,
    }
