"""Plan readers: one module per format, behind one interface, chosen by content."""

from __future__ import annotations

from typing import ClassVar, Protocol

from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.errors import UsageError
from planrun.model import Plan
from planrun.readers.canonical import CanonicalReader
from planrun.readers.checklist import ChecklistReader
from planrun.readers.gsd import GsdReader
from planrun.readers.gsd2 import Gsd2Reader
from planrun.readers.prp import PrpReader
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


def _registry() -> dict[str, Reader]:
    # Order is detection order: the most specific format first.
    readers: list[Reader] = [
        CanonicalReader(),
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


def detect(doc: Document) -> Reader | None:
    for reader in READERS.values():
        if reader.detect(doc):
            return reader
    return None
