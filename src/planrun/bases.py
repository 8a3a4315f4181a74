"""Each plan's base: the commit its claims are held against, found with plain git.

``--base REF``, else the parent of the commit that first added the plan file (``git log
--diff-filter=A --follow``): the tree before the plan existed; the empty tree when that commit
is the repository's first. A plan that is not committed, or was added past a shallow clone's
edge, has none (``NoBase``, saying why). Many plans are resolved in a few git calls.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planrun import escape, proc
from planrun.errors import UsageError


@dataclass(frozen=True)
class Base:
    """A plan's base: the commit (or the empty tree) its claims are held against."""

    repo: Path  # the work tree's top level
    commit: str  # full object name: a commit, or the empty tree
    label: str  # how messages name it: the ref given, or the short commit
    empty: bool = False  # the empty tree: the plan came with the repository's first commit

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "label": self.label, "empty": self.empty}


@dataclass(frozen=True)
class NoBase:
    reason: str


def toplevel(start: Path) -> Path | None:
    """The git work tree holding ``start`` (a file or a folder), or None."""
    folder = start if start.is_dir() else start.parent
    if not folder.is_dir():
        return None
    found = proc.run_git(folder, "rev-parse", "--show-toplevel")
    return Path(found.stdout.strip()).resolve() if found.ok and found.stdout.strip() else None


def _empty_tree(repo: Path) -> str:
    # The empty tree's name depends on the repository's hash (SHA-1 or SHA-256).
    found = proc.run_git(repo, "hash-object", "-t", "tree", "/dev/null")
    return found.stdout.strip() if found.ok else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def _short(repo: Path, commit: str) -> str:
    found = proc.run_git(repo, "rev-parse", "--short", commit)
    return found.stdout.strip() if found.ok else commit[:12]


def resolve_ref(repo: Path, ref: str) -> Base:
    """``--base REF`` in ``repo``: a commit that exists, else a usage error (exit 2)."""
    found = proc.run_git(
        repo, "rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"
    )
    if not found.ok or not found.stdout.strip():
        shallow = _is_shallow(repo)
        raise UsageError(
            f'--base "{ref}": no such commit in the git repository {repo}',
            hint="fetch more history (git fetch --unshallow), or name another commit"
            if shallow
            else "name a commit, branch or tag that exists (git log --oneline)",
        )
    commit = found.stdout.strip()
    short = _short(repo, commit)
    return Base(repo, commit, ref if ref == short else f"{ref} ({short})")


def _is_shallow(repo: Path) -> bool:
    found = proc.run_git(repo, "rev-parse", "--is-shallow-repository")
    return found.stdout.strip() == "true"


def _shallow_edge(repo: Path) -> set[str]:
    found = proc.run_git(repo, "rev-parse", "--git-path", "shallow")
    path = (repo / found.stdout.strip()) if found.ok else None
    if path is None or not path.is_file():
        return set()
    return set(path.read_text().split())


def default_base(repo: Path, plan_file: Path) -> Base | NoBase:
    """The parent of the commit that first added ``plan_file``; the empty tree when that
    commit is the first; NoBase (with why) when the plan is not committed."""
    rel = os.path.relpath(plan_file.resolve(), repo)
    log = proc.run_git(repo, "log", "--diff-filter=A", "--follow", "--format=%H", "--", rel)
    added = log.stdout.split()
    if not log.ok or not added:
        shown = escape.path(rel)
        return NoBase(f"{shown} is not committed in git; commit the plan, or pass --base REF")
    first = added[-1]
    parent = proc.run_git(repo, "rev-parse", "--verify", "--quiet", first + "^")
    if parent.ok and parent.stdout.strip():
        commit = parent.stdout.strip()
        return Base(repo, commit, _short(repo, commit))
    if first in _shallow_edge(repo):
        return NoBase(
            f"shallow clone: the history before {escape.path(rel)} was added is not fetched; "
            "run git fetch --unshallow, or pass --base REF"
        )
    label = "the empty tree"  # the plan came with the repository's first commit
    return Base(repo, _empty_tree(repo), label, empty=True)


def default_bases(repo: Path, plan_files: Sequence[Path]) -> dict[Path, Base | NoBase]:
    """``default_base`` of many plans in a few git calls: the oldest commit adding each file
    (one ``git log``), which of those additions are renames (one ``git show -M``: a renamed
    plan falls back to ``git log --follow``), and the parents' short names."""
    rels = {os.path.relpath(f.resolve(), repo): f for f in plan_files}
    log = proc.run_git(
        repo,
        "log",
        "--diff-filter=A",
        "--no-renames",
        "--format=%x01%H%x02%P",
        "--name-only",
        "-z",
        "--",
        *rels,
    )
    added: dict[str, tuple[str, list[str]]] = {}
    for chunk in log.stdout.split("\x01")[1:] if log.ok else []:
        head, _, names = chunk.partition("\0")
        commit, _, parents = head.partition("\x02")
        for entry in names.split("\0"):
            name = entry.strip("\n")
            if name in rels:
                added[name] = (commit, parents.split())  # newest first: the last is the oldest
    renamed = _renamed(repo, {c for c, _ in added.values()})
    labels = _short_names(repo, {ps[0] for _, ps in added.values() if ps})
    edge = _shallow_edge(repo) if any(not ps for _, ps in added.values()) else set()
    out: dict[Path, Base | NoBase] = {}
    for rel, path in rels.items():
        if rel not in added or (added[rel][0], rel) in renamed:
            out[path] = default_base(repo, path)
            continue
        commit, parent_list = added[rel]
        if parent_list:
            first = parent_list[0]
            out[path] = Base(repo, first, labels.get(first, first[:12]))
        elif commit in edge:
            out[path] = default_base(repo, path)  # it says why: the shallow clone's edge
        else:
            out[path] = Base(repo, _empty_tree(repo), "the empty tree", empty=True)
    return out


def _renamed(repo: Path, commits: set[str]) -> set[tuple[str, str]]:
    """(commit, new path) of every rename or copy in ``commits``."""
    if not commits:
        return set()
    shown = proc.run_git(
        repo, "show", "-M", "--name-status", "-z", "--format=%x01%H", *sorted(commits)
    )
    out: set[tuple[str, str]] = set()
    for chunk in shown.stdout.split("\x01")[1:] if shown.ok else []:
        commit, _, rest = chunk.partition("\0")
        tokens = rest.lstrip("\n").split("\0")
        i = 0
        while i < len(tokens):
            if tokens[i][:1] in ("R", "C") and i + 2 < len(tokens):
                out.add((commit, tokens[i + 2]))
                i += 3
            else:
                i += 2
    return out


def _short_names(repo: Path, commits: set[str]) -> dict[str, str]:
    if not commits:
        return {}
    shown = proc.run_git(repo, "show", "-s", "--format=%H %h", *sorted(commits))
    pairs = (line.split() for line in shown.stdout.splitlines())
    return {p[0]: p[1] for p in pairs if len(p) == 2}
