"""GSD PLAN.md: frontmatter (phase, plan, wave, depends_on, must_haves, ...) and XML-ish
``<task type="...">`` blocks with ``<name>``, ``<files>``, ``<action>``, ``<verify>``, ``<done>``.

Plan id is ``PHASE-PLAN`` (``26-04``, the phase zero-padded as GSD pads it); the reader
declares the other names GSD uses for a plan in ``depends_on`` (``26-04-PLAN``, the file stem)
as aliases, and normalizes each entry (``"01"`` is plan 01 of the same phase, a path is its
file). Tasks of one GSD plan are done in order by one agent: they are checked independently
and never conflict over files. ``checkpoint:*`` tasks are manual. Element content is read by
``gsd_verify`` (entities, fenced scripts, commands in prose, expectations, acceptance
criteria). A ``NN-MM-SUMMARY.md`` beside the plan is GSD's claim that it is done. A plan
named on its own loads its sibling plans as context. Every frontmatter key is kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from planrun import lazyre, markdown
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict, LineList
from planrun.model import Plan
from planrun.readers import gsd_ids, gsd_verify
from planrun.readers.canonical import validate_plan
from planrun.readers.common import items, mapping, note_chatter, parse_body
from planrun.readers.gsd_sections import section_tasks

REQUIRED = (
    "phase",
    "plan",
    "type",
    "wave",
    "depends_on",
    "files_modified",
    "autonomous",
    "must_haves",
)
# GSD files beside the plans that are not plans.
AUXILIARY = lazyre.compile(
    r"(?:-(?:SUMMARY|VERIFICATION|RESEARCH|CONTEXT|UAT|VALIDATION|OUTLINE|PLAN-REVIEW)\.md"
    r"|\.pre-bounce\.md)$",
    re.I,
)
_TAG = lazyre.compile(
    r"<(/?)([a-zA-Z_][\w:-]*)((?:\s+[\w:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|\S+))?)*)\s*(/?)>"
)
_ATTR = lazyre.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|(\S+))")
_TASK_CHILDREN = {"name", "files", "action", "verify", "done", "acceptance_criteria"}
_PLAN_CHECK_SECTIONS = lazyre.compile(r"^\s*(verification|success[ _]criteria)\s*$", re.I)
_MUST_HAVE_KEYS = {
    "artifacts": {"path", "provides", "min_lines", "contains", "exports"},
    "key_links": {"from", "to", "via", "pattern"},
}


class GsdReader:
    name: ClassVar[str] = "gsd"

    def detect(self, doc: Document) -> bool:
        if AUXILIARY.search(doc.path.name):
            return False
        data = doc.frontmatter.data
        if isinstance(data, dict) and "phase" in data and "plan" in data:
            return True
        if gsd_ids.PLAN_FILE.match(doc.path.name) and isinstance(data, dict) and "phase" in data:
            return True
        return bool(re.search(r"<task[\s>]", doc.body if doc.frontmatter.present else doc.text))

    def skips(self, path: Path) -> str | None:
        """GSD's reports beside the plans (SUMMARY, VERIFICATION, OUTLINE, ...)."""
        return "a report, not a plan" if AUXILIARY.search(path.name) else None

    def context_paths(self, doc: Document) -> list[Path]:
        """The other plans of the phase folder: a plan named on its own is checked with them
        as context, so its depends_on resolves."""
        folder = doc.path.parent
        return [
            p
            for p in sorted(folder.glob("*-PLAN.md"))
            if p.name != doc.path.name and not AUXILIARY.search(p.name)
        ]

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        front = doc.frontmatter.data if isinstance(doc.frontmatter.data, LineDict) else None
        front = front if front is not None else LineDict(line=1)
        if str(front.get("status", "")).strip().lower() == "superseded":
            diags.add(
                "superseded-plan",
                doc.display,
                front.key_lines.get("status", front.line or 1),
                "status: superseded: this plan was replaced and is left out of the waves",
            )
            return None
        body = parse_body(doc)
        note_chatter(body, doc, diags)
        text = "\n".join(line.text for line in body.lines)
        first = body.lines[0].no if body.lines else doc.body_line
        for key in REQUIRED:
            if key not in front:
                diags.add(
                    "gsd-missing-key",
                    doc.display,
                    front.line or 1,
                    f'GSD frontmatter has no "{key}"',
                    hint="GSD plans declare " + ", ".join(REQUIRED),
                )
        data = mapping(front.line or 1)
        data["planrun"] = 1
        plan_id = gsd_ids.plan_id(front, doc)
        if plan_id:
            data["id"] = plan_id
        phase = plan_id.rpartition("-")[0] if plan_id else None
        title = next((h.title for h in body.headings if h.level == 1), None)
        if title:
            data["title"] = title
        if isinstance(front.get("wave"), int | str) and str(front["wave"]).isdigit():
            data["wave"] = int(front["wave"])
        deps = front.get("depends_on")
        if deps is not None:
            data["depends_on"] = [
                gsd_ids.dep(d, phase)
                for d in (deps if isinstance(deps, list) else [deps])
                if d != ""
            ]
        if isinstance(front.get("must_haves"), dict):
            data["must_haves"] = _must_haves(front["must_haves"], doc, diags)
        data["metadata"] = {
            k: v for k, v in front.items() if k not in ("wave", "depends_on", "must_haves")
        }
        tasks = _tasks(text, first, doc, diags)
        if not tasks:
            tasks = section_tasks(body, doc, diags)
        claim = gsd_ids.claim(doc)
        if claim is not None:
            for task in tasks:
                if isinstance(task, LineDict) and task.get("kind") != "manual":
                    task["claimed"] = claim
        data["tasks"] = tasks
        checks = _plan_checks(text, first, body, doc, diags)
        if checks:
            data["verify"] = checks
        data.key_lines.update(
            {k: front.key_lines[k] for k in ("wave", "depends_on") if k in front.key_lines}
        )
        plan = validate_plan(doc, data, self.name, diags)
        if plan is not None:
            plan.mark(one_agent=True)
            plan.set_id_hint(f"give {plan.source} other phase: and plan: numbers")
            modified = front.get("files_modified")
            if isinstance(modified, list):
                plan.declare_files([str(f) for f in modified if isinstance(f, str)])
            plan.add_aliases(gsd_ids.aliases(plan.id, doc, front))
            plan.allow_outside(
                [d for d in plan.depends_on if gsd_ids.phase_of(d) not in (None, phase)]
            )
        return plan


