"""Evidence rules on a check's shape: when a check that passes shows nothing, and which
command it is judged by instead (checkoutput.py holds the rules on what a check printed).

A referee must not count as evidence a check written so it can never fail. The rules are data
(the tables below, listed in the README), read from the bash syntax tree, not from the text:

- :data:`MASKS`: what after ``||`` (or as the last statement) turns any failure into success.
  ``X || true``, ``X || /bin/true``, ``X || echo ... >&2``, ``X || { echo ...; }``,
  ``X || (exit 0)``, ``X; exit 0`` are judged by ``X``, which must succeed; so are
  ``X && echo PASS || echo FAIL`` and ``if X; then echo ok; fi``; when the success branch
  prints one of :data:`FAILURE_WORDS` (``X && echo "FAIL: ..." || echo "PASS"``), ``X`` must
  fail.
- :data:`NEVER_FAILS`: commands that succeed wherever they run (``test -d .``, ``pwd``).
- Under ``bash -e`` only some statements can fail a script: plain commands before a
  ``set +e``, the last command of an ``a && b`` list, and the last statement. A ``! cmd`` line
  or a list's other commands are ignored; when all the statements ``-e`` honours always
  succeed, the check can never fail.
- A check that can never fail and masks nothing planrun can name is no evidence.
- A check that only prints PASS or FAIL (commandlint's ``verify-prints-result``) is no
  evidence either, unless what it printed last is a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from tree_sitter import Node

from planrun.commandlint import prints_result
from planrun.shellsplit import parse

# Commands that succeed whatever came before them, as the last thing in a check.
MASKS = frozenset({"true", ":", "echo", "printf"})
# Commands that succeed wherever they run: no evidence of anything (whole command, words).
NEVER_FAILS = re.compile(
    r"(?:test -[de] \.|\[\[? -[de] \. \]\]?|pwd|cd \.|sleep \d+(?:\.\d+)?[smhd]?)"
)
# A success branch that prints one of these means the command is expected to fail.
FAILURE_WORDS = re.compile(
    r"\bFAIL(?:ED|S|URE)?\b|\bERROR\b|✗|✘|❌|\bstill (?:exists|present|there)\b", re.IGNORECASE
)
# Commands that end a loop's turn with status 0: ``X || continue`` in a loop hides X's failure.
_LOOP_EXITS = frozenset({"continue", "break"})
# Prefixes that run the command after them: judged by that command.
_PREFIXES = frozenset({"command", "builtin", "env", "exec", "nohup"})
# Programs that answer "not found" with exit 1 and an error with exit 2 (checkoutput.py).
NO_MATCH_PROGRAMS = frozenset({"grep", "egrep", "fgrep", "rg", "test", "["})
# Statements that set up the shell rather than check anything.
_SETUP = frozenset(
    {"variable_assignment", "declaration_command", "unset_command", "function_definition"}
)


@dataclass(frozen=True)
class Reading:
    """How planrun runs one check: ``run`` (the check, or the command it masks)."""

    run: str
    must_fail: bool = False
    note: str | None = None  # why it is judged by ``run``: "the `|| echo` would hide its failure"
    never_fails: bool = False  # it can never fail and masks nothing planrun can name
    original: str | None = None  # the check as written, when ``run`` is the command it masks
    prints_result: bool = False  # it prints PASS or FAIL and exits 0 either way


def read(script: str) -> Reading:
    """The command ``script`` is judged by; itself when it can fail as written."""
    found = _read(script)
    if found.run == script and not found.never_fails and prints_result(script):
        return replace(found, prints_result=True)
    return replace(found, original=script) if found.run != script else found


def _read(script: str) -> Reading:
    root = parse(script)
    if root.has_error:
        return Reading(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    if not statements:
        return Reading(script)
    found = (
        _negated(script, statements)
        or _if_masked(script, statements)
        or _masked(script, statements)
    )
    if found is not None:
        return found
    honoured, skipped = errexit(statements)
    if all(_always_succeeds(s) for s in honoured):
        if skipped:
            first = skipped[0]
            where = f"line {first.node.start_point.row + 1} of the script"
            return Reading(script, never_fails=True, note=f"{first.why}, {where}")
        if all(_always_succeeds(s) for s in statements):
            return Reading(script, never_fails=True)
    return Reading(script)


@dataclass(frozen=True)
class Ignored:
    """A statement whose failure does not fail the script: why, and how to write it so that
    it does (None: the user turned ``-e`` off on purpose)."""

    node: Node
    why: str  # "bash -e ignores a failure of `x`"
    fix: str | None = None
    alone: bool = False  # worth a warning only when nothing else in the script can fail


def errexit(statements: list[Node]) -> tuple[list[Node], list[Ignored]]:
    """The statements whose failure fails the script under ``bash -eo pipefail``, and those
    that could fail but whose failure is ignored: a ``! cmd`` line, the commands of an
    ``a && b`` list before its last, anything after ``set +e`` but the last statement, a
    command run in the background with ``&`` that nothing waits for, anything after a
    ``trap "exit 0" EXIT``, ``X || continue`` in a loop, and ``X | cat`` after
    ``set +o pipefail``."""
    honoured: list[Node] = []
    skipped: list[Ignored] = []
    on = pipefail = True
    trap: str | None = None
    for index, node in enumerate(statements):
        text = (node.text or b"").decode()
        if _name(node) == "set":
            on, pipefail = _set_options(node, on, pipefail)
            if index < len(statements) - 1:
                continue
        if _name(node) == "trap" and _traps_success(node):
            trap = " ".join(text.split())
            continue
        skipped.extend(_loop_masks(node))
        if _always_succeeds(node) or node.type in _SETUP:
            if index == len(statements) - 1:
                honoured.append(node)
            continue
        if trap is not None:
            why = f"the `{trap}` turns a failure of `{text}` into success"
            skipped.append(Ignored(node, why, f"remove the `{trap}`"))
        elif _backgrounded(node) and not _waited(statements[index + 1 :]):
            why = f"nothing reads the exit status of `{text} &` (run in the background)"
            fix = "run it in the foreground, or `wait $!` for it"
            skipped.append(Ignored(node, why, fix, alone=True))
        elif not pipefail and _pipe_hides(node):
            body = _body(node)
            pipe = body.named_children
            last = _flat(_text_of(pipe[-1]))
            before = (body.text or b"")[: pipe[-2].end_byte - body.start_byte].decode()
            why = f"with pipefail off, the `| {last}` hides a failure of `{before}`"
            fix = f"remove the `set +o pipefail`, or drop the `| {last}`"
            skipped.append(Ignored(node, why, fix))
        elif index == len(statements) - 1:
            honoured.append(node)
        elif not on:
            fix = "remove the `set +e`, or make the check the last statement"
            why = f"bash -e ignores a failure of `{text}`"
            skipped.append(Ignored(node, why, fix, alone=True))
        elif node.type == "negated_command":
            inner = _flat(_text_of(node.named_children[0]))
            fix = f"write `if {inner}; then exit 1; fi`, or put it last"
            skipped.append(Ignored(node, f"bash -e ignores a failure of `{text}`", fix))
        elif _body(node).type == "list":
            final = _body(node).children[-1]
            honoured.append(final)
            if _always_succeeds(final):
                left = _flat(_text_of(_body(node).children[0]))
                fix = f"put `{left}` on a line of its own, or put the list last"
                skipped.append(Ignored(node, f"bash -e ignores a failure of `{text}`", fix))
        else:
            honoured.append(node)
    return honoured, skipped


def _set_options(node: Node, errexit_on: bool, pipefail: bool) -> tuple[bool, bool]:
    """``errexit`` and ``pipefail`` after ``set -e``, ``set +o pipefail``, ``set -euo pipefail``,
    ``set -o errexit +o pipefail``."""
    args = [(c.text or b"").decode() for c in node.named_children[1:]]
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith(("-", "+")) or arg in ("-", "--"):
            continue
        on = arg.startswith("-")
        for flag in arg[1:]:
            if flag == "e":
                errexit_on = on
            elif flag == "o" and index < len(args):
                option = args[index]
                index += 1
                if option == "errexit":
                    errexit_on = on
                elif option == "pipefail":
                    pipefail = on
    return errexit_on, pipefail


def _traps_success(node: Node) -> bool:
    """``trap "exit 0" EXIT`` (or ERR): the script exits 0 whatever failed after it."""
    args = [(c.text or b"").decode().strip("'\"") for c in node.named_children[1:]]
    if len(args) < 2 or not re.search(r"(?:^|[;&|\s])exit\s+0\b", args[0]):
        return False
    return any(a.upper() in ("EXIT", "SIGEXIT", "0", "ERR") for a in args[1:])


def _backgrounded(node: Node) -> bool:
    after = node.next_sibling
    return after is not None and after.type == "&"


def _waited(after: list[Node]) -> bool:
    """A ``wait`` with an argument (``wait $!``) reads the status of what runs in the
    background; a bare ``wait`` returns 0."""
    return any(_name(n) == "wait" and len(_body(n).named_children) > 1 for n in after)


_PASS_THROUGH = frozenset({"cat", "tee", "tail", "head", "sort", "uniq", "wc", "tr", "column"})


def _pipe_hides(node: Node) -> bool:
    """A pipeline whose last command only passes text on: without pipefail its status is 0."""
    body = _body(node)
    return body.type == "pipeline" and _name(body.named_children[-1]) in _PASS_THROUGH


_LOOPS = frozenset({"for_statement", "c_style_for_statement", "while_statement"})
_TESTS = frozenset({"test", "[", "[["})


def _loop_masks(node: Node) -> list[Ignored]:
    """``X || continue`` and ``X || break`` in a loop's body: X's failure only moves the loop
    on (a test such as ``[ -f "$f" ] || continue`` is a filter, not a check)."""
    body = _body(node)
    if body.type not in _LOOPS:
        return []
    group = body.child_by_field_name("body")
    found: list[Ignored] = []
    for child in group.named_children if group is not None else []:
        found.extend(_loop_masks(child))
        inner = _body(child)
        if inner.type != "list" or inner.children[1].type != "||":
            continue
        left, right = inner.children[0], inner.children[-1]
        exit_word = _name(right)
        if exit_word not in _LOOP_EXITS or _name(left) in _TESTS or left.type == "test_command":
            continue
        text = _text_of(left)
        why = f"the `|| {exit_word}` in the loop hides a failure of `{text}`"
        fix = f"drop the `|| {exit_word}`, or record the failure and exit 1 after the loop"
        found.append(Ignored(left, why, fix))
    return found


def _text_of(node: Node) -> str:
    return (node.text or b"").decode()


def _body(node: Node) -> Node:
    """A statement without its redirects (tree-sitter puts ``a || b >&2``'s on the list)."""
    while node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        if body is None:
            return node
        node = body
    return node


def _masked(script: str, statements: list[Node]) -> Reading | None:
    first, last = statements[0], statements[-1]
    if len(statements) > 1 and _terminates(last) and not _opts_out(statements):
        inner = _read(_text(script, first, statements[-2]))
        if inner.never_fails:
            return Reading(script, never_fails=True)
        return _judged(inner, f"the `; {_text(script, last, last)}`")
    body = _body(last)
    if body.type != "list":
        return None
    left, op, right = body.children[0], body.children[1], body.children[-1]
    # bash applies the redirect of `a || echo x >&2` to the echo; tree-sitter to the list.
    right_text = _text(script, right, last)
    if op.type != "||" or not _always_succeeds(right):
        return None
    mask = f"the `|| {_name(right) if _is_report(right) else right_text}`"
    if left.type == "list" and left.children[1].type == "&&" and _is_report(left.children[-1]):
        command = left.children[0]
        success = _text(script, left.children[-1], left.children[-1])
        if FAILURE_WORDS.search(success):
            if FAILURE_WORDS.search(right_text):
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


def _if_masked(script: str, statements: list[Node]) -> Reading | None:
    """``if X; then echo ok; fi`` (no ``elif``, branches that always succeed) is judged by
    ``X``: it must succeed, or fail when only its success branch reports a failure."""
    node = statements[-1]
    conditions = [c for c in node.children_by_field_name("condition") if c.is_named]
    if node.type != "if_statement" or len(conditions) != 1:
        return None
    condition = conditions[0]
    branches = [c for c in node.named_children if c.type != "comment" and c != condition]
    if any(c.type == "elif_clause" for c in branches):
        return None
    otherwise = [c for c in branches if c.type == "else_clause"]
    then = [c for c in branches if c.type != "else_clause"]
    if not all(_only_reports(c) for c in then + otherwise):
        return None  # a branch that does something (writes a file, sleeps) is run as written
    then_fails = any(FAILURE_WORDS.search(_text(script, c, c)) for c in then)
    else_fails = any(FAILURE_WORDS.search(_text(script, c, c)) for c in otherwise)
    negated = condition.type == "negated_command"
    x = condition.named_children[0] if negated else condition
    if (then_fails and else_fails) or (negated and not then_fails and not else_fails):
        return Reading(script, never_fails=True)  # nothing tells success from failure
    must_fail = then_fails != negated
    note = "the `if` around it would hide its failure"
    if must_fail:
        if len(statements) > 1:
            return Reading(script, never_fails=True)  # lines before it could fail too
        report = next(c for c in then if FAILURE_WORDS.search(_text(script, c, c)))
        note = f"`{_flat(_text(script, report, report))}` runs when it succeeds"
        return Reading(_text(script, x, x), must_fail=True, note=note)
    before = _text(script, statements[0], statements[-2]) + "\n" if len(statements) > 1 else ""
    inner = _read(before + _text(script, x, x))
    if inner.never_fails:
        return Reading(script, never_fails=True)
    return _judged(inner, "the `if` around it")


def _terminates(node: Node) -> bool:
    """``true``, ``:`` or ``exit 0`` as the last statement (an ``echo`` there is a message:
    under ``-e`` a failure before it still fails the script)."""
    return _body(node).type == "command" and _only_reports(node) and not _is_report(node)


def _opts_out(statements: list[Node]) -> bool:
    """A ``set +e`` of the user's own: the script means what it says."""
    for node in statements:
        if _name(node) == "set":
            args = [(c.text or b"").decode() for c in node.named_children[1:]]
            if "+e" in args or args[-2:] == ["+o", "errexit"]:
                return True
    return False


def _negated(script: str, statements: list[Node]) -> Reading | None:
    """``! grep -q TODO a.py``: the ``!`` turns every failure into success, so grep's exit 2
    (a.py missing) would pass. Judged by the command, which must fail by finding nothing."""
    if len(statements) != 1 or _body(statements[0]).type != "negated_command":
        return None
    inner = [c for c in _body(statements[0]).named_children if c.type != "comment"]
    if len(inner) != 1 or _name(inner[0]) not in NO_MATCH_PROGRAMS:
        return None
    text = _text(script, inner[0], inner[0])
    return Reading(text, must_fail=True, note="the `!` would turn its error into a pass")


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
    """``true``, ``/bin/true``, ``:``, ``echo ...`` (redirected or not), ``printf ...``,
    ``exit 0``, a command of :data:`NEVER_FAILS`, or a ``{ }`` group, ``( )`` subshell or
    ``if`` whose statements all always succeed."""
    node = _body(node)
    if node.type in ("compound_statement", "subshell", "else_clause"):
        inner = [c for c in node.named_children if c.type != "comment"]
        return bool(inner) and all(_always_succeeds(c) for c in inner)
    if node.type in _LOOPS:
        # Only a loop that hides a check's failure (`X || continue`) counts: a loop that
        # waits (`while [ ! -f x ]; do sleep 1; done`) is run as written.
        group = node.child_by_field_name("body")
        inner = [c for c in group.named_children if c.type != "comment"] if group else []
        masked = bool(_loop_masks(node))
        return masked and all(_always_succeeds(c) for c in errexit(inner)[0])
    if node.type == "if_statement":
        conditions = node.children_by_field_name("condition")
        parts = [c for c in node.named_children if c.type != "comment" and c not in conditions]
        return all(_always_succeeds(c) for c in parts)
    if node.type == "list":
        left, op, right = node.children[0], node.children[1], node.children[-1]
        return _always_succeeds(right) and (op.type == "||" or _always_succeeds(left))
    if NEVER_FAILS.fullmatch(" ".join((node.text or b"").decode().split())):
        return True
    name = _name(node)
    if name is not None and (name.rsplit("/", 1)[-1] in MASKS or name in _LOOP_EXITS):
        return True
    args = [c for c in node.named_children if c.type != "command_name"]
    if name == "exit":
        return len(args) == 1 and (args[0].text or b"").strip() == b"0"
    words = [(a.text or b"").decode().strip("'\"") for a in args]
    if name in _PREFIXES and words and words[0].rsplit("/", 1)[-1] in MASKS:
        return True  # command true, builtin true, env true
    if name in ("sh", "bash", "dash", "zsh") and words[:1] == ["-c"] and len(words) == 2:
        return NEVER_FAILS.fullmatch(words[1]) is not None or words[1] in ("exit 0", "true", ":")
    if node.type == "pipeline":
        # `echo FAIL | tee log`: the last command's status, and it only passes text on.
        last = node.named_children[-1]
        return _always_succeeds(node.named_children[0]) and _name(last) in ("tee", "cat")
    return False


def _only_reports(node: Node) -> bool:
    """A branch of an ``if`` that only prints (to the terminal) or succeeds: judging the ``if``
    by its condition, which drops the branch, loses nothing."""
    if node.type == "else_clause":
        inner = [c for c in node.named_children if c.type != "comment"]
        return bool(inner) and all(_only_reports(c) for c in inner)
    if node.type == "redirected_statement":
        for redirect in node.children_by_field_name("redirect"):
            target = redirect.child_by_field_name("destination")
            if redirect.type != "file_redirect" or target is None or target.type != "number":
                return False  # `> file` writes something the rest may rely on
    name = _name(node)
    if name == "exit":
        return _always_succeeds(node)
    return name is not None and name.rsplit("/", 1)[-1] in MASKS


def _is_report(node: Node) -> bool:
    name = _name(node)
    return name is not None and name.rsplit("/", 1)[-1] in ("echo", "printf")


def _name(node: Node) -> str | None:
    node = _body(node)
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


def ignored_failures(script: str) -> list[tuple[int, str, str]]:
    """Lines of ``script`` that look like checks but whose failure is ignored (a ``! cmd``
    line, ``cmd && echo ok`` before the last line, ``X || continue`` in a loop, anything after
    ``trap "exit 0" EXIT``, ...): (line in the script, why, how to write it so that its
    failure fails the script). A command in the background, or one after the user's own
    ``set +e``, is named only when nothing else in the script can fail (a server started for
    the lines after it is no check)."""
    root = parse(script)
    if root.has_error:
        return []
    statements = [c for c in root.named_children if c.type != "comment"]
    honoured, skipped = errexit(statements)
    can_fail = not all(_always_succeeds(s) for s in honoured)
    found = []
    for ignored in skipped:
        if ignored.fix is None or (can_fail and ignored.alone):
            continue
        found.append((ignored.node.start_point.row + 1, ignored.why, ignored.fix))
    return found
