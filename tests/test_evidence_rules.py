"""Evidence rules found wrong by a new user: masks that still passed, lines bash -e ignores,
a must-fail grep that could not read its file, zero-test runs, missing tools reported as
failures, checks that can never fail. Real child processes; plans in tmp_path."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import sys
import threading
from pathlib import Path

import pytest

from conftest import PlanWriter, checks_plan, execute, run_cli, tasks
from planrun.checkrules import read

BIN = Path(sys.executable).parent  # this venv's pytest, on the plans' PATH


def plan(write_plan: PlanWriter, checks: dict[str, str]) -> Path:
    """A plan with one task per check, with this venv's pytest on PATH; the check of the task
    named N is on line ``at(checks, N)``."""
    lines = [
        "planrun: 1",
        f'env: {{PATH: "{BIN}:/usr/bin:/bin", PYTEST_ADDOPTS: "-p no:cacheprovider"}}',
        "tasks:",
    ]
    for name, check in checks.items():
        lines += [f"  - id: {name}", "    verify:", "      - run: |"]
        lines += [f"          {line}" for line in check.splitlines()]
    return write_plan("p.md", "\n".join(lines))


def at(checks: dict[str, str], name: str) -> int:
    line = 7  # after "---", planrun, env, tasks, "- id", "verify"
    for key, check in checks.items():
        if key == name:
            return line
        line += 3 + len(check.splitlines())
    raise KeyError(name)


X = "pytest -q t_fail.py"


def test_masks_around_a_failing_pytest_are_judged_by_it(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "t_fail.py").write_text("def test_a():\n    assert False\n")
    checks = {
        "redirected": f"{X} || echo failed >&2",
        "path": f"{X} || /bin/true",
        "brace": f"{X} || {{ echo failed; }}",
        "subshell": f"{X} || (exit 0)",
        "if": f"if {X}; then echo ok; fi",
        "if-not": f'if ! {X}; then echo "tests failed"; fi',
    }
    run, doc = execute(plan(write_plan, checks))
    assert run.exit_code == 1
    found = tasks(doc)
    for task, mask in [
        ("redirected", "the `|| echo`"),
        ("path", "the `|| /bin/true`"),
        ("brace", "the `|| { echo failed; }`"),
        ("subshell", "the `|| (exit 0)`"),
        ("if", "the `if` around it"),
        ("if-not", "the `if` around it"),
    ]:
        reason = f"exit 1: `{X}` (line {at(checks, task)}; {mask} would hide its failure)"
        assert found[f"p/{task}"] == ("failed", reason)


@pytest.mark.parametrize(
    ("script", "run", "must_fail", "note"),
    [
        (f"{X} || echo failed >&2", X, False, "the `|| echo` would hide its failure"),
        (f"{X} || /usr/bin/true", X, False, "the `|| /usr/bin/true` would hide its failure"),
        (f"{X} || {{ echo a; echo b; }}", X, False, "the `|| { echo a; echo b; }` would hide"),
        (f"if {X}; then echo ok; else echo no; fi", X, False, "the `if` around it would hide"),
        (f"if {X}; then echo 'FAIL: {X}'; fi", X, True, "`echo 'FAIL: pytest -q t_fail.py'` runs"),
        (f"if ! {X}; then echo 'FAIL'; else echo ok; fi", X, False, "the `if` around it"),
    ],
)
def test_the_shape_of_a_mask_names_the_command_judged(
    script: str, run: str, must_fail: bool, note: str
) -> None:
    reading = read(script)
    assert (reading.run, reading.must_fail, reading.never_fails) == (run, must_fail, False)
    assert reading.note is not None and reading.note.startswith(note)


@pytest.mark.parametrize(
    "script",
    [
        "test -d .",
        "test -e .",
        "[ -d . ]",
        "pwd",
        "sleep 1",
        "cd .",
        "if ! grep -q x f; then echo ok; fi",
        "if grep -q x f; then echo FAIL; else echo ERROR; fi",
        "true || { echo a; }",
    ],
)
def test_commands_that_succeed_wherever_they_run_can_never_fail(script: str) -> None:
    assert read(script).never_fails


def test_a_check_that_only_prints_its_result_is_no_evidence_unless_it_printed_a_failure(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short program name: a long interpreter path would be cut short in the reason.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "py").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    py = "py"
    path = write_plan(
        "p.md",
        f"""
        planrun: 1
        tasks:
          - {{id: ok, verify: "{py} -c \\"ok = True; print('PASS' if ok else 'FAIL')\\""}}
          - {{id: bad, verify: "{py} -c \\"ok = False; print('PASS' if ok else 'FAIL')\\""}}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/ok"] == (
        "unverified",
        (
            "it only prints its result, and exits 0 whether it printed PASS or FAIL: "
            f"`{py} -c \"ok = True; print('PASS' if ok else 'FAIL')\"`"
        ),
    )
    assert found["p/bad"] == (
        "failed",
        (
            f"exit 0 (it printed `FAIL` as its result): `{py} -c \"ok = False; print('PASS' if "
            "ok else 'FAIL')\"`"
        ),
    )


