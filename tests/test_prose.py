"""Prose is never a command: what prose.py takes from a plan, and what the readers run."""

from __future__ import annotations

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
