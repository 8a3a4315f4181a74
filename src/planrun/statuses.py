"""The statuses planrun reports, as string enums: a task's, a milestone's, a run's and a
must_haves check's; and which task statuses let dependents run or fail a run.

The values are the strings the JSON documents, SUMMARY.md and the state database hold.
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """How a task (a unit) ended, or what its recorded result says now."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    BLOCKED = "blocked"
    MANUAL = "manual"
    UNVERIFIED = "unverified"
    NOT_RUN = "not_run"
    STALE = "stale"
    ERROR = "error"

    @classmethod
    def of(cls, value: object) -> TaskStatus | None:
        """``value`` as a status, or None when it is not one (an untrusted document)."""
        return next((s for s in cls if s.value == value), None)

    @property
    def words(self) -> str:
        """The status in words: "not run"."""
        return self.value.replace("_", " ")


class MilestoneState(StrEnum):
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    MANUAL = "manual"
    PARTIAL = "partial"
    PENDING = "pending"


class RunStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    PARTIAL = "partial"
    INTERRUPTED = "interrupted"


class CheckStatus(StrEnum):
    """A must_haves check's verdict (``not_checked``: its task never got to its checks)."""

    PASSED = "passed"
    FAILED = "failed"
    MANUAL = "manual"
    NOT_CHECKED = "not_checked"


PASSED = TaskStatus.PASSED
FAILED = TaskStatus.FAILED
TIMEOUT = TaskStatus.TIMEOUT
BLOCKED = TaskStatus.BLOCKED
MANUAL = TaskStatus.MANUAL
UNVERIFIED = TaskStatus.UNVERIFIED
NOT_RUN = TaskStatus.NOT_RUN
STALE = TaskStatus.STALE
ERROR = TaskStatus.ERROR
# The order statuses are counted and listed in.
STATUSES = (PASSED, FAILED, TIMEOUT, BLOCKED, STALE, ERROR, MANUAL, UNVERIFIED, NOT_RUN)

# A dependency that ended like this lets its dependents run. A manual checkpoint is a human's
# call, not planrun's; unverified and error are no evidence either way, not evidence that the
# work is missing. So only failed, timeout, blocked and stale hold dependents up.
SATISFIES_DEPENDENTS = frozenset({PASSED, MANUAL, UNVERIFIED, ERROR})
# Dependencies that let dependents run but leave them with a note: nothing showed they work.
WEAK_DEPENDENCY = frozenset({UNVERIFIED, ERROR})
# A selected task that ended like this makes the run fail (exit 1).
FAILS_RUN = frozenset({FAILED, TIMEOUT, BLOCKED, UNVERIFIED, STALE, ERROR})
