"""Prose is never a command: what prose.py takes from a plan, and what the readers run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli
from planrun import prose
from planrun.validate import validate_paths


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("npx tsc --noEmit", True),
        ("uv run pytest", True),
        ("make test", True),
        ("mvn verify", True),
        ("npm run verify", True),
        ("cd sub && make test", True),
        ("./scripts/check.sh", True),
        ("scripts/verify.sh --fast", True),
        ("tests/test_api.py", False),
        ("mytool --strict", True),
        ("/usr/bin/env python3 -c 'print(1)'", True),
        ("/dist", False),
        ("/api/cron/x returns 200", False),
        ("1. Start the server", False),
        ("test the login page by hand", False),
        ("cd into the folder and run make", False),
        ("grep -c TODO src returns 0", False),
        ("All database tests pass", False),
        ("backend/tests/conftest.py", False),
        ("", False),
        # English after the program name, or no shell at all: a sentence, never run.
        ("grep for TODO finds nothing", False),
        ("python tests pass", False),
        ("node server starts fine", False),
        ("kill -9 stray processes if any", False),
        ("pytest tests/ (all passing)", False),
        ("uv run pytest all green", False),
        ("grep for the old name finds nothing", False),
        ('python -c "import json" raises ImportError', False),
        # Real commands stay commands: a word after a flag is its argument.
        ("pytest -q", True),
        ("npm test", True),
        ("cargo test --all", True),
        ("grep -q foo bar.py", True),
        ("pytest -k pass", True),
        ("kill -9 1234", True),
    ],
)
def test_is_command(text: str, expected: bool) -> None:
    assert prose.is_command(text) is expected


def test_a_command_in_a_sentence_keeps_the_sentence_as_its_description() -> None:
    found = prose.extract("- Run `npx tsc --noEmit` to verify no type errors.", 7)
    assert found.commands == [
        prose.Check(7, "npx tsc --noEmit", "Run npx tsc --noEmit to verify no type errors.")
    ]
    assert found.statement is None


def test_a_bare_command_has_no_description() -> None:
    assert prose.extract("- `pytest -q`", 3).commands == [prose.Check(3, "pytest -q", None)]


def test_a_path_in_backticks_is_a_statement() -> None:
    found = prose.extract("- `/api/cron/x` returns 200", 4)
    assert found.commands == []
    assert found.unsure == []
    assert found.statement == "/api/cron/x returns 200"


def test_english_that_starts_like_a_command_is_unsure() -> None:
    found = prose.extract("- `test the login page by hand`", 4)
    assert found.commands == []
    assert found.unsure == ["test the login page by hand"]


def test_the_h1_title_is_not_a_gate_section(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "flaky.md",
        """
        # Flaky Test Fixes

        ## Context
        - We reset the cache with `rm -rf keepme`

        ## Work
        - [ ] Fix the flaky test
        """,
    )
    result = validate_paths([plan])
    [loaded] = result.plans
    assert loaded.verify == []
    assert [t.verify for t in loaded.tasks] == [[]]
    assert loaded.must_haves.truths == []


def test_the_h1_title_never_makes_a_command_run(tmp_path: Path) -> None:
    (tmp_path / "keepme").mkdir()
    write(
        tmp_path,
        "plans/flaky.md",
        """
        # Flaky Test Fixes

        ## Context
        - We reset the cache with `rm -rf keepme`

        ## Validation
        - `test -d keepme`
        """,
    )
    result = run_cli("execute", tmp_path / "plans", "--root", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "keepme").is_dir()
    assert "rm -rf" not in result.stdout
    assert '"run": "test -d keepme"' in result.stdout


def test_a_backticked_command_in_running_prose_is_never_run(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "p.md",
        """
        # Cleanup

        We clean up with `rm -rf build` after each release.

        ## Tasks
        - [ ] Remove `rm -rf dist` from the release script
        """,
    )
    [loaded] = validate_paths([plan]).plans
    assert loaded.verify == []
    assert loaded.tasks[0].verify == []


def test_gate_section_commands_prose_and_unsure_lines(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "p.md",
        """
        # Release

        - [ ] Ship it

        ## Validation
        - Run `npx tsc --noEmit` to verify no type errors.
        - `/dist` exists
        - `/api/cron/x returns 200`
        - `test the login page by hand`
        1. Open the app and click around
        """,
    )
    result = validate_paths([plan])
    [loaded] = result.plans
    assert [(v.run, v.description) for v in loaded.verify] == [
        ("npx tsc --noEmit", "Run npx tsc --noEmit to verify no type errors.")
    ]
    assert [t.truth for t in loaded.must_haves.truths] == [
        "/dist exists",
        "/api/cron/x returns 200",
        "test the login page by hand",
        "Open the app and click around",
    ]
    [warning] = [d for d in result.diagnostics.items if d.code == "prose-verify"]
    assert warning.format() == (
        f"{plan}:9: warning[prose-verify] 'test the login page by hand' reads as prose, "
        "not a command: it is a manual check, not run\n"
        "    hint: put only the command in backticks: `pytest -q`"
    )


def test_tasks_reader_verify_field_takes_only_the_command(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "p.md",
        """
        ### Task 1: Types
        - **Verify**: Run `npx tsc --noEmit` to verify no type errors
        ### Task 2: Manual
        - **Verify**: cd into the app and check it by hand
        """,
    )
    result = validate_paths([plan])
    [loaded] = result.plans
    assert [v.run for v in loaded.tasks[0].verify] == ["npx tsc --noEmit"]
    assert loaded.tasks[1].verify == []
    [warning] = [d for d in result.diagnostics.items if d.code == "prose-verify"]
    assert warning.line == 4


def test_a_numbered_step_is_prose_even_with_a_command_in_it() -> None:
    found = prose.extract("2. Start the server with `npm run dev` and open the page", 5)
    assert found.commands == []
    assert found.unsure == ["npm run dev"]
    assert found.statement == "Start the server with npm run dev and open the page"
    # A numbered line that is only a command is a command.
    assert prose.extract("1. `ruff check .`", 6).commands == [prose.Check(6, "ruff check .")]


def test_gate_lines_under_an_item_belong_to_the_item(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "p.md",
        """
        ## Testing
        - [ ] 1.1 Add tests
          Verification: `pytest -q`
        - `ruff check .`
        """,
    )
    [loaded] = validate_paths([plan]).plans
    assert [v.run for v in loaded.tasks[0].verify] == ["pytest -q"]
    assert [v.run for v in loaded.verify] == ["ruff check ."]


def test_a_prose_verify_field_is_a_manual_truth(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.md", "### Task 1: a\n- **Verify**: check the page by hand\n")
    [loaded] = validate_paths([plan]).plans
    assert [t.truth for t in loaded.tasks[0].must_haves.truths] == ["check the page by hand"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("to verify no type errors.", prose.Outcome()),
        ("and make sure no test fails", prose.Outcome()),
        ("passes", prose.Outcome()),
        ("exits 0", prose.Outcome()),
        ("must not fail", prose.Outcome()),
        ("and make sure nothing fails", prose.Outcome()),
        ("returns exit code 0", prose.Outcome()),
        ("returns exit code 4", prose.Outcome(expect_exit=4)),
        ("(return code 5)", prose.Outcome(expect_exit=5)),
        (
            "finds nothing",
            prose.Outcome(held="is expected to show what exit 0 does not ('finds nothing')"),
        ),
        ("the tests that failed before now pass", prose.Outcome()),
        ("to check no 'module not found' error is left", prose.Outcome()),
        ("exits 1", prose.Outcome(expect_exit=1)),
        ("should exit with code 2", prose.Outcome(expect_exit=2)),
        ("(exit code: 3)", prose.Outcome(expect_exit=3)),
        (
            "raises ImportError",
            prose.Outcome(
                held="is expected to fail ('raises ImportError'); a check passes only on exit 0"
            ),
        ),
        (
            "should exit non-zero",
            prose.Outcome(
                held="is expected to fail ('should exit non-zero'); a check passes only on exit 0"
            ),
        ),
        (
            "now fails with ModuleNotFoundError",
            prose.Outcome(
                held="is expected to fail ('now fails with ModuleNotFoundError'); "
                "a check passes only on exit 0"
            ),
        ),
        (
            "is rejected",
            prose.Outcome(
                held="is expected to fail ('is rejected'); a check passes only on exit 0"
            ),
        ),
        (
            "returns not found",
            prose.Outcome(
                held="is expected to fail ('returns not found'); a check passes only on exit 0"
            ),
        ),
        (
            "exits 1 and raises ImportError",
            prose.Outcome(
                held="is expected to fail ('exits 1 and raises ImportError'); "
                "a check passes only on exit 0"
            ),
        ),
        ("prints 3", prose.Outcome(held="is expected to show what exit 0 does not ('prints 3')")),
        (
            "returns 200",
            prose.Outcome(held="is expected to show what exit 0 does not ('returns 200')"),
        ),
        ("exits 1 or exits 2", prose.Outcome(held="names more than one exit code")),
    ],
)
def test_the_words_around_a_command_say_how_it_ends(words: str, expected: prose.Outcome) -> None:
    assert prose.outcome(words) == expected


def test_a_command_said_to_fail_is_held_with_its_reason() -> None:
    found = prose.extract('- `python -c "import json"` raises ImportError', 4)
    assert found.commands == []
    assert found.held == (
        "`python -c \"import json\"` is expected to fail ('raises ImportError'); "
        "a check passes only on exit 0"
    )
    assert found.statement == 'python -c "import json" raises ImportError'


def test_a_command_said_to_exit_1_expects_exit_1() -> None:
    found = prose.extract("- `grep -q TODO src/app.py` exits 1", 4)
    assert found.commands == [
        prose.Check(4, "grep -q TODO src/app.py", "grep -q TODO src/app.py exits 1", 1)
    ]


GATE_PROSE = """
    # Release

    - [ ] Ship it

    ## Validation
    - grep for TODO finds nothing
    - python tests pass
    - node server starts fine
    - kill -9 stray processes if any
    - pytest tests/ (all passing)
    - uv run pytest all green
    - `python -c "import json"` raises ImportError
    - `python -c "import sys; sys.exit(3)"` exits 3
    - `test -f plans/p.md`
    """


def test_prose_under_a_validation_heading_is_never_run(tmp_path: Path) -> None:
    write(tmp_path, "plans/p.md", GATE_PROSE)
    dry = run_cli("execute", tmp_path / "plans" / "p.md", "--root", tmp_path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert [ln.strip() for ln in dry.stdout.splitlines() if ln.strip().startswith("$")] == [
        '$ python -c "import sys; sys.exit(3)"  (expects exit 3)',
        "$ test -f plans/p.md",
    ]
    checked = run_cli("validate", tmp_path / "plans" / "p.md")
    plan = tmp_path / "plans" / "p.md"
    warnings = [ln for ln in checked.stdout.splitlines() if "[prose-verify]" in ln]
    prose_line = "reads as prose, not a command: it is a manual check, not run"
    assert warnings == [
        f"{plan}:6: warning[prose-verify] 'grep for TODO finds nothing' {prose_line}",
        f"{plan}:7: warning[prose-verify] 'python tests pass' {prose_line}",
        f"{plan}:8: warning[prose-verify] 'node server starts fine' {prose_line}",
        f"{plan}:9: warning[prose-verify] 'kill -9 stray processes if any' {prose_line}",
        f"{plan}:10: warning[prose-verify] 'pytest tests/ (all passing)' {prose_line}",
        f"{plan}:11: warning[prose-verify] 'uv run pytest all green' {prose_line}",
        (
            f'{plan}:12: warning[prose-verify] `python -c "import json"` is expected to fail '
            "('raises ImportError'); a check passes only on exit 0: "
            "it is a manual check, not run"
        ),
    ]
    [loaded] = validate_paths([plan]).plans
    assert [t.truth for t in loaded.must_haves.truths] == [
        "grep for TODO finds nothing",
        "python tests pass",
        "node server starts fine",
        "kill -9 stray processes if any",
        "pytest tests/ (all passing)",
        "uv run pytest all green",
        'python -c "import json" raises ImportError',
    ]
    assert [(v.run, v.expect_exit) for v in loaded.verify] == [
        ('python -c "import sys; sys.exit(3)"', 3),
        ("test -f plans/p.md", 0),
    ]


def _statuses(tmp_path: Path, target: Path) -> dict[str, tuple[str, list[str]]]:
    result = run_cli("execute", target, "--root", tmp_path, "--json", "--no-summary")
    return {
        t["id"]: (t["status"], [c["run"] for c in t["commands"]])
        for t in json.loads(result.stdout)["tasks"]
    }


def test_a_verify_field_said_to_fail_is_manual_and_exits_1_runs(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/p.md",
        """
        # Drop json

        ### Task 1: Break the import
        - **Verify**: `python -c "import json"` raises ImportError

        ### Task 2: Break it again
        - **Test command**: `python -c "import json"` should exit non-zero

        ### Task 3: Say the exit code
        - **Verify**: `python -c "import sys; sys.exit(1)"` exits 1
        """,
    )
    assert _statuses(tmp_path, plan) == {
        "p/task-1": ("manual", []),
        "p/task-2": ("manual", []),
        "p/task-3": ("passed", ['python -c "import sys; sys.exit(1)"']),
    }
    warnings = [d for d in validate_paths([plan]).diagnostics.items if d.code == "prose-verify"]
    assert [d.format() for d in warnings] == [
        (
            f'{plan}:4: warning[prose-verify] `python -c "import json"` is expected to fail '
            "('raises ImportError'); a check passes only on exit 0: it is a manual check, not run\n"
            f"    hint: {prose.HELD_HINT}"
        ),
        (
            f'{plan}:7: warning[prose-verify] `python -c "import json"` is expected to fail '
            "('should exit non-zero'); a check passes only on exit 0: "
            "it is a manual check, not run\n"
            f"    hint: {prose.HELD_HINT}"
        ),
    ]


def test_a_kiro_verification_said_to_fail_is_manual(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Tasks

        - [ ] 1.1 Remove the json module
          Verification: `python -c "import json"` now fails with ModuleNotFoundError
        """,
    )
    assert _statuses(tmp_path, plan) == {"tasks/1.1": ("manual", [])}
    [warning] = [d for d in validate_paths([plan]).diagnostics.items if d.code == "prose-verify"]
    assert warning.line == 4
    assert warning.message == (
        "`python -c \"import json\"` is expected to fail ('now fails with ModuleNotFoundError'); "
        "a check passes only on exit 0: it is a manual check, not run"
    )


