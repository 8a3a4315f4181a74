"""The scheduler's logic against a fake process pool on a simulated clock: no real children,
no sleeps, no timing assertions. (The real end-to-end makespan is measured by
benchmarks/run.py.)"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from planrun.dependencies import build_graph
from planrun.diagnostics import Diagnostics
from planrun.graph import PlanGraph, Unit
from planrun.model import Plan
from planrun.procpool import Outcome, Spec
from planrun.results import CommandRecord, UnitResult
from planrun.scheduler import Scheduler, Step, StopSignal
from planrun.statuses import BLOCKED, FAILED, PASSED
from planrun.tasklog import LogSink


@dataclass
class FakePool:
    """Runs "sleep S" / "sleep S; exit N" scripts on a simulated clock."""

    now: float = 0.0
    started: list[tuple[float, Hashable]] = field(default_factory=list)
    running: list[tuple[float, int, Hashable, int]] = field(default_factory=list)
    most_at_once: int = 0
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def start(self, token: Hashable, spec: Spec) -> None:
        match = re.fullmatch(r"sleep ([0-9.]+)(?:; exit (\d+))?", spec.script)
        assert match, spec.script
        self.started.append((self.now, token))
        end = self.now + float(match[1])
        heapq.heappush(self.running, (end, next(self._seq), token, int(match[2] or 0)))
        self.most_at_once = max(self.most_at_once, len(self.running))

    def wait(self) -> list[tuple[Hashable, Outcome]]:
        end, _, token, code = heapq.heappop(self.running)
        self.now = end
        return [(token, Outcome(code, 0.0))]

    def terminate_all(self, *, kill: bool = False) -> None:
        raise AssertionError("nothing here stops a run")


class FakeExecutor:
    def __init__(self, log: LogSink) -> None:
        self.log = log

    def steps(self, unit: Unit) -> list[Step]:
        return [
            Step(c.run, c.expect_exit, Spec(c.run, Path(), {}, 60.0, self.log)) for c in unit.verify
        ]

    def record(self, step: Step, outcome: Outcome) -> CommandRecord:
        return CommandRecord(step.run, outcome.exit_code, step.expect_exit, outcome.duration)

    def finish(self, unit: Unit, commands: list[CommandRecord], started: float) -> UnitResult:
        ok = all(c.ok for c in commands)
        return UnitResult(unit, PASSED if ok else FAILED, reason=None if ok else "exit 1")

    def outside(self, unit: Unit) -> tuple[bool, str | None]:
        return True, None

    def blocked(self, unit: Unit, reason: str) -> UnitResult:
        return UnitResult(unit, BLOCKED, reason=reason)


class Events:
    def __init__(self) -> None:
        self.finished: list[str] = []
        self.log: list[str] = []  # starts and finishes, in the order they came

    def unit_started(self, unit: Unit) -> None:
        self.log.append(f"start {unit.bare_id}")

    def unit_finished(self, result: UnitResult) -> None:
        self.finished.append(result.unit.bare_id)
        self.log.append(f"finish {result.unit.bare_id}")

    def interrupting(self, *, kill: bool) -> None:
        raise AssertionError("nothing here stops a run")


def _graph(tasks: list[dict[str, object]]) -> PlanGraph:
    plan = Plan.model_validate({"planrun": 1, "id": "p", "tasks": tasks})
    plan.set_origin("p.md", "planrun")
    graph = build_graph([plan], Diagnostics())
    graph.assign_waves()
    return graph


def _run(
    graph: PlanGraph, tmp_path: Path, *, jobs: int, fail_fast: bool = False
) -> tuple[FakePool, dict[str, UnitResult], Events]:
    pool, events = FakePool(), Events()
    durations = {u.index: float(u.verify[0].run.split()[1].rstrip(";")) for u in graph.units}
    scheduler = Scheduler(
        graph,
        set(range(len(graph.units))),
        FakeExecutor(LogSink(tmp_path / "never-written.log")),
        events,
        pool,
        jobs=jobs,
        fail_fast=fail_fast,
        priority=graph.remaining_path(lambda u: durations[u.index]),
        stop=StopSignal(),
    )
    done = scheduler.run()
    return pool, {graph.units[i].bare_id: r for i, r in done.items()}, events


def _starts(pool: FakePool, graph: PlanGraph) -> dict[str, float]:
    return {graph.units[int(str(token))].bare_id: at for at, token in pool.started}


def test_no_wave_barrier_a_task_starts_when_its_dependencies_pass(tmp_path: Path) -> None:
    # A(0.2)->C, B(1.5)->D with two slots: C starts at 0.2, while B still runs.
    graph = _graph(
        [
            {"id": "A", "verify": "sleep 0.2"},
            {"id": "B", "verify": "sleep 1.5"},
            {"id": "C", "depends_on": ["A"], "verify": "sleep 0.1"},
            {"id": "D", "depends_on": ["B"], "verify": "sleep 0.1"},
        ]
    )
    pool, results, _ = _run(graph, tmp_path, jobs=2)
    assert _starts(pool, graph) == {"A": 0.0, "B": 0.0, "C": 0.2, "D": 1.5}
    assert pool.now == pytest.approx(1.6)
    assert {k: r.status for k, r in results.items()} == dict.fromkeys("ABCD", PASSED)


def test_longest_remaining_path_first_and_never_more_than_jobs(tmp_path: Path) -> None:
    # One slot: X->Y (1 + 5) comes before Z (2), and Y (5 left) before Z.
    graph = _graph(
        [
            {"id": "Z", "verify": "sleep 2"},
            {"id": "X", "verify": "sleep 1"},
            {"id": "Y", "depends_on": ["X"], "verify": "sleep 5"},
        ]
    )
    pool, _, events = _run(graph, tmp_path, jobs=1)
    assert events.finished == ["X", "Y", "Z"]
    assert pool.most_at_once == 1
    wide = _graph([{"id": f"t{i}", "verify": "sleep 1"} for i in range(7)])
    pool, _, _ = _run(wide, tmp_path, jobs=3)
    assert pool.most_at_once == 3
    assert pool.now == pytest.approx(3.0)


def test_a_failure_blocks_its_dependents_and_keep_going_runs_the_rest(tmp_path: Path) -> None:
    graph = _graph(
        [
            {"id": "A", "verify": "sleep 1; exit 1"},
            {"id": "B", "depends_on": ["A"], "verify": "sleep 1"},
            {"id": "C", "depends_on": ["B"], "verify": "sleep 1"},
            {"id": "D", "verify": "sleep 3"},
        ]
    )
    pool, results, _ = _run(graph, tmp_path, jobs=2)
    assert results["A"].status == FAILED
    assert results["B"].status == "blocked"
    assert results["B"].reason == "dependency p/A did not pass: p/A failed"
    assert results["C"].reason == "dependency p/B did not pass: p/A failed"
    assert results["D"].status == PASSED
    assert sorted(_starts(pool, graph)) == ["A", "D"]


def test_fail_fast_starts_nothing_new_after_a_failure(tmp_path: Path) -> None:
    graph = _graph(
        [
            {"id": "A", "verify": "sleep 1; exit 1"},
            {"id": "B", "verify": "sleep 2"},
            {"id": "C", "verify": "sleep 1"},
        ]
    )
    pool, results, _ = _run(graph, tmp_path, jobs=2, fail_fast=True)
    assert sorted(_starts(pool, graph)) == ["A", "B"]  # B was already running: it finishes
    assert results["B"].status == PASSED
    assert results["C"].status == "not_run"
    assert results["C"].reason == "not started: --fail-fast stopped the run after p/A"


def test_a_result_is_recorded_before_its_dependents_start(tmp_path: Path) -> None:
    # unit_finished stores the result (execution._Recorder): a dependent's check may read the
    # state of what it depends on. Starting dependents first saved 0.4 ms a hop on a chain of
    # short checks, and was undone for this (benchmarks/RESULTS.md).
    graph = _graph(
        [
            {"id": "A", "verify": "sleep 1"},
            {"id": "B", "depends_on": ["A"], "verify": "sleep 1"},
            {"id": "C", "depends_on": ["A"], "verify": "sleep 2; exit 1"},
            {"id": "D", "depends_on": ["C"], "verify": "sleep 1"},
        ]
    )
    _, results, events = _run(graph, tmp_path, jobs=2)
    assert events.log == [
        "start A",
        "finish A",
        "start C",
        "start B",
        "finish B",
        "finish C",
        "finish D",  # blocked by C: settled at once, after C's result
    ]
    assert results["D"].status == BLOCKED
