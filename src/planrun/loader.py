"""Find plan files, pick a reader for each, and collect plans and diagnostics."""

from __future__ import annotations

import errno
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from planrun import plancache
from planrun.derive import derive_plan, drop_derived
from planrun.diagnostics import Diagnostics
from planrun.document import Document, UndecodableError, written_by_planrun
from planrun.errors import PathNotFoundError
from planrun.model import Plan
from planrun.planids import make_unique
from planrun.readers import (
    ContextReader,
    GroupReader,
    Reader,
    detect,
    finds,
    get_reader,
    skip_reason,
)
from planrun.roots import plan_root
from planrun.stated import hold_destructive

# Folders that hold tools' own state, never plans.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".planrun",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
    }
)


@dataclass
class Loaded:
    plans: list[Plan] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    derive: bool = True  # give tasks without verify checks derived from their text
    context: list[Path] = field(default_factory=list)
    """Files a reader wants loaded beside a plan named on its own (a GSD plan's siblings)."""
    # Files of multi-file formats, by (reader, group key), read together by read_groups().
    groups: dict[tuple[str, str], tuple[GroupReader, list[Document]]] = field(default_factory=dict)


def _symlink_loop(path: Path) -> bool:
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def iter_plan_files(path: Path, seen: set[tuple[int, int]] | None = None) -> Iterator[Path]:
    """Markdown files under ``path``, recursively, in a stable order, and the files of other
    kinds a reader claims (a Task Master ``tasks.json``). A folder reached again through a
    symlink (a loop, or two links to one folder) is read once."""
    seen = set() if seen is None else seen
    try:
        info = path.stat()
    except OSError:
        return
    if (info.st_dev, info.st_ino) in seen:
        return
    seen.add((info.st_dev, info.st_ino))
    try:
        children = sorted(path.iterdir(), key=lambda p: p.name)
    except OSError:
        return
    for child in children:
        if child.is_dir():
            if child.name not in SKIP_DIRS:
                yield from iter_plan_files(child, seen)
        elif child.suffix.lower() == ".md" or finds(child):
            yield child


def load_paths(paths: Sequence[Path], fmt: str | None = None, *, derive: bool = True) -> Loaded:
    """Load every plan under ``paths``; a path that does not exist raises PathNotFoundError."""
    forced = get_reader(fmt) if fmt else None
    loaded = Loaded(derive=derive)
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            if _symlink_loop(path):
                raise PathNotFoundError(f"{path}: symlink loop")
            raise PathNotFoundError(f"{path}: no such file or directory")
        if path.is_dir():
            for file in iter_plan_files(path):
                seen.add(file.resolve())
                _load_file(file, explicit=False, forced=forced, loaded=loaded)
        else:
            seen.add(path.resolve())
            _load_file(path, explicit=True, forced=forced, loaded=loaded)
    read_groups(loaded)
    _load_context(loaded, seen, forced)
    make_unique(loaded.plans)
    return loaded


def read_groups(loaded: Loaded) -> None:
    """Read the collected files of multi-file formats, one group at a time."""
    groups, loaded.groups = loaded.groups, {}
    for reader, docs in groups.values():
        texts = {doc.display: doc.text for doc in docs}
        for plan in reader.read_group(docs, loaded.diagnostics):
            _derive(plan, texts, loaded)
            loaded.plans.append(plan)


def _derive(plan: Plan, texts: dict[str, str], loaded: Loaded) -> None:
    """Derived checks for the tasks of ``plan`` without a verify (or, when derivation is
    off, none: not even those a converted plan labels derived)."""
    hold_destructive(plan, loaded.diagnostics)
    if loaded.derive:
        derive_plan(plan, texts, plan_root(plan), loaded.diagnostics)
    else:
        drop_derived(plan)


def _load_context(loaded: Loaded, seen: set[Path], forced: Reader | None) -> None:
    """Plans loaded only so that the named ones' dependencies resolve: never selected, and
    their own problems are not reported (they were not asked about)."""
    aside = Loaded(derive=loaded.derive)
    for path in dict.fromkeys(p.resolve() for p in loaded.context):
        if path not in seen and path.is_file():
            seen.add(path)
            _load_file(path, explicit=False, forced=forced, loaded=aside)
    read_groups(aside)
    for plan in aside.plans:
        plan.mark(context=True)
        loaded.plans.append(plan)


def _load_file(path: Path, *, explicit: bool, forced: Reader | None, loaded: Loaded) -> None:
    diags = loaded.diagnostics
    try:
        doc = Document.read(path)
    except PathNotFoundError as exc:
        if explicit:
            raise
        # A broken link or a symlink loop met in a folder scan is not a plan someone named.
        diags.add("not-a-plan", str(path), None, f"skipped: {exc.message}")
        return
    except UndecodableError as exc:
        # A *.md that is a FIFO, a device or huge is refused even in a folder scan: someone
        # put it among the plans, and reading it would hang or exhaust memory.
        if explicit or exc.code in ("special-file", "file-too-large"):
            diags.add(exc.code, str(path), exc.line, exc.message)
        else:
            diags.add("not-a-plan", str(path), None, f"skipped: {exc.message}")
        return
    load_document(doc, explicit=explicit, forced=forced, loaded=loaded)


