"""Plan text and child output are untrusted: escape them for each place planrun writes them.

A task's name, its commands, a ``contains`` pattern, an output tail or a reason can hold
anything a plan's author or a child process wrote: escape sequences that repaint a terminal,
characters XML 1.0 forbids, markdown that forges a heading, HTML, backtick runs that close a
code span early. Each function here makes text safe for one destination.
"""

from __future__ import annotations

import re

from planrun import lazyre

# ESC-introduced sequences (CSI, OSC, and two-byte escapes), then single control characters:
# C0 but tab and newline, DEL, C1, and the bidirectional overrides that reorder what is shown.
_ESCAPE_SEQUENCE = lazyre.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erasing
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = lazyre.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# XML 1.0 allows tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF; this is
# the rest, spelled out (the negated class compiles 10x slower, at every start-up).
_XML_FORBIDDEN = lazyre.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def terminal(text: str) -> str:
    """Text for a terminal or a CI log: no escape sequences, no control characters (a CR
    would let a line overwrite the one before it), newlines and tabs kept."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


_UNPRINTABLE = lazyre.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _c_char(char: str) -> str:
    if char in _C_ESCAPES:
        return _C_ESCAPES[char]
    if _UNPRINTABLE.match(char):
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    return char


def path(name: str) -> str:
    """A file name inside a one-line message: quoted C-style, as git quotes it, when it holds
    a newline or another control character (``"a\\nb"``), so a name cannot start a line of
    its own in a terminal or a log; as it is otherwise."""
    if not _UNPRINTABLE.search(name) and not name.startswith('"'):
        return name
    return '"' + "".join(_c_char(c) for c in name) + '"'


def xml(text: str) -> str:
    """Text that XML 1.0 can hold (ElementTree escapes <, > and &; it does not drop these)."""
    return _XML_FORBIDDEN.sub("\ufffd", terminal(text))


class Raw(str):
    """Markdown that planrun built itself and must be written as it is (not escaped again)."""

    __slots__ = ()


# Backslash-escaped punctuation; ``_`` only where it could open or close emphasis, so
# snake_case names stay readable in the raw file.
_MD_SPECIAL = lazyre.compile(r"([\\`*\[\]|~!#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def one_line(text: str) -> str:
    """Newlines as ' ⏎ ': an inline value must never start a markdown block of its own (nor
    a line of its own where U+2028 or U+2029 ends lines, as Python's and JavaScript's do)."""
    return re.sub(r"\s*(?:\r\n|[\r\n\u2028\u2029])\s*", " ⏎ ", text.strip())


def markdown(text: object) -> Raw:
    """Any value as inline markdown text: one line, markdown punctuation backslash-escaped,
    HTML written as entities, control characters dropped."""
    if isinstance(text, Raw):
        return text
    value = one_line(terminal("" if text is None else str(text)))
    value = "".join(_HTML.get(c, c) for c in value)
    return Raw(_MD_SPECIAL.sub(r"\\\1", value))


def code(text: object) -> Raw:
    """Any value as an inline code span, delimited by a backtick run longer than any inside."""
    value = one_line(terminal("" if text is None else str(text)))
    longest = max((len(m) for m in re.findall(r"`+", value)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return Raw(f"{ticks}{pad}{value}{pad}{ticks}")


def cell(text: object) -> Raw:
    """A value inside a markdown table cell: ``|`` splits cells even inside code spans."""
    value = text if isinstance(text, Raw) else markdown(text)
    return Raw(re.sub(r"(?<!\\)\|", r"\\|", value))


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def block(text: str) -> Raw:
    """Text for the inside of a fenced code block: control characters dropped."""
    return Raw(terminal(text))


def mermaid_label(text: str) -> str:
    """A mermaid node label inside double quotes: quotes, markup and backticks as entities,
    one line (a backtick run could close the markdown fence around the graph)."""
    value = one_line(terminal(text))
    for char, entity in (
        ("&", "#amp;"),
        ('"', "#quot;"),
        ("<", "#lt;"),
        (">", "#gt;"),
        ("`", "#96;"),
    ):
        value = value.replace(char, entity)
    return value
