"""SUMMARY.md: snapshot, parseable frontmatter, never overwriting a user's file, milestones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import frontmatter
import pytest

from conftest import PlanWriter, run_cli
from planrun.graph import Unit
from planrun.render.summary import SummaryInput, render
from planrun.results import CheckResult, CommandRecord, UnitResult
from planrun.validate import validate_paths
from planrun.verdicts import milestone_status, milestones

SNAPSHOTS = Path(__file__).parent / "snapshots"

APP = """
planrun: 1
id: app
title: Login fix
milestones:
  - {id: model, name: Session model, tasks: [schema, model]}
  - {id: api, name: "API | auth", tasks: [api, docs]}
tasks:
  - {id: schema, verify: "alembic upgrade head", claimed: done, files: [db.py]}
  - {id: model, depends_on: [schema], verify: "pytest tests/test_model.py", claimed: done}
  - id: api
    depends_on: [model]
    verify: "pytest tests/test_api.py"
    must_haves:
      artifacts: [{path: app/api.py, min_lines: 60}]
      truths: [Logging in twice keeps one session]
  - {id: docs, depends_on: [api], claimed: done}
  - {id: review, kind: manual}
"""


def _fixed_results(units: list[Unit]) -> list[UnitResult]:
    by = {u.bare_id: u for u in units}
    tail = "tests/test_model.py::test_session FAILED\n```\nE   assert 1 == 2\n1 failed in 0.3s"
    return [
        UnitResult(
            by["schema"],
            "passed",
            # A pass that is weak says why in the summary, next to the ✅.
            reason="judged by `alembic upgrade head`: the `|| echo` would hide its failure",
            exit_code=0,
            duration=1.25,
            commands=[CommandRecord("alembic upgrade head", 0, 0, 1.25)],
        ),
        UnitResult(
            by["model"],
            "failed",
            reason="exit 1: `pytest tests/test_model.py`",
            exit_code=1,
            duration=0.5,
            log="/repo/.planrun/logs/r1/app/model.log",
            tail=tail,
            commands=[CommandRecord("pytest tests/test_model.py", 1, 0, 0.5)],
        ),
        UnitResult(
            by["api"], "blocked", reason="dependency app/model did not pass: app/model failed"
        ),
        UnitResult(
            by["docs"],
            "unverified",
            reason="nothing verifies it: no verify command and no must_haves check",
            duration=0.0,
        ),
        UnitResult(
            by["review"],
            "manual",
            reason="needs a human: no automated check",
            duration=0.0,
            checks=[CheckResult("truth", "x", None, "manual")],
        ),
    ]


def _input(write_plan: PlanWriter, tmp_path: Path) -> SummaryInput:
    write_plan("plans/app.md", APP)
    result = validate_paths([Path("plans")])
    graph = result.graph
    results = _fixed_results(graph.units)
    statuses = {r.unit.id: r.status for r in results}
    return SummaryInput(
        graph,
        results,
        milestones(graph, statuses),
        "failed",
        "r1",
        1_763_700_000.0,
        2.25,
        Path("/repo"),
    )


def test_snapshot(write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = render(_input(write_plan, tmp_path))
    assert render(_input(write_plan, tmp_path)) == text  # deterministic
    snapshot = SNAPSHOTS / "summary.md"
    if os.environ.get("PLANRUN_UPDATE_SNAPSHOTS"):
        snapshot.write_text(text)
    assert text == snapshot.read_text()


def test_frontmatter_loads_with_python_frontmatter(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    post = frontmatter.loads(render(_input(write_plan, tmp_path)))
    meta = post.metadata
    assert meta["generator"] == "planrun"
    assert meta["status"] == "failed"
    assert meta["run_id"] == "r1"
    assert meta["started"] == "2025-11-21T04:40:00Z"
    assert meta["duration_s"] == 2.2
    assert meta["counts"] == {
        "passed": 1,
        "failed": 1,
        "timeout": 0,
        "blocked": 1,
        "stale": 0,
        "error": 0,
        "manual": 1,
        "unverified": 1,
        "not_run": 0,
    }
    assert meta["milestones"] == [
        {"id": "model", "name": "Session model", "status": "failed", "passed": 1, "total": 2},
        {"id": "api", "name": "API | auth", "status": "blocked", "passed": 0, "total": 2},
    ]
    body = post.content
    # False claims come before failures, and both before the tables.
    assert body.index("## False claims") < body.index("## Failures") < body.index("## Tasks")
    claims = body.split("## False claims", 1)[1].split("## Failures", 1)[0]
    assert "`app/model`" in claims and "`app/docs`" in claims and "`app/schema`" not in claims


def _plan(write_plan: PlanWriter) -> Path:
    return write_plan(
        "plans/p.md",
        """
        planrun: 1
        milestones: [{id: m, name: Everything, tasks: [good, bad]}]
        tasks:
          - {id: good, verify: "test $PLANRUN_WAVE"}
          - {id: bad, verify: "echo broken; exit 1", claimed: done}
        """,
    )


def test_execute_writes_summary_beside_the_plan_and_summary_rerenders_it(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = _plan(write_plan)
    run = run_cli("execute", plan, "--root", tmp_path)
    assert run.exit_code == 1
    written = (tmp_path / "plans" / "SUMMARY.md").read_text()
    assert f"wrote {tmp_path / 'plans' / 'SUMMARY.md'}" in run.stderr
    assert frontmatter.loads(written).metadata["milestones"] == [
        {"id": "m", "name": "Everything", "status": "failed", "passed": 1, "total": 2}
    ]
    again = run_cli("summary", plan, "--root", tmp_path, "-o", tmp_path / "again.md")
    assert again.exit_code == 0
    assert (tmp_path / "again.md").read_text() == written
    folder = run_cli("execute", tmp_path / "plans", "--root", tmp_path, "--no-summary")
    assert folder.exit_code == 1
    assert "wrote" not in folder.stderr


def test_a_partial_run_after_a_failure_does_not_say_nothing_failed(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = write_plan(
        "plans/p.md",
        """
        planrun: 1
        id: p
        tasks:
          - {id: a, verify: "test -e nope"}
          - {id: b, verify: "test -e p.md"}
        """,
    )
    assert run_cli("execute", plan, "--root", tmp_path / "plans").exit_code == 1
    run = run_cli("execute", plan, "--root", tmp_path / "plans", "--task", "b")
    heading = (tmp_path / "plans" / "SUMMARY.md").read_text().split("\n# ", 1)[1].splitlines()[0]
    assert "nothing failed" not in heading, (run.output, heading)
    assert "1 of 2 tasks passed (1 failed)" in heading


def test_summary_option_and_template(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = _plan(write_plan)
    (tmp_path / "mine.j2").write_text(
        "{{ status }}: {{ verdict }}\n{% for t in tasks %}{{ t.id }}={{ t.status }}\n{% endfor %}"
    )
    run_cli(
        "execute",
        plan,
        "--root",
        tmp_path,
        "--summary",
        tmp_path / "out" / "S.md",
        "--template",
        tmp_path / "mine.j2",
    )
    assert (tmp_path / "out" / "S.md").read_text() == (
        "failed: 1 of 2 tasks passed (1 false claim; 1 failed)\np/good=passed\np/bad=failed\n"
    )
    broken = tmp_path / "broken.j2"
    broken.write_text("{{ no_such_value }}")
    run = run_cli(
        "summary", plan, "--root", tmp_path, "--template", broken, "-o", tmp_path / "x.md"
    )
    assert run.exit_code == 2
    assert run.stderr.startswith(
        f"planrun: error: cannot render {broken}: 'no_such_value' is undefined"
    )


def test_a_hand_written_summary_is_never_overwritten(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = _plan(write_plan)
    mine = tmp_path / "plans" / "SUMMARY.md"
    mine.write_text("# My own notes\n")
    run = run_cli("execute", plan, "--root", tmp_path, "--json")
    assert run.exit_code == 2
    assert mine.read_text() == "# My own notes\n"
    refusal = (
        f"planrun: error: {mine} exists and was not written by planrun (no 'generator: "
        "planrun' in its frontmatter); it was left untouched"
    )
    hint = "    hint: write the summary elsewhere with --summary FILE, or skip it with --no-summary"
    assert run.stderr.splitlines() == [refusal, hint]
    # Refused before anything ran (issue 15): no half-run, no result recorded; --json says why.
    assert json.loads(run.stdout)["error"]["message"] == refusal.removeprefix("planrun: error: ")
    assert not (tmp_path / ".planrun").exists()


def test_github_actions_annotations_and_step_summary(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(write_plan)
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    run = run_cli("execute", plan, "--root", tmp_path)
    assert f"::error file={plan},line=6::p/bad failed%3A exit 1" not in run.stderr
    assert f"::error file={plan},line=6::p/bad failed: exit 1: `echo broken; exit 1`" in (
        run.stderr
    )
    text = step.read_text()
    assert text.startswith("earlier step\n\n# ❌ FAILED: 1 of 2 tasks passed")
    assert "| Everything | ❌ failed | 1/2 |" in text
    assert "## Tasks" not in text and "generator: planrun" not in text


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["passed", "passed"], "done"),
        (["passed", "failed", "blocked"], "failed"),
        (["passed", "timeout"], "failed"),
        (["passed", "blocked"], "blocked"),
        # Unverified blocks nothing (issue 10): the milestone is not done, and not "blocked".
        (["unverified", "passed"], "partial"),
        (["unverified"], "pending"),
        (["passed", "not_run"], "partial"),
        (["not_run", "not_run"], "pending"),
        ([], "pending"),
        (["passed", "manual"], "manual"),
        (["manual"], "manual"),
    ],
)
def test_milestone_status_rules(statuses: list[str], expected: str) -> None:
    assert milestone_status(statuses) == expected


def test_default_milestones(write_plan: PlanWriter, tmp_path: Path) -> None:
    write_plan(
        "f/a.md",
        "planrun: 1\ntitle: First\ntasks:\n  - {id: x, verify: 'test $PLANRUN_WAVE'}\n"
        "  - {id: y, depends_on: [x], verify: 'test $PLANRUN_WAVE'}\n",
    )
    write_plan("f/b.md", "planrun: 1\ntasks:\n  - {id: z, verify: 'test $PLANRUN_WAVE'}\n")
    many = validate_paths([tmp_path / "f"]).graph
    got = milestones(many, {"a/x": "passed", "a/y": "passed"})
    assert [(m.id, m.name, m.status, m.passed, m.total) for m in got] == [
        ("a", "First", "done", 2, 2),
        ("b", "b", "pending", 0, 1),
    ]
    one = validate_paths([tmp_path / "f" / "a.md"]).graph
    got = milestones(one, {"a/x": "passed", "a/y": "failed"})
    assert [(m.id, m.name, m.status) for m in got] == [
        ("wave-1", "Wave 1", "done"),
        ("wave-2", "Wave 2", "failed"),
    ]
