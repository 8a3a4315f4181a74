"""``planrun summary --merge DIR``: results from several machines, one recorded state.

Each document is what ``planrun execute --json`` printed on some machine (a CI job running a
few tasks with ``--force``). Every task result is recorded, as if it had run here; a task
reported twice keeps the later finish, with a note. A task with no result whose dependency did
not pass is recorded as blocked, exactly as a local run would have recorded it (CI skips jobs
whose ``needs`` failed, so they report nothing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planrun.errors import UsageError
from planrun.graph import PlanGraph, Unit
from planrun.results import (
    BLOCKED,
    NOT_RUN,
    SATISFIES_DEPENDENTS,
    UnitResult,
    from_iso,
    run_status,
)
from planrun.runner import digest, new_run_id
from planrun.state import Record, State


@dataclass
class _Found:
    entry: dict[str, Any]
    source: Path
    finished: float | None


@dataclass
class MergeReport:
    documents: int
    reported: int  # results taken from the documents
    blocked: int  # tasks recorded blocked because a dependency did not pass
    notes: list[str] = field(default_factory=list)
    run_id: str = ""


def read_documents(folder: Path, warn: Callable[[str], None]) -> list[tuple[Path, dict[str, Any]]]:
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder of result documents")
    docs = []
    for path in sorted(folder.rglob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            warn(f"{path}: not a JSON document ({exc}); skipped")
            continue
        if not isinstance(doc, dict) or doc.get("schema_version") != 1:
            warn(f"{path}: not a planrun result document (schema_version 1); skipped")
            continue
        if not isinstance(doc.get("tasks"), list):
            warn(f"{path}: has no tasks list; skipped")
            continue
        docs.append((path, doc))
    if not docs:
        raise UsageError(f"{folder}: no planrun result documents (*.json) to merge")
    return docs


def merge(graph: PlanGraph, root: Path, folder: Path, warn: Callable[[str], None]) -> MergeReport:
    docs = read_documents(folder, warn)
    chosen: dict[str, _Found] = {}
    notes: list[str] = []
    for path, doc in docs:
        for entry in doc["tasks"]:
            if not isinstance(entry, dict) or entry.get("status") == NOT_RUN:
                continue
            task_id = entry.get("id")
            if task_id not in graph.by_id:
                notes.append(f'{path}: task "{task_id}" is not in these plans; ignored')
                continue
            found = _Found(entry, path, from_iso(entry.get("finished")))
            earlier = chosen.get(task_id)
            if earlier is None:
                chosen[task_id] = found
                continue
            later = found if (found.finished or 0) >= (earlier.finished or 0) else earlier
            other = earlier if later is found else found
            notes.append(
                f"{task_id} was reported twice ({other.source.name} and "
                f"{later.source.name}); the later finish, from {later.source.name}, wins"
            )
            chosen[task_id] = later
    records = _records(graph, chosen)
    run_id = "merge-" + new_run_id()
    state = State(root, warn)
    try:
        started = min((r.started for r in records if r.started), default=time.time())
        finished = max((r.finished for r in records), default=time.time())
        state.start_run(run_id, ["summary", "--merge", str(folder)], started)
        for rec in records:
            state.record(_with_run(rec, run_id))
        status = run_status(
            [UnitResult(graph.units[graph.by_id[r.task]], r.status) for r in records],
            interrupted=False,
            complete=len(records) == len(graph.units),
        )
        state.finish_run(run_id, status, finished)
    finally:
        state.close()
    reported = sum(1 for r in records if r.task in chosen)
    return MergeReport(len(docs), reported, len(records) - reported, notes, run_id)


def _with_run(rec: Record, run_id: str) -> Record:
    return Record(**{**rec.__dict__, "run_id": run_id})


def _records(graph: PlanGraph, chosen: dict[str, _Found]) -> list[Record]:
    """A record per reported unit, plus blocked ones where a dependency did not pass."""
    n = len(graph.units)
    ok: dict[int, bool] = {}
    cause: dict[int, str] = {}
    out: list[Record] = []
    for node in graph.order or []:
        if graph.is_virtual(node):
            bad = next((p for p in graph.graph.pred[node] if not ok.get(p, False)), None)
            ok[node] = bad is None
            if bad is not None:
                cause[node] = cause.get(bad, "")
            continue
        unit = graph.units[node]
        found = chosen.get(unit.id)
        if found is not None:
            rec = _record(unit, found)
            out.append(rec)
            ok[node] = rec.status in SATISFIES_DEPENDENTS
            if not ok[node]:
                cause[node] = f"{unit.id} {rec.status.replace('_', ' ')}"
            continue
        bad = next((p for p in graph.graph.pred[node] if not ok.get(p, False)), None)
        ok[node] = False
        if bad is None or bad not in cause:
            continue  # not run anywhere, and nothing it waits for failed: stays not run
        name = graph.units[bad].id if bad < n else f"plan {graph.plans[bad - n].id}"
        reason = f"dependency {name} did not pass: {cause[bad]}"
        cause[node] = cause[bad]
        out.append(
            Record(
                task=unit.id,
                plan=unit.plan.id,
                status=BLOCKED,
                exit_code=None,
                duration=None,
                started=None,
                finished=time.time(),
                digest=digest(unit),
                log=None,
                reason=reason,
                run_id="",
                detail={"tail": "", "commands": [], "checks": []},
            )
        )
    return out


def _record(unit: Unit, found: _Found) -> Record:
    entry = found.entry
    return Record(
        task=unit.id,
        plan=unit.plan.id,
        status=str(entry.get("status")),
        exit_code=entry.get("exit_code"),
        duration=entry.get("duration_s"),
        started=from_iso(entry.get("started")),
        finished=found.finished or time.time(),
        digest=digest(unit),
        log=entry.get("log"),
        reason=entry.get("reason"),
        run_id="",
        detail={
            "tail": entry.get("tail", ""),
            "commands": entry.get("commands", []),
            "checks": entry.get("checks", []),
        },
    )
