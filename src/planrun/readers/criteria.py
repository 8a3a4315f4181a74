"""Acceptance criteria, definitions of done and test strategies as truths.

A criterion is a statement for a person to check. It becomes a runnable check only when it
holds a backticked command that a known tool starts and says nothing about the command's
expected outcome that a plain exit 0 would get wrong ("returns no matches", "fails"): planrun
never runs prose, and never guesses what a sentence expects.
"""

from __future__ import annotations

import re
import shlex

from planrun import markdown
from planrun.prose import COMMANDS, is_command
from planrun.readers.common import mapping, verify_list
from planrun.shellsplit import Chunk
from planrun.yamlio import LineDict

# Words that say the command should fail, print nothing or count something: exit 0 is not it.
_EXPECTS_OTHER = re.compile(
    r"\b(?:fail\w*|error\w*|not|no|none|nothing|empty|zero|non-?zero|returns?\s+\d+|"
    r"exit(?:s|\s+code)?\s+[1-9]|count|at least|at most|>=|<=|==)\b|[<>]=?\s*\d",
    re.I,
)

# Words that say part of the criterion is for a person: a passing command would not cover it.
_NEEDS_A_PERSON = re.compile(
    r"\b(?:manual(?:ly)?|by hand|visual(?:ly)?|inspect\w*|screenshots?|browser|looks?|"
    r"UI|review\w*)\b",
    re.I,
)


def criterion_commands(text: str) -> list[str]:
    """The backticked commands of a criterion that may be run as its check (often none)."""
    spans = markdown.backticked(text)
    commands = [s for s in spans if _known_command(s)]
    if not commands:
        return []
    rest = text
    for span in spans:
        rest = rest.replace(f"`{span}`", " ")
    if _EXPECTS_OTHER.search(rest) or _NEEDS_A_PERSON.search(rest):
        return []
    if len(commands) > 1 and re.search(r"\bor\b", rest, re.I):
        return []  # alternatives ("`npm test` or `yarn test`"): which one is meant is a guess
    return commands


def _known_command(span: str) -> bool:
    if not is_command(span):
        return False
    try:
        words = shlex.split(span)
    except ValueError:
        return False
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        words = words[1:]
    return bool(words) and (words[0] in COMMANDS or words[0].startswith("./"))


def truth(text: str, line: int) -> LineDict:
    """A criterion as a must_haves truth, with a verify when it holds a runnable command."""
    statement = " ".join(markdown.strip_markup(text).split()) or text
    out = mapping(line, truth=statement)
    commands = criterion_commands(text)
    if commands:
        out["verify"] = verify_list((Chunk(line, c) for c in commands), line)
    return out
