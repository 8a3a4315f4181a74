"""Lints for verify commands that look like checks but are not (commandlint.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from planrun.commandlint import findings, says_must_fail
from planrun.validate import validate_paths

FLAGGED = [
    ('xcodebuild build | grep -E "BUILD SUCCEEDED|BUILD FAILED|error:"', "verify-grep-failure"),
    ("npm test 2>&1 | grep -i error", "verify-grep-failure"),
    ('grep -E "passed|failed" out.txt', "verify-grep-failure"),
    ("node -e \"console.log(ok ? 'PASS' : 'FAIL')\"", "verify-prints-result"),
    ('if pytest; then echo "PASS"; else echo "FAIL"; fi\ntrue', "verify-prints-result"),
    ("pytest > out.txt || true && test -f out.txt", "verify-redirect-creates"),
    ("make &> build.log; [ -e build.log ]", "verify-redirect-creates"),
    ("[ $? -eq 0 ]", "verify-exit-status-lost"),
    ('echo "exit code: $?"', "verify-exit-status-lost"),
    ("npm run dev", "verify-long-running"),
    ("pnpm dev", "verify-long-running"),
    ("next dev", "verify-long-running"),
    ("npx vite", "verify-long-running"),
    ("cargo tauri dev", "verify-long-running"),
    ("uvicorn app.main:app --port 8000", "verify-long-running"),
    ("flask run", "verify-long-running"),
    ("rails s", "verify-long-running"),
    ("docker compose up", "verify-long-running"),
    ("uv run uvicorn app:app", "verify-long-running"),
    ("cd web && npm run dev", "verify-long-running"),
    ("timeout 20 python manage.py runserver", "verify-long-running"),
    ("uv run python -m src.main --dev", "verify-long-running"),  # the PRP base template
    ("python3 src/main.py --dev", "verify-long-running"),
    ("python -m app.main --reload", "verify-long-running"),
    ("gunicorn app:app -b :8000", "verify-long-running"),
    ("fastapi dev main.py", "verify-long-running"),
    ("python -m http.server 8000", "verify-long-running"),
    ("# Start the service\npython3 app.py", "verify-long-running"),
    ("# Start the API server\n\ncd api && node server.js", "verify-long-running"),
]

CLEAN = [
    'grep -q "error" src/handlers.py',  # looking for error handling in code, not in output
    "! grep -q error build.log",
    "npm test | grep -v FAIL_FAST",
    "npm test 2>&1 | grep -q 'Tests: .* passed'",
    "python -c \"print('PASS' if ok() else 'FAIL'); import sys; sys.exit(0 if ok() else 1)\"",
    "cmd > /dev/null && test -f dist/app.js",
    "make > build.log; test -s dist/app.js",
    "npm test; echo $?",
    "npm run dev &\nsleep 3\ncurl -f localhost:3000",
    "npx vite build",
    "npm i vite",
    "uvicorn --help",
    "docker compose up -d",
    "vitest run",
    "pip install uvicorn flask",
    "npm test 2>&1 | grep -q 'No errors found'",
    "cargo build 2>&1 | grep -q '0 errors'",
    # A program not known as a server, with no comment saying it starts one, runs as before.
    "python app.py",
    "node server.js",
    "python scripts/build.py --dev",
    "python3 test.py --host localhost --port 8080",
    "uv sync --dev",
    "gunicorn --check-config app:app",
    "python -m http.server 8000 &\nsleep 1\ncurl -f localhost:8000",
    # What the comment says starts the service comes back, or is started in the background.
    "# Start the service\nsudo systemctl start app",
    "# Start the service\ndocker compose up -d",
    "# Start the service\npython app.py &\nsleep 2\ncurl -f localhost:8000",
    "# Start the services in the background\npython app.py",
    "# Run the app tests\npython app.py",
    "# Run the api integration tests\npython -m pytest tests/api",
    "# Run the app to see it print the report\npython app.py",
]


# A shell script that stops at a failure exits non-zero when a check fails: its PASS and FAIL
# lines are only what it says, not its result.
STOPS_AT_FAILURE = [
    'set -euo pipefail\ntrap \'echo "❌ FAILED at line $LINENO"\' ERR\npytest -q\necho "✅ PASSED"',
    (
        'set -e\ncheck() {\n  pytest -q || { echo "❌ tests FAILED"; return 1; }\n'
        '  echo "✅ passed"\n}\ncheck'
    ),
]


@pytest.mark.parametrize("script", STOPS_AT_FAILURE)
def test_a_shell_that_stops_at_a_failure_does_not_only_print_its_result(script: str) -> None:
    assert findings(script) == []
    plain = script.replace("set -euo pipefail\n", "").replace("set -e\n", "")
    assert findings(plain, errexit=True) == []
    assert [f.code for f in findings(plain)] == ["verify-prints-result"]


@pytest.mark.parametrize(("script", "code"), FLAGGED)
def test_flagged(script: str, code: str) -> None:
    assert [f.code for f in findings(script)] == [code]


@pytest.mark.parametrize("script", CLEAN)
def test_clean(script: str) -> None:
    assert findings(script) == []


def write_plan(tmp_path: Path, text: str, name: str = "p.md") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_exit_status_read_by_a_line_planrun_splits_off(tmp_path: Path) -> None:
    path = write_plan(
        tmp_path,
        """\
        ---
        phase: 01-x
        plan: 01
        ---
        <task type="auto">
        <name>Tests</name>
        <verify>
        pytest -q
        test $? -eq 0
        </verify>
        </task>
        """,
        "01-01-PLAN.md",
    )
    [found] = [
        d for d in validate_paths([path]).diagnostics.items if d.code == "verify-exit-status-lost"
    ]
    assert found.line == 9
    assert "verify `test $? -eq 0` is not a real check" in found.message


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("Write the failing test first (RED)", "expect_exit: 1"),
        ("Test must fail before the fix", "expect_exit: 1"),
        ("Run the tests", 'remove "|| true"'),
    ],
)
def test_tdd_red_step_hint(tmp_path: Path, name: str, hint: str) -> None:
    path = write_plan(
        tmp_path,
        f"""\
        ---
        planrun: 1
        tasks:
          - id: red
            name: {name}
            verify: pytest tests/test_cart.py || true
        ---
        """,
    )
    [found] = [
        d for d in validate_paths([path]).diagnostics.items if d.code == "verify-never-fails"
    ]
    assert found.hint is not None
    assert hint in found.hint


def test_says_must_fail() -> None:
    assert says_must_fail("TDD: write failing tests")
    assert says_must_fail("Expected: FAIL")
    assert not says_must_fail("Render the red button")
    assert not says_must_fail("Handle failures in the importer")


def test_a_comment_that_starts_the_service_is_named_in_the_warning() -> None:
    [found] = findings("# Start the service\nnode server.js --port 3000\ncurl -f localhost:3000")
    assert found.why == (
        '"node server.js --port 3000" starts a server or watcher that does not exit '
        '("# Start the service" above it): it can only end by the timeout'
    )
