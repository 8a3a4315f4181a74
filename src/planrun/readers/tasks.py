"""Task-breakdown markdown: ``### Task N: Title`` sections with ``- **Field**: value`` bullets,
and a ``## Milestones`` list such as ``- **Milestone 1**: name (Tasks 1-2)``."""

from __future__ import annotations

import re
from typing import ClassVar

from planrun import lazyre, markdown, prose
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.model import Plan
from planrun.readers.canonical import validate_plan
from planrun.readers.common import (
    claimed_from,
    field_checks,
    id_list,
    items,
    mapping,
    parse_body,
    start_plan,
    verify_list,
)

_NUMBERED = r"\s+(\d+(?:\.\d+)*)\s*[:.\-\u2013\u2014]?\s*(.*)$"
_TASK = lazyre.compile(r"^Task" + _NUMBERED, re.I)
_STEP = lazyre.compile(r"^Step" + _NUMBERED, re.I)
# "## Phase 1: Setup" or "## Milestone 2" over a numbered list of steps, in a document with
# neither Task headings nor checkboxes (a spec-kit tasks.md has Phase headings over items).
_PHASE = lazyre.compile(r"^(?:Phase|Milestone)" + _NUMBERED, re.I)
_STEP_LINE = lazyre.compile(r"^\s*\d+[.)]\s+\S")
_FIELD = lazyre.compile(r"^\*\*([^*]+?):?\*\*:?\s*(.*)$|^([A-Z][\w /-]{1,30}):\s+(.*)$")
_MILESTONE = lazyre.compile(r"^\*\*(Milestone\s+(\d+)|[^*]+)\*\*:?\s*(.*)$", re.I)
_VERIFY_FIELDS = lazyre.compile(
    r"^(verify|verification|test|tests|validation|check)(\s*/\s*\w+)*(\s+command)?s?$", re.I
)
_IGNORED_FIELDS = {"description", "parallelizable", "parallel", "notes", "files", "pr"}


class TasksReader:
    name: ClassVar[str] = "tasks"

    def detect(self, doc: Document) -> bool:
        return bool(_task_headings(parse_body(doc)))

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        body, data, first = start_plan(doc, diags)
        tasks = items([], first)
        found = _task_headings(body)
        for heading, prefix, number, title in found:
            task = _task(
                body, heading, prefix=prefix, number=number, title=title, doc=doc, diags=diags
            )
            tasks.append(task)
            tasks.item_lines.append(heading.no)
        data["tasks"] = tasks
        milestones = _milestones(body, doc, diags)
        if milestones:
            data["milestones"] = milestones
        return validate_plan(doc, data, self.name, diags)


def _task_headings(body: markdown.Body) -> list[tuple[markdown.Heading, str, str, str]]:
    """(heading, id prefix, number, title) of each task heading: ``Task N`` headings; else
    ``Step N`` headings (steps inside tasks are not tasks of their own); else ``Phase N`` /
    ``Milestone N`` headings over numbered steps, when the document has no checkboxes."""
    titled = [(h, markdown.strip_markup(h.title)) for h in body.headings]
    for pattern, prefix in ((_TASK, "task-"), (_STEP, "step-")):
        found = [(h, prefix, m.group(1), m.group(2)) for h, t in titled if (m := pattern.match(t))]
        if found:
            return found
    if any(markdown.box(ln.text) for ln in body.lines if ln.no not in body.fenced):
        return []
    out = []
    for heading, title in titled:
        match = _PHASE.match(title)
        if not match or heading.level < 2:
            continue
        lines = markdown.section(body, heading)
        if any(_STEP_LINE.match(ln.text) for ln in lines if ln.no not in body.fenced):
            kind = "milestone-" if title.lower().startswith("milestone") else "phase-"
            out.append((heading, kind, match.group(1), match.group(2)))
    return out


def _task(
    body: markdown.Body,
    heading: markdown.Heading,
    *,
    prefix: str,
    number: str,
    title: str,
    doc: Document,
    diags: Diagnostics,
) -> dict[str, object]:
    number = number if "." in number else str(int(number))
    label = prefix.rstrip("-").capitalize()
    task = mapping(heading.no, id=f"{prefix}{number}", name=title.strip() or f"{label} {number}")
    commands: list[prose.Check] = []
    manual: list[tuple[int, str]] = []
    for line in markdown.section(body, heading):
        if line.no in body.fenced:
            continue
        text = markdown.bullet(line.text)
        if text is None:
            continue
        field = _FIELD.match(text)
        if not field:
            continue
        key = (field.group(1) or field.group(3) or "").strip().lower()
        value = (field.group(2) if field.group(1) else field.group(4) or "").strip()
        if key in ("dependencies", "depends on", "depends_on", "dependency", "blocked by"):
            dotted = re.findall(r"\d+(?:\.\d+)+", value)
            deps = [f"{prefix}{d}" for d in dotted] if dotted else id_list(value, prefix)
            if deps:
                task["depends_on"] = items(((line.no, d) for d in deps), line.no)
            elif not re.fullmatch(r"\s*(?:none|n/?a|-|\u2014|no)?\s*\.?\s*", value, re.I):
                diags.add(
                    "ignored-content",
                    doc.display,
                    line.no,
                    f"dependencies {value!r} name no task number; read as none",
                )
        elif key == "status":
            claimed = claimed_from(value)
            if claimed is None:
                diags.add(
                    "unknown-status",
                    doc.display,
                    line.no,
                    f"status {value!r} is not one planrun knows; read as todo",
                    hint="use Done/Completed, In progress, Blocked or TODO",
                )
            else:
                task["claimed"] = claimed
        elif key in {"owner", "assignee"}:
            task["owner"] = markdown.strip_markup(value)
        elif key in ("effort", "estimate"):
            task["effort"] = value
        elif _VERIFY_FIELDS.match(key):
            # An explicit verify field: a command in it is the task's check, the rest is prose.
            commands.extend(field_checks(key, value, line.no, (doc, diags), manual))
        elif key not in _IGNORED_FIELDS:
            diags.add(
                "ignored-content",
                doc.display,
                line.no,
                f'field "{key}" is not one planrun reads; ignored',
            )
    if commands:
        task["verify"] = verify_list(commands, commands[0].line)
    if manual:
        # What the verify field says in prose is a check for a person: a manual truth.
        task["must_haves"] = mapping(manual[0][0], truths=items(manual, manual[0][0]))
    return task


def _milestones(body: markdown.Body, doc: Document, diags: Diagnostics) -> list[object]:
    out: list[object] = []
    for heading in body.headings:
        if not re.fullmatch(r"milestones?", markdown.strip_markup(heading.title), re.I):
            continue
        for line in markdown.section(body, heading):
            text = markdown.bullet(line.text)
            if text is None:
                continue
            match = _MILESTONE.match(text)
            if not match:
                diags.add(
                    "ignored-content",
                    doc.display,
                    line.no,
                    "milestone line not in the form **Milestone N**: name (Tasks 1-2); ignored",
                )
                continue
            label, number, rest = match.group(1), match.group(2), match.group(3)
            tasks_ref = re.search(r"\((Tasks?\s[^)]*)\)", rest, re.I)
            name = re.split(r"\s*\(Tasks?\s", rest, maxsplit=1, flags=re.I)[0]
            name = re.sub(r"\s+[-\u2013\u2014]\s+.*$", "", name).strip() or label
            mid = f"milestone-{number}" if number else re.sub(r"\W+", "-", label.lower()).strip("-")
            refs = id_list(tasks_ref.group(1), "task-") if tasks_ref else []
            out.append(mapping(line.no, id=mid, name=name, tasks=refs))
    return out
