"""What the state says of the plans: ``status`` and ``next``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from planrun.bases import toplevel
from planrun.errors import NothingSelectedError
from planrun.freshness import Now, held_to_tree
from planrun.graph import PlanGraph, Readiness, Unit
from planrun.report import Report
from planrun.results import from_record
from planrun.roots import plan_root, run_root
from planrun.selection import ExecuteOptions, Warn, load_for_run, paths_text, result_keys, unit_keys
from planrun.state import Record, RunRow, State, state_dir
from planrun.statuses import MANUAL, PASSED, SATISFIES_DEPENDENTS, RunStatus
from planrun.verdicts import milestones, open_truths, run_status


def read_state(
    root: Path, graph: PlanGraph, warn: Warn | None = None
) -> tuple[dict[str, Record], RunRow | None, list[Path], dict[str, str]]:
    """The recorded results of ``graph``'s units, the latest run among them, the files runs
    sent their output to (``State.logs``) and the trees runs left behind (by run), without
    creating a database where there is none. Read-only when it can be; a database that
    cannot be read is moved aside, and ``warn`` says so."""
    if not (state_dir(root) / "state.db").exists():
        return {}, None, [], {}
    state = State.reader(root) or State(root, warn or (lambda _msg: None))
    try:
        records = state.results(result_keys(graph))
        latest = max(records.values(), key=lambda r: r.finished, default=None)
        run = state.run(latest.run_id) if latest else None
        if run is not None:  # the run may have covered other plans, or named these otherwise
            files = [(p.id, state.source_key(p.results_key)) for p in graph.plans]
            run = replace(run, evidence=evidence_for(run.evidence, files))
        ended = state.trees_after(r.run_id for r in records.values())
        return records, run, state.logs(), ended
    finally:
        state.close()


def read_status(
    paths: Sequence[Path],
    fmt: str | None = None,
    root: Path | None = None,
    warn: Warn | None = None,
    *,
    derive: bool = True,
) -> Report:
    """Every unit's last recorded result, and the last run's status and evidence."""
    opts = ExecuteOptions(list(paths), fmt=fmt, root=root, derive=derive, lint=False)
    return _recorded(opts, warn)[0]


def _recorded(opts: ExecuteOptions, warn: Warn | None) -> tuple[Report, dict[str, Record], Now]:
    result = load_for_run(opts)
    graph = result.graph
    if not graph.plans:
        # "passed (nothing has run yet)" for a folder without plans would look green.
        raise NothingSelectedError(f"no plans found in {paths_text(opts)}")
    where = run_root(graph.plans, opts.paths, opts.root)
    records, last_run, logs, ended = read_state(where, graph, warn)
    keys = unit_keys(graph, opts) if any("key" in r.detail for r in records.values()) else None
    in_git, tree = _work_tree(where, graph, records, logs)
    roots = {plan.id: plan_root(plan, opts.root) for plan in graph.plans}
    now = Now(keys, tree, in_git, roots, ended)
    results = [
        from_record(unit, records.get(unit.id), now)
        for unit in graph.units
        if not unit.plan.context  # a sibling read as context is not this report's plan
    ]
    statuses = {r.unit.id: r.status for r in results}
    overall = run_status(results, interrupted=False, complete=True)
    if (
        last_run is not None
        and last_run.status == RunStatus.INTERRUPTED
        and overall != RunStatus.FAILED
    ):
        overall = RunStatus.INTERRUPTED
    duration = None
    if last_run is not None and last_run.finished is not None:
        duration = last_run.finished - last_run.started
    report = Report(
        last_run.id if last_run else None,
        where,
        last_run.started if last_run else None,
        duration,
        overall,
        results,
        milestones(graph, statuses, open_truths(results)),
        graph,
        everything=results,
        evidence=last_run.evidence if last_run else {},
    )
    return report, records, now


def _work_tree(
    root: Path, graph: PlanGraph, records: dict[str, Record], logs: list[Path]
) -> tuple[bool, str | None]:
    """Whether ROOT is in git, and git's hash of its work tree now as ``execute`` hashes it
    (planrun's state and outputs aside, ``logs`` too): only when a recorded result is held to
    its tree."""
    held = any(
        held_to_tree(graph.units[graph.by_id[uid]], rec)
        for uid, rec in records.items()
        if uid in graph.by_id
    )
    repo = toplevel(root) if held else None
    if repo is None:
        return False, None
    # Only then: status and next without such a result do not load what running needs.
    from planrun.evidence import tree_hash  # noqa: PLC0415
    from planrun.sideeffects import own_output_paths  # noqa: PLC0415

    # `planrun status > status.txt` in the work tree: its own output is not the work either.
    return True, tree_hash(repo, [state_dir(root), *own_output_paths(), *logs])


def next_units(
    paths: Sequence[Path],
    fmt: str | None = None,
    root: Path | None = None,
    warn: Warn | None = None,
    *,
    derive: bool = True,
) -> list[Unit]:
    """Units not passed yet whose dependencies all passed: what to work on now."""
    opts = ExecuteOptions(list(paths), fmt=fmt, root=root, derive=derive, lint=False)
    report, records, now = _recorded(opts, warn)
    graph = report.graph
    ready = Readiness(graph)
    ok = ready.ok  # lets its dependents go ahead
    done = [False] * graph.node_count()  # needs no more work
    for r in report.results:
        ok[r.unit.index] = r.status in SATISFIES_DEPENDENTS and not r.stale
        done[r.unit.index] = r.status in (PASSED, MANUAL) and not r.stale
    for unit in graph.units:
        if unit.plan.context:  # a sibling read as context: its result, else its claim, counts
            rec = records.get(unit.id)
            held = from_record(unit, rec, now).status if rec else None
            ok[unit.index] = held in SATISFIES_DEPENDENTS if held else unit.claimed_done
            done[unit.index] = True  # not the named plan's work
    for node in graph.order or []:
        if graph.is_virtual(node):
            ready.settle(node)
    return [u for u in graph.units if not done[u.index] and ready.settle(u.index) is None]


def evidence_for(doc: dict[str, Any], plans: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A recorded run's evidence as it concerns ``plans`` (each: its id now, its plan file):
    their bases only, found by plan file (by id in a run recorded without plan files), keyed
    by today's ids; ``base`` only when every one of them had that same base in the run."""
    if not doc:
        return doc
    recorded = [b for b in (doc.get("bases") or {}).items() if isinstance(b[1], dict)]
    by_file = {b["plan_file"]: b for _, b in recorded if b.get("plan_file")}
    by_id = dict(recorded) if not by_file else {}
    bases = {
        pid: found
        for pid, key in plans
        if (found := by_file.get(key) if by_file else by_id.get(pid)) is not None
    }
    commits = {b.get("commit") for b in bases.values()}
    common = len(bases) == len(plans) and len(commits) == 1 and None not in commits
    first: dict[str, Any] = next(iter(bases.values()), {})
    return {
        **doc,
        "bases": bases,
        "base": first.get("commit") if common else None,
        "base_label": first.get("label") if common else None,
        "unavailable": list(
            dict.fromkeys(str(b.get("reason")) for b in bases.values() if not b.get("commit"))
        ),
    }
