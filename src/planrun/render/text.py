"""The terminal text of the commands that read plans and state: validate's count line, the
waves, status, next, and what ``summary --merge`` merged.

Each function returns text; the command writes it (escaped, through ``render.console``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planrun.plural import agree, pluralize
from planrun.render.output import result_line, status_evidence

if TYPE_CHECKING:
    from pathlib import Path

    from planrun.graph import PlanGraph, Unit
    from planrun.merge import MergeReport
    from planrun.report import Report
    from planrun.validate import Validation


def validate_summary(result: Validation) -> str:
    """The count line: plans, tasks, sibling plans read as context, errors and warnings."""
    checked = [p for p in result.plans if not p.context]
    plans = len(checked)
    tasks = sum(len(p.tasks) for p in checked)
    errors = result.diagnostics.count("error")
    warnings = result.diagnostics.count("warning")
    head = f"{pluralize(plans, 'plan')}, {pluralize(tasks, 'task')}"
    context = len(result.plans) - plans
    if context:
        head += f" (and {pluralize(context, 'sibling plan')} read as context)"
    if not result.plans and not errors and not warnings:
        return f"{head}: nothing was checked."  # not "no problems": exit 5 follows
    if not errors and not warnings:
        return f"{head}: no problems found."
    return f"{head}: {pluralize(errors, 'error')}, {pluralize(warnings, 'warning')}."


def waves(graph: PlanGraph, critical: list[Unit]) -> str:
    """Each wave and its tasks, then the critical path."""
    out = []
    for number, wave in enumerate(graph.waves(), start=1):
        out.append(f"Wave {number} ({pluralize(len(wave), 'task')})")
        out.extend(f"  {u.id}" for u in wave)
    out.append(
        f"Critical path ({pluralize(len(critical), 'task')}): "
        + " -> ".join(u.id for u in critical)
    )
    return "\n".join(out) + "\n"


def status(report: Report) -> str:
    """Every task's last result, the milestones, the evidence, and the run's status."""
    out = [result_line(r) for r in report.results]
    if report.milestones:
        out.append("")
        out.append("Milestones:")
        out.extend(
            f"  {m.status:<8} {m.id}: {m.name} ({m.passed}/{m.total} passed)"
            for m in report.milestones
        )
    out.extend(status_evidence(report.evidence, report.results))
    last = f" (last run {report.run_id})" if report.run_id else " (nothing has run yet)"
    out.append("")
    out.append(f"status: {report.status}{last}")
    return "\n".join(out) + "\n"


def next_lines(units: list[Unit]) -> list[str]:
    """One line per ready task (each written on its own), or why there is none."""
    if not units:
        return ["nothing is ready: every task has passed, or waits on one that has not\n"]
    width = max(len(u.id) for u in units)
    return [f"{unit.id:<{width}}  wave {unit.wave}  {unit.name}\n" for unit in units]


def merged(report: MergeReport) -> str:
    """What ``summary --merge`` recorded from the documents."""
    blocked = (
        f"; {pluralize(report.blocked, 'task')} recorded as blocked "
        "behind a dependency that did not pass"
        if report.blocked
        else ""
    )
    return f"merged {report.reported} results from {report.documents} documents{blocked}"


def unreported(missing: int, folder: Path) -> str:
    """The tasks that no merged document reported."""
    return (
        f"planrun: {pluralize(missing, 'task')} of these plans "
        f"{agree(missing, 'has', 'have')} no result in {folder}"
    )
