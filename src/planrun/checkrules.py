"""Evidence rules: when a check that passed shows nothing, and what to run instead.

A referee must not count as evidence a check written so it can never fail, nor a test run that
ran no tests. The rules are data (the tables below, listed in the README):

- :data:`MASKS`: what after ``||`` (or as the last statement) turns any failure into success.
  ``X || true``, ``X || echo ...``, ``X; exit 0``, ``X; true`` are judged by ``X``, which must
  succeed; ``X && echo PASS || echo FAIL`` too; when the success branch prints one of
  :data:`FAILURE_WORDS` (``X && echo "FAIL: ..." || echo "PASS"``), ``X`` must fail. The shape
  is read from the bash syntax tree, not from the text.
- A check that can never fail and masks nothing planrun can name (``true``, ``echo done``) is
  no evidence: its intent is unclear.
- :data:`ZERO_TESTS`: output that says a test runner ran no tests, unless :data:`RAN_TESTS`
  says another part of the same run did (cargo prints ``running 0 tests`` for doc tests).
- :data:`NOT_FOUND`: the shell's own message that a program could not be run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from tree_sitter import Node

from planrun.shellsplit import parse

# Commands that succeed whatever came before them, as the last thing in a check.
MASKS = frozenset({"true", ":", "echo", "printf"})
# A success branch that prints one of these means the command is expected to fail.
FAILURE_WORDS = re.compile(
    r"\bFAIL(?:ED|S|URE)?\b|\bERROR\b|✗|✘|❌|\bstill (?:exists|present|there)\b", re.IGNORECASE
)
# Output of a test runner that ran nothing: (runner, pattern).
ZERO_TESTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pytest", re.compile(r"\bno tests ran\b")),
    ("unittest", re.compile(r"^Ran 0 tests\b", re.MULTILINE)),
    ("cargo", re.compile(r"^running 0 tests$", re.MULTILINE)),
    ("jest/vitest", re.compile(r"\bNo tests? (?:files? )?found\b", re.IGNORECASE)),
    ("go", re.compile(r"\[no test files\]")),
    ("mocha", re.compile(r"^\s*0 passing\b", re.MULTILINE)),
)
# Output that shows tests did run, which overrides a zero-tests line from another part.
RAN_TESTS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^Ran [1-9]\d* tests?\b", re.MULTILINE),
    re.compile(r"^running [1-9]\d* tests?$", re.MULTILINE),
    re.compile(r"\b[1-9]\d* (?:passed|failed)\b"),
    re.compile(r"^\s*[1-9]\d* passing\b", re.MULTILINE),
    re.compile(r"^ok\s+\S+\s+(?:\(cached\)|[\d.]+s)", re.MULTILINE),
)
PYTEST_NO_TESTS_EXIT = 5  # pytest's exit code when it collected no tests
# The shell's message for a program it could not run (bash, dash).
NOT_FOUND = re.compile(
    r"^(?:\S*/)?(?:ba)?sh: (?:line \d+: |\d+: )?(?P<name>.+?): "
    r"(?:command not found|not found|Permission denied|No such file or directory)$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Reading:
    """How planrun runs one check: ``run`` (the check, or the command it masks)."""

    run: str
    must_fail: bool = False
    note: str | None = None  # why it is judged by ``run``: "the `|| echo` would hide its failure"
    never_fails: bool = False  # it can never fail and masks nothing planrun can name
    original: str | None = None  # the check as written, when ``run`` is the command it masks


def read(script: str) -> Reading:
    """The command ``script`` is judged by; itself when it can fail as written."""
    found = _read(script)
    return replace(found, original=script) if found.run != script else found


def _read(script: str) -> Reading:
    root = parse(script)
    if root.has_error:
        return Reading(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    if not statements:
        return Reading(script)
    found = _masked(script, statements)
    if found is not None:
        return found
    if all(_always_succeeds(s) for s in statements):
        return Reading(script, never_fails=True)
    return Reading(script)


def _masked(script: str, statements: list[Node]) -> Reading | None:
    first, last = statements[0], statements[-1]
    if len(statements) > 1 and _terminates(last) and not _opts_out(statements):
        inner = _read(_text(script, first, statements[-2]))
        if inner.never_fails:
            return Reading(script, never_fails=True)
        return _judged(inner, f"the `; {_text(script, last, last)}`")
    if last.type != "list":
        return None
    left, op, right = last.children[0], last.children[1], last.children[-1]
    if op.type != "||" or not _always_succeeds(right):
        return None
    mask = f"the `|| {_name(right) if _is_report(right) else _text(script, right, right)}`"
    if left.type == "list" and left.children[1].type == "&&" and _is_report(left.children[-1]):
        command = left.children[0]
        success = _text(script, left.children[-1], left.children[-1])
        if FAILURE_WORDS.search(success):
            if FAILURE_WORDS.search(_text(script, right, right)):
                return Reading(script, never_fails=True)  # both branches report a failure
            if command.start_byte != first.start_byte:
                # Lines before it could fail too, and a failure would look like success.
                return Reading(script, never_fails=True)
            x = _text(script, command, command)
            return Reading(x, must_fail=True, note=f"`{_flat(success)}` runs when it succeeds")
        left = command
    inner = _read(_text(script, first, left))
    if inner.never_fails:
        return Reading(script, never_fails=True)
    return _judged(inner, mask)


def _terminates(node: Node) -> bool:
    """``true``, ``:`` or ``exit 0`` as the last statement (an ``echo`` there is a message:
    under ``-e`` a failure before it still fails the script)."""
    return _always_succeeds(node) and not _is_report(node)


def _opts_out(statements: list[Node]) -> bool:
    """A ``set +e`` of the user's own: the script means what it says."""
    for node in statements:
        if _name(node) == "set":
            args = [(c.text or b"").decode() for c in node.named_children[1:]]
            if "+e" in args or args[-2:] == ["+o", "errexit"]:
                return True
    return False


