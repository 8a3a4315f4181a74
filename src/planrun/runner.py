"""``execute``, ``status`` and ``next``: select units, run them, record what happened."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from planrun import checkoutput, checkrules, evidence, fingerprint, proc
from planrun import musthaves as must
from planrun.bases import toplevel
from planrun.environment import program
from planrun.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    NothingSelectedError,
    UsageError,
)
from planrun.evidence import Evidence, UnitEvidence
from planrun.expectations import discards_output, judge_output
from planrun.graph import PlanGraph, Unit
from planrun.model import VerifyCommand, check_timeout
from planrun.musthaves import Budget, CheckResult, check_artifact, check_key_link
from planrun.prove import ProveReport, evidence_doc, prove_passed
from planrun.results import (
    BLOCKED,
    ERROR,
    FAILED,
    FAILS_RUN,
    MANUAL,
    NOT_RUN,
    PASSED,
    SATISFIES_DEPENDENTS,
    STALE,
    TIMEOUT,
    UNVERIFIED,
    CommandRecord,
    MilestoneStatus,
    UnitResult,
    milestones,
    open_truths,
    run_status,
)
from planrun.roots import check_roots, plan_root, run_root
from planrun.scheduler import Scheduler, Step, StopSignal, remaining_path
from planrun.shard import Shard, select_shard
from planrun.shellsplit import one_line, split_script
from planrun.sideeffects import WorkTreeWatch
from planrun.state import Record, RunRow, State, StateError, state_dir
from planrun.suggest import Suggester
from planrun.validate import Validation, load_valid

DEFAULT_TIMEOUT = 600.0
DEFAULT_COST = 1.0  # seconds assumed for a task that has never run, for priorities
ONLY_PRINTS = "only prints its result"  # a weak pass: it prints PASS or FAIL, exits 0


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


class Reporter(Protocol):
    def start(self, graph: PlanGraph, units: list[Unit], jobs: int, run_id: str) -> None: ...

    def unit_started(self, unit: Unit) -> None: ...

    def unit_finished(self, result: UnitResult) -> None: ...

    def warn(self, message: str) -> None: ...

    def interrupting(self, *, kill: bool) -> None: ...

    def finish(self, report: RunReport) -> None: ...


@dataclass
class RunReport:
    run_id: str
    root: Path
    started: float
    duration: float
    status: str
    results: list[UnitResult]
    milestones: list[MilestoneStatus]
    graph: PlanGraph
    interrupted: list[Unit] = field(default_factory=list)
    everything: list[UnitResult] = field(default_factory=list)
    """Every unit of the plans: this run's result, or the one recorded before it."""
    evidence: dict[str, Any] = field(default_factory=dict)
    """Base, tested tree, undeclared changes, environment, --prove (see ``evidence_doc``)."""

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        failed = any(r.status in FAILS_RUN for r in self.results) or self.status == "failed"
        return EXIT_FAILED if failed else EXIT_OK


@dataclass
class PlannedUnit:
    unit: Unit
    steps: list[Step]
    checks: list[str]
    cached: bool = False  # its recorded pass would be reused: nothing runs


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
        opts.paths, opts.fmt, exit_code=2, tolerate=CHECK_LEVEL_ERRORS, derive=opts.derive
    )
    if opts.avoid_conflicts:
        result.graph.assign_waves(avoid_conflicts=True)
    return result


