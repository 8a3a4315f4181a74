"""What a run found: per-unit results, the run's status, and milestone status."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from planrun.graph import PlanGraph, Unit
from planrun.musthaves import CheckResult
from planrun.state import Record

PASSED = "passed"
FAILED = "failed"
TIMEOUT = "timeout"
BLOCKED = "blocked"
MANUAL = "manual"
UNVERIFIED = "unverified"
NOT_RUN = "not_run"
STALE = "stale"
ERROR = "error"
STATUSES = (PASSED, FAILED, TIMEOUT, BLOCKED, STALE, ERROR, MANUAL, UNVERIFIED, NOT_RUN)

VACUOUS_REASON = "its checks pass without the change too"

# A dependency that ended like this lets its dependents run. A manual checkpoint is a human's
# call, not planrun's; unverified and error are no evidence either way, not evidence that the
# work is missing. So only failed, timeout, blocked and stale hold dependents up.
SATISFIES_DEPENDENTS = frozenset({PASSED, MANUAL, UNVERIFIED, ERROR})
# Dependencies that let dependents run but leave them with a note: nothing showed they work.
WEAK_DEPENDENCY = frozenset({UNVERIFIED, ERROR})
# A selected task that ended like this makes the run fail (exit 1).
FAILS_RUN = frozenset({FAILED, TIMEOUT, BLOCKED, UNVERIFIED, STALE, ERROR})


@dataclass(frozen=True)
class CommandRecord:
    run: str
    exit_code: int | None
    expect_exit: int
    duration: float
    timed_out: bool = False
    error: str | None = None
    expect_output: str | None = None
    output_found: str | None = None  # what the output held, when ``expect_output`` is set
    output_ok: bool | None = None  # the output's verdict; it decides instead of the exit code
    derived: bool = False  # planrun derived the command from the task's text
    limit: float | None = None  # the timeout, in seconds
    line: int | None = None  # where the command is written in the plan
    original: str | None = None  # the check as written, when the evidence rules ran ``run``
    must_fail: bool = False  # the check as written passes when ``run`` fails
    note: str | None = None  # how the evidence rules read it ("judged by `X`: ...")
    weak: str | None = None  # why it is no evidence although it ended as expected
    missing: str | None = None  # why it could not run: "`x` was not found on PATH"
    failure: str | None = None  # why the evidence rules fail it whatever its exit code
    at: str | None = None  # where a multi-line script stopped: "`make` (line 3 of the script)"

    @property
    def ok(self) -> bool:
        if self.timed_out or self.error is not None or self.missing is not None:
            return False
        if self.failure is not None:
            return False
        if self.output_ok is not None:
            return self.output_ok  # what the plan said the output must be decides
        if self.weak is not None:
            return True  # it ended as a check that shows nothing; judged as no evidence
        if self.must_fail:
            # A command that could not run at all (126, 127) did not show the work is absent.
            return self.exit_code is not None and self.exit_code > 0 and self.exit_code < 126
        return self.exit_code == self.expect_exit

    @property
    def outcome(self) -> str:
        """How the command ended, in words: "exit 127 (command not found)", "timed out"."""
        if self.timed_out:
            return f"timed out after {self.limit:g} s" if self.limit else "timed out"
        if self.error:
            return self.error
        if self.output_ok is False:
            return f"{self.output_found} (expected output: {self.expect_output})"
        code = self.exit_code
        if code is not None and code < 0:
            return f"killed by signal {-code}"
        text = f"exit {code}"
        if self.failure:
            return f"{text} ({self.failure})"
        if self.must_fail and code == 0:
            text += " (expected a failure)"
        elif self.expect_exit not in (0, code) and not self.must_fail:
            text += f" (expected {self.expect_exit})"
        if code == 127:
            text += " (command not found)"
        elif code == 126:
            text += " (not executable)"
        return text

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CommandRecord:
        return cls(
            run=str(data.get("run", "")),
            exit_code=data.get("exit_code"),
            expect_exit=int(data.get("expect_exit", 0)),
            duration=float(data.get("duration_s", 0.0)),
            timed_out=bool(data.get("timed_out", False)),
            error=data.get("error"),
            expect_output=data.get("expect_output"),
            output_found=data.get("output_found"),
            output_ok=data.get("output_ok"),
            derived=data.get("derived") is True,
            limit=data.get("limit"),
            line=data.get("line"),
            original=data.get("original"),
            must_fail=bool(data.get("must_fail", False)),
            note=data.get("note"),
            weak=data.get("weak"),
            missing=data.get("missing"),
            failure=data.get("failure"),
            at=data.get("at"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "exit_code": self.exit_code,
            "expect_exit": self.expect_exit,
            "duration_s": round(self.duration, 3),
            "timed_out": self.timed_out,
            "error": self.error,
            "limit": self.limit,
            "line": self.line,
            "original": self.original,
            "must_fail": self.must_fail,
            "note": self.note,
            "weak": self.weak,
            "missing": self.missing,
            "failure": self.failure,
            "at": self.at,
            **(
                {
                    "expect_output": self.expect_output,
                    "output_found": self.output_found,
                    "output_ok": self.output_ok,
                }
                if self.expect_output is not None
                else {}
            ),
            **({"derived": True} if self.derived else {}),
        }


@dataclass
class UnitResult:
    unit: Unit
    status: str
    reason: str | None = None
    exit_code: int | None = None
    duration: float | None = None
    started: float | None = None
    finished: float | None = None
    log: str | None = None
    tail: str = ""
    commands: list[CommandRecord] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    run_id: str | None = None
    stale: bool = False  # recorded before the unit's commands, checks or inputs changed
    key: str | None = None  # what the pass vouches for, inputs included (fingerprint.py)
    cached: bool = False  # a recorded pass reused, not run again
    evidence: dict[str, Any] | None = None  # declared files changed/unchanged since the base
    vacuous: bool | None = None  # --prove: whether its checks pass on the base tree too
    false_claim: str | None = None  # why the plan's "done" is contradicted by the diff
    tree_changes: list[str] = field(default_factory=list)  # files its checks changed
    tree: str | None = None  # the work tree it was tested on (git's tree hash), when known

    @property
    def claimed(self) -> str:
        return self.unit.task.claimed if self.unit.task else "todo"

    def to_json(self) -> dict[str, Any]:
        """The task object of SPEC section 7, plus when it ran and what its checks found
        (enough for ``planrun summary --merge`` to rebuild it on another machine)."""
        return {
            "id": self.unit.id,
            "plan": self.unit.plan.id,
            "name": self.unit.name,
            "wave": self.unit.wave,
            "status": self.status,
            "claimed": self.claimed,
            "exit_code": self.exit_code,
            "duration_s": None if self.duration is None else round(self.duration, 3),
            "reason": self.reason,
            "log": self.log,
            "cached": self.cached,
            "started": iso_time(self.started),
            "finished": iso_time(self.finished),
            **({"derived": True} if self.derived else {}),
            **self.detail(),
        }

    @property
    def derived(self) -> bool:
        """Whether the unit's checks were derived by planrun from the task's text."""
        return self.unit.task is not None and self.unit.task.derived

    def detail(self) -> dict[str, Any]:
        """What the state keeps beyond the columns, so reports can be re-rendered later."""
        out: dict[str, Any] = {
            "tail": self.tail,
            "commands": [c.to_json() for c in self.commands],
            "checks": [c.to_json() for c in self.checks],
            "evidence": self.evidence,
            "vacuous": self.vacuous,
            "false_claim": self.false_claim,
            "tree_changes": self.tree_changes,
        }
        if self.key is not None:
            out["key"] = self.key
        if self.tree is not None:
            out["tree"] = self.tree
        return out

    def load_evidence(self, detail: Mapping[str, Any]) -> None:
        """Take the evidence fields back from a recorded ``detail`` (absent in old records)."""
        ev = detail.get("evidence")
        self.evidence = ev if isinstance(ev, dict) else None
        vac = detail.get("vacuous")
        self.vacuous = vac if isinstance(vac, bool) else None
        claim = detail.get("false_claim")
        self.false_claim = claim if isinstance(claim, str) else None
        tree = detail.get("tree")
        self.tree = tree if isinstance(tree, str) else None
        changes = detail.get("tree_changes")
        self.tree_changes = [str(p) for p in changes] if isinstance(changes, list) else []

    def claim_problem(self) -> str | None:
        """Why the plan's "done" for this task does not hold, or None (not claimed done, or
        backed by a diff and a check)."""
        if self.claimed != "done":
            return None
        if self.false_claim:
            return self.false_claim
        if self.status in (FAILED, TIMEOUT, UNVERIFIED):
            return self.reason or self.status
        return None


@dataclass(frozen=True)
class MilestoneStatus:
    id: str
    name: str
    status: str
    passed: int
    total: int
    tasks: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "passed": self.passed,
            "total": self.total,
        }


class RunFacts(Protocol):
    """What a run or a recorded status says as a whole (RunReport and StatusReport have it),
    for the JSON document and SUMMARY.md."""

    @property
    def graph(self) -> PlanGraph: ...
    @property
    def milestones(self) -> Sequence[MilestoneStatus]: ...
    @property
    def status(self) -> str: ...
    @property
    def run_id(self) -> str | None: ...
    @property
    def started(self) -> float | None: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def root(self) -> Path: ...
    @property
    def evidence(self) -> dict[str, Any]: ...


def failure_cause(unit_id: str, status: str) -> str:
    """Why a unit did not pass, as named in its dependents' blocked reasons."""
    return f"{unit_id} {status.replace('_', ' ')}"


