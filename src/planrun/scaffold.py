"""``planrun new``: a new canonical plan from ``templates/plan.md.j2``."""

from __future__ import annotations

import re
from pathlib import Path

from planrun.errors import RefusedError, UsageError
from planrun.templates import render

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def new_plan(name: str, directory: Path, title: str | None = None) -> Path:
    """Write ``directory/NAME.md``; never overwrite an existing file."""
    if name.endswith(".md"):
        name = name[:-3]
    if not _NAME.fullmatch(name):
        raise UsageError(
            f'"{name}" is not a valid plan name: use letters, digits, "-" and "_"',
        )
    target = directory / f"{name}.md"
    if target.exists():
        raise RefusedError(
            f"{target} already exists; planrun new never overwrites a file",
            hint="choose another NAME, or edit the existing plan",
        )
    text = render("plan.md.j2", id=name, title=title or name.replace("-", " ").capitalize())
    directory.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as fh:
        fh.write(text)
    return target
