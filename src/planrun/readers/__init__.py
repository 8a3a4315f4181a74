"""Plan readers: one module per format, behind one interface, chosen by content."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.errors import UsageError
from planrun.model import Plan
from planrun.readers.backlog import BacklogReader
from planrun.readers.canonical import CanonicalReader
from planrun.readers.checklist import ChecklistReader
from planrun.readers.cursor import CursorReader
from planrun.readers.gsd import GsdReader
from planrun.readers.gsd2 import Gsd2Reader
from planrun.readers.prp import PrpReader
from planrun.readers.taskmaster import TaskMasterReader
from planrun.readers.tasks import TasksReader
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


def _registry() -> dict[str, Reader]:
    # Order is detection order: the most specific format first.
    readers: list[Reader] = [
        CanonicalReader(),
        TaskMasterReader(),
        BacklogReader(),
        CursorReader(),
        GsdReader(),
        Gsd2Reader(),
        PrpReader(),
        TasksReader(),
        ChecklistReader(),
    ]
    return {r.name: r for r in readers}


READERS = _registry()


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
