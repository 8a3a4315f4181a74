"""How an ``inputs:`` glob names files under ROOT: the files a unit's key hashes
(fingerprint.py), and validate's ``inputs-match-nothing`` warning for a glob that names none
(a typo there makes reuse blind to the files meant)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from planrun import escape
from planrun.diagnostics import Diagnostics
from planrun.model import Plan
from planrun.roots import plan_root


def matches(root: Path, pattern: str) -> Iterator[Path]:
    """The paths ``pattern`` names under ``root`` (a plain path is named whether or not it
    exists); nothing for a pattern planrun does not hash."""
    pattern = pattern.strip().removeprefix("./")
    if not pattern or escapes(pattern):
        return
    if any(ch in pattern for ch in "*?["):
        yield from root.glob(pattern)
    else:
        yield root / pattern


def escapes(pattern: str) -> bool:
    """A pattern planrun does not hash: absolute, or with '..' anywhere in it."""
    path = Path(pattern.strip())
    return path.is_absolute() or ".." in path.parts


def names_a_file(root: Path, pattern: str) -> bool:
    """Whether ``pattern`` names at least one existing file or folder under ``root``."""
    try:
        return any(path.exists() for path in matches(root, pattern))
    except (OSError, RuntimeError, ValueError):
        return True  # a pattern that cannot be looked at is not said to match nothing


def lint_inputs(plan: Plan, diags: Diagnostics) -> None:
    """Warn about each ``inputs:`` glob of ``plan`` that names no file under its ROOT (nor
    beside the plan file, where a later ``--root`` may point)."""
    root = plan_root(plan)
    beside = Path(plan.source).resolve().parent
    shown = escape.path(str(root))
    for task in plan.tasks:
        for pattern in task.inputs or []:
            if escapes(pattern) or any(names_a_file(r, pattern) for r in {root, beside}):
                continue
            diags.add(
                "inputs-match-nothing",
                plan.source_of(task),
                task.line,
                f'task "{task.id}": inputs glob {pattern!r} matches no file under {shown}',
                hint="fix the glob: a pass is reused while the files it names are unchanged, "
                "and it names none",
            )
