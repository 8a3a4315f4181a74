"""GSD-2 slice and task plans (``S01-PLAN.md``, ``T01-PLAN.md`` under ``.gsd/milestones/``).

A slice plan lists its tasks under ``## Tasks`` as ``- [x] **T01: Title** `est:30m```
items whose sub-bullets say ``Files:`` and ``Verify: `cmd` succeeds; `cmd` ...``; its
``## Must-Haves`` are truths and its ``## Verification`` bullets the slice's own checks. A
task plan (``T01-PLAN.md``) is one task whose checks are its ``## Verification`` section.
Commands and expectations are read by ``gsd_verify`` like GSD's elements; like GSD, the
tasks of one plan are done in order by one agent and never conflict over files.
"""

from __future__ import annotations

import re
from typing import ClassVar

from planrun import lazyre, markdown
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict, LineList
from planrun.model import Plan
from planrun.readers import gsd_verify
from planrun.readers.canonical import validate_plan
from planrun.readers.common import items, mapping, start_plan

_FILE = lazyre.compile(r"^([ST])(\d+)-PLAN\.md$", re.I)
_TASK = lazyre.compile(r"^\s*[-*]\s+\[([ xX])\]\s+\*\*(T\d+)\s*[:.]\s*(.+?)\*\*")
_FIELD = lazyre.compile(r"^\s+[-*]\s+(Files|Verify|Verification)\s*:\s*(.*)$", re.I)
_SECTION = lazyre.compile(r"^(must[- ]haves|verification|tasks)$", re.I)


class Gsd2Reader:
    name: ClassVar[str] = "gsd2"

    def detect(self, doc: Document) -> bool:
        if _FILE.match(doc.path.name):
            return True
        body = doc.body if doc.frontmatter.present else doc.text
        return bool(re.search(r"^##\s+Tasks\s*$", body, re.M)) and any(
            _TASK.match(line) for line in body.splitlines()
        )

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        body, data, first = start_plan(doc, diags)
        data["id"] = _plan_id(doc)
        sections = {
            h.title.strip().lower().replace(" ", "-"): h
            for h in body.headings
            if _SECTION.match(h.title.strip())
        }
        tasks = LineList(line=first)
        if "tasks" in sections:
            tasks = _tasks(markdown.section(body, sections["tasks"]), doc, diags)
        single = _FILE.match(doc.path.name)
        if "verification" in sections:
            lines = markdown.section(body, sections["verification"])
            reading = gsd_verify.read_commands("\n".join(ln.text for ln in lines), _first(lines))
            verify = LineList(line=_first(lines))
            must: dict[str, LineList] = {}
            gsd_verify.add_reading(reading, verify, must, doc, diags)
            if single and single.group(1).upper() == "T" and not tasks:
                task = mapping(first, id=single.group(1).upper() + single.group(2))
                task["name"] = data.get("title", task["id"])
                if verify:
                    task["verify"] = verify
                if must:
                    task["must_haves"] = mapping(first, **must)
                tasks = items([(first, task)], first)
            else:
                if verify:
                    data["verify"] = verify
                if must:
                    data["must_haves"] = mapping(first, **must)
        if "must-haves" in sections:
            truths = [
                (ln.no, markdown.bullet(ln.text) or "")
                for ln in markdown.section(body, sections["must-haves"])
                if markdown.bullet(ln.text)
            ]
            if truths:
                holder = data.setdefault("must_haves", mapping(first))
                holder.setdefault("truths", LineList(line=truths[0][0])).extend(
                    t for _, t in truths
                )
                holder["truths"].item_lines.extend(n for n, _ in truths)
        data["tasks"] = tasks
        plan = validate_plan(doc, data, self.name, diags)
        if plan is not None:
            plan.mark(one_agent=True)
        return plan


def _first(lines: list[markdown.Line]) -> int:
    return lines[0].no if lines else 1


def _plan_id(doc: Document) -> str:
    """``M001-S01`` (``-T01``) from the ``.gsd/milestones/M001/slices/S01/`` path."""
    parts = [p for p in doc.path.parts if re.fullmatch(r"[MST]\d+", p)]
    own = _FILE.match(doc.path.name)
    if own:
        parts.append(own.group(1).upper() + own.group(2))
    return "-".join(dict.fromkeys(parts)) or doc.path.stem


def _tasks(lines: list[markdown.Line], doc: Document, diags: Diagnostics) -> LineList:
    tasks = LineList(line=_first(lines))
    current: LineDict | None = None
    for line in lines:
        match = _TASK.match(line.text)
        if match:
            current = mapping(line.no, id=match.group(2), name=match.group(3).strip())
            current["claimed"] = "done" if match.group(1) in "xX" else "todo"
            tasks.append(current)
            tasks.item_lines.append(line.no)
            continue
        field = _FIELD.match(line.text)
        if current is None or field is None:
            continue
        if field.group(1).lower() == "files":
            files = markdown.backticked(field.group(2))
            if files:
                current["files"] = items(((line.no, f) for f in files), line.no)
            continue
        reading = gsd_verify.read_commands(_one_per_line(field.group(2)), line.no)
        reading.manual = [(line.no, text, why) for _, text, why in reading.manual]
        reading.checks = [_at(c, line.no) for c in reading.checks]
        verify = LineList(line=line.no)
        must: dict[str, LineList] = {}
        gsd_verify.add_reading(reading, verify, must, doc, diags)
        if verify:
            current["verify"] = verify
        if must:
            current["must_haves"] = mapping(line.no, **must)
    return tasks


def _one_per_line(text: str) -> str:
    """``Verify: `a` succeeds; `b` + `c`": each part on its own line, as GSD means them."""
    parts = re.split(r";\s+|\s+\+\s+(?=`)", text)
    return "\n".join(p.strip() for p in parts if p.strip())


def _at(check: gsd_verify.Check, line: int) -> gsd_verify.Check:
    check.line = line
    return check
