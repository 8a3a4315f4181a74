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
from planrun.graph import PlanGraph, Readiness, Unit
from planrun.results import UnitResult, from_iso, from_json, record_of
from planrun.state import State, new_run_id
from planrun.statuses import BLOCKED, NOT_RUN, PASSED, SATISFIES_DEPENDENTS, STALE, TaskStatus
from planrun.verdicts import blocked_reason, failure_cause, run_status


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
            if TaskStatus.of(entry.get("status")) is None:
                notes.append(f'{path}: task "{task_id}" has an unknown status; ignored')
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
    results = _results(graph, chosen)
    run_id = "merge-" + new_run_id()
    state = State(root, warn)
    try:
        started = min((r.started for r in results if r.started), default=time.time())
        finished = max((r.finished for r in results if r.finished), default=time.time())
        state.start_run(run_id, ["summary", "--merge", str(folder)], started)
        for result in results:
            state.record(record_of(result, run_id))
        status = run_status(results, interrupted=False, complete=len(results) == len(graph.units))
        state.finish_run(run_id, status, finished, merged_evidence([d for _, d in docs]))
    finally:
        state.close()
    reported = sum(1 for r in results if r.unit.id in chosen)
    return MergeReport(len(docs), reported, len(results) - reported, notes, run_id)


def merged_evidence(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run-level evidence of several documents: a base or tested tree only where every
    document agrees (each machine checked out the same commit), changes no task declares
    and reasons for missing evidence from all of them, the first document's environment."""

    def agreed(key: str) -> Any:
        values = {json.dumps(d.get(key), sort_keys=True) for d in docs}
        return docs[0].get(key) if len(values) == 1 else None

    bases: dict[str, Any] = {}
    for doc in docs:
        bases.update(doc.get("bases") or {})
    return {
        "base": agreed("base"),
        "bases": bases,
        "tree": agreed("tree"),
        "undeclared_changes": sorted({p for d in docs for p in d.get("undeclared_changes") or []}),
        "unavailable": list(
            dict.fromkeys(r for d in docs for r in d.get("evidence_unavailable") or [])
        ),
        "environment": docs[0].get("environment"),
        "prove": None,
    }


def _results(graph: PlanGraph, chosen: dict[str, _Found]) -> list[UnitResult]:
    """A result per reported unit, plus blocked ones where a dependency did not pass."""
    ready = Readiness(graph)
    out: list[UnitResult] = []
    for node in graph.order or []:
        bad = ready.settle(node)
        if graph.is_virtual(node):
            continue
        unit = graph.units[node]
        found = chosen.get(unit.id)
        if found is not None:
            result = _result(unit, found)
            out.append(result)
            ready.ok[node] = result.status in SATISFIES_DEPENDENTS
            if not ready.ok[node]:
                ready.cause[node] = failure_cause(unit.id, result.status)
            continue
        if bad is None or not ready.cause[bad]:
            continue  # not run anywhere, and nothing it waits for failed: stays not run
        reason = blocked_reason(graph.node_name(bad), ready.block(node, bad))
        out.append(UnitResult(unit, BLOCKED, reason=reason, finished=time.time()))
    return out


def _result(unit: Unit, found: _Found) -> UnitResult:
    entry = found.entry
    result = from_json(unit, entry)
    result.finished = found.finished or time.time()
    # What it was tested on is the other machine's: its checkout, plus what that job built or
    # downloaded. This one's files cannot be compared with it, so it is held to its commands.
    result.tree = result.reads = None
    if "commands" in entry and result.status == PASSED:
        ran = sorted(c.original or c.run for c in result.commands)
        if ran != sorted(v.run for v in unit.verify):
            # Reported by a machine that ran other commands (the plan changed since).
            result.status, result.stale = STALE, True
            result.reason = "its commands changed since it passed on the machine that reported it"
    return result
