"""A failure of the work stays a failure, and tidying up is no check: the cleanup a script ends
with (`kill $PID || true`) is not what it is judged by; `|| tail server.log` hides a failure as
`|| echo` does; a server the script started itself that never answers, a module or script of
the project that is not there, are failures, not a machine's missing tools. Real child
processes; plans in tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import PlanWriter
from planrun.checkoutput import could_not_look
from test_evidence_gaps import at, run_table

CLEANUP = {
    "kill-then-wait": (
        (
            "sleep 30 &\nPID=$!\ntest -f f.txt\nkill $PID 2>/dev/null || true\n"
            "wait $PID 2>/dev/null || true"
        ),
        "passed",
    ),
    "remove": ("test -f f.txt\nrm -r nodir/cache 2>/dev/null || true", "passed"),
    "after-a-failure": ("grep -q x f.txt\nrmdir nodir 2>/dev/null || true", "failed"),
    "only-cleanup": ("rm -rf nodir || true", "unverified"),
    # a trap sets up the shell: no check of its own
    "trap-only": ("trap 'rm -f x' EXIT", "unverified"),
    "trap-then-check": ("trap 'rm -f x' EXIT\ngrep -q match f.txt", "passed"),
}


def test_a_cleanup_a_script_ends_with_is_not_its_check(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, CLEANUP)
    assert (found["p/after-a-failure"][1] or "").startswith("exit 1: `grep -q x f.txt`")


DUMPS = {
    "group": ('grep -q x f.txt || { echo "--- f.txt ---"; cat f.txt; }', "failed"),
    "tail": ("grep -q match f.txt || tail -n 5 f.txt", "passed"),
    # alone, `ls` after `||` is another check, not a listing of why the first failed
    "alternative": ("ls nofile.js || ls f.txt", "passed"),
    "alternative-missing": ("ls nofile.js || ls nofile2.js", "failed"),
    # before the last line, a log shown goes on: nothing says whether the check failed
    "before-cleanup": ("grep -q x f.txt || tail -n 5 f.txt\nrm -rf nodir || true", "unverified"),
}


def test_a_log_shown_after_a_failure_hides_it_as_an_echo_does(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, DUMPS)
    assert (found["p/before-cleanup"][1] or "").startswith(
        "planrun cannot see whether `grep -q x f.txt` failed: the `|| tail -n 5 f.txt` shows a "
        "log and goes on"
    )
    assert found["p/tail"][1] == (
        "judged by `grep -q match f.txt`: the `|| tail -n 5 f.txt` would hide its failure"
    )


OWN = {
    "module": ("mkdir -p app && touch app/__init__.py\npython3 -m app.nosuch", "failed"),
    "script": ("bash nosuch.sh", "failed"),
    "not-installed": ("python3 -m planrun_no_such_module", "error"),
    # a folder of output of the same name is no package of the project
    "output-folder": ("mkdir -p nomod/lib\npython3 -m nomod.cli", "error"),
}


def test_a_module_or_script_of_the_project_that_is_not_there_is_a_failure(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, OWN)
    assert "python module `planrun_no_such_module` is not installed" in (
        found["p/not-installed"][1] or ""
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed here")
def test_a_server_the_script_started_that_never_answers_is_a_failure(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    table = {
        # the server it starts exits at once; port 9 (discard) answers nothing here
        "own-server": (
            'python3 -c "raise SystemExit(1)" &\nsleep 0.1\ncurl -fsS http://127.0.0.1:9/health',
            "failed",
        ),
        "no-server": ("curl -fsS http://127.0.0.1:9/health", "error"),
        "server-from-a-file": (
            "./start.sh && sleep 0.1 && curl -fsS http://127.0.0.1:9/",
            "failed",
        ),
    }
    (tmp_path / "start.sh").write_text('#!/bin/sh\npython3 -c "raise SystemExit(1)" &\n')
    (tmp_path / "start.sh").chmod(0o755)
    _, _, found = run_table(write_plan, tmp_path, table)
    assert "nothing answered at 127.0.0.1:9" in (found["p/no-server"][1] or "")


# A negative test of a program that is not there refused nothing: no bin/tool, no app/cli.py,
# no cli.js here; f.txt holds "no match here".
REFUSALS = {
    "missing-program": ("! ./bin/tool --invalid-flag", "failed"),
    "missing-script": ("! python3 app/cli.py --port abc", "failed"),
    "missing-tool": ("! missing-tool --check", "error"),
    "and-exit": ('python3 app/cli.py --port abc && exit 1 || echo "rejected"', "failed"),
    "if-exit": (
        'if python3 app/cli.py --port abc; then echo "should have failed"; exit 1; fi',
        "failed",
    ),
    # a program that is there and refuses: passed; one that accepts: failed
    "refused": ('! python3 -c "import sys; sys.exit(2)"', "passed"),
    "accepted": ('! python3 -c "pass"', "failed"),
    "if-refused": ('if python3 -c "import sys; sys.exit(2)"; then exit 1; fi', "passed"),
    "if-found": ("if grep -q match f.txt; then echo still there; exit 1; fi", "failed"),
    # the same negation in a subshell, or one whose failure exits: the script's status is its
    "subshell-missing": ("! (./bin/tool --invalid-flag)", "failed"),
    "or-exit-missing": ("! ./bin/tool --invalid-flag || exit 1", "failed"),
    "subshell-or-exit-missing": ("! (./bin/tool --invalid-flag) || exit 1", "failed"),
    "if-not-else-exit-missing": (
        'if ! ./bin/tool --invalid-flag; then echo "rejected"; else exit 1; fi',
        "failed",
    ),
    "or-exit-missing-tool": ("! missing-tool --check || exit 1", "error"),
    "subshell-missing-tool": ("! (missing-tool --check)", "error"),
    "subshell-refused": ('! (python3 -c "import sys; sys.exit(2)")', "passed"),
    "or-exit-refused": ('! python3 -c "import sys; sys.exit(2)" || exit 1', "passed"),
    "or-exit-accepted": ('! python3 -c "pass" || exit 1', "failed"),
    "if-not-else-exit-refused": (
        'if ! python3 -c "import sys; sys.exit(2)"; then echo ok; else echo FAIL; exit 1; fi',
        "passed",
    ),
    "subshell-not-found": ("! (grep -q nope f.txt)", "passed"),
    # a search that could not read its file found nothing either, as with `! grep` alone
    "or-exit-unread": ("! grep -q nope nofile || exit 1", "failed"),
}


def test_a_negative_test_of_a_program_that_is_not_there_is_no_pass(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, REFUSALS)
    assert (found["p/missing-script"][1] or "").startswith(
        "exit 2 (`app/cli.py` is not there: the program it runs could not open it): `python3 "
        "app/cli.py --port abc`"
    )
    assert (found["p/missing-program"][1] or "").startswith(
        "exit 127 (command not found): `./bin/tool --invalid-flag`"
    )
    assert (found["p/missing-tool"][1] or "").startswith(
        "could not run: `missing-tool` was not found on PATH"
    )
    for name in ("subshell-missing", "or-exit-missing", "if-not-else-exit-missing"):
        assert (found[f"p/{name}"][1] or "").startswith(
            "exit 127 (command not found): `./bin/tool --invalid-flag` (line "
        ), name
        assert (found[f"p/{name}"][1] or "").endswith(
            "it must fail: the `!` would turn its error into a pass)"
        ), name
    assert (found["p/or-exit-missing-tool"][1] or "").startswith(
        "could not run: `missing-tool` was not found on PATH: `missing-tool --check`"
    )
    assert found["p/or-exit-refused"][1] == (
        'judged by `python3 -c "import sys; sys.exit(2)"`, which must fail: the `!` would turn '
        "its error into a pass"
    )


def test_python_or_node_that_could_not_open_the_script_refused_nothing() -> None:
    node = "Error: Cannot find module '/work/app/cli.js'\n    at Module._resolveFilename"
    python = "python3: can't open file '/work/app/cli.py': [Errno 2] No such file or directory"
    assert could_not_look("node cli.js --bad", 1, node) == (
        "`cli.js` is not there: the program it runs could not open it"
    )
    assert could_not_look("python3 app/cli.py --port x", 2, python) is not None
    # another file than the one it runs: its own refusal
    assert could_not_look("python3 app/main.py --port x", 2, python) is None
    assert could_not_look("python3 app/cli.py --port x", 2, "usage: cli.py [-h]") is None


# A failure noted in a variable that nothing tests or exits with later is dropped: a mask.
NOTED = {
    "group": ('grep -q x f.txt || { rc=$?; echo "check failed with status $rc"; }', "failed"),
    "last": ("grep -q x f.txt || rc=$?", "failed"),
    "before-a-report": ("grep -q x f.txt || failed=1\necho done", "unverified"),
    # tested or exited with later: the script decides by it
    "exited-with": ("grep -q x f.txt || failed=1\nexit ${failed:-0}", "failed"),
    "tested": ('grep -q match f.txt || failed=1\n[ -z "${failed:-}" ]', "passed"),
    "counted": ("grep -q x f.txt || errors+=(grep)\n[ ${#errors[@]} -eq 0 ]", "failed"),
}


def test_a_failure_noted_in_a_variable_nothing_reads_is_masked(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, NOTED)
    assert (found["p/last"][1] or "").startswith(
        "exit 1: `grep -q x f.txt` (line 10; the `|| rc=$?` would hide its failure)"
    )


# What only shows why a check failed, after `||` in a branch that fails the script anyway: a
# tool missing there is not why the check failed.
DIAGNOSED = {
    "docker-logs": ("grep -q x f.txt || { docker compose logs api; exit 1; }", "failed"),
    "missing-tool": ("grep -q x f.txt || { missing-tool logs; exit 1; }", "failed"),
    "passed": ("grep -q match f.txt || { missing-tool logs; exit 1; }", "passed"),
    # the check itself needs the tool: it could not run
    "needed": ("missing-tool check || { echo failed; exit 1; }", "error"),
}


def test_a_tool_missing_where_the_script_shows_why_it_failed_is_no_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    run_table(write_plan, tmp_path, DIAGNOSED)


@pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("make") is None,
    reason="npm and make are needed here",
)
def test_a_script_of_the_project_that_a_script_of_it_runs_and_is_not_there_is_a_failure(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    scripts = {"test": "./scripts/test.sh", "lint": "bash scripts/lint.sh"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
    (tmp_path / "Makefile").write_text("test:\n\t./scripts/helper.sh\nlint:\n\tmissing-tool .\n")
    table = {
        "npm-test": ("npm test", "failed"),
        "npm-lint": ("npm run lint", "failed"),
        "make-test": ("make test", "failed"),
        # a tool, not a file of the project: it could not run here
        "make-lint": ("make lint", "error"),
    }
    run_table(write_plan, tmp_path, table)


def test_a_function_the_script_calls_before_defining_it_is_its_failure(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    script = "#!/usr/bin/env bash\nset -euo pipefail\nbuild_image\nbuild_image() { echo ok; }\n"
    (tmp_path / "deploy.sh").write_text(script)
    (tmp_path / "deploy.sh").chmod(0o755)
    table = {
        "file": ("./deploy.sh", "failed"),
        "inline": ("check_all\ncheck_all() { test -f f.txt; }", "failed"),
        "tool": ("missing-tool --version", "error"),
    }
    run_table(write_plan, tmp_path, table)


# bash's `time` keyword only prints how long what follows took: each check is judged as the
# same check without it (no bin/tool, no missing-tool here; f.txt holds "no match here").
UNTIMED = {
    "missing-tool-or-exit": ("missing-tool --check || exit 1", "error"),
    "negated-missing": ("! ./bin/tool --invalid-flag", "failed"),
    "negated-subshell-missing": ("! (./bin/tool --invalid-flag)", "failed"),
    "negated-refused": ('! python3 -c "import sys; sys.exit(2)"', "passed"),
    "search-or-exit": ("grep -q x f.txt || exit 1", "failed"),
    "found": ("grep -q match f.txt || exit 1", "passed"),
    "masked": ("grep -q x f.txt || true", "failed"),
    "missing-tool": ("missing-tool --check", "error"),
}
TIMED = {f"timed-{name}": (f"time {script}", status) for name, (script, status) in UNTIMED.items()}
TIMED["timed-p-missing-tool-or-exit"] = ("time -p missing-tool --check || exit 1", "error")


def test_a_timed_check_is_judged_as_the_same_check_without_time(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, UNTIMED | TIMED)
    assert (found["p/timed-missing-tool-or-exit"][1] or "").startswith(
        "could not run: `missing-tool` was not found on PATH (the script exits when it fails): "
        "`time missing-tool --check || exit 1`"
    )
    assert (found["p/timed-negated-subshell-missing"][1] or "").startswith(
        "exit 127 (command not found): `./bin/tool --invalid-flag` (line "
    )
    # run as written, timing and all, when nothing else judges it
    assert found["p/timed-found"][1] is None


# A negation on a line of a longer script: bash's own words that it could not run the program
# show its 127 became the pass (no bin/tool, no missing-tool here).
NEGATED_IN_SCRIPTS = {
    "last": ("test -f f.txt\n! ./bin/tool --invalid-flag", "unverified"),
    "or-exit": ("test -f f.txt\n! ./bin/tool --invalid-flag || exit 1\necho done", "unverified"),
    "subshell": ("test -f f.txt\n! (missing-tool --check)", "unverified"),
    "if-not": (
        "test -f f.txt\nif ! ./bin/tool --invalid-flag; then echo ok; else exit 1; fi",
        "unverified",
    ),
    # a program that is there and refuses, or accepts
    "refused": ('test -f f.txt\n! python3 -c "import sys; sys.exit(2)" || exit 1', "passed"),
    "accepted": ('test -f f.txt\n! python3 -c "pass" || exit 1', "failed"),
    "not-found": ("test -f f.txt\n! grep -q nope f.txt", "passed"),
}


def test_a_negation_in_a_script_of_a_program_that_is_not_there_is_no_pass(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, _, found = run_table(write_plan, tmp_path, NEGATED_IN_SCRIPTS)
    assert found["p/last"][1] == (
        "its script printed `./bin/tool: No such file or directory`: `./bin/tool "
        "--invalid-flag` (line 2 of the script) could not run, and the `!` took that for the "
        "refusal it tests (test that it is there first (`test -x PATH || exit 1`, `command -v "
        f"X || exit 1`)): `test -f f.txt ⏎ ! ./bin/tool --invalid-flag` (line {at(checks, 'last')})"
    )
    assert "`missing-tool: command not found`" in (found["p/subshell"][1] or "")
