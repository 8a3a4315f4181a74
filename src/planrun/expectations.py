"""What a plan expects of a check besides "exits 0": read from its prose, judged on its output.

Plans write negative checks in words: "`grep -c "TODO" src` returns 0", "... returns no
matches", "should find nothing", "Expected: FAIL", a ``# EXPECT EMPTY`` comment in a fenced
block, "(expect 3)". Run as plain commands, these fail exactly when the work is right (grep
exits 1 when it finds nothing). Here the words become an expectation on the command
(``expect_output: empty``, ``count N``, or a non-zero ``expect_exit``), and ``judge_output``
decides a command by what it printed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from planrun import lazyre

_EMPTY = lazyre.compile(
    r"\b(?:returns?|gives?|prints?|outputs?|shows?|finds?|yields?|produces?|should\s+(?:find|"
    r"return|print|output|show|match|give))\s+(?:no(?:thing)?\b|none\b|empty\b|zero\s+"
    r"(?:matches|results|lines|hits|occurrences)|no\s+(?:matches|results|output|hits|lines))"
    r"|\bno\s+(?:matches|results|hits|occurrences|output)\b|\bexpect\s+empty\b"
    r"|\b(?:should|must|will)\s+be\s+empty\b|\bis\s+empty\b|\bempty\s+(?:output|result)\b",
    re.I,
)
# The word before the number (a symbol needs no word boundary: "-> 0", "== 0"); "zero" is 0.
_COUNT = lazyre.compile(
    r"(?:(?:\b(?:returns?|gives?|prints?|outputs?|count|expect(?:ed)?|should\s+(?:return|print|"
    r"be|equal)|equals?|is)\b|(!=)|==|=|→|->)\s*:?\s*)(==|>=|<=|>|<|at\s+least|at\s+most)?\s*"
    r"(\d+|zero)\b(?!\s*(?:ms|s|sec|seconds|minutes|%|\.\d))",
    re.I,
)
# "must not equal 0", "should never return 0": the words say what it must *not* print.
_NEGATED = lazyre.compile(r"\b(?:not|never|no\s+longer)\s*$|n't\s*$", re.I)
_FAIL = lazyre.compile(
    r"\bexpected:?\s*(?:to\s+)?fail(?:s|ure|ing)?\b|\bmust\s+fail\b|\bshould\s+fail\b"
    r"|\b(?:expect|ensure)\s+(?:it\s+|they\s+|tests?\s+)?(?:to\s+)?fail\b|\bexits?\s+non-?zero\b",
    re.I,
)
_WORDS = {"at least": ">=", "at most": "<="}
# Words after the number that make it a bound: "3+", "3 or more", "3 or fewer".
_AFTER = (
    (lazyre.compile(r"\+|\s*or\s+(?:more|greater|higher|above)\b", re.I), ">="),
    (lazyre.compile(r"\s*or\s+(?:less|fewer|lower|below)\b", re.I), "<="),
)
_OPS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Expectation:
    """What the words around a command expect: an output, or a failing exit."""

    output: str | None = None  # "empty" or "count OP N"
    fails: bool = False  # "Expected: FAIL": the command must exit non-zero
    unjudged: str | None = None  # an output a comment expects that planrun cannot check

    @property
    def any(self) -> bool:
        return self.output is not None or self.fails


def from_prose(text: str) -> Expectation:
    """The expectation written in ``text`` (the words after or around a command)."""
    if _FAIL.search(text):
        return Expectation(fails=True)
    empty = _EMPTY.search(text)
    if empty:
        return Expectation(output="empty") if not _negated(text, empty.start()) else Expectation()
    match = _COUNT.search(text)
    if match:
        if _negated(text, match.start()):
            return Expectation()  # (prose.outcome holds such a command)
        op = "!=" if match.group(1) else (match.group(2) or "==").lower()
        op = " ".join(op.split())
        op = _WORDS.get(op, op)
        number = 0 if match.group(3).lower() == "zero" else int(match.group(3))
        if op == "==":
            for bound, word in _AFTER:
                if bound.match(text, match.end()):
                    op = word
        return Expectation(output=f"count {op} {number}")
    return Expectation()


def _negated(text: str, start: int) -> bool:
    """Whether a ``not``/``never`` just before ``start`` turns the expectation round."""
    return bool(_NEGATED.search(text[max(0, start - 30) : start]))


_COMMENT = lazyre.compile(r"#\s*(?:expect(?:ed)?|should)\b(.*)$", re.I)


def from_comment(line: str) -> Expectation:
    """An expectation in a shell comment: ``# EXPECT EMPTY``, ``# expect 1``, ``# should print
    nothing``."""
    match = _COMMENT.search(line)
    if match is None:
        return Expectation()
    rest = match.group(1).strip()
    if re.fullmatch(r"\d+", rest):
        return Expectation(output=f"count == {int(rest)}")
    return from_prose(line[match.start() :].lstrip("# "))


def judge_output(expect: str, exit_code: int | None, output: bytes) -> tuple[bool, str]:
    """Whether ``output`` meets ``expect``, and what was found (only that: a failure's reason
    adds the expectation once, in ``CommandRecord.outcome``). Exit 1 is grep's "nothing
    matched" and is allowed; any other non-zero exit is a failure whatever was printed."""
    text = output.decode("utf-8", errors="replace").strip()
    if exit_code not in (0, 1):
        return False, f"exit {exit_code}"
    if expect == "empty":
        # grep -c prints "0" (or "file:0" per file) when it finds nothing.
        if all(re.fullmatch(r"(?:.*:)?0", ln.strip()) for ln in text.splitlines() if ln.strip()):
            return True, "no output" if not text else "no matches"
        return False, f"output {_short(text)!r}"
    match = re.fullmatch(r"count\s*(==|>=|<=|>|<|!=)?\s*(\d+)", expect)
    if match is None:
        return False, f'unknown output expectation "{expect}"'
    op, want = match.group(1) or "==", int(match.group(2))
    found = _count(text)
    if _OPS[op](found, want):
        return True, f"count {found}"
    return False, f"count {found}"


