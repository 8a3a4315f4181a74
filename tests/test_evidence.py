"""Evidence: claims held against git, the tested tree, checks that change the tree, --prove.

Every test builds a real git repository in tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Run, assert_no_traceback, run_cli

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_OPTIONAL_LOCKS": "0",  # the test's own git status must not rewrite the index
}


GIT = shutil.which("git") or "git"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        [GIT, "-C", str(repo), *args],
        env=GIT_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def init(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def plan_text(tasks: str) -> str:
    return "---\nplanrun: 1\ntasks:\n" + textwrap.dedent(tasks).strip("\n") + "\n---\n# Plan\n"


def execute(plan: Path, *args: str) -> tuple[Run, dict[str, Any]]:
    run = run_cli("execute", plan, "--json", "--no-summary", *args)
    assert_no_traceback(run)
    return run, json.loads(run.stdout)


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in doc["tasks"]}


TASKS = """
- {id: done-a, claimed: done, files: [a.py], verify: "test -f a.py"}
- {id: done-b, claimed: done, files: [b.py], verify: "test -f b.py"}
- {id: todo-b, files: [b.py], verify: "test -f b.py"}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Code committed, then the plan in a later commit, then work on a.py since."""
    where = init(tmp_path / "repo")
    commit(where, "code", {"a.py": "x = 1\n", "b.py": "y = 1\n", "README.md": "hi\n"})
    commit(where, "plan", {"p.md": plan_text(TASKS)})
    commit(where, "work", {"a.py": "x = 1\n\ndef newfunc():\n    pass\n"})
    return where


def test_claimed_done_with_unchanged_files_is_a_false_claim(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD~2").strip()
    short = git(repo, "rev-parse", "--short", base).strip()
    run, doc = execute(repo / "p.md")
    assert run.exit_code == 1
    tasks = by_id(doc)
    reason = f"claimed done, but none of its files changed since {short}: b.py"
    assert tasks["p/done-b"]["status"] == "failed"
    assert tasks["p/done-b"]["reason"] == reason
    assert tasks["p/done-b"]["evidence"] == {"base": base, "changed": [], "unchanged": ["b.py"]}
    assert doc["false_claims"] == [{"id": "p/done-b", "reason": reason}]
    # Changed since the base and its check passes: backed by a diff.
    assert tasks["p/done-a"]["status"] == "passed"
    assert tasks["p/done-a"]["evidence"] == {"base": base, "changed": ["a.py"], "unchanged": []}
    # Not claimed done: the same unchanged file is no claim at all.
    assert tasks["p/todo-b"]["status"] == "passed"
    assert doc["base"] == base
    assert tasks["p/done-a"]["vacuous"] is None


def test_untracked_new_file_counts_as_changed_and_undeclared(repo: Path) -> None:
    (repo / "b.py").write_text("y = 2\n")  # uncommitted work counts too
    (repo / "c.py").write_text("new\n")
    (repo / ".gitignore").write_text("ignored.txt\n")
    (repo / "ignored.txt").write_text("x\n")
    # A SUMMARY.md an earlier run wrote elsewhere is planrun's, no one's undeclared change.
    run_cli("execute", repo / "p.md", "--summary", repo / "reports" / "S.md")
    (repo / "reports" / "notes.md").write_text("---\ntitle: x\n---\ngenerator: planrun\n")
    run, doc = execute(repo / "p.md")
    assert doc["undeclared_changes"] == [".gitignore", "c.py", "reports/notes.md"]
    (repo / "reports" / "notes.md").unlink()
    run, doc = execute(repo / "p.md")
    assert run.exit_code == 0, run.output
    assert doc["undeclared_changes"] == [".gitignore", "c.py"]
    assert "warning: 2 changed files no task declares: .gitignore, c.py" in run.stderr
    strict, doc = execute(repo / "p.md", "--strict-scope")
    assert strict.exit_code == 1
    assert doc["status"] == "failed"
    assert "SCOPE 2 changed files no task declares" in strict.stderr


def test_tested_tree_is_recorded_and_the_index_untouched(repo: Path) -> None:
    (repo / "a.py").write_text("changed, not staged\n")
    (repo / "new.py").write_text("untracked\n")
    index = (repo / ".git" / "index").read_bytes()
    status = git(repo, "status", "--porcelain")
    _, doc = execute(repo / "p.md")
    assert (repo / ".git" / "index").read_bytes() == index
    assert git(repo, "status", "--porcelain") == status
    scratch = repo / ".git" / "scratch-index"
    env = {**GIT_ENV, "GIT_INDEX_FILE": str(scratch)}
    subprocess.run([GIT, "-C", str(repo), "add", "-A"], env=env, check=True)
    tree = subprocess.run(
        [GIT, "-C", str(repo), "write-tree"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert doc["tree"] == tree
    status_doc = json.loads(run_cli("status", repo / "p.md", "--json").stdout)
    assert status_doc["tree"] == tree
    assert status_doc["base"] == doc["base"]
    assert status_doc["false_claims"] == doc["false_claims"]


def test_prove_vacuous_and_real_evidence(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"a.py": "x = 1\n", "README.md": "hi\n"})
    tasks = """
    - {id: readme, claimed: done, files: [README.md], verify: "test -f README.md"}
    - {id: feature, claimed: done, files: [a.py], verify: "grep -q newfunc a.py"}
    - {id: failing, claimed: done, files: [a.py], verify: "false"}
    """
    commit(repo, "plan", {"p.md": plan_text(tasks)})
    commit(repo, "work", {"a.py": "def newfunc():\n    pass\n", "README.md": "hello\n"})
    run, doc = execute(repo / "p.md", "--prove")
    assert run.exit_code == 1
    tasks_ = by_id(doc)
    assert tasks_["p/readme"]["status"] == "unverified"
    assert tasks_["p/readme"]["vacuous"] is True
    assert tasks_["p/readme"]["reason"] == "its checks pass without the change too"
    assert tasks_["p/feature"]["status"] == "passed"
    assert tasks_["p/feature"]["vacuous"] is False
    assert tasks_["p/failing"]["vacuous"] is None  # not passed: not proved
    assert {"id": "p/readme", "reason": "its checks pass without the change too"} in doc[
        "false_claims"
    ]
    assert doc["prove"]["tasks"] == 2 and doc["prove"]["vacuous"] == 1
    assert "prove: 2 tasks re-checked on the base in " in run.stderr
    assert git(repo, "worktree", "list").count("\n") == 1
    summary = tmp_path / "S.md"
    run_cli("summary", repo / "p.md", "-o", summary)
    text = summary.read_text()
    assert "**vacuous**: its checks pass without the change too" in text
    assert "| `p/feature` | a.py |  | fail: real evidence |  |" in text


def test_summary_lists_evidence_and_environment(repo: Path, tmp_path: Path) -> None:
    (repo / "c.py").write_text("new\n")
    out = tmp_path / "SUMMARY.md"
    run = run_cli("execute", repo / "p.md", "--summary", out)
    assert run.exit_code == 1
    text = out.read_text()
    short = git(repo, "rev-parse", "--short", "HEAD~2").strip()
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["base"] == git(repo, "rev-parse", "HEAD~2").strip()
    assert front["tree"] and len(front["tree"]) == 40
    assert (
        f"**files unchanged**: claimed done, but none of its files changed since {short}: b.py"
        in text
    )
    evidence = text.split("## Evidence", 1)[1].split("## Tasks", 1)[0]
    assert f"- base: `{short}`" in evidence
    assert "- tested tree: `" in evidence
    assert "- 1 changed file no task declares:\n  - `c.py`" in evidence
    assert "| `p/done-b` |  | b.py |" in evidence
    environment = text.split("## Environment", 1)[1]
    assert f"- Python: {sys.version.split()[0]}" in environment
    assert "- `true`" not in environment  # a builtin is not a program


def test_environment_in_json(repo: Path) -> None:
    plan = repo / "q.md"
    plan.write_text(plan_text('- {id: g, verify: "grep -q x a.py && FOO=1 no-such-tool-xyz"}'))
    _, doc = execute(plan)
    env = doc["environment"]
    assert env["python"].startswith(sys.version.split()[0])
    assert env["programs"] == {"grep": shutil.which("grep")}
    assert env["root"] == (os.geteuid() == 0)
    assert env["os"] and env["user"]


def test_check_that_changes_the_tree_is_not_evidence(repo: Path) -> None:
    plan = repo / "q.md"
    plan.write_text(
        plan_text(
            """
            - {id: formats, verify: "sed -i 's/x = 1/x = 2/' a.py"}
            - id: caches
              verify: "mkdir -p __pycache__ .pytest_cache && touch __pycache__/a.pyc .coverage"
            - {id: creates, verify: "cp README.md build.txt"}
            - {id: again, verify: "sed -i 's/already/again/' b.py"}
            """
        )
    )
    git(repo, "add", "q.md")
    (repo / "b.py").write_text("already modified before the run\n")
    run, doc = execute(plan, "-j", "1")
    tasks = by_id(doc)
    assert tasks["q/formats"]["status"] == "unverified"
    assert tasks["q/formats"]["reason"] == "this check changed 1 file: a.py"
    assert tasks["q/formats"]["tree_changes"] == ["a.py"]
    assert tasks["q/caches"]["status"] == "passed"
    assert tasks["q/creates"]["reason"] == "this check changed 1 file: build.txt"
    # A file that was already modified, modified again: seen by its content.
    assert tasks["q/again"]["reason"] == "this check changed 1 file: b.py"
    assert run.exit_code == 1


def test_parallel_jobs_attribute_a_change_to_every_overlapping_task(repo: Path) -> None:
    marker = repo.parent / "m"
    marker.mkdir()
    plan = repo / "q.md"
    # Each waits for the other to start, so they surely overlap; only "writer" edits a.py.
    plan.write_text(
        plan_text(
            f"""
            - id: writer
              verify: "touch {marker}/w; until [ -e {marker}/r ]; do sleep 0.01; done; echo >> a.py"
            - id: reader
              verify: "touch {marker}/r; until [ -e {marker}/w ]; do sleep 0.01; done"
            """
        )
    )
    git(repo, "add", "q.md")
    _, doc = execute(plan, "-j", "2")
    tasks = by_id(doc)
    assert tasks["q/writer"]["status"] == "unverified"
    assert tasks["q/writer"]["reason"].startswith("this check changed 1 file: a.py")


def test_plan_not_in_git(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_text(plan_text(TASKS))
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("")
    run, doc = execute(plan, "--root", str(tmp_path))
    assert run.exit_code == 0
    assert doc["base"] is None and doc["tree"] is None
    assert doc["evidence_unavailable"] == [f"{plan} is not in a git repository"]
    assert all(t["evidence"] is None for t in doc["tasks"])
    bad = run_cli("execute", plan, "--base", "HEAD", "--no-summary")
    assert bad.exit_code == 2
    assert bad.stderr == f'planrun: error: --base "HEAD": {plan} is not in a git repository\n'


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    (repo / "p.md").write_text(plan_text(TASKS))
    (repo / "a.py").write_text("")
    (repo / "b.py").write_text("")
    run, doc = execute(repo / "p.md")
    assert run.exit_code == 0
    assert doc["base"] is None
    assert doc["evidence_unavailable"] == [
        "p.md is not committed in git; commit the plan, or pass --base REF"
    ]
    assert doc["tree"]  # a tree can be hashed without any commit
    bad = run_cli("execute", repo / "p.md", "--base", "HEAD", "--no-summary")
    assert bad.exit_code == 2
    assert f'planrun: error: --base "HEAD": no such commit in the git repository {repo}' in (
        bad.stderr
    )


def test_base_that_does_not_exist(repo: Path) -> None:
    run = run_cli("execute", repo / "p.md", "--base", "no-such-branch", "--no-summary")
    assert run.exit_code == 2
    assert run.stderr == (
        f'planrun: error: --base "no-such-branch": no such commit in the git repository {repo}\n'
        "    hint: name a commit, branch or tag that exists (git log --oneline)\n"
    )


def test_explicit_base_and_config_key(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, doc = execute(repo / "p.md", "--base", "HEAD")
    short = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert doc["base"] == git(repo, "rev-parse", "HEAD").strip()
    assert by_id(doc)["p/done-a"]["reason"] == (
        f"claimed done, but none of its files changed since HEAD ({short}): a.py"
    )
    assert run.exit_code == 1
    (repo / "planrun.toml").write_text('base = "HEAD"\n')
    monkeypatch.chdir(repo)
    _, configured = execute(repo / "p.md")
    assert configured["base"] == doc["base"]


def test_plan_added_in_the_first_commit_uses_the_empty_tree(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    tasks = '- {id: a, claimed: done, files: [a.py], verify: "test -f a.py"}'
    commit(repo, "all at once", {"a.py": "x\n", "p.md": plan_text(tasks)})
    run, doc = execute(repo / "p.md", "--prove")
    assert run.exit_code == 0, run.output
    assert doc["bases"]["p"]["empty"] is True
    task = by_id(doc)["p/a"]
    assert task["evidence"]["changed"] == ["a.py"]
    assert task["vacuous"] is False  # the empty tree has no a.py


def test_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach", "HEAD")
    run, doc = execute(repo / "p.md")
    assert run.exit_code == 1
    assert doc["false_claims"][0]["id"] == "p/done-b"
    assert doc["base"] == git(repo, "rev-parse", "HEAD~2").strip()


def test_shallow_clone(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    run, doc = execute(clone / "p.md")
    assert run.exit_code == 0, run.output
    assert doc["base"] is None
    assert doc["evidence_unavailable"] == [
        (
            "shallow clone: the history before p.md was added is not fetched; "
            "run git fetch --unshallow, or pass --base REF"
        )
    ]
    bad = run_cli("execute", clone / "p.md", "--base", "HEAD~2", "--no-summary")
    assert bad.exit_code == 2
    assert "hint: fetch more history (git fetch --unshallow)" in bad.stderr


def test_gsd_files_modified_and_folders_count_as_declared(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"src/x/a.py": "1\n", "lib.py": "1\n"})
    tasks = """
    - {id: folder, claimed: done, files: [src/x], verify: "test -d src/x"}
    - {id: glob, claimed: done, files: ["src/**/*.py"], verify: "test -d src"}
    """
    commit(repo, "plan", {"p.md": plan_text(tasks)})
    commit(repo, "work", {"src/x/a.py": "2\n"})
    run, doc = execute(repo / "p.md")
    assert run.exit_code == 0, run.output
    assert by_id(doc)["p/folder"]["evidence"]["changed"] == ["src/x"]
    assert by_id(doc)["p/glob"]["evidence"]["changed"] == ["src/**/*.py"]


def test_old_state_database_is_migrated(repo: Path) -> None:
    state = repo / ".planrun"
    state.mkdir()
    (state / ".gitignore").write_text("*\n")
    db = sqlite3.connect(state / "state.db")
    db.executescript(
        "CREATE TABLE runs (id TEXT PRIMARY KEY, started REAL NOT NULL, finished REAL, "
        "status TEXT, argv TEXT NOT NULL DEFAULT '[]');"
        "INSERT INTO runs VALUES ('old', 1.0, 2.0, 'passed', '[]');"
    )
    db.close()
    status = json.loads(run_cli("status", repo / "p.md", "--json").stdout)
    assert status["base"] is None and status["false_claims"] == []
    run, doc = execute(repo / "p.md")
    assert run.exit_code == 1 and doc["tree"]
    assert json.loads(run_cli("status", repo / "p.md", "--json").stdout)["tree"] == doc["tree"]


def _planrun(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "planrun", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path) -> None:
    end = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.01)


def test_interrupt_during_prove_removes_the_worktree(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"a.py": "1\n"})
    marker = tmp_path / "at-base"
    verify = f'if [ -n "$PLANRUN_BASE" ]; then echo up > {marker}; sleep 1000; fi; test -f a.py'
    tasks = f"- {{id: slow, claimed: done, files: [a.py], verify: '{verify}'}}"
    commit(repo, "plan", {"p.md": plan_text(tasks)})
    (repo / "a.py").write_text("2\n")
    status = git(repo, "status", "--porcelain")
    proc = _planrun("execute", repo / "p.md", "--prove", "--no-summary", "--json")
    _wait_for(marker)
    trees = git(repo, "worktree", "list", "--porcelain").split("\n\n")
    assert len([t for t in trees if t.strip()]) == 2  # the base tree exists meanwhile
    base_tree = Path(trees[1].splitlines()[0].removeprefix("worktree "))
    assert (base_tree / "a.py").read_text() == "1\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert json.loads(out)["status"] == "interrupted"
    assert git(repo, "worktree", "list").count("\n") == 1
    assert git(repo, "status", "--porcelain") == status
    assert not base_tree.exists()


def test_prove_runs_base_checks_in_parallel(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"a.py": "1\n"})
    markers = tmp_path / "markers"
    (markers / "base").mkdir(parents=True)
    (markers / "work").mkdir()
    # first and second each wait (at most 20 s) until the other has started in the same
    # tree, and note whether it did: they can only both see each other when run side by side.
    wait = (
        'if [ -n "$PLANRUN_BASE" ]; then d={m}/base; else d={m}/work; fi; '
        "touch $d/$PLANRUN_TASK; i=0; "
        "while [ ! -e $d/{other} ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done; "
        "[ -e $d/{other} ] && touch $d/$PLANRUN_TASK.saw; true"
    )
    lines = [
        f"- {{id: first, files: [a.py], verify: '{wait.format(m=markers, other='second')}'}}",
        f"- {{id: second, files: [a.py], verify: '{wait.format(m=markers, other='first')}'}}",
    ]
    lines += [f'- {{id: t{i}, files: [a.py], verify: "test -f a.py"}}' for i in range(48)]
    commit(repo, "plan", {"p.md": plan_text("\n".join(lines))})
    (repo / "a.py").write_text("2\n")
    run, doc = execute(repo / "p.md", "--prove", "-j", "4")
    assert doc["prove"]["tasks"] == 50
    assert (markers / "base" / "first.saw").exists()
    assert (markers / "base" / "second.saw").exists()
    assert run.exit_code == 1  # every check passes at the base too: all vacuous
    assert doc["prove"]["vacuous"] == 50


def test_status_text_shows_the_last_evidence(repo: Path) -> None:
    execute(repo / "p.md")
    short = git(repo, "rev-parse", "--short", "HEAD~2").strip()
    out = run_cli("status", repo / "p.md").stdout
    assert f"base: {short}\n" in out
    assert "tested tree: " in out
    assert (
        f"FALSE CLAIM p/done-b: claimed done, but none of its files changed since {short}: b.py"
        in out
    )


def test_strict_scope_from_configuration(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "c.py").write_text("new\n")
    (repo / "planrun.toml").write_text("strict_scope = true\n")
    monkeypatch.chdir(repo)
    run, doc = execute(repo / "p.md", "--task", "done-a")
    assert run.exit_code == 1
    assert doc["undeclared_changes"] == ["c.py", "planrun.toml"]
    (repo / "planrun.toml").write_text('strict_scope = "yes"\n')
    bad = run_cli("execute", repo / "p.md")
    assert bad.exit_code == 2
    assert "setting \"strict_scope\" must be bool, got 'yes'" in bad.stderr


def test_a_reused_pass_is_held_against_the_diff_too(repo: Path) -> None:
    _, first = execute(repo / "p.md")
    assert by_id(first)["p/done-a"]["status"] == "passed"
    _, again = execute(repo / "p.md")
    assert by_id(again)["p/done-a"]["cached"] is True
    assert by_id(again)["p/done-a"]["evidence"]["changed"] == ["a.py"]
    # Against HEAD, a.py did not change: the recorded pass is not reused, the claim fails.
    _, later = execute(repo / "p.md", "--base", "HEAD")
    task = by_id(later)["p/done-a"]
    assert task["status"] == "failed" and task["cached"] is False
    assert task["false_claim"].startswith("claimed done, but none of its files changed since HEAD")


GSD_PLAN = """---
phase: 07-auth
plan: 01
type: execute
wave: 1
depends_on: []
files_modified: [src/session.py]
autonomous: true
---

