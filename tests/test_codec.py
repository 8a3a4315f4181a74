"""The one result codec: a unit's result written as JSON or as a state record reads back the
same, statuses are the same strings as StrEnums, and ``summary --merge`` refuses a status it
does not know."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from planrun.graph import Unit
from planrun.merge import merge
from planrun.results import (
    CheckResult,
    CommandRecord,
    UnitResult,
    from_json,
    from_record,
    record_of,
)
from planrun.statuses import STATUSES, RunStatus, TaskStatus
from planrun.validate import validate_paths

PLAN = """\
---
planrun: 1
id: cd
tasks:
  - {id: a, verify: "true"}
  - {id: b, depends_on: [a], verify: "true"}
---
"""


def _units(tmp_path: Path) -> list[Unit]:
    (tmp_path / "cd.md").write_text(PLAN)
    return validate_paths([tmp_path / "cd.md"]).graph.units


def _result(unit: Unit) -> UnitResult:
    return UnitResult(
        unit,
        TaskStatus.FAILED,
        reason="exit 1: `false`",
        exit_code=1,
        duration=0.25,
        started=1_700_000_000.5,
        finished=1_700_000_001.0,
        log="/r/.planrun/logs/x/cd/a.log",
        tail="boom\n",
        commands=[CommandRecord("false", 1, 0, 0.25, line=7)],
        checks=[CheckResult("artifact", "a.py", ok=False, message="a.py does not exist")],
        evidence={"changed": ["a.py"], "unchanged": []},
        vacuous=False,
        tree_changes=["out.txt"],
        tree="abc123",
        key="k1",
    )


def test_json_and_record_read_back_the_same_result(tmp_path: Path) -> None:
    unit = _units(tmp_path)[0]
    result = _result(unit)
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["status"] == "failed"
    back = from_json(unit, doc)
    # A document's key is not taken (a pass reported elsewhere is never reused); the rest is.
    assert back.key is None
    assert {**back.to_json(), "key": "k1"} == result.to_json()
    rec = record_of(result, "run-1")
    assert rec.status == "failed"
    assert type(rec.status) is str
    again = from_record(unit, rec)
    assert again.to_json() == result.to_json()
    assert again.commands == result.commands
    assert again.checks == result.checks
    assert again.key == "k1"
    assert again.run_id == "run-1"


def test_statuses_are_the_same_strings(tmp_path: Path) -> None:
    assert [str(s) for s in STATUSES] == [
        "passed",
        "failed",
        "timeout",
        "blocked",
        "stale",
        "error",
        "manual",
        "unverified",
        "not_run",
    ]
    assert TaskStatus.of("not_run") is TaskStatus.NOT_RUN
    assert TaskStatus.of("nope") is None
    assert TaskStatus.NOT_RUN.words == "not run"
    # A status given as a plain string (as older callers and tests do) is the StrEnum.
    plain = UnitResult(_units(tmp_path)[0], "passed")  # type: ignore[arg-type]
    assert plain.status is TaskStatus.PASSED
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (s TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (RunStatus.INTERRUPTED,))
    assert db.execute("SELECT s, typeof(s) FROM t").fetchone() == ("interrupted", "text")


def test_merge_ignores_a_task_whose_status_it_does_not_know(tmp_path: Path) -> None:
    units = _units(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    good = _result(units[0]).to_json()
    bad = {**_result(units[1]).to_json(), "status": "exploded"}
    (docs / "one.json").write_text(json.dumps({"schema_version": 1, "tasks": [good, bad]}))
    warnings: list[str] = []
    graph = validate_paths([tmp_path / "cd.md"]).graph
    report = merge(graph, tmp_path, docs, warnings.append)
    assert report.notes == [f'{docs / "one.json"}: task "cd/b" has an unknown status; ignored']
    assert report.reported == 1
    assert warnings == []