def _count(text: str) -> int:
    """The number a command printed: one integer, the sum of ``name:N`` lines (grep -c over
    several files), else the number of lines."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return 0
    numbers = [re.fullmatch(r"(?:.*:)?\s*(\d+)(?:\s+\S+)?", ln) for ln in lines]
    if all(numbers):
        return sum(int(m.group(1)) for m in numbers if m)
    return len(lines)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


_SEARCHES = lazyre.compile(
    r"(?:^|[|;&(]\s*|\bxargs\s+)(?:grep|egrep|fgrep|rg|ag|ack|git\s+grep|git\s+diff|"
    r"git\s+status|git\s+ls-files|find|ls|wc|awk|sed\s+-n|jq)\b"
)


_QUIET = lazyre.compile(r"\b(?:grep|egrep|fgrep|rg)\b[^|;&]*\s(?:-\w*q\w*|--quiet|--silent)\b")
_TO_NULL = lazyre.compile(r"(?:^|\s)(?:1?>|&>)\s*/dev/null")


def discards_output(command: str) -> bool:
    """Whether ``command`` throws away the output an expectation would judge: a quiet
    search, or stdout sent to /dev/null."""
    return bool(_QUIET.search(command) or _TO_NULL.search(command))


def for_command(command: str, expect: Expectation, *, stated: bool = False) -> Expectation:
    """``expect`` as it applies to ``command``: output expectations only for a command whose
    output is a search result or a count (grep, rg, find, wc, ...); "returns no errors" after
    a test runner means it succeeds, not that it prints nothing. ``stated``: the expectation
    is a comment written for this command (``# expect 1``): on another command it is not
    dropped but ``unjudged`` (the caller holds the command as a manual check)."""
    if expect.output is not None and not _SEARCHES.search(command):
        return Expectation(unjudged=expect.output) if stated else Expectation()
    if expect.output is not None and _QUIET.search(command):
        # A quiet grep prints nothing either way: "returns 0" is its exit status, and
        # "finds nothing" is exit 1.
        return Expectation(fails=True) if expect.output == "empty" else Expectation()
    return expect
