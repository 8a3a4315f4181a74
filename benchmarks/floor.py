"""The floor under planrun's figures: a minimal runner doing only what planrun must do per
task, run by benchmarks/run.py beside planrun and make.

    python benchmarks/floor.py independent TASKS RECIPE   # TASKS tasks, two at a time
    python benchmarks/floor.py chain TASKS RECIPE         # each task after the one before
    python benchmarks/floor.py dag TASKS SECONDS          # workloads.deep_sleep_dag; its
                                                          # last line: makespan SECONDS

Per task: ``os.posix_spawn`` of the same bash planrun runs a check with, output on a pipe,
the pipe and a pidfd in one epoll loop, one SQLite transaction (WAL, synchronous=NORMAL, as
planrun's state) and one output line. No plan is read, no evidence rule applied, nothing
contained or logged: whatever planrun takes beyond this is planrun's own code. The DAG is run
highest remaining path first, with the real durations (what planrun knows on a second run).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import select
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import workloads

SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
JOBS = 2


class Runner:
    def __init__(self, folder: str) -> None:
        self.db = sqlite3.connect(Path(folder) / "state.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("CREATE TABLE results (task TEXT PRIMARY KEY, code INT, duration REAL)")
        self.epoll = select.epoll()
        self.running: dict[int, tuple[str, int, int, float]] = {}  # pidfd: task, pid, pipe...
        self.pipes: set[int] = set()  # read ends still open
        self.bash = shutil.which("bash") or "/bin/bash"

    def start(self, task: str, script: str) -> None:
        read_end, write_end = os.pipe()
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, write_end, 1),
            (os.POSIX_SPAWN_DUP2, write_end, 2),
        ]
        pid = os.posix_spawn(
            self.bash, [*SHELL, script], os.environ, file_actions=actions, setsid=True
        )
        os.close(write_end)
        pidfd = os.pidfd_open(pid)
        self.epoll.register(pidfd, select.EPOLLIN)
        self.epoll.register(read_end, select.EPOLLIN)
        self.pipes.add(read_end)
        self.running[pidfd] = (task, pid, read_end, time.monotonic())

    def wait(self) -> list[str]:
        """Block until a task ends; the tasks that ended (recorded, each in one transaction)."""
        ended: list[str] = []
        while not ended:
            for fd, _ in self.epoll.poll():
                if fd in self.pipes:
                    if not os.read(fd, 65536):
                        self._close_pipe(fd)
                    continue
                if fd not in self.running:
                    continue
                task, pid, read_end, started = self.running.pop(fd)
                _, status = os.waitpid(pid, 0)
                self.epoll.unregister(fd)
                os.close(fd)
                if read_end in self.pipes:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(read_end, 65536):
                            pass
                    self._close_pipe(read_end)
                code = os.waitstatus_to_exitcode(status)
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                    (task, code, time.monotonic() - started),
                )
                self.db.execute("COMMIT")
                sys.stdout.write(f"{'PASS' if code == 0 else 'FAIL':<10} {task}\n")
                ended.append(task)
        return ended

    def _close_pipe(self, fd: int) -> None:
        self.pipes.discard(fd)
        self.epoll.unregister(fd)
        os.close(fd)


def run_dag(
    runner: Runner, scripts: dict[str, str], deps: dict[str, list[str]], priority: dict[str, float]
) -> None:
    succs: dict[str, list[str]] = {t: [] for t in scripts}
    for task, before in deps.items():
        for dep in before:
            succs[dep].append(task)
    waiting = {t: len(deps.get(t, [])) for t in scripts}
    ready = [(-priority[t], t) for t in scripts if waiting[t] == 0]
    heapq.heapify(ready)
    while ready or runner.running:
        while ready and len(runner.running) < JOBS:
            task = heapq.heappop(ready)[1]
            runner.start(task, scripts[task])
        for task in runner.wait():
            for succ in succs[task]:
                waiting[succ] -= 1
                if waiting[succ] == 0:
                    heapq.heappush(ready, (-priority[succ], succ))


def main(argv: list[str]) -> int:
    shape, tasks = argv[0], int(argv[1])
    with tempfile.TemporaryDirectory() as folder:
        runner = Runner(folder)
        if shape == "dag":
            durations, deps = workloads.deep_sleep_dag(tasks, target=float(argv[2]))
            scripts = {t: f"sleep {s:.3f} && test -n x" for t, s in durations.items()}
            priority = workloads.remaining_paths(durations, deps)
            started = time.monotonic()
            run_dag(runner, scripts, deps, priority)
            print(f"makespan {time.monotonic() - started:.4f}")
            return 0
        names = [f"t{i}" for i in range(tasks)]
        scripts = dict.fromkeys(names, argv[2])
        deps = {n: [names[i - 1]] for i, n in enumerate(names) if i} if shape == "chain" else {}
        run_dag(runner, scripts, deps, dict.fromkeys(names, 0.0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