def _judged(inner: Reading, mask: str) -> Reading:
    note = f"{mask} would hide its failure"
    if inner.note:
        note = f"{inner.note}; {note}"
    return Reading(inner.run, must_fail=inner.must_fail, note=note)


def judged(run: str, note: str, *, must_fail: bool) -> str:
    """How a report says which command a check was judged by, and why."""
    which = ", which must fail" if must_fail else ""
    return f"judged by `{_flat(run)}`{which}: {note}"


def _always_succeeds(node: Node) -> bool:
    """``true``, ``:``, ``echo ...``, ``printf ...`` or ``exit 0``, on its own."""
    name = _name(node)
    if name in MASKS:
        return True
    if name == "exit":
        args = [c for c in node.named_children if c.type != "command_name"]
        return len(args) == 1 and (args[0].text or b"").strip() == b"0"
    return False


def _is_report(node: Node) -> bool:
    return _name(node) in ("echo", "printf")


def _name(node: Node) -> str | None:
    while node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        if body is None:
            return None
        node = body
    if node.type != "command":
        return None
    name = node.child_by_field_name("name")
    return None if name is None else (name.text or b"").decode()


def _text(script: str, first: Node, last: Node) -> str:
    data = script.encode()
    return data[first.start_byte : last.end_byte].decode()


def _flat(text: str) -> str:
    flat = "; ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return flat if len(flat) <= 80 else flat[:77] + "..."


def ran_no_tests(run: str, exit_code: int | None, output: str) -> str | None:
    """The runner whose output shows it ran no tests; None when tests ran (or it is not a
    test run)."""
    if exit_code == PYTEST_NO_TESTS_EXIT and re.search(r"\bpytest\b", run):
        return "pytest"
    if exit_code != 0:
        return None
    for runner, pattern in ZERO_TESTS:
        if pattern.search(output):
            if any(ran.search(output) for ran in RAN_TESTS):
                return None
            return runner
    return None


def missing_program(run: str, exit_code: int | None, output: str) -> str | None:
    """The program the shell could not find on PATH or run (exit 127 or 126); None when the
    program was given by path in the check (``./bin/check``: the work is not done) or the code
    came from elsewhere."""
    if exit_code not in (126, 127):
        return None
    found = None
    for match in NOT_FOUND.finditer(output):
        found = match.group("name")
    if found is None:
        return None
    if "/" in found and found in run:
        return None  # given by path: the file the plan names is missing
    return found
