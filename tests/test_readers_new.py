"""The Backlog.md, Task Master and Cursor readers, on small fixtures written for them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli
from planrun.diagnostics import Diagnostic
from planrun.model import Plan, Task
from planrun.readers.criteria import criterion_commands
from planrun.validate import Validation, validate_paths
from test_convert import essence


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def diag(result: Validation, code: str) -> list[Diagnostic]:
    return [d for d in result.diagnostics.items if d.code == code]


def task(plan: Plan, task_id: str) -> Task:
    return next(t for t in plan.tasks if t.id == task_id)


def truths(t: Task) -> list[tuple[str, list[str]]]:
    return [(x.truth, [v.run for v in x.verify]) for x in t.must_haves.truths]


# -- Backlog.md ------------------------------------------------------------------------------

LOGIN = """\
---
id: task-2
title: Add login
status: In Progress
assignee:
  - '@alice'
labels: [auth]
dependencies:
  - TASK-1
---

## Description

<!-- SECTION:DESCRIPTION:BEGIN -->
Users log in with a password.
- [ ] not a criterion: a checkbox in the description
<!-- SECTION:DESCRIPTION:END -->

## Acceptance Criteria
<!-- AC:BEGIN -->
- [ ] #1 `pytest -q tests/test_login.py` passes
- [x] #2 A wrong password shows an error
- [ ] #3 `grep -c TODO src/login.py` returns 0
<!-- AC:END -->

## Definition of Done
<!-- DOD:BEGIN -->
- [ ] #1 `ruff check src` passes
<!-- DOD:END -->
"""

SETUP = """\
---
id: task-1
title: Set up
status: Done
---