def _must_haves(raw: dict[str, Any], doc: Document, diags: Diagnostics) -> LineDict:
    out = LineDict(line=getattr(raw, "line", 0))
    out.key_lines = dict(getattr(raw, "key_lines", {}))
    for key, value in raw.items():
        if key == "truths":
            out[key] = value
        elif key in _MUST_HAVE_KEYS and isinstance(value, list):
            allowed = _MUST_HAVE_KEYS[key]
            kept = LineList(line=getattr(value, "line", 0))
            kept.item_lines = list(getattr(value, "item_lines", []))
            for entry in value:
                if isinstance(entry, dict):
                    extra = [k for k in entry if k not in allowed]
                    for k in extra:
                        line = getattr(entry, "key_lines", {}).get(k, getattr(entry, "line", 0))
                        diags.add(
                            "ignored-content",
                            doc.display,
                            line,
                            f'must_haves.{key}: key "{k}" is not checked by planrun; ignored',
                        )
                    clean = LineDict(
                        {k: v for k, v in entry.items() if k in allowed},
                        line=getattr(entry, "line", 0),
                    )
                    clean.key_lines = dict(getattr(entry, "key_lines", {}))
                    entry = clean  # noqa: PLW2901
                kept.append(entry)
            out[key] = kept
        else:
            diags.add(
                "ignored-content",
                doc.display,
                out.key_lines.get(key, out.line),
                f'must_haves key "{key}" is not one planrun checks; ignored',
            )
    return out


def _line_at(text: str, first: int, pos: int) -> int:
    return first + text.count("\n", 0, pos)


def _tasks(text: str, first: int, doc: Document, diags: Diagnostics) -> LineList:
    tasks = LineList(line=first)
    open_at: tuple[int, int, dict[str, str]] | None = None  # (tag start, content start, attrs)
    for match in _TAG.finditer(text):
        closing, tag = match.group(1) == "/", match.group(2).lower()
        if tag != "task":
            continue
        line = _line_at(text, first, match.start())
        if not closing:
            if open_at is not None:
                diags.add(
                    "malformed-task",
                    doc.display,
                    line,
                    "<task> opens inside another <task> (started on line "
                    f"{_line_at(text, first, open_at[0])}); close the first with </task>",
                )
                continue
            open_at = (match.start(), match.end(), _attrs(match.group(3)))
            continue
        if open_at is None:
            diags.add("malformed-task", doc.display, line, "</task> without an opening <task>")
            continue
        start, content_start, attrs = open_at
        open_at = None
        number = len(tasks) + 1
        task = _task(
            block=text[content_start : match.start()],
            line=_line_at(text, first, start),
            content_line=_line_at(text, first, content_start),
            attrs=attrs,
            number=number,
            doc=doc,
            diags=diags,
        )
        tasks.append(task)
        tasks.item_lines.append(task.line)
    if open_at is not None:
        diags.add(
            "malformed-task",
            doc.display,
            _line_at(text, first, open_at[0]),
            "<task> is never closed with </task>; its content was not read",
        )
    return tasks


