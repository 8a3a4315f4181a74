"""Faults, with real planrun processes and real children; marker files, never sleeps, say when
a child is where the test needs it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from test_proc import alive, wait_for


def planrun(*args: str | Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "planrun", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[call-overload]
    )


def write(path: Path, frontmatter: str) -> Path:
    path.write_text("---\n" + frontmatter.strip("\n") + "\n---\n")
    return path


def test_sigint_mid_run_stops_children_records_what_finished(tmp_path: Path) -> None:
    marker, pidfile = tmp_path / "ready", tmp_path / "pid"
    plan = write(
        tmp_path / "p.md",
        f"""
planrun: 1
tasks:
  - {{id: quick, verify: "test -d ."}}
  - id: slow
    depends_on: [quick]
    verify: "sleep 1000 & echo $! > {pidfile}; echo up > {marker}; wait"
  - {{id: after, depends_on: [slow], verify: "test -d ."}}
""",
    )
    proc = planrun("execute", plan, "--root", tmp_path)
    wait_for(marker)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted (children stopped): p/slow" in out
    assert out.splitlines()[-1].startswith("INTERRUPTED: 1 passed, 2 not run in ")
    grandchild = int(pidfile.read_text())
    end = time.monotonic() + 10
    while alive(grandchild) and time.monotonic() < end:
        time.sleep(0.01)
    assert not alive(grandchild)
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "planrun", "status", plan, "--root", tmp_path, "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert {t["id"]: t["status"] for t in status["tasks"]} == {
        "p/quick": "passed",
        "p/slow": "not_run",
        "p/after": "not_run",
    }
    db = sqlite3.connect(tmp_path / ".planrun" / "state.db")
    assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]


def test_second_interrupt_kills_at_once(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    plan = write(
        tmp_path / "p.md",
        f"""
planrun: 1
tasks:
  - id: stubborn
    verify: "trap '' TERM INT; echo up > {marker}; while :; do sleep 0.05; done"
""",
    )
    proc = planrun("execute", plan, "--root", tmp_path)
    wait_for(marker)
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    assert proc.stderr.readline().startswith("planrun: interrupted: stopping running tasks")
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert err.startswith("planrun: interrupted again: killing running tasks now")
    # Without the second interrupt the child would get its 5 s of grace after SIGTERM.
    assert time.monotonic() - start < 4.5
    assert proc.returncode == 130


def test_sigterm_is_an_interrupt_too(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    plan = write(
        tmp_path / "p.md",
        f'planrun: 1\ntasks:\n  - {{id: s, verify: "echo up > {marker}; sleep 1000"}}\n',
    )
    proc = planrun("execute", plan, "--root", tmp_path, "--json")
    wait_for(marker)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    doc = json.loads(out)
    assert doc["status"] == "interrupted"
    assert doc["tasks"][0]["reason"] == "interrupted while running"


def test_two_concurrent_runs_on_one_root(tmp_path: Path) -> None:
    tasks = "\n".join(f'  - {{id: t{i}, verify: "sleep 0.02"}}' for i in range(30))
    plan = write(tmp_path / "p.md", "planrun: 1\ntasks:\n" + tasks)
    runs = [planrun("execute", plan, "--root", tmp_path, "--jobs", "2") for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, out + err
        assert "Traceback" not in err
    db = sqlite3.connect(tmp_path / ".planrun" / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM runs WHERE status = 'passed'").fetchone() == (2,)
    assert db.execute("SELECT count(*) FROM results WHERE status = 'passed'").fetchone() == (30,)


def test_truncated_state_database_is_moved_aside(tmp_path: Path) -> None:
    tasks = "\n".join(
        f'  - {{id: t{i}, verify: "test -d . && echo {"x" * 200}"}}' for i in range(200)
    )
    plan = write(tmp_path / "p.md", "planrun: 1\ntasks:\n" + tasks)
    first = planrun("execute", plan, "--root", tmp_path)
    first.communicate(timeout=120)
    db = tmp_path / ".planrun" / "state.db"
    size = db.stat().st_size
    assert size > 8192
    with db.open("r+b") as fh:
        fh.truncate(size // 2)
    second = planrun("execute", plan, "--root", tmp_path)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "Traceback" not in err
    assert "planrun: warning: the state database" in out
    assert "could not be read" in out
    aside = list((tmp_path / ".planrun").glob("state.db.unreadable-*"))
    assert len(aside) == 1


def test_a_command_printing_200_mb_leaves_planrun_small(tmp_path: Path) -> None:
    plan = write(
        tmp_path / "p.md",
        "planrun: 1\ntasks:\n  - id: loud\n    verify: >-\n"
        "      head -c 200000000 /dev/zero | tr '\\0' 'x' | fold -w 99\n",
    )
    # A wrapper measures planrun alone: RUSAGE_CHILDREN of a fresh process covers only it
    # and what it waited for (bash, head, tr, fold: a few MB each).
    wrapper = (
        "import resource, subprocess, sys;"
        "rc = subprocess.call([sys.executable, '-m', 'planrun', *sys.argv[1:]],"
        " stdout=subprocess.DEVNULL);"
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, "execute", str(plan), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rc, max_rss_kib = map(int, done.stdout.split())
    assert rc == 0
    logs = list((tmp_path / ".planrun" / "logs").rglob("loud.log"))
    assert logs[0].stat().st_size > 200_000_000
    assert max_rss_kib < 100 * 1024, f"planrun peaked at {max_rss_kib // 1024} MiB"


def test_a_command_reading_stdin_gets_eof(tmp_path: Path) -> None:
    plan = write(tmp_path / "p.md", 'planrun: 1\ntasks:\n  - {id: r, verify: "cat; ! read x"}\n')
    proc = planrun("execute", plan, "--root", tmp_path, stdin=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)  # stdin of planrun stays open: the child must not wait
    assert proc.returncode == 0, out