## Acceptance Criteria
<!-- AC:BEGIN -->
- [x] #1 The package imports
<!-- AC:END -->
"""

REPORT = """\
---
id: task-3
title: Report
status: To Do
dependencies: [2]
---
"""


def backlog(tmp_path: Path) -> Path:
    root = tmp_path / "backlog"
    write(root / "tasks" / "task-2 - Add login.md", LOGIN)
    write(root / "tasks" / "task-3 - Report.md", REPORT)
    write(root / "completed" / "task-1 - Set up.md", SETUP)
    return root


def test_backlog_folder_is_one_plan_with_frontmatter_dependencies(tmp_path: Path) -> None:
    result = validate_paths([backlog(tmp_path)])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    [plan] = result.plans
    assert (plan.id, plan.format) == ("backlog", "backlog")
    assert [t.id for t in plan.tasks] == ["task-1", "task-2", "task-3"]
    # "TASK-1" and "2" name the backlog's tasks task-1 and task-2.
    assert task(plan, "task-2").depends_on == ["task-1"]
    assert task(plan, "task-3").depends_on == ["task-2"]
    assert [t.claimed for t in plan.tasks] == ["done", "in_progress", "todo"]
    assert task(plan, "task-2").owner == "alice"
    assert task(plan, "task-2").name == "Add login"
    waves = [[u.bare_id for u in w] for w in result.graph.waves()]
    assert waves == [["task-1"], ["task-2"], ["task-3"]]


def test_backlog_criteria_are_truths_and_only_plain_commands_run(tmp_path: Path) -> None:
    [plan] = validate_paths([backlog(tmp_path)]).plans
    assert truths(task(plan, "task-2")) == [
        ("pytest -q tests/test_login.py passes", ["pytest -q tests/test_login.py"]),
        ("A wrong password shows an error", []),
        # What a count should be is not an exit code: a person checks it.
        ("grep -c TODO src/login.py returns 0", []),
        ("ruff check src passes", ["ruff check src"]),
    ]
    assert truths(task(plan, "task-1")) == [("The package imports", [])]


def test_backlog_reports_what_it_does_not_read_with_its_line(tmp_path: Path) -> None:
    root = backlog(tmp_path)
    result = validate_paths([root])
    [stray] = diag(result, "ignored-content")
    assert stray.file.endswith("task-2 - Add login.md")
    assert stray.line == 16
    assert "a checkbox outside Acceptance Criteria / Definition of Done is not read" in (
        stray.message
    )
    # Graph and lint diagnostics point at the task's own file, not the folder.
    [no_verify] = diag(result, "no-verify")
    assert no_verify.file.endswith("task-3 - Report.md")
    assert no_verify.line == 2


def test_backlog_file_alone_reports_the_dependency_it_cannot_check(tmp_path: Path) -> None:
    root = backlog(tmp_path)
    result = validate_paths([root / "tasks" / "task-2 - Add login.md"])
    assert result.ok
    [plan] = result.plans
    assert plan.id == "backlog"  # the same id as the folder's plan: results are shared
    assert plan.tasks[0].depends_on == []
    [ext] = diag(result, "external-dependency")
    assert ext.severity == "warning"
    assert ext.line == 9
    assert 'depends on "TASK-1", whose file was not loaded' in ext.message


def test_backlog_dependency_on_no_file_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path / "backlog" / "tasks" / "task-5 - X.md", REPORT.replace("[2]", "[task-9]")
    )
    result = validate_paths([path])
    assert not result.ok
    assert (
        'depends on "task-9", which does not exist' in diag(result, "unknown-dependency")[0].message
    )


def test_backlog_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    root = backlog(tmp_path)
    write(root / "drafts" / "task-1 - Again.md", SETUP)
    [dup] = diag(validate_paths([root]), "duplicate-id")
    assert dup.file.endswith("task-1 - Again.md")
    assert "first on " in dup.message
    assert "task-1 - Set up.md:2" in dup.message


def test_backlog_archive_is_skipped_and_status_checked(tmp_path: Path) -> None:
    root = backlog(tmp_path)
    write(root / "archive" / "tasks" / "task-7 - Old.md", SETUP.replace("task-1", "task-7"))
    write(root / "tasks" / "task-4 - Odd.md", REPORT.replace("To Do", "Someday"))
    result = validate_paths([root])
    skipped = diag(result, "not-a-plan")
    assert any("archived Backlog.md task" in d.message for d in skipped)
    [plan] = result.plans
    assert "task-7" not in [t.id for t in plan.tasks]
    [status] = diag(result, "unknown-status")
    assert status.line == 4
    assert "status 'Someday' is not one planrun knows" in status.message


def test_backlog_parent_waits_for_its_subtasks(tmp_path: Path) -> None:
    root = backlog(tmp_path)
    write(
        root / "tasks" / "task-2.1 - Form.md",
        "---\nid: task-2.1\ntitle: Form\nstatus: Done\nparent_task_id: task-2\n"
        "dependencies:\n  - {id: task-1}\n---\n",
    )
    result = validate_paths([root])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    [plan] = result.plans
    assert task(plan, "task-2").depends_on == ["task-1", "task-2.1"]
    [bad] = diag(result, "ignored-content")[1:]
    assert (bad.line, bad.message) == (7, "dependency {'id': 'task-1'} is not a task id; ignored")


def test_backlog_decisions_and_docs_are_not_tasks(tmp_path: Path) -> None:
    root = backlog(tmp_path)
    decision = "---\nid: decision-1\ntitle: Use SQLite\nstatus: accepted\n---\n## Context\n"
    write(root / "decisions" / "decision-1 - Use SQLite.md", decision)
    write(root / "docs" / "doc-1 - Setup.md", "---\nid: doc-1\ntitle: Setup\nstatus: x\n---\n")
    result = validate_paths([root])
    assert [p.id for p in result.plans] == ["backlog"]
    skipped = {Path(d.file).name for d in diag(result, "not-a-plan")}
    assert skipped == {"decision-1 - Use SQLite.md", "doc-1 - Setup.md"}


def test_backlog_is_not_guessed_for_any_id_title_status_file(tmp_path: Path) -> None:
    path = write(tmp_path / "plan.md", "---\nid: feat-1\ntitle: A\nstatus: done\n---\nText\n")
    assert [d.code for d in validate_paths([path]).diagnostics.items] == ["unrecognized-plan"]


def test_backlog_executes_runnable_criteria(tmp_path: Path) -> None:
    write(
        tmp_path / "backlog" / "tasks" / "task-1 - Ok.md",
        """\
        ---
        id: task-1
        title: Ok
        status: Done
        ---
        ## Acceptance Criteria
        - [x] #1 `python -c "import json"` succeeds
        - [x] #2 It looks right
        """,
    )
    write(
        tmp_path / "backlog" / "tasks" / "task-2 - Bad.md",
        """\
        ---
        id: task-2
        title: Bad
        status: Done
        dependencies: [task-1]
        ---
        ## Acceptance Criteria
        - [x] #1 `python -c "import no_such_module_here"` succeeds
        """,
    )
    run = run_cli("execute", tmp_path / "backlog", "--root", tmp_path, "--json", "--no-summary")
    status = {t["id"]: t["status"] for t in json.loads(run.stdout)["tasks"]}
    assert status == {"backlog/task-1": "passed", "backlog/task-2": "failed"}
    assert run.exit_code == 1


def test_backlog_convert_single_file_and_folder(tmp_path: Path) -> None:
    root = backlog(tmp_path)
    one = run_cli("convert", root / "tasks" / "task-2 - Add login.md")
    assert one.exit_code == 0
    assert one.stdout.startswith("---\nplanrun: 1\nid: backlog\n")
    assert "- id: task-2\n  name: Add login\n" in one.stdout
    whole = run_cli("convert", root)
    assert whole.exit_code == 0
    assert "  depends_on:\n  - task-1\n" in whole.stdout


# -- Task Master ----------------------------------------------------------------------------

TAGGED = {
    "master": {
        "tasks": [
            {
                "id": 1,
                "title": "Set up the project",
                "status": "done",
                "dependencies": [],
                "details": "Create the package with `mkdir app`.",
                "testStrategy": "Run `pytest -q` and check it passes",
                "subtasks": [],
            },
            {
                "id": 2,
                "title": "Login",
                "status": "in-progress",
                "dependencies": [1],
                "testStrategy": "Log in by hand with a wrong password",
                "subtasks": [
                    {"id": 1, "title": "Form", "status": "done", "dependencies": []},
                    {"id": 2, "title": "Session", "status": "pending", "dependencies": [1]},
                    {"id": 3, "title": "Logout", "status": "review", "dependencies": ["2.2"]},
                ],
            },
        ],
        "metadata": {"created": "2025-01-01"},
    },
    "feature-x": {"tasks": [{"id": 1, "title": "X", "status": "deferred", "dependencies": []}]},
}


def taskmaster(tmp_path: Path, data: object = TAGGED) -> Path:
    path = tmp_path / ".taskmaster" / "tasks" / "tasks.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def test_taskmaster_tagged_json_is_one_plan_per_tag(tmp_path: Path) -> None:
    result = validate_paths([taskmaster(tmp_path)])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    master, feature = result.plans
    assert (master.id, feature.id) == ("taskmaster", "taskmaster-feature-x")
    assert master.format == "taskmaster"
    assert [t.id for t in master.tasks] == ["1", "2", "2.1", "2.2", "2.3"]
    # A parent is done when its subtasks are; they wait for what it waits for.
    assert task(master, "2").depends_on == ["1", "2.1", "2.2", "2.3"]
    assert task(master, "2.1").depends_on == ["1"]
    assert task(master, "2.2").depends_on == ["1", "2.1"]  # a bare number: a sibling subtask
    assert task(master, "2.3").depends_on == ["1", "2.2"]
    assert [t.claimed for t in master.tasks] == [
        "done",
        "in_progress",
        "done",
        "todo",
        "in_progress",
    ]
    assert truths(task(master, "1")) == [("Run pytest -q and check it passes", ["pytest -q"])]
    assert truths(task(master, "2")) == [("Log in by hand with a wrong password", [])]
    # Lines point into the JSON.
    assert task(master, "2").line == 13
    [no_verify] = [d for d in diag(result, "no-verify") if 'task "2"' in d.message]
    assert no_verify.line == 13


def test_taskmaster_flat_form(tmp_path: Path) -> None:
    path = taskmaster(tmp_path, {"tasks": TAGGED["master"]["tasks"]})  # type: ignore[index]
    [plan] = validate_paths([path]).plans
    assert plan.id == "taskmaster"
    assert len(plan.tasks) == 5


def test_taskmaster_folder_scan_finds_tasks_json_and_still_reads_markdown(tmp_path: Path) -> None:
    taskmaster(tmp_path)
    write(tmp_path / ".taskmaster" / "tasks" / "task_001.md", "# Task ID: 1\n# Title: Set up\n")
    write(tmp_path / "other" / "tasks.json", '{"tasks": [{"id": 1}]}')
    write(
        tmp_path / "plans" / "p.md", "---\nplanrun: 1\ntasks:\n  - {id: a, verify: 'true'}\n---\n"
    )
    result = validate_paths([tmp_path])
    assert sorted(p.id for p in result.plans) == ["p", "taskmaster", "taskmaster-feature-x"]
    [generated] = [d for d in diag(result, "not-a-plan") if "task_001.md" in d.file]
    assert "generated by Task Master from" in generated.message


def test_taskmaster_folder_scan_from_inside_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = taskmaster(tmp_path)
    monkeypatch.chdir(path.parent)
    result = validate_paths([Path()])
    assert [p.id for p in result.plans] == ["taskmaster", "taskmaster-feature-x"]


def test_taskmaster_generated_markdown_without_json(tmp_path: Path) -> None:
    folder = tmp_path / "tm"
    write(
        folder / "task_001.md",
        """\
        # Task ID: 1
        # Title: Set up
        # Status: done
        # Dependencies: None
        # Test Strategy:
        Run `pytest -q` and check it passes.
        """,
    )
    write(
        folder / "task_003.md",
        """\
        # Task ID: 3
        # Title: Login
        # Status: pending
        # Dependencies: 1 ✓, 2
        # Priority: high
        # Details:
        Sessions in `app/session.py`.

        # Test Strategy:
        Log in by hand.

        # Subtasks:
        ## 1. Form [done]
        ### Dependencies: None
        ### Description: The form.

        ## 3.2. Session [in-progress]
        ### Dependencies: 3.1
        """,
    )
    write(folder / "task_002.md", "# Task ID: 2\n# Title: Models\n# Status: pending\n")
    result = validate_paths([folder])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    [plan] = result.plans
    assert [t.id for t in plan.tasks] == ["1", "2", "3", "3.1", "3.2"]
    assert task(plan, "3").depends_on == ["1", "2", "3.1", "3.2"]
    assert task(plan, "3.2").depends_on == ["1", "2", "3.1"]
    assert [t.claimed for t in plan.tasks] == ["done", "todo", "todo", "done", "in_progress"]
    assert truths(task(plan, "1")) == [("Run pytest -q and check it passes.", ["pytest -q"])]
    assert truths(task(plan, "3")) == [("Log in by hand.", [])]
    alone = validate_paths([folder / "task_003.md"])
    assert alone.ok
    assert [d.line for d in diag(alone, "external-dependency")] == [4, 4]


def test_taskmaster_markdown_dependencies_that_name_no_task(tmp_path: Path) -> None:
    path = write(tmp_path / "task_004.md", "# Task ID: 4\n# Dependencies: the auth work\n")
    result = validate_paths([path])
    [note] = diag(result, "ignored-content")
    assert (note.line, note.message) == (
        2,
        "dependencies 'the auth work' name no task id; read as none",
    )


def test_taskmaster_subtask_on_its_parent_is_reported(tmp_path: Path) -> None:
    data = {"tasks": [{"id": 4, "title": "A", "subtasks": [{"id": 1, "dependencies": [4]}]}]}
    result = validate_paths([taskmaster(tmp_path, data)])
    assert result.ok
    [note] = diag(result, "ignored-content")
    assert 'subtask "4.1" depends on its own parent task "4"' in note.message


def test_taskmaster_convert_picks_a_tag(tmp_path: Path) -> None:
    path = taskmaster(tmp_path)
    several = run_cli("convert", path)
    assert several.exit_code == 2
    assert "holds 2 plans (taskmaster, taskmaster-feature-x)" in several.stderr
    one = run_cli("convert", path, "--plan", "taskmaster-feature-x")
    assert one.exit_code == 0
    assert one.stdout.startswith("---\nplanrun: 1\nid: taskmaster-feature-x\n")
    assert "~~~~json\n{" in one.stdout


# -- Cursor plans ---------------------------------------------------------------------------

CURSOR = """\
---
name: Dark mode
overview: A theme toggle
todos:
  - id: theme-context
    content: Create the theme context in `src/theme/context.tsx`
    status: completed
  - id: toggle
    content: Add the toggle
    status: in_progress
    blockedBy: [theme-context]
    priority: high
  - id: docs
    content: Document it
    status: someday
    dependencies: [toggle]
