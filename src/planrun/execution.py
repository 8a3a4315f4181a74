"""One ``execute`` run: dry-run, signals, jobs, reuse, recording, --prove."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from planrun import evidence, proc, procpool
from planrun import musthaves as must
from planrun.bases import toplevel
from planrun.errors import UsageError
from planrun.evidence import Evidence
from planrun.executor import Executor
from planrun.fingerprint import declares_inputs, inputs_of
from planrun.freshness import Now, changed_checks
from planrun.graph import PlanGraph, Unit
from planrun.prove import ProveReport, evidence_doc, prove_passed
from planrun.recorded import read_state
from planrun.report import Report
from planrun.results import UnitResult, from_record, record_of
from planrun.roots import check_roots, plan_root, run_root
from planrun.scheduler import Scheduler, Step, StopSignal
from planrun.selection import (
    ExecuteOptions,
    Warn,
    cost,
    load_for_run,
    result_keys,
    select,
    unit_keys,
)
from planrun.sideeffects import own_output_paths
from planrun.state import Record, State, StateError, new_run_id, state_dir
from planrun.statuses import PASSED, RunStatus
from planrun.verdicts import milestones, open_truths, run_status


class Reporter(Protocol):
    def start(self, graph: PlanGraph, units: list[Unit], jobs: int, run_id: str) -> None: ...

    def unit_started(self, unit: Unit) -> None: ...

    def unit_finished(self, result: UnitResult) -> None: ...

    def warn(self, message: str) -> None: ...

    def interrupting(self, *, kill: bool) -> None: ...

    def finish(self, report: Report) -> None: ...


@dataclass
class PlannedUnit:
    unit: Unit
    steps: list[Step]
    checks: list[str]
    cached: bool = False  # its recorded pass would be reused: nothing runs


@contextmanager
def _signals(stop: StopSignal) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP (the terminal closed) ask the scheduler to stop; a second one
    kills at once. A must_haves pattern being matched is interrupted on the spot: the regex
    engine checks for signals, and the handler raises into it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_sig: int, _frame: object) -> None:
        stop.request()
        if must.searching():
            raise must.Interrupted

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_plans(opts: ExecuteOptions, reporter: Reporter, stop: StopSignal | None = None) -> Report:
    """Run the selected units. ``stop`` lets a caller other than a signal handler (the MCP
    server, on a cancelled request) stop the run: ``stop.request()`` from any thread."""
    result = load_for_run(opts)
    graph = result.graph
    proc.shell_argv(opts.shell)  # a missing shell is refused before a run is recorded
    check_roots(graph.plans, opts.root)
    root = run_root(graph.plans, opts.paths, opts.root)
    shells = plan_shells(graph)
    state = State(root, reporter.warn)
    try:
        records = state.results(result_keys(graph))
        selected = select(graph, opts, records)
        run_id = new_run_id()
        started = time.time()
        logs = _log_folder(root, run_id)
        state.start_run(run_id, opts.argv, started)
        keys = unit_keys(graph, opts)
        roots = {p.id: plan_root(p, opts.root) for p in graph.plans}
        # The logs earlier runs wrote are planrun's too: not the work, and not in the tree
        # (status leaves them out as well, so both hash the same tree).
        outputs = [*opts.outputs, *state.logs()]
        facts = evidence.gather(graph, roots, root, ref=opts.base, exclude=outputs)
        ended = state.trees_after(r.run_id for r in records.values())
        now = Now(keys, facts.tree, facts.repo is not None, roots, ended)
        executor = Executor(opts, run_id, logs, records, keys, evidence=facts, now=now)
        cached = reusable(graph, selected, records, now) if opts.reuse else {}
        cached = executor.hold_cached(cached)
        jobs = fit_jobs(opts.jobs or os.cpu_count() or 1, reporter.warn)
        priority = graph.remaining_path(lambda u: cost(records, u))
        units = [graph.units[i] for i in sorted(selected)]
        reporter.start(graph, units, jobs, run_id)
        for index in sorted(cached):
            reporter.unit_finished(cached[index])
        events = _Recorder(state, reporter, run_id)
        executor.shells = shells
        pool = procpool.ProcessPool(shell=opts.shell)
        stop = stop or StopSignal()
        stop.wake = pool.wake
        executor.stopped = lambda: stop.count > 0
        executor.warn = reporter.warn
        executor.tend = pool.tended
        if executor.watch is not None:
            # A snapshot serves the events between two waits while planrun prints nothing to a
            # pipe (``| tee run.log`` may write it into the tree): see sideeffects.py.
            piped: Callable[[], int] = getattr(reporter, "piped_lines", lambda: 0)
            executor.watch.epoch = lambda: (pool.waits, piped())
        scheduler = Scheduler(
            graph,
            selected - cached.keys(),
            executor,
            events,
            pool,
            jobs=jobs,
            fail_fast=opts.fail_fast,
            priority=priority,
            stop=stop,
            avoid_conflicts=opts.avoid_conflicts,
        )
        try:
            with _signals(stop):
                done = scheduler.run()
        finally:
            stop.wake = None  # a late signal must not write to a closed (reused) fd
            pool.close()
        done.update(cached)
        proved = None
        if opts.prove and not stop.count:
            proved = _prove(
                opts, run_id, logs, records, facts, done, jobs, events, stop, shells=shells
            )
        results = [done[i] for i in sorted(done)]
        # Siblings loaded as context (a GSD plan named on its own) are not this run's plans:
        # their claims settle dependencies, but they are not reported as its tasks.
        named = [u for u in graph.units if not u.plan.context]
        everything = [
            done[u.index] if u.index in done else from_record(u, records.get(u.id), now)
            for u in named
        ]
        statuses = {r.unit.id: r.status for r in everything}
        # "passed" covers the whole plan only if what was not selected had passed before (the
        # scheduler settled each of those from the recorded state).
        complete = all(
            done[u.index].status == PASSED if u.index in done else scheduler.ok[u.index]
            for u in named
        )
        interrupted = bool(stop.count) or bool(proved and proved.interrupted)
        status = run_status(results, interrupted=interrupted, complete=complete)
        run_evidence = evidence.with_plan_files(
            evidence_doc(facts, executor.programs, proved, opts.strict_scope),
            {p.id: state.source_key(p.results_key) for p in graph.plans},
        )
        after = _tree_after(facts, root, outputs, graph, done)
        if after is not None:
            run_evidence["tree_after"] = after
        redirected = own_output_paths()  # `execute > run.log`: later runs leave it out too
        if redirected:
            run_evidence["logs"] = [str(p) for p in redirected]
        if opts.strict_scope and facts.undeclared and status != RunStatus.INTERRUPTED:
            status = RunStatus.FAILED  # --strict-scope: a change no task declares fails the run
        finished = time.time()
        state.finish_run(run_id, status, finished, run_evidence)
        report = Report(
            run_id,
            root,
            started,
            finished - started,
            status,
            results,
            milestones(graph, statuses, open_truths(everything)),
            graph,
            interrupted=scheduler.interrupted,
            everything=everything,
            evidence=run_evidence,
        )
    finally:
        state.close()
    reporter.finish(report)
    return report


FDS_PER_JOB = 4  # output pipe, pidfd, log file, and a pipe end while a command starts
FDS_RESERVED = 48  # stdio, the state database and its WAL, selector, wake and watchdog pipes


def _tree_after(
    facts: Evidence, root: Path, outputs: list[Path], graph: PlanGraph, done: dict[int, UnitResult]
) -> str | None:
    """The work tree the run leaves behind, when it differs from the one it started on and a
    result of it is held to the tree (freshness.held_to_tree): a report or build its checks
    wrote is the run's own, and must not make its results stale in the next ``status``."""
    if facts.repo is None or facts.tree is None:
        return None
    if not any(not inputs_of(graph.units[i]) for i in done):
        return None
    after = evidence.tree_hash(facts.repo, [root / ".planrun", *outputs])
    return after if after != facts.tree else None


