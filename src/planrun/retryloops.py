"""Retry loops that give up quietly: a wait whose loop ends with exit 0 when what it waits for
never came.

``for i in $(seq 30); do curl -fs URL && break; sleep 1; done`` leaves by ``break`` when curl
succeeds and by running out of turns when it never does, and either way its status is 0 (the
``break``'s, or the last ``sleep``'s). So is ``until P; do sleep 1; [ $n -ge 30 ] && break;
done``, which gives up by ``break``. A script that ends with such a loop (nothing after it but
reports) passes whether or not the server answered: planrun cannot see whether what it waited
for ever came. A check after the loop (``curl -fs URL`` once more, ``pytest``) decides, and the
loop is then only a wait; so does ``exit 1`` after ``done`` with ``exit 0`` in the loop.
"""

from __future__ import annotations

from tree_sitter import Node

from planrun.errexit import (
    LOOPS,
    always_succeeds,
    body_of,
    command_name,
    flat,
    functions_of,
    text_of,
    walk,
)
from planrun.shellsplit import parse

FIX = "run the check once more after the loop, or `exit 1` after `done` with `exit 0` for `break`"
_LEAVES = ("break", "exit", "return")
# A test of a count (`[ $n -ge 30 ]`, `(( tries++ > 5 ))`): leaving on it is giving up.
_COUNTS = frozenset({"-eq", "-ne", "-gt", "-ge", "-lt", "-le"})


def gives_up(script: str) -> str | None:
    """The command a script's last loop waits for, when the loop is the last thing in the
    script that can fail and it ends with exit 0 when that command never succeeds; else
    None."""
    if "done" not in script or not any(word in script for word in (*_LEAVES, "until", "while")):
        return None
    root = parse(script)
    if root.has_error:
        return None
    return _last_loop(root, functions_of(root), depth=0)


def _last_loop(block: Node, functions: dict[str, Node], depth: int) -> str | None:
    """:func:`gives_up` of the statements of ``block``, looking into a ``( )`` or ``{ }``
    that ends it, or into the function of the script it ends by calling."""
    statements = [c for c in block.named_children if c.type != "comment"]
    while statements and always_succeeds(statements[-1]):
        statements.pop()  # `echo "server is up"`: reports after the loop
    if not statements or depth > 2:
        return None
    last = body_of(statements[-1])
    if last.type in LOOPS:
        return _quiet(last)
    if last.type in ("subshell", "compound_statement"):
        return _last_loop(last, functions, depth + 1)  # `( for ...; done )`
    name = command_name(last)
    if name in functions:
        return _last_loop(functions[name], functions, depth + 1)  # `wait_up() {...}; wait_up`
    return None


def _quiet(loop: Node) -> str | None:
    group = loop.child_by_field_name("body")
    body = [c for c in group.named_children if c.type != "comment"] if group else []
    leaves = [found for c in body if (found := _leaves_on(c)) is not None]
    counted = _counted_condition(loop)
    if body and not leaves and counted is not None and not _fails_out(group):
        last = body[-1]
        if always_succeeds(last) or command_name(last) == "sleep":
            return _named(counted)  # `until curl -fs URL || [ $n -ge 30 ]; do ...; done`
    if not body or not leaves or _fails_out(group):
        return None  # `[ $i -eq 3 ] && exit 1` in it: giving up fails
    waited = [condition for condition in leaves if not _counts(condition)]
    condition = _condition(loop)
    probe = waited[0] if waited else condition
    if probe is None:
        return None
    if len(waited) < len(leaves):
        return _named(probe)  # it gives up by leaving: exit 0, or a break's 0
    if loop.type == "while_statement" and not _counts(condition):
        return None  # `while true`/`until P`: it ends by what it waits for, or runs on
    last = body[-1]
    ending = body_of(last)
    if _leaves_on(last) is not None and ending.type == "list" and ending.children[1].type == "&&":
        return None  # `...; curl -fs URL && break; done`: its last turn ends with curl's status
    if always_succeeds(last) or command_name(last) == "sleep" or _leaves_on(last) is not None:
        return _named(probe)
    return None


