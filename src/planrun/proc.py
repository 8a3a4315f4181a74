"""The one module that starts, waits for and kills child processes.

Each verify script runs as GitHub Actions runs ``shell: bash``: ``bash --noprofile --norc -eo
pipefail -c SCRIPT`` (``sh -e -c`` without bash), so a failing line or pipeline stage fails the
script; a plan's or the configuration's ``shell`` replaces that. Each runs in its own session, so
its whole process group, grandchildren included, can be signalled at once. stdout and stderr
share one pipe per child, read by the same selector that waits for exits (pidfds on Linux),
so there is no thread per child. What a child prints is streamed to its task's log file,
which is created on the first byte (a silent task costs no file: creating one is the dearest
step of a small task), and only the last 64 KiB stay in memory. A child's exit is seen through
its pidfd, not the pipe's end, so a grandchild that keeps the pipe open cannot make planrun
wait; the group is killed and the pipe drained. A signal handler wakes the selector through
a wake-up pipe.

Containment beyond the process group (see reaper.py and watchdog.py): while a pool runs
commands, planrun is a child subreaper and each command carries a PLANRUN_SPAWN token; when
a command ends, orphans carrying its token are killed, and at ``close`` every orphan of the
pool. A watchdog process, told each group as it starts and ends, kills what is left if planrun
itself dies (``kill -9``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from planrun import reaper
from planrun.errors import UsageError

DEFAULT_GRACE = 5.0
_POLL_FALLBACK = 0.01  # seconds between polls where pidfds do not exist (macOS)
# Finding orphans may mean reading every /proc/PID/stat (~3 ms for 100 processes): commands
# that end close together share one sweep, at most one every _SWEEP_EVERY seconds.
_SWEEP_EVERY = 0.1
_open_pools = 0  # pools open in this process (the MCP server may run two at once)


DEFAULT_SHELL = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c")
FALLBACK_SHELL = ("/bin/sh", "-e", "-c")


def shell_argv(shell: str | None = None) -> tuple[str, ...]:
    """The command line a script is appended to. ``shell`` is a program name (``bash``: plain
    ``bash -c``, the behaviour before pipefail) or a whole command line ending in the flag that
    takes the script (``bash -e -c``); the default is :data:`DEFAULT_SHELL`, else
    :data:`FALLBACK_SHELL`."""
    if shell:
        try:
            words = shlex.split(shell)
        except ValueError as exc:
            raise UsageError(f'the shell "{shell}" is not a valid command line: {exc}') from None
        found = shutil.which(words[0]) if words else None
        if found is None:
            raise UsageError(f'the configured shell "{shell}" was not found on PATH')
        return (found, *(words[1:] or ["-c"]))
    bash = shutil.which("bash")
    return (bash, *DEFAULT_SHELL[1:]) if bash else FALLBACK_SHELL


# Put before a multi-line script run by bash, on its first line so line numbers stay the
# script's own: when -e stops the script, the log says where.
LOCATE_FAILURE = "trap 'echo \"planrun: failed at line $LINENO\" >&2' ERR; "
FAILED_AT = re.compile(r"^planrun: failed at line (\d+)$", re.MULTILINE)

TAIL_BYTES = 64 * 1024
TAIL_LINES = 200
_READ_SIZE = 64 * 1024
_LOUD_PIPE = 1024 * 1024
"""A child's pipe that fills up (a loud task) grows to this where the OS allows it (Linux):
the child blocks less often, and planrun reads it in fewer, larger pieces."""
_DRAIN_READS = 32


def _keep_last(buf: bytearray, data: bytes) -> None:
    """``buf += data``, then over 2 * TAIL_BYTES keep the last TAIL_BYTES: without copying
    all of a large ``data`` into ``buf`` first."""
    if len(buf) + len(data) <= 2 * TAIL_BYTES:
        buf += data
    elif len(data) >= TAIL_BYTES:
        buf[:] = data[-TAIL_BYTES:]
    else:
        del buf[: len(buf) + len(data) - TAIL_BYTES]
        buf += data


class LogSink:
    """A task's output: the log file (created on first output) and a bounded in-memory tail.
    All commands of a task write to one sink, each announced by a ``$ command`` line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._header = b""
        self._tail = bytearray()
        self._command = bytearray()  # the current command's output, bounded like the tail
        self.written = 0
        self.error: str | None = None
        """Why the log file could not be written (a full disk, a folder that cannot be made):
        the task goes on, its tail is kept in memory and says so."""

    def begin(self, script: str) -> None:
        self._header = f"$ {script}\n".encode()
        self._command = bytearray()

    def write(self, data: bytes) -> None:
        _keep_last(self._command, data)
        if self._header:
            data, self._header = self._header + data, b""
        _keep_last(self._tail, data)
        if self.error is not None:
            return
        # A log that cannot be written (disk full, a name too long) loses the full output,
        # not the run: the command's verdict and output tail stand.
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("ab")
            self._file.write(data)
            self.written += len(data)
        except (OSError, ValueError) as exc:
            self.error = (
                f"cannot write the log {self.path}: {getattr(exc, 'strerror', None) or exc}"
            )
            self._close_quietly()

    def _close_quietly(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self.error = self.error or f"cannot write the log {self.path}: {exc.strerror}"
            self._file = None

    @property
    def exists(self) -> bool:
        return self.written > 0

    def tail(self) -> str:
        text = _bounded_tail(bytes(self._tail[-TAIL_BYTES:]), cut=len(self._tail) > TAIL_BYTES)
        return f"[planrun: {self.error}]\n{text}" if self.error else text

    def command_output(self) -> bytes:
        """The output of the command begun last, as bytes, bounded like the tail (what an
        ``expect_output`` judges)."""
        return bytes(self._command[-TAIL_BYTES:])

    def command_tail(self) -> str:
        """The last output of the command begun last (what evidence rules read)."""
        data = self._command
        return _bounded_tail(bytes(data[-TAIL_BYTES:]), cut=len(data) > TAIL_BYTES)


@dataclass(frozen=True)
class Spec:
    script: str
    cwd: Path
    env: dict[str, str]
    timeout: float
    log: LogSink
    shell: tuple[str, ...] | None = None  # the plan's own shell; else the pool's
    locate: bool = False  # with bash: say at which line a failing script stopped


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None
    duration: float
    timed_out: bool = False
    killed_by: str | None = None  # "interrupt" when we stopped it
    error: str | None = None  # it could not be started


@dataclass(eq=False)
class _Child:
    token: Hashable
    popen: subprocess.Popen[bytes]
    started: float
    deadline: float
    pidfd: int | None
    out: int | None  # read end of the output pipe, until EOF
    log: LogSink
    spawn: str = ""  # its PLANRUN_SPAWN token
    read_size: int = _READ_SIZE  # grown once, when a read fills it (see _LOUD_PIPE)
    grown: bool = False
    term_at: float | None = None  # when SIGTERM was sent
    reason: str | None = None  # "timeout" or "interrupt"


@dataclass
class ProcessPool:
    grace: float = DEFAULT_GRACE
    shell: str | None = None
    _children: dict[int, _Child] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._argv = shell_argv(self.shell)
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        # Ends the tending thread (see ``tended``) at once, without touching the wake-up pipe.
        self._tend_r, self._tend_w = os.pipe()
        os.set_blocking(self._tend_r, False)
        self._selector.register(self._tend_r, selectors.EVENT_READ, ("tend", None))
        self._done: list[tuple[Hashable, Outcome]] = []
        global _open_pools  # noqa: PLW0603 -- one count per process, like the subreaper
        _open_pools += 1
        self._subreaper = reaper.become_subreaper()
        self._before = set(reaper.children()) if self._subreaper else set()
        self._prefix = f"{os.getpid()}-{secrets.token_hex(4)}-"
        self._spawned = 0
        self._orphans: set[int] = set()  # killed orphans not yet collected
        self._ended: set[str] = set()  # tokens of ended commands whose orphans are due a sweep
        self._swept = 0.0
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._watch_w: int | None = None

    # -- starting
    def start(self, token: Hashable, spec: Spec) -> None:
        """Start ``spec``; its Outcome comes back from ``wait`` with ``token``."""
        self._start_watchdog()  # before the clock starts: its spawn is not the command's time
        started = time.monotonic()
        spec.log.begin(spec.script)
        self._spawned += 1
        spawn = f"{self._prefix}{self._spawned}"
        argv = spec.shell or self._argv
        script = spec.script
        if spec.locate and Path(argv[0]).name == "bash":
            script = LOCATE_FAILURE + script
        read_end, write_end = os.pipe()
        try:
            popen = subprocess.Popen(
                [*argv, script],
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env={**spec.env, reaper.SPAWN_VAR: spawn},
                start_new_session=True,
                close_fds=True,
            )
        except (OSError, ValueError) as exc:
            os.close(read_end)
            self._done.append((token, Outcome(None, 0.0, error=f"cannot start: {exc}")))
            return
        finally:
            os.close(write_end)
        self._tell_watchdog(f"+{popen.pid}")
        os.set_blocking(read_end, False)
        pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(popen.pid)
        child = _Child(
            token, popen, started, started + spec.timeout, pidfd, read_end, spec.log, spawn
        )
        self._children[popen.pid] = child
        self._selector.register(read_end, selectors.EVENT_READ, ("out", child))
        if pidfd is not None:
            self._selector.register(pidfd, selectors.EVENT_READ, ("exit", child))

    # -- waiting
    def wait(self) -> list[tuple[Hashable, Outcome]]:
        """Block until a child ends, a deadline passes, or ``wake`` is called."""
        if self._done:
            done, self._done = self._done, []
            return done
        if not self._children:
            self._drain_wake()
            if self._ended:
                ended, self._ended = self._ended, set()
                self._sweep(ended.__contains__)
            return []
        timeout = max(0.0, self._next_deadline() - time.monotonic())
        if self._ended:
            timeout = min(timeout, max(0.0, self._swept + _SWEEP_EVERY - time.monotonic()))
        if any(c.pidfd is None for c in self._children.values()):
            timeout = min(timeout, _POLL_FALLBACK)
        events = self._selector.select(timeout)
        for key, _ in events:
            if key.data is None:
                self._drain_wake()
            elif key.data[0] == "out":
                self._read(key.data[1])
            elif key.data[0] == "tend":
                self._drain_tend()
        self._reap()
        self._enforce_deadlines()
        if self._ended and time.monotonic() >= self._swept + _SWEEP_EVERY:
            ended, self._ended = self._ended, set()
            self._sweep(ended.__contains__)
        done, self._done = self._done, []
        return done

    @contextlib.contextmanager
    def tended(self) -> Iterator[None]:
        """While the body runs (planrun's own must_haves checks, which may take up to a task's
        timeout), a thread tends the running commands: reads their output, collects their
        exits and enforces their deadlines, so a command cannot pass its timeout unseen. The
        body must not use the pool; the outcomes wait for the next ``wait``. A wake-up (a
        signal) ends the tending early and is left for ``wait``."""
        if not self._children:
            yield
            return
        done = threading.Event()
        thread = threading.Thread(target=self._tend, args=(done,), name="planrun-tend")
        thread.start()
        try:
            yield
        finally:
            done.set()
            with contextlib.suppress(OSError):
                os.write(self._tend_w, b"\0")
            thread.join()
            self._drain_tend()

    def _tend(self, done: threading.Event) -> None:
        while not done.is_set() and self._children:
            timeout = max(0.0, self._next_deadline() - time.monotonic())
            if any(c.pidfd is None for c in self._children.values()):
                timeout = min(timeout, _POLL_FALLBACK)
            events = self._selector.select(timeout)
            if done.is_set() or any(key.data is None for key, _ in events):
                return
            for key, _ in events:
                if key.data[0] == "out":
                    self._read(key.data[1])
            self._reap()
            self._enforce_deadlines()

    def _drain_tend(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._tend_r, 512):
                pass

    def wake(self) -> None:
        """Make a blocked ``wait`` return; safe to call from a signal handler."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._wake_r, 512):
                pass

    def _next_deadline(self) -> float:
        return min(
            child.deadline if child.term_at is None else child.term_at + self.grace
            for child in self._children.values()
        )

    def _read(self, child: _Child, *, drain: bool = False) -> None:
        """Move what the child printed to its sink: one read, or what is buffered (``drain``:
        bounded, in case something that escaped the group keeps writing)."""
        reads = 0
        while child.out is not None and reads < _DRAIN_READS:
            reads += 1
            try:
                data = os.read(child.out, child.read_size)
            except BlockingIOError:
                return
            if not data:
                self._selector.unregister(child.out)
                os.close(child.out)
                child.out = None
                return
            child.log.write(data)
            if not child.grown and len(data) == _READ_SIZE:
                child.grown = True
                child.read_size = _grow_pipe(child.out)
            if not drain:
                return

    def _reap(self) -> None:
        for pid, child in list(self._children.items()):
            code = child.popen.poll()
            if code is None:
                continue
            del self._children[pid]
            if child.pidfd is not None:
                self._selector.unregister(child.pidfd)
                os.close(child.pidfd)
            # Whatever the script left running in the background goes with it; what it had
            # printed is taken, and the pipe closed even if a killed grandchild held it.
            _signal_group(pid, signal.SIGKILL)
            self._tell_watchdog(f"-{pid}")
            self._ended.add(child.spawn)
            self._read(child, drain=True)
            if child.out is not None:
                self._selector.unregister(child.out)
                os.close(child.out)
                child.out = None
            duration = time.monotonic() - child.started
            if child.reason == "timeout":
                self._done.append((child.token, Outcome(None, duration, timed_out=True)))
            elif child.reason == "interrupt":
                self._done.append((child.token, Outcome(None, duration, killed_by="interrupt")))
            else:
                self._done.append((child.token, Outcome(code, duration)))

    # -- containment
    def _sweep(self, ours: Callable[[str], bool], *, strays: bool = False) -> None:
        """Kill the orphans (now planrun's children) whose token ``ours`` accepts, and collect
        those killed before. With ``strays`` (the run is over), also those without a token
        (a command cleared their environment) outside planrun's own process group: helpers
        planrun starts itself stay in its group, so an orphan elsewhere came from a command."""
        self._swept = time.monotonic()
        if self._subreaper:
            own_group = os.getpgrp()
            for _ in range(4):  # a killed orphan's own children are orphaned in turn
                found = []
                for pid in self._foreign_children():
                    token = reaper.token_of(pid)
                    if token is None and reaper.is_zombie(pid):
                        # An orphan that ended by itself: collect it, or zombies pile up
                        # until no pid is left.
                        reaper.reap(pid)
                    elif ours(token or "") or (
                        strays and token is None and reaper.group_of(pid) not in (None, own_group)
                    ):
                        found.append(pid)
                for pid in found:
                    reaper.kill(pid)
                self._orphans.update(found)
                if not found:
                    break
        self._orphans = {pid for pid in self._orphans if not reaper.reap(pid)}

    def _foreign_children(self) -> list[int]:
        """planrun's children that are not its commands: orphans it inherited as subreaper
        (children it had before the pool, and the watchdog, are left alone)."""
        watchdog = self._watchdog.pid if self._watchdog is not None else None
        return [
            pid
            for pid in reaper.children()
            if pid not in self._children
            and pid not in self._orphans
            and pid not in self._before
            and pid != watchdog
        ]

    def _start_watchdog(self) -> None:
        if self._watchdog is not None or sys.platform == "win32":
            return
        read_end, write_end = os.pipe()
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-m", "planrun.watchdog", self._prefix],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        except OSError:
            os.close(write_end)
            return
        finally:
            os.close(read_end)
        self._watch_w = write_end

    def _tell_watchdog(self, line: str) -> None:
        if self._watch_w is not None:
            try:
                os.write(self._watch_w, f"{line}\n".encode())
            except OSError:  # the watchdog is gone: containment after a crash is lost, not the run
                os.close(self._watch_w)
                self._watch_w = None

    def _stop_watchdog(self) -> None:
        if self._watch_w is not None:
            os.close(self._watch_w)
            self._watch_w = None
        if self._watchdog is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout=10)
            self._watchdog = None

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for pid, child in self._children.items():
            if child.term_at is None and now >= child.deadline:
                child.reason = child.reason or "timeout"
                child.term_at = now
                _signal_group(pid, signal.SIGTERM)
            elif child.term_at is not None and now >= child.term_at + self.grace:
                _signal_group(pid, signal.SIGKILL)

    # -- stopping
    def terminate_all(self, *, kill: bool = False) -> None:
        """Stop every running group: SIGTERM now and SIGKILL after the grace period, or SIGKILL
        at once with ``kill``."""
        now = time.monotonic()
        for pid, child in self._children.items():
            child.reason = child.reason or "interrupt"
            if kill:
                _signal_group(pid, signal.SIGKILL)
            elif child.term_at is None:
                child.term_at = now
                _signal_group(pid, signal.SIGTERM)

    def close(self) -> None:
        self.terminate_all(kill=True)
        while self._children:
            self._reap()
            if self._children:
                time.sleep(0.005)
        global _open_pools  # noqa: PLW0603
        _open_pools -= 1
        prefix = self._prefix
        # Orphans without a token can be told to be a command's only when no other run is
        # going on in this process (the MCP server may run two).
        strays = _open_pools == 0
        end = time.monotonic() + 5
        self._sweep(lambda spawn: spawn.startswith(prefix), strays=strays)
        while self._orphans and time.monotonic() < end:
            time.sleep(0.005)
            self._sweep(lambda spawn: spawn.startswith(prefix), strays=strays)
        if self._subreaper:
            reaper.stop_subreaper()
            self._subreaper = False
        self._stop_watchdog()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        os.close(self._tend_r)
        os.close(self._tend_w)


@dataclass(frozen=True)
class Captured:
    """What a short synchronous command printed, and how it exited."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_helper(
    argv: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> Captured:
    """Run a short helper (git) to completion and take its output; a program that is missing,
    cannot start or does not finish is a non-zero result, never an exception."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Captured(-1, "", str(exc))
    return Captured(
        done.returncode,
        done.stdout.decode("utf-8", errors="surrogateescape"),
        done.stderr.decode("utf-8", errors="replace"),
    )


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Captured:
    """``git ARGS`` in ``cwd``, with git's own prompts and pagers switched off."""
    base = os.environ if env is None else env
    # GIT_OPTIONAL_LOCKS=0: git status and diff must not refresh (write) the user's index.
    quiet = {
        **base,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
    }
    return run_helper(["git", *args], cwd, env=quiet)


def _grow_pipe(fd: int) -> int:
    """Make the pipe ``fd`` _LOUD_PIPE bytes where the OS allows it; the size to read it by."""
    try:
        return max(_READ_SIZE, fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _LOUD_PIPE))
    except (AttributeError, OSError):  # not Linux, or over the user's pipe quota
        return _READ_SIZE


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _bounded_tail(data: bytes, *, cut: bool) -> str:
    text = data.decode("utf-8", errors="replace")
    if cut:
        text = text.split("\n", 1)[-1]  # drop the partial first line
    return "\n".join(text.splitlines()[-TAIL_LINES:])


def capture(argv: list[str], cwd: Path, stdin: str = "", timeout: float = 60.0) -> str | None:
    """A short helper command's stdout (``git check-ignore``...), or None when it could not
    run or failed: callers treat a missing answer as "unknown", never as an error."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode in (0, 1) else None
