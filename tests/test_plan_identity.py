"""Plan identity: ids from paths, unique in a run, and results that never cross plans."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import run_cli
from planrun.validate import validate_paths

CHECKS = "# Tasks: {name}\n\n## Validation\n- `test -f {name}.ok`\n"


def features(tmp_path: Path) -> Path:
    for name in ("001-a", "002-b", "003-c"):
        path = tmp_path / "specs" / name / "tasks.md"
        path.parent.mkdir(parents=True)
        path.write_text(CHECKS.format(name=name))
    (tmp_path / "001-a.ok").write_text("")
    return tmp_path / "specs"


def statuses(doc: dict[str, object]) -> dict[str, str]:
    tasks = doc["tasks"]
    assert isinstance(tasks, list)
    return {t["id"]: t["status"] for t in tasks}


def test_spec_kit_features_are_named_by_their_folder(tmp_path: Path) -> None:
    result = validate_paths([features(tmp_path)])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [p.id for p in result.plans] == ["001-a", "002-b", "003-c"]
    [alone] = validate_paths([tmp_path / "specs" / "002-b" / "tasks.md"]).plans
    assert alone.id == "002-b"


def test_each_feature_keeps_its_own_results(tmp_path: Path) -> None:
    specs = features(tmp_path)
    a, b, c = (specs / n / "tasks.md" for n in ("001-a", "002-b", "003-c"))
    root = ("--root", tmp_path)
    run = run_cli("execute", a, *root, "--json", "--no-summary")
    assert run.exit_code == 0, run.output
    assert statuses(json.loads(run.stdout)) == {"001-a/@checks": "passed"}

    run = run_cli("status", c, *root, "--json")
    assert statuses(json.loads(run.stdout)) == {"003-c/@checks": "not_run"}
    run = run_cli("status", b, *root, "--json")
    assert statuses(json.loads(run.stdout)) == {"002-b/@checks": "not_run"}

    run = run_cli("execute", b, *root, "--json", "--no-summary")
    assert run.exit_code == 1
    assert statuses(json.loads(run.stdout)) == {"002-b/@checks": "failed"}

    out = tmp_path / "b-summary.md"
    run = run_cli("summary", b, *root, "-o", out)
    assert run.exit_code == 0, run.output
    text = out.read_text()
    assert "002-b" in text
    assert "001-a" not in text

    run = run_cli("execute", specs, *root, "--json", "--no-summary")
    assert statuses(json.loads(run.stdout)) == {
        "001-a/@checks": "passed",
        "002-b/@checks": "failed",
        "003-c/@checks": "failed",
    }


def test_two_plans_with_the_same_id_never_share_results(tmp_path: Path) -> None:
    for name, check in (("a", "test -d ."), ("b", "false")):
        path = tmp_path / name / "tasks.md"
        path.parent.mkdir()
        path.write_text(f"# T\n\n## Validation\n- `{check}`\n")
    root = ("--root", tmp_path)
    run = run_cli("execute", tmp_path / "a" / "tasks.md", *root, "--json", "--no-summary")
    assert statuses(json.loads(run.stdout)) == {"tasks/@checks": "passed"}
    run = run_cli("status", tmp_path / "b" / "tasks.md", *root, "--json")
    assert statuses(json.loads(run.stdout)) == {"tasks/@checks": "not_run"}
    # Together they need distinct ids, and each still finds its own result.
    result = validate_paths([tmp_path])
    assert result.ok
    assert [p.id for p in result.plans] == ["a-tasks", "b-tasks"]
    run = run_cli("status", tmp_path, *root, "--json")
    assert statuses(json.loads(run.stdout)) == {
        "a-tasks/@checks": "passed",
        "b-tasks/@checks": "not_run",
    }


def test_a_derived_id_gives_way_to_a_declared_one(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "x").mkdir(parents=True)
    (proj / "x" / "deploy.md").write_text("---\nplanrun: 1\nid: deploy\n---\n")
    (proj / "deploy.md").write_text("# D\n\n## Validation\n- `true`\n")
    result = validate_paths([proj])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert sorted(p.id for p in result.plans) == ["deploy", "proj-deploy"]


def test_duplicate_declared_ids_are_an_error_with_a_followable_hint(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.md").write_text("---\nplanrun: 1\nid: same\n---\n")
    run = run_cli("validate", tmp_path)
    assert run.exit_code == 1
    two = tmp_path / "two.md"
    assert (
        f'{two}:2: error[duplicate-id] plan id "same" is also the id of {tmp_path / "one.md"}; '
        "this plan is ignored\n"
        f'    hint: write a different "id:" in the frontmatter of {two}'
    ) in run.output


def test_results_from_before_plan_keys_are_set_aside(tmp_path: Path) -> None:
    state = tmp_path / ".planrun"
    state.mkdir()
    conn = sqlite3.connect(state / "state.db")
    conn.executescript(
        "CREATE TABLE results (task TEXT PRIMARY KEY, plan TEXT NOT NULL, status TEXT NOT NULL,"
        " exit_code INTEGER, duration REAL, started REAL, finished REAL NOT NULL,"
        " digest TEXT NOT NULL, log TEXT, reason TEXT, run_id TEXT NOT NULL,"
        " detail TEXT NOT NULL DEFAULT '{}');"
        "INSERT INTO results VALUES ('p/@checks', 'p', 'passed', 0, 0, 0, 1, 'x', NULL, NULL,"
        " 'r', '{}');"
        "PRAGMA user_version = 1;"
    )
    conn.close()
    plan = tmp_path / "p.md"
    plan.write_text("# P\n\n## Validation\n- `false`\n")
    run = run_cli("status", plan, "--root", tmp_path, "--json")
    assert statuses(json.loads(run.stdout)) == {"p/@checks": "not_run"}
    run = run_cli("execute", plan, "--root", tmp_path, "--json", "--no-summary")
    assert run.exit_code == 1
    assert statuses(json.loads(run.stdout)) == {"p/@checks": "failed"}
    conn = sqlite3.connect(state / "state.db")
    kept = conn.execute("SELECT task FROM results_v1").fetchall()
    conn.close()
    assert kept == [("p/@checks",)]


def test_another_plans_interrupted_run_is_not_this_plans(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.md").write_text(f"# {name}\n\n## Validation\n- `test -d .`\n")
    root = ("--root", tmp_path)
    run = run_cli("execute", tmp_path / "a.md", *root, "--no-summary")
    assert run.exit_code == 0, run.output
    conn = sqlite3.connect(tmp_path / ".planrun" / "state.db")
    with conn:
        conn.execute("UPDATE runs SET status = 'interrupted'")
    conn.close()
    a = json.loads(run_cli("status", tmp_path / "a.md", *root, "--json").stdout)
    b = json.loads(run_cli("status", tmp_path / "b.md", *root, "--json").stdout)
    assert a["status"] == "interrupted"
    assert b["status"] != "interrupted"
    assert b["run_id"] is None


def test_plans_of_one_file_keep_their_own_results(tmp_path: Path) -> None:
    tasks = tmp_path / ".taskmaster" / "tasks" / "tasks.json"
    tasks.parent.mkdir(parents=True)
    tasks.write_text(
        json.dumps(
            {
                tag: {"tasks": [{"id": 1, "title": tag, "testStrategy": f"Run `{check}`"}]}
                for tag, check in (("master", "test -d ."), ("feat", "false"))
            }
        )
    )
    run = run_cli("execute", tasks, "--root", tmp_path, "--no-summary", "--json")
    assert run.exit_code == 1
    doc = json.loads(run_cli("status", tasks, "--root", tmp_path, "--json").stdout)
    assert statuses(doc) == {"taskmaster/1": "passed", "taskmaster-feat/1": "failed"}


def test_a_feature_named_from_inside_its_folder_keeps_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    features(tmp_path)
    monkeypatch.chdir(tmp_path / "specs" / "002-b")
    [plan] = validate_paths([Path("tasks.md")]).plans
    assert plan.id == "002-b"
