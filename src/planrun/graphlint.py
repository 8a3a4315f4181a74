"""Checks of the whole graph of plans, after it is built: milestones naming tasks that do not
exist, tasks of one wave touching the same file, a plan's declared wave against the one its
dependencies give."""

from __future__ import annotations

from planrun.dependencies import Resolver
from planrun.diagnostics import Diagnostics
from planrun.graph import PlanGraph, Unit, norm_files


def milestones(graph: PlanGraph, diags: Diagnostics) -> None:
    """Report milestones that name a task no plan has."""
    resolver = Resolver.of(graph)
    for plan in graph.plans:
        for milestone in plan.milestones:
            for ref in milestone.tasks:
                if resolver.task(ref, plan) is not None:
                    continue
                guess = resolver.suggest_task(ref, plan)
                message = f'milestone "{milestone.id}" names task "{ref}", which does not exist'
                if guess:
                    message += f' (did you mean "{guess}"?)'
                diags.add("unknown-milestone-task", plan.source, milestone.line, message)


def file_conflicts(graph: PlanGraph, diags: Diagnostics) -> None:
    """Warn about tasks of one wave that touch the same file."""
    first: dict[int, dict[str, Unit]] = {}  # by wave, then file (no tuple per file)
    context = {id(plan): plan.context for plan in graph.plans}  # once per plan, not per unit
    for unit in graph.units:
        if context[id(unit.plan)]:
            continue  # a plan loaded only as context is not being checked
        in_wave = first.setdefault(unit.wave, {})
        for file in norm_files(unit.files):
            other = in_wave.setdefault(file, unit)
            if other is unit or (other.plan is unit.plan and unit.plan.one_agent):
                continue
            diags.add(
                "file-conflict",
                unit.plan.source_of(unit.task),
                unit.line,
                f'task "{unit.bare_id}" and {other.name_in(unit.plan)} both touch "{file}" '
                f"in wave {unit.wave}",
                hint="add a depends_on between them, or use: planrun waves --avoid-conflicts",
            )


def wave_mismatches(graph: PlanGraph, diags: Diagnostics) -> None:
    """Warn about plans whose declared wave is not the one their dependencies give."""
    starts: dict[str, int] = {}
    for unit in graph.units:
        if unit.plan.id not in starts or unit.wave < starts[unit.plan.id]:
            starts[unit.plan.id] = unit.wave
    for plan in graph.plans:
        computed = starts.get(plan.id)
        if plan.context:
            continue
        if plan.wave is not None and computed is not None and plan.wave != computed:
            diags.add(
                "wave-mismatch",
                plan.source,
                plan.line,
                f'plan "{plan.id}" declares wave {plan.wave}, but its dependencies put it in '
                f"wave {computed}",
                hint=f"set wave: {computed}, or fix depends_on",
            )
