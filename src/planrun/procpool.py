"""The pool of running verify commands: starting them, the one loop that waits for their
output, exits and deadlines, and stopping them (timeouts, interrupts).

Each command runs in its own session (see ``proc.spawn``), so its whole process group,
grandchildren included, can be signalled at once. stdout and stderr share one pipe per child,
read by the same selector that waits for exits (pidfds on Linux), so there is no thread per
child; what a child prints goes to its task's LogSink (tasklog.py). A child's exit is seen
through its pidfd, not the pipe's end, so a grandchild that keeps the pipe open cannot make
planrun wait; the group is killed and the pipe drained. A signal handler wakes the selector
through a wake-up pipe. What escapes a group is containment.py's concern.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import selectors
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from planrun import proc, reaper, timeslice
from planrun.containment import Containment
from planrun.shellnames import runs_bash
from planrun.tasklog import LogSink

DEFAULT_GRACE = 5.0
# Why planrun could not run a command, or see how it ended: no verdict on the work (error).
CANNOT_START = "cannot start"
LOST = "its exit status was collected by another process"
_POLL_FALLBACK = 0.01  # seconds between polls where pidfds do not exist (macOS)
_READ_SIZE = 64 * 1024
_LOUD_PIPE = 1024 * 1024
"""A child's pipe that fills up (a loud task) grows to this where the OS allows it (Linux):
the child blocks less often, and planrun reads it in fewer, larger pieces."""
_DRAIN_READS = 32


@dataclass(frozen=True)
class Spec:
    script: str
    cwd: Path
    env: dict[str, str]
    timeout: float
    log: LogSink
    shell: tuple[str, ...] | None = None  # the plan's own shell; else the pool's
    locate: bool = False  # with bash: record its failures (proc.record_failures)
    watch: tuple[bytes, ...] = ()  # texts to look for in its output (hiddencheck.Hidden.needle)
    heads: tuple[int, ...] = ()  # lines whose starting status to record (hiddencheck.Hidden.head)


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None
    duration: float
    timed_out: bool = False
    killed_by: str | None = None  # "interrupt" when we stopped it
    error: str | None = None  # it could not be started
    # What its ERR trap recorded: (line of the script, command) of each failure, in order;
    # None when no trap was set (one command, a shell other than bash) or the file was lost.
    failures: tuple[tuple[int, str], ...] | None = None
    statuses: tuple[int, ...] = ()  # the status each of ``failures`` failed with
    # The status its shell had at each line asked (Spec.heads), by line; None: no records.
    heads: dict[int, int] | None = None


@dataclass(eq=False)
class _Child:
    token: Hashable
    popen: proc.Spawned
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
    failures: str | None = None  # the file its ERR trap records failures in (proc.py)


@dataclass
class ProcessPool:
    grace: float = DEFAULT_GRACE
    shell: str | None = None
    _children: dict[int, _Child] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._argv = proc.shell_argv(self.shell)
        proc.seal_descriptors()
        proc.default_sigchld()
        timeslice.shorten()
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
        self._contain = Containment()
        self._tmp: str | None = None  # the folder of failure records (_failures_file)
        self.waits = 0
        """How many times ``wait`` was called. A command's end reaches the scheduler only
        through ``wait``, so a task finishing under a count had its commands end before that
        count was reached (sideeffects.py shares a snapshot between a count's events so)."""

    # -- starting
    def start(self, token: Hashable, spec: Spec) -> None:
        """Start ``spec``; its Outcome comes back from ``wait`` with ``token``."""
        # The watchdog starts before the clock does: its spawn is not the command's time.
        self._contain.start_watchdog()
        started = time.monotonic()
        spec.log.begin(spec.script, spec.watch)
        spawn = self._contain.next_token()
        argv = spec.shell or self._argv
        script = spec.script
        failures = self._failures_file() if spec.locate and runs_bash(argv) else None
        if failures is not None:
            script = proc.record_failures(failures, script, spec.heads) + script
        try:
            popen, read_end = proc.spawn(
                [*argv, script], spec.cwd, {**spec.env, reaper.SPAWN_VAR: spawn}
            )
        except (OSError, ValueError) as exc:
            if failures is not None:
                proc.read_failures(failures)  # removes it
            why = f"{CANNOT_START}: {exc}"
            if getattr(exc, "errno", None) == errno.E2BIG:
                why += " (a script this long cannot be given to a shell: run it from a file)"
            self._done.append((token, Outcome(None, 0.0, error=why)))
            return
        self._contain.started(popen.pid)
        pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(popen.pid)
        child = _Child(
            token, popen, started, started + spec.timeout, pidfd, read_end, spec.log, spawn
        )
        child.failures = failures
        self._children[popen.pid] = child
        self._selector.register(read_end, selectors.EVENT_READ, ("out", child))
        if pidfd is not None:
            self._selector.register(pidfd, selectors.EVENT_READ, ("exit", child))

    def _failures_file(self) -> str | None:
        """A new empty file for a script's ERR trap to record its failures in, in the pool's
        own temporary folder (removed with the pool, whatever a run left); None when none can
        be made (the script runs without the trap, and its failures are judged unseen)."""
        try:
            if self._tmp is None:
                self._tmp = _safe_folder()
            if self._tmp is None:
                return None
            fd, name = tempfile.mkstemp(prefix="failures-", dir=self._tmp)
        except OSError:
            return None
        os.close(fd)
        return name

    # -- waiting
    def wait(self) -> list[tuple[Hashable, Outcome]]:
        """Block until a child ends, a deadline passes, or ``wake`` is called."""
        self.waits += 1
        if self._done:
            done, self._done = self._done, []
            return done
        if not self._children:
            self._drain_wake()
            self._contain.sweep_ended(self._children, at_once=True)
            return []
        timeout = max(0.0, self._next_deadline() - time.monotonic())
        sweep_in = self._contain.sweep_in(time.monotonic())
        if sweep_in is not None:
            timeout = min(timeout, sweep_in)
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
        self._contain.sweep_ended(self._children)
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
            self._contain.ended(pid, child.spawn)
            self._read(child, drain=True)
            if child.out is not None:
                self._selector.unregister(child.out)
                os.close(child.out)
                child.out = None
            duration = time.monotonic() - child.started
            records = proc.read_failures(child.failures) if child.failures else None
            if child.popen.lost:
                lost = LOST
                self._done.append((child.token, Outcome(None, duration, error=lost)))
            elif child.reason == "timeout":
                self._done.append((child.token, Outcome(None, duration, timed_out=True)))
            elif child.reason == "interrupt":
                self._done.append((child.token, Outcome(None, duration, killed_by="interrupt")))
            else:
                failures = records.failures if records else None
                statuses = records.statuses if records else ()
                heads = records.heads if records else None
                outcome = Outcome(code, duration, failures=failures, statuses=statuses, heads=heads)
                self._done.append((child.token, outcome))

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
        self._contain.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        os.close(self._tend_r)
        os.close(self._tend_w)


def _safe_folder() -> str | None:
    """A new temporary folder whose path the trap can hold without quoting: the system's
    (TMPDIR), else /tmp or /var/tmp where TMPDIR holds a space or a quote."""
    for where in (None, "/tmp", "/var/tmp"):  # noqa: S108 -- a private mkdtemp folder
        try:
            folder = tempfile.mkdtemp(prefix="planrun-", dir=where)
        except OSError:
            continue
        if proc.SAFE_PATH.fullmatch(folder):
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    return None


def _grow_pipe(fd: int) -> int:
    """Make the pipe ``fd`` _LOUD_PIPE bytes where the OS allows it; the size to read it by."""
    try:
        return max(_READ_SIZE, fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _LOUD_PIPE))
    except (AttributeError, OSError):  # not Linux, or over the user's pipe quota
        return _READ_SIZE


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
