"""Checks derived from what a task names, for tasks without a verify of their own."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli
from planrun.checkform import check_form
from planrun.expectations import (
    Expectation,
    for_command,
    from_comment,
    from_prose,
    judge_output,
)
from planrun.model import Task
from planrun.validate import validate_paths

GIT = shutil.which("git") or "git"


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A work tree (a .git folder makes it the root) holding ``files``."""
    (tmp_path / ".git").mkdir()
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


def committed(root: Path, *names: str) -> None:
    """Make ``root`` a real git repository whose only commit holds ``names``."""
    (root / ".git").rmdir()
    for args in (
        ["init", "-q"],
        ["add", "--", *names],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "plan"],
    ):
        subprocess.run([GIT, *args], cwd=root, check=True, capture_output=True)


def tasks(path: Path, *, derive: bool = True) -> dict[str, Task]:
    result = validate_paths([path], derive=derive)
    assert result.ok, [d.format() for d in result.diagnostics.items]
    return {t.id: t for p in result.plans for t in p.tasks}


def derived(task: Task) -> list[str]:
    out = []
    for art in task.must_haves.artifacts:
        assert art.derived
        out.append(f"{art.path} contains {art.contains}" if art.contains else art.path)
    for cmd in task.verify:
        assert cmd.derived
        out.append(f"$ {cmd.run}" + (f" [{cmd.expect_output}]" if cmd.expect_output else ""))
    return out


TASKS = """\
# Tasks: todo app

## Phase 1
- [X] T001 Create project structure: src/, tests/, docs/
- [X] T002 [P] Create Task model in src/models/task.py
- [X] T003 Implement `save_task()` in `src/store.py`
- [X] T004 Add the API contract in contracts/api.yaml
- [X] T005 Run `pytest -q tests/unit` and fix what fails
  **Checkpoint**: `ruff check --fix src` passes
- [X] T006 Install dependencies with `npm install`
- [X] T007 Remove the legacy module src/legacy.py
- [X] T008 Write the report in report.md and build output in dist/app.js
- [X] T009 Write failing tests in tests/test_x.py; run `pytest tests/test_x.py` and ensure they fail
- [X] T010 Format with `black src/` and `prettier --write web/`
- [X] T011 Count lines with `wc -l src/a.py`
"""


def test_checks_derived_from_a_speckit_checklist(tmp_path: Path) -> None:
    root = repo(tmp_path, {"specs/001-todo/tasks.md": TASKS, ".gitignore": "secret/\n"})
    found = tasks(root / "specs/001-todo/tasks.md")
    assert derived(found["T001"]) == ["src/", "tests/", "docs/"]
    assert derived(found["T002"]) == ["src/models/task.py"]
    assert derived(found["T003"]) == ["src/store.py contains save_task"]
    # spec-kit's contracts/ is relative to the feature folder, not the repository.
    assert derived(found["T004"]) == ["specs/001-todo/contracts/api.yaml"]
    # A fixer on a Checkpoint line runs in check mode: never rewrites what it judges.
    assert derived(found["T005"]) == ["$ pytest -q tests/unit", "$ ruff check src"]
    assert derived(found["T006"]) == []  # an installer is not a check
    assert derived(found["T007"]) == []  # a removed file must not exist: nothing derived
    assert derived(found["T008"]) == []  # a bare name, and a build output
    assert derived(found["T009"]) == ["tests/test_x.py"]  # a red step's run is not a check
    assert derived(found["T010"]) == ["$ black --check src/", "$ prettier --check web/"]
    assert derived(found["T011"]) == []  # wc passes whatever it counts


def test_derivation_can_be_turned_off(tmp_path: Path) -> None:
    root = repo(tmp_path, {"tasks.md": TASKS})
    assert all(not t.has_checks for t in tasks(root / "tasks.md", derive=False).values())
    run = run_cli("validate", root / "tasks.md", "--no-derive", "--json")
    codes = {d["code"] for d in json.loads(run.stdout)["diagnostics"]}
    assert "derived-checks" not in codes
    assert "claimed-done-unverified" in codes


def test_config_turns_derivation_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path, {"tasks.md": TASKS, "planrun.toml": "derive = false\n"})
    monkeypatch.chdir(root)
    run = run_cli("validate", "tasks.md", "--json")
    codes = {d["code"] for d in json.loads(run.stdout)["diagnostics"]}
    assert "derived-checks" not in codes