---

# Dark mode

## Testing approach

```bash
npm install --save-dev vitest
```

## Verification

```bash
npm test
npx tsc --noEmit
```
"""


def test_cursor_plan_todos_are_tasks(tmp_path: Path) -> None:
    path = write(tmp_path / ".cursor" / "plans" / "dark-mode_1a2b.plan.md", CURSOR)
    result = validate_paths([tmp_path])
    [plan] = result.plans
    assert (plan.id, plan.title, plan.format) == ("dark-mode_1a2b", "Dark mode", "cursor")
    assert [t.id for t in plan.tasks] == ["theme-context", "toggle", "docs"]
    assert [t.claimed for t in plan.tasks] == ["done", "in_progress", "todo"]
    assert task(plan, "toggle").depends_on == ["theme-context"]
    assert task(plan, "docs").depends_on == ["toggle"]
    assert task(plan, "theme-context").files == ["src/theme/context.tsx"]
    # Only the Verification section's commands are checks; setup under "Testing approach" is not.
    assert [v.run for v in plan.verify] == ["npm test", "npx tsc --noEmit"]
    [key] = diag(result, "ignored-content")
    assert (key.line, key.message) == (12, 'todo key "priority" is not one planrun reads; ignored')
    [status] = diag(result, "unknown-status")
    assert status.line == 13
    assert path.name in status.file


def test_cursor_convert(tmp_path: Path) -> None:
    path = write(tmp_path / "p.plan.md", CURSOR)
    run = run_cli("convert", path)
    assert run.exit_code == 0
    assert "- id: toggle\n  name: Add the toggle\n  depends_on:\n  - theme-context\n" in run.stdout


# -- examples/ ------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NEW_EXAMPLES = {
    "backlog": EXAMPLES / "backlog" / "backlog",
    "taskmaster": EXAMPLES / "taskmaster" / ".taskmaster" / "tasks" / "tasks.json",
    "cursor": EXAMPLES / "cursor" / ".cursor" / "plans" / "album-sharing_5f3c.plan.md",
    "tasks": EXAMPLES / "tasks" / "TASKS.md",
}


def test_examples_validate_without_errors() -> None:
    result = validate_paths([EXAMPLES])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    formats = {p.format for p in result.plans}
    assert {"backlog", "taskmaster", "cursor", "tasks", "gsd", "checklist", "prp"} <= formats


@pytest.mark.parametrize("fmt", sorted(NEW_EXAMPLES))
def test_examples_convert_and_read_back_the_same(fmt: str, tmp_path: Path) -> None:
    source = NEW_EXAMPLES[fmt]
    [original] = validate_paths([source]).plans
    assert original.format == fmt
    run = run_cli("convert", source)
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "converted.md"
    out.write_text(run.stdout)
    result = validate_paths([out])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    [again] = result.plans
    assert again.format == "planrun"
    assert essence(again) == essence(original)


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        ("`uv run pytest -q` passes", ["uv run pytest -q"]),
        ("`npm run lint` and `npm test` succeed", ["npm run lint", "npm test"]),
        ("Run `./scripts/check.sh`", ["./scripts/check.sh"]),
        ("`grep -c TODO src` returns 0", []),
        ("`npm test` fails before the fix", []),
        ("`npm test` or `yarn test` passes", []),
        ("Run `npm test`, then check the page manually in the browser", []),
        ("Supports the `--verbose` flag", []),
        ("`config.yaml` is created", []),
        ("A wrong password shows an error", []),
    ],
)
def test_criterion_commands_are_conservative(text: str, commands: list[str]) -> None:
    assert criterion_commands(text) == commands
