"""Which failures of a verify script its shell went on past, from what planrun's ERR trap
recorded (proc.record_failures: the script's line and the command bash ran, for each), and
which it may have gone on past unseen: the facts judge.went_on and judge.stopped_early read.

A failure counts when it is the script's own, not a command substitution's (``[ -z "$(grep
TODO f)" ]``: only the test decides, under -e too), and when the script did not choose to go
on (a ``set`` of -e or +e of its own before it, or the next command reading ``$?`` first).
Where the trap cannot see (a shell other than bash, a script or a file it sources that sets
its own ERR trap), a statement whose failure the shell would go on after is named instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from tree_sitter import Node

from planrun import lazyre
from planrun.errexit import (
    ShellFlags,
    body_of,
    command_name,
    commands_in,
    errexit,
    flat,
    guarded,
    in_substitution,
    set_options,
    sets_errexit,
    sourced_text,
    status_read_after,
    text_of,
    walk,
)
from planrun.proc import OWN_ERR_TRAP

Failure = tuple[int, str]
"""What the ERR trap recorded of one failure: the line of the script, the command bash ran."""

_PASS_ON = frozenset({"cat", "tee", "tail", "head", "sort", "uniq", "wc", "tr", "sed", "cut"})
SEARCHES = frozenset({"grep", "egrep", "fgrep", "rg"})
# Programs that only read or print text: a pipe from them into grep hides no check's failure.
_READERS = (
    _PASS_ON
    | SEARCHES
    | frozenset(
        {"echo", "printf", "ls", "find", "git", "awk", "jq", "yq", "env", "printenv", "ps", "date"}
    )
)


def squeezed(text: str) -> str:
    return " ".join(text.split())


def _rows(node: Node) -> tuple[int, int]:
    return node.start_point.row + 1, node.end_point.row + 1


def significant(root: Node, failures: tuple[Failure, ...]) -> list[Failure]:
    """The failures that are the script's own: not those of a command written only inside a
    command substitution (its status is the enclosing command's to decide)."""
    commands = commands_in(root)
    found = []
    for failure in failures:
        written = [c for c in commands if squeezed(text_of(c)) == squeezed(failure[1])]
        if written and all(in_substitution(c) for c in written):
            continue
        found.append(failure)
    return found


def substituted(root: Node, failures: tuple[Failure, ...]) -> str | None:
    """The first failure of a command written only inside a process substitution (``diff <(jq
    -S . a.json) <(jq -S . b.json)``): nothing reads its status, -e or not, and what it
    printed (nothing, when jq found no file) is read as if it had worked. None when there is
    none."""
    commands = [c for c in commands_in(root) if in_substitution(c)]
    for _, command in failures:
        if command.split(" ", 1)[0].rsplit("/", 1)[-1] in SEARCHES:
            continue  # `<(grep -c TODO a.py)`: exit 1 is "none found", which it printed
        # bash names `jq . a.json 2>/dev/null` with its redirect, `2> /dev/null`
        bare = _REDIRECT.sub("", command)
        texts = (squeezed(command), squeezed(bare))
        written = [c for c in commands if squeezed(text_of(c)) in texts]
        if written and all(_in_process_substitution(c) for c in written):
            return flat(bare)
    return None


# Programs whose exit 1 is an answer, not a failure to look: "no match", "they differ", "not
# there" (`[ -z "$(grep -rn TODO src)" ]`, `[ -z "$(command -v black)" ]`).
_ANSWERS = SEARCHES | frozenset({"diff", "cmp", "command", "which", "type", "pgrep", "pidof"})
_TESTS = frozenset({"test", "["})


def tested_failure(
    root: Node, failures: tuple[Failure, ...], statuses: tuple[int, ...]
) -> tuple[str, int] | None:
    """The first failure (the command, its status) of a command written only inside a
    ``$(...)`` whose output the script went on with as if it had worked: one a test compares
    with another (``[ "$(jq -r .v a.json)" = "$(jq -r .v b.json)" ]``, both empty when neither
    file is there), or a ``for`` loop goes over to run checks (``for t in $(ls tests/*.sh);
    do bash "$t"; done``); of any ``$(...)`` a test reads, a program not found (127). Not an
    emptiness test's (``[ -z "$(ls build/*.o)" ]``: nothing there is its answer), nor a loop
    that fails on any item (``... do echo "$f left"; exit 1; done``), nor an exit 1 that is an
    answer (grep's "no match"), in a pipe too (bash names the pipe's last command)."""
    if len(statuses) != len(failures):
        return None
    kinds = {c.id: kind for c in commands_in(root) if (kind := _tested(c)) is not None}
    if not kinds:
        return None
    commands = commands_in(root)
    for (_, command), status in zip(failures, statuses, strict=True):
        bare = _REDIRECT.sub("", command)
        texts = (squeezed(command), squeezed(bare))
        written = [c for c in commands if squeezed(text_of(c)) in texts]
        if not written or not all(c.id in kinds for c in written):
            continue
        if status != 127 and (
            any(kinds[c.id] == "tested" for c in written)
            or (status == 1 and any(_answers(c) for c in written))
        ):
            continue
        parent = written[0].parent
        piped = parent is not None and parent.type == "pipeline"
        return flat(text_of(parent) if piped and parent is not None else bare), status
    return None


def _answers(command: Node) -> bool:
    """Whether ``command``'s exit 1 may be an answer: it is one of :data:`_ANSWERS`, or the
    last of a pipe holding one."""
    parent = command.parent
    stages = parent.named_children if parent is not None and parent.type == "pipeline" else []
    return any((command_name(c) or "").rsplit("/", 1)[-1] in _ANSWERS for c in [command, *stages])


def _tested(node: Node) -> str | None:
    """How the ``$(...)`` ``node`` is written in is read, when it is a word of a test (``[ ]``,
    ``[[ ]]``, ``test``: "compared" beside another ``$(...)``, else "tested") or of the list
    a ``for`` loop that runs checks goes over ("looped"); None for anything else."""
    parent = node.parent
    while parent is not None and parent.type != "command_substitution":
        if parent.type in ("process_substitution", "subshell", "compound_statement"):
            return None
        parent = parent.parent
    above = parent.parent if parent is not None else None
    while above is not None and above.type in _WORD_PARTS:
        above = above.parent
    if above is None:
        return None
    if above.type == "for_statement":
        body = above.child_by_field_name("body")
        fails = body is not None and re.search(r"\b(?:exit|return)\s+[1-9]", text_of(body))
        return None if fails else "looped"  # a loop that fails on any item looks for absence
    test = above.type == "test_command" or (
        above.type == "command" and (command_name(above) or "") in _TESTS
    )
    if not test:
        return None
    substitutions = [n for n in walk(above) if n.type == "command_substitution"]
    return "compared" if len(substitutions) > 1 else "tested"


_WORD_PARTS = frozenset(
    {
        "string",
        "concatenation",
        "binary_expression",
        "unary_expression",
        "parenthesized_expression",
        "negated_expression",
    }
)


_REDIRECT = lazyre.compile(r"\s+\d*(?:[<>]{1,2}|&>>?)&?\s*\S+")


def _in_process_substitution(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "process_substitution":
            return True
        if parent.type == "command_substitution":
            return False
        parent = parent.parent
    return False


def _statement_at(statements: list[Node], line: int) -> Node | None:
    return next((s for s in statements if _rows(s)[0] <= line <= _rows(s)[1]), None)


def not_the_last(statements: list[Node], failures: list[Failure]) -> list[Failure]:
    """The failures but those the last statement's exit status came from: its final command's
    last failure, and the statement's own (a subshell, a group, a function call whose body
    failed). An earlier command of the last statement (a loop's body, ``{ a; b; }``) or a
    statement sharing its line (``test -f a; grep x f``) is not the last's."""
    if not statements:
        return list(failures)
    last = statements[-1]
    first_row, last_row = _rows(last)
    shared = len(statements) > 1 and statements[-2].end_point.row == last.start_point.row
    commands = commands_in(last)
    final = squeezed(text_of(commands[-1])) if commands else None
    finals = [i for i, (_, command) in enumerate(failures) if squeezed(command) == final]
    kept = []
    for index, (line, command) in enumerate(failures):
        if not first_row <= line <= last_row or (
            shared and squeezed(command) not in squeezed(text_of(last))
        ):
            kept.append((line, command))
            continue
        written = [c for c in commands if squeezed(text_of(c)) == squeezed(command)]
        if not written:
            continue  # the statement itself, or a function's body run by its call
        if squeezed(command) == final and index == finals[-1]:
            continue  # the final command's last failure: the script's exit status
        kept.append((line, command))
    return kept


def stopper(statements: list[Node], failures: list[Failure]) -> Failure | None:
    """The failure that stopped a script under -e, when it was not its last statement's own:
    the last failure recorded, past the statement-level records a subshell or group adds
    after the command in it that failed."""
    if not statements:
        return None
    first_row, last_row = _rows(statements[-1])
    commands = commands_in(statements[-1])
    for failure in reversed(failures):
        line, command = failure
        inside = first_row <= line <= last_row
        if inside and not any(squeezed(text_of(c)) == squeezed(command) for c in commands):
            continue  # the statement's own record, after the command that failed in it
        return failure if not_the_last(statements, [failure]) else None
    return None


def chose_to_go_on(root: Node, failure: Failure) -> bool:
    """Whether the script went on after ``failure`` by its own choice: a ``set`` of -e or +e
    of its own on an earlier line, or the statement after the failing command reading ``$?``
    or ``PIPESTATUS`` first. The failing command is found in the statement at its line, else
    (a function's body, a sourced file) wherever its text is written."""
    line, command = failure
    statements = [c for c in root.named_children if c.type != "comment"]
    for node in statements:
        if _rows(node)[1] < line and command_name(node) == "set" and sets_errexit(node):
            return True  # -e or +e, either way the script decided for itself
    at = _statement_at(statements, line)
    same = [c for c in commands_in(root) if squeezed(text_of(c)) == squeezed(command)]
    here = [c for c in same if at is not None and at.start_byte <= c.start_byte < at.end_byte]
    written = here or same or ([at] if at is not None else [])
    for command_node in written:
        node = command_node
        while node.parent is not None and node.parent.type == "redirected_statement":
            node = node.parent
        if status_read_after(node):
            return True
    return False


def seen(root: Node, cwd: Path | None) -> bool:
    """Whether planrun's ERR trap sees every failure of the script ``root``: not when the
    script, or a file it sources by a literal path (from ``cwd``), sets an ERR trap of its
    own (``trap 'x' ERR``, ``trap - ERR``: it replaces planrun's)."""
    for command in commands_in(root):
        name = command_name(command)
        words = [text_of(c) for c in command.named_children[1:]]
        if name == "trap" and any(w.strip("'\"") == "ERR" for w in words):
            return False
        text = sourced_text(command, cwd)
        if text is not None and OWN_ERR_TRAP.search(text):
            return False
    return True


def unseen(root: Node, flags: ShellFlags) -> tuple[int, str] | None:
    """The first statement of a script (``root``) whose failure its shell, started without ``-e``,
    would go on after (line, text), for a shell whose failures planrun cannot see: not one
    the script looks at itself (a ``$?`` read after it, a loop whose checks all ``|| exit``)."""
    if flags.errexit or root.has_error:
        return None
    statements = [c for c in root.named_children if c.type != "comment"]
    for ignored in errexit(statements, flags)[1]:
        if command_name(ignored.node) in ("trap", "exec") and not _runs(ignored.node):
            continue  # setting up traps or redirections is no check
        if status_read_after(ignored.node) or guarded(ignored.node):
            continue
        if ignored.why.startswith("the shell runs without -e"):
            return ignored.node.start_point.row + 1, flat(text_of(ignored.node))
    return None


def _pipefail_before(statements: list[Node], node: Node) -> bool:
    """Whether the script turned pipefail on itself (``set -o pipefail``) before ``node``."""
    pipefail = False
    for statement in statements:
        if statement.start_byte >= node.start_byte:
            break
        if command_name(statement) == "set":
            pipefail = set_options(statement, True, pipefail)[1]  # noqa: FBT003 -- positional
    return pipefail


def _runs(node: Node) -> bool:
    """Whether ``exec`` is given a command to run (``exec pytest``), not only redirections."""
    return command_name(node) == "exec" and len(body_of(node).named_children) > 1


def piped_over(root: Node, flags: ShellFlags) -> tuple[int, str, str] | None:
    """The first pipeline (line, its last command, what it hides) whose last command only
    passes text on, so that under a shell started without pipefail a failure of the commands
    before it is no failure at all (no ERR trap sees it): anywhere in the script (in an
    ``if``, a loop, a function, ``$(...)``) but as the last statement itself (its exit status,
    which checkrules reads), and not one whose ``PIPESTATUS`` the script reads after it. A
    pipe from a command that runs something (not only reads text) into grep counts too, last
    statement or not: grep finds its pattern in a failure's output as well."""
    if flags.pipefail or root.has_error:
        return None
    statements = [c for c in root.named_children if c.type != "comment"]
    last = statements[-1] if statements else None
    for node in walk(root):
        if node.type != "pipeline" or len(node.named_children) < 2:
            continue
        tail = command_name(node.named_children[-1])
        searches = tail in SEARCHES and not all(
            (command_name(c) or "").rsplit("/", 1)[-1] in _READERS for c in node.named_children[:-1]
        )  # `cargo test | grep "test result"`: grep finds it in a failure's output too
        if tail is None or (tail not in _PASS_ON and not searches):
            continue
        top = node
        while top.parent is not None and top.parent.type == "redirected_statement":
            top = top.parent
        last_one = last is not None and top.start_byte == last.start_byte and top.parent == root
        if last_one and not searches:
            continue
        if status_read_after(top) or _pipefail_before(statements, node):
            continue
        before = text_of(node)[: node.named_children[-2].end_byte - node.start_byte]
        return node.start_point.row + 1, tail, flat(before)
    return None
