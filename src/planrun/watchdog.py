"""The watchdog: ends planrun's verify commands when planrun itself is killed (``kill -9``).

A pool's ``Containment`` starts it once per run (``python -m planrun.watchdog PREFIX
WAKE_FD``), in its own session, with a pipe on stdin. planrun writes ``+PGID`` when a
command's process group starts and ``-PGID`` when it has been collected. When the pipe closes
(planrun exited, however it died), the watchdog kills the groups still listed and every
process whose PLANRUN_SPAWN token starts with PREFIX, then exits. A clean planrun has listed
nothing by then, so it kills nothing but what escaped a pool that was not the subreaper.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time

from planrun import reaper

_SETTLE_ROUNDS = 5  # killed parents orphan their children: look again a few times
_GATHER = 0.05
"""Seconds the watchdog waits after each read, so that planrun's next lines gather in the pipe:
a write to a pipe nobody is waiting on wakes nobody, while one that woke the watchdog cost
planrun a switch to it for each command started and ended (the pipe holds 64 KiB, about
9,000 lines: far more than planrun writes in that time). The wait ends at once when planrun
closes the wake-up pipe (WAKE_FD), as it does when its pool closes or it dies."""


def main(argv: list[str]) -> int:
    prefix = argv[0] if argv else ""
    wake = int(argv[1]) if len(argv) > 1 else None
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # only the pipe's end stops the watchdog
    groups: set[int] = set()
    buffered = b""
    while True:
        try:
            data = os.read(0, 65536)
        except InterruptedError:
            continue
        except OSError:
            data = b""
        if not data:
            break
        buffered += data
        *lines, buffered = buffered.split(b"\n")
        for line in lines:
            with contextlib.suppress(ValueError):
                pid = int(line[1:])
                if line.startswith(b"+"):
                    groups.add(pid)
                else:
                    groups.discard(pid)
        _gather(wake)
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
    if prefix:
        for _ in range(_SETTLE_ROUNDS):
            found = reaper.with_token(prefix)
            if not found:
                break
            for pid in found:
                reaper.kill(pid)
            time.sleep(0.05)
    return 0


def _gather(wake: int | None) -> None:
    """Wait _GATHER seconds, or until planrun closes the wake-up pipe (it never writes to it)."""
    with contextlib.suppress(OSError, ValueError):
        select.select([] if wake is None else [wake], [], [], _GATHER)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
