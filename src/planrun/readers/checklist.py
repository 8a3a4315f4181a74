"""Checklists: ``- [ ]`` / ``- [x]`` items are tasks (claimed status from the box), including
spec-kit tasks.md lines ``- [ ] T001 [P] [US1] description (depends on T012, T013)``.

Without explicit dependencies, items run in document order: headings are phases that run one
after another, an item waits for the one before it, and consecutive ``[P]`` items share a wave.
Commands in backticks under headings such as "Test / Validation", "PR Gates" or "Validation"
become the plan's own checks; other statements there, and under "Success Criteria", are
manual truths.
"""

from __future__ import annotations

import re
from typing import ClassVar

from planrun import markdown, prose
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.model import Plan
from planrun.readers.canonical import validate_plan
from planrun.readers.common import items, mapping, parse_body, start_plan, verify_list
from planrun.yamlio import LineDict, LineList

_SPECKIT_ID = re.compile(r"^(T\d{2,})\b[:.]?\s*")
_MARKER = re.compile(r"^\[([A-Za-z]{1,4}\d*)\]\s*")
_DEPENDS = re.compile(
    r"\(\s*(?:depends on|depends|after|requires|blocked by)\s*:?\s*([^)]*)\)", re.I
)
_PATH = re.compile(r"(?<![\w/])((?:[\w.-]+/)+[\w.-]+\.\w+)")


class ChecklistReader:
    name: ClassVar[str] = "checklist"

    def detect(self, doc: Document) -> bool:
        body = parse_body(doc)
        if any(markdown.checkbox(ln.text) for ln in body.lines if ln.no not in body.fenced):
            return True
        return bool(_gate_commands(body))

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        body, data, first = start_plan(doc, diags)
        data["tasks"] = read_items(body, first, "item-")
        commands = _gate_commands(body)
        _note_unsure(body, doc, diags)
        if commands:
            data["verify"] = verify_list(commands, commands[0].line)
        truths = _truths(body)
        if truths:
            data["must_haves"] = mapping(truths[0][0], truths=items(truths, truths[0][0]))
        return validate_plan(doc, data, self.name, diags)


def read_items(
    body: markdown.Body, first: int, prefix: str, *, kind: str | None = None
) -> LineList:
    """Every checkbox item as a task, with explicit or document-order dependencies."""
    tasks = items([], first)
    barrier: list[str] = []  # what the next item waits for
    group: list[str] = []  # [P] items since the barrier
    phase: markdown.Heading | None = None
    passed = 0  # headings above the current line
    count = 0
    for line in body.lines:
        if line.no in body.fenced:
            continue
        box = markdown.checkbox(line.text)
        if box is None:
            continue
        _, checked, text = box
        count += 1
        while passed < len(body.headings) and body.headings[passed].no < line.no:
            passed += 1  # items and headings are both in document order
        here = body.headings[passed - 1] if passed else None
        if here is not phase:
            phase = here
            if group:
                barrier, group = group, []
        task_id, parallel, name, explicit = _parse_item(text, f"{prefix}{count}")
        task: LineDict = mapping(line.no, id=task_id, name=name or task_id)
        task["claimed"] = "done" if checked else "todo"
        if kind:
            task["kind"] = kind
        files = list(dict.fromkeys(_PATH.findall(text)))
        if files:
            task["files"] = files
        if explicit is not None:
            deps = explicit
        elif kind == "manual":
            deps = []  # a person's checks have no order to keep
        elif parallel:
            deps = list(barrier)
            group.append(task_id)
        else:
            deps = list(group or barrier)
            barrier, group = [task_id], []
        if deps:
            task["depends_on"] = items(((line.no, d) for d in deps), line.no)
        if explicit is not None and not parallel:
            barrier, group = [task_id], []
        tasks.append(task)
        tasks.item_lines.append(line.no)
    return tasks


def _parse_item(text: str, default_id: str) -> tuple[str, bool, str, list[str] | None]:
    rest = markdown.strip_markup(text) if not text.startswith("`") else text
    task_id = default_id
    match = _SPECKIT_ID.match(rest)
    if match:
        task_id = match.group(1)
        rest = rest[match.end() :]
    parallel = False
    while marker := _MARKER.match(rest):
        parallel = parallel or marker.group(1).upper() == "P"
        rest = rest[marker.end() :]
    explicit = None
    dep = _DEPENDS.search(rest)
    if dep:
        explicit = re.findall(r"\bT\d{2,}\b", dep.group(1))
        rest = (rest[: dep.start()] + rest[dep.end() :]).strip()
    return task_id, parallel, " ".join(rest.split()), explicit


def _gate_sections(body: markdown.Body) -> list[markdown.Heading]:
    return [h for h in body.headings if prose.gate_heading(h)]


def _gate_lines(body: markdown.Body) -> list[tuple[markdown.Line, prose.Extracted]]:
    """Each line of a gate section (outside fences and checkboxes) with what it holds."""
    out = []
    seen: set[int] = set()
    for heading in _gate_sections(body):
        for line in markdown.section(body, heading):
            if line.no in seen or line.no in body.fenced or markdown.checkbox(line.text):
                continue
            seen.add(line.no)
            out.append((line, prose.extract(line.text, line.no)))
    return out


def _gate_commands(body: markdown.Body) -> list[prose.Check]:
    found: dict[str, prose.Check] = {}
    for _, extracted in _gate_lines(body):
        for check in extracted.commands:
            found.setdefault(check.text, check)
    return list(found.values())


def _note_unsure(body: markdown.Body, doc: Document, diags: Diagnostics) -> None:
    for line, extracted in _gate_lines(body):
        for text in extracted.unsure:
            diags.add(
                "prose-verify",
                doc.display,
                line.no,
                f"{text[:60]!r} reads as prose, not a command: it is a manual check, not run",
                hint="put only the command in backticks: `pytest -q`",
            )


def _truths(body: markdown.Body) -> list[tuple[int, str]]:
    """Statements under gate and success-criteria headings that no command checks."""
    out: list[tuple[int, str]] = []
    for line, extracted in _gate_lines(body):
        if extracted.statement and markdown.bullet(line.text):
            out.append((line.no, extracted.statement))
    for heading in body.headings:
        if not prose.criteria_heading(heading):
            continue
        for line in markdown.section(body, heading):
            if line.no in body.fenced or markdown.checkbox(line.text):
                continue
            text = markdown.bullet(line.text)
            if text:
                out.append((line.no, markdown.strip_markup(text)))
    return out
