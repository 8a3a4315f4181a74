"""The ready-queue scheduler: O(units + edges), no wave barriers.

Each node keeps a count of unfinished dependencies; when a node finishes, each successor's
count drops by one (O(out-degree)) and a successor at zero is released. Released units go on a
heap ordered by longest remaining path, and start the moment a job slot is free. Units that
need no slot resolve at once on release: virtual plan nodes, units outside the selection
(from recorded state), and units whose dependency did not pass (``blocked``, transitively,
naming the dependency). The scheduler asks ``Executor`` what to run and hands process work to
the ProcessPool; it never touches a pipe or a pid.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from planrun.checkrules import Reading
from planrun.graph import PlanGraph, Readiness, Unit, touched_files
from planrun.hiddencheck import Hidden
from planrun.procpool import Outcome, Spec
from planrun.results import CommandRecord, UnitResult
from planrun.statuses import FAILED, NOT_RUN, SATISFIES_DEPENDENTS, TIMEOUT, WEAK_DEPENDENCY
from planrun.verdicts import blocked_reason, failure_cause


@dataclass(frozen=True)
class Step:
    """One verify command of a unit, ready to start (or why it cannot)."""

    run: str
    expect_exit: int
    spec: Spec | None
    error: str | None = None
    line: int | None = None  # where the check is written in the plan
    reading: Reading | None = None  # how the evidence rules read the check as written
    expect_output: str | None = None
    derived: bool = False  # planrun derived it from the task's text
    hidden: tuple[Hidden, ...] = ()  # checks in it whose failure it goes on after (reports.py)


class Executor(Protocol):
    def steps(self, unit: Unit) -> list[Step]: ...

    def record(self, step: Step, outcome: Outcome) -> CommandRecord:
        """What a finished step shows."""
        ...

    def finish(self, unit: Unit, commands: list[CommandRecord], started: float) -> UnitResult:
        """Run the unit's in-process checks and make its result (it is then recorded)."""
        ...

    def outside(self, unit: Unit) -> tuple[bool, str | None]:
        """For a unit outside the selection: whether it counts as passed, and if not why."""
        ...

    def blocked(self, unit: Unit, reason: str) -> UnitResult:
        """The result of a unit whose dependency did not pass (it is then recorded)."""
        ...


class Pool(Protocol):
    """What the scheduler needs of a process pool (procpool.ProcessPool; a fake in tests)."""

    def start(self, token: Hashable, spec: Spec) -> None: ...

    def wait(self) -> list[tuple[Hashable, Outcome]]:
        """Block until at least one started process ends (or a wake-up); what ended."""
        ...

    def terminate_all(self, *, kill: bool = False) -> None: ...


class Events(Protocol):
    def unit_started(self, unit: Unit) -> None: ...

    def unit_finished(self, result: UnitResult) -> None: ...

    def interrupting(self, *, kill: bool) -> None:
        """The run is being stopped: gracefully, or (``kill``) at once."""
        ...


@dataclass
class StopSignal:
    """Set from signal handlers: 1 = stop gracefully, 2 or more = kill at once."""

    count: int = 0
    wake: Callable[[], None] | None = None

    def request(self) -> None:
        self.count += 1
        if self.wake is not None:
            self.wake()


