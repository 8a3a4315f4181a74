"""Helpers shared by the readers of agent-written formats (gsd, tasks, checklist, prp).

Each reader builds canonical-shaped data in LineDict/LineList containers that carry file lines,
then validates it through the same path as a canonical plan, so every format gets the same
model, the same checks and diagnostics that point at the line the agent wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from planrun import lazyre, markdown, prose
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict, LineList
from planrun.prose import Check
from planrun.shellsplit import Chunk

_DONE = lazyre.compile(
    r"✅|✔|☑|\b(?:done|complete|completed|finished|closed|merged|passed)\b", re.I
)
_PROGRESS = lazyre.compile(r"🔄|🚧|⏳|\b(?:in[ _-]?progress|ongoing|wip|started|doing)\b", re.I)
_BLOCKED = lazyre.compile(r"⛔|🚫|\bblocked\b", re.I)
_TODO = lazyre.compile(r"⬜|☐|❌|\b(?:todo|to do|not started|pending|open|planned|backlog)\b", re.I)


def claimed_from(text: str) -> str | None:
    """The claimed status a status word or emoji means; None when it means nothing known."""
    if _BLOCKED.search(text):
        return "blocked"
    if _PROGRESS.search(text):
        return "in_progress"
    if _TODO.search(text):
        return "todo"
    if _DONE.search(text):
        return "done"
    return None


def mapping(line: int, **values: Any) -> LineDict:
    """A LineDict at ``line`` whose keys are all at that line too, skipping None values."""
    out = LineDict({k: v for k, v in values.items() if v is not None}, line=line)
    out.key_lines = dict.fromkeys(out, line)
    return out


def items(values: Iterable[tuple[int, Any]], line: int) -> LineList:
    out = LineList(line=line)
    for item_line, value in values:
        out.append(value)
        out.item_lines.append(item_line)
    return out


def verify_list(chunks: Iterable[Chunk | Check], line: int) -> LineList:
    return items(
        (
            (
                c.line,
                mapping(
                    c.line,
                    run=c.text,
                    description=getattr(c, "description", None),
                    expect_exit=getattr(c, "expect_exit", 0) or None,
                    expect_output=getattr(c, "expect_output", None),
                ),
            )
            for c in chunks
        ),
        line,
    )


def note_chatter(body: markdown.Body, doc: Document, diags: Diagnostics) -> None:
    if body.chatter is not None:
        diags.add(
            "trailing-chatter",
            doc.display,
            body.chatter.no,
            "the document ends here; what follows looks like an agent's transcript "
            f"({body.chatter.text.strip()[:40]!r}) and was ignored",
            hint="remove everything after the plan itself",
        )


def report_frontmatter(doc: Document, diags: Diagnostics) -> None:
    """A frontmatter that does not parse is a ``yaml-syntax`` error with its line, whatever
    reads the body: a reader that went on without it would lose the plan's depends_on or its
    checks in silence. (GSD's backslash-escape repair has already been tried: see Document.)
    Reported once per file, so a reader may call this too."""
    fm = doc.frontmatter
    if fm.error is None and not fm.unclosed:
        return
    if any(d.code == "yaml-syntax" and d.file == doc.display for d in diags.items):
        return
    if fm.error is not None:
        diags.add(
            "yaml-syntax",
            doc.display,
            fm.error.line or 1,
            f"the YAML frontmatter does not parse: {fm.error.problem}",
            hint=fm.error.hint or "quote strings that contain ': ', '#' or backslashes",
        )
    else:
        diags.add(
            "yaml-syntax",
            doc.display,
            1,
            "the frontmatter opened on line 1 is never closed by a '---' line",
        )


def start_plan(doc: Document, diags: Diagnostics) -> tuple[markdown.Body, LineDict, int]:
    """What every markdown reader starts from: the body (chatter noted), the plan mapping with
    its title (the first level-1 heading) and the frontmatter kept as metadata, and the line
    the body starts on."""
    body = parse_body(doc)
    note_chatter(body, doc, diags)
    first = body.lines[0].no if body.lines else 1
    data = mapping(first, planrun=1)
    title = next((h.title for h in body.headings if h.level == 1), None)
    if title:
        data["title"] = markdown.strip_markup(title)
    if isinstance(doc.frontmatter.data, dict):
        data["metadata"] = dict(doc.frontmatter.data)
    return body, data, first


def field_checks(
    key: str,
    value: str,
    no: int,
    where: tuple[Document, Diagnostics],
    manual: list[tuple[int, str]],
) -> list[Check]:
    """The commands of an explicit verify field (``- **Validation**: ...``). A field in prose
    is a person's check: it goes to ``manual`` with a ``prose-verify`` warning, never run; so
    does a command the field does not ask to run (``Do not run `make deploy` ``)."""
    found = prose.extract(value, no)
    for reason in found.not_asked:
        note_not_asked(reason, no, where)
    if not found.commands:
        doc, diags = where
        manual.append((no, markdown.strip_markup(value)))
        if found.held:
            note_held(found.held, no, where)
        elif not found.not_asked:
            diags.add(
                "prose-verify",
                doc.display,
                no,
                f"{key} {value[:60]!r} is prose, not a command: it is a manual check",
                hint="put the command in backticks: `pytest -q`",
            )
    return list(found.commands)


def note_held(held: str, no: int, where: tuple[Document, Diagnostics]) -> None:
    """A command the words around it hold back (prose.outcome): a manual check, said why."""
    doc, diags = where
    diags.add(
        "prose-verify",
        doc.display,
        no,
        f"{held[:120]}: it is a manual check, not run",
        hint=prose.HELD_HINT,
    )


def note_not_asked(reason: str, no: int, where: tuple[Document, Diagnostics]) -> None:
    """A command the words around it do not ask to run as a check (unasked): not run, said
    why."""
    doc, diags = where
    diags.add("prose-verify", doc.display, no, reason[:160], hint=prose.NOT_ASKED_HINT)


def parse_body(doc: Document) -> markdown.Body:
    """The document's markdown body, parsed once (``Document.parsed``) for all readers."""
    return doc.parsed


def id_list(text: str, prefix: str) -> list[str]:
    """Task numbers in "None", "Task 1", "Tasks 1-3", "Task 1, Task 2", "1 and 3"."""
    text = re.sub(r"\([^)]*\)", " ", text)
    if re.fullmatch(r"\s*(?:none|n/?a|-|\u2014|nothing|no)\s*\.?\s*", text, re.I):
        return []
    out: list[str] = []
    for match in re.finditer(r"(\d+)(?:\s*(?:-|\u2013|\u2014|to|\.\.)\s*(\d+))?", text):
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        if high < low or high - low > 10_000:
            high = low
        out.extend(f"{prefix}{n}" for n in range(low, high + 1))
    return list(dict.fromkeys(out))
