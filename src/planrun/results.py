"""What a run found, and its one encoding: the result types (a unit's ``UnitResult``, its
``CommandRecord``s and ``CheckResult``s, a milestone's status; ``report.Report`` gathers them
for ``execute`` and ``status``) and their JSON and state encodings, in both directions."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from planrun.fingerprint import digest
from planrun.freshness import Now, why_stale
from planrun.graph import Unit
from planrun.statuses import (
    FAILED,
    NOT_RUN,
    STALE,
    TIMEOUT,
    UNVERIFIED,
    CheckStatus,
    MilestoneState,
    TaskStatus,
)

if TYPE_CHECKING:
    from planrun.state import Record


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


@dataclass(frozen=True)
class CheckResult:
    kind: str  # "artifact", "key_link" or "truth"
    label: str
    ok: bool | None  # None: manual (a truth nobody can check automatically)
    message: str
    derived: bool = False  # planrun derived it from the task's text (weaker than a verify)

    @property
    def status(self) -> CheckStatus:
        if self.ok is None:
            return CheckStatus.MANUAL
        return CheckStatus.PASSED if self.ok else CheckStatus.FAILED

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CheckResult:
        status = data.get("status")
        ok = None if status == CheckStatus.MANUAL else status == CheckStatus.PASSED
        return cls(
            str(data.get("kind")),
            str(data.get("label")),
            ok,
            str(data.get("message")),
            derived=data.get("derived") is True,
        )

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "label": self.label,
            "status": self.status.value,
            "message": self.message,
        }
        if self.derived:
            out["derived"] = True
        return out


@dataclass
class UnitResult:
    unit: Unit
    status: TaskStatus
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
    reads: str | None = None  # without a key: the files it reads, hashed (fingerprint.reads)

    def __post_init__(self) -> None:
        self.status = TaskStatus(self.status)  # "passed" given as a plain string is the same

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
            "status": self.status.value,
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
        if self.reads is not None:
            out["reads"] = self.reads
        return out

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
    status: MilestoneState
    passed: int
    total: int
    tasks: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": str(self.status),
            "passed": self.passed,
            "total": self.total,
        }


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


def record_of(result: UnitResult, run_id: str) -> Record:
    """What the state keeps of a unit's result (one row, its detail as JSON)."""
    from planrun.state import Record  # noqa: PLC0415 -- sqlite3: validate never records

    unit = result.unit
    return Record(
        task=unit.id,
        plan=unit.plan.id,
        status=result.status.value,
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


def from_record(unit: Unit, rec: Record | None, now: Now | None = None) -> UnitResult:
    """A unit's last recorded result, as a UnitResult: ``stale`` when it no longer holds for
    the work ``now`` (freshness.py; without ``now``, only a change of its commands or checks
    is seen)."""
    if rec is None:
        return UnitResult(unit, NOT_RUN, reason="no recorded run")
    status = TaskStatus.of(rec.status)
    if status is None:  # not a status this planrun writes
        return UnitResult(unit, NOT_RUN, reason=f"its recorded status is unknown: {rec.status}")
    reason = rec.reason
    detail = rec.detail
    recorded_key = detail.get("key")
    why = why_stale(unit, rec, now or Now())
    stale = why is not None
    if why is not None:
        reason = why + (f"; then: {reason}" if reason else "")
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
        run_id=rec.run_id,
        stale=stale,
        key=recorded_key if isinstance(recorded_key, str) else None,
    )
    _load_detail(result, detail)
    return result


def from_json(unit: Unit, data: Mapping[str, Any]) -> UnitResult:
    """A task object of a ``--json`` document back (``to_json``'s inverse, for ``summary
    --merge``). Its ``key`` is not taken: a pass reported by another machine is never reused
    here. ``data["status"]`` must be one of ``TaskStatus`` (ValueError otherwise)."""
    result = UnitResult(
        unit,
        TaskStatus(str(data.get("status"))),
        reason=data.get("reason"),
        exit_code=data.get("exit_code"),
        duration=data.get("duration_s"),
        started=from_iso(data.get("started")),
        finished=from_iso(data.get("finished")),
        log=data.get("log"),
    )
    _load_detail(result, data)
    return result


def _load_detail(result: UnitResult, detail: Mapping[str, Any]) -> None:
    """``UnitResult.detail``'s inverse: what its output, commands, checks and evidence were
    (fields absent in older records and documents are left empty)."""
    result.tail = str(detail.get("tail", ""))
    result.commands = [CommandRecord.from_json(c) for c in detail.get("commands", [])]
    result.checks = [CheckResult.from_json(c) for c in detail.get("checks", [])]
    ev = detail.get("evidence")
    result.evidence = ev if isinstance(ev, dict) else None
    vac = detail.get("vacuous")
    result.vacuous = vac if isinstance(vac, bool) else None
    claim = detail.get("false_claim")
    result.false_claim = claim if isinstance(claim, str) else None
    tree = detail.get("tree")
    result.tree = tree if isinstance(tree, str) else None
    seen = detail.get("reads")
    result.reads = seen if isinstance(seen, str) else None
    changes = detail.get("tree_changes")
    result.tree_changes = [str(p) for p in changes] if isinstance(changes, list) else []
