"""A check that runs only when a variable of the environment says so, where it did not.

``if [ -n "${CI:-}" ]; then pytest; fi`` (or ``[ "$RUN_E2E" = 1 ] && npm run e2e``) as the last
thing a script does that can fail checks nothing when CI is not set: it exits 0 having skipped
its check. On one line bash cannot tell planrun which branch it took, but planrun knows the
environment it gave the script: a test of one variable the script never sets itself is
evaluated with it after the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tree_sitter import Node

from planrun import lazyre
from planrun.errexit import always_succeeds, and_chain, body_of, flat, test_words, text_of
from planrun.shellsplit import parse

# `"$CI"`, `$CI`, `"${CI}"`, `"${CI:-}"`, `"${RUN_E2E:-0}"`, `"${X-default}"`
_VARIABLE = lazyre.compile(
    r"""(?P<q>"?)\$(?:(?P<bare>[A-Za-z_]\w*)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?-)(?P<default>[\w./-]*))?\})(?P=q)"""
)
_LITERAL = lazyre.compile(r"""["']?(?P<word>[\w./@:+-]*)["']?""")


def skipped_by_environment(script: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(the test, the checks it guards) when the script's last statement that can fail is an
    ``if`` without ``else`` (or a ``T && C``) on one variable of the environment, and ``env``
    makes the test fail; None otherwise."""
    if "$" not in script or re.search(r"(?:^|[\s;&|(])(?:source|\.)\s", script):
        return None  # a file it sources may set the variable
    root = parse(script)
    if root.has_error:
        return None
    statements = [c for c in root.named_children if c.type != "comment"]
    while statements and always_succeeds(statements[-1]):
        statements.pop()
    if not statements:
        return None
    last = statements[-1]
    if last.start_point.row != last.end_point.row:
        return None  # on lines of its own, bash's DEBUG trap says which ran (skips.py)
    guarded = _guarded(body_of(last))
    if guarded is None:
        return None
    test, checks = guarded
    holds = _holds(test, env, script)
    if holds is not False:
        return None
    return flat(text_of(test)), flat("; ".join(text_of(c) for c in checks))


def _guarded(node: Node) -> tuple[Node, list[Node]] | None:
    if node.type == "if_statement":
        if any(c.type in ("elif_clause", "else_clause") for c in node.named_children):
            return None
        conditions = [c for c in node.children_by_field_name("condition") if c.is_named]
        then = [c for c in node.named_children if c.type != "comment" and c not in conditions]
        return (conditions[0], then) if len(conditions) == 1 and then else None
    return and_chain(node)


def _holds(test: Node, env: Mapping[str, str], script: str) -> bool | None:
    """Whether ``[ -n "$CI" ]``, ``[ -z "${CI:-}" ]``, ``[ "$X" = 1 ]`` (``==``, ``!=``)
    holds in ``env``; None for any other test, or a variable the script sets itself."""
    found = body_of(test)
    negated = found.type == "negated_command"
    if negated:
        found = body_of(found.named_children[0])
    words = test_words(found)
    if words is None:
        return None
    if len(words) == 2 and words[0] in ("-n", "-z"):
        value = _value(words[1], env, script)
        result = None if value is None else (value != "") == (words[0] == "-n")
    elif len(words) == 3 and words[1] in ("=", "==", "!="):
        value = _value(words[0], env, script)
        literal = _LITERAL.fullmatch(words[2])
        if value is None or literal is None:
            return None
        result = (value == literal["word"]) == (words[1] != "!=")
    else:
        return None
    return None if result is None else result != negated


def _value(word: str, env: Mapping[str, str], script: str) -> str | None:
    match = _VARIABLE.fullmatch(word)
    if match is None:
        return None
    name = match["bare"] or match["name"]
    # Set, exported or read by the script itself: not the environment's to decide.
    if re.search(
        rf"(?:^|[\s;&|(]){name}\+?=|\b(?:export|read|declare|local|readonly)\b[^\n;]*\b{name}\b",
        script,
    ):
        return None
    value = env.get(name)
    op = match["op"]
    if op == ":-" and not value:
        return match["default"] or ""
    if op == "-" and value is None:
        return match["default"] or ""
    return value or ""
