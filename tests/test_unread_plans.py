"""Never pass a plan nobody read: planrun's own summaries, and frontmatter that does not parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli

SUMMARY = "---\ngenerator: planrun\nstatus: passed\ntasks: 3\n---\n# ✅ PASSED\n"


def test_a_plan_with_a_generator_key_is_still_read(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "p.md").write_text(
        "---\nplanrun: 1\ngenerator: planrun\ntasks:\n  - {id: a, verify: 'false'}\n---\n"
    )
    run = run_cli("validate", plans)
    assert run.exit_code == 1
    assert f'{plans / "p.md"}:3: error[unknown-key] unknown key "generator"' in run.output
    run = run_cli("execute", plans, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 2


def test_planruns_summary_is_skipped_only_in_a_folder(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "SUMMARY.md").write_text(SUMMARY)
    (plans / "p.md").write_text("---\nplanrun: 1\ntasks:\n  - {id: a, verify: 'true'}\n---\n")
    run = run_cli("validate", plans, "--verbose")
    assert run.exit_code == 0, run.output
    assert (
        f"{plans / 'SUMMARY.md'}: info[not-a-plan] skipped: a summary planrun wrote" in run.output
    )
    run = run_cli("validate", plans / "SUMMARY.md")
    assert run.exit_code == 1
    assert (
        f"{plans / 'SUMMARY.md'}:1: error[unrecognized-plan] this is a summary planrun wrote "
        "(generator: planrun), not a plan\n    hint: name the plan it summarizes instead"
    ) in run.output


def test_summary_with_a_task_list_is_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("---\ngenerator: planrun\ntasks:\n  - {id: a, verify: 'true'}\n---\n")
    run = run_cli("validate", path)
    assert run.exit_code == 1
    assert "[not-a-plan]" not in run.output


CHECKLIST = """\
---
objective: Fix: the login flow
---
# Login

- [ ] Fix the form

## Validation
- `true`
"""


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (CHECKLIST, 2, "mapping values are not allowed"),
        ("---\nx: !custom 1\n---\n- [ ] a\n", 2, "could not determine a constructor"),
        ("---\nk: " + "[" * 10000 + "\n---\n- [ ] a\n", 2, "maximum nesting depth"),
        ("---\ntitle: x\n- [ ] a\n", 1, "never closed"),
    ],
)
def test_frontmatter_that_does_not_parse_is_an_error(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = tmp_path / "p.md"
    path.write_text(text)
    run = run_cli("validate", path)
    assert run.exit_code == 1, run.output
    assert f"{path}:{line}: error[yaml-syntax]" in run.output
    assert problem in run.output
    assert run.output.count("[yaml-syntax]") == 1
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 2


def test_gsd_frontmatter_that_does_not_parse_keeps_its_depends_on_visible(
    tmp_path: Path,
) -> None:
    phase = tmp_path / "01-x"
    phase.mkdir()
    (phase / "01-02-PLAN.md").write_text(
        "---\nphase: 01-x\nplan: 02\nwave: 2\ndepends_on: [01]\nobjective: Fix: login\n---\n"
        '<task type="auto"><name>a</name><verify>true</verify></task>\n'
    )
    run = run_cli("validate", phase)
    assert run.exit_code == 1
    assert f"{phase / '01-02-PLAN.md'}:6: error[yaml-syntax]" in run.output


def test_gsd_backslash_repair_still_comes_first(tmp_path: Path) -> None:
    path = tmp_path / "01-01-PLAN.md"
    path.write_text(
        "---\nphase: 01-x\nplan: 01\nwave: 1\ndepends_on: []\nfiles_modified: []\n"
        "autonomous: true\nmust_haves:\n  key_links:\n    - {from: a.py, to: b.py, "
        'pattern: "Base\\.metadata"}\n---\n'
        '<task type="auto"><name>a</name><verify>true</verify></task>\n'
    )
    run = run_cli("validate", path)
    assert "[yaml-syntax]" not in run.output
    assert "[yaml-backslash]" in run.output
