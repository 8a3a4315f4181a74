"""Document finds the closing line of the frontmatter by searching for its newline and ``---``
(or ``...``): the split is the one a line-start (``^``) search gives."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from planrun.document import Document

LINE_START = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
LINES = ["---", "...", "--- ", "...\t", "----", " ---", "a: 1", "", "x---"]


def by_line_start(text: str) -> tuple[str | None, int, str, int, bool]:
    first_nl = text.find("\n")
    first = text if first_nl < 0 else text[:first_nl]
    if first.rstrip() != "---":
        return None, 0, text, 1, False
    start = first_nl + 1 if first_nl >= 0 else len(text)
    close = LINE_START.search(text, start)
    if close is None:
        return text[start:], 2, "", 0, True
    body_start = close.end() + 1
    body_line = text.count("\n", 0, body_start) + 1
    return text[start : close.start()], 2, text[body_start:], body_line, False


def test_the_split_is_the_line_start_search() -> None:
    texts = ["", "---", "--- ", "---\n"]
    for count in range(1, 5):
        for lines in itertools.product(LINES, repeat=count):
            body = "\n".join(lines)
            texts += [f"---\n{body}", f"---\n{body}\n", f"--- \n{body}\nrest\n"]
    for text in texts:
        assert Document(Path("p.md"), "p.md", text)._split == by_line_start(text), repr(text)
