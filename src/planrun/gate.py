"""The agent gate: do the tasks the plans claim done pass their checks now?

This is the core every agent hook calls (``hooks.py`` holds the adapters that translate one
agent's hook input and output). It finds the plans from a working folder, runs the checks of
every task claimed ``done`` (through ``execution.run_plans``, so results are recorded as usual),
and says whether the agent may stop. It never lets a failure pass for a success: an invalid
plan or an internal error is a blocking outcome too. It never loops forever either: per session,
it blocks at most ``hook_max_blocks`` times in a row, then lets the stop through with a
warning naming the claims that still do not hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planrun.config import Config, load_config
from planrun.errors import InvalidPlanError, PlanError, UsageError
from planrun.execution import run_plans
from planrun.graph import PlanGraph, Unit
from planrun.recorded import read_status
from planrun.results import UnitResult
from planrun.roots import git_work_tree
from planrun.selection import ExecuteOptions
from planrun.state import locked, state_dir
from planrun.statuses import MANUAL, PASSED

HOLD = "hold"  # every claim checked passed
NOTHING = "nothing"  # nothing to check: no plans here, or no task claimed done
BLOCK = "block"  # a claim does not hold, or the claims could not be checked
RELEASE = "release"  # it would block, but it has blocked max_blocks times in a row already

# A claim holds when its checks passed, or when only a human can check it (planrun cannot
# refute it, and SUMMARY.md lists it as manual).
HOLDS = frozenset({PASSED, MANUAL})
DEFAULT_MAX_BLOCKS = 3
_FORGET_AFTER = 7 * 24 * 3600.0  # a session's count is dropped after a week without a block


@dataclass(frozen=True)
class GateRequest:
    cwd: Path
    session: str | None = None
    """Blocks in a row are counted per session; without one there is no cap."""
    argv: Sequence[str] = ()
    """What the run is recorded as having been started with."""


@dataclass(frozen=True)
class Problem:
    """Why the claims could not be checked."""

    kind: str  # "invalid" (the plan has errors), "error" (planrun refused), "crash"
    message: str
    details: list[str] = field(default_factory=list)  # the diagnostics of an invalid plan


@dataclass
class GateOutcome:
    verdict: str
    paths: list[Path] = field(default_factory=list)
    checked: list[UnitResult] = field(default_factory=list)
    failures: list[UnitResult] = field(default_factory=list)
    problem: Problem | None = None
    note: str | None = None
    blocks: int = 0  # blocks in a row, this one included
    max_blocks: int = DEFAULT_MAX_BLOCKS
    cwd: Path | None = None  # the agent's folder, which paths are shown relative to

    @property
    def unresolved(self) -> list[str]:
        """What still does not hold, in a few words each (for the warning of a release)."""
        if self.problem is not None:
            return [f"{self.problem.kind}: {self.problem.message}"]
        return [f"{r.unit.id} ({r.status.words})" for r in self.failures]


def judge(request: GateRequest) -> GateOutcome:
    """Check the claims from ``request.cwd``; count the block, or reset the count."""
    cwd = request.cwd.resolve()
    max_blocks = DEFAULT_MAX_BLOCKS
    # The count lives in the project's .planrun/: the git work tree, else the folder of the
    # configuration file, else the agent's folder.
    home = git_work_tree(cwd) or cwd
    outcome: GateOutcome
    try:
        # Relative paths in the plans and the configuration mean the agent's folder.
        with contextlib.chdir(cwd):
            config = load_config(cwd)
            max_blocks = config.hook_max_blocks
            if git_work_tree(cwd) is None and config.base is not None:
                home = config.base
            outcome = _check(cwd, request, config)
    except InvalidPlanError as exc:
        details = [d.format() for d in exc.diagnostics if d.severity != "info"]
        outcome = GateOutcome(BLOCK, problem=Problem("invalid", exc.message, details))
    except PlanError as exc:
        message = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
        outcome = GateOutcome(BLOCK, problem=Problem("error", message))
    except Exception as exc:  # noqa: BLE001 - a crash must block, never pass for a success
        outcome = GateOutcome(BLOCK, problem=Problem("crash", f"{type(exc).__name__}: {exc}"))
    outcome.max_blocks = max_blocks
    outcome.cwd = cwd
    if request.session is None:
        outcome.blocks = 1 if outcome.verdict == BLOCK else 0
        return outcome
    counter = BlockCounter(home)
    if outcome.verdict != BLOCK:
        counter.reset(request.session)
        return outcome
    outcome.blocks = counter.add(request.session)
    if outcome.blocks > max_blocks:
        counter.reset(request.session)
        outcome.verdict = RELEASE
    return outcome


def plan_paths(cwd: Path, config: Config) -> list[Path] | None:
    """The configured plan paths, else ``plans/`` (relative: the caller works in ``cwd``);
    None when there is no plans/ folder.

    A configured path that does not exist is an error: planrun was set up here, so a missing
    folder is a mistake to report, not a project without plans."""
    if config.path:
        paths = config.plan_paths()
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise UsageError(
                f"the configured plan path {missing[0]} does not exist",
                hint="fix `path` in [tool.planrun], or create the plans",
            )
        return paths
    return [Path("plans")] if (cwd / "plans").is_dir() else None


def _check(cwd: Path, request: GateRequest, config: Config) -> GateOutcome:
    paths = plan_paths(cwd, config)
    if paths is None:
        note = f"no plans/ folder in {cwd} and no [tool.planrun] path: nothing to check"
        return GateOutcome(NOTHING, note=note)
    report = read_status(paths, config.format)
    claimed = claimed_done(report.graph)
    if not claimed:
        return GateOutcome(NOTHING, paths, note="no task is claimed done: nothing to check")
    opts = ExecuteOptions(
        paths=paths,
        fmt=config.format,
        tasks=[u.id for u in claimed],
        jobs=config.jobs,
        timeout=config.timeout,
        # Each claim is checked on its own: a dependency not claimed done counts as passed,
        # so a claim is judged by its own checks, not by unfinished work it builds on.
        force=True,
        shell=config.shell,
        # A pass recorded under the same inputs (the current tree) is reused, not rerun.
        reuse=config.reuse,
        argv=list(request.argv),
        base=config.base_ref,  # a claim whose files did not change since the base fails
    )
    run = run_plans(opts, _Quiet())
    failures = [r for r in run.results if r.status not in HOLDS]
    return GateOutcome(BLOCK if failures else HOLD, paths, run.results, failures)


def claimed_done(graph: PlanGraph) -> list[Unit]:
    """Tasks claimed done, and the plan's own checks (verify, must_haves) of a plan whose
    every task is claimed done: then the plan as a whole is claimed (a GSD SUMMARY.md)."""
    tasks: dict[str, list[bool]] = {}
    for unit in graph.units:
        if unit.task is not None:
            tasks.setdefault(unit.plan.id, []).append(unit.task.claimed == "done")
    return [
        u
        for u in graph.units
        if (u.task.claimed == "done" if u.task is not None else all(tasks.get(u.plan.id, [False])))
    ]


class _Quiet:
    """A runner reporter that shows nothing: the adapter reports the outcome."""

    def start(self, graph: PlanGraph, units: list[Unit], jobs: int, run_id: str) -> None:
        pass

    def unit_started(self, unit: Unit) -> None:
        pass

    def unit_finished(self, result: UnitResult) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def interrupting(self, *, kill: bool) -> None:
        pass

    def finish(self, report: object) -> None:
        pass


class BlockCounter:
    """Blocks in a row per session, in ``.planrun/hook-blocks.json`` (under a lock: a Stop
    and a SubagentStop hook of one session may run at once)."""

    def __init__(self, root: Path) -> None:
        self.dir = state_dir(root)
        self.path = self.dir / "hook-blocks.json"

    def add(self, session: str) -> int:
        with self._locked() as counts:
            count = _number(counts.get(session, {}), "count") + 1
            counts[session] = {"count": int(count), "updated": time.time()}
        return int(count)

    def reset(self, session: str) -> None:
        if not self.path.exists():
            return
        with self._locked() as counts:
            counts.pop(session, None)

    @contextlib.contextmanager
    def _locked(self) -> Any:
        with locked(self.dir, "hook.lock"):
            counts = self._read()
            yield counts
            self._write(counts)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or unreadable: counting starts again (the cap still holds)
        if not isinstance(data, dict):
            return {}
        now = time.time()
        return {k: v for k, v in data.items() if now - _number(v, "updated") < _FORGET_AFTER}

    def _write(self, counts: dict[str, Any]) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.path)


def _number(entry: object, key: str) -> float:
    value = entry.get(key) if isinstance(entry, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
