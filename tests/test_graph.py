from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PlanWriter, run_cli
from planrun.dependencies import build_graph
from planrun.diagnostics import Diagnostics
from planrun.graph import Readiness
from planrun.model import Plan
from planrun.validate import validate_paths

DIAMOND = """
planrun: 1
id: d
tasks:
  - {id: a, verify: "true"}
  - {id: b, depends_on: [a], verify: "true"}
  - {id: c, depends_on: [a], verify: "true"}
  - {id: d, depends_on: [b, c], verify: "true"}
"""


def _waves(path: Path, *extra: str) -> list[list[str]]:
    run = run_cli("waves", "--json", *extra, path)
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    assert doc["schema_version"] == 1
    return [w["tasks"] for w in doc["waves"]]


def test_diamond_has_three_waves(write_plan: PlanWriter) -> None:
    path = write_plan("d.md", DIAMOND)
    assert _waves(path) == [["d/a"], ["d/b", "d/c"], ["d/d"]]
    text = run_cli("waves", path)
    assert text.stdout == (
        "Wave 1 (1 task)\n  d/a\nWave 2 (2 tasks)\n  d/b\n  d/c\nWave 3 (1 task)\n  d/d\n"
        "Critical path (3 tasks): d/a -> d/b -> d/d\n"
    )


def test_plan_depends_on_plan_across_a_folder(write_plan: PlanWriter, tmp_path: Path) -> None:
    write_plan(
        "plans/a.md",
        "planrun: 1\ntasks:\n  - {id: x, verify: 'true'}\n"
        "  - {id: y, depends_on: [x], verify: 'true'}\n",
    )
    write_plan(
        "plans/b.md",
        "planrun: 1\ndepends_on: [a]\ntasks:\n  - {id: z, verify: 'true'}\n"
        "  - {id: w, depends_on: ['a/x'], verify: 'true'}\n",
    )
    assert _waves(tmp_path / "plans") == [["a/x"], ["a/y"], ["b/z", "b/w"]]
    graph = json.loads(run_cli("graph", "--format", "json", tmp_path / "plans").stdout)
    # The plan-level edge is drawn from a's last task to b's first ones.
    assert graph["edges"] == [["a/x", "a/y"], ["a/y", "b/z"], ["a/x", "b/w"], ["a/y", "b/w"]]


def test_plan_checks_share_the_wave_of_the_last_task(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        "planrun: 1\nverify: 'true'\ntasks:\n  - {id: a, verify: 'true'}\n"
        "  - {id: b, depends_on: [a], verify: 'true'}\n",
    )
    assert _waves(path) == [["p/a"], ["p/b", "p/@checks"]]


def test_plan_without_tasks_runs_its_checks_in_wave_one(write_plan: PlanWriter) -> None:
    path = write_plan("p.md", "planrun: 1\nverify: 'true'\n")
    assert _waves(path) == [["p/@checks"]]


def test_avoid_conflicts_moves_the_later_task(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: a, files: [x.py], verify: "true"}
          - {id: b, files: [x.py], verify: "true"}
          - {id: c, files: [x.py, y.py], verify: "true"}
          - {id: d, files: [y.py], verify: "true"}
          - {id: e, depends_on: [b], verify: "true"}
        """,
    )
    assert _waves(path) == [["p/a", "p/b", "p/c", "p/d"], ["p/e"]]
    assert _waves(path, "--avoid-conflicts") == [
        ["p/a", "p/d"],
        ["p/b"],
        ["p/c", "p/e"],
    ]


def test_critical_path_follows_the_longest_chain(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: a, verify: "true"}
          - {id: b, verify: "true"}
          - {id: c, depends_on: [b], verify: "true"}
          - {id: d, depends_on: [c], verify: "true"}
          - {id: e, depends_on: [a, d], verify: "true"}
        """,
    )
    doc = json.loads(run_cli("waves", "--json", path).stdout)
    assert doc["critical_path"] == ["p/b", "p/c", "p/d", "p/e"]


def test_graph_formats(write_plan: PlanWriter) -> None:
    path = write_plan("d.md", DIAMOND)
    mermaid = run_cli("graph", path).stdout
    assert mermaid.splitlines()[:3] == ["graph TD", '  n0["d/a"]', '  n1["d/b"]']
    assert "  n1 --> n3" in mermaid
    dot = run_cli("graph", "--format", "dot", path).stdout
    assert dot.startswith("digraph planrun {") and '  "d/b" -> "d/d";' in dot
    doc = json.loads(run_cli("graph", "--format", "json", path).stdout)
    assert doc["nodes"][3] == {"id": "d/d", "wave": 3, "status": "not_run"}
    bad = run_cli("graph", "--format", "svg", path)
    assert bad.exit_code == 2
    assert 'unknown graph format "svg"' in bad.stderr


