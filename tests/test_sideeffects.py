"""Checks that change the work tree: snapshots shared between the events of one wait.

One ``git status`` serves every event between two of the scheduler's waits (the "after" of the
tasks that finished, the "before" of the tasks started next). These pin that a change is still
attributed to every task that was running while it could have happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from planrun import sideeffects
from planrun.graph import Unit
from planrun.sideeffects import WorkTreeWatch
from test_evidence import by_id, commit, execute, git, init, plan_text


def unit(index: int, name: str) -> Unit:
    return Unit(f"p/{name}", cast(Any, None), None, index)


class Clock:
    """Stands in for the pool's count of waits."""

    def __init__(self) -> None:
        self.waits = 0

    def wait(self) -> None:
        self.waits += 1


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init(tmp_path / "repo")
    commit(repo, "base", {"a.py": "x = 1\n", "b.py": "y = 1\n"})
    return repo


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> tuple[WorkTreeWatch, Clock, list[Path]]:
    taken: list[Path] = []
    real = sideeffects.snapshot

    def counted(repo: Path) -> sideeffects.Snapshot | None:
        taken.append(repo)
        return real(repo)

    monkeypatch.setattr(sideeffects, "snapshot", counted)
    watch, clock = WorkTreeWatch(), Clock()
    watch.epoch = lambda: clock.waits
    return watch, clock, taken


Watched = tuple[WorkTreeWatch, Clock, list[Path]]


def test_one_snapshot_serves_every_event_between_two_waits(repo: Path, watched: Watched) -> None:
    watch, clock, taken = watched
    a, b, c = unit(0, "a"), unit(1, "b"), unit(2, "c")
    watch.started(a, repo)
    watch.started(b, repo)  # started in the same batch: the same "before"
    clock.wait()
    assert watch.finished(a) == ([], None)
    watch.started(c, repo)  # its "before" is a's "after"
    clock.wait()
    assert watch.finished(b) == ([], None)
    assert watch.finished(c) == ([], None)  # b and c ended together: one "after"
    assert len(taken) == 3  # six without sharing


