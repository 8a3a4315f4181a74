"""Checks that end themselves early with success: ``if ! command -v ruff >/dev/null; then echo
"SKIP: ruff not installed"; exit 0; fi`` and then ``ruff check .``. Where such an ``exit 0``
runs, the script passes without running what follows it, and its exit 0 shows nothing of the
work (reports.py watches whether it ran).

An ``exit 0`` is a skip when it runs because something failed (after ``||``, in an ``else``)
or because a condition about the machine held rather than a check passed: a negation
(``! command -v X``, ``[ ! -f package.json ]``), a probe for a tool (``command -v X``), a test
of strings or variables (``[ -z "$CI" ]``). An ``exit 0`` after a check that passed
(``curl -fs URL && exit 0`` in a retry loop, ``if pytest; then exit 0; fi``) is the check's
own success, not a skip. Not read: an ``exit`` in a function (where it is called decides), a
subshell or a pipe (it ends only that), a ``case`` arm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from planrun.checkoutput import PROBES
from planrun.errexit import SUBSTITUTIONS, always_succeeds, body_of, command_name, text_of

# Where an `exit` ends something other than the script, or where it is not read here.
_NOT_THE_SCRIPT = SUBSTITUTIONS | {"subshell", "pipeline", "function_definition", "case_item"}
_LOOP_PARTS = frozenset({"do_group", "for_statement", "c_style_for_statement", "while_statement"})
# test's operators on files: a test using one checks the work (`[ -f dist/app.js ]`).
_FILE_TESTS = re.compile(r"-[efdsxrwLhpSbcgukOGN]|-nt|-ot|-ef")
_TESTS = frozenset({"test", "[", "[["})


@dataclass(frozen=True)
class EarlyExit:
    """An ``exit 0`` that skips the rest of the script."""

    decider: Node  # the `if` or the list whose path leads to it
    condition: Node  # what decides whether it runs
    failure: bool  # it runs when ``condition`` fails (`||`, `else`), else when it succeeds
    reports: tuple[Node, ...]  # the statements before it in its block (what it prints first)
    statement: Node  # the script's statement it is in


def early_exit(node: Node) -> EarlyExit | None:
    """The skip that the command ``node`` is, when it is an ``exit`` with status 0 that runs
    on a path a condition about the machine (or a failure) decides; None otherwise."""
    if command_name(node) != "exit":
        return None
    found = _path(node)
    if found is None:
        return None
    decider, condition, failure, block = found
    if not _exits_zero(node, block, failure=failure):
        return None
    if not failure and not _about_the_machine(condition):
        return None  # `curl -fs URL && exit 0`: the check passed
    statement = decider
    while statement.parent is not None and statement.parent.type != "program":
        statement = statement.parent
        if statement.type in _NOT_THE_SCRIPT:
            return None  # `( [ -z "$CI" ] && exit 0 )`: it ends the subshell
    before = tuple(block[: block.index(node)]) if node in block else ()
    return EarlyExit(decider, condition, failure, before, statement)


def ends_early(node: Node) -> bool:
    """Whether ``node`` (the right of ``||``) is or ends with an ``exit`` with status 0."""
    body = body_of(node)
    if body.type == "compound_statement":
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and ends_early(inner[-1])
    return command_name(body) == "exit" and always_succeeds(body)


def _path(node: Node) -> tuple[Node, Node, bool, list[Node]] | None:
    """(the `if` or list deciding, its condition, whether a failure leads here, the
    statements of the block the ``exit`` is in)."""
    child = node
    while child.parent is not None and child.parent.type == "redirected_statement":
        child = child.parent
    statement, block = child, [child]
    parent = child.parent
    while parent is not None:
        if parent.type in _NOT_THE_SCRIPT or parent.type in _LOOP_PARTS:
            return None
        if parent.type == "program":
            return None  # an `exit 0` every run reaches: the script's own end (checkrules)
        if parent.type == "list":
            if parent.children[-1].id != child.id:
                return None  # `exit 0 && ...`: nothing decides it
            return parent, parent.children[0], parent.children[1].type == "||", block
        if child.id == statement.id:
            block = _statements(parent)
        if parent.type in ("if_statement", "elif_clause"):
            conditions = _conditions(parent)
            if any(c.id == child.id for c in conditions) or len(conditions) != 1:
                return None
            return parent, conditions[0], False, block
        if parent.type == "else_clause":
            owner = parent.parent
            conditions = _conditions(owner) if owner is not None else []
            if owner is None or len(conditions) != 1:
                return None
            return owner, conditions[0], True, block
        child, parent = parent, parent.parent
    return None


def _conditions(node: Node) -> list[Node]:
    return [c for c in node.children_by_field_name("condition") if c.is_named]


def _statements(block: Node) -> list[Node]:
    """The statements of a group or of an ``if``'s branch (not its condition or others)."""
    conditions = {c.id for c in _conditions(block)}
    skip = ("comment", "elif_clause", "else_clause")
    return [c for c in block.named_children if c.type not in skip and c.id not in conditions]


def _exits_zero(node: Node, block: list[Node], *, failure: bool) -> bool:
    """``exit 0``; a bare ``exit`` after a command that succeeds (``echo skip; exit``), or
    first on a path that a success leads to (the status it exits with is the condition's)."""
    args = [c for c in body_of(node).named_children if c.type != "command_name"]
    if args:
        return always_succeeds(node)
    statement = node
    while statement.parent is not None and statement.parent.type == "redirected_statement":
        statement = statement.parent
    index = next((i for i, c in enumerate(block) if c.id == statement.id), 0)
    if index > 0:
        return always_succeeds(block[index - 1])
    return not failure


def _about_the_machine(condition: Node) -> bool:
    """Whether a condition is about the machine or the run rather than a check of the work: a
    negation, a probe for a tool, a test of strings or variables (any part of an ``&&``)."""
    body = body_of(condition)
    if body.type == "negated_command":
        return True
    if body.type == "list":
        return any(_about_the_machine(c) for c in body.named_children)
    if body.type == "test_command":
        words = [text_of(c) for c in _leaves(body)]
    elif (command_name(body) or "") in _TESTS:
        words = [text_of(c) for c in body.children_by_field_name("argument")]
    else:
        return (command_name(body) or "") in PROBES
    if words[:1] == ["!"]:
        return True
    return not any(_FILE_TESTS.fullmatch(w) or "$(" in w or "`" in w for w in words)


def _leaves(node: Node) -> list[Node]:
    """The words and operators of a ``[[ ]]`` or ``[ ]`` expression, in order."""
    if node.child_count == 0 or node.type in ("word", "string", "raw_string", "number"):
        return [node]
    if node.type == "test_operator":
        return [node]
    return [
        leaf for c in node.children if c.type not in ("[", "]", "[[", "]]") for leaf in _leaves(c)
    ]
