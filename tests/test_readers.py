"""The readers of agent-written plans, on the real seeds and on fixtures."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli
from planrun import markdown
from planrun.diagnostics import Diagnostic
from planrun.graph import PlanGraph
from planrun.model import Plan
from planrun.validate import Validation, validate_paths

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED = {p.name[:3]: p for p in sorted(SEEDS.glob("*.txt"))} if SEEDS.is_dir() else {}
needs_seeds = pytest.mark.skipif(not SEED, reason="../shared/seeds is not beside the checkout")


def load(path: Path, fmt: str | None = None) -> Validation:
    return validate_paths([path], fmt)


def edges(graph: PlanGraph) -> set[tuple[str, str]]:
    return {(a.bare_id, b.bare_id) for a, b in graph.edges()}


def codes(result: Validation) -> list[str]:
    return [d.code for d in result.diagnostics.items]


def only(result: Validation) -> Plan:
    [plan] = result.plans
    return plan


def diag(result: Validation, code: str) -> list[Diagnostic]:
    return [d for d in result.diagnostics.items if d.code == code]


@needs_seeds
def test_every_seed_loads_and_validates_without_errors() -> None:
    for path in SEED.values():
        result = load(path)
        assert result.ok, [d.format() for d in result.diagnostics.items]
        assert len(result.plans) == 1


@needs_seeds
def test_seed_000_task_breakdown() -> None:
    result = load(SEED["000"])
    plan = only(result)
    assert plan.format == "tasks"
    assert [t.id for t in plan.tasks] == ["task-1", "task-2", "task-3", "task-4"]
    assert plan.tasks[0].name == "Fix AsyncSessionLocal in database.py"
    assert plan.tasks[0].owner == "kyrosTelos (implementer)"
    assert plan.tasks[0].effort == "15 minutes"
    assert {t.claimed for t in plan.tasks} == {"done"}
    assert edges(result.graph) == {
        ("task-1", "task-2"),
        ("task-2", "task-3"),
        ("task-1", "task-4"),
        ("task-2", "task-4"),
        ("task-3", "task-4"),
    }
    assert [(m.id, m.name, m.tasks) for m in plan.milestones] == [
        ("milestone-1", "Database core fixes complete", ["task-1", "task-2"]),
        ("milestone-2", "Test infrastructure fixed", ["task-3"]),
        ("milestone-3", "Full validation complete", ["task-4"]),
    ]
    # Claimed done, nothing verifies it; and the transcript after </content> is ignored.
    assert len(diag(result, "claimed-done-unverified")) == 4
    [chatter] = diag(result, "trailing-chatter")
    assert chatter.line == 64
    assert diag(result, "no-runnable-checks")


@needs_seeds
def test_seed_001_pr_plan_gates_become_plan_checks() -> None:
    result = load(SEED["001"])
    plan = only(result)
    assert plan.format == "checklist"
    assert plan.tasks == []
    assert [v.run for v in plan.verify] == ["cd services/orchestrator && python -m pytest -q"]
    assert plan.verify[0].line == 16
    truths = [t.truth for t in plan.must_haves.truths]
    assert (
        'Validation: Run tests twice to confirm no "no such table" errors and auth '
        "returns 200" in truths
    )
    assert "Auth tests return 200 instead of 401" in truths
    assert diag(result, "trailing-chatter")[0].line == 37


@needs_seeds
def test_seed_002_prp_quality_gates_are_manual_checks() -> None:
    result = load(SEED["002"])
    plan = only(result)
    assert plan.format == "prp"
    assert plan.metadata["session_id"] == "session_949f55dbd1964cc0"
    assert len(plan.tasks) == 11
    assert {(t.kind, t.claimed) for t in plan.tasks} == {("manual", "todo")}
    assert plan.tasks[0].name == "5 consecutive full test runs with 95%+ pass rate"
    assert edges(result.graph) == set()
    assert diag(result, "no-runnable-checks")


@needs_seeds
def test_seed_003_gsd_plan() -> None:
    result = load(SEED["003"])
    plan = only(result)
    assert plan.format == "gsd"
    assert plan.id == "26-04"
    assert plan.wave == 1
    assert plan.metadata["phase"] == "26-ci-cd-fixes"
    assert plan.metadata["gap_closure"] is True
    assert len(plan.tasks) == 3
    assert [len(t.verify) for t in plan.tasks] == [2, 2, 2]
    assert plan.tasks[0].files == ["backend/tests/test_feedback_enhanced.py"]
    assert len(plan.must_haves.artifacts) == 3
    assert plan.must_haves.artifacts[0].min_lines == 60
    [link] = plan.must_haves.key_links
    assert re.search(link.pattern or "", "Base.metadata.create_all(engine, checkfirst=True)")
    assert link.pattern == r"Base\.metadata\.create_all.*checkfirst"
    [backslash] = diag(result, "yaml-backslash")
    assert backslash.line == 34
    never = diag(result, "verify-never-fails")
    assert {d.line for d in never} == {93, 94, 119, 148, 149}
    assert {d.line for d in diag(result, "machine-path")} == {148, 149}
    assert [v.run for v in plan.verify] == [
        "pytest backend/tests/test_feedback_enhanced.py -v",
        "pytest backend/tests/test_health_monitoring.py -v",
    ]


@needs_seeds
def test_seed_004_checklist_steps_run_in_order() -> None:
    result = load(SEED["004"])
    plan = only(result)
    assert plan.format == "checklist"
    assert [t.id for t in plan.tasks] == [f"item-{i}" for i in range(1, 8)]
    assert plan.tasks[0].name == "Step 1: audit fixtures and schema gaps"
    assert {t.claimed for t in plan.tasks} == {"done"}
    assert edges(result.graph) == {(f"item-{i}", f"item-{i + 1}") for i in range(1, 7)} | {
        (f"item-{i}", "@checks") for i in range(1, 8)
    }
    assert [v.run for v in plan.verify] == ["uv run pytest"]
    assert "Targeted admin/context tests pass (login, CRUD, bulk operations)." in [
        t.truth for t in plan.must_haves.truths
    ]


@needs_seeds
def test_validate_says_which_reader_read_each_file(tmp_path: Path) -> None:
    for path in SEED.values():
        shutil.copy(path, tmp_path / (path.stem + ".md"))
    doc = json.loads(run_cli("validate", "--json", tmp_path).stdout)
    formats = [d["message"] for d in doc["diagnostics"] if d["code"] == "format"]
    assert formats == [
        "read as a tasks plan",
        "read as a checklist plan",
        "read as a prp plan",
        "read as a gsd plan",
        "read as a checklist plan",
    ]
    assert [p["format"] for p in doc["plans"]] == ["tasks", "checklist", "prp", "gsd", "checklist"]
    text = run_cli("validate", "--verbose", tmp_path / "003_48dba6ddd45e2763.md").stdout
    assert "info[format] read as a gsd plan" in text


@needs_seeds
def test_format_overrides_detection() -> None:
    result = load(SEED["000"], "checklist")
    plan = only(result)
    assert plan.format == "checklist"
    assert plan.tasks == []


@needs_seeds
def test_seed_executes_whatever_is_runnable(tmp_path: Path) -> None:
    (tmp_path / "backend" / "tests").mkdir(parents=True)
    (tmp_path / "backend" / "tests" / "conftest.py").write_text(
        "import pytest\n" * 59 + "Base.metadata.create_all(engine, checkfirst=True)\n"
    )
    run = run_cli("execute", SEED["003"], "--root", tmp_path, "--json", "--no-summary")
    doc = json.loads(run.stdout)
    status = {t["id"]: t["status"] for t in doc["tasks"]}
    # Run with pipefail and judged by what their "|| echo" masks, the checks show that nothing
    # they name exists: task-1's first check, a grep that must not match, could not read its
    # file (exit 2, not "no match"); task-2's "grep && echo" fails. task-3's `pytest | tail`
    # failed, but it runs with PYTHONPATH=/Users/<its author>/...: it could not run as written
    # here, an error, not a failure.
    status = {t["id"]: (t["status"], t["reason"]) for t in doc["tasks"]}
    assert status["26-04/task-1"] == (
        "failed",
        (
            "exit 2 (`grep` could not read its input: a file it names is missing or unreadable): "
            '`grep -n "def db(" backend/tests/test_feedback_enhanced.py` (line 93; it must fail: '
            '`echo "FAIL: local db fixture still exists"` runs when it succeeds)'
        ),
    )
    status = {t["id"]: t["status"] for t in doc["tasks"]}
    assert status == {
        "26-04/task-1": "failed",
        "26-04/task-2": "failed",
        "26-04/task-3": "error",
        "26-04/@checks": "blocked",
    }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


GSD = """\
---
phase: 07-auth
plan: {plan}
type: execute
wave: {wave}
depends_on: {deps}
files_modified: [{file}]
autonomous: true
must_haves:
  truths: ["Users can log in"]
