"""Containment of verify commands, with real planrun processes: what leaves the process group
(``setsid``) ends with its command, on timeouts, on SIGINT/SIGHUP, and after ``kill -9`` of
planrun. Marker files are the readiness handshake; a pid file names the process to watch."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_proc import alive, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl")


def planrun(*args: str | Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    """planrun in the test's folder (its commands start through Popen, in ``--root``), or in
    ``cwd``, the root itself (through posix_spawn: see proc.spawn)."""
    return subprocess.Popen(
        [sys.executable, "-m", "planrun", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


WAYS = ["popen", "posix_spawn"]


def plan(tmp_path: Path, verify: str, timeout: int = 600) -> Path:
    path = tmp_path / "p.md"
    path.write_text(
        f"---\nplanrun: 1\ntimeout: {timeout}\ntasks:\n  - id: t\n    verify: |\n"
        + "".join(f"      {line}\n" for line in verify.splitlines())
        + "---\n"
    )
    return path


def gone(pid: int, limit: float = 10.0) -> bool:
    """Whether ``pid`` ends within ``limit`` seconds (a killed process takes a moment)."""
    end = time.monotonic() + limit
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.01)
    return not alive(pid)


def escape(pidfile: Path, seconds: int = 303) -> str:
    """Shell lines that start a sleep in a session of its own and return once it is there."""
    return (
        f"setsid sh -c 'echo $$ > {pidfile}; exec sleep {seconds}' &\n"
        f"while [ ! -s {pidfile} ]; do sleep 0.01; done"
    )


def pid_in(path: Path) -> int:
    wait_for(path)
    return int(path.read_text())


@pytest.mark.parametrize("way", WAYS)
def test_a_setsid_child_does_not_survive_its_task(tmp_path: Path, way: str) -> None:
    pidfile = tmp_path / "pid"
    here = tmp_path if way == "posix_spawn" else None
    proc = planrun("execute", plan(tmp_path, escape(pidfile)), "--root", tmp_path, cwd=here)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert gone(pid_in(pidfile))


def test_a_child_that_clears_its_environment_does_not_survive_the_run(tmp_path: Path) -> None:
    """Without a token it cannot be tied to its command, but once every command has ended an
    orphan outside planrun's group can only have come from one."""
    pidfile = tmp_path / "pid"
    verify = escape(pidfile).replace("setsid", "env -i setsid", 1)
    proc = planrun("execute", plan(tmp_path, verify), "--root", tmp_path, "--no-summary")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1].startswith("PASSED: 1 passed in ")
    assert gone(pid_in(pidfile))


def test_a_child_that_leaves_its_group_with_setpgid_does_not_survive(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    verify = (
        f"{shlex.quote(sys.executable)} -c 'import os, sys, time; os.setpgid(0, 0); "
        f'open(sys.argv[1], "w").write(str(os.getpid())); time.sleep(300)\' {pidfile} &\n'
        f"while [ ! -s {pidfile} ]; do sleep 0.01; done"
    )
    proc = planrun("execute", plan(tmp_path, verify), "--root", tmp_path, "--no-summary")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1].startswith("PASSED: 1 passed in ")
    assert gone(pid_in(pidfile))


def test_a_setsid_child_does_not_survive_a_timeout(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    verify = f"{escape(pidfile)}\nsleep 1000"
    proc = planrun("execute", plan(tmp_path, verify, timeout=1), "--root", tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "TIMEOUT" in out or "timeout" in out
    assert gone(pid_in(pidfile))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_run_and_what_left_the_group(tmp_path: Path, sig: int) -> None:
    pidfile, marker = tmp_path / "pid", tmp_path / "ready"
    verify = f"{escape(pidfile)}\necho up > {marker}\nsleep 1000"
    proc = planrun("execute", plan(tmp_path, verify), "--root", tmp_path)
    wait_for(marker)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert out.splitlines()[-1].startswith("INTERRUPTED: 1 not run in ")
    assert gone(pid_in(pidfile))


@pytest.mark.parametrize("way", WAYS)
def test_kill_9_of_planrun_ends_its_verify_commands(tmp_path: Path, way: str) -> None:
    grouped, escaped, marker = tmp_path / "grouped", tmp_path / "escaped", tmp_path / "ready"
    verify = f"sleep 301 & echo $! > {grouped}\n{escape(escaped, 302)}\necho up > {marker}\nwait"
    here = tmp_path if way == "posix_spawn" else None
    proc = planrun("execute", plan(tmp_path, verify), "--root", tmp_path, cwd=here)
    wait_for(marker)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert gone(pid_in(grouped))
    assert gone(pid_in(escaped))


def test_orphans_that_end_by_themselves_are_collected(tmp_path: Path) -> None:
    import os

    from conftest import run_cli

    pids = tmp_path / "pids"
    verify = (
        f"for i in $(seq 30); do (setsid sh -c 'echo $$ >> {pids}' &); done\n"
        f'while [ "$(wc -l < {pids})" -lt 30 ]; do sleep 0.01; done\n'
        "sleep 0.2"
    )
    run = run_cli("execute", plan(tmp_path, verify), "--root", tmp_path, "--no-summary")
    assert run.exit_code == 0, run.output
    me = str(os.getpid())
    left = []
    for pid in pids.read_text().split():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat[1] == me:  # still planrun's (this process's) child: a zombie nobody collected
            left.append(pid)
    assert left == []


def test_an_escapee_of_a_planrun_already_a_subreaper_ends_with_the_run(tmp_path: Path) -> None:
    """A planrun started already a subreaper (its parent's prctl survives exec) leaves the
    sweeps to whoever made it one; the watchdog's last pass ends what carries the run's token."""
    wrapper = (
        "import ctypes, os, sys\n"
        "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'planrun', *sys.argv[1:]])\n"
    )
    pidfile = tmp_path / "pid"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            wrapper,
            "execute",
            plan(tmp_path, escape(pidfile)),
            "--root",
            tmp_path,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert gone(pid_in(pidfile))


@pytest.mark.parametrize("way", WAYS)
def test_a_failing_check_fails_when_planrun_inherits_sigchld_ignored(
    tmp_path: Path, way: str
) -> None:
    """An ignored SIGCHLD survives exec; with it the kernel collects every child at once, and
    Popen calls an exit code it cannot read 0. planrun restores the default first."""
    wrapper = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'planrun', *sys.argv[1:]])\n"
    )
    path = plan(tmp_path, "sleep 0.2\nexit 3")
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, "execute", path, "--root", tmp_path, "--no-summary"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path if way == "posix_spawn" else None,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("FAIL       p/t"), proc.stdout