def test_lines_bash_e_ignores_do_not_count_and_validate_names_them(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("fail\n")
    checks = {
        "negated": "! grep -q fail f.txt\necho done",
        "list": "grep -q nothing-like-this f.txt && echo found\necho done",
        "set-e-off": "set +e\ngrep -q nothing-like-this f.txt\necho done",
        "negated-last": "echo checking\n! grep -q fail f.txt",
    }
    path = plan(write_plan, checks)
    run, doc = execute(path)
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/negated"] == (
        "unverified",
        (
            "planrun cannot see whether `grep -q fail f.txt` failed (line 1 of the script): the "
            "`!` goes on either way (write `if grep -q fail f.txt; then exit 1; fi`): "
            "`! grep -q fail f.txt ⏎ echo done` (line 7; "
            "bash -e ignores a failure of `! grep -q fail f.txt`, line 1 of the script)"
        ),
    )
    assert found["p/list"][0] == "unverified"
    assert "bash -e ignores a failure of `grep -q nothing-like-this f.txt && echo found`" in str(
        found["p/list"][1]
    )
    assert found["p/set-e-off"] == (
        "unverified",
        (
            "its only checks can never fail: "
            "`set +e ⏎ grep -q nothing-like-this f.txt ⏎ echo done` "
            f"(line {at(checks, 'set-e-off')}; bash -e ignores a failure of "
            "`grep -q nothing-like-this f.txt`, line 2 of the script)"
        ),
    )
    assert found["p/negated-last"] == (
        "failed",
        f"exit 1: `echo checking ⏎ ! grep -q fail f.txt` (line {at(checks, 'negated-last')})",
    )
    out = run_cli("validate", path).stdout
    assert (
        f'{path}:{at(checks, "negated")}: warning[verify-failure-ignored] task "negated": '
        "verify `! grep -q fail f.txt ⏎ echo done`: bash -e ignores a failure of "
        "`! grep -q fail f.txt` (line 1 of the script), so it does not fail the check\n"
        "    hint: write `if grep -q fail f.txt; then exit 1; fi`, or put it last"
    ) in out
    assert (
        "hint: put `grep -q nothing-like-this f.txt` on a line of its own, or put the list last"
    ) in out
    assert 'task "negated-last"' not in out


