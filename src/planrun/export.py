"""``planrun export github-actions``: a plan's dependency graph as a GitHub Actions workflow.

One job per task (or per plan), with ``needs:`` following the dependency graph: waves become
edges, not barriers. Each job checks out, installs planrun, runs its tasks with
``planrun execute PATH --task ID --force --json`` and uploads the result; a final job
(``if: always()``) downloads every result and runs ``planrun summary PATH --merge``, which
writes SUMMARY.md and fails the workflow if a task failed. GitHub allows 256 jobs per
workflow: past that, tasks are grouped by plan, then by wave, with a warning.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planrun.errors import UsageError
from planrun.graph import PlanGraph, Unit

MAX_JOBS = 256
GRANULARITIES = ("task", "plan", "shard")
MATRIX_SHARD = "${{ matrix.shard }}"


class _Dumper(yaml.SafeDumper):
    """GitHub Actions rejects YAML anchors and aliases: write every shared step in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# An event with no settings is written `push:`, not `push: null`.
_Dumper.add_representer(
    type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", "")
)


@dataclass
class Job:
    id: str
    name: str
    select: list[str]  # execute arguments that pick its tasks
    units: list[Unit]
    needs: list[str] = field(default_factory=list)
    shards: int = 0  # a matrix job of this many shards (granularity "shard")


@dataclass
class Workflow:
    text: str
    jobs: list[Job]
    warnings: list[str]


def job_id(text: str, taken: set[str]) -> str:
    """A GitHub job id: starts with a letter or _, then letters, digits, - and _ (unique)."""
    base = "t-" + re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    if len(base) > 90:
        base = base[:80] + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _jobs(graph: PlanGraph, granularity: str, shards: int, warnings: list[str]) -> list[Job]:
    units = graph.units
    if granularity == "shard":
        return _shard_jobs(graph, shards)
    if granularity == "task" and len(units) >= MAX_JOBS:
        warnings.append(
            f"{len(units)} tasks exceed GitHub's {MAX_JOBS} jobs per workflow: "
            "one job per plan instead"
        )
        granularity = "plan"
    if granularity == "plan" and len(graph.plans) >= MAX_JOBS:
        waves = graph.waves()
        if len(waves) >= MAX_JOBS:
            raise UsageError(
                f"{len(waves)} waves exceed GitHub's {MAX_JOBS} jobs per workflow even one "
                "job per wave; split the plans across several workflows"
            )
        warnings.append(
            f"{len(graph.plans)} plans exceed GitHub's {MAX_JOBS} jobs per workflow: "
            "one job per wave instead"
        )
        granularity = "wave"
    taken = {"planrun-summary"}
    jobs: list[Job] = []
    owner: dict[int, Job] = {}
    if granularity == "task":
        for unit in units:
            job = Job(job_id(unit.id, taken), unit.id, ["--task", unit.id], [unit])
            jobs.append(job)
            owner[unit.index] = job
    elif granularity == "plan":
        for plan in graph.plans:
            mine = [u for u in units if u.plan is plan]
            if not mine:
                continue
            select = [arg for u in mine for arg in ("--task", u.id)]
            job = Job(job_id(plan.id, taken), f"plan {plan.id}", select, mine)
            jobs.append(job)
            owner.update((u.index, job) for u in mine)
    else:
        for number, wave in enumerate(graph.waves(), start=1):
            job = Job(
                job_id(f"wave-{number}", taken),
                f"wave {number}",
                ["--wave", str(number)],
                list(wave),
            )
            jobs.append(job)
            owner.update((u.index, job) for u in wave)
    for before, after in graph.edges():
        a, b = owner[before.index], owner[after.index]
        if a is not b and a.id not in b.needs:
            b.needs.append(a.id)
    return jobs


def _shard_jobs(graph: PlanGraph, shards: int) -> list[Job]:
    """One matrix job per wave, each wave after the one before it (waves are barriers here:
    a shard of wave W needs every shard of wave W-1)."""
    if graph.units and len(graph.waves()) >= MAX_JOBS:
        raise UsageError(f"{len(graph.waves())} waves exceed GitHub's {MAX_JOBS} jobs per workflow")
    taken = {"planrun-summary"}
    jobs: list[Job] = []
    for number, wave in enumerate(graph.waves(), start=1):
        select = ["--wave", str(number), "--shard", f"{MATRIX_SHARD}/{shards}"]
        job = Job(job_id(f"wave-{number}", taken), f"wave {number}", select, list(wave))
        job.shards = shards
        if jobs:
            job.needs.append(jobs[-1].id)
        jobs.append(job)
    return jobs


def default_install(repository: Path) -> str:
    """What the jobs install when ``--install`` is not given: the checked-out repository
    itself when it is planrun's own project; elsewhere there is no safe default, because
    planrun is not published on a package index."""
    try:
        with (repository / "pyproject.toml").open("rb") as fh:
            name = tomllib.load(fh).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        name = None
    if name == "planrun":
        return "."
    raise UsageError(
        "say what each job installs with --install: planrun is not published on a package "
        "index, and this repository is not planrun's own "
        "(for example --install 'planrun @ git+https://github.com/OWNER/planrun@TAG', "
        "or a path to a wheel committed in the repository)"
    )


