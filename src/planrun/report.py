"""The one report of a run: what ``execute`` ran or ``status`` read, as a whole (its status,
its units' results, its milestones, its evidence), and the exit code it means."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planrun.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from planrun.graph import PlanGraph, Unit
from planrun.results import MilestoneStatus, UnitResult
from planrun.statuses import FAILS_RUN, RunStatus


@dataclass
class Report:
    """What ``execute`` ran or ``status`` read: the run as a whole and its units' results, for
    the terminal, the JSON document, SUMMARY.md, JUnit and the MCP tools."""

    run_id: str | None  # ``status``: the last run's (None: nothing has run)
    root: Path
    started: float | None
    duration: float | None
    status: RunStatus
    results: list[UnitResult]
    """``execute``: the selected units' results; ``status``: every unit's."""
    milestones: list[MilestoneStatus]
    graph: PlanGraph
    interrupted: list[Unit] = field(default_factory=list)
    everything: list[UnitResult] = field(default_factory=list)
    """Every unit of the plans: this run's result, or the one recorded before it."""
    evidence: dict[str, Any] = field(default_factory=dict)
    """Base, tested tree, undeclared changes, environment, --prove (see ``evidence_doc``)."""

    @property
    def exit_code(self) -> int:
        if self.status == RunStatus.INTERRUPTED:
            return EXIT_INTERRUPTED
        failed = any(r.status in FAILS_RUN for r in self.results) or self.status == RunStatus.FAILED
        return EXIT_FAILED if failed else EXIT_OK
