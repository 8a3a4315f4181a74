"""Plan readers: one module per format, behind one interface, chosen by content."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.errors import UsageError
from planrun.model import Plan
from planrun.suggest import closest


class Reader(Protocol):
    name: ClassVar[str]

    def detect(self, doc: Document) -> bool:
        """Whether this file is in this reader's format (cheap, content-based)."""
        ...

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        """The plan, or None when it has errors (reported to ``diags``)."""
        ...


@runtime_checkable
class GroupReader(Protocol):
    """A format whose plan spans several files (a folder of task files is one plan).

    The loader collects the documents of one group, by key, and reads them together once every
    path is scanned; a file given alone is a group of one."""

    def group(self, doc: Document) -> str:
        """The key of the plan this file belongs to (files with equal keys form one plan)."""
        ...

    def read_group(self, docs: list[Document], diags: Diagnostics) -> list[Plan]:
        """The plans of one group (its files in scan order); errors go to ``diags``."""
        ...


@runtime_checkable
class FileFinder(Protocol):
    """A format that is not markdown: which other files a folder scan should read."""

    def finds(self, path: Path) -> bool:
        """Whether a file found in a folder scan (not a ``*.md``) is a plan of this format."""
        ...


@runtime_checkable
class Skipper(Protocol):
    """A format with files beside its plans that are not plans (reports, companion documents)."""

    def skips(self, path: Path) -> str | None:
        """Why a file met in a folder scan is not a plan, or None when it may be one."""
        ...


@runtime_checkable
class ContextReader(Protocol):
    """A format whose plan named on its own is checked with its siblings as context."""

    def context_paths(self, doc: Document) -> list[Path]:
        """Files to load beside ``doc`` (never selected) so that its depends_on resolve."""
        ...


# Where each reader lives, by format name, in detection order.
_WHERE: dict[str, tuple[str, str]] = {
    "planrun": ("canonical", "CanonicalReader"),
    "taskmaster": ("taskmaster", "TaskMasterReader"),
    "backlog": ("backlog", "BacklogReader"),
    "cursor": ("cursor", "CursorReader"),
    "gsd": ("gsd", "GsdReader"),
    "gsd2": ("gsd2", "Gsd2Reader"),
    "prp": ("prp", "PrpReader"),
    "tasks": ("tasks", "TasksReader"),
    "checklist": ("checklist", "ChecklistReader"),
}


class _Registry(Mapping[str, Reader]):
    """Every reader by format name, in detection order (the most specific format first).

    A reader's module is imported the first time it is asked for: a canonical plan named on
    the command line is detected by the first reader, and start-up does not pay for the
    other formats' parsers. A folder scan asks every reader (skip rules, other file kinds)."""

    def __init__(self) -> None:
        self._made: dict[str, Reader] = {}

    def __getitem__(self, name: str) -> Reader:
        reader = self._made.get(name)
        if reader is None:
            module, cls = _WHERE[name]
            reader = getattr(importlib.import_module(f"planrun.readers.{module}"), cls)()
            self._made[name] = reader
        return reader

    def __iter__(self) -> Iterator[str]:
        return iter(_WHERE)

    def __len__(self) -> int:
        return len(_WHERE)


READERS: Mapping[str, Reader] = _Registry()


def get_reader(name: str) -> Reader:
    try:
        return READERS[name]
    except KeyError:
        guess = closest(name, READERS)
        hint = f' (did you mean "{guess}"?)' if guess else ""
        raise UsageError(f'unknown format "{name}"{hint}; formats: {", ".join(READERS)}') from None


def skip_reason(path: Path) -> str | None:
    """Why a file met in a folder scan is not a plan, as a reader declares it: the companion
    documents of its format (a spec-kit feature's plan.md beside its tasks.md), with a
    ``skips(path)`` method (``Skipper``)."""
    for reader in READERS.values():
        reason = reader.skips(path) if isinstance(reader, Skipper) else None
        if reason is not None:
            return reason
    return None


def finds(path: Path) -> bool:
    """Whether a non-markdown file found in a folder scan is a plan some reader reads."""
    return any(isinstance(r, FileFinder) and r.finds(path) for r in READERS.values())


def detect(doc: Document) -> Reader | None:
    for reader in READERS.values():
        if reader.detect(doc):
            return reader
    return None