def test_a_must_fail_grep_that_could_not_read_its_file_fails(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    check = 'grep -q "TODO" {} && echo "FAIL: TODO remains" || echo "PASS: no TODO"'
    (tmp_path / "clean.py").write_text("x = 1\n")
    (tmp_path / "todo.py").write_text("# TODO\n")
    checks = {
        "missing": check.format("src/app.py"),
        "clean": check.format("clean.py"),
        "todo": check.format("todo.py"),
        "test-syntax": 'test -f a b && echo "FAIL: a exists" || echo PASS',
    }
    run, doc = execute(plan(write_plan, checks))
    assert run.exit_code == 1
    found = tasks(doc)
    must_fail = '(line {}; it must fail: `echo "FAIL: TODO remains"` runs when it succeeds)'
    assert found["p/missing"] == (
        "failed",
        (
            "exit 2 (`grep` could not read its input: a file it names is missing or unreadable): "
            f'`grep -q "TODO" src/app.py` {must_fail.format(at(checks, "missing"))}'
        ),
    )
    assert found["p/clean"] == (
        "passed",
        (
            'judged by `grep -q "TODO" clean.py`, which must fail: '
            '`echo "FAIL: TODO remains"` runs when it succeeds'
        ),
    )
    assert found["p/todo"] == (
        "failed",
        'exit 0 (expected a failure): `grep -q "TODO" todo.py` '
        + must_fail.format(at(checks, "todo")),
    )
    assert found["p/test-syntax"][0] == "failed"
    assert str(found["p/test-syntax"][1]).startswith(
        "exit 2 (`test` could not evaluate its expression): `test -f a b`"
    )


def test_a_pytest_run_that_runs_no_test_is_unverified(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    skip = "import pytest\n\n\n@pytest.mark.skip\ndef test_a():\n    pass\n"
    (tmp_path / "t_skip.py").write_text(skip)
    (tmp_path / "t_pass.py").write_text(skip + "\n\ndef test_b():\n    pass\n")
    checks = {
        "skipped": "pytest -q t_skip.py",
        "collect": "pytest --co -q t_pass.py",
        "some": "pytest -q t_pass.py",
    }
    run, doc = execute(plan(write_plan, checks))
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/skipped"] == ("unverified", "ran no tests: `pytest -q t_skip.py` (line 7)")
    assert found["p/collect"] == (
        "unverified",
        f"ran no tests: `pytest --co -q t_pass.py` (line {at(checks, 'collect')})",
    )
    assert found["p/some"] == ("passed", None)


def test_a_missing_tool_behind_a_wrapper_or_a_script_is_an_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    script = tmp_path / "check.sh"
    script.write_text("#!/bin/bash\necho checking\nnotatool_xyz --check\n")
    script.chmod(0o755)
    py = sys.executable
    checks = {
        "module": f"{py} -m notamodule_xyz --check .",
        "timeout": "timeout 60 notatool_xyz",
        "env": "env FOO=1 notatool_xyz",
        "script": "./check.sh",
        "by-path": "./bin/check",
    }
    run, doc = execute(plan(write_plan, checks))
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/module"] == (
        "error",
        (
            "could not run: python module `notamodule_xyz` is not installed: "
            f"`{py} -m notamodule_xyz --check .` (line 7)"
        ),
    )
    not_found = "could not run: `notatool_xyz` was not found on PATH: "
    assert found["p/timeout"] == (
        "error",
        not_found + f"`timeout 60 notatool_xyz` (line {at(checks, 'timeout')})",
    )
    assert found["p/env"] == (
        "error",
        not_found + f"`env FOO=1 notatool_xyz` (line {at(checks, 'env')})",
    )
    assert found["p/script"] == ("error", not_found + f"`./check.sh` (line {at(checks, 'script')})")
    assert found["p/by-path"] == (
        "failed",
        f"exit 127 (command not found): `./bin/check` (line {at(checks, 'by-path')})",
    )


@pytest.mark.parametrize(
    ("script", "never_fails"),
    [
        ('if [ -n "$B" ]; then echo up > marker; fi\ntest -f a.py', False),
        ("if make; then echo built > built.txt; fi", True),  # a failing make is hidden
        ("if make; then sleep 1; fi", True),
    ],
)
def test_an_if_whose_branch_does_something_runs_as_written(script: str, never_fails: bool) -> None:
    # Judged by its condition alone, the branch (a file written, a wait) would not run.
    reading = read(script)
    assert (reading.run, reading.original, reading.never_fails) == (script, None, never_fails)


def test_a_last_sleep_is_run_not_dropped_as_a_mask() -> None:
    # `X; true` is judged by X; `X; sleep 5` runs as written (a timeout must still apply).
    script = "make\nsleep 5"
    assert read(script) == read(script).__class__(script)


def test_a_negated_grep_that_could_not_read_its_file_does_not_pass(
    write_plan: PlanWriter,
) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: missing, verify: "! grep -q TODO missing.py"}
          - {id: clean, verify: "! grep -q TODO clean.py"}
          - {id: dirty, verify: "! grep -q TODO dirty.py"}
        """,
    )
    (path.parent / "clean.py").write_text("x = 1\n")
    (path.parent / "dirty.py").write_text("# TODO\n")
    run, doc = execute(path)
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/clean"][0] == "passed"
    assert found["p/dirty"][0] == "failed"
    status, reason = found["p/missing"]
    assert status == "failed"
    assert reason is not None
    assert reason.startswith("exit 2 (`grep` could not read its input")


def test_an_expected_output_the_command_throws_away_is_not_judged(
    write_plan: PlanWriter,
) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: devnull, verify: [{run: "grep TODO a.py >/dev/null", expect_output: empty}]}
          - {id: quiet, verify: [{run: "grep -q TODO a.py", expect_output: empty}]}
          - {id: seen, verify: [{run: "grep -c TODO a.py", expect_output: count 0}]}
        """,
    )
    (path.parent / "a.py").write_text("# TODO\n")
    run, doc = execute(path)
    assert run.exit_code == 1
    found = tasks(doc)
    why = "its expected output cannot be judged: the command discards its output: "
    assert found["p/devnull"] == ("unverified", why + "`grep TODO a.py >/dev/null` (line 4)")
    assert found["p/quiet"] == ("unverified", why + "`grep -q TODO a.py` (line 5)")
    assert found["p/seen"][0] == "failed"