---

<tasks>
<task type="auto">
  <name>Task of {plan}</name>
  <files>{file}</files>
  <action>Do it.</action>
  <verify>
    <automated>test -n "{plan}"</automated>
  </verify>
  <done>Done.</done>
</task>
</tasks>
"""


def test_gsd_phase_folder_waves_across_plans(tmp_path: Path) -> None:
    phase = tmp_path / ".planning" / "phases" / "07-auth"
    write(phase / "07-01-PLAN.md", GSD.format(plan="01", wave=1, deps="[]", file="a.py"))
    write(phase / "07-02-PLAN.md", GSD.format(plan="02", wave=1, deps="[]", file="b.py"))
    write(phase / "07-03-PLAN.md", GSD.format(plan="03", wave=2, deps='["07-01", 02]', file="c.py"))
    write(phase / "07-01-SUMMARY.md", "---\nphase: 07-auth\nplan: 01\n---\n- [x] done\n")
    write(phase / "07-VERIFICATION.md", "# Verification\n- [ ] check\n")
    result = load(tmp_path / ".planning" / "phases")
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [p.id for p in result.plans] == ["07-01", "07-02", "07-03"]
    waves = [[u.id for u in w] for w in result.graph.waves()]
    # Each plan's own checks (its must_haves truths) share the wave of its last task.
    assert waves == [
        ["07-01/task-1", "07-01/@checks", "07-02/task-1", "07-02/@checks"],
        ["07-03/task-1", "07-03/@checks"],
    ]
    assert not diag(result, "wave-mismatch")
    skipped = [d.file for d in diag(result, "not-a-plan")]
    assert sorted(Path(f).name for f in skipped) == ["07-01-SUMMARY.md", "07-VERIFICATION.md"]


@pytest.mark.parametrize("deps", ["[]", '["07-01"]', "[01]", '"01"', "07-01-PLAN"])
def test_gsd_depends_on_spellings(tmp_path: Path, deps: str) -> None:
    write(tmp_path / "07-01-PLAN.md", GSD.format(plan="01", wave=1, deps="[]", file="a.py"))
    write(tmp_path / "07-02-PLAN.md", GSD.format(plan="02", wave=2, deps=deps, file="b.py"))
    result = load(tmp_path)
    assert result.ok, [d.format() for d in result.diagnostics.items]
    waves = [[u.id for u in w if u.task] for w in result.graph.waves()]
    if deps == "[]":
        assert waves == [["07-01/task-1", "07-02/task-1"]]
        assert diag(result, "wave-mismatch")[0].message == (
            'plan "07-02" declares wave 2, but its dependencies put it in wave 1'
        )
    else:
        assert waves == [["07-01/task-1"], ["07-02/task-1"]]


def test_gsd_task_kinds_and_verify_forms(tmp_path: Path) -> None:
    path = write(
        tmp_path / "01-01-PLAN.md",
        """\
        ---
        phase: 01-x
        plan: 01
        ---
        <task type="auto" tdd="true">
          <name>Plain verify lines</name>
          <verify>
            pytest tests/test_a.py -q
            if [ -f x ]; then
              echo yes
            fi
            Tests should all pass
          </verify>
        </task>
        <task type="checkpoint:human-verify">
          <name>Look at it</name>
          <verify>Open the page and check the button</verify>
        </task>
        <task type="auto">
          <name>Children</name>
          <verify>
            <automated>ruff check .</automated>
            <manual>Click around</manual>
          </verify>
        </task>
        """,
    )
    result = load(path)
    plan = only(result)
    first, checkpoint, children = plan.tasks
    assert [v.run for v in first.verify] == [
        "pytest tests/test_a.py -q",
        "if [ -f x ]; then\n  echo yes\nfi",
    ]
    assert [v.line for v in first.verify] == [8, 9]
    assert checkpoint.kind == "manual"
    assert [v.run for v in children.verify] == ["ruff check ."]
    [prose, prose_checkpoint] = diag(result, "prose-verify")
    assert (prose.line, prose_checkpoint.line) == (12, 17)
    [unknown] = diag(result, "unknown-element")
    assert unknown.line == 23
    assert unknown.message.startswith("<manual> inside <verify> is not a check")
    missing = {d.message for d in diag(result, "gsd-missing-key")}
    assert 'GSD frontmatter has no "must_haves"' in missing


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ('<task type="auto">\n<name>a</name>\n', "<task> is never closed with </task>", 5),
        (
            '<task type="auto">\n<task type="auto"><name>b</name></task>\n</task>\n',
            "<task> opens inside another <task> (started on line 5)",
            6,
        ),
        ("</task>\n", "</task> without an opening <task>", 5),
    ],
)
def test_malformed_gsd_tasks(tmp_path: Path, body: str, message: str, line: int) -> None:
    path = tmp_path / "01-01-PLAN.md"
    path.write_text("---\nphase: 1\nplan: 1\n---\n" + body)
    run = run_cli("validate", path)
    assert run.exit_code == 1
    assert f"{path}:{line}: error[malformed-task] {message}" in run.stdout


SPECKIT = """\
# Tasks: Photo albums

