"""What verify commands leave behind, found and ended (Linux; elsewhere these do nothing).

planrun makes itself a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``) while it runs
commands, so a process that leaves its command's process group and is orphaned (``setsid cmd
&``, a double fork) becomes planrun's child instead of init's. Every command carries a token in
its environment (``PLANRUN_SPAWN``), inherited by whatever it starts; when a command ends, the
children of planrun that carry its token are killed (with their process group). A process that
clears its environment cannot be tied to its command; at the end of a run the pool kills such
orphans when they are outside planrun's own process group. This module
never starts a process; it reads ``/proc`` and sends signals.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable, Iterator

SPAWN_VAR = "PLANRUN_SPAWN"
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_PROC = "/proc"


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded on first use: the watchdog (which imports this module) never
    calls it, and its lifetime is part of a short run's (ctypes and pathlib were a third)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # noqa: PLC0415 -- see above

    try:
        func = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    func.restype = ctypes.c_int
    return func


def become_subreaper() -> bool:
    """Make this process a child subreaper; True if it was not one before (then undo it with
    ``stop_subreaper``)."""
    call = _prctl()
    if call is None:
        return False
    import ctypes  # noqa: PLC0415 -- loaded by _prctl already

    current = ctypes.c_int(0)
    if call(_PR_GET_CHILD_SUBREAPER, ctypes.byref(current), 0, 0, 0) != 0 or current.value:
        return False
    return bool(call(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def stop_subreaper() -> None:
    call = _prctl()
    if call is not None:
        call(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def children() -> list[int]:
    """The pids whose parent is this process."""
    me = os.getpid()
    # Called each time a command ends: plain os calls, not pathlib's glob (a tenth the time).
    tasks = f"{_PROC}/{me}/task"
    try:
        threads = os.listdir(tasks)  # noqa: PTH208 -- hot path, and pathlib not loaded here
    except OSError:
        threads = []
    out: list[int] = []
    listed = False
    for tid in threads:
        try:
            text = _read(f"{tasks}/{tid}/children")
        except OSError:
            continue  # a thread that ended, or a kernel without CONFIG_PROC_CHILDREN
        listed = True
        out.extend(int(pid) for pid in text.split())
    if listed:  # kernels built with CONFIG_PROC_CHILDREN: cheap
        return out
    return [pid for pid, ppid in _all_parents() if ppid == me]


def _read(path: str) -> bytes:
    """A /proc file's bytes (``OSError`` when it cannot be read)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _all_parents() -> Iterator[tuple[int, int]]:
    try:
        entries = os.listdir(_PROC)  # noqa: PTH208 -- see children()
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = _read(f"{_PROC}/{entry}/stat")
            yield int(entry), int(stat.rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue


def is_zombie(pid: int) -> bool:
    try:
        stat = _read(f"{_PROC}/{pid}/stat")
    except OSError:
        return False
    return stat.rsplit(b")", 1)[-1].split()[:1] == [b"Z"]


def token_of(pid: int) -> str | None:
    """The PLANRUN_SPAWN token in ``pid``'s environment (None: none, gone, or a zombie)."""
    try:
        environ = _read(f"{_PROC}/{pid}/environ")
    except OSError:
        return None
    prefix = SPAWN_VAR.encode() + b"="
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode("ascii", "replace")
    return None


def with_token(prefix: str) -> list[int]:
    """Every process on the system whose token starts with ``prefix`` (after planrun died,
    its orphans belong to init: the watchdog finds them this way)."""
    return [pid for pid, _ in _all_parents() if (token_of(pid) or "").startswith(prefix)]


def group_of(pid: int) -> int | None:
    """``pid``'s process group (None: gone)."""
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def kill(pid: int) -> None:
    """SIGKILL ``pid`` and, when it leads one, its process group."""
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def reap(pid: int) -> bool:
    """Collect ``pid``'s exit status if it has ended; True when it is gone."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid
