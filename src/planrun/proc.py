"""The one module that starts, waits for and kills child processes.

Each verify script runs as ``bash -c SCRIPT`` (``sh -c`` without bash) in its own session, so
its whole process group, grandchildren included, can be signalled at once. Output goes
straight from the child to its log file: planrun holds no pipe, so there is no reader thread
per child, memory stays flat whatever a task prints, and a grandchild that keeps the output
open cannot make planrun hang. Children are awaited through pidfds in one selector (Linux),
which wakes the moment any child exits, at the next deadline, or when a signal handler writes
to the wake-up pipe.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_GRACE = 5.0
_POLL_FALLBACK = 0.01  # seconds between polls where pidfds do not exist (macOS)


def shell_argv() -> list[str]:
    bash = shutil.which("bash")
    return [bash, "-c"] if bash else ["/bin/sh", "-c"]


@dataclass(frozen=True)
class Spec:
    script: str
    cwd: Path
    env: dict[str, str]
    timeout: float
    log_path: Path


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
    term_at: float | None = None  # when SIGTERM was sent
    reason: str | None = None  # "timeout" or "interrupt"


@dataclass
class ProcessPool:
    grace: float = DEFAULT_GRACE
    _children: dict[int, _Child] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._argv = shell_argv()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._done: list[tuple[Hashable, Outcome]] = []

    # -- starting
    def start(self, token: Hashable, spec: Spec) -> None:
        """Start ``spec``; its Outcome comes back from ``wait`` with ``token``."""
        started = time.monotonic()
        try:
            with spec.log_path.open("ab") as log:
                log.write(f"$ {spec.script}\n".encode())
                log.flush()
                popen = subprocess.Popen(
                    [*self._argv, spec.script],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=spec.cwd,
                    env=spec.env,
                    start_new_session=True,
                    close_fds=True,
                )
        except OSError as exc:
            self._done.append((token, Outcome(None, 0.0, error=f"cannot start: {exc}")))
            return
        pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(popen.pid)
        child = _Child(token, popen, started, started + spec.timeout, pidfd)
        self._children[popen.pid] = child
        if pidfd is not None:
            self._selector.register(pidfd, selectors.EVENT_READ, child)

    @property
    def running(self) -> int:
        return len(self._children)

    # -- waiting
    def wait(self) -> list[tuple[Hashable, Outcome]]:
        """Block until a child ends, a deadline passes, or ``wake`` is called."""
        if self._done:
            done, self._done = self._done, []
            return done
        if not self._children:
            self._drain_wake()
            return []
        timeout = max(0.0, self._next_deadline() - time.monotonic())
        if any(c.pidfd is None for c in self._children.values()):
            timeout = min(timeout, _POLL_FALLBACK)
        events = self._selector.select(timeout)
        for key, _ in events:
            if key.data is None:
                self._drain_wake()
        self._reap()
        self._enforce_deadlines()
        done, self._done = self._done, []
        return done

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

    def _reap(self) -> None:
        for pid, child in list(self._children.items()):
            code = child.popen.poll()
            if code is None:
                continue
            del self._children[pid]
            if child.pidfd is not None:
                self._selector.unregister(child.pidfd)
                os.close(child.pidfd)
            # Whatever the script left running in the background goes with it.
            _signal_group(pid, signal.SIGKILL)
            duration = time.monotonic() - child.started
            if child.reason == "timeout":
                self._done.append((child.token, Outcome(None, duration, timed_out=True)))
            elif child.reason == "interrupt":
                self._done.append((child.token, Outcome(None, duration, killed_by="interrupt")))
            else:
                self._done.append((child.token, Outcome(code, duration)))

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
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def read_tail(path: Path, max_bytes: int = 64 * 1024, max_lines: int = 200) -> str:
    """The last lines of a log, bounded in bytes and lines, however large the log is."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if size > max_bytes:
        text = text.split("\n", 1)[-1]  # drop the partial first line
    lines = text.splitlines()
    return "\n".join(lines[-max_lines:])