## Phase 1: Setup
- [x] T001 Create project structure in src/app/
- [ ] T002 [P] Configure linting in `pyproject.toml`
- [ ] T003 [P] Configure CI in .github/workflows/ci.yml

## Phase 2: Tests
- [ ] T004 [P] [US1] Contract test in tests/contract/test_albums.py
- [ ] T005 [P] [US1] Integration test in tests/integration/test_upload.py
- [ ] T006 [US1] Album model in src/app/models/album.py (depends on T004, T002)

## Validation
- Run `uv run pytest -q` before every merge
"""


def test_speckit_phases_parallel_markers_and_dependencies(tmp_path: Path) -> None:
    result = load(write(tmp_path / "tasks.md", SPECKIT))
    plan = only(result)
    assert [t.id for t in plan.tasks] == ["T001", "T002", "T003", "T004", "T005", "T006"]
    assert plan.tasks[0].claimed == "done"
    assert plan.tasks[1].name == "Configure linting in pyproject.toml"
    assert plan.tasks[3].name == "Contract test in tests/contract/test_albums.py"
    assert plan.tasks[3].files == ["tests/contract/test_albums.py"]
    waves = [[u.bare_id for u in w] for w in result.graph.waves()]
    assert waves == [["T001"], ["T002", "T003"], ["T004", "T005"], ["T006", "@checks"]]
    assert plan.tasks[5].depends_on == ["T004", "T002"]
    assert [v.run for v in plan.verify] == ["uv run pytest -q"]


def test_checklist_with_5000_items(tmp_path: Path) -> None:
    lines = ["# Big"] + [f"- [{'x' if i % 2 else ' '}] step {i}" for i in range(5000)]
    result = load(write(tmp_path / "big.md", "\n".join(lines) + "\n"))
    plan = only(result)
    assert len(plan.tasks) == 5000
    assert result.graph.units[-1].wave == 5000


PRP = """\
---
name: "feature PRP"
---
# PRP: Add search

