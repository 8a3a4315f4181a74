"""Evidence that does not come from the agent: what git says changed since the plan's base.

The base of a plan is ``--base REF``, else the parent of the commit that first added the plan
file (the tree before the plan existed; the empty tree when that commit is the repository's
first), else none: a plan that is not committed, not in git, or whose adding commit lies past a
shallow clone's edge has no base, and its evidence is reported as unavailable, never an error.

Changed files are ``git diff --name-only BASE`` (the work tree against the base, staged or not)
plus untracked files that git does not ignore. A task claimed done that declares files none of
which changed since its base is a false claim, whatever its checks say. Every git call goes
through ``proc.run_git``; nothing here writes to the user's index or work tree.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planrun import proc
from planrun.errors import UsageError
from planrun.graph import PlanGraph, Unit
from planrun.model import Plan

_GLOB = frozenset("*?[")
CLAIM_LIST = 5  # unchanged files named in a false claim before "and N more"


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
        return NoBase(f"{rel} is not committed in git; commit the plan, or pass --base REF")
    first = added[-1]
    parent = proc.run_git(repo, "rev-parse", "--verify", "--quiet", first + "^")
    if parent.ok and parent.stdout.strip():
        commit = parent.stdout.strip()
        return Base(repo, commit, _short(repo, commit))
    if first in _shallow_edge(repo):
        return NoBase(
            f"shallow clone: the history before {rel} was added is not fetched; "
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


def changed_files(base: Base, others: frozenset[str] | None = None) -> frozenset[str]:
    """Paths (relative to the work tree's top) that differ from the base, untracked included
    (``others``: the untracked files, when already listed)."""
    diff = proc.run_git(base.repo, "diff", "--name-only", "--no-renames", "-z", base.commit, "--")
    if not diff.ok:
        raise UsageError(f"git diff against {base.label} failed: {diff.stderr.strip()}")
    return frozenset(_split0(diff.stdout)) | (untracked(base.repo) if others is None else others)


def untracked(repo: Path) -> frozenset[str]:
    found = proc.run_git(repo, "ls-files", "--others", "--exclude-standard", "-z")
    return frozenset(_split0(found.stdout)) if found.ok else frozenset()


def _split0(text: str) -> list[str]:
    return [p for p in text.split("\0") if p]


def tree_hash(repo: Path) -> str | None:
    """The content hash of the work tree as git sees it, untracked files included: ``git add
    -A`` into a temporary copy of the index, then ``git write-tree``. The user's index is only
    read (copied, so unchanged files are not hashed again)."""
    where = proc.run_git(repo, "rev-parse", "--git-path", "index")
    if not where.ok:
        return None
    index = repo / where.stdout.strip()
    fd, name = tempfile.mkstemp(prefix="planrun-index-")
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            tmp.write_bytes(index.read_bytes() if index.is_file() else b"")
        except OSError:
            return None
        if not tmp.stat().st_size:
            tmp.unlink()  # git wants no file rather than an empty one
        env = {**os.environ, "GIT_INDEX_FILE": str(tmp)}
        added = proc.run_git(repo, "add", "-A", "--", ".", env=env)
        tree = proc.run_git(repo, "write-tree", env=env) if added.ok else added
        return tree.stdout.strip() if tree.ok else None
    finally:
        tmp.unlink(missing_ok=True)


def declared(unit: Unit) -> list[str]:
    """The files a unit says it touches: the task's ``files``, else the plan's
    ``files_modified`` (GSD frontmatter) for a task that names none."""
    if unit.task is None:
        return []
    if unit.task.files:
        return list(unit.task.files)
    return _plan_files(unit.plan)


def _plan_files(plan: Plan) -> list[str]:
    value = plan.metadata.get("files_modified")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def _repo_path(repo: Path, root: Path, path: str) -> str | None:
    """A ROOT-relative declared path as a path relative to the work tree's top, or None
    when it lies outside the repository."""
    full = os.path.normpath(root / path)
    rel = os.path.relpath(full, repo)
    return None if rel == ".." or rel.startswith("../") else rel


def matches(pattern: str, path: str) -> bool:
    """A declared path covers a changed one: the same file, a folder holding it, or a glob."""
    pattern = pattern.rstrip("/")
    if pattern in (".", ""):
        return True
    if _GLOB & set(pattern):
        return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + "/*")
    return path == pattern or path.startswith(pattern + "/")


@dataclass
class UnitEvidence:
    base: Base
    changed: list[str]
    unchanged: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base.commit, "changed": self.changed, "unchanged": self.unchanged}

    def false_claim(self) -> str | None:
        if self.changed or not self.unchanged:
            return None
        names = self.unchanged[:CLAIM_LIST]
        more = len(self.unchanged) - len(names)
        listed = ", ".join(names) + (f" and {more} more" if more else "")
        return f"claimed done, but none of its files changed since {self.base.label}: {listed}"


@dataclass
class Evidence:
    """Git facts of one run: each plan's base, what changed, and the tree that was tested."""

    bases: dict[str, Base | NoBase] = field(default_factory=dict)
    changes: dict[tuple[Path, str], frozenset[str]] = field(default_factory=dict)
    repo: Path | None = None  # the run root's repository
    tree: str | None = None
    undeclared: list[str] = field(default_factory=list)

    def base_of(self, unit: Unit) -> Base | None:
        base = self.bases.get(unit.plan.id)
        return base if isinstance(base, Base) else None

    def unit(self, unit: Unit, root: Path) -> UnitEvidence | None:
        """Which of the unit's declared files changed since its base (None: no base, or it
        declares no file inside the repository)."""
        base = self.base_of(unit)
        files = declared(unit)
        if base is None or not files:
            return None
        changed_set = self.changes[(base.repo, base.commit)]
        changed: list[str] = []
        unchanged: list[str] = []
        for name in files:
            rel = _repo_path(base.repo, root, name)
            if rel is None:
                continue
            hit = any(matches(rel, p) for p in changed_set)
            (changed if hit else unchanged).append(name)
        if not changed and not unchanged:
            return None
        return UnitEvidence(base, changed, unchanged)

    def common_base(self) -> Base | None:
        found = {b.commit: b for b in self.bases.values() if isinstance(b, Base)}
        if len(found) == 1 and all(isinstance(b, Base) for b in self.bases.values()):
            return next(iter(found.values()))
        return None

    def unavailable(self) -> list[str]:
        """Why some plans have no evidence, one line per distinct reason."""
        return list(dict.fromkeys(b.reason for b in self.bases.values() if isinstance(b, NoBase)))

    def to_json(self) -> dict[str, Any]:
        common = self.common_base()
        return {
            "base": common.commit if common else None,
            "bases": {
                pid: b.to_json() if isinstance(b, Base) else {"commit": None, "reason": b.reason}
                for pid, b in self.bases.items()
            },
            "tree": self.tree,
            "undeclared_changes": list(self.undeclared),
        }


def gather(
    graph: PlanGraph,
    roots: dict[str, Path],
    run_root: Path,
    *,
    ref: str | None = None,
    exclude: Sequence[Path] = (),
) -> Evidence:
    """Bases, changed files and the tested tree for a run over ``graph``; ``roots`` maps each
    plan id to its ROOT; ``exclude`` are planrun's own outputs (SUMMARY.md, JUnit XML), never
    counted as someone's undeclared change."""
    ev = Evidence()
    repos: dict[Path, Path | None] = {}

    def repo_of(path: Path) -> Path | None:
        folder = path.parent
        if folder not in repos:
            repos[folder] = toplevel(path)
        return repos[folder]

    by_repo: dict[Path, list[Path]] = {}
    for plan in graph.plans:
        source = Path(plan.source).resolve()
        repo = repo_of(source)
        if repo is None:
            if ref is not None:
                raise UsageError(f'--base "{ref}": {plan.source} is not in a git repository')
            ev.bases[plan.id] = NoBase(f"{plan.source} is not in a git repository")
        elif ref is not None:
            ev.bases[plan.id] = resolve_ref(repo, ref)
        else:
            by_repo.setdefault(repo, []).append(source)
    found = {p: b for repo, files in by_repo.items() for p, b in default_bases(repo, files).items()}
    for plan in graph.plans:
        source = Path(plan.source).resolve()
        if source in found:
            ev.bases[plan.id] = found[source]
    others: dict[Path, frozenset[str]] = {}
    for base in ev.bases.values():
        if isinstance(base, Base) and (base.repo, base.commit) not in ev.changes:
            if base.repo not in others:
                others[base.repo] = untracked(base.repo)
            ev.changes[(base.repo, base.commit)] = changed_files(base, others[base.repo])
    ev.repo = toplevel(run_root)
    if ev.repo is not None:
        ev.tree = tree_hash(ev.repo)
    ev.undeclared = _undeclared(ev, graph, roots, exclude)
    return ev


def _undeclared(
    ev: Evidence, graph: PlanGraph, roots: dict[str, Path], exclude: Iterable[Path]
) -> list[str]:
    """Changed files (since each plan's base) that no task of any plan declares; the plans
    themselves and planrun's outputs do not count."""
    patterns: dict[Path, list[str]] = {}
    for unit in graph.units:
        base = ev.base_of(unit)
        if base is None:
            continue
        for name in declared(unit):
            rel = _repo_path(base.repo, roots[unit.plan.id], name)
            if rel is not None:
                patterns.setdefault(base.repo, []).append(rel)
    out: set[str] = set()
    for (repo, _commit), paths in ev.changes.items():
        own = {_rel(repo, Path(p.source)) for p in graph.plans}
        own |= {_rel(repo, p) for p in exclude}
        mine = patterns.get(repo, [])
        for path in paths:
            if path in own or path.startswith(".planrun/") or _planrun_output(repo / path):
                continue
            if not any(matches(p, path) for p in mine):
                out.add(path)
    return sorted(out)


_GENERATED = re.compile(rb"\A---\r?\n(?:(?!---\s*$).*\n)*?generator: planrun\r?\n", re.M)


def _planrun_output(path: Path) -> bool:
    """A SUMMARY.md planrun wrote (``generator: planrun`` in its frontmatter), wherever it is."""
    if path.suffix != ".md":
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return bool(_GENERATED.match(head))


def _rel(repo: Path, path: Path) -> str:
    return os.path.relpath(Path(path).resolve(), repo)