def load_document(doc: Document, *, explicit: bool, forced: Reader | None, loaded: Loaded) -> None:
    """Read one decoded document into ``loaded`` (plans and diagnostics); a file of a
    multi-file format waits in ``loaded.groups`` until read_groups()."""
    diags = loaded.diagnostics
    path = doc.path
    cache = plancache.slot(doc, explicit=explicit, forced=forced.name if forced else None)
    hit = cache.get() if cache else None
    if hit is not None:
        _load_cached(doc, hit, explicit=explicit, loaded=loaded)
        return
    start = len(diags.items)
    fm = doc.frontmatter
    for line, key in fm.duplicate_keys:
        diags.add(
            "duplicate-key", doc.display, line, f'key "{key}" is repeated; the last value wins'
        )
    for line in fm.literal_backslash_lines:
        diags.add(
            "yaml-backslash",
            doc.display,
            line,
            "a backslash escape strict YAML rejects was read as a literal backslash (as GSD "
            'reads it), so a regex like "Base\\.metadata" keeps its backslash',
            hint="write regexes in single quotes: 'Base\\.metadata'",
        )
    head = diags.items[start:]
    reason = None if explicit else skip_reason(path)
    if reason:
        diags.add("not-a-plan", doc.display, None, f"skipped: {reason}")
        return
    if _planrun_summary(fm.data):
        if explicit:
            # Named on the command line: say so loudly rather than pass a plan nobody read.
            diags.add(
                "unrecognized-plan",
                doc.display,
                1,
                "this is a summary planrun wrote (generator: planrun), not a plan",
                hint="name the plan it summarizes instead",
            )
        else:
            diags.add("not-a-plan", doc.display, None, "skipped: a summary planrun wrote")
        return
    # Imported on a miss only: a plan from the cache needs no reader.
    from planrun.readers.canonical import CanonicalReader  # noqa: PLC0415
    from planrun.readers.common import report_frontmatter  # noqa: PLC0415

    report_frontmatter(doc, diags)
    reader = forced or detect(doc)
    if reader is None:
        _explain_unrecognized(doc, explicit, diags)
        return
    tail = len(diags.items)
    diags.add("format", doc.display, None, f"read as a {reader.name} plan")
    if isinstance(reader, GroupReader):
        group_key = (reader.name, reader.group(doc))
        loaded.groups.setdefault(group_key, (reader, []))[1].append(doc)
        return
    plan = reader.read(doc, diags)
    if cache and isinstance(reader, CanonicalReader) and fm.error is None and not fm.unclosed:
        cache.put(plancache.Entry(head, diags.items[tail:], plan))
    if plan is None:
        return
    _derive(plan, {doc.display: doc.text}, loaded)
    if explicit and isinstance(reader, ContextReader):
        plan.mark(standalone=True)
        loaded.context.extend(reader.context_paths(doc))
    loaded.plans.append(plan)


def _load_cached(doc: Document, hit: plancache.Entry, *, explicit: bool, loaded: Loaded) -> None:
    """load_document for a canonical plan read before: what was stored is what reading it
    again would give; the rest (skip rules, derived checks) is done as on a miss."""
    diags = loaded.diagnostics
    diags.items.extend(hit.head)
    reason = None if explicit else skip_reason(doc.path)
    if reason:
        diags.add("not-a-plan", doc.display, None, f"skipped: {reason}")
        return
    diags.items.extend(hit.tail)
    if hit.plan is not None:
        _derive(hit.plan, {doc.display: doc.text}, loaded)
        loaded.plans.append(hit.plan)


def _planrun_summary(data: object) -> bool:
    """planrun's own SUMMARY.md: ``generator: planrun`` and nothing a plan has (a ``planrun:``
    key or a list of tasks). A plan that merely carries the key is still read as a plan."""
    return (
        written_by_planrun(data)
        and isinstance(data, dict)
        and "planrun" not in data
        and not isinstance(data.get("tasks"), list)
    )


def _explain_unrecognized(doc: Document, explicit: bool, diags: Diagnostics) -> None:
    """Say precisely why no reader took the file: an error if named, else an info."""
    fm = doc.frontmatter
    name = doc.display
    if fm.error is not None or fm.unclosed:
        return  # reported as yaml-syntax already, even in a folder scan
    if not explicit:
        diags.add("not-a-plan", name, None, "skipped: not a plan in any format planrun reads")
        return
    if not doc.text.strip():
        diags.add("empty-file", name, None, "the file is empty", hint="run: planrun new NAME")
    elif not fm.present:
        diags.add(
            "no-frontmatter",
            name,
            1,
            "no YAML frontmatter: a plan starts with a '---' line, its YAML, and '---'",
            hint="run `planrun new NAME` for a template",
        )
    elif not isinstance(fm.data, dict):
        kind = "a list" if isinstance(fm.data, list) else "empty" if fm.data is None else "a value"
        diags.add(
            "frontmatter-not-mapping",
            name,
            2,
            f"the frontmatter is {kind}, not a mapping of keys to values",
            hint="a plan's frontmatter starts with keys such as 'planrun: 1' and 'tasks:'",
        )
    else:
        diags.add(
            "unrecognized-plan",
            name,
            1,
            "not a plan in any format planrun reads: the frontmatter has no 'planrun:' key",
            hint="add 'planrun: 1' to the frontmatter, or pass --format",
        )
