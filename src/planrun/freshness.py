"""Whether a recorded result still holds for the work in front of planrun (SPEC: ``stale``).

A result vouches for what was checked when it was recorded. It is ``stale`` (never counted as
passed, and it holds its dependents up) once any of these changed since:

- the unit's commands or checks (``fingerprint.digest``);
- its key: the content of its inputs, of the files its commands name and of the files its
  must_haves read, and its dependencies' keys (``fingerprint.unit_key``);
- for a unit that names no ``inputs:`` nor ``files:`` (its checks may read any file), the
  work tree it was tested on: git's hash of it, untracked files included (or the tree its
  run left behind, which holds what the run's checks wrote: a report, a build);
- for a unit without a key, the files planrun can name for it (``fingerprint.reads``): all
  there is outside git, and in git the ignored files its commands name.

``status``, ``next``, SUMMARY.md and the gating of ``--wave`` and ``--task`` all ask here, so
none of them shows as current a pass another calls stale; reuse asks for more (a key, and
for a unit without ``inputs:`` a tree to compare: execution.reusable). A person's
``manual`` result checked nothing of the files, and a result another machine reported carries
no tree nor files of this one (merge.py): neither is held to the files here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.fingerprint import declares_inputs, digest, inputs_of, reads
from planrun.graph import Unit
from planrun.statuses import ERROR, FAILED, MANUAL, PASSED, STALE, TIMEOUT, TaskStatus

if TYPE_CHECKING:
    from planrun.state import Record


@dataclass(frozen=True)
class Now:
    """The work a recorded result is held against."""

    keys: Sequence[str | None] | None = None  # each unit's key now; None: not computed
    tree: str | None = None  # git's hash of the work tree now (None: not in git, or unknown)
    in_git: bool = False  # ROOT is in a git work tree: a recorded tree can be compared
    roots: Mapping[str, Path] = field(default_factory=dict)  # plan id -> ROOT, for ``reads``
    # run id -> the tree it left behind: a result holds there too (what its checks wrote)
    ended: Mapping[str, str] = field(default_factory=dict)

    def key(self, unit: Unit) -> str | None:
        keys = self.keys
        return keys[unit.index] if keys is not None and unit.index < len(keys) else None


def since(status: TaskStatus) -> str:
    """What a recorded status says, as the end of a reason: "it passed", "it timed out"."""
    if status in (PASSED, FAILED):
        return f"it {status.value}"
    if status == TIMEOUT:
        return "it timed out"
    if status == ERROR:
        return "it could not run"
    return f"it was {status.words}"


def changed_checks(unit: Unit, rec: Record) -> bool:
    """Whether the unit's commands or checks are not the ones its result was recorded for."""
    return rec.digest != digest(unit)


# A person's call checked nothing of the files; a result recorded stale already says so.
_NOT_HELD = frozenset({MANUAL, STALE})


def held_to_tree(unit: Unit, rec: Record) -> bool:
    """Whether ``rec`` holds only for the work tree it was tested on: the unit names nothing
    its checks read (no ``inputs:``, no ``files:``, which its key holds it to instead), and
    the result records that tree. A unit with ``files:`` stays current while they do, so an
    edit for the next wave does not make the last wave's results stale (``--wave 2`` after
    ``--wave 1``); reuse still asks for the very tree (execution.reusable)."""
    return (
        isinstance(rec.detail.get("tree"), str)
        and rec.status not in _NOT_HELD
        and not declares_inputs(unit)
        and not inputs_of(unit)
    )


def why_stale(unit: Unit, rec: Record, now: Now) -> str | None:
    """Why the recorded result ``rec`` no longer holds for ``unit`` (None: it still does).
    The reason ends with what the result was: "... since it passed"."""
    status = TaskStatus.of(rec.status) or TaskStatus.NOT_RUN
    was = since(status)
    if changed_checks(unit, rec):
        return f"its commands or checks changed since {was}"
    recorded = rec.detail.get("key")
    key = now.key(unit)
    if isinstance(recorded, str) and key is not None and recorded != key:
        return f"its inputs changed since {was}"
    if status in _NOT_HELD:
        return None
    if (
        now.in_git
        and held_to_tree(unit, rec)
        and now.tree not in (rec.detail["tree"], now.ended.get(rec.run_id))
    ):
        return f"the work tree changed since {was}"
    seen = rec.detail.get("reads")
    root = now.roots.get(unit.plan.id)
    if isinstance(seen, str) and root is not None and reads(unit, root) != seen:
        return f"the files it reads changed since {was}"
    return None
