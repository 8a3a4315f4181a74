"""``planrun watch``: what a change reruns, and a real watcher over a real file change."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import run_cli
from planrun.validate import validate_paths
from planrun.watch import _Filter, affected

PLAN = """\
---
planrun: 1
id: w
tasks:
  - {id: a, inputs: [a.txt], verify: "echo a >> ../ran.log && test $PLANRUN_WAVE"}
  - {id: b, depends_on: [a], inputs: ["src/*.py"],
     verify: "echo b >> ../ran.log && test $PLANRUN_TASK"}
  - {id: c, inputs: [c.txt], verify: "echo c >> ../ran.log && test $PLANRUN_WAVE"}
---
"""


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "plan.md").write_text(PLAN)
    for name in ("a.txt", "c.txt", "src/m.py"):
        (repo / name).write_text("1\n")
    return repo


def test_a_change_selects_the_tasks_that_read_it_and_their_dependents(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    graph = validate_paths([repo / "plan.md"]).graph
    assert affected(graph, repo, ["a.txt"]) == ["w/a", "w/b"]
    assert affected(graph, repo, ["src/m.py"]) == ["w/b"]
    assert affected(graph, repo, ["src/sub/m.txt"]) == []
    assert affected(graph, repo, ["c.txt", "README.md"]) == ["w/c"]
    assert affected(graph, repo, ["plan.md"]) is None


def test_a_changed_task_file_of_a_multi_file_plan_reruns_everything(tmp_path: Path) -> None:
    task = tmp_path / "backlog" / "tasks" / "task-1 - A.md"
    task.parent.mkdir(parents=True)
    task.write_text("---\nid: task-1\ntitle: A\nstatus: To Do\n---\n")
    graph = validate_paths([tmp_path / "backlog"]).graph
    assert affected(graph, tmp_path, ["backlog/tasks/task-1 - A.md"]) is None


def test_without_the_extra_watch_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # as if not installed
    run = run_cli("watch", repo / "plan.md", "--root", repo)
    assert run.exit_code == 2
    assert (
        "planrun: error: planrun watch needs the optional extra: pip install 'planrun[watch]'"
        in run.stderr
    )


def _ctrl_c_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class _Lines:
    """A child's stdout, line by line, with a deadline per line (a reader thread, no sleeps)."""

    def __init__(self, child: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        assert child.stdout is not None
        self.stream = child.stdout
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.stream:
            self.lines.put(line)

    def close(self) -> None:
        self.thread.join(timeout=30)  # the child has exited: the pipe is at its end
        self.stream.close()

    def until(self, prefix: str, timeout: float = 30.0) -> list[str]:
        seen = []
        while True:
            line = self.lines.get(timeout=timeout)
            seen.append(line)
            if line.startswith(prefix):
                return seen


def _ran(tmp_path: Path) -> list[str]:
    log = tmp_path / "ran.log"
    out = sorted(log.read_text().split()) if log.exists() else []
    log.unlink(missing_ok=True)
    return out


@pytest.mark.slow
def test_watch_reruns_what_changed_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-m", "planrun", "watch", "plan.md", "--root", "."],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        # A shell ignores Ctrl-C in the jobs it starts with `&`, and children inherit that: as
        # a user's terminal would, give the watcher Ctrl-C back however pytest was started.
        preexec_fn=_ctrl_c_default,  # noqa: PLW1509 - one signal() call, before any test thread reads
    )
    lines = _Lines(child)
    try:
        first = lines.until("watching ")
        assert any(line.startswith("PASSED: 3 passed") for line in first), first
        assert _ran(tmp_path) == ["a", "b", "c"]

        (repo / "src" / "m.py").write_text("2\n")
        second = lines.until("PASSED: ")
        assert "changed: src/m.py\n" in second
        assert second[-1].startswith("PASSED: 1 passed in "), second
        assert _ran(tmp_path) == ["b"]

        (repo / "a.txt").write_text("2\n")
        third = lines.until("PASSED: ")
        assert third[-1].startswith("PASSED: 2 passed in "), third
        assert _ran(tmp_path) == ["a", "b"]

        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 130
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        lines.close()


def test_a_name_that_is_not_text_or_breaks_a_line_is_kept_not_a_crash(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = shutil.which("git")
    assert git is not None
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("*.log\n")
    # An ignored name git would quote (non-ASCII) is still known as ignored.
    names = [os.fsdecode(b"\xff.txt"), "two\nlines.txt", "run.log", "café.log", "m.py"]
    found = _Filter(repo.resolve(), set()).keep(str(repo / n) for n in names)
    assert found == sorted([os.fsdecode(b"\xff.txt"), "two\nlines.txt", "m.py"])
