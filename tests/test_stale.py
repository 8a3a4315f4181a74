"""A recorded result shown or counted as current only while it holds for the work in front of
planrun (freshness.py): a pass from another work tree, or from before the files its checks
read changed, is ``stale`` in SUMMARY.md, ``status``, ``next`` and ``--wave``/``--task``
gating. Git repositories built in tmp_path; real child processes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import run_cli

GIT = shutil.which("git") or "git"

TWO = """\
---
planrun: 1
id: s
tasks:
  - id: auth
    verify: grep -q "def login" src/auth.py
  - id: pay
    verify: grep -q "def pay" src/pay.py
---
"""

# b is checked by its must_haves only, c by a verify that reads src/app.py without naming it
# as an input, d depends on b; nothing declares inputs:.
READERS = """\
---
planrun: 1
id: s
tasks:
  - id: b
    must_haves:
      artifacts:
        - {path: src/app.py, contains: "def login"}
  - id: c
    verify: grep -q "def login" src/app.py
  - id: d
    depends_on: [b, c]
    verify: test -f src/app.py
---
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run([GIT, *args], cwd=repo, check=True, capture_output=True)


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A git repository holding ``files`` (``plan.md`` among them), committed."""
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "init")
    return tmp_path


def _status(repo: Path) -> dict[str, tuple[str, str | None]]:
    run = run_cli("status", repo / "plan.md", "--root", repo, "--json")
    return {t["id"]: (t["status"], t["reason"]) for t in json.loads(run.stdout)["tasks"]}


def _next(repo: Path) -> list[str]:
    run = run_cli("next", repo / "plan.md", "--root", repo, "--json")
    return [t["id"] for t in json.loads(run.stdout)["tasks"]]


def _execute(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    run = run_cli("execute", repo / "plan.md", "--root", repo, "--json", "--no-summary", *args)
    return run.exit_code, json.loads(run.stdout)


def test_a_pass_from_another_work_tree_is_not_summarized_as_verified(tmp_path: Path) -> None:
    files = {"src/auth.py": "def login():\n    pass\n", "src/pay.py": "def pay():\n    pass\n"}
    repo = _repo(tmp_path, {"plan.md": TWO, **files})
    plan = repo / "plan.md"
    assert run_cli("execute", plan, "--root", repo).exit_code == 0
    (repo / "src" / "auth.py").write_text("x = 1\n")  # auth's check fails on this tree
    run = run_cli("execute", plan, "--root", repo, "--task", "pay")
    assert run.exit_code == 0  # the one selected task passed
    summary = (repo / "SUMMARY.md").read_text()
    assert "\nstatus: partial\n" in summary
    assert "# 🟡 PARTIAL: 1 of 2 tasks passed (1 stale)" in summary
    assert (
        "| `s/auth` auth | ♻️ stale | 0.0s | 0 | todo → stale "
        "| the work tree changed since it passed |"
    ) in summary
    assert _status(repo)["s/auth"] == ("stale", "the work tree changed since it passed")
    text = run_cli("status", plan, "--root", repo).stdout
    assert "STALE      s/auth  0.0s  (the work tree changed since it passed)" in text
    assert _next(repo) == ["s/auth"]
    # Back on the tree auth passed on, its pass holds again; pay's, from the other one, not.
    (repo / "src" / "auth.py").write_text("def login():\n    pass\n")
    assert _status(repo) == {
        "s/auth": ("passed", None),
        "s/pay": ("stale", "the work tree changed since it passed"),
    }


def test_checks_that_read_a_changed_file_are_stale_and_block_the_next_wave(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, {"plan.md": READERS, "src/app.py": "def login():\n    pass\n"})
    code, _ = _execute(repo)
    assert code == 0
    assert _status(repo)["s/b"] == ("passed", None)
    (repo / "src" / "app.py").write_text("x = 1\n")
    changed = "the work tree changed since it passed"
    assert _status(repo) == {
        "s/b": ("stale", changed),
        "s/c": ("stale", changed),
        "s/d": ("stale", changed),
    }
    assert _next(repo) == ["s/b", "s/c"]
    code, doc = _execute(repo, "--wave", "2")
    assert code == 1
    [task] = doc["tasks"]
    assert (task["id"], task["status"], task["reason"]) == (
        "s/d",
        "blocked",
        (
            f"dependency s/b did not pass: s/b is stale: {changed}; "
            f"run: planrun execute {repo / 'plan.md'} --wave 1"
        ),
    )
    # As running them shows: both fail on this tree.
    code, doc = _execute(repo, "--task", "b", "--task", "c")
    assert [t["status"] for t in doc["tasks"]] == ["failed", "failed"]


def test_outside_git_the_files_a_check_reads_hold_its_pass(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text(READERS)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def login():\n    pass\n")
    assert _execute(tmp_path)[0] == 0
    (tmp_path / "other.txt").write_text("no check reads this\n")
    assert _status(tmp_path) == {
        "s/b": ("passed", None),
        "s/c": ("passed", None),
        "s/d": ("passed", None),
    }
    (tmp_path / "src" / "app.py").write_text("x = 1\n")
    read = "the files it reads changed since it passed"
    assert _status(tmp_path) == {
        "s/b": ("stale", read),
        "s/c": ("stale", read),
        "s/d": ("stale", read),
    }


def test_the_files_must_haves_read_are_in_the_key_whatever_inputs_says(tmp_path: Path) -> None:
    plan = """\