@pytest.mark.parametrize(
    "mask",
    ["command true", "builtin true", "env true", 'sh -c "exit 0"', "echo FAIL | tee /dev/null"],
)
def test_more_masks_are_judged_by_the_command_they_hide(mask: str) -> None:
    found = read(f"pytest -q || {mask}")
    assert (found.run, found.must_fail) == ("pytest -q", False)
    assert found.note == f"the `|| {mask}` would hide its failure"


@pytest.mark.parametrize("line", ["# tests 0", "\u2139 tests 0"])
def test_node_test_runner_that_ran_nothing_is_no_evidence(line: str) -> None:
    from planrun.checkoutput import ran_no_tests

    assert ran_no_tests("node --test tests/", 0, f"{line}\n# pass 0\n") == "node --test"
    assert ran_no_tests("node --test tests/", 0, "# tests 3\n# pass 3\n") is None


@pytest.mark.parametrize(
    ("output", "runner"),
    [
        ("..\nRan 2 tests in 0.001s\n\nOK (skipped=2)\n", "unittest: every test skipped"),
        ("Ran 2 tests in 0.001s\n\nOK (skipped=1)\n", None),
        ("# tests 1\n# pass 0\n# skipped 1\n", "node --test: every test skipped"),
        ("\u2139 tests 2\n\u2139 pass 1\n\u2139 skipped 1\n", None),
    ],
)
def test_a_runner_that_skipped_every_test_ran_none(output: str, runner: str | None) -> None:
    from planrun.checkoutput import ran_no_tests

    assert ran_no_tests("python3 -m unittest; node --test", 0, output) == runner


