"""validate reports every problem in one pass: a schema error skips its task, not the plan."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

PLAN = """\
---
planrun: 1
tasks:
  - id: build
    verfy: make
  - id: test
    depends_on: [buidl]
    verify: make test
  - id: x
    depends_on: [y]
    verify: "true"
  - id: y
    depends_on: [x]
    verify: "true"
  - id: lint
    verify: "pytest || true"
---
"""


def test_a_schema_error_does_not_hide_the_others(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_text(PLAN)
    run = run_cli("validate", plan)
    assert run.exit_code == 1
    out = run.output
    assert (
        f'{plan}:5: error[unknown-key] unknown key "verfy" in tasks[0] (did you mean "verify"?)'
    ) in out
    assert (
        f'{plan}:6: error[unknown-dependency] task "test" depends on "buidl", which does not '
        'exist (did you mean "build"?)'
    ) in out
    assert f"{plan}:9: error[cycle] dependency cycle: x -> y -> x" in out
    assert f'{plan}:15: warning[verify-never-fails] task "lint"' in out
    # The task with the error is checked only for its id and dependencies: no lint noise.
    assert 'task "build" has no' not in out


def test_a_bad_top_level_key_still_checks_the_tasks(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_text(
        "---\nplanrun: 1\ntimeout: soon\ntasks:\n  - {id: a, depends_on: [b], verify: 'true'}\n"
        "---\n"
    )
    run = run_cli("validate", plan)
    assert run.exit_code == 1
    assert f"{plan}:3: error[invalid-value] timeout: expected a number" in run.output
    assert "error[unknown-dependency]" in run.output


def test_execute_refuses_a_plan_with_any_schema_error(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_text(PLAN)
    run = run_cli("execute", plan, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 2
    assert not (tmp_path / ".planrun").exists()
