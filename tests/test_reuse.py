"""Reusing recorded passes whose key (commands, options, inputs' content, dependencies' keys)
did not change: ``cached: true``, ``--fresh``, ``reuse = false``, and what makes a key change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli

PLAN = """\
---
planrun: 1
id: ru
tasks:
  - {id: a, inputs: [a.txt], verify: "cat a.txt"}
  - {id: b, depends_on: [a], inputs: ["b/*.txt"], verify: "test $PLANRUN_WAVE"}
  - {id: c, inputs: [c.txt], verify: "test -f c.txt"}
  - {id: d, depends_on: [b], inputs: [d.txt], verify: "test $PLANRUN_WAVE"}
  - {id: e, verify: "test $PLANRUN_WAVE"}
---
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / "a.txt").write_text("1\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "1.txt").write_text("x\n")
    (tmp_path / "c.txt").write_text("c\n")
    (tmp_path / "d.txt").write_text("d\n")
    return tmp_path


def _run(repo: Path, *extra: str) -> dict[str, tuple[str, bool]]:
    run = run_cli("execute", repo / "plan.md", "--root", repo, "--json", "--no-summary", *extra)
    assert run.exit_code in (0, 1), run.output
    doc = json.loads(run.stdout)
    return {t["id"].split("/")[1]: (t["status"], t["cached"]) for t in doc["tasks"]}


def _ran(result: dict[str, tuple[str, bool]]) -> list[str]:
    return sorted(task for task, (_, cached) in result.items() if not cached)


def test_an_unchanged_pass_is_reused_and_said_so(repo: Path) -> None:
    assert _ran(_run(repo)) == ["a", "b", "c", "d", "e"]
    again = _run(repo)
    # e declares no inputs: it may read any file, and outside git there is no tree to hold
    # its pass against, so it always runs.
    assert _ran(again) == ["e"]
    assert again["a"] == ("passed", True)
    text = run_cli("execute", repo / "plan.md", "--root", repo)
    assert text.exit_code == 0
    assert "PASS       ru/a  (cached, from run " in text.stdout
    summary = (repo / "SUMMARY.md").read_text()
    assert "✅ passed (cached from run `" in summary


def test_touch_keeps_the_key_an_edit_reruns_the_task_and_its_dependents(repo: Path) -> None:
    _run(repo)
    stat = (repo / "b" / "1.txt").stat()
    os.utime(repo / "b" / "1.txt", (stat.st_atime + 100, stat.st_mtime + 100))
    assert _ran(_run(repo)) == ["e"]
    (repo / "b" / "1.txt").write_text("changed\n")
    assert _ran(_run(repo)) == ["b", "d", "e"]
    (repo / "b" / "2.txt").write_text("a new file the glob matches\n")
    assert _ran(_run(repo)) == ["b", "d", "e"]
    (repo / "a.txt").write_text("2\n")
    assert _ran(_run(repo)) == ["a", "b", "d", "e"]


def test_a_changed_command_or_a_missing_input_reruns(repo: Path) -> None:
    _run(repo)
    plan = repo / "plan.md"
    plan.write_text(PLAN.replace('verify: "test -f c.txt"', 'verify: "test -s c.txt"'))
    assert _ran(_run(repo)) == ["c", "e"]
    (repo / "c.txt").unlink()
    result = _run(repo)
    assert result["c"] == ("failed", False)
    # A failure is never reused.
    (repo / "c.txt").write_text("c\n")
    assert _run(repo)["c"] == ("passed", False)


def test_fresh_and_config_reuse_false_run_everything(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(repo)
    assert _ran(_run(repo, "--fresh")) == ["a", "b", "c", "d", "e"]
    (repo / "planrun.toml").write_text("reuse = false\n")
    monkeypatch.chdir(repo)
    run = run_cli("execute", "plan.md", "--root", ".", "--json", "--no-summary")
    assert [t["cached"] for t in json.loads(run.stdout)["tasks"]] == [False] * 5


def test_a_changed_input_makes_the_recorded_pass_stale(repo: Path) -> None:
    _run(repo)
    (repo / "d.txt").write_text("edited\n")
    status = run_cli("status", repo / "plan.md", "--root", repo, "--json")
    tasks = {t["id"]: t for t in json.loads(status.stdout)["tasks"]}
    assert tasks["ru/d"]["status"] == "stale"  # issue 10: a changed input is a stale pass
    assert tasks["ru/d"]["reason"] == "its inputs changed since it passed"
    assert tasks["ru/a"]["reason"] is None
    nxt = run_cli("next", repo / "plan.md", "--root", repo, "--json")
    assert [t["id"] for t in json.loads(nxt.stdout)["tasks"]] == ["ru/d"]


def test_a_record_without_a_key_is_not_reused(repo: Path) -> None:
    # As a database written before keys existed: the task had no inputs when it passed.
    plan = repo / "plan.md"
    plan.write_text(PLAN.replace("inputs: [d.txt], ", ""))
    _run(repo)
    plan.write_text(PLAN)
    assert "d" in _ran(_run(repo))
    assert "d" not in _ran(_run(repo))


def test_a_new_planrun_version_reruns(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(repo)
    monkeypatch.setattr("planrun.fingerprint.__version__", "99.0.0")
    assert _ran(_run(repo)) == ["a", "b", "c", "d", "e"]


def test_new_judging_rules_rerun(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A pass judged by older rules may be one the current rules would not give.
    _run(repo)
    monkeypatch.setattr("planrun.fingerprint.RULES", 99)
    assert _ran(_run(repo)) == ["a", "b", "c", "d", "e"]


def test_inputs_outside_the_root_make_a_task_always_run(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("s\n")
    (repo / "plan.md").write_text(
        PLAN.replace("inputs: [c.txt]", f'inputs: [c.txt, "{outside}", "../x/*"]')
    )
    _run(repo)
    # planrun does not hash files outside ROOT, so it cannot know they did not change.
    assert "c" in _ran(_run(repo))


def test_dry_run_shows_what_would_be_reused(repo: Path) -> None:
    _run(repo)
    run = run_cli("execute", repo / "plan.md", "--root", repo, "--dry-run")
    assert run.stdout.splitlines()[0] == "would run 1 task and reuse 4, in this order:"
    assert "  wave 1  ru/a  (cached: its recorded pass holds)" in run.stdout
    fresh = run_cli("execute", repo / "plan.md", "--root", repo, "--dry-run", "--fresh")
    assert fresh.stdout.splitlines()[0] == "would run 5 tasks, in this order:"


GIT = shutil.which("git") or "git"


def _git(repo: Path, *args: str) -> None:
    subprocess.run([GIT, *args], cwd=repo, check=True, capture_output=True)


def test_without_declared_inputs_a_pass_holds_only_for_the_tree_it_was_tested_on(
    tmp_path: Path,
) -> None:
    # files: names what a task writes, not what its check reads (the test file, the script,
    # what they import): a pass is reused only while nothing in the work tree changed.
    _git(tmp_path, "init", "-q")
    (tmp_path / "lib.py").write_text("X = 1\n")
    (tmp_path / "check.py").write_text("import lib\nassert lib.X == 1\n")
    (tmp_path / "plan.md").write_text(
        "---\nplanrun: 1\nid: ru\ntasks:\n"
        f'  - {{id: t, files: [lib.py], verify: "{sys.executable} check.py"}}\n---\n'
    )
    run = ("execute", tmp_path / "plan.md", "--root", tmp_path, "--json")
    first = run_cli(*run)
    assert json.loads(first.stdout)["tasks"][0]["cached"] is False
    # The SUMMARY.md and the state planrun wrote are not part of the tested tree.
    assert (tmp_path / "SUMMARY.md").is_file()
    assert json.loads(run_cli(*run).stdout)["tasks"][0]["cached"] is True
    (tmp_path / "check.py").write_text("import lib\nassert lib.X == 2\n")
    again = json.loads(run_cli(*run).stdout)["tasks"][0]
    assert (again["status"], again["cached"]) == ("failed", False)


@pytest.mark.parametrize("ignore", [".planrun/\n", ".planrun/\nSUMMARY.md\n"])
def test_the_tested_tree_is_recorded_when_git_ignores_planruns_own_files(
    tmp_path: Path, ignore: str
) -> None:
    # planrun's own repository ignores .planrun/: git add refused to exclude an ignored path
    # (exit 1), so no tree was recorded ("not in git") and nothing was ever reused.
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text(ignore)
    (tmp_path / "plan.md").write_text(
        "---\nplanrun: 1\nid: ru\ntasks:\n"
        '  - {id: t, files: [plan.md], verify: "test -f plan.md"}\n---\n'
    )
    run = ("execute", tmp_path / "plan.md", "--root", tmp_path, "--json")
    first = json.loads(run_cli(*run).stdout)
    assert first["tree"] is not None
    again = json.loads(run_cli(*run).stdout)
    assert (again["tree"], again["tasks"][0]["cached"]) == (first["tree"], True)


def test_watch_reruns_a_task_without_declared_inputs_for_any_change(repo: Path) -> None:
    from planrun.validate import load_valid
    from planrun.watch import affected

    graph = load_valid([repo / "plan.md"]).graph
    assert affected(graph, repo, ["tests/test_anything.py"]) == ["ru/e"]


def test_a_file_the_command_names_counts_even_when_git_ignores_it(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "check.py").write_text("print('ok')\n")
    (tmp_path / "plan.md").write_text(
        "---\nplanrun: 1\nid: ru\ntasks:\n"
        f'  - {{id: t, files: [x.txt], verify: "{sys.executable} build/check.py"}}\n---\n'
    )
    run = ("execute", tmp_path / "plan.md", "--root", tmp_path, "--json", "--no-summary")
    run_cli(*run)
    assert json.loads(run_cli(*run).stdout)["tasks"][0]["cached"] is True
    (tmp_path / "build" / "check.py").write_text("raise SystemExit(3)\n")
    again = json.loads(run_cli(*run).stdout)["tasks"][0]
    assert (again["status"], again["cached"]) == ("failed", False)
