"""A line-based view of a markdown body: headings, sections, fenced blocks, checkboxes.

Readers need line numbers for every diagnostic, so this works on numbered lines rather than
a markdown AST. Text inside fenced code blocks is never taken for headings or tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
_CHECKBOX = re.compile(r"^(\s*)[-*+]\s+\[([ xX])\]\s+(.*)$")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_BACKTICKS = re.compile(r"(`+)(.+?)\1")
# Where an agent's transcript leaks in after the document: tool-call markup or turn labels.
_CHATTER = re.compile(
    r"^\s*(?:</?(?:content|xai:function_call|function_call|invoke|parameter|antml:[\w-]+|"
    r"tool_call|tool_use)\b|(?:Assistant|Human|User|System):\s)"
)


@dataclass(frozen=True)
class Line:
    no: int
    text: str


@dataclass(frozen=True)
class Heading:
    no: int
    level: int
    title: str
    index: int  # position in Body.lines
    pos: int  # position in Body.headings


@dataclass(frozen=True)
class Block:
    no: int  # line of the opening fence
    lang: str
    text: str
    first: int  # file line of the block's first content line


@dataclass
class Body:
    lines: list[Line]
    headings: list[Heading] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    fenced: set[int] = field(default_factory=set)  # file lines inside ``` fences
    chatter: Line | None = None


def parse(text: str, first_line: int) -> Body:
    """Scan ``text`` (starting on file line ``first_line``), stopping at transcript chatter."""
    body = Body([])
    fence: tuple[str, int, str, list[str]] | None = None
    for offset, raw in enumerate(text.split("\n")):
        no = first_line + offset
        if fence is None and _CHATTER.match(raw):
            body.chatter = Line(no, raw)
            break
        index = len(body.lines)
        body.lines.append(Line(no, raw))
        match = _FENCE.match(raw)
        if fence is not None:
            body.fenced.add(no)
            marker, start, lang, content = fence
            if match and raw.strip().startswith(marker[0] * len(marker)) and not match.group(2):
                body.blocks.append(Block(start, lang, "\n".join(content), start + 1))
                fence = None
            else:
                content.append(raw)
            continue
        if match:
            body.fenced.add(no)
            fence = (match.group(1), no, match.group(2).lower(), [])
            continue
        heading = _HEADING.match(raw)
        if heading:
            body.headings.append(
                Heading(no, len(heading.group(1)), heading.group(2), index, len(body.headings))
            )
    if fence is not None:
        marker, start, lang, content = fence
        body.blocks.append(Block(start, lang, "\n".join(content), start + 1))
    return body


def section(body: Body, heading: Heading) -> list[Line]:
    """The lines under ``heading``, up to the next heading of the same or a higher level."""
    end = len(body.lines)
    for other in body.headings[heading.pos + 1 :]:
        if other.level <= heading.level:
            end = other.index
            break
    return body.lines[heading.index + 1 : end]


def checkbox(text: str) -> tuple[int, bool, str] | None:
    """(indent, checked, text) for a ``- [ ]`` / ``- [x]`` item."""
    match = _CHECKBOX.match(text)
    if not match:
        return None
    return len(match.group(1)), match.group(2) != " ", match.group(3).strip()


def bullet(text: str) -> str | None:
    match = _BULLET.match(text)
    return match.group(2).strip() if match else None


def backticked(text: str) -> list[str]:
    return [m.group(2).strip() for m in _BACKTICKS.finditer(text)]


_EMPHASIS = re.compile(r"`+|(?<!\w)[*_]+|[*_]+(?!\w)")


def strip_markup(text: str) -> str:
    """Text without backticks and emphasis markers; ``*`` and ``_`` inside a word (a file
    name such as test_albums.py) are kept."""
    return _EMPHASIS.sub("", text).strip()