---
planrun: 1
id: s
tasks:
  - id: a
    inputs: [tests/test_a.py]
    verify: test -f tests/test_a.py
    must_haves:
      artifacts:
        - {path: src/app.py, contains: "def login"}
      key_links:
        - {from: src/api.py, to: src/app.py, pattern: "import login"}
---
"""
    files = {
        "plan.md": plan,
        "tests/test_a.py": "def test(): pass\n",
        "src/app.py": "def login():\n    pass\n",
        "src/api.py": "from app import login\n",
    }
    repo = _repo(tmp_path, files)
    assert _execute(repo)[0] == 0
    again = _execute(repo)[1]["tasks"][0]
    assert (again["status"], again["cached"]) == ("passed", True)
    (repo / "src" / "api.py").write_text("from app import logout\n")
    assert _status(repo)["s/a"] == ("stale", "its inputs changed since it passed")
    rerun = _execute(repo)[1]["tasks"][0]
    assert (rerun["status"], rerun["cached"]) == ("failed", False)


GSD_01 = """\
---
phase: 02-api
plan: 01
type: execute
wave: 1
depends_on: []
files_modified: [src/auth.py]
autonomous: true
must_haves:
  artifacts:
    - path: "src/auth.py"
      contains: "def login"
---
<tasks>
<task type="auto">
  <name>Write login</name>
  <files>src/auth.py</files>
  <action>Write it.</action>
  <verify><automated>test -f src/auth.py</automated></verify>
  <done>ok</done>
</task>
</tasks>
"""

GSD_02 = """\
---
phase: 02-api
plan: 02
type: execute
wave: 2
depends_on: ["02-01"]
files_modified: [src/api.py]
autonomous: true
---
<tasks>
<task type="auto">
  <name>Wire api</name>
  <files>src/api.py</files>
  <action>Wire it.</action>
  <verify><automated>grep -q login src/api.py</automated></verify>
  <done>ok</done>
