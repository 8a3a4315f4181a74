"""ROOT: where commands run and paths resolve (SPEC section 5).

``--root``, else the plan's ``root:`` (relative to the plan file), else the git work tree
holding the plan, else the current directory.
"""

from __future__ import annotations

from pathlib import Path

from planrun import escape
from planrun.errors import UsageError
from planrun.model import Plan


def git_work_tree(start: Path) -> Path | None:
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def plan_root(plan: Plan, explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit.resolve()
    source_dir = Path(plan.source).resolve().parent
    if plan.root:
        return (source_dir / plan.root).resolve()
    return git_work_tree(source_dir) or Path.cwd().resolve()


def check_roots(plans: list[Plan], explicit: Path | None = None) -> None:
    """Refuse a ROOT that is not a folder before anything runs or is recorded: commands run
    there, and creating it would hide a typo behind failures."""
    if explicit is not None:
        if not explicit.is_dir():
            what = "not a folder" if explicit.exists() else "no such folder"
            shown = escape.path(str(explicit))
            raise UsageError(f"--root {shown}: {what}", hint="give an existing folder")
        return
    for plan in plans:
        root = plan_root(plan)
        if plan.root and not root.is_dir():
            raise UsageError(
                f"{plan.source}: root {plan.root!r} is not a folder ({escape.path(str(root))})",
                hint="fix the plan's root:, or pass --root",
            )


def run_root(plans: list[Plan], paths: list[Path], explicit: Path | None = None) -> Path:
    """The root whose ``.planrun/`` holds the state of a run over ``plans``."""
    if explicit is not None:
        return explicit.resolve()
    if plans:
        return plan_root(plans[0])
    start = paths[0] if paths else Path.cwd()
    return git_work_tree(start if start.is_dir() else start.parent) or Path.cwd().resolve()
