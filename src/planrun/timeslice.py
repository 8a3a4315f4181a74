"""A short time slice for planrun's own thread, so that it is not left waiting behind the
commands it starts.

On a busy machine a command started by ``os.posix_spawn`` often runs on planrun's own CPU:
planrun sleeps until the child has exec'd, and, woken, waits out the child's whole time slice
(about 1.4 ms on Linux's EEVDF scheduler, longer than a trivial check lives) before it can
start the next command or read the one that ended. Linux 6.12 and later let a thread ask for a
shorter slice (``sched_setattr`` with ``sched_runtime`` under the normal policy), and a thread
with a shorter slice may preempt on waking. The commands keep the default slice:
``SCHED_FLAG_RESET_ON_FORK`` gives every child the normal one. Measured in
benchmarks/RESULTS.md (1,000 short checks ``-j2``); a kernel that refuses or ignores it
changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys

# sched_setattr(2)'s number where planrun knows it; elsewhere nothing is asked.
_SYSCALL = {"x86_64": 314, "aarch64": 274}
_RESET_ON_FORK = 0x01  # SCHED_FLAG_RESET_ON_FORK
_SLICE_NS = 100_000  # the shortest slice Linux grants (0.1 ms)
_ATTR = struct.Struct("<IIQiIQQQII")  # struct sched_attr, SCHED_ATTR_SIZE_VER1 (56 bytes)


def shorten() -> bool:
    """Ask for the short slice for the calling thread; whether the kernel accepted the
    request (an older kernel accepts and ignores it). Only under the normal policy at a nice
    value of 0 or more: reset-on-fork would give children of a thread with a negative nice
    value nice 0, and another policy is the user's choice."""
    if sys.platform != "linux":
        return False
    number = _SYSCALL.get(os.uname().machine)
    if number is None:
        return False
    try:
        if os.sched_getscheduler(0) != os.SCHED_OTHER:
            return False
        nice = os.getpriority(os.PRIO_PROCESS, 0)
    except OSError:
        return False
    if nice < 0:
        return False
    import ctypes  # noqa: PLC0415 -- only a pool that runs commands needs it

    attr = _ATTR.pack(_ATTR.size, os.SCHED_OTHER, _RESET_ON_FORK, nice, 0, _SLICE_NS, 0, 0, 0, 0)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        buffer = ctypes.create_string_buffer(attr, len(attr))
        return int(libc.syscall(number, 0, buffer, 0)) == 0
    return False
