"""A failure inside one task (its log cannot be written, a name too long) costs that task's log,
never the run or the results already recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PlanWriter, assert_no_traceback, run_cli


def test_a_log_that_cannot_be_written_keeps_the_verdict_and_the_run(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: a
            verify: |
              rm -rf "$PLANRUN_ROOT/.planrun/logs" && touch "$PLANRUN_ROOT/.planrun/logs"
              echo after
          - {id: b, depends_on: [a], verify: "echo b; exit 3"}
        """,
    )
    run = run_cli("execute", plan, "--root", tmp_path, "--no-summary", "--json")
    assert_no_traceback(run)
    assert run.exit_code == 1
    tasks = {t["id"]: t for t in json.loads(run.stdout)["tasks"]}
    assert tasks["p/a"]["status"] == "passed"
    assert tasks["p/b"]["status"] == "failed"
    assert tasks["p/b"]["log"] is None
    logs = tmp_path / ".planrun" / "logs"
    assert f"p/a: cannot write the log {logs}/" in run.stderr
    assert "its verdict and output tail are kept" in run.stderr
    status = json.loads(run_cli("status", plan, "--root", tmp_path, "--json").stdout)
    assert [t["status"] for t in status["tasks"]] == ["passed", "failed"]


def test_a_task_id_longer_than_a_file_name_still_gets_its_log(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    long = "x" * 300
    plan = write_plan("p.md", f"planrun: 1\ntasks:\n  - {{id: {long}, verify: 'echo hi; exit 1'}}")
    run = run_cli("execute", plan, "--root", tmp_path, "--no-summary", "--json")
    assert_no_traceback(run)
    assert run.exit_code == 1
    task = json.loads(run.stdout)["tasks"][0]
    assert task["status"] == "failed"
    assert Path(task["log"]).read_text() == "$ echo hi; exit 1\nhi\n"


def _corrupt(db: Path) -> None:
    db.write_bytes(b"this is not a database" * 500)


@pytest.mark.parametrize("command", ["execute", "status", "next", "summary", "dry-run"])
def test_every_command_moves_a_corrupt_database_aside_under_a_new_name(
    write_plan: PlanWriter, tmp_path: Path, command: str
) -> None:
    plan = write_plan("p.md", "planrun: 1\ntasks: [{id: a, verify: 'test $PLANRUN_WAVE'}]")
    assert run_cli("execute", plan, "--root", tmp_path, "--no-summary").exit_code == 0
    db = tmp_path / ".planrun" / "state.db"
    args = {
        "execute": ["execute", plan, "--no-summary"],
        "status": ["status", plan],
        "next": ["next", plan],
        "summary": ["summary", plan, "-o", tmp_path / "S.md"],
        "dry-run": ["execute", plan, "--dry-run"],
    }[command]
    for round_ in (1, 2, 3):  # within one second: the names must still differ
        _corrupt(db)
        run = run_cli(*args[:2], "--root", tmp_path, *args[2:])
        assert_no_traceback(run)
        assert run.exit_code == 0, run.output
        assert f"planrun: warning: the state database {db} could not be read" in run.output
        aside = sorted((tmp_path / ".planrun").glob("state.db.unreadable-*"))
        assert len([p for p in aside if not p.name.endswith(("-wal", "-shm"))]) == round_


def test_status_moves_aside_a_database_damaged_past_its_first_pages(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    """The read-only opening of status checks the whole file: a damaged page deep inside is
    moved aside with a warning, not an internal error when the results are read."""
    import sqlite3

    tasks = "\n".join(f"  - {{id: t{i}, verify: 'test {i} -ge 0'}}" for i in range(300))
    plan = write_plan("p.md", f"planrun: 1\ntasks:\n{tasks}")
    assert run_cli("execute", plan, "--root", tmp_path, "--no-summary").exit_code == 0
    db = tmp_path / ".planrun" / "state.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.seek(size // 2 // 4096 * 4096)
        fh.write(b"\xff" * 4096 * 2)
    run = run_cli("status", plan, "--root", tmp_path)
    assert_no_traceback(run)
    assert run.exit_code == 0, run.output
    assert f"planrun: warning: the state database {db} could not be read (" in run.stderr
    assert "moved it to state.db.unreadable-" in run.stderr
    assert run.stdout.splitlines()[-1] == "status: partial (nothing has run yet)"


def test_jobs_beyond_the_open_file_limit_are_lowered_with_a_warning(tmp_path: Path) -> None:
    tasks = "\n".join(f"  - {{id: t{i}, verify: 'test {i} -ge 0'}}" for i in range(300))
    plan = tmp_path / "p.md"
    plan.write_text(f"---\nplanrun: 1\ntasks:\n{tasks}\n---\n")
    # The child lowers both limits, so planrun cannot raise its soft limit back.
    script = (
        "import resource, sys, runpy;"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128));"
        "sys.argv = ['planrun', *sys.argv[1:]];"
        "runpy.run_module('planrun', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "execute", plan, "--root", tmp_path, "-j", "300"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (
        "planrun: warning: --jobs 300 needs about 1248 open files, but the limit is 128 "
        "(ulimit -n); running 20 at a time"
    ) in done.stdout + done.stderr
    assert "PASSED: 300 passed in " in done.stdout


def test_a_dependent_starts_after_its_dependency_s_result_is_stored(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    # A check may read the state of what it depends on (plans/execute.md runs `planrun
    # status`). The order itself is pinned by test_scheduler (a child this slow to read
    # the state would not catch a write made just after it started).
    read = (
        '"$PLANRUN_PYTHON" -c "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); '
        "rows = db.execute('SELECT status FROM results WHERE unit = ?', (sys.argv[2],)); "
        'assert rows.fetchall() == [(\'passed\',)]" "$PLANRUN_ROOT/.planrun/state.db" '
    )
    tasks = ['  - {id: t0, verify: "test -f p.md"}']
    tasks += [
        f"  - id: t{i}\n    depends_on: [t{i - 1}]\n    verify: |\n      {read}t{i - 1}"
        for i in range(1, 6)
    ]
    plan = write_plan("p.md", "planrun: 1\ntasks:\n" + "\n".join(tasks))
    run = run_cli("execute", plan, "--root", tmp_path, "--json", "--no-summary")
    assert_no_traceback(run)
    doc = json.loads(run.stdout)
    assert [t["status"] for t in doc["tasks"]] == ["passed"] * 6, run.output
