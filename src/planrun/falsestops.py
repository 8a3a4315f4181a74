"""A script that -e stopped at a line that checks nothing: a count assigned from a search that
found none (``n=$(grep -c TODO src/app.py)``, ``count=$(grep -r TODO src | wc -l)``), or an
arithmetic counter whose value was 0 (``((PASS++))``, ``let n++``).

planrun runs a check as GitHub Actions runs ``shell: bash``, with -e and pipefail. There an
assignment fails with its substitution's status, so grep's exit 1 ("no match", the very count
the script goes on to test for 0) ends the script; so does ``((x++))`` with x at 0, which
exits 1. The script stopped before its test: that is not the work failing, and not a pass
either. planrun cannot say, and says why, from what its ERR trap recorded (the failure that
stopped the script is the last one recorded, with its status).
"""

from __future__ import annotations

import re

from tree_sitter import Node

from planrun import lazyre
from planrun.errexit import body_of, command_name, commands_in, if_parts, test_words, text_of, walk
from planrun.passedover import SEARCHES, squeezed

Failures = tuple[tuple[int, str], ...]

_WHERE = "-e (planrun runs a check with `bash -eo pipefail`, as GitHub Actions does) ends it there"


def stopped_without_failing(
    root: Node, failures: Failures, statuses: tuple[int, ...], code: int | None
) -> str | None:
    """Why the script ``root`` (which ended with ``code``) stopped at a line that checks
    nothing, with how to write it; None when its last failure was no such line, or when the
    test it stopped before would have failed anyway (``count=$(grep -c x f)`` then ``[
    "$count" -gt 0 ]``: grep found nothing, and the script fails on that)."""
    if code != 1 or not failures or len(statuses) != len(failures) or statuses[-1] != 1:
        return None
    line, command = failures[-1]
    flat = squeezed(command)
    counter = _counter(flat)
    if counter is not None and not _counts_failures(root, flat, counter):
        return (
            f"`{flat}` stopped the script at line {line}: an arithmetic command whose value is "
            f"0 exits 1, and {_WHERE} (write `: $(({counter}))`)"
        )
    assignment = _assignment(root, flat)
    if assignment is None:
        return None
    searches = [c for c in commands_in(assignment) if command_name(c) in SEARCHES]
    if not searches:
        return None
    name = text_of(assignment).split("=", 1)[0]
    if _next_test_passes(assignment, name, _printed(assignment, searches[0])) is not True:
        return None  # what it goes on to test needs a match: the script fails either way
    search = " ".join(text_of(searches[0]).split())
    value = text_of(assignment)[len(name) + 1 :]
    quote = '"' if value.startswith('"') else ""
    inner = value[len(quote) + 2 : len(value) - len(quote) - 1]
    fix = f"{name}={quote}$({inner} || true){quote}"
    how = f" (write `{fix}`)" if "\n" not in fix else ""
    return (
        f"`{flat}` stopped the script at line {line}: `{search}` found no match (exit 1), "
        f"the assignment failed with it, and {_WHERE}{how}"
    )


# An update of a counter, whose value can be 0 (`((PASS++))`, `let n+=1`, `((++i))`): not a
# test of one (`(( n >= 5 ))`, `(( n ))`), which fails the script as it should.
_COUNTER = lazyre.compile(
    r"(?:\+\+|--)\s*[A-Za-z_]\w*|[A-Za-z_]\w*\s*(?:\+\+|--|[-+*/%]?=(?!=)[^<>!=&|]*)"
)


def _counter(command: str) -> str | None:
    """The expression of ``((x++))`` or ``let x++`` when it only updates a counter, else None."""
    if command.startswith("((") and command.endswith("))"):
        expression = command[2:-2].strip()
    elif command.startswith("let "):
        expression = command[4:].strip().strip("'\"")
    else:
        return None
    return expression if _COUNTER.fullmatch(expression) else None


def _counts_failures(root: Node, command: str, expression: str) -> bool:
    """Whether the counter stopped at counts failures (``check || ((FAIL++))``, ``((errors +=
    1))``): then the script stopped where a check had failed, which is its failure."""
    named = re.match(r"[+\-\s]*([A-Za-z_]\w*)", expression)
    name = named.group(1) if named else ""
    if re.search(r"fail|err|bad|miss|broken|wrong|problem|issue", name, re.IGNORECASE):
        return True
    for node in walk(root):
        parent = node.parent
        if squeezed(text_of(node)) != command or parent is None:
            continue
        if (
            parent.type == "list"
            and parent.children[1].type == "||"
            and node == parent.children[-1]
        ):
            return True  # `check || ((n++))`: it counts when the check failed
    return False