</task>
</tasks>
"""


def test_gsd_plan_must_haves_are_stale_once_the_artifact_changes(tmp_path: Path) -> None:
    phase = ".planning/phases/02-api"
    files = {
        f"{phase}/02-01-PLAN.md": GSD_01,
        f"{phase}/02-02-PLAN.md": GSD_02,
        "src/auth.py": "def login(): ...\n",
        "src/api.py": "from src.auth import login\n",
    }
    repo = _repo(tmp_path, files)
    path = repo / phase
    assert run_cli("execute", path, "--root", repo, "--no-summary").exit_code == 0
    (repo / "src" / "auth.py").write_text("def logout(): ...\n")
    doc = json.loads(run_cli("status", path, "--root", repo, "--json").stdout)
    checks = {t["id"]: (t["status"], t["reason"]) for t in doc["tasks"]}["02-01/@checks"]
    assert checks == ("stale", "the work tree changed since it passed")
    # 02-02 named alone reads 02-01 as context: its stale pass lets nothing after it go ahead.
    alone = run_cli("next", path / "02-02-PLAN.md", "--root", repo, "--json")
    assert json.loads(alone.stdout)["tasks"] == []


def test_planruns_own_outputs_and_caches_leave_a_pass_current(tmp_path: Path) -> None:
    # The JUnit file a run wrote, a log its output went to and the __pycache__ its check left
    # are not the work: status right after the run shows what the run showed.
    plan = (
        "---\nplanrun: 1\nid: s\ntasks:\n"
        f"  - {{id: a, verify: \"PYTHONDONTWRITEBYTECODE= {sys.executable} -c 'import lib'\"}}\n"
        "---\n"
    )
    repo = _repo(tmp_path, {"plan.md": plan, "lib.py": "X = 1\n"})
    with (repo / "run.log").open("w") as log:
        ran = subprocess.run(
            [sys.executable, "-m", "planrun", "execute", "plan.md", "--junit", "junit.xml"],
            cwd=repo,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    assert ran.returncode == 0, (repo / "run.log").read_text()
    assert (repo / "__pycache__").is_dir()
    assert (repo / "junit.xml").is_file()
    assert _status(repo) == {"s/a": ("passed", None)}
    (repo / "lib.py").write_text("X = 2\n")
    assert _status(repo) == {"s/a": ("stale", "the work tree changed since it passed")}


def test_merged_results_are_not_held_to_this_machines_tree(tmp_path: Path) -> None:
    # The merge job's checkout holds the downloaded results/ too: the tree each job tested is
    # not this one's, and the merged passes are not called stale for it.
    files = {"plan.md": TWO, "src/auth.py": "def login(): ...\n", "src/pay.py": "def pay(): ...\n"}
    repo = _repo(tmp_path, files)
    ran = run_cli("execute", repo / "plan.md", "--root", repo, "--json", "--no-summary")
    (repo / "results").mkdir()
    (repo / "results" / "x.json").write_text(ran.stdout)
    merged = run_cli("summary", repo / "plan.md", "--root", repo, "--merge", repo / "results")
    assert merged.exit_code == 0, merged.output
    assert _status(repo) == {"s/auth": ("passed", None), "s/pay": ("passed", None)}


WAVES = """\
---
planrun: 1
id: s
tasks:
  - id: auth
    files: [src/auth.py]
    verify: grep -q "def login" src/auth.py
  - id: pay
    depends_on: [auth]
    files: [src/pay.py]
    verify: grep -q "def pay" src/pay.py
---
"""


def test_a_task_with_files_stays_current_while_they_do_so_waves_run_one_by_one(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, {"plan.md": WAVES, "src/auth.py": "def login():\n    pass\n"})
    code, _ = _execute(repo, "--wave", "1")
    assert code == 0
    # the next wave's agent writes its own file: wave 1's result still holds
    (repo / "src" / "pay.py").write_text("def pay():\n    pass\n")
    assert _status(repo)["s/auth"][0] == "passed"
    code, doc = _execute(repo, "--wave", "2")
    assert code == 0
    assert {t["id"]: t["status"] for t in doc["tasks"]}["s/pay"] == "passed"
    # its own file changed: stale, and the next wave is held up until it passes again
    (repo / "src" / "auth.py").write_text("x = 1\n")
    assert _status(repo)["s/auth"] == ("stale", "its inputs changed since it passed")


WRITES = """\
---
planrun: 1
id: s
tasks:
  - id: login
    verify: grep -q "def login" src/auth.py
  - id: report
    depends_on: [login]
    verify: echo ok > report.txt
---
"""


def test_what_a_runs_checks_wrote_does_not_make_its_results_stale(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"plan.md": WRITES, "src/auth.py": "def login():\n    pass\n"})
    _execute(repo)
    assert (repo / "report.txt").exists()  # written by a check, not ignored by git
    # the check that wrote it is no evidence (sideeffects.py); the other result holds
    assert _status(repo)["s/login"][0] == "passed"
    (repo / "src" / "auth.py").write_text("x = 1\n")  # an edit after the run: stale
    assert _status(repo)["s/login"] == ("stale", "the work tree changed since it passed")
