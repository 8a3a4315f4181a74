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

from tree_sitter import Node

from planrun.errexit import command_name, commands_in, text_of, walk
from planrun.passedover import SEARCHES, squeezed

Failures = tuple[tuple[int, str], ...]

_WHERE = "-e (planrun runs a check with `bash -eo pipefail`, as GitHub Actions does) ends it there"


def stopped_without_failing(
    root: Node, failures: Failures, statuses: tuple[int, ...], code: int | None
) -> str | None:
    """Why the script ``root`` (which ended with ``code``) stopped at a line that checks
    nothing, with how to write it; None when its last failure was no such line."""
    if code != 1 or not failures or len(statuses) != len(failures) or statuses[-1] != 1:
        return None
    line, command = failures[-1]
    flat = squeezed(command)
    if flat.startswith(("((", "let ")):
        expression = flat[2:-2].strip() if flat.startswith("((") else flat[4:].strip()
        return (
            f"`{flat}` stopped the script at line {line}: an arithmetic command whose value is "
            f"0 exits 1, and {_WHERE} (write `: $(({expression}))`)"
        )
    assignment = _assignment(root, flat)
    if assignment is None:
        return None
    searches = [c for c in commands_in(assignment) if command_name(c) in SEARCHES]
    if not searches:
        return None
    search = " ".join(text_of(searches[0]).split())
    name = text_of(assignment).split("=", 1)[0]
    value = text_of(assignment)[len(name) + 1 :]
    fix = f"{name}=$({value[2:-1]} || true)" if value.startswith("$(") else None
    how = f" (write `{fix}`)" if fix and "\n" not in fix else ""
    return (
        f"`{flat}` stopped the script at line {line}: `{search}` found no match (exit 1), "
        f"the assignment failed with it, and {_WHERE}{how}"
    )


def _assignment(root: Node, command: str) -> Node | None:
    """The assignment written as ``command`` (``n=$(grep -c x f)``), whose value is one command
    substitution; None when there is none."""
    for node in walk(root):
        if node.type != "variable_assignment" or squeezed(text_of(node)) != command:
            continue
        value = node.child_by_field_name("value")
        if value is not None and value.type == "command_substitution":
            return node
    return None
