"""PRP files (Product Requirement Prompts): fenced bash blocks under "Validation Loop" /
"Level N" headings are verify tasks, in level order; checkboxes under "Quality Gates",
"Success Criteria" or a final checklist are manual checks with their claimed status; the
frontmatter is kept as metadata.

A block that starts the service in the foreground (the base template's Level 3:
``# Start the service`` / ``uv run python -m src.main --dev`` / ``curl ...``) is written for
two terminals: run as checks, the start would hold until the timeout and the requests would
find nothing listening. That command and the ones after it in the block are manual checks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from planrun import lazyre, markdown, prose
from planrun.commandlint import service_start
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict
from planrun.model import Plan
from planrun.readers import manualsteps
from planrun.readers.canonical import validate_plan
from planrun.readers.checkitems import read_items
from planrun.readers.common import (
    field_checks,
    id_list,
    items,
    mapping,
    parse_body,
    start_plan,
    verify_list,
)
from planrun.shellsplit import Chunk, split_script

_LOOP = lazyre.compile(r"validation (loop|gates?)", re.I)
_LEVEL = lazyre.compile(r"\blevel\s*(\d+)\b\s*[:.\-\u2013\u2014]?\s*(.*)", re.I)
_OPTIONAL = lazyre.compile(r"\boptional\b|\bonly if\b", re.I)
_TASK = lazyre.compile(r"^Task\s+(\d+(?:\.\d+)*)\s*[:.\-\u2013\u2014]?\s*(.*)$", re.I)
_FIELD = lazyre.compile(r"^\*\*([^*]+?):?\*\*:?\s*(.*)$")


_PROGRESS_LOG = lazyre.compile(r"(?:^|[-_])(?:progress|progress[-_]log|session[-_]log)\.md$", re.I)


class PrpReader:
    name: ClassVar[str] = "prp"

    def skips(self, path: Path) -> str | None:
        """A PRP pipeline's research notes and progress logs, beside the PRPs."""
        folder = path.parent
        beside = folder.parent if folder.name.lower() == "research" else folder
        if not any(p.name.lower().startswith("prp") for p in beside.glob("*")):
            return None
        if folder.name.lower() == "research":
            return "research notes of a PRP, not a plan"
        if _PROGRESS_LOG.search(path.name):
            return "a progress log of a PRP, not a plan"
        return None

    def detect(self, doc: Document) -> bool:
        body = parse_body(doc)
        return any(
            _LOOP.search(h.title) or (h.level == 1 and re.search(r"\bPRP\b", h.title))
            for h in body.headings
        )

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        body, data, first = start_plan(doc, diags)
        tasks = items([], first)
        for_a_person = manualsteps.note_blocks(body, doc, diags)
        for task in _tasks(body, (doc, diags), for_a_person):
            tasks.append(task)
            tasks.item_lines.append(task.line)
        previous: str | None = None
        for heading, number, name in _levels(body):
            by_hand: list[tuple[int, str]] = []
            chunks = _commands(body, heading, (doc, diags), by_hand, for_a_person)
            if not chunks and not by_hand:
                continue
            task = mapping(heading.no, id=f"level-{number}", name=name or heading.title)
            if chunks:
                task["verify"] = verify_list(chunks, chunks[0].line)
            else:
                task["kind"] = "manual"  # all of it needs the service it starts: a person's
            if by_hand:
                task["must_haves"] = mapping(by_hand[0][0], truths=items(by_hand, by_hand[0][0]))
            if previous:
                task["depends_on"] = [previous]
            if not _optional(body, heading):
                # An optional level ("only if Task 2 is done") never holds up the next one.
                previous = str(task["id"])
            tasks.append(task)
            tasks.item_lines.append(heading.no)
        gates = read_items(body, first, "check-", kind="manual").tasks
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


def _optional(body: markdown.Body, heading: markdown.Heading) -> bool:
    """A level its heading or first prose line marks optional."""
    lines = [heading.title] + [
        ln.text for ln in markdown.section(body, heading)[:3] if ln.no not in body.fenced
    ]
    return any(_OPTIONAL.search(text) for text in lines)


