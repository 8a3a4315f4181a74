"""Plan ids taken from a plan's path when the plan declares none, unique within a run.

Feature folders name their plans: spec-kit ``specs/001-a/tasks.md``, Kiro
``.kiro/specs/x/tasks.md`` and OpenSpec ``openspec/changes/x/tasks.md`` are ``001-a`` and
``x``; any other file is its stem. When two derived ids meet in one run (``a/tasks.md`` and
``b/tasks.md``), each takes as many parent folders as it needs to be unique (``a-tasks``,
``b-tasks``). Ids a user wrote are never changed: a clash between those is the user's to fix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from planrun.model import Plan

# Folders whose sub-folders are features, each with a tasks.md named by its folder.
_FEATURE_PARENTS = frozenset({"specs", "changes"})
_FEATURE_FILES = frozenset({"tasks"})


def _clean(part: str) -> str:
    return "".join(c if c.isalnum() or c in "_.-" else "-" for c in part).lstrip(".-")


def _parts(path: Path) -> tuple[str, list[str]]:
    """The id a path gives, and the folders above what it used (nearest first)."""
    parents = [p for p in reversed(path.parent.parts) if p not in ("/", "")]
    stem = path.stem
    if (
        stem.lower() in _FEATURE_FILES
        and len(parents) >= 2
        and parents[1].lower() in _FEATURE_PARENTS
        and _clean(parents[0])
    ):
        return _clean(parents[0]), parents[1:]
    return _clean(stem) or "plan", parents


def derived_id(path: Path) -> str:
    return _parts(path)[0]


def make_unique(plans: Sequence[Plan]) -> None:
    """Give plans whose id was derived from their path ids that no other plan of the run has."""
    taken = {p.id for p in plans if p.id_declared}
    groups: dict[str, list[Plan]] = defaultdict(list)
    for plan in plans:
        if not plan.id_declared:
            groups[plan.id].append(plan)
    taken |= set(groups)
    for plan_id, group in groups.items():
        if len(group) == 1 and not any(p.id_declared and p.id == plan_id for p in plans):
            continue
        taken.discard(plan_id)
        for plan, new_id in zip(group, _spread(group), strict=True):
            unique, n = new_id, 2
            while unique in taken:
                unique, n = f"{new_id}-{n}", n + 1
            plan.id = unique
            taken.add(unique)


def _spread(group: list[Plan]) -> list[str]:
    """Ids for plans that share one: prefixed by as many parent folders as it takes."""
    parts = [_parts(Path(p.path)) for p in group]
    depth = 1
    while True:
        ids = []
        for base, parents in parts:
            prefix = [_clean(x) for x in reversed(parents[:depth]) if _clean(x)]
            ids.append("-".join([*prefix, base]))
        if len(set(ids)) == len(ids) or depth > max(len(p[1]) for p in parts):
            return ids
        depth += 1
