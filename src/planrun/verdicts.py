"""How results add up: a milestone's and a run's status, truths left to a person, the words
for status counts, and the reason a blocked unit gives."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from planrun.graph import PlanGraph
from planrun.results import MilestoneStatus, UnitResult
from planrun.statuses import (
    BLOCKED,
    FAILED,
    FAILS_RUN,
    MANUAL,
    NOT_RUN,
    PASSED,
    STATUSES,
    TIMEOUT,
    MilestoneState,
    RunStatus,
    TaskStatus,
)

VACUOUS_REASON = "its checks pass without the change too"


def failure_cause(unit_id: str, status: str) -> str:
    """Why a unit did not pass, as named in its dependents' blocked reasons."""
    return f"{unit_id} {status.replace('_', ' ')}"


def blocked_reason(dependency: str, root_cause: str) -> str:
    """The reason of a unit blocked behind ``dependency`` (the scheduler's and merge's)."""
    return f"dependency {dependency} did not pass: {root_cause}"


def count_words(counts: Mapping[TaskStatus, int] | Mapping[str, int]) -> list[str]:
    """ "2 passed", "1 not run", ... for each status with a count, in status order."""
    return [f"{counts[s]} {s.words}" for s in STATUSES if counts.get(s)]


def milestone_status(statuses: Sequence[str]) -> MilestoneState:
    """done: all passed; failed: any failed or timed out; blocked: any blocked; manual:
    everything not passed is a manual check; partial: some passed; else pending (an unverified,
    stale or error task is never done, and blocks nothing: the milestone is not "blocked")."""
    if not statuses:
        return MilestoneState.PENDING
    counts = Counter(statuses)
    if counts[PASSED] == len(statuses):
        return MilestoneState.DONE
    if counts[FAILED] or counts[TIMEOUT]:
        return MilestoneState.FAILED
    if counts[BLOCKED]:
        return MilestoneState.BLOCKED
    if counts[PASSED] + counts[MANUAL] == len(statuses):
        return MilestoneState.MANUAL
    if counts[PASSED]:
        return MilestoneState.PARTIAL
    return MilestoneState.PENDING


def milestones(
    graph: PlanGraph, statuses: Mapping[str, str], truths: frozenset[str] = frozenset()
) -> list[MilestoneStatus]:
    """Declared milestones; a plan that declares none gets one per plan in a run over several
    plans, or one per wave when it is the only plan."""
    out: list[MilestoneStatus] = []
    by_id = graph.by_id
    # Siblings read as context (a GSD plan named on its own) are not the report's plans.
    plans = [p for p in graph.plans if not p.context]
    single = len(plans) == 1
    for plan in plans:
        if plan.milestones:
            for ms in plan.milestones:
                ids = []
                for ref in ms.tasks:
                    full = ref if "/" in ref else f"{plan.id}/{ref}"
                    if full in by_id:
                        ids.append(full)
                out.append(_milestone(ms.id, ms.name, ids, statuses, truths))
        elif single:
            for number, wave in enumerate(graph.waves(), start=1):
                ids = [u.id for u in wave if u.plan is plan]
                if ids:  # a wave of siblings read as context only: not this plan's
                    out.append(
                        _milestone(f"wave-{number}", f"Wave {number}", ids, statuses, truths)
                    )
        else:
            ids = [u.id for u in graph.units if u.plan is plan]
            out.append(_milestone(plan.id, plan.title or plan.id, ids, statuses, truths))
    return out


def _milestone(
    mid: str, name: str, ids: list[str], statuses: Mapping[str, str], truths: frozenset[str]
) -> MilestoneStatus:
    states = [statuses.get(i, NOT_RUN) for i in ids]
    judged = [MANUAL if i in truths else state for i, state in zip(ids, states, strict=True)]
    return MilestoneStatus(
        mid, name, milestone_status(judged), states.count(PASSED), len(states), tuple(ids)
    )


def run_status(results: Sequence[UnitResult], *, interrupted: bool, complete: bool) -> RunStatus:
    """passed: every selected task passed and nothing else in the plans is left unverified;
    failed: a selected task failed, timed out, was blocked, is stale, could not run (error) or
    had no evidence (unverified);
    partial: nothing failed, but manual checks (truths in passed tasks too) or unselected tasks
    remain; interrupted."""
    if interrupted:
        return RunStatus.INTERRUPTED
    if any(r.status in FAILS_RUN for r in results):
        return RunStatus.FAILED
    if (
        complete
        and results
        and all(r.status == PASSED for r in results)
        and not manual_truths(results)
    ):
        return RunStatus.PASSED
    return RunStatus.PARTIAL


def manual_truths(results: Sequence[UnitResult]) -> int:
    """Truths left to a person inside tasks whose commands ran: their pass does not vouch for
    the truths, so a run that leaves any is partial, not passed."""
    return sum(1 for r in results if r.status != MANUAL for c in r.checks if c.ok is None)


def open_truths(results: Iterable[UnitResult]) -> frozenset[str]:
    """Units that passed but leave truths to a person: their milestone is not done until
    someone checks them."""
    return frozenset(
        r.unit.id for r in results if r.status == PASSED and any(c.ok is None for c in r.checks)
    )