def digest(unit: Unit) -> str:
    """What a recorded pass vouches for: the unit's commands and checks."""
    payload = json.dumps(
        [
            [c.model_dump(exclude={"description"}) for c in unit.verify],
            unit.must_haves.model_dump(by_alias=True),
        ],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def record_of(result: UnitResult, run_id: str) -> Record:
    """What the state keeps of a unit's result (one row, its detail as JSON)."""
    unit = result.unit
    return Record(
        task=unit.id,
        plan=unit.plan.id,
        status=result.status,
        exit_code=result.exit_code,
        duration=result.duration,
        started=result.started,
        finished=result.finished or time.time(),
        digest=digest(unit),
        log=result.log,
        reason=result.reason,
        run_id=run_id,
        detail=result.detail(),
        source=unit.plan.results_key,
        unit=unit.bare_id,
    )


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


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
        chosen = select_shard(graph, chosen, opts.shard, lambda u: _cost(records, u))
    return chosen


def _nothing_selected(graph: PlanGraph, opts: ExecuteOptions) -> str:
    where = _paths(opts)
    if not graph.plans:
        return f"nothing selected: no plans found in {where}"
    if not graph.units:
        return f"nothing selected: the plans in {where} have no tasks"
    filters = [f"--wave {opts.wave}"] if opts.wave is not None else []
    filters += [f"--task {t}" for t in opts.tasks]
    if filters:
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


class _Executor:
    """Turns units into commands and in-process checks, for the scheduler."""

    def __init__(
        self,
        opts: ExecuteOptions,
        run_id: str,
        logs: Path | None,
        records: dict[str, Record],
        keys: list[str | None] | None = None,
        *,
        evidence: Evidence | None = None,
        relocate: Callable[[Unit], Path | None] | None = None,
    ) -> None:
        self.opts = opts
        self.run_id = run_id
        self.logs = logs
        self.records = records
        self.evidence = evidence
        # The user's work tree is watched; a temporary base tree (relocate) is not.
        self.watch = WorkTreeWatch() if evidence is not None and relocate is None else None
        self._relocate = relocate
        self.keys = keys or []
        self._roots: dict[str, Path] = {}
        self._sinks: dict[int, proc.LogSink] = {}
        self._envs: dict[str, dict[str, str]] = {}
        self.stopped: Callable[[], bool] = lambda: False
        self.warn: Callable[[str], None] = lambda _message: None
        self.tend: Callable[[], AbstractContextManager[None]] = nullcontext
        """Keeps the running commands tended while this task's checks run (the pool's)."""
        self.programs: list[tuple[str, str | None]] = []  # (program, PATH) of each command
        self.shells: dict[str, tuple[str, ...]] = {}  # plan id -> the plan's own shell

    def root(self, unit: Unit) -> Path:
        if self._relocate is not None:
            moved = self._relocate(unit)
            if moved is None:
                raise ValueError(f"{unit.id} has no base tree")
            return moved
        plan = unit.plan
        if plan.id not in self._roots:
            self._roots[plan.id] = plan_root(plan, self.opts.root)
        return self._roots[plan.id]

    def _base_env(self, unit: Unit) -> dict[str, str]:
        """planrun's environment plus the plan's ``env``, built once per plan."""
        env = self._envs.get(unit.plan.id)
        if env is None:
            env = {**os.environ, **unit.plan.env}
            self._envs[unit.plan.id] = env
        return env

    def commands(self, unit: Unit) -> list[VerifyCommand]:
        if unit.manual:
            return []
        out = list(unit.verify)
        for truth in unit.must_haves.truths:
            out.extend(truth.verify)
        return out

    def log_path(self, unit: Unit) -> Path | None:
        if self.logs is None:
            return None
        return self.logs / _file_name(unit.plan.id) / f"{_file_name(unit.bare_id)}.log"

    def steps(self, unit: Unit) -> list[Step]:
        cmds = self.commands(unit)
        path = self.log_path(unit)
        if not cmds or path is None:
            return []
        log = proc.LogSink(path)
        self._sinks[unit.index] = log
        root = self.root(unit)
        env = dict(self._base_env(unit))
        env.update(
            PLANRUN_PLAN=unit.plan.id,
            PLANRUN_TASK=unit.bare_id,
            PLANRUN_WAVE=str(unit.wave),
            PLANRUN_ROOT=str(root),
            PLANRUN_RUN_ID=self.run_id,
            PLANRUN_PYTHON=sys.executable,
        )
        if self._relocate is not None and self.evidence is not None:
            base = self.evidence.base_of(unit)
            env["PLANRUN_BASE"] = base.commit if base else ""
        steps = []
        for cmd in cmds:
            name = program(cmd.run)
            if name is not None:
                self.programs.append((name, env.get("PATH")))
            timeout = cmd.timeout or self.timeout(unit)
            problem = _bad_cwd(root, cmd.cwd)
            if problem is not None:
                steps.append(Step(cmd.run, cmd.expect_exit, None, error=problem, line=cmd.line))
                continue
            cwd = (root / cmd.cwd).resolve() if cmd.cwd else root
            # A check with an expected failure or output is run as written: the evidence
            # rules read plain exit-0 checks, and the output decides the others.
            plain = cmd.expect_exit != 0 or cmd.expect_output is not None
            reading = checkrules.Reading(cmd.run) if plain else checkrules.read(cmd.run)
            shell = self.shells.get(unit.plan.id)
            locate = len(split_script(reading.run, 1)) > 1
            spec = proc.Spec(reading.run, cwd, env, timeout, log, shell, locate)
            steps.append(
                Step(
                    reading.run,
                    cmd.expect_exit,
                    spec,
                    line=cmd.line,
                    reading=reading,
                    expect_output=cmd.expect_output,
                    derived=cmd.derived,
                )
            )
        if self.watch is not None:
            self.watch.started(unit, root)
        return steps

    def timeout(self, unit: Unit) -> float:
        """The task's own timeout (also the time its must_haves checks may take together)."""
        task = unit.task
        return (
            (task.timeout if task else None)
            or unit.plan.timeout
            or self.opts.timeout
            or DEFAULT_TIMEOUT
        )

    def close_log(self, unit: Unit) -> None:
        sink = self._sinks.pop(unit.index, None)
        if sink is not None:
            sink.close()

    def record(self, step: Step, outcome: proc.Outcome) -> CommandRecord:
        """What a finished command shows, by the evidence rules (checkrules.py)."""
        output = step.spec.log.command_tail() if step.spec else ""
        code = outcome.exit_code
        reading = step.reading or checkrules.Reading(step.run)
        missing = weak = failure = None
        if not outcome.timed_out and outcome.error is None:
            cwd = step.spec.cwd if step.spec else None
            missing = checkoutput.missing_program(step.run, code, output, cwd, step.expect_exit)
            runner = checkoutput.ran_no_tests(step.run, code, output)
            ended = code == step.expect_exit
            if missing:
                pass
            elif reading.must_fail:
                failure = checkoutput.could_not_look(step.run, code)
            elif runner:
                weak = f"ran no tests ({runner})"
            elif reading.never_fails and ended and not step.expect_output:
                weak = "can never fail"
            elif reading.prints_result and ended and not step.expect_output:
                printed = checkoutput.printed_failure(output)
                weak = None if printed else ONLY_PRINTS
                failure = f"it printed `{printed}` as its result" if printed else None
        record = CommandRecord(
            step.run,
            code,
            step.expect_exit,
            outcome.duration,
            timed_out=outcome.timed_out,
            error=outcome.error,
            limit=step.spec.timeout if step.spec else None,
            line=step.line,
            original=reading.original,
            must_fail=reading.must_fail,
            note=reading.note,
            weak=weak,
            missing=missing,
            failure=failure,
            at=_stopped_at(step, output) if code not in (0, None) else None,
            derived=step.derived,
        )
        if step.expect_output is None or step.spec is None or missing:
            return record
        if discards_output(step.run):
            # "expect empty" on `grep -q TODO a.py` or `... >/dev/null` is met whatever it finds.
            return replace(record, expect_output=step.expect_output, weak=OUTPUT_DISCARDED)
        # What the plan said the command prints decides, not its exit code (grep's 1 is
        # "no match", which "returns 0" expects).
        ok, found = judge_output(step.expect_output, code, step.spec.log.command_output())
        return replace(record, expect_output=step.expect_output, output_found=found, output_ok=ok)

    def checks(self, unit: Unit) -> list[CheckResult]:
        if unit.manual:
            return []
        must_haves = unit.must_haves
        root = self.root(unit)
        budget = Budget.of(self.timeout(unit), self.stopped)
        out = [check_artifact(a, root, budget) for a in must_haves.artifacts]
        if must_haves.key_links:
            declared = _declared_files(unit)
            out.extend(check_key_link(k, root, budget, declared) for k in must_haves.key_links)
        out.extend(
            CheckResult("truth", t.truth, ok=None, message="manual: no verify command")
            for t in must_haves.truths
            if not t.verify
        )
        return out

    def finish(self, unit: Unit, commands: list[CommandRecord], started: float) -> UnitResult:
        try:
            with self.tend():
                checks = self.checks(unit)
        except must.Interrupted:
            sink = self._sinks.pop(unit.index, None)
            if sink is not None:
                sink.close()
            return UnitResult(unit, NOT_RUN, reason="interrupted while running")
        finished = time.time()
        sink = self._sinks.pop(unit.index, None)
        log = tail = None
        if sink is not None:
            sink.close()
            log = str(sink.path) if sink.exists and sink.error is None else None
            tail = sink.tail()
            if sink.error is not None:
                self.warn(f"{unit.id}: {sink.error}; its verdict and output tail are kept")
        exit_code = commands[-1].exit_code if commands else None
        status, reason = _judge(unit, commands, checks)
        changed_tree: list[str] = []
        if self.watch is not None:
            changed_tree, why = self.watch.finished(unit)
            if changed_tree and status == PASSED:
                status, reason = UNVERIFIED, why
        found, claim = self._against_diff(unit)
        if claim and status not in (FAILED, TIMEOUT):
            # The diff contradicts the plan: a failure of the claim, whatever the checks say.
            status, reason = FAILED, claim
        if status == PASSED and _only_derived(commands, checks) and not (found and found.changed):
            # "src/app.py exists" or "contains rate_limit" holds before the work too: a check
            # planrun derived is evidence only together with a change to the task's files.
            since = (
                f"none of its files changed since {found.base.label}"
                if found
                else "no base shows its files changed (commit the plan, or pass --base)"
            )
            status, reason = UNVERIFIED, f"its only checks are derived from its text, and {since}"
        if status == PASSED:
            tail = None  # only a failure's output is shown; the log keeps everything
        return UnitResult(
            unit,
            status,
            reason=reason,
            exit_code=exit_code,
            duration=finished - started,
            started=started,
            finished=finished,
            log=log,
            tail=tail or "",
            commands=commands,
            checks=checks,
            run_id=self.run_id,
            evidence=found.to_json() if found else None,
            false_claim=claim,
            tree_changes=changed_tree,
            key=self.keys[unit.index] if unit.index < len(self.keys) else None,
            tree=self.evidence.tree if self.evidence else None,
        )

    def _against_diff(self, unit: Unit) -> tuple[UnitEvidence | None, str | None]:
        """The unit's declared files against its base, and the false claim they show."""
        found = self.evidence.unit(unit, self.root(unit)) if self.evidence else None
        claimed = unit.task is not None and unit.task.claimed == "done"
        return found, (found.false_claim() if found and claimed else None)

    def blocked(self, unit: Unit, reason: str) -> UnitResult:
        """Not run, since a dependency did not pass; its claim is still held against the
        diff: a false claim is a failure whatever kept its checks from running."""
        found, claim = self._against_diff(unit)
        return UnitResult(
            unit,
            FAILED if claim else BLOCKED,
            reason=claim or reason,
            evidence=found.to_json() if found else None,
            false_claim=claim,
        )

    def hold_cached(self, cached: dict[int, UnitResult]) -> dict[int, UnitResult]:
        """Reused passes, with their evidence against this run's diff; a false claim is not
        reused, so it runs and is judged like any other."""
        out = {}
        for index, result in cached.items():
            found, claim = self._against_diff(result.unit)
            if claim is None:
                result.evidence = found.to_json() if found else None
                out[index] = result
        return out

    def outside(self, unit: Unit) -> tuple[bool, str | None]:
        if self.opts.force:
            return True, None
        rec = self.records.get(unit.id)
        hint = f"run: planrun execute {_paths(self.opts)} --wave {unit.wave}"
        if rec is None and unit.plan.context and _claimed_done(unit):
            return True, None  # a sibling loaded as context: its claim counts until it is run
        if rec is None:
            return False, f"{unit.id} has not run yet; {hint}"
        if rec.status not in SATISFIES_DEPENDENTS:
            return False, f"{unit.id} last {rec.status.replace('_', ' ')}; {hint}"
        if rec.digest != digest(unit):
            return False, f"{unit.id} changed since it passed; {hint}"
        key = self.keys[unit.index] if unit.index < len(self.keys) else None
        recorded = rec.detail.get("key")
        if key is not None and recorded is not None and recorded != key:
            return False, f"{unit.id} is stale: its inputs changed since it passed; {hint}"
        return True, None


def _declared_files(unit: Unit) -> list[str]:
    """Files the unit's plan declares: where a key_link from a symbol is looked for."""
    plan = unit.plan
    out = list(plan.declared_files)
    out += [f for t in plan.tasks for f in t.files]
    out += [a.path for a in plan.must_haves.artifacts]
    out += [a.path for t in plan.tasks for a in t.must_haves.artifacts]
    return out


def _claimed_done(unit: Unit) -> bool:
    tasks = [unit.task] if unit.task else unit.plan.tasks
    return bool(tasks) and all(t.claimed == "done" for t in tasks)


def _file_name(name: str) -> str:
    """``name`` as a file name: ids have no length limit, file names do (255 bytes)."""
    if len(name.encode()) <= 200:
        return name
    return f"{name[:100]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def _bad_cwd(root: Path, cwd: str | None) -> str | None:
    """Why a command's ``cwd`` cannot be used (None when it can)."""
    if not cwd:
        return None
    try:
        ok = (root / cwd).resolve().is_dir()
    except (OSError, RuntimeError, ValueError) as exc:
        return f'cwd "{cwd}" cannot be used: {getattr(exc, "strerror", None) or exc}'
    return None if ok else f'cwd "{cwd}" does not exist'


def _paths(opts: ExecuteOptions) -> str:
    return " ".join(str(p) for p in opts.paths)


OUTPUT_DISCARDED = "its expected output cannot be judged: the command discards its output"


def _only_derived(commands: list[CommandRecord], checks: list[CheckResult]) -> bool:
    """Whether everything that passed was derived by planrun from the task's text."""
    shown = [c.derived for c in commands if not c.weak] + [c.derived for c in checks if c.ok]
    return bool(shown) and all(shown)


def _judge(
    unit: Unit, commands: list[CommandRecord], checks: list[CheckResult]
) -> tuple[str, str | None]:
    for cmd in commands:
        if cmd.missing:
            return ERROR, f"could not run: {cmd.missing}: {_named(cmd)}"
        if not cmd.ok:
            status = TIMEOUT if cmd.timed_out else FAILED
            return status, f"{cmd.outcome}: {_named(cmd)}"
    failed = [c for c in checks if c.ok is False]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return FAILED, failed[0].message + more
    notes = [
        checkrules.judged(cmd.run, cmd.note, must_fail=cmd.must_fail)
        for cmd in commands
        if cmd.note and not cmd.weak
    ]
    notes += [
        f"`{one_line(cmd.original or cmd.run, 60)}` {cmd.weak}" for cmd in commands if cmd.weak
    ]
    shown = sum(1 for c in commands if not c.weak) + sum(1 for c in checks if c.ok is True)
    if shown:
        return PASSED, "; ".join(notes) or None
    zero = [c for c in commands if c.weak and c.weak.startswith("ran no tests")]
    if zero:
        return UNVERIFIED, f"ran no tests: {_named(zero[0])}"
    hidden = [c for c in commands if c.weak == OUTPUT_DISCARDED]
    if hidden:
        return UNVERIFIED, f"{OUTPUT_DISCARDED}: {_named(hidden[0])}"
    printed = [c for c in commands if c.weak == ONLY_PRINTS]
    if printed:
        why = "it only prints its result, and exits 0 whether it printed PASS or FAIL"
        return UNVERIFIED, f"{why}: {_named(printed[0])}"
    if commands:
        return UNVERIFIED, f"its only checks can never fail: {_named(commands[0])}"
    if unit.manual or checks:
        return MANUAL, "needs a human: no automated check"
    return UNVERIFIED, "nothing verifies it: no verify command and no must_haves check"


def _stopped_at(step: Step, output: str) -> str | None:
    """The top-level command of a multi-line script that stopped it, from the line bash named."""
    found = proc.FAILED_AT.findall(output)
    if not found or step.spec is None or not step.spec.locate:
        return None
    line = int(found[-1])
    for chunk in reversed(split_script(step.run, 1)):
        if chunk.line <= line:
            return f"`{one_line(chunk.text, 60)}` (line {line} of the script)"
    return None


def _named(cmd: CommandRecord) -> str:
    """The command as a report names it: its text, its line in the plan, how it was judged."""
    where = [f"line {cmd.line}"] if cmd.line else []
    if cmd.note:
        where.append(f"it must fail: {cmd.note}" if cmd.must_fail else cmd.note)
    named = f"`{one_line(cmd.run, 80)}`"
    if cmd.at:
        script = "; ".join(line.strip() for line in cmd.run.splitlines() if line.strip())
        named = f"{cmd.at} in `{one_line(script, 50)}`"
    return named + (f" ({'; '.join(where)})" if where else "")


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


def execute(opts: ExecuteOptions, reporter: Reporter, stop: StopSignal | None = None) -> RunReport:
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
        facts = evidence.gather(graph, roots, root, ref=opts.base, exclude=opts.outputs)
        executor = _Executor(opts, run_id, logs, records, keys, evidence=facts)
        tree = facts.tree
        cached = reusable(graph, selected, records, keys, tree) if opts.reuse else {}
        cached = executor.hold_cached(cached)
        jobs = fit_jobs(opts.jobs or os.cpu_count() or 1, reporter.warn)
        priority = remaining_path(graph, lambda u: _cost(records, u))
        units = [graph.units[i] for i in sorted(selected)]
        reporter.start(graph, units, jobs, run_id)
        for index in sorted(cached):
            reporter.unit_finished(cached[index])
        events = _Recorder(state, reporter, run_id)
        executor.shells = shells
        pool = proc.ProcessPool(shell=opts.shell)
        stop = stop or StopSignal()
        stop.wake = pool.wake
        executor.stopped = lambda: stop.count > 0
        executor.warn = reporter.warn
        executor.tend = pool.tended
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
            done[u.index] if u.index in done else from_record(u, records.get(u.id), keys)
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
        if opts.strict_scope and facts.undeclared and status != "interrupted":
            status = "failed"  # --strict-scope: a change no task declares fails the run
        finished = time.time()
        state.finish_run(run_id, status, finished, run_evidence)
        report = RunReport(
            run_id,
            root,
            started,
            finished - started,
            status,
            results,
            milestones(graph, statuses, open_truths(everything)),
            graph,
            scheduler.interrupted,
            everything,
            run_evidence,
        )
    finally:
        state.close()
    reporter.finish(report)
    return report


FDS_PER_JOB = 4  # output pipe, pidfd, log file, and a pipe end while a command starts
FDS_RESERVED = 48  # stdio, the state database and its WAL, selector, wake and watchdog pipes


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
    main = _Executor(opts, run_id, None, records)

    def on_base(relocated: Callable[[Unit], Path | None]) -> _Executor:
        base = _Executor(opts, run_id, logs / "base", records, evidence=facts, relocate=relocated)
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


def _tree(root: Path, opts: ExecuteOptions) -> str | None:
    """The work tree a run would test, as ``execute`` hashes it (outside git: None)."""
    repo = toplevel(root)
    return evidence.tree_hash(repo, [root / ".planrun", *opts.outputs]) if repo else None


def unit_keys(graph: PlanGraph, opts: ExecuteOptions) -> list[str | None]:
    roots = {plan.id: plan_root(plan, opts.root) for plan in graph.plans}
    return fingerprint.keys(graph, roots, opts.shell)


def reusable(
    graph: PlanGraph,
    selected: set[int],
    records: dict[str, Record],
    keys: list[str | None],
    tree: str | None,
) -> dict[int, UnitResult]:
    """Selected units whose recorded pass has the same key: reported, not run. A unit that
    does not declare ``inputs:`` may read any file (its tests, the script it runs, what they
    import), so its pass is reused only on the very work tree it was tested on (``tree``: the
    current one, None outside git, where it always runs again)."""
    out: dict[int, UnitResult] = {}
    for index in selected:
        unit, key = graph.units[index], keys[index]
        rec = records.get(unit.id)
        declared = unit.task is not None and unit.task.inputs is not None
        if (
            key is not None
            and rec is not None
            and rec.status == PASSED
            and rec.detail.get("key") == key
            and rec.digest == digest(unit)
            and (declared or (tree is not None and rec.detail.get("tree") == tree))
        ):
            result = from_record(unit, rec, keys)
            result.cached = True
            out[index] = result
    return out


def _cost(records: dict[str, Record], unit: Unit) -> float:
    rec = records.get(unit.id)
    return rec.duration if rec and rec.duration is not None else DEFAULT_COST


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
    records = _read_records(root, graph, warn)
    selected = select(graph, opts, records)
    cached = (
        reusable(graph, selected, records, unit_keys(graph, opts), _tree(root, opts))
        if opts.reuse
        else {}
    )
    executor = _Executor(opts, "dry-run", None, records)
    priority = remaining_path(graph, lambda u: _cost(records, u))
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


Warn = Callable[[str], None]


def _read_records(root: Path, graph: PlanGraph, warn: Warn | None = None) -> dict[str, Record]:
    return _read_state(root, graph, warn)[0]


def result_keys(graph: PlanGraph) -> dict[tuple[str, str], str]:
    """How the state finds each unit's results: its plan file and its id within the plan."""
    return {(u.plan.results_key, u.bare_id): u.id for u in graph.units}


def _read_state(
    root: Path, graph: PlanGraph, warn: Warn | None = None
) -> tuple[dict[str, Record], RunRow | None]:
    """The recorded results of ``graph``'s units and the latest run among them, without
    creating a database where there is none. Read-only when it can be; a database that cannot
    be read is moved aside, and ``warn`` says so."""
    if not (state_dir(root) / "state.db").exists():
        return {}, None
    state = State.reader(root) or State(root, warn or (lambda _msg: None))
    try:
        records = state.results(result_keys(graph))
        latest = max(records.values(), key=lambda r: r.finished, default=None)
        run = state.run(latest.run_id) if latest else None
        if run is not None:  # the run may have covered other plans, or named these otherwise
            files = [(p.id, state.source_key(p.results_key)) for p in graph.plans]
            run = replace(run, evidence=evidence.for_plans(run.evidence, files))
        return records, run
    finally:
        state.close()


@dataclass
class StatusReport:
    graph: PlanGraph
    records: dict[str, Record]
    results: list[UnitResult]
    milestones: list[MilestoneStatus]
    status: str
    run_id: str | None
    duration: float | None
    started: float | None
    root: Path
    evidence: dict[str, Any] = field(default_factory=dict)


def status(
    paths: Sequence[Path],
    fmt: str | None = None,
    root: Path | None = None,
    warn: Warn | None = None,
    *,
    derive: bool = True,
) -> StatusReport:
    opts = ExecuteOptions(list(paths), fmt=fmt, root=root, derive=derive)
    result = load_for_run(opts)
    graph = result.graph
    if not graph.plans:
        # "passed (nothing has run yet)" for a folder without plans would look green.
        raise NothingSelectedError(f"no plans found in {_paths(opts)}")
    where = run_root(graph.plans, opts.paths, root)
    records, last_run = _read_state(where, graph, warn)
    keys = unit_keys(graph, opts) if any("key" in r.detail for r in records.values()) else None
    results = [
        from_record(unit, records.get(unit.id), keys)
        for unit in graph.units
        if not unit.plan.context  # a sibling read as context is not this report's plan
    ]
    statuses = {r.unit.id: r.status for r in results}
    overall = run_status(results, interrupted=False, complete=True)
    if last_run is not None and last_run.status == "interrupted" and overall != "failed":
        overall = "interrupted"
    duration = None
    if last_run is not None and last_run.finished is not None:
        duration = last_run.finished - last_run.started
    return StatusReport(
        graph,
        records,
        results,
        milestones(graph, statuses, open_truths(results)),
        overall,
        last_run.id if last_run else None,
        duration,
        last_run.started if last_run else None,
        where,
        last_run.evidence if last_run else {},
    )


def from_record(unit: Unit, rec: Record | None, keys: list[str | None] | None = None) -> UnitResult:
    """A unit's last recorded result, as a UnitResult (noting a unit changed since: its
    commands or checks, or, given the current ``keys``, the content of its inputs)."""
    if rec is None:
        return UnitResult(unit, NOT_RUN, reason="no recorded run")
    reason = rec.reason
    detail = rec.detail
    recorded_key = detail.get("key")
    key = keys[unit.index] if keys is not None else None
    stale = rec.digest != digest(unit)
    status = rec.status
    if stale:
        was = rec.status.replace("_", " ")
        reason = f"its commands or checks changed since it {was}" + (
            f"; then: {reason}" if reason else ""
        )
        status = STALE
    elif recorded_key is not None and key is not None and recorded_key != key:
        stale = True
        was = rec.status.replace("_", " ")
        reason = f"its inputs changed since it {was}" + (f"; then: {reason}" if reason else "")
        status = STALE
    result = UnitResult(
        unit,
        status,
        reason=reason,
        exit_code=rec.exit_code,
        duration=rec.duration,
        started=rec.started,
        finished=rec.finished,
        log=rec.log,
        tail=str(detail.get("tail", "")),
        commands=[CommandRecord.from_json(c) for c in detail.get("commands", [])],
        checks=[CheckResult.from_json(c) for c in detail.get("checks", [])],
        run_id=rec.run_id,
        stale=stale,
        key=recorded_key if isinstance(recorded_key, str) else None,
    )
    result.load_evidence(detail)
    return result


def next_units(
    paths: Sequence[Path],
    fmt: str | None = None,
    root: Path | None = None,
    warn: Warn | None = None,
    *,
    derive: bool = True,
) -> list[Unit]:
    """Units not passed yet whose dependencies all passed: what to work on now."""
    report = status(paths, fmt, root, warn, derive=derive)
    graph = report.graph
    ok = [False] * graph.graph.number_of_nodes()  # lets its dependents go ahead
    done = [False] * graph.graph.number_of_nodes()  # needs no more work
    for r in report.results:
        ok[r.unit.index] = r.status in SATISFIES_DEPENDENTS and not r.stale
        done[r.unit.index] = r.status in (PASSED, MANUAL) and not r.stale
    for unit in graph.units:
        if unit.plan.context:  # a sibling read as context: its result, else its claim, counts
            rec = report.records.get(unit.id)
            ok[unit.index] = rec.status in SATISFIES_DEPENDENTS if rec else _claimed_done(unit)
            done[unit.index] = True  # not the named plan's work
    for node in graph.order or []:
        if graph.is_virtual(node):
            ok[node] = all(ok[p] for p in graph.graph.pred[node])
    return [
        u
        for u in graph.units
        if not done[u.index] and all(ok[p] for p in graph.graph.pred[u.index])
    ]