def _printed(assignment: Node, search: Node) -> str:
    """What the assignment's substitution printed when its search found nothing: 0 for a
    count (``grep -c``, ``| wc -l``), else nothing."""
    last = commands_in(assignment)[-1]
    words = text_of(search).split()
    if command_name(last) == "wc" or any(re.fullmatch(r"-\w*c\w*", w) for w in words[1:]):
        return "0"
    return ""


def _next_test_passes(assignment: Node, name: str, value: str) -> bool | None:
    """Whether the first statement after ``assignment`` that reads ``$name`` lets the script
    go on with ``value`` in it: a test (``[ "$n" -eq 0 ]``, ``(( n == 0 ))``), a test before
    ``|| exit 1`` or ``&& exit 1``, or an ``if`` on one whose branch only fails the script;
    None when there is no such statement or planrun cannot tell."""
    statement = assignment
    while statement.parent is not None and statement.parent.type not in _BLOCKS:
        statement = statement.parent
    used = re.compile(rf"\$\{{?{re.escape(name)}\b|\(\([^)]*\b{re.escape(name)}\b")
    after = statement.next_named_sibling
    while after is not None and (after.type == "comment" or not used.search(text_of(after))):
        after = after.next_named_sibling
    if after is None:
        return None
    node = body_of(after)
    found = if_parts(node)
    if found is not None:
        condition, then, otherwise = found
        if otherwise or not then or not _fails(then[-1]):
            return None
        held = _holds(condition, name, value)
        return None if held is None else not held
    if node.type == "list" and _fails(node.children[-1]):
        held = _holds(node.children[0], name, value)
        if held is None:
            return None
        return held if node.children[1].type == "||" else not held
    return _holds(node, name, value)


_BLOCKS = frozenset({"program", "compound_statement", "do_group", "subshell"})


def _fails(node: Node) -> bool:
    """``exit N`` (N > 0), or a group ending in one."""
    body = body_of(node)
    if body.type == "compound_statement":
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and _fails(inner[-1])
    words = text_of(body).split()
    return words[:1] == ["exit"] and len(words) == 2 and words[1].isdigit() and words[1] != "0"


def _holds(node: Node, name: str, value: str) -> bool | None:
    """Whether the test ``node`` holds with ``value`` in ``$name``; None when it is no test
    planrun can work out (a test of other variables too, an operator it does not know)."""
    node = body_of(node)
    if node.type == "negated_command":
        inner = _holds(node.named_children[0], name, value)
        return None if inner is None else not inner
    text = text_of(node)
    if node.type == "compound_statement" or text.startswith("(("):
        arithmetic = re.fullmatch(r"\(\(\s*\$?(\w+)\s*(==|!=|<=|>=|<|>)\s*(\d+)\s*\)\)", text)
        if arithmetic is None or arithmetic[1] != name:
            return None
        return _compare(value or "0", arithmetic[2], arithmetic[3])
    words = test_words(node)
    if words is None:
        return None
    mine = {f"${name}", f'"${name}"', f"${{{name}}}", f'"${{{name}}}"'}
    words = [value if w in mine else w.strip("'\"") for w in words]
    if any("$" in w for w in words):
        return None  # another variable: not known here
    if len(words) == 2 and words[0] in ("-z", "-n"):
        return (words[1] == "") == (words[0] == "-z")
    if len(words) == 3:
        return _compare(words[0], words[1], words[2])
    return None


_ARITHMETIC = {"-eq": "==", "-ne": "!=", "-gt": ">", "-ge": ">=", "-lt": "<", "-le": "<="}


def _compare(left: str, operator: str, right: str) -> bool | None:
    if operator in ("=", "=="):
        return left == right
    if operator == "!=":
        return left != right
    operator = _ARITHMETIC.get(operator, operator)
    if operator not in ("==", "!=", ">", ">=", "<", "<=") or not (
        left.lstrip("-").isdigit() and right.lstrip("-").isdigit()
    ):
        return None
    a, b = int(left), int(right)
    return {
        "==": a == b,
        "!=": a != b,
        ">": a > b,
        ">=": a >= b,
        "<": a < b,
        "<=": a <= b,
    }[operator]


def _assignment(root: Node, command: str) -> Node | None:
    """The assignment written as ``command`` (``n=$(grep -c x f)``, ``n="$(grep -c x f)"``),
    whose value is one command substitution; None when there is none."""
    for node in walk(root):
        if node.type != "variable_assignment" or squeezed(text_of(node)) != command:
            continue
        value = node.child_by_field_name("value")
        if value is not None and value.type == "string":
            # the quotes change nothing of the status: bash's is the substitution's still
            inside = value.named_children
            whole = len(inside) == 1 and text_of(value) == f'"{text_of(inside[0])}"'
            value = inside[0] if whole else None
        if value is not None and value.type == "command_substitution":
            return node
    return None