def fit_jobs(jobs: int, warn: Callable[[str], None]) -> int:
    """``jobs``, or fewer when the open-file limit cannot hold that many running commands
    (after raising the soft limit as far as the hard limit allows)."""
    try:
        import resource  # noqa: PLC0415 -- POSIX only; absent on Windows
    except ImportError:
        return jobs
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = FDS_RESERVED + FDS_PER_JOB * jobs
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return jobs
    fitted = max(1, (soft - FDS_RESERVED) // FDS_PER_JOB)
    warn(
        f"--jobs {jobs} needs about {needed} open files, but the limit is {soft} "
        f"(ulimit -n); running {fitted} at a time"
    )
    return fitted


def _prove(  # noqa: PLR0917 - the run's parts, passed once from execute
    opts: ExecuteOptions,
    run_id: str,
    logs: Path,
    records: dict[str, Record],
    facts: Evidence,
    done: dict[int, UnitResult],
    jobs: int,
    events: _Recorder,
    stop: StopSignal,
    *,
    shells: dict[str, tuple[str, ...]],
) -> ProveReport:
    """--prove: the passing tasks' checks again on their base trees (see prove.py), each
    plan's commands in the plan's own shell as in the run."""
    main = Executor(opts, run_id, None, records)

    def on_base(relocated: Callable[[Unit], Path | None]) -> Executor:
        base = Executor(opts, run_id, logs / "base", records, evidence=facts, relocate=relocated)
        base.shells = shells
        return base

    # The run's stop (signals, or the MCP server's cancel) stops the base checks too; the
    # handlers also cover making and removing the temporary trees: an interrupt stops the
    # checks, and the trees are still removed.
    try:
        with _signals(stop):
            proved = prove_passed(
                [done[i] for i in sorted(done)],
                facts,
                main.root,
                on_base,
                jobs=jobs,
                shell=opts.shell,
                stop=stop,
            )
    except UsageError:
        if not stop.count:
            raise
        # Ctrl-C on a terminal reaches git too: a checkout it cut short is an interrupt.
        return ProveReport(interrupted=True)
    for index in proved.verdicts:
        events.state.record(record_of(done[index], run_id))
    return proved


def plan_shells(graph: PlanGraph) -> dict[str, tuple[str, ...]]:
    """Each plan's own ``shell`` (a usage error, before anything runs, when it is not found)."""
    return {p.id: proc.shell_argv(p.shell) for p in graph.plans if p.shell}


def _log_folder(root: Path, run_id: str) -> Path:
    """The run's log folder, created before the run is recorded: a run whose output cannot
    be kept is refused up front rather than failing task by task."""
    logs = state_dir(root) / "logs" / run_id
    try:
        logs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(
            f"cannot create the log folder {logs}: {exc.strerror or exc}",
            hint="run where planrun may write, or choose another root with --root",
        ) from None
    return logs


def _tree(root: Path, opts: ExecuteOptions, logs: list[Path]) -> str | None:
    """The work tree a run would test, as ``execute`` hashes it (outside git: None)."""
    repo = toplevel(root)
    return evidence.tree_hash(repo, [root / ".planrun", *opts.outputs, *logs]) if repo else None


def reusable(
    graph: PlanGraph, selected: set[int], records: dict[str, Record], now: Now
) -> dict[int, UnitResult]:
    """Selected units whose recorded pass has the same key: reported, not run. A unit that
    does not declare ``inputs:`` may read any file (its tests, the script it runs, what they
    import), so its pass is reused only on the very work tree it was tested on (``now.tree``:
    None outside git, where it always runs again)."""
    out: dict[int, UnitResult] = {}
    tree = now.tree
    for index in selected:
        unit = graph.units[index]
        key = now.key(unit)
        rec = records.get(unit.id)
        if (
            key is not None
            and rec is not None
            and rec.status == PASSED
            and rec.detail.get("key") == key
            and not changed_checks(unit, rec)
            and (declares_inputs(unit) or (tree is not None and rec.detail.get("tree") == tree))
        ):
            result = from_record(unit, rec, now)
            result.cached = True
            out[index] = result
    return out


class _Recorder:
    """Scheduler events: record each finished unit (one transaction), then report it."""

    def __init__(self, state: State, reporter: Reporter, run_id: str) -> None:
        self.state = state
        self.reporter = reporter
        self.run_id = run_id

    def unit_started(self, unit: Unit) -> None:
        self.reporter.unit_started(unit)

    def interrupting(self, *, kill: bool) -> None:
        self.reporter.interrupting(kill=kill)

    def unit_finished(self, result: UnitResult) -> None:
        result.run_id = self.run_id
        self.state.record(record_of(result, self.run_id))
        self.reporter.unit_finished(result)


def dry_run(opts: ExecuteOptions, warn: Warn | None = None) -> list[PlannedUnit]:
    """What ``execute`` would run, in start order, without running or recording anything."""
    result = load_for_run(opts)
    graph = result.graph
    root = run_root(graph.plans, opts.paths, opts.root)
    records, _, logs, _ = read_state(root, graph, warn)
    selected = select(graph, opts, records)
    cached = (
        reusable(graph, selected, records, Now(unit_keys(graph, opts), _tree(root, opts, logs)))
        if opts.reuse
        else {}
    )
    executor = Executor(opts, "dry-run", None, records)
    priority = graph.remaining_path(lambda u: cost(records, u))
    order = sorted(selected, key=lambda i: (graph.units[i].wave, -priority[i], i))
    planned = []
    for index in order:
        unit = graph.units[index]
        must = unit.must_haves
        checks = [f"artifact {a.path}" for a in must.artifacts]
        checks += [f"key_link {k.from_} -> {k.to}" for k in must.key_links]
        steps = [Step(c.run, c.expect_exit, None) for c in executor.commands(unit)]
        planned.append(PlannedUnit(unit, steps, checks, cached=index in cached))
    return planned
