"""What a run is asked to do (``ExecuteOptions``), loading its plans, and which units it selects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from planrun import fingerprint
from planrun.errors import NothingSelectedError, UsageError
from planrun.fingerprint import digest
from planrun.graph import PlanGraph, Unit
from planrun.modelfields import check_timeout
from planrun.roots import plan_root
from planrun.shard import Shard, select_shard
from planrun.state import Record
from planrun.statuses import PASSED
from planrun.suggest import Suggester
from planrun.validate import Validation, load_valid

DEFAULT_COST = 1.0  # seconds assumed for a task that has never run, for priorities


@dataclass
class ExecuteOptions:
    paths: list[Path]
    fmt: str | None = None
    root: Path | None = None
    wave: int | None = None
    tasks: list[str] = field(default_factory=list)
    jobs: int | None = None
    timeout: float | None = None
    fail_fast: bool = False
    failed: bool = False
    force: bool = False
    shell: str | None = None
    avoid_conflicts: bool = False
    shard: Shard | None = None
    reuse: bool = True  # reuse a recorded pass whose key did not change (--fresh turns it off)
    argv: list[str] = field(default_factory=list)
    derive: bool = True
    base: str | None = None  # --base REF; default: the parent of the commit that added the plan
    prove: bool = False
    strict_scope: bool = False
    outputs: list[Path] = field(default_factory=list)  # files planrun itself writes (SUMMARY.md)
    lint: bool = True  # lint the checks: their warnings (next and status show none)


# Errors that concern one check, not the plan's shape: execute runs the plan and that check
# fails (with the same explanation) instead of refusing the whole run.
CHECK_LEVEL_ERRORS = frozenset({"invalid-regex", "path-outside-root"})


def load_for_run(opts: ExecuteOptions) -> Validation:
    if opts.timeout is not None:
        try:
            check_timeout(opts.timeout)
        except ValueError as exc:
            raise UsageError(f"--timeout: {exc}") from None
    # An invalid plan is a usage problem for execute: exit 2, nothing run (SPEC section 6).
    result = load_valid(
        opts.paths,
        opts.fmt,
        exit_code=2,
        tolerate=CHECK_LEVEL_ERRORS,
        derive=opts.derive,
        shell=opts.shell,
        lint=opts.lint,
    )
    if opts.avoid_conflicts:
        result.graph.assign_waves(avoid_conflicts=True)
    return result


def select(graph: PlanGraph, opts: ExecuteOptions, records: dict[str, Record]) -> set[int]:
    units = graph.units
    # Plans loaded only as context (a named GSD plan's siblings) are never run.
    chosen = {u.index for u in units if not u.plan.context}
    if opts.wave is not None:
        count = max((u.wave for u in units), default=0)
        if not 1 <= opts.wave <= count:
            raise UsageError(f"there is no wave {opts.wave}: the plans have {count} waves")
        chosen &= {u.index for u in units if u.wave == opts.wave}
    if opts.tasks:
        chosen &= {resolve_task(graph, ref).index for ref in opts.tasks}
    if opts.failed:
        chosen &= {
            u.index
            for u in units
            if u.id not in records
            or records[u.id].status != PASSED
            or records[u.id].digest != digest(u)
        }
    if not chosen:
        raise NothingSelectedError(_nothing_selected(graph, opts))
    if opts.shard is not None:
        # An empty part of a non-empty selection is fine: another shard runs those tasks.
        chosen = select_shard(graph, chosen, opts.shard, lambda u: cost(records, u))
    return chosen


def _nothing_selected(graph: PlanGraph, opts: ExecuteOptions) -> str:
    where = paths_text(opts)
    if not graph.plans:
        return f"nothing selected: no plans found in {where}"
    if not graph.units:
        return f"nothing selected: the plans in {where} have no tasks"
    filters = [f"--wave {opts.wave}"] if opts.wave is not None else []
    filters += [f"--task {t}" for t in opts.tasks]
    if filters:
        # --failed is named too: with it, a task the filters match may have passed last time.
        filters += ["--failed"] if opts.failed else []
        return f"nothing selected: no task matches {' '.join(filters)} in {where}"
    return f"nothing selected: every task in {where} passed last time and is unchanged (--failed)"


def resolve_task(graph: PlanGraph, ref: str) -> Unit:
    """A task named on the command line: a full id, or a bare id found in exactly one plan."""
    if ref in graph.by_id:
        return graph.units[graph.by_id[ref]]
    matches = [u for u in graph.units if u.bare_id == ref]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(
            f'task "{ref}" is in several plans; use a full id: ' + ", ".join(u.id for u in matches)
        )
    guess = Suggester(graph.by_id).suggest(ref) or Suggester(
        u.bare_id for u in graph.units
    ).suggest(ref)
    hint = f' (did you mean "{guess}"?)' if guess else ""
    raise UsageError(f'no task "{ref}" in these plans{hint}')


def unit_keys(graph: PlanGraph, opts: ExecuteOptions) -> list[str | None]:
    roots = {plan.id: plan_root(plan, opts.root) for plan in graph.plans}
    return fingerprint.keys(graph, roots, opts.shell)


def result_keys(graph: PlanGraph) -> dict[tuple[str, str], str]:
    """How the state finds each unit's results: its plan file and its id within the plan."""
    return {(u.plan.results_key, u.bare_id): u.id for u in graph.units}


def cost(records: dict[str, Record], unit: Unit) -> float:
    rec = records.get(unit.id)
    return rec.duration if rec and rec.duration is not None else DEFAULT_COST


def paths_text(opts: ExecuteOptions) -> str:
    return " ".join(str(p) for p in opts.paths)


Warn = Callable[[str], None]