def test_convert_keeps_derived_checks_labelled(tmp_path: Path) -> None:
    root = repo(tmp_path, {"tasks.md": TASKS})
    run = run_cli("convert", root / "tasks.md")
    assert run.exit_code == 0, run.stderr
    assert "- path: src/models/task.py\n      derived: true\n" in run.stdout
    converted = root / "converted.md"
    converted.write_text(run.stdout)
    assert derived(tasks(converted)["T002"]) == ["src/models/task.py"]
    # --no-derive drops what a converted plan labels derived, as it does at the source.
    assert not tasks(converted, derive=False)["T002"].has_checks
    plain = run_cli("convert", root / "tasks.md", "--no-derive")
    assert "derived: true" not in plain.stdout


def test_a_task_with_its_own_verify_gets_nothing_derived(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "p.md": """\
            ### Task 1: Create src/a.py
            - **Verify**: `test -f src/a.py`
            """
        },
    )
    [task] = tasks(root / "p.md").values()
    assert [c.run for c in task.verify] == ["test -f src/a.py"]
    assert not task.derived


def test_derived_checks_are_labelled_in_every_report(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "tasks.md": """\
            - [x] T001 Create the model in src/models/task.py
            - [x] T003 Count the TODOs: `grep -c TODO src/models/task.py` (expect 2)
            - [x] T002 Create the view in src/views/task.py
            """,
            "src/models/task.py": "# TODO one\n# TODO two\n",
        },
    )
    committed(root, "tasks.md")  # the base: the files were written after the plan
    run = run_cli("execute", root / "tasks.md", "--json")
    assert run.exit_code == 1, run.output
    doc = json.loads(run.stdout)
    by_id = {t["id"].rpartition("/")[2]: t for t in doc["tasks"]}
    assert by_id["T001"]["status"] == "passed"
    assert by_id["T001"]["derived"] is True
    assert by_id["T001"]["checks"][0]["derived"] is True
    assert by_id["T002"]["status"] == "failed"
    assert by_id["T002"]["reason"] == "src/views/task.py does not exist"
    assert by_id["T003"]["status"] == "passed"
    [command] = by_id["T003"]["commands"]
    assert (command["expect_output"], command["output_found"]) == ("count == 2", "count 2")
    assert command["derived"] is True
    summary = (root / "SUMMARY.md").read_text()
    # The false claim (claimed done, verification says otherwise) is listed first.
    false_claims = summary.split("## False claims", 1)[1].split("##", 1)[0]
    assert "`tasks/T002` Create the view in src/views/task.py *(derived checks)*" in false_claims
    assert "artifact (derived) `src/models/task.py`" in summary
    text = run_cli("status", root / "tasks.md")
    assert re.search(r"PASS +tasks/T001 .*\[derived checks\]", text.stdout)


@pytest.mark.parametrize(
    ("command", "checked"),
    [
        ("black src", "black --check src"),
        ("black --check src", "black --check src"),
        ("ruff check --fix .", "ruff check ."),
        ("ruff format src", "ruff format --check src"),
        ("eslint --fix src", "eslint src"),
        ("prettier --write .", "prettier --check ."),
        ("isort .", "isort --check-only ."),
        ("cargo fmt", "cargo fmt --check"),
        ("pytest -q", "pytest -q"),
        ("npm install", None),
        ("npm run dev", None),
        ("cargo tauri dev", None),
        ("git commit -am x", None),
        ("mkdir -p src", None),
        ("black src && pytest", None),
        ("python gen.py > out.txt", None),
        ("python scripts/seed_db.py", None),
        ("export default App", None),
        ("uv run pytest -q", "uv run pytest -q"),
        ("npm run test:unit", "npm run test:unit"),
        ("npx tsc --noEmit", "npx tsc --noEmit"),
    ],
)
def test_commands_are_checks_only_in_check_mode(command: str, checked: str | None) -> None:
    assert check_form(command)[0] == checked


@pytest.mark.parametrize(
    ("prose", "expect"),
    [
        ("returns 0", Expectation(output="count == 0")),
        ("returns no matches", Expectation(output="empty")),
        ("should find nothing", Expectation(output="empty")),
        ("(expect 3)", Expectation(output="count == 3")),
        ("returns >= 3", Expectation(output="count >= 3")),
        ("Expected: FAIL", Expectation(fails=True)),
        ("to verify no type errors.", Expectation()),
        # A symbol needs no word before it; "zero" is a number; "must be empty" is nothing.
        ("== 0", Expectation(output="count == 0")),
        ("-> 0", Expectation(output="count == 0")),
        ("→ 2", Expectation(output="count == 2")),
        ("should equal zero", Expectation(output="count == 0")),
        ("is zero", Expectation(output="count == 0")),
        ("must be empty", Expectation(output="empty")),
        ("!= 0", Expectation(output="count != 0")),
        # Turned round by a not: no expectation (prose.outcome holds the command).
        ("must not equal 0", Expectation()),
        ("should never return 0", Expectation()),
    ],
)
def test_expectations_in_prose(prose: str, expect: Expectation) -> None:
    assert from_prose(prose) == expect