def test_without_an_epoch_every_event_takes_its_own_snapshot(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[Path] = []
    real = sideeffects.snapshot
    monkeypatch.setattr(sideeffects, "snapshot", lambda r: taken.append(r) or real(r))
    watch = WorkTreeWatch()
    a = unit(0, "a")
    watch.started(a, repo)
    (repo / "a.py").write_text("x = 2\n")
    assert watch.finished(a)[0] == ["a.py"]
    assert len(taken) == 2


def test_a_change_by_a_task_still_running_between_two_events(repo: Path, watched: Watched) -> None:
    """``long`` runs throughout; ``one`` ends and ``two`` starts in the same batch."""
    watch, clock, _ = watched
    long, one, two = unit(0, "long"), unit(1, "one"), unit(2, "two")
    watch.started(long, repo)
    watch.started(one, repo)
    (repo / "a.py").write_text("x = 2\n")  # while long and one run
    clock.wait()  # one's end is reported
    assert watch.finished(one) == (
        ["a.py"],
        "this check changed 1 file: a.py (or p/long, running at the same time, did)",
    )
    watch.started(two, repo)  # its "before" already holds a.py's change
    (repo / "b.py").write_text("y = 2\n")  # while long and two run
    clock.wait()
    assert watch.finished(two) == (
        ["b.py"],
        "this check changed 1 file: b.py (or p/long, running at the same time, did)",
    )
    found, why = watch.finished(long)
    assert found == ["a.py", "b.py"]
    assert why is not None and why.endswith("(or p/one, p/two, running at the same time, did)")


def test_one_job_a_change_is_its_own_tasks_alone(repo: Path, watched: Watched) -> None:
    watch, clock, taken = watched
    first, second, third = unit(0, "first"), unit(1, "second"), unit(2, "third")
    watch.started(first, repo)
    (repo / "a.py").write_text("x = 2\n")
    clock.wait()
    assert watch.finished(first) == (["a.py"], "this check changed 1 file: a.py")
    watch.started(second, repo)
    (repo / "new.txt").write_text("made\n")
    clock.wait()
    assert watch.finished(second) == (["new.txt"], "this check changed 1 file: new.txt")
    watch.started(third, repo)
    clock.wait()
    assert watch.finished(third) == ([], None)  # neither change is the next task's
    assert len(taken) == 4  # tasks + 1


def test_tasks_started_together_share_the_blame(repo: Path, watched: Watched) -> None:
    watch, clock, _ = watched
    a, b = unit(0, "a"), unit(1, "b")
    watch.started(a, repo)
    watch.started(b, repo)
    (repo / "a.py").write_text("x = 2\n")
    clock.wait()
    assert watch.finished(a)[1] == (
        "this check changed 1 file: a.py (or p/b, running at the same time, did)"
    )
    assert watch.finished(b)[1] == (
        "this check changed 1 file: a.py (or p/a, running at the same time, did)"
    )


def test_a_task_that_runs_no_command_changes_nothing(repo: Path, watched: Watched) -> None:
    """Started and finished between two waits (its one command could not start): it ran
    nothing, so nothing is its change; a task running meanwhile still names it."""
    watch, clock, _ = watched
    long, idle = unit(0, "long"), unit(1, "idle")
    watch.started(long, repo)
    clock.wait()
    watch.started(idle, repo)
    assert watch.finished(idle) == ([], None)
    (repo / "a.py").write_text("x = 2\n")
    clock.wait()
    assert watch.finished(long) == (
        ["a.py"],
        "this check changed 1 file: a.py (or p/idle, running at the same time, did)",
    )


def test_a_change_after_a_task_ended_is_not_its_own(tmp_path: Path) -> None:
    """Through execute: ``slow`` edits a.py after ``quick`` ended and while ``after`` (which
    started when ``quick`` ended, with the same snapshot) runs: ``after`` shares the blame,
    ``quick`` does not."""
    repo = init(tmp_path / "repo")
    marker = tmp_path / "m"
    marker.mkdir()
    (repo / "q.md").write_text(
        plan_text(
            f"""
            - id: slow
              verify: "until [ -e {marker}/a ]; do sleep 0.01; done; echo >> a.py; touch {marker}/w"
            - {{id: quick, verify: "test -e a.py"}}
            - id: after
              depends_on: [quick]
              verify: "touch {marker}/a; until [ -e {marker}/w ]; do sleep 0.01; done"
            """
        )
    )
    commit(repo, "base", {"a.py": "x = 1\n"})
    git(repo, "add", "q.md")
    _, doc = execute(repo / "q.md", "-j", "2")
    tasks = by_id(doc)
    assert tasks["q/quick"]["status"] == "passed"
    assert tasks["q/slow"]["status"] == "unverified"
    assert tasks["q/slow"]["tree_changes"] == ["a.py"]
    assert tasks["q/after"]["status"] == "unverified"
    assert tasks["q/after"]["reason"] == (
        "this check changed 1 file: a.py (or q/slow, running at the same time, did)"
    )


def test_execute_takes_one_snapshot_per_task_and_one_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one job each task's "after" is the next one's "before": four tasks, five
    ``git status`` (eight without sharing)."""
    repo = init(tmp_path / "repo")
    (repo / "q.md").write_text(
        plan_text("\n".join(f'- {{id: t{i}, verify: "test -e q.md"}}' for i in range(4)))
    )
    commit(repo, "base", {})
    taken: list[Path] = []
    real = sideeffects.snapshot

    def counted(repo: Path) -> sideeffects.Snapshot | None:
        taken.append(repo)
        return real(repo)

    monkeypatch.setattr(sideeffects, "snapshot", counted)
    _, doc = execute(repo / "q.md", "-j", "1")
    assert [t["status"] for t in doc["tasks"]] == ["passed"] * 4
    assert len(taken) == 5


def test_planruns_own_output_redirected_into_the_tree_is_no_checks_change(
    tmp_path: Path,
) -> None:
    """``planrun execute plan.md > run.log`` with run.log in the work tree: the result lines
    planrun writes there between one task's "after" and the next one's "before" (one shared
    snapshot) are planrun's own, not a change by the next task's check."""
    repo = init(tmp_path / "repo")
    (repo / "q.md").write_text(
        plan_text(
            """
            - {id: one, verify: "test -e q.md"}
            - {id: two, depends_on: [one], verify: "test -e q.md"}
            - {id: three, depends_on: [two], verify: "test -e q.md"}
            """
        )
    )
    commit(repo, "base", {})
    with (repo / "run.log").open("w") as log:
        done = subprocess.run(
            [sys.executable, "-m", "planrun", "execute", "q.md", "-j", "1", "--no-summary"],
            check=False,
            cwd=repo,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
    out = (repo / "run.log").read_text()
    assert done.returncode == 0, out
    assert "UNVERIFIED" not in out


def test_a_check_that_changes_a_file_and_leaves_git_unable_to_look_is_not_passed(
    tmp_path: Path,
) -> None:
    """The "after" snapshot fails (the check moved .git away): nothing can be said about what
    it changed, which is no evidence that it changed nothing."""
    repo = init(tmp_path / "repo")
    (repo / "q.md").write_text(
        plan_text('- {id: sneaky, verify: "echo x = 3 > a.py && mv .git .git-away"}')
    )
    commit(repo, "base", {"a.py": "x = 1\n"})
    _, doc = execute(repo / "q.md", "-j", "1")
    assert by_id(doc)["q/sneaky"]["status"] != "passed"


def test_a_snapshot_git_could_not_take_is_not_shared_nor_read_as_no_change(
    repo: Path, watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch, clock, taken = watched
    a, b = unit(0, "a"), unit(1, "b")
    counted = sideeffects.snapshot
    monkeypatch.setattr(sideeffects, "snapshot", lambda r: None)
    watch.started(a, repo)  # git failed: a's "before" is unknown
    monkeypatch.setattr(sideeffects, "snapshot", counted)
    watch.started(b, repo)  # the failure is not shared: b asks git again
    assert len(taken) == 1
    (repo / "a.py").write_text("x = 2\n")
    clock.wait()
    assert watch.finished(a) == ([], sideeffects.UNSEEN)
    assert watch.finished(b)[0] == ["a.py"]


def test_a_link_to_planruns_own_output_is_still_a_change(repo: Path, watched: Watched) -> None:
    watch, clock, _ = watched
    watch._own = {((st := (repo / "a.py").stat()).st_dev, st.st_ino)}
    a = unit(0, "a")
    watch.started(a, repo)
    (repo / "a.py").write_text("x = 2\n")  # planrun's own output, as if redirected there
    (repo / "link").symlink_to(repo / "a.py")  # a check's new file
    clock.wait()
    assert watch.finished(a)[0] == ["link"]


def test_a_line_printed_to_a_pipe_ends_the_shared_snapshot(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``planrun execute | tee run.log``: the line for ``first`` may land in the tree after
    ``first``'s "after"; ``second``'s "before" is then taken anew, not shared."""
    from planrun.render.output import PlainReporter

    read, write = os.pipe()
    try:
        with os.fdopen(write, "w", closefd=False) as stream:
            reporter = PlainReporter(stream)
            clock = Clock()
            watch = WorkTreeWatch()
            watch.epoch = lambda: (clock.waits, reporter.piped_lines())
            first, second = unit(0, "first"), unit(1, "second")
            watch.started(first, repo)
            clock.wait()
            assert watch.finished(first) == ([], None)
            reporter.warn("a line")  # to the pipe
            (repo / "run.log").write_text(os.read(read, 100).decode())  # tee
            watch.started(second, repo)
            clock.wait()
            assert watch.finished(second) == ([], None)
            assert reporter.piped_lines() == 1
            with (repo.parent / "out.txt").open("w") as file:
                to_file = PlainReporter(file)
                to_file.warn("a line")
                assert to_file.piped_lines() == 0  # a file is excused by its inode instead
    finally:
        os.close(read)
        os.close(write)


def test_planruns_own_redirected_output_is_not_an_undeclared_change(tmp_path: Path) -> None:
    """The same run.log is no change "no task declares" either (with --strict-scope that
    failed the run); a file no task declares still is."""
    repo = init(tmp_path / "repo")
    (repo / "q.md").write_text(plan_text('- {id: one, verify: "test -e q.md"}'))
    commit(repo, "base", {})
    (repo / "other.txt").write_text("not declared\n")
    with (repo / "run.log").open("w") as log:
        done = subprocess.run(
            [sys.executable, "-m", "planrun", "execute", "q.md", "--json", "--no-summary"],
            check=False,
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
    assert json.loads(done.stdout)["undeclared_changes"] == ["other.txt"]
    assert "1 changed file no task declares: other.txt" in (repo / "run.log").read_text()