def test_a_backlog_criterion_said_to_fail_is_manual(tmp_path: Path) -> None:
    write(
        tmp_path,
        "backlog/tasks/task-8 - Drop json.md",
        """
        ---
        id: task-8
        title: Drop json
        status: Done
        ---

        ## Acceptance Criteria
        <!-- AC:BEGIN -->
        - [x] #8 `python -c "import json"` raises ImportError
        <!-- AC:END -->
        """,
    )
    root = tmp_path / "backlog"
    assert _statuses(tmp_path, root) == {"backlog/task-8": ("manual", [])}
    [warning] = [d for d in validate_paths([root]).diagnostics.items if d.code == "prose-verify"]
    assert warning.line == 9
    assert warning.message == (
        "`python -c \"import json\"` is expected to fail ('raises ImportError'); "
        "a check passes only on exit 0: it is a manual check, not run"
    )


def test_a_gsd_verify_line_in_english_is_never_run(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/01-01-PLAN.md",
        """
        ---
        phase: 01-x
        plan: 01
        ---
        <task type="auto">
          <name>Rename</name>
          <verify>grep for the old name finds nothing</verify>
        </task>
        """,
    )
    # A verify in words is a manual check of the task (issue 11): never run, never a pass.
    assert _statuses(tmp_path, plan) == {"01-01/task-1": ("manual", [])}
    [warning] = [d for d in validate_paths([plan]).diagnostics.items if d.code == "prose-verify"]
    assert warning.line == 7
    assert warning.message == (
        "verify line 'grep for the old name finds nothing' is prose, not a command: "
        "it is a manual check"
    )