@dataclass(eq=False)
class _Running:
    unit: Unit
    steps: list[Step]
    started: float
    commands: list[CommandRecord] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        graph: PlanGraph,
        selected: set[int],
        executor: Executor,
        events: Events,
        pool: Pool,
        *,
        jobs: int,
        fail_fast: bool,
        priority: Sequence[float],
        stop: StopSignal,
        avoid_conflicts: bool = False,
    ) -> None:
        self.graph = graph
        self.selected = selected
        self.executor = executor
        self.events = events
        self.pool = pool
        self.jobs = max(1, jobs)
        self.fail_fast = fail_fast
        self.priority = priority
        self.stop = stop
        self.avoid_conflicts = avoid_conflicts
        self.ready = Readiness(graph)  # which finished nodes let their dependents go ahead
        # "unverified p/a": let dependents run, with a note
        self.weak: list[str] = [""] * graph.node_count()
        self.results: dict[int, UnitResult] = {}
        self.interrupted: list[Unit] = []
        self._stopping: str | None = None
        self._killed = False
        self._heap: list[tuple[float, int]] = []
        self._running: dict[int, _Running] = {}

    @property
    def ok(self) -> list[bool]:
        """Per node: whether it lets its dependents go ahead (what was run or settled)."""
        return self.ready.ok

    # -- the loop
    def run(self) -> dict[int, UnitResult]:
        graph = self.graph
        self._indegree = [len(graph.preds(n)) for n in range(graph.node_count())]
        self._release([n for n, d in enumerate(self._indegree) if d == 0])
        while self._heap or self._running:
            self._check_stop()
            held: list[tuple[float, int]] = []
            while self._heap and len(self._running) < self.jobs and not self._stopping:
                item = heapq.heappop(self._heap)
                if self._conflicts(item[1]):
                    held.append(item)  # it waits until the task with its file is done
                    continue
                self._start(item[1])
            for item in held:
                heapq.heappush(self._heap, item)
            if self._stopping:
                self._skip_ready()
            if not self._running:
                continue
            for token, outcome in self.pool.wait():
                self._advance(cast(int, token), outcome)
        self._check_stop()
        for index in sorted(self.selected):
            if index not in self.results:
                unit = self.graph.units[index]
                reason = self._stopping or "not started"
                self.results[index] = UnitResult(unit, NOT_RUN, reason=reason)
        return self.results

    def _conflicts(self, node: int) -> bool:
        """With avoid_conflicts: whether a running unit touches one of this unit's files."""
        if not self.avoid_conflicts:
            return False
        files = touched_files(self.graph.units[node])
        return any(files & touched_files(r.unit) for r in self._running.values())

    def _check_stop(self) -> None:
        if self.stop.count and self._stopping != "interrupted":
            self._stopping = "interrupted"
            self.pool.terminate_all()
            self.events.interrupting(kill=False)
        if self.stop.count >= 2 and not self._killed:
            self._killed = True
            self.pool.terminate_all(kill=True)
            self.events.interrupting(kill=True)

    def _skip_ready(self) -> None:
        while self._heap:
            _, node = heapq.heappop(self._heap)
            unit = self.graph.units[node]
            self._done(node, UnitResult(unit, NOT_RUN, reason=self._stopping), record=False)

    # -- releasing: nodes whose dependencies have all finished
    def _release(self, nodes: list[int]) -> None:
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if self._settle(node) is None:
                heapq.heappush(self._heap, (-self.priority[node], node))
            else:
                stack.extend(self._unblocked_by(node))

    def _unblocked_by(self, node: int) -> list[int]:
        """Count ``node`` as finished for its successors; those now free of dependencies."""
        ready = []
        for succ in self.graph.succs(node):
            self._indegree[succ] -= 1
            if self._indegree[succ] == 0:
                ready.append(succ)
        return ready

    def _settle(self, node: int) -> bool | None:
        """Resolve a released node that needs no job slot; None when it must be run."""
        graph, ready = self.graph, self.ready
        if graph.is_virtual(node):
            ready.settle(node)
            weak = self._weak_dependencies(node)
            self.weak[node] = weak[0] if weak else ""
            return True
        unit = graph.units[node]
        if node not in self.selected:
            ok, why = self.executor.outside(unit)
            ready.ok[node] = ok
            ready.cause[node] = why or f"{unit.id} has not passed"
            return True
        bad = ready.settle(node)
        skipped = bad is not None and (bad in self.results and self.results[bad].status == NOT_RUN)
        if bad is not None and not skipped:
            reason = blocked_reason(graph.node_name(bad), ready.why(bad))
            self._done(node, self.executor.blocked(unit, reason), record=True, chain=False)
            ready.block(node, bad)
            return True
        if self._stopping or skipped:
            reason = self._stopping or f"dependency {self.graph.node_name(bad or node)} was not run"
            self._done(node, UnitResult(unit, NOT_RUN, reason=reason), record=False, chain=False)
            return True
        return None

    def _weak_dependencies(self, node: int) -> list[str]:
        return [self.weak[p] for p in self.graph.preds(node) if self.weak[p]]

    # -- running
    def _start(self, node: int) -> None:
        unit = self.graph.units[node]
        self.events.unit_started(unit)
        running = _Running(unit, self.executor.steps(unit), time.time())
        self._running[node] = running
        self._next_step(node, running)

    def _next_step(self, node: int, running: _Running) -> None:
        while len(running.commands) < len(running.steps):
            step = running.steps[len(running.commands)]
            if step.spec is None:
                running.commands.append(
                    CommandRecord(
                        step.run, None, step.expect_exit, 0.0, error=step.error, line=step.line
                    )
                )
                break
            self.pool.start(node, step.spec)
            return
        del self._running[node]
        result = self.executor.finish(running.unit, running.commands, running.started)
        if result.status == NOT_RUN:  # interrupted during its in-process checks
            self.interrupted.append(running.unit)
            self._done(node, result, record=False)
            return
        weak = self._weak_dependencies(node)
        if weak:
            more = f" (and {len(weak) - 2} more)" if len(weak) > 2 else ""
            note = f"depends on {', '.join(weak[:2])}{more}"
            result.reason = f"{result.reason}; {note}" if result.reason else note
        self._done(node, result, record=True)

    def _advance(self, node: int, outcome: Outcome) -> None:
        running = self._running[node]
        step = running.steps[len(running.commands)]
        if outcome.killed_by == "interrupt":
            del self._running[node]
            self.interrupted.append(running.unit)
            reason = "interrupted while running"
            self._done(node, UnitResult(running.unit, NOT_RUN, reason=reason), record=False)
            return
        record = self.executor.record(step, outcome)
        running.commands.append(record)
        if not record.ok:
            running.steps = running.steps[: len(running.commands)]  # stop at the first failure
        self._next_step(node, running)

    def _done(self, node: int, result: UnitResult, *, record: bool, chain: bool = True) -> None:
        """Store a selected unit's result; with ``chain``, release its successors."""
        self.results[node] = result
        ok = self.ready.ok[node] = result.status in SATISFIES_DEPENDENTS
        if result.status in WEAK_DEPENDENCY:
            self.weak[node] = f"{result.status} {result.unit.id}"
        if not ok and not self.ready.cause[node]:
            self.ready.cause[node] = failure_cause(result.unit.id, result.status)
        if record:
            self.events.unit_finished(result)
        if self.fail_fast and result.status in (FAILED, TIMEOUT) and not self._stopping:
            self._stopping = f"not started: --fail-fast stopped the run after {result.unit.id}"
        if chain:
            self._release(self._unblocked_by(node))