def test_expectations_in_comments() -> None:
    assert from_comment("# EXPECT EMPTY") == Expectation(output="empty")
    assert from_comment("# expect 1") == Expectation(output="count == 1")
    assert from_comment("# should print nothing") == Expectation(output="empty")
    assert from_comment("# list the files") == Expectation()


@pytest.mark.parametrize(
    ("expect", "exit_code", "output", "ok", "found"),
    [
        ("empty", 1, b"", True, "no output"),
        ("empty", 1, b"0\n", True, "no matches"),
        ("empty", 0, b"a.py:1:TODO\n", False, "output 'a.py:1:TODO'"),
        ("empty", 2, b"", False, "exit 2"),
        ("count == 0", 1, b"0\n", True, "count 0"),
        ("count == 3", 0, b"a.py:1\nb.py:2\n", True, "count 3"),
        ("count >= 3", 0, b"x\ny\n", False, "count 2"),
        ("count == 8", 0, b"8 tests/test_a.py\n", True, "count 8"),
    ],
)
def test_judge_output(expect: str, exit_code: int, output: bytes, ok: bool, found: str) -> None:
    assert judge_output(expect, exit_code, output) == (ok, found)


@pytest.mark.parametrize(
    ("command", "prose", "expect"),
    [
        ("grep -c TODO src/a.py", "returns 0", Expectation(output="count == 0")),
        ("grep -q TODO src/a.py", "returns 0", Expectation()),
        ("grep -rq TODO src", "returns no matches", Expectation(fails=True)),
        ("pytest -q", "returns no errors", Expectation()),
        ("pytest -q", "(expect 12 tests)", Expectation()),
        ("grep -rn x src | wc -l", "returns >= 3", Expectation(output="count >= 3")),
    ],
)
def test_expectations_apply_to_what_the_command_prints(
    command: str, prose: str, expect: Expectation
) -> None:
    assert for_command(command, from_prose(prose)) == expect


def test_multi_file_plans_get_derived_checks_from_each_task_file(tmp_path: Path) -> None:
    # A Backlog.md folder is one plan read from several files: each task's own file is its text.
    root = repo(
        tmp_path,
        {
            "backlog/tasks/task-1 - Model.md": """\
            ---
            id: task-1
            title: Album model
            status: Done
            ---

            ## Description

            <!-- SECTION:DESCRIPTION:BEGIN -->
            The model lives in `src/models/album.py`; implement `Album` in `src/models/album.py`.
            <!-- SECTION:DESCRIPTION:END -->
            """,
            "backlog/tasks/task-2 - Page.md": """\
            ---
            id: task-2
            title: Album page
            status: Done
            dependencies: [task-1]
            ---

            ## Description

            The page in src/pages/album.tsx.
            """,
            ".taskmaster/tasks/tasks.json": json.dumps(
                {
                    "master": {
                        "tasks": [
                            {
                                "id": 1,
                                "title": "Create src/api/share.py",
                                "status": "done",
                                "dependencies": [],
                                "details": "Not read for derivation: src/other.py",
                            }
                        ]
                    }
                }
            ),
        },
    )
    result = validate_paths([root / "backlog", root / ".taskmaster"])
    found = {t.id: t for p in result.plans for t in p.tasks}
    assert derived(found["task-1"]) == ["src/models/album.py contains Album"]
    assert derived(found["task-2"]) == ["src/pages/album.tsx"]
    assert derived(found["1"]) == ["src/api/share.py"]
    notes = [(d.file, d.line) for d in result.diagnostics.items if d.code == "derived-checks"]
    assert notes == [
        (str(root / "backlog/tasks/task-1 - Model.md"), 2),
        (str(root / "backlog/tasks/task-2 - Page.md"), 2),
        (str(root / ".taskmaster/tasks/tasks.json"), 1),  # json.dumps writes one line
    ]
    # Off means off for multi-file plans too.
    off = validate_paths([root / "backlog"], derive=False)
    assert not any(t.has_checks for p in off.plans for t in p.tasks)