def _fails_out(group: Node | None) -> bool:
    """Whether the loop's body has an ``exit`` with a failing status (``exit 1``)."""
    for node in walk(group) if group is not None else []:
        if command_name(node) == "exit":
            args = [text_of(c) for c in body_of(node).children_by_field_name("argument")]
            if args and args[0] not in ("0", '"0"', "'0'"):
                return True
    return False


def _leaves_on(node: Node) -> Node | None:
    """The condition on which ``node`` leaves the loop with exit 0 (``X && break``, ``if X;
    then ...; exit 0; fi``), or None."""
    body = body_of(node)
    if body.type == "list" and body.children[1].type == "||" and always_succeeds(body.children[-1]):
        body = body_of(body.children[0])  # `curl -fs URL && break || sleep 1`
    if body.type == "list" and body.children[1].type == "&&":
        return body.children[0] if _leaves(body.children[-1]) else None
    if body.type != "if_statement" or any(c.type == "elif_clause" for c in body.named_children):
        return None
    conditions = [c for c in body.children_by_field_name("condition") if c.is_named]
    branch = [
        c
        for c in body.named_children
        if c.type not in ("comment", "else_clause") and c not in conditions
    ]
    if len(conditions) != 1 or not branch or not _leaves(branch[-1]):
        return None
    return conditions[0]


def _leaves(node: Node) -> bool:
    """``break``, ``exit 0``, ``return 0``, or a bare ``exit``/``return`` (after a command
    that succeeded: its status, 0)."""
    name = command_name(node)
    if name not in _LEAVES:
        return False
    args = [text_of(c) for c in body_of(node).children_by_field_name("argument")]
    return name == "break" or args in ([], ["0"])


def _condition(loop: Node) -> Node | None:
    """What a ``while``/``until`` loop waits for (``until P``, ``while ! P``), or its count
    (``while [ $i -lt 30 ]``); None for a ``for`` loop or ``while true``."""
    if loop.type != "while_statement":
        return None
    found = [c for c in loop.children_by_field_name("condition") if c.is_named]
    if len(found) != 1 or command_name(found[0]) in ("true", ":"):
        return None
    condition = body_of(found[0])
    if condition.type == "negated_command" and condition.named_children:
        return condition.named_children[0]
    return condition


def _counted_condition(loop: Node) -> Node | None:
    """What an ``until P || [ $n -ge 30 ]`` (or ``while ! P && [ $n -lt 30 ]``) loop waits
    for, when its condition also ends it on a count: it then gives up with the status of its
    body's last command. None for any other loop."""
    if loop.type != "while_statement":
        return None
    found = [c for c in loop.children_by_field_name("condition") if c.is_named]
    condition = body_of(found[0]) if len(found) == 1 else None
    if condition is None or condition.type != "list":
        return None
    left, op, right = condition.children[0], condition.children[1], condition.children[-1]
    until = any(c.type == "until" for c in loop.children)
    if (op.type == "||") != until or not _counts(right) or _counts(left):
        return None
    probe = body_of(left)
    if not until and probe.type == "negated_command" and probe.named_children:
        return probe.named_children[0]
    return probe if until else None


def _counts(condition: Node | None) -> bool:
    """A test of a count: ``[ $n -ge 30 ]``, ``(( n > 5 ))``."""
    if condition is None:
        return False
    found = body_of(condition)
    if found.type in ("arithmetic_expansion", "compound_statement") or text_of(found).startswith(
        "(("
    ):
        return True
    return any(text_of(c) in _COUNTS for c in walk(found)) or any(
        c.type == "test_operator" and text_of(c) in _COUNTS for c in walk(found)
    )


def _named(node: Node) -> str:
    return flat(text_of(node))