def _tasks(
    body: markdown.Body, where: tuple[Document, Diagnostics], for_a_person: set[int]
) -> list[LineDict]:
    """``### Task N: title`` sections with ``**Depends on**`` and ``**Validation**`` lines."""
    out: list[LineDict] = []
    for heading in body.headings:
        match = _TASK.match(markdown.strip_markup(heading.title))
        if heading.level < 2 or not match:
            continue
        number, title = match.group(1), match.group(2).strip()
        task = mapping(heading.no, id=f"task-{number}", name=title or f"Task {number}")
        checks: list[prose.Check | Chunk] = []
        manual: list[tuple[int, str]] = []  # a Validation line in prose: a person's check
        for line in markdown.section(body, heading):
            if line.no in body.fenced:
                continue
            field = _FIELD.match(markdown.bullet(line.text) or line.text.strip())
            if not field:
                continue
            key, value = field.group(1).strip().lower(), field.group(2).strip()
            if key.startswith("depend"):
                deps = (
                    id_list(value, "task-")
                    if not re.search(r"\d+\.\d", value)
                    else [f"task-{n}" for n in re.findall(r"\d+(?:\.\d+)+", value)]
                )
                if deps:
                    task["depends_on"] = items(((line.no, d) for d in deps), line.no)
            elif key.startswith(("validation", "verify", "verification", "test")):
                checks.extend(field_checks(key, value, line.no, where, manual))
        checks.extend(_commands(body, heading, where, manual, for_a_person))
        if checks:
            task["verify"] = verify_list(checks, checks[0].line)
        if manual:
            task["must_haves"] = mapping(manual[0][0], truths=items(manual, manual[0][0]))
        out.append(task)
    return out


def _commands(
    body: markdown.Body,
    heading: markdown.Heading,
    where: tuple[Document, Diagnostics],
    by_hand: list[tuple[int, str]],
    for_a_person: set[int],
) -> list[Chunk]:
    """The commands of the shell fences under ``heading``; those that need a service the
    block starts in the foreground, and the blocks of a section for a person (``for_a_person``:
    their opening lines, see manualsteps), go to ``by_hand`` (line, command) instead."""
    doc, diags = where
    lines = markdown.section(body, heading)
    if not lines:
        return []
    start, end = lines[0].no, lines[-1].no
    chunks: list[Chunk] = []
    for block in body.blocks:
        if not start <= block.no <= end:
            continue
        text = prose.fence_script(block) or block.text
        if not block.lang:
            # A fence that does not say it is shell runs only if every line is a command.
            code = [
                ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
            ]
            if not code or not all(prose.is_command(ln) for ln in code):
                if code:
                    diags.add(
                        "prose-verify",
                        doc.display,
                        block.no,
                        "a fenced block without a language holds prose or output, not only "
                        "commands: it is a manual check, not run",
                        hint="mark a block of commands ```bash",
                    )
                continue
        elif block.lang not in prose.SHELL_FENCES:
            continue
        found = split_script(text, block.first)
        if block.no in for_a_person:
            by_hand.extend((c.line, c.text) for c in found)
            continue
        server = service_start(text, _said_before(body, lines, block))
        if server is None:
            chunks.extend(found)
            continue
        row, command, _ = server
        at = block.first + row
        # Chunks end where the next starts, or at the block's end: the first that reaches
        # the server's line holds it (a `cd` before it keeps the two together).
        ends = [c.line for c in found[1:]] + [block.first + len(text.splitlines())]
        held = [c for c, end in zip(found, ends, strict=True) if end > at]
        chunks.extend(c for c in found if c not in held)
        by_hand.extend((c.line, c.text) for c in held)
        rest = [ln for ln in text.splitlines()[row + 1 :] if ln.strip()[:1] not in ("", "#")]
        what = (
            "it and the commands after it in the block, which need it running, are manual checks"
            if rest
            else "it is a manual check"
        )
        diags.add(
            "verify-long-running",
            doc.display,
            at,
            f'"{command}" starts a service that does not exit: {what}, not run',
            hint="to check it, start it in the background in the block and stop it after "
            "(`python app.py & sleep 2`, `curl -f ...`, `kill %1`)",
        )
    return chunks


def _said_before(body: markdown.Body, lines: list[markdown.Line], block: markdown.Block) -> str:
    """The prose line right above a fence ("Start the service:"), else ""."""
    before = [ln for ln in lines if ln.no < block.no and ln.text.strip()]
    if not before or before[-1].no in body.fenced:
        return ""
    return markdown.strip_markup(markdown.bullet(before[-1].text) or before[-1].text)
