"""``execute --shard K/N`` and the sharded GitHub Actions export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from planrun.errors import UsageError
from planrun.shard import Shard, groups, parse_shard, select_shard
from planrun.validate import validate_paths
from test_ecosystem import _normalize, _planrun, actionlint

# Three independent groups: a chain with a failure in it, a single task, a pair.
PLAN = """\
---
planrun: 1
id: sh
tasks:
  - {id: a, verify: "echo a"}
  - {id: b, depends_on: [a], verify: "echo 'b FAILED'; exit 1", claimed: done}
  - {id: c, depends_on: [b], verify: "test -d ."}
  - {id: d, verify: "test -d ."}
  - {id: e, verify: "test -d ."}
  - {id: f, depends_on: [e], verify: "test -d ."}
---
"""


def _copy(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    (repo / "plans").mkdir(parents=True)
    (repo / "plans" / "sh.md").write_text(PLAN)
    return repo


def test_parse_shard() -> None:
    assert parse_shard("2/3") == Shard(2, 3)
    assert str(parse_shard(" 1 / 4 ")) == "1/4"
    with pytest.raises(UsageError, match=r'^--shard takes K/N \(for example 1/4\), not "2"$'):
        parse_shard("2")
    with pytest.raises(UsageError, match="K must be between 1 and N"):
        parse_shard("0/2")
    with pytest.raises(UsageError, match="K must be between 1 and N"):
        parse_shard("3/2")


def test_shards_are_disjoint_whole_groups_balanced_by_duration(tmp_path: Path) -> None:
    repo = _copy(tmp_path, "repo")
    graph = validate_paths([repo / "plans"]).graph
    every = set(range(len(graph.units)))
    assert [[u.bare_id for u in g] for g in groups(graph, every)] == [
        ["a", "b", "c"],
        ["d"],
        ["e", "f"],
    ]
    ids = {u.index: u.bare_id for u in graph.units}

    def part(k: int, n: int, cost: dict[str, float] | None = None) -> list[str]:
        chosen = select_shard(graph, every, Shard(k, n), lambda u: (cost or {}).get(u.bare_id, 1.0))
        return sorted(ids[i] for i in chosen)

    # Equal weights: the chain of three first, then the pair and the single on shard 2.
    assert part(1, 2) == ["a", "b", "c"]
    assert part(2, 2) == ["d", "e", "f"]
    # Recorded durations move the split: d is long, so it is alone.
    slow = {"d": 10.0}
    assert part(1, 2, slow) == ["d"]
    assert part(2, 2, slow) == ["a", "b", "c", "e", "f"]
    # Every task is in exactly one of N parts, for any N, and the split is the same each time.
    for n in range(1, 8):
        parts = [part(k, n) for k in range(1, n + 1)]
        assert sorted(x for p in parts for x in p) == sorted(ids.values())
        assert parts == [part(k, n) for k in range(1, n + 1)]


def test_two_shards_in_two_copies_merge_into_the_full_run(tmp_path: Path) -> None:
    local = _copy(tmp_path, "local")
    full = _planrun("execute", "plans", "--root", ".", cwd=local)
    assert full.returncode == 1, full.stderr
    expected = _normalize((local / "plans" / "SUMMARY.md").read_text())

    results = tmp_path / "results"
    results.mkdir()
    for k in (1, 2):
        copy = _copy(tmp_path, f"shard-{k}")
        job = _planrun(
            "execute",
            "plans",
            "--root",
            ".",
            "--shard",
            f"{k}/2",
            "--json",
            "--no-summary",
            cwd=copy,
        )
        doc = json.loads(job.stdout)
        assert job.returncode == (1 if k == 1 else 0), job.stderr
        assert sorted(t["id"] for t in doc["tasks"]) == (
            ["sh/a", "sh/b", "sh/c"] if k == 1 else ["sh/d", "sh/e", "sh/f"]
        )
        (results / f"shard-{k}.json").write_text(job.stdout)
    final = _copy(tmp_path, "summary-job")
    merged = _planrun(
        "summary", "plans", "--root", ".", "--merge", results, "-o", "SUMMARY.md", cwd=final
    )
    assert merged.returncode == 1, merged.stderr
    assert _normalize((final / "SUMMARY.md").read_text()) == expected


def test_a_shard_with_nothing_to_do_is_not_an_error(tmp_path: Path) -> None:
    repo = _copy(tmp_path, "repo")
    run = run_cli("execute", repo / "plans", "--root", repo, "--task", "d", "--shard", "2/2")
    assert run.exit_code == 0, run.output


def test_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    repo = _copy(tmp_path, "repo")
    run = run_cli("execute", repo / "plans", "--root", repo, "--shard", "3/2")
    assert run.exit_code == 2
    assert "planrun: error: --shard 3/2: K must be between 1 and N, and N at least 1" in (
        run.stderr
    )


def test_sharded_workflow_has_one_matrix_job_per_wave(tmp_path: Path) -> None:
    repo = _copy(tmp_path, "repo")
    out = repo / ".github" / "workflows" / "planrun.yml"
    run = run_cli(
        "export",
        "github-actions",
        repo / "plans",
        "-o",
        out,
        "--granularity",
        "shard",
        "--shards",
        "3",
        "--install",
        ".",
    )
    assert run.exit_code == 0, run.output
    jobs = yaml.safe_load(out.read_text())["jobs"]
    assert list(jobs) == ["t-wave-1", "t-wave-2", "t-wave-3", "planrun-summary"]
    assert jobs["t-wave-1"]["strategy"] == {"fail-fast": False, "matrix": {"shard": [1, 2, 3]}}
    assert "needs" not in jobs["t-wave-1"]
    assert jobs["t-wave-3"]["needs"] == ["t-wave-2"]
    step = jobs["t-wave-2"]["steps"][3]["run"]
    assert step == (
        f"planrun execute '{repo / 'plans'}' --wave '2' --shard '${{{{ matrix.shard }}}}/3' "
        "--force --json --no-summary > result-t-wave-2-${{ matrix.shard }}.json"
    )
    assert jobs["t-wave-2"]["steps"][4]["with"]["name"] == (
        "planrun-result-t-wave-2-${{ matrix.shard }}"
    )
    assert jobs["planrun-summary"]["needs"] == ["t-wave-1", "t-wave-2", "t-wave-3"]
    assert actionlint(out) == []


def test_export_needs_install_outside_planrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _copy(tmp_path, "repo")
    (repo / ".git").mkdir()
    monkeypatch.chdir(repo)
    run = run_cli("export", "github-actions", "plans")
    assert run.exit_code == 2
    assert "planrun: error: say what each job installs with --install: planrun is not " in (
        run.stderr
    )
    (repo / "pyproject.toml").write_text('[project]\nname = "planrun"\n')
    run = run_cli("export", "github-actions", "plans")
    assert run.exit_code == 0, run.output
    install = yaml.safe_load(run.stdout)["jobs"]["t-sh-a"]["steps"][2]
    assert install == {"name": "Install planrun", "run": "python -m pip install ."}
