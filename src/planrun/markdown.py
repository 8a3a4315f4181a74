"""A line-based view of a markdown body: headings, sections, fenced blocks, checkboxes.

Readers need line numbers for every diagnostic, so this works on numbered lines rather than
a markdown AST. Text inside fenced code blocks is never taken for headings or tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planrun import lazyre

_HEADING = lazyre.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = lazyre.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
_CHECKBOX = lazyre.compile(r"^(\s*)[-*+]\s+\[([ xX\-~/])\](\\?\*)?\s+(.*)$")
_BULLET = lazyre.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_BACKTICKS = lazyre.compile(r"(`+)(.+?)\1")
# Where an agent's transcript leaks in after the document: tool-call markup or turn labels.
_CHATTER = lazyre.compile(
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
    """Scan ``text`` (starting on file line ``first_line``), stopping at transcript chatter.

    Lines inside fences, HTML comments and indented code blocks are all in ``fenced``: none of
    them is a heading, an item or a check (spec-kit's template carries a 20-line comment full of
    example items)."""
    body = Body([])
    fence: tuple[str, int, str, list[str]] | None = None
    comment = False
    in_list = False  # inside a list, where indented lines are nested items, not code
    code = False  # inside an indented code block
    blank = True
    for offset, raw in enumerate(text.split("\n")):
        no = first_line + offset
        if fence is None and not comment and _CHATTER.match(raw):
            body.chatter = Line(no, raw)
            break
        index = len(body.lines)
        body.lines.append(Line(no, raw))
        if fence is None:
            if comment or raw.lstrip().startswith("<!--"):
                body.fenced.add(no)
                comment = "-->" not in raw.split("<!--", 1)[-1] if not comment else "-->" not in raw
                continue
            if not raw.strip():
                blank = True
                continue
            indent = len(raw.expandtabs(4)) - len(raw.expandtabs(4).lstrip())
            if indent >= 4 and (code or (blank and not in_list)):
                code = True
                body.fenced.add(no)
                blank = False
                continue
            code = False
            if _BULLET.match(raw):
                in_list = True
            elif indent == 0:
                in_list = False
            blank = False
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


@dataclass(frozen=True)
class Box:
    indent: int
    mark: str  # " " todo, "x" done, "-" (Kiro), "~" or "/" in progress
    optional: bool  # Kiro's ``- [ ]*``
    text: str

    @property
    def checked(self) -> bool:
        return self.mark == "x"


def box(text: str) -> Box | None:
    """A ``- [ ]`` / ``- [x]`` / ``- [-]`` item, optional when the box is followed by ``*``."""
    match = _CHECKBOX.match(text)
    if not match:
        return None
    mark = match.group(2).lower()
    return Box(
        len(match.group(1).expandtabs(4)), mark, bool(match.group(3)), match.group(4).strip()
    )


def checkbox(text: str) -> tuple[int, bool, str] | None:
    """(indent, checked, text) for a checkbox item (see ``box``)."""
    found = box(text)
    return None if found is None else (found.indent, found.checked, found.text)


def bullet(text: str) -> str | None:
    match = _BULLET.match(text)
    return match.group(2).strip() if match else None


def backticked(text: str) -> list[str]:
    return [m.group(2).strip() for m in _BACKTICKS.finditer(text)]


def backticked_with_rest(text: str) -> list[tuple[str, str]]:
    """Each code span of ``text`` with the text after it up to the next span (where a plan
    says what the command should print: "`grep -c X src` returns 0")."""
    matches = list(_BACKTICKS.finditer(text))
    ends = [m.start() for m in matches[1:]] + [len(text)] * bool(matches)
    return [(m.group(2).strip(), text[m.end() : end]) for m, end in zip(matches, ends, strict=True)]


# Emphasis is a pair of delimiters that opens after a space (or an opening bracket or quote)
# and closes before one (or punctuation that ends a sentence), so the underscores of
# src/pkg/__init__.py and the asterisk of *args are kept.
_OPEN = r"(?:(?<=^)|(?<=[\s(\[\"'{]))"
_CLOSE = r"(?=$|[\s)\]\"'}]|[.,;:!?]+(?:$|\s))"
_EMPHASIS = lazyre.compile(
    _OPEN + r"(\*\*\*|\*\*|\*|___|__|_)(?=\S)(.+?)(?<=\S)\1" + _CLOSE, re.DOTALL
)
_CODE = lazyre.compile(r"(`+)(.+?)\1")


def strip_markup(text: str) -> str:
    """Text without code-span backticks and emphasis markers. Code spans are kept verbatim;
    ``*`` and ``_`` that do not pair up as emphasis (``__init__.py``, ``*args``,
    test_albums.py) are kept."""
    spans: list[str] = []

    def hold(match: re.Match[str]) -> str:
        spans.append(match.group(2).strip())
        return f"\ue000{len(spans) - 1}\ue001"

    held = _unemphasize(_CODE.sub(hold, text)).replace("`", "")
    return re.sub(r"\ue000(\d+)\ue001", lambda m: spans[int(m.group(1))], held).strip()


def _unemphasize(text: str) -> str:
    for _ in range(3):  # nested emphasis: ***x***, **_x_**
        text, n = _EMPHASIS.subn(r"\2", text)
        if not n:
            break
    return text
