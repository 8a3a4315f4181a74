"""Runs that must not look green: truths left to a person, and no plans at all.

The run is ``partial`` (exit 0: a manual check does not fail a run), the text output and
SUMMARY.md say how many truths are left to a person, and the milestone is ``manual``, not done.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import PlanWriter, run_cli

PLAN = """
planrun: 1
id: p
milestones:
  - {id: m1, name: First, tasks: [a, b]}
tasks:
  - id: a
    verify: test -f README.md
  - id: b
    depends_on: [a]
    verify: test -s README.md
    must_haves:
      truths: [The change is described in the README]
"""


def test_a_pass_that_leaves_a_truth_is_partial(write_plan: PlanWriter) -> None:
    plan = write_plan("p.md", PLAN)
    (plan.parent / "README.md").write_text("hi\n")
    root = ("--root", plan.parent)
    run = run_cli("execute", plan, *root, "--summary", plan.parent / "S.md")
    assert run.exit_code == 0, run.output
    assert "PARTIAL: 2 passed, 1 manual truth to check by hand in" in run.stdout
    summary = (plan.parent / "S.md").read_text()
    assert (
        "# 🟡 PARTIAL: 2 of 2 tasks passed, nothing failed (1 manual truth to check by hand)"
    ) in summary
    assert "| First | 👤 manual | 2/2 |" in summary
    doc = json.loads(run_cli("status", plan, *root, "--json").stdout)
    assert doc["status"] == "partial"
    assert doc["milestones"][0]["status"] == "manual"


def test_without_truths_the_same_run_is_passed(write_plan: PlanWriter) -> None:
    plan = write_plan("p.md", PLAN.replace("    must_haves:\n", "").replace("      truths", "#"))
    (plan.parent / "README.md").write_text("hi\n")
    run = run_cli("execute", plan, "--root", plan.parent, "--json", "--no-summary")
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    assert doc["status"] == "passed"
    assert doc["milestones"][0]["status"] == "done"


def test_a_folder_without_plans_is_not_green(tmp_path: Path) -> None:
    # As pytest exits 5 when it collects nothing, and as execute does.
    (tmp_path / "e").mkdir()
    for command in ("validate", "status", "next"):
        run = run_cli(command, tmp_path / "e")
        assert run.exit_code == 5, run.output
        assert f"planrun: error: no plans found in {tmp_path / 'e'}\n" in run.stderr
        assert "no problems" not in run.stdout
    assert run_cli("validate", tmp_path / "e").stdout == "0 plans, 0 tasks: nothing was checked.\n"