## Validation Loop

### Level 1: Syntax & Style
```bash
ruff check src/ --fix  # Auto-fix what's possible
mypy src/

# Expected: No errors. If errors, READ the error and fix.
```

### Level 2: Unit Tests
```bash
uv run pytest test_search.py -v
```

### Level 3: Integration Test
```bash
curl -X POST http://localhost:8000/search \\
  -d '{"q": "x"}'
```

## Final validation Checklist
- [x] All tests pass: `uv run pytest tests/ -v`
- [ ] No linting errors
"""


def test_prp_levels_are_ordered_verify_tasks(tmp_path: Path) -> None:
    result = load(write(tmp_path / "prp.md", PRP))
    plan = only(result)
    assert plan.format == "prp"
    assert plan.metadata == {"name": "feature PRP"}
    levels = [t for t in plan.tasks if t.kind == "auto"]
    assert [(t.id, t.name) for t in levels] == [
        ("level-1", "Level 1: Syntax & Style"),
        ("level-2", "Level 2: Unit Tests"),
        ("level-3", "Level 3: Integration Test"),
    ]
    # A fixer outside its check mode is held as a manual check, never run (stated.py).
    assert [v.run for v in levels[0].verify] == ["mypy src/"]
    held = "`ruff check src/ --fix # Auto-fix what's possible` (not run: it would rewrite"
    assert [t.truth for t in levels[0].must_haves.truths] == [f"{held} the code it judges)"]
    assert (
        levels[2].verify[0].run
        == 'curl -X POST http://localhost:8000/search \\\n  -d \'{"q": "x"}\''
    )
    assert levels[1].depends_on == ["level-1"] and levels[2].depends_on == ["level-2"]
    checks = [t for t in plan.tasks if t.kind == "manual"]
    assert [(t.claimed, t.depends_on) for t in checks] == [("done", []), ("todo", [])]


def test_tasks_milestone_naming_a_missing_task(tmp_path: Path) -> None:
    text = (
        "# Plan\n"
        + "".join(f"### Task {i}: t{i}\n- **Verify**: `true`\n\n" for i in range(1, 5))
        + "## Milestones\n- **Milestone 1**: Everything (Tasks 1-2, Task 9)\n"
    )
    result = load(write(tmp_path / "p.md", text))
    [warning] = diag(result, "unknown-milestone-task")
    assert warning.message == ('milestone "milestone-1" names task "task-9", which does not exist')
    assert warning.line == 15


def test_tasks_reader_statuses_and_fields(tmp_path: Path) -> None:
    text = """\
    # P
    ### Task 1: a
    - **Status**: 🔄 In progress
    - **Test command**: `pytest -q`
    ### Task 2: b
    - **Status**: Shipped-ish
    - **Dependencies**: Task 1, Task 1
    - **Colour**: blue
    - **Verify**: Check it by hand
    """
    result = load(write(tmp_path / "p.md", text))
    plan = only(result)
    assert plan.tasks[0].claimed == "in_progress"
    assert [v.run for v in plan.tasks[0].verify] == ["pytest -q"]
    assert plan.tasks[1].depends_on == ["task-1"]
    assert diag(result, "unknown-status")[0].line == 6
    assert (
        diag(result, "ignored-content")[0].message
        == 'field "colour" is not one planrun reads; ignored'
    )
    assert diag(result, "prose-verify")[0].line == 9


def test_each_file_is_parsed_as_markdown_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every reader's detect looks at the body; they share one parse (Document.parsed).
    parsed: list[int] = []
    real = markdown.parse

    def counting(text: str, first_line: int) -> markdown.Body:
        parsed.append(first_line)
        return real(text, first_line)

    monkeypatch.setattr(markdown, "parse", counting)
    (tmp_path / "tasks.md").write_text(
        "# Tasks\n\n- [ ] T001 Create src/app.py\n- [ ] T002 Run `pytest -q`\n", encoding="utf-8"
    )
    result = validate_paths([tmp_path / "tasks.md"])
    assert [p.format for p in result.plans] == ["checklist"]
    assert parsed == [1]
