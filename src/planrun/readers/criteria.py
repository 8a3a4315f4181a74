"""Acceptance criteria, definitions of done and test strategies as truths.

A criterion is a statement for a person to check. It becomes a runnable check only when it
holds a backticked command that a known tool starts and says nothing about the command's
expected outcome that a plain exit 0 would get wrong ("returns no matches", "fails") nor says
not to run it ("Never use `npm run deploy`", unasked): planrun never runs prose, and never
guesses what a sentence expects. A command said to fail is held with
a warning and ``exits 1`` sets the exit code, by the rule every reader shares (prose.outcome).
"""

from __future__ import annotations

import re
import shlex

from planrun import lazyre, markdown, prose, unasked
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict
from planrun.readers.common import mapping, note_held, verify_list
from planrun.shellsplit import COMMANDS

# Words that say the command should fail, print nothing or count something: exit 0 is not it.
_EXPECTS_OTHER = lazyre.compile(
    r"\b(?:fail\w*|error\w*|not|no|none|nothing|empty|zero|non-?zero|returns?\s+\d+|"
    r"exit(?:s|\s+code)?\s+[1-9]|count|at least|at most|>=|<=|==)\b|[<>]=?\s*\d",
    re.I,
)

# Words that say part of the criterion is for a person: a passing command would not cover it.
_NEEDS_A_PERSON = lazyre.compile(
    r"\b(?:manual(?:ly)?|by hand|visual(?:ly)?|inspect\w*|screenshots?|browser|looks?|"
    r"UI|review\w*)\b",
    re.I,
)


def criterion_commands(text: str) -> list[str]:
    """The backticked commands of a criterion that may be run as its check (often none)."""
    return [c.text for c in criterion_checks(text, 0)[0]]


def criterion_checks(text: str, line: int) -> tuple[list[prose.Check], str | None]:
    """The checks of a criterion, with the exit code its words name (``exits 1``); or why its
    command is held back (prose.outcome: ``raises ImportError``)."""
    spans = markdown.backticked(text)
    commands = [s for s in spans if _known_command(s)]
    if not commands:
        return [], None
    if any(why for span, why in zip(spans, unasked.whys(text), strict=True) if span in commands):
        return [], None  # "Never use `npm run deploy`", "Rollback: `...`": no check of it
    rest = text
    for span in spans:
        rest = rest.replace(f"`{span}`", " ")
    said = prose.outcome(rest)
    if said.held:
        return [], f"`{commands[0]}` {said.held}"
    if _EXPECTS_OTHER.search(prose.without_exit_code(rest)) or _NEEDS_A_PERSON.search(rest):
        return [], None
    if len(commands) > 1 and re.search(r"\bor\b", rest, re.I):
        return [], None  # alternatives ("`npm test` or `yarn test`"): which one is a guess
    return [prose.Check(line, c, expect_exit=said.expect_exit) for c in commands], None


def _known_command(span: str) -> bool:
    if not prose.is_command(span):
        return False
    try:
        words = shlex.split(span)
    except ValueError:
        return False
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        words = words[1:]
    return bool(words) and (words[0] in COMMANDS or words[0].startswith("./"))


def truth(text: str, line: int, where: tuple[Document, Diagnostics] | None = None) -> LineDict:
    """A criterion as a must_haves truth, with a verify when it holds a runnable command; a
    command its words hold back is warned about (in ``where``) and not run."""
    statement = " ".join(markdown.strip_markup(text).split()) or text
    out = mapping(line, truth=statement)
    checks, held = criterion_checks(text, line)
    if checks:
        out["verify"] = verify_list(checks, line)
    elif held and where is not None:
        note_held(held, line, where)
    return out
