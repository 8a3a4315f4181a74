"""Containment of a pool's commands beyond their process groups: spawn tokens, the subreaper's
sweeps of orphans, and the watchdog (see reaper.py and watchdog.py).

While a pool runs commands, planrun is a child subreaper and each command carries a
PLANRUN_SPAWN token; when a command ends, orphans carrying its token are killed, and when the
pool closes every orphan of the pool. A watchdog process, told each group as it starts and
ends, kills what is left if planrun itself dies (``kill -9``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Callable, Container

from planrun import proc, reaper

# Finding orphans may mean reading every /proc/PID/stat (~3 ms for 100 processes): commands
# that end close together share one sweep, at most one every _SWEEP_EVERY seconds.
_SWEEP_EVERY = 0.1
_open_pools = 0  # pools open in this process (the MCP server may run two at once)


class Containment:
    """One pool's spawn tokens, orphan sweeps and watchdog. Made when the pool opens;
    ``close`` once its commands have all been collected."""

    def __init__(self) -> None:
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
        self._wake_w: int | None = None

    def next_token(self) -> str:
        """The PLANRUN_SPAWN token of the next command."""
        self._spawned += 1
        return f"{self._prefix}{self._spawned}"

    def started(self, pgid: int) -> None:
        """A command's process group has started: the watchdog is told."""
        self._tell_watchdog(f"+{pgid}")

    def ended(self, pgid: int, spawn: str) -> None:
        """A command's group has been collected: the watchdog forgets it, and the orphans
        carrying its token are due a sweep."""
        self._tell_watchdog(f"-{pgid}")
        self._ended.add(spawn)

    def sweep_in(self, now: float) -> float | None:
        """Seconds until the due sweep may run, or None when none is due."""
        if not self._ended:
            return None
        return max(0.0, self._swept + _SWEEP_EVERY - now)

    def sweep_ended(self, commands: Container[int], *, at_once: bool = False) -> None:
        """Kill the orphans of ended commands: when the last sweep is old enough, or
        ``at_once``. ``commands`` are the pids of the commands still running."""
        if self._ended and (at_once or time.monotonic() >= self._swept + _SWEEP_EVERY):
            ended, self._ended = self._ended, set()
            self._sweep(ended.__contains__, commands)

    def _sweep(
        self, ours: Callable[[str], bool], commands: Container[int], *, strays: bool = False
    ) -> None:
        """Kill the orphans (now planrun's children) whose token ``ours`` accepts, and collect
        those killed before. With ``strays`` (the run is over), also those without a token
        (a command cleared their environment) outside planrun's own process group: helpers
        planrun starts itself stay in its group, so an orphan elsewhere came from a command."""
        self._swept = time.monotonic()
        # Another pool's commands and planrun's helpers are collected by whoever started
        # them, and are not started meanwhile unknown (proc.OWN_CHILDREN).
        with proc.OWN_CHILDREN:
            self._sweep_children(ours, commands, strays=strays)

    def _sweep_children(
        self, ours: Callable[[str], bool], commands: Container[int], *, strays: bool
    ) -> None:
        if self._subreaper:
            own_group = os.getpgrp()
            for _ in range(4):  # a killed orphan's own children are orphaned in turn
                found = []
                for pid in self._foreign_children(commands):
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

    def _foreign_children(self, commands: Container[int]) -> list[int]:
        """planrun's children that are not its commands: orphans it inherited as subreaper
        (children it had before the pool, and the watchdog, are left alone)."""
        watchdog = self._watchdog.pid if self._watchdog is not None else None
        return [
            pid
            for pid in reaper.children()
            if pid not in commands
            and not proc.is_own(pid)
            and pid not in self._orphans
            and pid not in self._before
            and pid != watchdog
        ]

    def start_watchdog(self) -> None:
        """Start the watchdog, once per pool (before a command's clock starts)."""
        if self._watchdog is not None or sys.platform == "win32":
            return
        read_end, write_end = os.pipe()
        # Never written to: closed when the pool closes (or planrun dies), which ends the
        # watchdog's wait between reads at once (see watchdog._GATHER).
        wake_r, wake_w = os.pipe()
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-m", "planrun.watchdog", self._prefix, str(wake_r)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
                pass_fds=(wake_r,),
            )
        except OSError:
            os.close(write_end)
            os.close(wake_w)
            return
        finally:
            os.close(read_end)
            os.close(wake_r)
        self._watch_w = write_end
        self._wake_w = wake_w

    def _tell_watchdog(self, line: str) -> None:
        if self._watch_w is not None:
            try:
                os.write(self._watch_w, f"{line}\n".encode())
            except OSError:  # the watchdog is gone: containment after a crash is lost, not the run
                os.close(self._watch_w)
                self._watch_w = None

    def _stop_watchdog(self) -> None:
        for fd in (self._watch_w, self._wake_w):
            if fd is not None:
                os.close(fd)
        self._watch_w = self._wake_w = None
        if self._watchdog is not None:
            # It makes its last pass (groups still listed, processes with the run's token:
            # a pool that is not the subreaper cannot sweep them itself), then exits.
            _wait_exit(self._watchdog, 10)
            self._watchdog = None

    def close(self) -> None:
        """Kill every orphan of the pool's commands, stop being a subreaper, stop the
        watchdog. Called when no command of the pool is running any more."""
        global _open_pools  # noqa: PLW0603
        _open_pools -= 1
        prefix = self._prefix
        # Orphans without a token can be told to be a command's only when no other run is
        # going on in this process (the MCP server may run two).
        strays = _open_pools == 0
        end = time.monotonic() + 5
        none: frozenset[int] = frozenset()
        self._sweep(lambda spawn: spawn.startswith(prefix), none, strays=strays)
        while self._orphans and time.monotonic() < end:
            time.sleep(0.005)
            self._sweep(lambda spawn: spawn.startswith(prefix), none, strays=strays)
        if self._subreaper:
            reaper.stop_subreaper()
            self._subreaper = False
        self._stop_watchdog()


def _wait_exit(child: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for ``child`` to exit, and collect it if it did. On a
    pidfd (Linux 5.3 and later) the wait ends as it exits: ``Popen.wait(timeout)`` polls with
    sleeps that double up to 50 ms, which cost a short run up to twice the watchdog's time."""
    try:
        pidfd = os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=timeout)
        return
    try:
        poller = select.poll()  # not select(): a descriptor above 1023 is refused there
        poller.register(pidfd, select.POLLIN)
        with contextlib.suppress(OSError):
            poller.poll(timeout * 1000)
    finally:
        os.close(pidfd)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=0)