def _install_step(install: str) -> dict[str, Any]:
    return {"name": "Install planrun", "run": f"python -m pip install {shlex.quote(install)}"}


def _quote(text: str) -> str:
    """A shell word that stays one word whatever it holds (quotes, ``$(...)``, spaces): always
    single-quoted, as ``shlex.quote`` does for unsafe text, each ``'`` closed and reopened."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _word(text: str) -> str:
    """A path or id as one shell word. GitHub expands ``${{ ... }}`` in a ``run:`` script before
    the shell sees it, so one inside the text is written as an expression yielding the
    characters; planrun's own expressions (the matrix shard) are left to GitHub."""
    word = _quote(text)
    if MATRIX_SHARD in text:
        return word
    return word.replace("${{", "${{ '${{' }}")


def github_workflow(
    graph: PlanGraph,
    paths: list[str],
    *,
    granularity: str = "task",
    install: str,
    shards: int = 2,
    python: str = "3.12",
    runs_on: str = "ubuntu-latest",
) -> Workflow:
    """``install`` is what each job pip-installs: planrun is not on a package index, so the
    caller names it (``.`` in planrun's own repository, a git URL or a wheel elsewhere)."""
    if granularity not in GRANULARITIES:
        raise UsageError(
            f'unknown granularity "{granularity}"; use one of: {", ".join(GRANULARITIES)}'
        )
    if granularity == "shard" and not 1 <= shards <= MAX_JOBS:
        raise UsageError(f"--shards must be between 1 and {MAX_JOBS}, not {shards}")
    warnings: list[str] = []
    jobs = _jobs(graph, granularity, shards, warnings)
    setup: list[dict[str, Any]] = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": python}},
        _install_step(install),
    ]
    target = " ".join(_word(p) for p in paths)
    workflow_jobs: dict[str, Any] = {}
    for job in jobs:
        select = " ".join(_word(arg) if not arg.startswith("--") else arg for arg in job.select)
        suffix = f"-{MATRIX_SHARD}" if job.shards else ""
        result = f"result-{job.id}{suffix}.json"
        body: dict[str, Any] = {"name": job.name, "runs-on": runs_on}
        if job.needs:
            body["needs"] = job.needs
        if job.shards:
            body["name"] = f"{job.name} shard {MATRIX_SHARD}/{job.shards}"
            # Every shard reports, and the merge job judges: one failing shard must not
            # cancel the others.
            body["strategy"] = {
                "fail-fast": False,
                "matrix": {"shard": list(range(1, job.shards + 1))},
            }
        body["steps"] = [
            *setup,
            {
                "name": "planrun execute",
                "run": f"planrun execute {target} {select} --force --json --no-summary > {result}",
            },
            {
                "name": "Upload the result",
                "if": "always()",
                "uses": "actions/upload-artifact@v4",
                "with": {
                    "name": f"planrun-result-{job.id}{suffix}",
                    "path": result,
                    "if-no-files-found": "ignore",
                },
            },
        ]
        workflow_jobs[job.id] = body
    workflow_jobs["planrun-summary"] = {
        "name": "planrun summary",
        "needs": [job.id for job in jobs],
        "if": "always()",
        "runs-on": runs_on,
        "steps": [
            *setup,
            {
                "name": "Download the results",
                "uses": "actions/download-artifact@v4",
                "with": {"pattern": "planrun-result-*", "path": "results", "merge-multiple": True},
            },
            {
                "name": "Merge them into SUMMARY.md",
                "run": f"planrun summary {target} --merge results -o SUMMARY.md",
            },
            {
                "name": "Upload SUMMARY.md",
                "if": "always()",
                "uses": "actions/upload-artifact@v4",
                "with": {
                    "name": "planrun-summary",
                    "path": "SUMMARY.md",
                    "if-no-files-found": "ignore",
                },
            },
        ],
    }
    document = {
        "name": "planrun",
        "on": {"workflow_dispatch": None, "push": None, "pull_request": None},
        "permissions": {"contents": "read"},
        "jobs": workflow_jobs,
    }
    if granularity == "shard":
        what = f"one matrix job of {shards} shards per wave, each wave after the one before"
    else:
        what = (
            f"one job per {'task' if granularity == 'task' and not warnings else 'group'}, "
            "`needs` follow the plan's dependencies"
        )
    header = (
        f"# Generated by planrun export github-actions: {what}.\n"
        "# Regenerate it when the plans change.\n"
    )
    # PyYAML quotes the key `on` (a boolean in YAML 1.1); GitHub reads it either way, but
    # people expect the usual spelling.
    dumped = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000)
    text = header + dumped.replace("'on':", "on:", 1)
    return Workflow(text, jobs, warnings)