def test_derived_checks_alone_are_no_evidence_without_a_change(tmp_path: Path) -> None:
    # "src/app.py exists" and "contains rate_limit" hold before the work is done too.
    root = repo(
        tmp_path,
        {
            "src/app.py": "x = 1\n# TODO: def rate_limit\n",
            "tasks.md": """\
            - [ ] T001 Add rate limiting to `src/app.py`
            - [ ] T002 Implement `rate_limit()` in `src/app.py`
            """,
        },
    )
    run = run_cli("execute", root / "tasks.md", "--json", "--no-summary")
    reasons = {t["id"]: (t["status"], t["reason"]) for t in json.loads(run.stdout)["tasks"]}
    no_base = (
        "unverified",
        (
            "its only checks are derived from its text, and no base shows its files changed "
            "(commit the plan, or pass --base)"
        ),
    )
    assert reasons["tasks/T001"] == no_base
    assert reasons["tasks/T002"][1].startswith(no_base[1])  # then "depends on unverified"
    committed(root, "src/app.py")  # the code was there before the plan was written
    for args in (
        ["add", "tasks.md"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "plan"],
    ):
        subprocess.run([GIT, *args], cwd=root, check=True, capture_output=True)
    run = run_cli("execute", root / "tasks.md", "--json", "--no-summary")
    [first, _] = json.loads(run.stdout)["tasks"]
    assert first["status"] == "unverified"
    assert first["reason"].startswith(
        "its only checks are derived from its text, and none of its files changed since "
    )


@pytest.mark.parametrize(
    "command",
    [
        "pytest -q tests/ && rm -rf /tmp/somewhere",
        "pytest -q tests/ && git clean -fdx",
        "test -f $(rm -rf x)",
        "pytest && cat x > y",
        "npm run lint -- --fix",
        "npx eslint . --fix",
        "cargo clippy --fix",
        "jest -u",
        "npm test -- -u",
        "pytest --snapshot-update",
        "black src/ && pytest",
    ],
)
def test_a_chain_is_a_check_only_when_every_command_in_it_is_one(command: str) -> None:
    assert check_form(command)[0] is None


@pytest.mark.parametrize(
    "command",
    ["pytest -q | tail -5", "cargo test && cargo clippy", "ruff check . && ruff format --check ."],
)
def test_checks_in_a_chain_stay_checks(command: str) -> None:
    assert check_form(command) == (command, "")


REMOVALS = """\
# Tasks

## Phase 1
- [x] T001 Drop the `test -f config/legacy.yml` guard from the deploy script
- [x] T002 Delete the obsolete `grep -q LEGACY_MODE src/settings.py` check from CI
- [x] T003 Remove the flaky
  `pytest tests/test_legacy.py` suite
- [x] T004 Replace `npm run build:old` with the vite build
- [x] T005 Remove the legacy module
  **Checkpoint**: `pytest -q tests/unit` passes
- [x] T006 Do not run `npm run e2e` by hand, wire it into CI
- [x] T007 Make sure `grep -q LEGACY_MODE src/settings.py` no longer succeeds
- [x] T008 Run `pytest -q tests/api` and fix what fails
"""


def test_nothing_is_derived_from_what_a_task_removes_or_says_not_to_run(tmp_path: Path) -> None:
    root = repo(tmp_path, {"tasks.md": REMOVALS})
    found = tasks(root / "tasks.md")
    # What a task removes is what goes: run, it fails the work done (or passes while the
    # thing to remove is still there).
    assert [derived(found[f"T00{n}"]) for n in range(1, 8)] == [
        [],
        [],
        [],
        [],
        ["$ pytest -q tests/unit"],  # a Checkpoint line states a check of its own
        [],
        [],
    ]
    assert derived(found["T008"]) == ["$ pytest -q tests/api"]
    notes = [
        d.message
        for d in validate_paths([root / "tasks.md"]).diagnostics.items
        if d.code == "not-a-check"
    ]
    assert notes == [
        (
            'task "T001": `test -f config/legacy.yml` is not used as a check: '
            "the task removes, replaces or moves it ('Drop')"
        ),
        (
            'task "T002": `grep -q LEGACY_MODE src/settings.py` is not used as a check: '
            "the task removes, replaces or moves it ('Delete')"
        ),
        (
            'task "T003": `pytest tests/test_legacy.py` is not used as a check: '
            "the task removes, replaces or moves it ('Remove')"
        ),
        (
            'task "T004": `npm run build:old` is not used as a check: '
            "the task removes, replaces or moves it ('Replace')"
        ),
        (
            'task "T006": `npm run e2e` is not used as a check: '
            "the line says not to run it ('Do not run')"
        ),
        (
            'task "T007": `grep -q LEGACY_MODE src/settings.py` is not used as a check: '
            "the task says it must no longer succeed"
        ),
    ]