# Plan 07-01: Session store

<tasks>
<task type="auto">
  <name>Write the session store</name>
  <action>Implement it.</action>
  <verify>
    <automated>test -f src/session.py</automated>
  </verify>
  <done>It exists.</done>
</task>
</tasks>
"""


def test_gsd_files_modified_declare_a_task_without_files(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    phase = ".planning/phases/07-auth"
    commit(repo, "code", {"src/session.py": "1\n", "src/other.py": "1\n"})
    commit(repo, "plan", {f"{phase}/07-01-PLAN.md": GSD_PLAN})
    commit(repo, "work", {"src/other.py": "2\n"})
    run, doc = execute(repo / phase)
    assert run.exit_code == 0, run.output
    [task] = doc["tasks"]
    assert task["evidence"]["unchanged"] == ["src/session.py"]
    assert doc["undeclared_changes"] == ["src/other.py"]


def test_a_renamed_plan_keeps_the_base_of_its_first_addition(repo: Path) -> None:
    git(repo, "mv", "p.md", "renamed.md")
    git(repo, "commit", "-q", "-m", "rename")
    (repo / "other.md").write_text(plan_text('- {id: x, files: [a.py], verify: "test -f a.py"}'))
    git(repo, "add", "other.md")
    git(repo, "commit", "-q", "-m", "another plan")
    _, doc = execute(repo / "renamed.md")
    assert doc["base"] == git(repo, "rev-parse", "HEAD~4").strip()  # before "plan"
    both = run_cli("execute", repo / "renamed.md", repo / "other.md", "--json", "--no-summary")
    bases = json.loads(both.stdout)["bases"]
    assert bases["renamed"]["commit"] == git(repo, "rev-parse", "HEAD~4").strip()
    assert bases["other"]["commit"] == git(repo, "rev-parse", "HEAD~1").strip()


def test_github_annotations_for_vacuous_passes_and_undeclared_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"a.py": "x = 1\n", "README.md": "hi\n"})
    tasks = """
    - {id: readme, claimed: done, files: [README.md], verify: "test -f README.md"}
    - {id: feature, claimed: done, files: [a.py], verify: "grep -q newfunc a.py"}
    """
    commit(repo, "plan", {"p.md": plan_text(tasks)})
    commit(repo, "work", {"a.py": "def newfunc():\n    pass\n", "README.md": "hello\n"})
    (repo / "stray, 100%.txt").write_text("x\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    plan = repo / "p.md"
    run = run_cli("execute", plan, "--prove", "--strict-scope", "--no-summary")
    assert run.exit_code == 1
    commands = [line for line in run.stderr.splitlines() if line.startswith("::")]
    vacuous = "p/readme unverified: its checks pass without the change too"
    scope = "changed since the base, but no task declares it (--strict-scope fails the run)"
    assert commands == [
        f"::warning file={plan},line=4::{vacuous}",
        f"::error file=stray%2C 100%25.txt::{scope}",
    ]


def test_status_of_one_plan_shows_its_own_base_from_a_run_over_several(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"a.py": "x = 1\n", "b.py": "y = 1\n"})
    plan_a = plan_text("- {id: t, files: [a.py], verify: 'test -f a.py'}")
    commit(repo, "plan a", {"a/tasks.md": plan_a})
    base_a = git(repo, "rev-parse", "HEAD~1").strip()
    plan_b = plan_text("- {id: t, files: [b.py], verify: 'test -f b.py'}")
    commit(repo, "plan b", {"b/tasks.md": plan_b})
    base_b = git(repo, "rev-parse", "HEAD~1").strip()
    run, doc = execute(repo / "a" / "tasks.md", repo / "b" / "tasks.md")
    assert run.exit_code == 0, run.output
    assert doc["base"] is None
    assert {pid: b["commit"] for pid, b in doc["bases"].items()} == {
        "a-tasks": base_a,
        "b-tasks": base_b,
    }
    # Alone, the plan's id is "tasks": its base is found by its file, not by the old id.
    alone = run_cli("status", repo / "a" / "tasks.md", "--json")
    status = json.loads(alone.stdout)
    assert status["base"] == base_a
    assert {pid: b["commit"] for pid, b in status["bases"].items()} == {"tasks": base_a}
    text = run_cli("status", repo / "b" / "tasks.md").stdout
    short_b = git(repo, "rev-parse", "--short", base_b).strip()
    assert f"\nbase: {short_b}\n" in text


def test_a_blocked_task_is_still_held_against_the_diff(repo: Path) -> None:
    plan = repo / "q.md"
    plan.write_text(
        plan_text(
            """
            - {id: first, verify: "false"}
            - {id: stale, depends_on: [first], claimed: done, files: [b.py], verify: "test -f b.py"}
            - {id: built, depends_on: [first], claimed: done, files: [a.py], verify: "test -f a.py"}
            """
        )
    )
    git(repo, "add", "q.md")
    git(repo, "commit", "-q", "-m", "plan q")
    base = git(repo, "rev-parse", "HEAD~1").strip()
    short = git(repo, "rev-parse", "--short", base).strip()
    (repo / "a.py").write_text("changed after the plan\n")
    run, doc = execute(plan)
    assert run.exit_code == 1
    tasks = by_id(doc)
    claim = f"claimed done, but none of its files changed since {short}: b.py"
    # Its checks never ran, but the diff alone shows the claim does not hold.
    assert tasks["q/stale"]["status"] == "failed"
    assert tasks["q/stale"]["reason"] == claim
    assert tasks["q/stale"]["evidence"] == {"base": base, "changed": [], "unchanged": ["b.py"]}
    assert tasks["q/built"]["status"] == "blocked"
    assert tasks["q/built"]["reason"] == "dependency q/first did not pass: q/first failed"
    assert tasks["q/built"]["evidence"] == {"base": base, "changed": ["a.py"], "unchanged": []}
    assert {"id": "q/stale", "reason": claim} in doc["false_claims"]


def test_checklist_items_declare_their_backticked_paths(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"src/a.py": "1\n", "src/b.py": "1\n"})
    tasks = (
        "# Tasks: Feature\n\n## Phase 1: Setup\n\n"
        "- [X] T001 [P] Create the module in `src/a.py`\n"
        "- [X] T002 [P] Update the helper in `src/b.py`\n"
    )
    commit(repo, "plan", {"specs/001-feat/tasks.md": tasks})
    base = git(repo, "rev-parse", "--short", "HEAD~1").strip()
    commit(repo, "work", {"src/a.py": "2\n"})
    run, doc = execute(repo / "specs" / "001-feat" / "tasks.md", "--no-derive")
    assert run.exit_code == 1
    tasks_ = by_id(doc)
    assert tasks_["001-feat/T001"]["evidence"]["changed"] == ["src/a.py"]
    assert tasks_["001-feat/T001"]["status"] == "unverified"  # changed, but nothing checks it
    # With derivation (the default), the file it names must exist: a labelled, weaker pass.
    _, derived = execute(repo / "specs" / "001-feat" / "tasks.md", "--fresh")
    t001 = by_id(derived)["001-feat/T001"]
    assert (t001["status"], t001["checks"][0]["derived"]) == ("passed", True)
    assert tasks_["001-feat/T002"]["status"] == "failed"
    assert doc["false_claims"][-1] == {
        "id": "001-feat/T002",
        "reason": f"claimed done, but none of its files changed since {base}: src/b.py",
    }


def test_prove_judges_a_check_by_the_evidence_rules_on_the_base_too(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "code", {"a.py": "def oldfunc():\n    pass\n", "t.py": "1\n"})
    tasks = """
    - id: remove
      claimed: done
      files: [a.py]
      verify: 'grep -q oldfunc a.py && echo "FAIL: still exists" || echo "PASS: removed"'
    - id: masked
      claimed: done
      files: [t.py]
      verify: "test -f new.py || echo skipped"
    """
    commit(repo, "plan", {"p.md": plan_text(tasks)})
    commit(repo, "work", {"a.py": "def newfunc():\n    pass\n", "t.py": "2\n", "new.py": "\n"})
    run, doc = execute(repo / "p.md", "--prove")
    assert run.exit_code == 0, run.output
    tasks_ = by_id(doc)
    # Judged as written: grep must fail. On the base it succeeds, so the check fails there.
    assert tasks_["p/remove"]["status"] == "passed"
    assert tasks_["p/remove"]["vacuous"] is False
    # Judged by the command its `|| echo` masks, on the base too (where new.py is missing).
    assert tasks_["p/masked"]["status"] == "passed"
    assert tasks_["p/masked"]["vacuous"] is False
    assert doc["prove"]["tasks"] == 2 and doc["prove"]["vacuous"] == 0


def test_gsd_files_element_declares_the_task_files(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    phase = ".planning/phases/07-auth"
    commit(repo, "code", {"src/session.py": "1\n", "src/other.py": "1\n"})
    plan = GSD_PLAN.replace("<name>Write the session store</name>", "<name>Store</name>").replace(
        "  <action>", "  <files>src/other.py</files>\n  <action>"
    )
    commit(repo, "plan", {f"{phase}/07-01-PLAN.md": plan})
    commit(repo, "work", {"src/other.py": "2\n"})
    run, doc = execute(repo / phase)
    assert run.exit_code == 0, run.output
    [task] = doc["tasks"]
    # The task's own <files> win over the plan's files_modified.
    assert task["evidence"]["changed"] == ["src/other.py"]
    assert task["evidence"]["unchanged"] == []
    assert doc["undeclared_changes"] == []


def test_the_plan_file_is_not_the_work_of_a_task_whose_folder_holds_it(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "code", {"docs/guide.md": "# guide\n"})
    tasks = """
    - {id: docs, files: ['docs/'], verify: 'test -f docs/guide.md', claimed: done}
    - {id: any, files: ['**'], verify: 'test -f docs/guide.md', claimed: done}
    """
    commit(repo, "plan", {"docs/plan.md": plan_text(tasks)})
    run, doc = execute(repo / "docs" / "plan.md")
    assert run.exit_code == 1
    found = {t["id"]: (t["status"], t["reason"]) for t in doc["tasks"]}
    assert found["plan/docs"][0] == "failed"
    assert found["plan/docs"][1].startswith("claimed done, but none of its files changed since ")
    assert found["plan/any"][0] == "failed"