def blocked_reason(dependency: str, root_cause: str) -> str:
    """The reason of a unit blocked behind ``dependency`` (the scheduler's and merge's)."""
    return f"dependency {dependency} did not pass: {root_cause}"


def count_words(counts: Mapping[str, int]) -> list[str]:
    """ "2 passed", "1 not run", ... for each status with a count, in status order."""
    return [f"{counts[s]} {s.replace('_', ' ')}" for s in STATUSES if counts.get(s)]


def iso_time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="microseconds")


def from_iso(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def milestone_status(statuses: Sequence[str]) -> str:
    """done: all passed; failed: any failed or timed out; blocked: any blocked; manual:
    everything not passed is a manual check; partial: some passed; else pending (an unverified,
    stale or error task is never done, and blocks nothing: the milestone is not "blocked")."""
    if not statuses:
        return "pending"
    counts = Counter(statuses)
    if counts[PASSED] == len(statuses):
        return "done"
    if counts[FAILED] or counts[TIMEOUT]:
        return "failed"
    if counts[BLOCKED]:
        return "blocked"
    if counts[PASSED] + counts[MANUAL] == len(statuses):
        return "manual"
    if counts[PASSED]:
        return "partial"
    return "pending"


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


def run_status(results: Sequence[UnitResult], *, interrupted: bool, complete: bool) -> str:
    """passed: every selected task passed and nothing else in the plans is left unverified;
    failed: a selected task failed, timed out, was blocked, is stale, could not run (error) or
    had no evidence (unverified);
    partial: nothing failed, but manual checks (truths in passed tasks too) or unselected tasks
    remain; interrupted."""
    if interrupted:
        return "interrupted"
    if any(r.status in FAILS_RUN for r in results):
        return "failed"
    if (
        complete
        and results
        and all(r.status == PASSED for r in results)
        and not manual_truths(results)
    ):
        return "passed"
    return "partial"


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
