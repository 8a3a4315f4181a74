"""Validation: load plans, lint each, build the graph (the core of validate, waves, graph)."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from planrun.dependencies import build_graph
from planrun.diagnostics import Diagnostics
from planrun.errors import InvalidPlanError
from planrun.graph import PlanGraph
from planrun.graphlint import file_conflicts, milestones, wave_mismatches
from planrun.loader import Loaded, load_paths
from planrun.model import Plan


@dataclass
class Validation:
    plans: list[Plan]
    diagnostics: Diagnostics
    graph: PlanGraph

    @property
    def ok(self) -> bool:
        return not self.diagnostics.has_errors


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Loading builds hundreds of thousands of objects and frees none of them; the cyclic
    collector would rescan them all again and again (on a 20,000-task plan it triples the
    time of the YAML parse alone). Pause it while loading; it resumes after, with what was
    loaded frozen (``gc.freeze``) so that no later collection rescans it either."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def validate_paths(
    paths: Sequence[Path],
    fmt: str | None = None,
    *,
    derive: bool = True,
    shell: str | None = None,
    lint: bool = True,
) -> Validation:
    """Load and check the plans; ``shell``: the configured one, for a plan without its own;
    ``lint``: whether to lint each plan's checks too (warnings that ``next`` and ``status``,
    which show none, skip)."""
    with _gc_paused():
        return check_loaded(load_paths(paths, fmt, derive=derive), shell=shell, lint=lint)


def check_loaded(loaded: Loaded, *, shell: str | None = None, lint: bool = True) -> Validation:
    """Lint each loaded plan, build the graph, check milestones, waves and file conflicts."""
    diags = loaded.diagnostics
    if lint:
        # Imported here: the command lints read verify scripts (tree-sitter, the evidence
        # rules), which `next` and `status` never need.
        from planrun.inputglobs import lint_inputs  # noqa: PLC0415 -- see above
        from planrun.lint import lint_plan  # noqa: PLC0415 -- see above

        for plan in loaded.plans:
            if not plan.context:
                lint_plan(plan, diags, shell=shell)
                lint_inputs(plan, diags)
    graph = build_graph(loaded.plans, diags)
    if graph.order is not None:
        milestones(graph, diags)
        wave_mismatches(graph, diags)
        file_conflicts(graph, diags)
    return Validation(graph.plans, diags, graph)


def load_valid(
    paths: Sequence[Path],
    fmt: str | None = None,
    *,
    exit_code: int = 1,
    tolerate: frozenset[str] = frozenset(),
    derive: bool = True,
    shell: str | None = None,
    lint: bool = True,
) -> Validation:
    """Like validate_paths, but raise InvalidPlanError on errors (other than ``tolerate``)."""
    result = validate_paths(paths, fmt, derive=derive, shell=shell, lint=lint)
    if any(d.severity == "error" and d.code not in tolerate for d in result.diagnostics.items):
        raise InvalidPlanError(result.diagnostics.sorted(), exit_code=exit_code)
    return result