@pytest.mark.parametrize(
    ("script", "run", "ok_says", "failed_says"),
    [
        ('grep -q x f || echo "INFO: checking..."', "grep -q x f", None, "INFO: checking..."),
        ("grep -q x f && echo 'Note: x is there'", "grep -q x f", "Note: x is there", None),
        # tree-sitter reads `a | b && echo PASS || echo W` as `(a | b && echo PASS) || echo W`:
        # the check run is the left of the `||` as written.
        ('grep x f | wc -l | grep -q 0 && echo "PASS: none" || echo "⚠️ check by hand"',
         'grep x f | wc -l | grep -q 0 && echo "PASS: none"', None, "⚠️ check by hand"),
        ("pytest -q || echo -e 'warning: flaky'", "pytest -q", None, "warning: flaky"),
    ],
)  # fmt: skip
def test_a_branch_that_only_informs_is_read_as_no_verdict(
    script: str, run: str, ok_says: str | None, failed_says: str | None
) -> None:
    reading = read(script)
    assert (reading.run, reading.informs_ok, reading.informs_failed) == (run, ok_says, failed_says)
    assert not reading.must_fail and not reading.never_fails


@pytest.mark.parametrize(
    "script",
    [
        'grep -q x f || echo "WARNING: tests FAILED"',  # a failure's report, not information
        'grep -q x f || echo "see INFO below"',  # only a message that begins with the word
        'test -f a; grep -q x f || echo "INFO: x"',  # lines before it could fail too
    ],
)
def test_a_report_that_names_a_failure_or_is_not_alone_is_read_as_before(script: str) -> None:
    reading = read(script)
    assert (reading.informs_ok, reading.informs_failed) == (None, None)


def test_an_outcome_the_plan_calls_neither_pass_nor_fail_is_unverified_whatever_else_passes(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "f.py").write_text("def test_a(db_session):\n    pass\n")
    checks = {
        # A seed's shape: its PASS is not printed, its other branch only says INFO.
        "info-branch": 'grep "def" f.py | wc -l | grep -qx "0" && echo "PASS: none" || '
        'echo "INFO: checking parameter usage..."\ngrep -q db_session f.py',
        "info-printed": 'grep -q db_session f.py && echo "NOTE: still uses it"',
        "info-silent": 'grep -q create_engine f.py && echo "INFO: checking engine imports"',
        "pass-branch": 'grep -q db_session f.py && echo "PASS: uses it" || echo "INFO: check"',
        "failure-words": 'grep -q create_engine f.py || echo "WARNING: FAILED to find it"',
    }
    body = ["planrun: 1", "tasks:"]
    for name, check in checks.items():
        body += [f"  - id: {name}", "    verify:"]
        body += [f"      - {json.dumps(line)}" for line in check.splitlines()]
    run, doc = execute(write_plan("p.md", "\n".join(body)))
    assert run.exit_code == 1
    found = tasks(doc)
    info = "its plan only prints `INFO: checking parameter usage...` when `grep"
    assert found["p/info-branch"][0] == "unverified"
    assert found["p/info-branch"][1].startswith(info)
    assert "fails: neither a pass nor a failure: `grep" in found["p/info-branch"][1]
    printed = (
        "its plan only prints `NOTE: still uses it` when `grep -q db_session f.py` succeeds: "
        "neither a pass nor a failure"
    )
    assert found["p/info-printed"] == (
        "unverified",
        f"{printed}: `grep -q db_session f.py` (line 10)",
    )
    assert found["p/info-silent"] == (
        "unverified",
        (
            "it only reports: `INFO: checking engine imports` runs when it succeeds: "
            "`grep -q create_engine f.py` (line 13)"
        ),
    )
    assert found["p/pass-branch"][0] == "passed"
    assert found["p/failure-words"][0] == "failed"


