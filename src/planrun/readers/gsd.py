"""GSD PLAN.md: frontmatter (phase, plan, wave, depends_on, must_haves, ...) and XML-ish
``<task type="...">`` blocks with ``<name>``, ``<files>``, ``<action>``, ``<verify>``, ``<done>``.

Plan id is ``PHASE-PLAN`` (``26-04``). Tasks inside one GSD plan have no implicit order.
``checkpoint:*`` tasks are manual. A ``<verify>`` holds plain lines or ``<automated>``
children; each line is its own check unless lines form one shell construct, and prose lines
are manual. Plan-level ``<verification>``/``<success_criteria>`` (tags or headings) add their
runnable commands to the plan's own checks. Every frontmatter key is kept.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from planrun import markdown, prose
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.model import Plan
from planrun.readers.canonical import validate_plan
from planrun.readers.common import (
    items,
    mapping,
    note_chatter,
    note_held,
    parse_body,
    verify_list,
)
from planrun.shellsplit import Chunk, looks_like_command, split_script
from planrun.yamlio import LineDict, LineList

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
AUXILIARY = re.compile(r"-(SUMMARY|VERIFICATION|RESEARCH|CONTEXT|UAT|VALIDATION)\.md$", re.I)
_TAG = re.compile(
    r"<(/?)([a-zA-Z_][\w:-]*)((?:\s+[\w:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|\S+))?)*)\s*(/?)>"
)
_ATTR = re.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|(\S+))")
_TASK_CHILDREN = {"name", "files", "action", "verify", "done"}
_PLAN_CHECK_SECTIONS = re.compile(r"^\s*(verification|success[ _]criteria)\s*$", re.I)
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
        return bool(re.search(r"<task[\s>]", doc.body if doc.frontmatter.present else doc.text))

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        front = doc.frontmatter.data if isinstance(doc.frontmatter.data, LineDict) else None
        front = front if front is not None else LineDict(line=1)
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
        plan_id = _plan_id(front, doc)
        if plan_id:
            data["id"] = plan_id
        title = next((h.title for h in body.headings if h.level == 1), None)
        if title:
            data["title"] = title
        if isinstance(front.get("wave"), int | str) and str(front["wave"]).isdigit():
            data["wave"] = int(front["wave"])
        deps = front.get("depends_on")
        if deps is not None:
            data["depends_on"] = [_dep(d) for d in (deps if isinstance(deps, list) else [deps])]
        if isinstance(front.get("must_haves"), dict):
            data["must_haves"] = _must_haves(front["must_haves"], doc, diags)
        data["metadata"] = {
            k: v for k, v in front.items() if k not in ("wave", "depends_on", "must_haves")
        }
        data["tasks"] = _tasks(text, first, doc, diags)
        checks = _plan_checks(text, first, body, (doc, diags))
        if checks:
            data["verify"] = verify_list(checks, checks[0].line)
        data.key_lines.update(
            {k: front.key_lines[k] for k in ("wave", "depends_on") if k in front.key_lines}
        )
        return validate_plan(doc, data, self.name, diags)


def _plan_id(front: LineDict, doc: Document) -> str | None:
    phase, number = front.get("phase"), front.get("plan")
    if phase is not None and number is not None:
        phase_no = re.match(r"\d+(?:\.\d+)?", str(phase))
        plan_no = f"{number:02d}" if isinstance(number, int) else str(number)
        if phase_no:
            return f"{phase_no.group(0)}-{plan_no}"
    match = re.match(r"(\d+(?:\.\d+)?-\d+)-PLAN\.md$", doc.path.name, re.I)
    return match.group(1) if match else None


def _dep(value: Any) -> str:
    # YAML reads [01] as the integer 1; GSD means plan "01" of the same phase.
    return f"{value:02d}" if isinstance(value, int) else str(value)


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
    for tag, start, end, _ in _children(block):
        content = block[start:end]
        at = content_line + block.count("\n", 0, start)
        if tag == "name":
            task["name"] = " ".join(content.split())
        elif tag == "files":
            files = [f.strip() for f in re.split(r"[,\n]", content) if f.strip()]
            task["files"] = items(((at, f) for f in files), at)
        elif tag == "verify":
            chunks = _verify(content, at, doc, diags)
            if chunks:
                task["verify"] = verify_list(chunks, at)
                task.key_lines["verify"] = at
        elif tag not in _TASK_CHILDREN:
            diags.add(
                "unread-element",
                doc.display,
                at,
                f"<{tag}> in a task is not something planrun checks; kept as text only",
            )
    return task


def _verify(content: str, line: int, doc: Document, diags: Diagnostics) -> list[Chunk]:
    children = _children(content)
    chunks: list[Chunk] = []
    if children:
        for tag, start, end, _ in children:
            at = line + content.count("\n", 0, start)
            if tag == "automated":
                chunks.extend(split_script(content[start:end], at))
            else:
                diags.add(
                    "unknown-element",
                    doc.display,
                    at,
                    f"<{tag}> inside <verify> is not a check planrun can run; ignored "
                    "(use <automated> for commands)",
                )
        return chunks
    for chunk in split_script(content, line):
        lines = chunk.text.splitlines()
        # One line is judged whole by prose.py ("grep for the old name finds nothing" is prose).
        if prose.is_command(lines[0]) if len(lines) == 1 else looks_like_command(lines[0]):
            chunks.append(chunk)
        else:
            diags.add(
                "prose-verify",
                doc.display,
                chunk.line,
                f"verify line {chunk.text.splitlines()[0][:60]!r} is prose, not a command: "
                "it is a manual check",
                hint="write the command that proves it, e.g. in <automated>",
            )
    return chunks


def _plan_checks(
    text: str, first: int, body: markdown.Body, where: tuple[Document, Diagnostics]
) -> list[Chunk | prose.Check]:
    """Runnable commands in <verification>/<success_criteria> or such headings."""
    chunks: list[Chunk | prose.Check] = []
    for match in re.finditer(
        r"<(verification|success_criteria)>(.*?)</\1\s*>", text, re.DOTALL | re.I
    ):
        at = _line_at(text, first, match.start(2))
        for offset, raw in enumerate(match.group(2).splitlines()):
            chunks.extend(_line_checks(raw, at + offset, where, plain=True))
    for heading in body.headings:
        if _PLAN_CHECK_SECTIONS.match(heading.title):
            for line in markdown.section(body, heading):
                chunks.extend(_line_checks(line.text, line.no, where, plain=False))
    unique: dict[str, Chunk | prose.Check] = {}
    for chunk in chunks:
        unique.setdefault(chunk.text, chunk)
    return list(unique.values())


def _line_checks(
    raw: str, no: int, where: tuple[Document, Diagnostics], *, plain: bool
) -> list[Chunk | prose.Check]:
    """The commands of one line of a plan's checks. A line without backticks is judged whole
    by prose.py; a command the line says must fail or print something is held (prose.outcome):
    a manual check, with a warning."""
    spans = markdown.backticked(raw)
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", raw).strip()
    if not spans:
        if not plain or not text:
            return []
        if prose.is_command(text):
            return [Chunk(no, text)]
        if prose.unsure(text):
            doc, diags = where
            diags.add(
                "prose-verify",
                doc.display,
                no,
                f"{text[:60]!r} reads as prose, not a command: it is a manual check, not run",
                hint="put only the command in backticks: `pytest -q`",
            )
        return []
    commands = [s for s in spans if looks_like_command(s)]
    said = prose.outcome(re.sub(r"(`+)(.+?)\1", " ", text))
    if commands and said.held:
        note_held(f"`{commands[0]}` {said.held}", no, where)
        return []
    return [prose.Check(no, s, expect_exit=said.expect_exit) for s in commands]