def _attrs(text: str) -> dict[str, str]:
    return {
        m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in _ATTR.finditer(text)
    }


def _children(block: str) -> list[tuple[str, int, int, str]]:
    """(tag, content start, content end, attributes) for each top-level child element."""
    out: list[tuple[str, int, int, str]] = []
    pos = 0
    while True:
        match = _TAG.search(block, pos)
        if match is None:
            return out
        if match.group(1) or match.group(4):
            pos = match.end()
            continue
        tag = match.group(2)
        close = re.compile(rf"</{re.escape(tag)}\s*>", re.I).search(block, match.end())
        if close is None:
            pos = match.end()
            continue
        out.append((tag.lower(), match.end(), close.start(), match.group(3)))
        pos = close.end()


def _task(
    *,
    block: str,
    line: int,
    content_line: int,
    attrs: dict[str, str],
    number: int,
    doc: Document,
    diags: Diagnostics,
) -> LineDict:
    kind = attrs.get("type", "auto")
    task = mapping(line, id=f"task-{number}")
    if kind.startswith("checkpoint"):
        task["kind"] = "manual"
    elif kind not in ("auto", "tdd"):
        diags.add(
            "ignored-content",
            doc.display,
            line,
            f'task type "{kind}" is not one planrun knows; read as type="auto"',
        )
    verify = LineList(line=line)
    must: dict[str, LineList] = {}
    for tag, start, end, _ in _children(block):
        content = block[start:end]
        at = content_line + block.count("\n", 0, start)
        if tag == "name":
            task["name"] = " ".join(gsd_verify.decode(content).split())
        elif tag == "files":
            files = [f.strip() for f in re.split(r"[,\n]", gsd_verify.decode(content)) if f.strip()]
            task["files"] = items(((at, f) for f in files), at)
        elif tag == "verify":
            gsd_verify.add_reading(_verify(content, at, doc, diags), verify, must, doc, diags)
        elif tag == "acceptance_criteria":
            reading = gsd_verify.read_acceptance(content, at)
            gsd_verify.add_reading(reading, verify, must, doc, diags, derived=True)
        elif tag not in _TASK_CHILDREN:
            diags.add(
                "unread-element",
                doc.display,
                at,
                f"<{tag}> in a task is not something planrun checks; kept as text only",
            )
    if verify:
        task["verify"] = verify
        task.key_lines["verify"] = verify.item_lines[0]
    if must:
        task["must_haves"] = mapping(line, **must)
    return task


def _verify(content: str, line: int, doc: Document, diags: Diagnostics) -> gsd_verify.Reading:
    children = _children(content)
    if not children:
        return gsd_verify.read_commands(content, line)
    out = gsd_verify.Reading()
    for tag, start, end, _ in children:
        at = line + content.count("\n", 0, start)
        if tag == "automated":
            found = gsd_verify.read_commands(content[start:end], at)
            close = re.compile(r"</automated\s*>", re.I).match(content, end)
            if close is not None:
                # "<automated>grep -c X f</automated> equals 0": words after it on its line
                tail = content[close.end() :].split("\n", 1)[0].split("<", 1)[0]
                gsd_verify.words_after(found, tail, line + content.count("\n", 0, end))
            out.checks += found.checks
            out.manual += found.manual
            out.truths += found.truths
        else:
            diags.add(
                "unknown-element",
                doc.display,
                at,
                f"<{tag}> inside <verify> is not a check planrun can run; ignored "
                "(use <automated> for commands)",
            )
    return out


def _plan_checks(
    text: str, first: int, body: markdown.Body, doc: Document, diags: Diagnostics
) -> LineList:
    """Runnable commands in <verification>/<success_criteria> or such headings; their prose
    is for people (success criteria are mostly statements), so it is not reported."""
    verify = LineList(line=first)
    seen: set[str] = set()
    readings = []
    for match in re.finditer(
        r"<(verification|success_criteria)>(.*?)</\1\s*>", text, re.DOTALL | re.I
    ):
        at = _line_at(text, first, match.start(2))
        readings.append(gsd_verify.read_commands(match.group(2), at))
    for heading in body.headings:
        if _PLAN_CHECK_SECTIONS.match(heading.title):
            lines = markdown.section(body, heading)
            if lines:
                section = "\n".join(ln.text for ln in lines)
                readings.append(gsd_verify.read_commands(section, lines[0].no))
    for reading in readings:
        reading.checks = [c for c in reading.checks if c.run and c.run not in seen]
        seen.update(c.run for c in reading.checks if c.run)
        reading.manual = [m for m in reading.manual if gsd_verify.worth_a_warning(m[1], m[2])]
        gsd_verify.add_reading(reading, verify, {}, doc, diags)
    return verify
