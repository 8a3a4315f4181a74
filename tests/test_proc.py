"""The process seam: real children, timeouts, process groups, bounded tails."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from planrun import proc
from planrun.procpool import Outcome, ProcessPool, Spec
from planrun.tasklog import LogSink


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(path: Path, limit: float = 30.0) -> None:
    """The readiness handshake: the child writes ``path`` when it is where the test wants it."""
    end = time.monotonic() + limit
    while not path.exists() or not path.read_text().strip():
        if time.monotonic() > end:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.01)


def run_one(
    tmp_path: Path, script: str, timeout: float = 30.0, grace: float = 5.0
) -> tuple[Outcome, LogSink]:
    pool = ProcessPool(grace=grace)
    sink = LogSink(tmp_path / "log")
    try:
        pool.start("t", Spec(script, tmp_path, dict(os.environ), timeout, sink))
        while True:
            done = pool.wait()
            if done:
                assert done[0][0] == "t"
                sink.close()
                return done[0][1], sink
    finally:
        pool.close()


def test_exit_code_and_merged_output(tmp_path: Path) -> None:
    out, sink = run_one(tmp_path, "echo out; echo err >&2; exit 4")
    assert out.exit_code == 4
    assert sink.tail() == "$ echo out; echo err >&2; exit 4\nout\nerr"
    assert (tmp_path / "log").read_text() == sink.tail() + "\n"


def test_a_silent_command_creates_no_log_file(tmp_path: Path) -> None:
    out, sink = run_one(tmp_path, "true")
    assert out.exit_code == 0
    assert not sink.exists
    assert not (tmp_path / "log").exists()
    assert sink.tail() == ""


def test_stdin_is_closed(tmp_path: Path) -> None:
    out, sink = run_one(tmp_path, "cat; read -r line || echo got-eof")
    assert out.exit_code == 0
    assert sink.tail().endswith("got-eof")


def test_timeout_kills_the_whole_group_including_a_grandchild(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    out, _ = run_one(tmp_path, f"sleep 1000 & echo $! > {pidfile}; wait", timeout=0.5)
    assert out.timed_out
    wait_for(pidfile)
    grandchild = int(pidfile.read_text())
    end = time.monotonic() + 10
    while alive(grandchild) and time.monotonic() < end:
        time.sleep(0.01)
    assert not alive(grandchild)


def test_sigkill_after_grace_when_sigterm_is_ignored(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    script = f"trap '' TERM; echo ready > {marker}; while :; do sleep 0.05; done"
    out, _ = run_one(tmp_path, script, timeout=0.3, grace=0.3)
    assert out.timed_out
    assert marker.exists()


def test_background_leftovers_die_with_the_script(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    # The background sleep keeps the output pipe open: planrun must not wait for it.
    out, _ = run_one(tmp_path, f"sleep 1000 & echo $! > {pidfile}; exit 0")
    assert out.exit_code == 0
    pid = int(pidfile.read_text())
    end = time.monotonic() + 10
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.01)
    assert not alive(pid)


def test_a_missing_working_directory_cannot_start(tmp_path: Path) -> None:
    pool = ProcessPool()
    try:
        pool.start("t", Spec("true", tmp_path / "nope", {}, 5, LogSink(tmp_path / "log")))
        [(name, out)] = pool.wait()
    finally:
        pool.close()
    assert name == "t"
    assert out.exit_code is None
    assert out.error is not None and out.error.startswith("cannot start:")


def test_tail_is_bounded_however_large_the_log(tmp_path: Path) -> None:
    script = f'{sys.executable} -c "import sys; [print(i) for i in range(300000)]"'
    out, sink = run_one(tmp_path, script)
    assert out.exit_code == 0
    tail = sink.tail()
    log = (tmp_path / "log").read_text()
    assert log.endswith(tail + "\n")
    assert log.count("\n") == 300_001  # the header line and every number, on disk
    lines = tail.splitlines()
    assert len(lines) == 200
    assert lines[-1] == "299999"
    assert len(tail.encode()) <= 64 * 1024


def test_interrupt_stops_running_children(tmp_path: Path) -> None:
    pool = ProcessPool(grace=0.5)
    marker = tmp_path / "ready"
    try:
        spec = Spec(f"echo x > {marker}; sleep 1000", tmp_path, {}, 60, LogSink(tmp_path / "l"))
        pool.start("t", spec)
        wait_for(marker)
        pool.terminate_all()
        done: list[tuple[object, Outcome]] = []
        while not done:
            done = pool.wait()
    finally:
        pool.close()
    assert done[0][1].killed_by == "interrupt"


# A command runs through os.posix_spawn in planrun's own directory and through Popen elsewhere:
# both ways must start it alike.
WAYS = ["posix_spawn", "popen"]


def start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str, script: str, timeout: float = 30.0
) -> tuple[Outcome, LogSink]:
    """``script`` run by a pool, started the ``way`` asked (the test fails if it was not)."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here if way == "posix_spawn" else tmp_path)
    pool = ProcessPool()
    sink = LogSink(tmp_path / "log")
    try:
        pool.start("t", Spec(script, here, dict(os.environ), timeout, sink))
        [child] = pool._children.values()
        assert child.popen.by_popen == (way == "popen")
        while not (done := pool.wait()):
            pass
        sink.close()
        return done[0][1], sink
    finally:
        pool.close()