@pytest.mark.parametrize(
    ("script", "run", "must_fail", "ok_says", "failed_says"),
    [
        # Found by a third attack: informing branches around a neutral or PASS branch, in ifs.
        (
            'grep -q T a.py && echo "NOTE: T left" || true',
            "grep -q T a.py",
            False,
            "NOTE: T left",
            None,
        ),
        (
            'grep -q T a.py && echo "NOTE: T left" || echo "no T"',
            "grep -q T a.py",
            False,
            "NOTE: T left",
            None,
        ),
        (
            'grep -q T a.py && echo "NOTE: T left" || echo "PASS: none"',
            "grep -q T a.py",
            True,
            None,
            None,
        ),
        (
            'if grep -q T a.py; then echo "WARNING: T left"; fi',
            "grep -q T a.py",
            False,
            "WARNING: T left",
            None,
        ),
        (
            'if ! grep -q x a.py; then echo "NOTE: x unused"; fi',
            "grep -q x a.py",
            False,
            None,
            "NOTE: x unused",
        ),
        ('grep -q x a && echo -e "\\e[33mNOTE\\e[0m: x"', "grep -q x a", False, "NOTE: x", None),
    ],
)
def test_more_shapes_that_only_inform(
    script: str, run: str, must_fail: bool, ok_says: str | None, failed_says: str | None
) -> None:
    reading = read(script)
    found = (reading.run, reading.must_fail, reading.informs_ok, reading.informs_failed)
    assert found == (run, must_fail, ok_says, failed_says)


