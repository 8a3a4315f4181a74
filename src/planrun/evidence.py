"""Evidence that does not come from the agent: what git says changed since the plan's base.

Each plan's base comes from bases.py; a plan without one (not committed, not in git, added
past a shallow clone's edge) has its evidence reported as unavailable, never an error.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planrun import escape, lazyre, proc
from planrun.bases import Base, NoBase, default_bases, resolve_ref, toplevel
from planrun.errors import UsageError
from planrun.graph import PlanGraph, Unit
from planrun.model import Plan
from planrun.readers import skip_reason
from planrun.sideeffects import CACHE_DIRS, CACHE_NAMES, CACHE_SUFFIXES
from planrun.writer import XML_MARKER

_GLOB = frozenset("*?[")
CLAIM_LIST = 5  # unchanged files named in a false claim before "and N more"


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


# The caches as pathspecs git add leaves out (one matching ignored files is no error).
_CACHES = tuple(
    [f":(exclude,glob)**/{name}/**" for name in sorted(CACHE_DIRS)]
    + [f":(exclude,glob)**/*{suffix}" for suffix in CACHE_SUFFIXES]
    + [f":(exclude,glob)**/{name}" for name in sorted(CACHE_NAMES)]
)


def tree_hash(repo: Path, exclude: Sequence[Path] = ()) -> str | None:
    """The content hash of the work tree as git sees it, untracked files included: ``git add
    -A`` into a temporary copy of the index, then ``git write-tree``. The user's index is only
    read (copied, so unchanged files are not hashed again). ``exclude``: planrun's own state
    and outputs (``.planrun/``, SUMMARY.md), which change with every run and are not the work
    being tested. Nor are the caches that running checks leave (``__pycache__``,
    ``.coverage``: sideeffects.py), or no pass would hold for the tree its own run left."""
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
        own = [rel for p in [*exclude, *planrun_outputs(repo)] if (rel := _inside(repo, p))]
        # git add refuses a pathspec naming an ignored path, even to exclude it (exit 1: "The
        # following paths are ignored"); an ignored path is left out anyway.
        ignored = _ignored(repo, own)
        skip = [f":(exclude,literal){rel}" for rel in own if rel not in ignored]
        added = proc.run_git(repo, "add", "-A", "--", ".", *skip, *_CACHES, env=env)
        tree = proc.run_git(repo, "write-tree", env=env) if added.ok else added
        return tree.stdout.strip() if tree.ok else None
    finally:
        tmp.unlink(missing_ok=True)


def _ignored(repo: Path, rels: list[str]) -> set[str]:
    """Which of ``rels`` (paths relative to the work tree's top) git ignores."""
    if not rels:
        return set()
    found = proc.run_git(repo, "check-ignore", "--verbose", "--non-matching", "--", *rels)
    # One line per path: "SOURCE:LINE:PATTERN<TAB>PATH", the source empty when none matched
    # (and a path git would quote is never one planrun wrote: .planrun, SUMMARY.md, a log).
    out = set()
    for line in found.stdout.splitlines():
        source, _, path = line.partition("\t")
        if source != "::" and path in rels:
            out.add(path)
    return out


def _inside(repo: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix() or None
    except ValueError:
        return None


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
        listed = ", ".join(map(escape.path, names)) + (f" and {more} more" if more else "")
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
        # The plan's own files and planrun's SUMMARY.md are not the task's work: a task that
        # declares "docs/" is not shown done by the plan added to docs/.
        plan = unit.plan
        own = {_rel(base.repo, Path(plan.source_of(t))) for t in [None, *plan.tasks]}
        changed_set = {
            p
            for p in self.changes[(base.repo, base.commit)]
            if p not in own and not _planrun_output(base.repo / p)
        }
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
            outside = f"{escape.path(plan.source)} is not in a git repository"
            if ref is not None:
                raise UsageError(f'--base "{ref}": {outside}')
            ev.bases[plan.id] = NoBase(outside)
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
        ev.tree = tree_hash(ev.repo, [run_root / ".planrun", *exclude])
    ev.undeclared = _undeclared(ev, graph, roots, exclude)
    return ev


def _undeclared(
    ev: Evidence, graph: PlanGraph, roots: dict[str, Path], exclude: Iterable[Path]
) -> list[str]:
    """Changed files (since each plan's base) that no task of any plan declares; the plans
    themselves, the reports and companions their formats write beside them, and planrun's
    outputs do not count."""
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
            if skip_reason(repo / path):
                continue  # a format's report beside its plans (GSD's 07-01-SUMMARY.md claim)
            if not any(matches(p, path) for p in mine):
                out.add(path)
    return sorted(out)


_GENERATED = lazyre.compile(rb"\A---\r?\n(?:(?!---\s*$).*\n)*?generator: planrun\r?\n", re.M)


_JUNIT = XML_MARKER.encode()


def planrun_outputs(repo: Path) -> list[Path]:
    """SUMMARY.md and JUnit files planrun wrote that git does not hold as they are (new or
    changed)."""
    found = proc.run_git(
        repo, "ls-files", "-m", "-o", "--exclude-standard", "-z", "--", "*.md", "*.xml"
    )
    names = _split0(found.stdout) if found.ok else []
    return [repo / name for name in names if _planrun_output(repo / name)]


def _planrun_output(path: Path) -> bool:
    """A SUMMARY.md planrun wrote (``generator: planrun`` in its frontmatter), or a JUnit
    file (its marker comment), wherever it is."""
    if path.suffix not in (".md", ".xml"):
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if path.suffix == ".xml":
        return _JUNIT in head
    return bool(_GENERATED.match(head))


def _rel(repo: Path, path: Path) -> str:
    return os.path.relpath(Path(path).resolve(), repo)


def with_plan_files(doc: dict[str, Any], files: Mapping[str, str]) -> dict[str, Any]:
    """A run's evidence with each base entry saying which plan file it is for (``files``:
    plan id -> the key its results are filed under), since a derived plan id may differ in
    the next run."""
    for pid, entry in (doc.get("bases") or {}).items():
        if isinstance(entry, dict) and pid in files:
            entry["plan_file"] = files[pid]
    return doc
