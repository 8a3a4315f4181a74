"""``planrun new``: a new canonical plan from ``templates/plan.md.j2``."""

from __future__ import annotations

import os
from pathlib import Path

from planrun import lazyre
from planrun.errors import RefusedError, UsageError
from planrun.templates import render
from planrun.writer import write_output

_HINT = "choose another NAME, or edit the existing plan"
_NAME = lazyre.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_PLAIN_PATH = lazyre.compile(r"[A-Za-z0-9_./-]+")


def new_plan(name: str, directory: Path, title: str | None = None) -> Path:
    """Write ``directory/NAME.md``; never overwrite an existing file."""
    if name.endswith(".md"):
        name = name[:-3]
    if not _NAME.fullmatch(name):
        raise UsageError(
            f'"{name}" is not a valid plan name: use letters, digits, "-" and "_"',
        )
    target = directory / f"{name}.md"
    if os.path.lexists(target):
        raise RefusedError(
            f"{target} already exists; planrun new never overwrites a file",
            hint=_HINT,
        )
    # The comment names the file as `planrun new` was given it (plans/NAME.md), so the command
    # in it works from where the plan was made; a folder name that could end the YAML comment
    # early (a newline) or read oddly is left out.
    where = target.as_posix() if _PLAIN_PATH.fullmatch(target.as_posix()) else target.name
    text = render(
        "plan.md.j2",
        id=name,
        title=title or name.replace("-", " ").capitalize(),
        where=where,
    )
    write_output(target, text, overwrite="never", hint=_HINT)
    return target