@pytest.mark.parametrize("way", WAYS)
def test_both_ways_give_the_exit_code_output_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    out, sink = start_one(tmp_path, monkeypatch, way, "pwd; echo err >&2; cat; exit 7")
    assert out.exit_code == 7
    assert sink.tail().splitlines()[1:] == [str(tmp_path / "here"), "err"]


@pytest.mark.parametrize("way", WAYS)
def test_both_ways_inherit_no_descriptor_but_the_standard_three(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    leaked = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leaked, True)  # noqa: FBT003 -- as planrun's own parent may pass one
    try:
        listing = "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"
        out, sink = start_one(tmp_path, monkeypatch, way, f'{sys.executable} -c "{listing}"')
    finally:
        os.close(leaked)
    assert out.exit_code == 0
    # 0-2 and the directory being listed (the lowest free descriptor: 3)
    assert sink.tail().splitlines()[-1] == "[0, 1, 2, 3]"


@pytest.mark.parametrize("way", WAYS)
def test_both_ways_start_a_new_session_with_default_sigpipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    # `yes` dies of SIGPIPE (141) once head has gone, though Python itself ignores SIGPIPE.
    script = (
        'test "$(ps -o sid= -p $$)" -eq $$ && '
        'echo "$(yes | head -1; echo "${PIPESTATUS[0]}")" && kill -TERM $$'
    )
    out, sink = start_one(tmp_path, monkeypatch, way, script)
    assert sink.tail().splitlines()[1:] == ["y", "141"]
    assert out.exit_code == -15  # killed by SIGTERM, as Popen reports it


@pytest.mark.parametrize("way", WAYS)
def test_a_command_collected_elsewhere_is_an_error_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    # Popen would call its exit code 0 (as with SIGCHLD ignored): a failed check passing.
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here if way == "posix_spawn" else tmp_path)
    pool = ProcessPool()
    marker = tmp_path / "ready"
    try:
        pool.start("t", Spec(f"echo x > {marker}; exit 3", here, {}, 30, LogSink(tmp_path / "l")))
        [pid] = pool._children
        os.waitpid(pid, 0)  # something else collects it
        [(_, out)] = pool.wait()
    finally:
        pool.close()
    assert out.exit_code is None
    assert out.error == "its exit status was collected by another process"


@pytest.mark.parametrize("way", WAYS)
def test_both_ways_open_stdin_on_dev_null_for_reading_and_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    out, _sink = start_one(
        tmp_path, monkeypatch, way, "echo into-stdin >&0 && test ! -s /dev/stdin"
    )
    assert out.exit_code == 0


def test_an_environment_posix_spawn_refuses_starts_through_popen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pool = ProcessPool()
    try:
        env = {**os.environ, "": "x"}  # a name posix_spawn calls illegal, and Popen passes on
        pool.start("t", Spec("exit 4", tmp_path, env, 30, LogSink(tmp_path / "l")))
        [child] = pool._children.values()
        assert child.popen.by_popen
        while not (done := pool.wait()):
            pass
    finally:
        pool.close()
    assert done[0][1].exit_code == 4


@pytest.mark.parametrize("way", WAYS)
def test_two_pools_in_one_process_keep_their_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    """As two runs in the MCP server: the first pool is the subreaper, and its sweeps collect
    orphans that ended; the other pool's commands are not orphans, and keep their exit codes."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here if way == "posix_spawn" else tmp_path)
    first, second = ProcessPool(), ProcessPool()
    outcomes: dict[str, list[Outcome]] = {"first": [], "second": []}

    def run(pool: ProcessPool, name: str, script: str) -> None:
        started = running = 0
        try:
            while started < 100 or running:
                while running < 4 and started < 100:
                    sink = LogSink(tmp_path / f"{name}{started}.log")
                    pool.start(started, Spec(script, here, dict(os.environ), 30, sink))
                    started += 1
                    running += 1
                for _token, out in pool.wait():
                    running -= 1
                    outcomes[name].append(out)
        finally:
            pool.close()

    threads = [
        threading.Thread(target=run, args=(first, "first", "true")),
        threading.Thread(target=run, args=(second, "second", "exit 3")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [out.exit_code for out in outcomes["second"]] == [3] * 100
    assert [out.exit_code for out in outcomes["first"]] == [0] * 100


def test_a_helper_forgotten_after_its_pid_was_reused_leaves_the_command_known(
    tmp_path: Path,
) -> None:
    # A helper's pid, freed when Popen collected it, may be given to a command another thread
    # starts before the helper is forgotten: the command must stay planrun's own (a sweep of
    # orphans would otherwise collect it and lose its exit code).
    helper = proc.run_helper([sys.executable, "-c", "print(1)"], tmp_path)
    assert (helper.returncode, helper.stdout.strip()) == (0, "1")
    child, read_end = proc.spawn([sys.executable, "-c", "pass"], tmp_path, dict(os.environ))
    os.close(read_end)
    with proc.OWN_CHILDREN:
        proc._own[child.pid] += 1  # as if a helper with the same pid were still known
        proc._forget(child.pid)  # ... and forgotten now
    assert proc.is_own(child.pid)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet collected
    assert child.poll() == 0
    assert not proc.is_own(child.pid)
