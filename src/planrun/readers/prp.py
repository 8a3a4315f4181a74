"""PRP files (Product Requirement Prompts): fenced bash blocks under "Validation Loop" /
"Level N" headings are verify tasks, in level order; checkboxes under "Quality Gates",
"Success Criteria" or a final checklist are manual checks with their claimed status; the
frontmatter is kept as metadata."""

from __future__ import annotations

import re
from typing import ClassVar

from planrun import markdown
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.model import Plan
from planrun.readers.canonical import validate_plan
from planrun.readers.checklist import read_items
from planrun.readers.common import items, mapping, parse_body, start_plan, verify_list
from planrun.shellsplit import Chunk, split_script

_LOOP = re.compile(r"validation (loop|gates?)", re.I)
_LEVEL = re.compile(r"\blevel\s*(\d+)\b\s*[:.\-\u2013\u2014]?\s*(.*)", re.I)
_SHELL = {"bash", "sh", "shell", "zsh", "console", "shell-session", ""}


class PrpReader:
    name: ClassVar[str] = "prp"

    def detect(self, doc: Document) -> bool:
        body = parse_body(doc)
        return any(
            _LOOP.search(h.title) or (h.level == 1 and re.search(r"\bPRP\b", h.title))
            for h in body.headings
        )

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        body, data, first = start_plan(doc, diags)
        tasks = items([], first)
        previous: str | None = None
        for heading, number, name in _levels(body):
            chunks = _commands(body, heading)
            if not chunks:
                continue
            task = mapping(heading.no, id=f"level-{number}", name=name or heading.title)
            task["verify"] = verify_list(chunks, chunks[0].line)
            if previous:
                task["depends_on"] = [previous]
            previous = str(task["id"])
            tasks.append(task)
            tasks.item_lines.append(heading.no)
        gates = read_items(body, first, "check-", kind="manual")
        tasks.extend(gates)
        tasks.item_lines.extend(gates.item_lines)
        data["tasks"] = tasks
        return validate_plan(doc, data, self.name, diags)


def _levels(body: markdown.Body) -> list[tuple[markdown.Heading, str, str]]:
    """Level headings in order; a Validation Loop heading without levels counts as one."""
    out = []
    for heading in body.headings:
        match = _LEVEL.search(heading.title)
        if match:
            out.append((heading, match.group(1), markdown.strip_markup(heading.title)))
    if not out:
        out = [
            (h, "1", markdown.strip_markup(h.title)) for h in body.headings if _LOOP.search(h.title)
        ][:1]
    return out


def _commands(body: markdown.Body, heading: markdown.Heading) -> list[Chunk]:
    lines = markdown.section(body, heading)
    if not lines:
        return []
    start, end = lines[0].no, lines[-1].no
    chunks: list[Chunk] = []
    for block in body.blocks:
        if start <= block.no <= end and block.lang in _SHELL:
            text = block.text
            if block.lang in ("console", "shell-session"):
                text = "\n".join(
                    ln[2:] if ln.startswith("$ ") else "# " + ln for ln in text.splitlines()
                )
            chunks.extend(split_script(text, block.first))
    return chunks
