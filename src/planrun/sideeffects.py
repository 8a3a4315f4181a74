"""Checks that change what they judge: the work tree before and after a task's commands.

A snapshot is ``git status`` (untracked files listed one by one) with a digest of each listed
file (content for modified tracked files, size and modification time for untracked ones), so
a file that was already modified and is modified again is seen too; files git does not list
are as committed, and a check that touches one makes it listed. New untracked
files that are well-known caches (``__pycache__``, ``.pytest_cache``, ``.coverage``, ...) are
what running tests leaves behind, not a change to the work; a tracked file is never excused.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from planrun import escape, proc
from planrun.bases import toplevel
from planrun.graph import Unit
from planrun.plural import pluralize

# Folders whose new untracked contents are caches, anywhere in the tree.
CACHE_DIRS = frozenset(
    {
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        ".cache",  # node_modules/.cache, and tools that follow the XDG habit in the tree
        ".parcel-cache",
        ".turbo",
        ".gradle",
    }
)
CACHE_SUFFIXES = (".pyc", ".pyo", ".tsbuildinfo")
CACHE_NAMES = frozenset({".coverage", ".eslintcache", ".DS_Store", ".stylelintcache"})
_HASH_LIMIT = 8 * 1024 * 1024  # bigger files are compared by size and modification time

Snapshot = dict[str, str]


def snapshot(repo: Path) -> Snapshot | None:
    """Every path git reports as differing from HEAD or untracked, with its status and a
    digest of its content; None when git cannot say."""
    found = proc.run_git(
        repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"
    )
    if not found.ok:
        return None
    out: Snapshot = {}
    for entry in found.stdout.split("\0"):
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        out[path] = code + ":" + _digest(repo / path, content=code != "??")
    return out


def _digest(path: Path, *, content: bool) -> str:
    """Modified tracked files (usually few) by content; untracked ones, which can be many (an
    unignored build folder), by size and modification time: a check that rewrites one with the
    same bytes is then reported, which withholds a pass rather than grant one."""
    try:
        info = path.lstat()
        if not content or not path.is_file() or info.st_size > _HASH_LIMIT:
            return f"{info.st_mode}:{info.st_size}:{info.st_mtime_ns}"
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def is_cache(path: str) -> bool:
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else path
    if any(p in CACHE_DIRS for p in parts[:-1]):
        return True
    return name in CACHE_NAMES or name.startswith(".coverage.") or name.endswith(CACHE_SUFFIXES)


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths whose state differs between the snapshots, new untracked caches left out."""
    out = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None and new is not None and new.startswith("??") and is_cache(path):
            continue
        out.append(path)
    return out


def own_outputs() -> set[tuple[int, int]]:
    """planrun's own stdout and stderr where they are files (``execute plan.md > run.log``), by
    device and inode: its result lines land there while checks run, and are not their change."""
    out = set()
    for fd in (1, 2):
        try:
            info = os.fstat(fd)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            out.add((info.st_dev, info.st_ino))
    return out


def own_output_paths() -> list[Path]:
    """planrun's own stdout and stderr where they are files, by path (found through Linux's
    /proc and checked by inode; elsewhere none): evidence leaves them out of the tree it hashes
    and of the changes no task declares."""
    out = []
    for fd in (1, 2):
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                continue
            path = Path(f"/proc/self/fd/{fd}").readlink()
            seen = path.stat()
        except OSError:
            continue
        if (seen.st_dev, seen.st_ino) == (info.st_dev, info.st_ino) and path not in out:
            out.append(path)
    return out


def _is_own(path: Path, own: set[tuple[int, int]]) -> bool:
    try:
        info = path.lstat()  # not through a link a check made to it
    except OSError:
        return False
    return (info.st_dev, info.st_ino) in own


UNSEEN = "git could not list the work tree around its commands: what it changed cannot be seen"


def describe(paths: list[str], others: list[str]) -> str:
    """ "this check changed 2 files: src/a.py, src/b.py" (naming the tasks that ran at the same
    time, which may have made the change instead)."""
    shown = paths[:5]
    more = f" and {len(paths) - len(shown)} more" if len(paths) > len(shown) else ""
    count = pluralize(len(paths), "file")
    text = f"this check changed {count}: {', '.join(map(escape.path, shown))}{more}"
    if others:
        names = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        text += f" (or {names}, running at the same time, did)"
    return text


class WorkTreeWatch:
    """Snapshots around each task's commands. With several jobs, tasks overlap: a change is
    attributed to every task that was running while it happened (so a culprit is always
    caught, and a bystander's pass is withheld rather than a culprit's pass let through).

    With ``epoch`` (the count of the scheduler's waits for commands, procpool's ``waits``,
    with the count of lines planrun printed to a pipe, which may land in the tree: ``| tee``),
    one snapshot serves every event between two waits: the "after" of each task whose exit
    the last wait reported and the "before" of each task started next. It is taken after that
    wait, so after those tasks' commands ended, and before the new tasks' first command; a
    change made meanwhile comes from a command still running, whose task is still watched and
    so overlaps the new tasks. Without ``epoch`` every call takes its own snapshot."""

    def __init__(self) -> None:
        self.epoch: Callable[[], object] | None = None
        self._repos: dict[Path, Path | None] = {}
        self._taken: dict[Path, tuple[object, Snapshot]] = {}  # repo -> (epoch, snapshot)
        self._before: dict[int, tuple[Path, Snapshot | None]] = {}
        self._ids: dict[int, str] = {}
        self._overlap: dict[int, set[str]] = {}
        self._own = own_outputs()

    def _snapshot(self, repo: Path) -> Snapshot | None:
        """The work tree now, or as taken since the scheduler last waited for commands."""
        if self.epoch is None:
            return snapshot(repo)
        now = self.epoch()
        taken = self._taken.get(repo)
        if taken is not None and taken[0] == now:
            return taken[1]
        snap = snapshot(repo)
        if snap is not None:  # a failure is not shared: the next event asks git again
            self._taken[repo] = (now, snap)
        return snap

    def started(self, unit: Unit, root: Path) -> None:
        if root not in self._repos:
            self._repos[root] = toplevel(root)
        repo = self._repos[root]
        if repo is None:  # outside git: nothing to watch with
            return
        snap = self._snapshot(repo)  # None: git failed; the task's pass is then not evidence
        for other in self._overlap.values():
            other.add(unit.id)
        self._overlap[unit.index] = set(self._ids.values())
        self._ids[unit.index] = unit.id
        self._before[unit.index] = (repo, snap)

    def finished(self, unit: Unit) -> tuple[list[str], str | None]:
        """The files changed while ``unit`` ran, and the reason its pass is not evidence."""
        entry = self._before.pop(unit.index, None)
        self._ids.pop(unit.index, None)
        others = sorted(self._overlap.pop(unit.index, set()))
        if entry is None:
            return [], None
        repo, before = entry
        after = self._snapshot(repo)
        if before is None or after is None:
            return [], UNSEEN
        found = [p for p in changes(before, after) if not _is_own(repo / p, self._own)]
        return found, describe(found, others) if found else None
