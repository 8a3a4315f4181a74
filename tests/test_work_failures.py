"""A failure of the work stays a failure, and tidying up is no check: the cleanup a script ends
with (`kill $PID || true`) is not what it is judged by; `|| tail server.log` hides a failure as
`|| echo` does; a server the script started itself that never answers, a module or script of
the project that is not there, are failures, not a machine's missing tools. Real child
processes; plans in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import PlanWriter
from test_evidence_gaps import run_table

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
