"""A loop over named folders that checks only the ones present, where none is.

``for d in backend frontend; do if [ -f "$d/package.json" ]; then (cd "$d" && npm test); fi;
done`` (or ``[ -d "$d" ] || continue`` first) ends with exit 0 having run nothing when no
folder it names holds what it tests: the script skipped its check. planrun looks, after the
run, at the path each name makes (a check that ran needed it there, and one that did not run
made nothing): when it is there for none, the pass shows nothing.
"""

from __future__ import annotations

from pathlib import Path

from tree_sitter import Node

from planrun import lazyre
from planrun.errexit import (
    always_succeeds,
    body_of,
    command_name,
    flat,
    test_words,
    text_of,
    walk,
)
from planrun.shellsplit import parse

_TESTS = {"-d": Path.is_dir, "-f": Path.is_file, "-e": Path.exists}
_LITERAL = lazyre.compile(r"[\w.+@%=/-]+")  # a name without expansions, globs or quotes inside
_MOVES = frozenset({"cd", "pushd", "popd"})
_REMOVES = frozenset({"rm", "rmdir", "mv", "git"})  # what may take a folder away after its check


def none_present(script: str, cwd: Path | None) -> tuple[str, str, list[str]] | None:
    """(the test, the checks it guards, the names) of a script whose last statement that can
    fail is such a loop, when the test holds for none of the names now; else None."""
    if cwd is None or "done" not in script or "for" not in script:
        return None
    root = parse(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    if root.has_error:
        return None
    while statements and always_succeeds(statements[-1]):
        statements.pop()
    if not statements or body_of(statements[-1]).type != "for_statement":
        return None
    if any(command_name(c) in _MOVES for s in statements[:-1] for c in walk(s)):
        return None  # the names are then relative to another folder
    loop = body_of(statements[-1])
    variable = loop.child_by_field_name("variable")
    names = [text_of(c).strip("'\"") for c in loop.children_by_field_name("value")]
    if variable is None or not names or not all(_LITERAL.fullmatch(n) for n in names):
        return None
    if any(command_name(c) in _REMOVES for c in walk(loop)):
        return None  # what planrun looks at after the run may be gone for that reason
    guarded = _guarded(loop)
    if guarded is None:
        return None
    test, checks = guarded
    found = _path_test(test, text_of(variable))
    if found is None:
        return None
    kind, pattern = found
    if any(_TESTS[kind](cwd / pattern.format(name)) for name in names):
        return None
    return flat(text_of(test)), flat("; ".join(text_of(c) for c in checks)), names


def _guarded(loop: Node) -> tuple[Node, list[Node]] | None:
    """The test a loop's checks run under, and the checks: ``if T; then ...; fi`` as the whole
    body, or ``T || continue`` first."""
    group = loop.child_by_field_name("body")
    body = [c for c in group.named_children if c.type != "comment"] if group else []
    if len(body) == 1 and body_of(body[0]).type == "if_statement":
        found = body_of(body[0])
        if any(c.type in ("elif_clause", "else_clause") for c in found.named_children):
            return None
        conditions = [c for c in found.children_by_field_name("condition") if c.is_named]
        then = [c for c in found.named_children if c.type != "comment" and c not in conditions]
        return (conditions[0], then) if len(conditions) == 1 and then else None
    if len(body) < 2:
        return None
    first = body_of(body[0])
    if first.type != "list" or first.children[1].type != "||":
        return None
    if command_name(first.children[-1]) != "continue":
        return None
    return first.children[0], body[1:]


def _path_test(test: Node, variable: str) -> tuple[str, str] | None:
    """``[ -f "$d/package.json" ]``: ("-f", "{}/package.json") for the loop's variable."""
    words = test_words(test)
    if words is None or len(words) != 2 or words[0] not in _TESTS:
        return None
    path = words[1].strip('"')
    for form in (f"${{{variable}}}", f"${variable}"):
        if path.startswith(form):
            rest = path[len(form) :]
            if rest[:1].isalnum() or rest[:1] == "_":
                return None  # `$dir_x`: another variable
            if rest and not _LITERAL.fullmatch(rest):
                return None
            return words[0], "{}" + rest
    return None