def test_an_informing_success_branch_does_not_excuse_a_real_failure(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    # Found by review: only a search's "no match" (exit 1) is a failure that merely informs.
    (tmp_path / "b.py").write_text("")
    checks = {
        "broke": 'python3 -c "raise SystemExit(1)" && echo "NOTE: see the log"\ntest -f b.py',
        "grep-error": 'grep -q x nofile.py && echo "INFO: x is used"',
        "note-pass": 'python3 -c "raise SystemExit(1)" && echo "NOTE: all tests passed"',
        "fail-branch": 'grep -q x b.py && echo "NOTE: found" || echo "FAIL: x missing"',
    }
    run, doc = execute(checks_plan(write_plan, checks))
    found = tasks(doc)
    assert {name: found[f"p/{name}"][0] for name in checks} == {
        "broke": "unverified",  # before the last line: bash -e goes on, reports.py
        "grep-error": "failed",
        "note-pass": "failed",
        "fail-branch": "failed",
    }
    assert read('make test && echo "NOTE: all tests passed"').informs_ok is None
    assert run.exit_code == 1


def test_a_failed_check_that_uses_a_path_of_another_machine_is_an_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    # A seed's `PYTHONPATH=/Users/<someone>/projects/atom/backend pytest ...`: done work, failed.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text('p = "/home/ann/x"\n')
    checks = {
        "pythonpath": 'PYTHONPATH=/Users/nobody-xyz/app python3 -c "raise SystemExit(1)"',
        "cd-home": "cd /home/nobody-xyz/app && true",
        "searched": '! grep -rq "/home/" src',  # a path searched for is text, not a path used
        "passes": 'PYTHONPATH=/Users/nobody-xyz/app python3 -c "pass"',
    }
    run, doc = execute(checks_plan(write_plan, checks))
    found = tasks(doc)
    assert found["p/pythonpath"] == (
        "error",
        (
            "could not run: `/Users/nobody-xyz/app` is a path of another machine, not found here: "
            '`PYTHONPATH=/Users/nobody-xyz/app python3 -c "raise SystemExit(1)"` (line 6)'
        ),
    )
    assert found["p/cd-home"][0] == "error"
    assert found["p/searched"][0] == "failed"
    assert found["p/passes"] == ("passed", None)
    assert run.exit_code == 1


@pytest.mark.parametrize(
    ("script", "run", "note"),
    [
        # The "X must fail" idiom agents write (a fourth attack: it failed done work).
        ('grep -rn TODO src/ && exit 1 || echo "No TODOs"', "grep -rn TODO src/", "`exit 1` runs"),
        ("grep -q x f && exit 1", "grep -q x f", "`exit 1` runs"),
        ('grep -q x f && { echo "x found"; exit 1; } || true', "grep -q x f", "`{ echo"),
        ('grep -q x f && echo "✗ x still there" && exit 1 || echo ok', "grep -q x f", "`exit 1`"),
        ("grep -q x f && exit 1 || exit 0", "grep -q x f", "`exit 1` runs"),
    ],
)
def test_a_check_that_exits_1_when_it_succeeds_must_fail(script: str, run: str, note: str) -> None:
    reading = read(script)
    assert (reading.run, reading.must_fail) == (run, True)
    assert reading.note is not None and reading.note.startswith(note)


def test_a_bare_wait_reads_no_status(write_plan: PlanWriter) -> None:
    # `pytest &` then `wait`: bash's bare wait returns 0 whatever the job returned.
    path = write_plan(
        "p.md",
        "planrun: 1\ntasks:\n  - id: t\n    verify:\n      - run: |\n"
        '          python3 -c "raise SystemExit(1)" &\n          wait\n',
    )
    _run, doc = execute(path)
    status, reason = tasks(doc)["p/t"]
    assert status == "unverified"
    assert reason is not None and reason.startswith("its only checks can never fail")


def test_a_missing_tool_or_environment_reported_by_another_program_is_an_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    # Found by a fourth attack: done work failed because the machine lacked a tool.
    (tmp_path / "Makefile").write_text("all:\n\tnotatool-xyz check .\n")
    checks = {
        "probe": 'command -v notatool-xyz >/dev/null && notatool-xyz . || echo "skipping"',
        "make": "make all",
        "venv": "source .venv/bin/activate && python3 -c pass",
        "venv-bin": ".venv/bin/pytest -q",
        "plugin": "pytest --cov=src -q",
        "real": "python3 -c 'raise SystemExit(1)'",
    }
    run, doc = execute(plan(write_plan, checks))
    found = tasks(doc)
    reasons = {name: found[f"p/{name}"][1] for name in checks}
    assert {name: found[f"p/{name}"][0] for name in checks} == {
        "probe": "error",
        "make": "error",
        "venv": "error",
        "venv-bin": "error",
        "plugin": "error",
        "real": "failed",
    }
    assert reasons["probe"] is not None and reasons["probe"].startswith(
        "could not run: `notatool-xyz` was not found on PATH (the check looks for it first)"
    )
    assert reasons["make"] is not None and reasons["make"].startswith(
        "could not run: `notatool-xyz` was not found on PATH (a make recipe runs it)"
    )
    assert reasons["venv"] is not None and reasons["venv"].startswith(
        "could not run: `.venv/bin/activate` is not there: the environment the check expects"
    )
    assert reasons["plugin"] is not None and reasons["plugin"].startswith(
        "could not run: pytest does not know `--cov`: a plugin it needs is not installed"
    )
    assert run.exit_code == 1


class _Answers(http.server.BaseHTTPRequestHandler):
    """A server that answers /ok with 200 and anything else with 500."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 500)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 -- the base's name
        pass


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_curl_without_fail_shows_nothing_of_the_status(write_plan: PlanWriter) -> None:
    # A wrong PASS: `curl -s .../health` exits 0 when the server answers 500. And nothing
    # listening is a server not started, not work that failed.
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free = closed.getsockname()[1]
    base = f"http://127.0.0.1:{server.server_port}"
    checks = {
        "error-page": f"curl -s {base}/health",
        "ok-page": f"curl -s {base}/ok",  # a 200 too: its exit status cannot tell
        "fail": f"curl -sSf {base}/health",
        "fail-ok": f"curl --fail -s {base}/ok",
        "piped": f"curl -s {base}/ok | grep -q '{{}}'",
        "down": f"curl -s http://127.0.0.1:{free}/health",
        # the same inside a shell the check starts
        "nested-error-page": f"bash -c 'curl -s {base}/health'",
        "nested-fail-ok": f"sh -c 'curl -sf {base}/ok'",
        "nested-down": f"sh -c 'curl -s http://127.0.0.1:{free}/health'",
    }
    if shutil.which("jq") is not None:
        # jq without -e prints the JSON it was given: an error page in JSON too
        checks["json-error-page"] = f"curl -s {base}/health | jq ."
        checks["json-checked"] = f"curl -s {base}/ok | jq -e ."
    try:
        run, doc = execute(checks_plan(write_plan, checks))
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    found = tasks(doc)
    assert found["p/error-page"] == (
        "unverified",
        (
            "`curl` exits 0 whatever HTTP status the server answers (add `--fail`, or check "
            f"what it prints): `curl -s {base}/health` (line 6)"
        ),
    )
    assert found["p/ok-page"][0] == "unverified"
    assert found["p/fail"][0] == "failed"
    assert found["p/fail-ok"] == ("passed", None)
    assert found["p/piped"] == ("passed", None)
    assert found["p/down"] == (
        "error",
        (
            f"could not run: nothing answered at 127.0.0.1:{free} (curl could not connect): "
            "the server the check talks to is not running; start it before planrun runs the "
            f"check: `curl -s http://127.0.0.1:{free}/health` (line 21)"
        ),
    )
    assert found["p/nested-error-page"][0] == "unverified"
    assert found["p/nested-fail-ok"] == ("passed", None)
    assert found["p/nested-down"][0] == "error"
    if shutil.which("jq") is not None:
        assert found["p/json-error-page"][0] == "unverified"
        assert found["p/json-checked"] == ("passed", None)
    assert run.exit_code == 1


def test_a_here_document_masked_on_the_last_line_is_judged_by_its_command(
    write_plan: PlanWriter,
) -> None:
    # `python3 - <<'PY' || echo "import failed"` last: bash runs the `||` on the first line;
    # the failure was read as a printed report (unverified) where it is a failure.
    script = "python3 - <<'PY' || echo \"check failed\"\nraise SystemExit({code})\nPY"
    found = read(script.format(code=0))
    assert (found.run, found.note) == (
        "python3 - <<'PY'\nraise SystemExit(0)\nPY",
        "the `|| echo` would hide its failure",
    )
    assert read("python3 - <<PY || exit 1\nx\nPY").run == "python3 - <<PY || exit 1\nx\nPY"
    checks = {"fails": script.format(code=3), "ok": script.format(code=0)}
    run, doc = execute(checks_plan(write_plan, checks))
    found_tasks = tasks(doc)
    assert found_tasks["p/fails"] == (
        "failed",
        (
            "exit 3: `python3 - <<'PY' ⏎ raise SystemExit(3) ⏎ PY` (line 6; the `|| echo` would "
            "hide its failure)"
        ),
    )
    assert found_tasks["p/ok"][0] == "passed"
    assert run.exit_code == 1


@pytest.mark.parametrize(
    ("script", "blind"),
    [
        ("curl -s URL", True),
        ("curl -s URL && echo OK", True),  # found by an attack: not only a bare last curl
        ("curl -s a && curl -s b", True),
        ("curl -s URL; echo", True),
        ("command curl -s URL", True),
        ("env X=1 timeout 5 curl -s URL", True),
        ("curl -s URL | head -1", True),
        ("curl -s URL | tee r.txt", True),
        ("body=$(curl -s URL)", True),
        ("echo checking\ncurl -s URL", True),
        ("curl -sf URL", False),
        ("curl -fsS URL | head -1", False),
        ("curl --fail-with-body -s URL", False),
        ("curl -s URL | grep -q ok", False),  # grep checks what it printed
        ("pytest -q\ncurl -s URL", False),  # pytest is a check of its own
        ("curl -s URL && exit 1 || echo down", False),
    ],
)
def test_which_curls_show_nothing_of_the_status(script: str, *, blind: bool) -> None:
    assert (read(script).status_blind is not None) == blind


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_check_that_the_server_is_down_passes_when_nothing_answers(
    write_plan: PlanWriter,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free = closed.getsockname()[1]
    url = f"http://127.0.0.1:{free}/"
    check = f"curl -s {url} && echo 'FAIL: still up' && exit 1 || echo 'OK: down'"
    run, doc = execute(checks_plan(write_plan, {"down": check}))
    assert tasks(doc)["p/down"][0] == "passed"  # found by an attack: it was an error
    assert run.exit_code == 0