def test_cycle_through_plans_is_named(write_plan: PlanWriter, tmp_path: Path) -> None:
    write_plan("f/a.md", "planrun: 1\ndepends_on: [b]\ntasks:\n  - {id: x, verify: 'true'}\n")
    write_plan("f/b.md", "planrun: 1\ndepends_on: [a]\ntasks:\n  - {id: y, verify: 'true'}\n")
    result = validate_paths([tmp_path / "f"])
    cycles = [d.message for d in result.diagnostics.items if d.code == "cycle"]
    assert cycles == ["dependency cycle: a/x -> plan a -> b/y -> plan b -> a/x"]


def test_plan_dependency_by_file_name(write_plan: PlanWriter, tmp_path: Path) -> None:
    # GSD's own spellings ("01", 26-01-PLAN) are aliases the GSD reader declares: see
    # test_readers.py; the core knows only an id and its file name.
    write_plan("f/26-01.md", "planrun: 1\nid: 26-01\ntasks:\n  - {id: x, verify: 'true'}\n")
    for spelling in ("26-01", "26-01.md"):
        write_plan(
            "f/26-02.md",
            f"planrun: 1\nid: 26-02\ndepends_on: [{spelling}]\n"
            "tasks:\n  - {id: y, verify: 'true'}\n",
        )
        assert _waves(tmp_path / "f") == [["26-01/x"], ["26-02/y"]], spelling


@st.composite
def dags(draw: st.DrawFn) -> list[tuple[str, list[str], list[str]]]:
    n = draw(st.integers(min_value=1, max_value=25))
    tasks = []
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        files = draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True))
        tasks.append((f"t{i}", [f"t{d}" for d in deps], files))
    return tasks


@settings(max_examples=60, deadline=None)
@given(dags(), st.booleans())
def test_waves_respect_dependencies(
    tasks: list[tuple[str, list[str], list[str]]], avoid: bool
) -> None:
    plan = Plan.model_validate(
        {
            "id": "p",
            "tasks": [
                {"id": t, "depends_on": deps, "files": files, "verify": "true"}
                for t, deps, files in tasks
            ],
        }
    )
    graph = build_graph([plan], Diagnostics())
    graph.assign_waves(avoid_conflicts=avoid)
    wave = {u.bare_id: u.wave for u in graph.units}
    for t, deps, _ in tasks:
        assert all(wave[t] > wave[d] for d in deps)
        if not avoid:
            assert wave[t] == 1 + max((wave[d] for d in deps), default=0)
    if avoid:
        seen: set[tuple[int, str]] = set()
        for t, _, files in tasks:
            for f in files:
                assert (wave[t], f) not in seen
                seen.add((wave[t], f))
    if not avoid:  # moved tasks make waves deeper than the longest dependency chain
        assert len(graph.critical_path()) == max(wave.values())


def test_readiness_carries_why_a_dependency_did_not_pass(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    # The one propagation execute, summary --merge and next share: a plan dependency is ok
    # when every unit of the plan is, else it carries the first one that is not.
    write_plan(
        "plans/a.md",
        "planrun: 1\ntasks:\n  - {id: x, verify: 'true'}\n  - {id: y, verify: 'true'}\n",
    )
    write_plan("plans/b.md", "planrun: 1\ndepends_on: [a]\ntasks:\n  - {id: z, verify: 'true'}\n")
    graph = validate_paths([tmp_path / "plans"]).graph
    x, y, z = (graph.by_id[i] for i in ("a/x", "a/y", "b/z"))
    plan_a = next(n for n in range(graph.node_count()) if graph.node_name(n) == "plan a")
    ready = Readiness(graph)
    ready.ok[x] = True  # a/y has no result
    for node in graph.order or []:
        if graph.is_virtual(node):
            assert ready.settle(node) == (y if node == plan_a else None)
    assert not ready.ok[plan_a]
    bad = ready.settle(z)
    assert bad == plan_a
    assert ready.why(bad) == "a/y did not pass"
    assert ready.block(z, bad) == "a/y did not pass"
    assert (ready.ok[z], ready.cause[z]) == (False, "a/y did not pass")

    ready = Readiness(graph)
    ready.ok[x] = ready.ok[y] = True
    for node in graph.order or []:
        if graph.is_virtual(node):
            assert ready.settle(node) is None
    assert ready.settle(z) is None


def test_graph_shows_each_task_s_last_recorded_result(
    write_plan: PlanWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_plan(
        "p.md",
        "planrun: 1\ntasks:\n  - {id: ok, verify: 'test -f p.md'}\n"
        "  - {id: bad, depends_on: [ok], verify: 'test -f nothere'}\n  - {id: later}\n",
    )
    monkeypatch.chdir(path.parent)
    run_cli("execute", path, "--no-summary", "--task", "ok", "--task", "bad")
    doc = json.loads(run_cli("graph", "--format", "json", path).stdout)
    assert [(n["id"], n["status"]) for n in doc["nodes"]] == [
        ("p/ok", "passed"),
        ("p/bad", "failed"),
        ("p/later", "not_run"),
    ]
    assert "class n1 failed" in run_cli("graph", path).stdout