def test_gsd_plan_checks_hold_what_must_fail_and_skip_english(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/01-01-PLAN.md",
        """
        ---
        phase: 01-x
        plan: 01
        ---
        <task type="auto">
          <name>Rename</name>
          <verify>python -c "print(1)"</verify>
        </task>

        <verification>
        - `python -c "import json"` raises ImportError
        - grep for the old name finds nothing
        - `python -c "import sys; sys.exit(2)"` exits 2
        </verification>
        """,
    )
    [loaded] = validate_paths([plan]).plans
    assert [(v.run, v.expect_exit) for v in loaded.verify] == [
        ('python -c "import sys; sys.exit(2)"', 2)
    ]
    warnings = [d for d in validate_paths([plan]).diagnostics.items if d.code == "prose-verify"]
    assert [(d.line, d.message) for d in warnings] == [
        (
            11,
            (
                "`python -c \"import json\"` is expected to fail ('raises ImportError'); "
                "a check passes only on exit 0: it is a manual check, not run"
            ),
        ),
        (
            12,
            (
                "verify line 'grep for the old name finds nothing' is prose, not a command: "
                "it is a manual check"
            ),
        ),
    ]
    assert _statuses(tmp_path, plan) == {
        "01-01/task-1": ("passed", ['python -c "print(1)"']),
        "01-01/@checks": ("passed", ['python -c "import sys; sys.exit(2)"']),
    }


def test_a_group_verification_said_to_fail_is_a_manual_truth(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Tasks

        ## 1. Drop json

        - [ ] 1.1 Remove the json module

        Verification: `python -c "import json"` raises ImportError
        """,
    )
    result = validate_paths([plan])
    [loaded] = result.plans
    assert loaded.verify == []
    assert [t.truth for t in loaded.must_haves.truths] == [
        'python -c "import json" raises ImportError'
    ]
    [warning] = [d for d in result.diagnostics.items if d.code == "prose-verify"]
    assert (warning.line, warning.message) == (
        7,
        (
            "`python -c \"import json\"` is expected to fail ('raises ImportError'); "
            "a check passes only on exit 0: it is a manual check, not run"
        ),
    )
