"""Checks inside a script whose failure no exit status shows: ``test -f a.py || echo "missing
a.py"``, ``grep -q x f && echo found``, ``! grep -q TODO f`` before the script's last command
(or in a loop's body). Neither ``bash -e`` nor planrun's ERR trap sees such a failure, and the
script goes on to exit 0: a pass that shows nothing about the check.

Where the failure prints a message of its own (a report after ``||``), planrun watches the
command's output for the message's fixed text: when it never appears the report never ran,
so the check passed; when it appears, the check (or something printing the same text) failed,
and the pass shows nothing. Where nothing tells (``&& echo``, ``!``, a message with no fixed
text, output that may go elsewhere), planrun names the check it cannot see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from planrun.errexit import body_of, command_name, flat, status_read_after, text_of, walk
from planrun.shellsplit import parse

# Nothing to find without a list (&&, ||) or a negation (!): no syntax tree needed.
_MAY_HIDE = re.compile(r"&&|\|\||(?:^|[\s;&|({])!\s")
_REPORTS = frozenset({"echo", "printf"})
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
# Fixed text of a message shorter than this could be printed by anything: not watched.
_MIN_NEEDLE = 3
# What echo -e or printf may print otherwise than as written: an escape, a conversion.
_ESCAPE = re.compile(r"\\(?:[0-7]{1,4}|x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|.)?")
_CONVERSION = re.compile(r"%[-+ #0-9.*']*[a-zA-Z%]?")
_REDIRECT = re.compile(r"(?P<fd>\d*)(?P<op>&>>?|>&|>>|>\||>|<&|<>|<<<|<<-?|<)(?P<to>.*)")
_ECHO_OPTION = re.compile(r"-[neE]+")
# Commands after which a script's output may go anywhere planrun cannot follow.
_OPAQUE = frozenset({"eval", "source", "."})
_SOURCED_BYTES = 256 * 1024
_EXEC_REDIRECT = re.compile(r"\bexec\b[^\n]*[<>]")
_VERBOSE = re.compile(r"\bset\b[^\n]*(?:\s-[a-zA-Z]*v|-o\s+verbose)")


@dataclass(frozen=True)
class Hidden:
    """A check whose failure the script goes on after, with no exit status to show it."""

    line: int  # of the script
    command: str  # the check, flattened
    shape: str  # "the `|| echo`", "the `&& echo`", "the `!`"
    printed: str | None = None  # the message its failure prints, when planrun watches for it
    needle: bytes | None = None  # the fixed text of that message planrun looks for


def hidden(script: str, cwd: Path | None = None) -> tuple[Hidden, ...]:
    """The checks of ``script`` whose failure it goes on after without a sign in its exit
    status, in the order they are written: not the last command of its last statement (its
    status is the script's). ``cwd``: where files it sources by a literal path are read."""
    if not _MAY_HIDE.search(script):
        return ()
    root = parse(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    last = statements[-1] if statements else None
    watchable = _output_stays(root, script, cwd)
    found = []
    for node in walk(root):
        if _in_substitution(node):
            continue
        if node.type == "ERROR" and re.search(r"&&|\|\|", text_of(node)):
            line = node.start_point.row + 1
            found.append(Hidden(line, flat(text_of(node)), "a line planrun cannot read"))
            continue
        for index, child in enumerate(node.children):
            if child.type in ("||", "&&"):
                item = _after(node, index, last, watchable=watchable)
                if item is not None:
                    found.append(item)
        if node.type == "negated_command" and _negation_hides(node, last):
            inner = node.named_children[0] if node.named_children else node
            found.append(Hidden(node.start_point.row + 1, flat(text_of(inner)), "the `!`"))
    return tuple(found)


def _after(node: Node, index: int, last: Node | None, *, watchable: bool) -> Hidden | None:
    """What the ``||`` or ``&&`` at ``node.children[index]`` hides, when a report follows it."""
    operator = node.children[index].type
    right = next((c for c in node.children[index + 1 :] if c.is_named), None)
    if right is None:
        return None
    reports = _reports(right)
    if not reports or _final(right, last):
        return None
    left = _left(node, index)
    line = node.start_point.row + 1
    name = _name(reports[0])
    if operator == "&&":
        if any(not _to_terminal(r) or _redirected_away(r) for r in [right, *reports]):
            return None  # `X && echo 1 > a.py` writes a file: an action, not a report
        statement = _statement(node)
        if _or_after(node) or _is_condition(statement) or status_read_after(statement):
            return None  # `X && echo ok || echo no`: the `||` tells; or the script reads $?
        if last is not None and statement.id == last.id:
            return None  # X's failure fails the whole list, the script's last statement
        return Hidden(line, flat(text_of(left)), f"the `&& {name}`")
    if left.type == "list" and left.children[1].type == "&&" and _reports(left.children[-1]):
        left = left.children[0]  # `X && echo ok || echo no`: the check is X
    message = _message(reports[0])
    needles = [_needle(r) for r in reports] if watchable else []
    needle = max((n for n in needles if n is not None), key=len, default=None)
    return Hidden(line, flat(text_of(left)), f"the `|| {name}`", message, needle)


def _left(node: Node, index: int) -> Node:
    """The command before the operator: ``python3 - <<PY || echo x`` puts the operator in the
    here-document's redirect, whose statement's body is the command."""
    before = [c for c in node.children[:index] if c.is_named and c.type != "heredoc_start"]
    if node.type == "heredoc_redirect" and node.parent is not None:
        body = node.parent.child_by_field_name("body")
        return body if body is not None else node.parent
    return before[-1] if before else node


def _reports(node: Node) -> list[Node]:
    """The echo and printf commands of ``node`` when all it does is print (``echo x``, ``>&2
    echo x``, ``builtin echo x``, ``{ echo a; echo b; }``, ``(echo a)``), else none."""
    body = body_of(node)
    if body.type in ("compound_statement", "subshell"):
        inner = [c for c in body.named_children if c.type != "comment"]
        found = [_reports(c) for c in inner]
        return [r for group in found for r in group] if found and all(found) else []
    if body.type != "command":
        return []
    name = (command_name(body) or "").rsplit("/", 1)[-1]
    if name in ("builtin", "command"):
        words = _arguments(body)
        name = text_of(words[0]) if words else ""
    return [body] if name in _REPORTS else []


def _to_terminal(node: Node) -> bool:
    """Whether every redirect of ``node`` (a command or a redirected statement) leaves its
    output on stdout or stderr."""
    levels = [node, body_of(node)] if node.type == "redirected_statement" else [node]
    for level in levels:
        redirects = [c for c in level.children if c.type == "file_redirect"]
        if redirects and _through(redirects, 1) is None:
            return False
    return True


def _redirected_away(node: Node) -> bool:
    """Whether a redirect tree-sitter puts on the list that ``node`` ends (``a && echo 1 >
    f``: bash applies it to the echo) sends its output to a file."""
    while node.parent is not None and node.parent.type in ("list", "redirected_statement"):
        parent = node.parent
        if parent.type == "list" and parent.named_children[-1].id != node.id:
            return False
        if parent.type == "redirected_statement" and not _to_terminal(parent):
            return True
        node = parent
    return False


def _final(right: Node, last: Node | None) -> bool:
    """Whether ``right`` is the last command of the script's last statement (its status is
    the script's, read by checkrules)."""
    node = right
    while node.parent is not None and node.parent.type != "program":
        parent = node.parent
        if parent.type == "list" and parent.named_children[-1].id != node.id:
            return False
        if parent.type not in ("list", "redirected_statement"):
            return False
        node = parent
    return last is not None and node.id == last.id


def _or_after(node: Node) -> bool:
    """Whether a ``||`` follows ``node`` in its list (``X && echo ok || echo no``): the
    ``||``'s report tells whether X failed."""
    while node.parent is not None and node.parent.type == "list":
        parent = node.parent
        if parent.children[0].id == node.id and parent.children[1].type == "||":
            return True
        node = parent
    return False


def _negation_hides(node: Node, last: Node | None) -> bool:
    if node.parent is not None and node.parent.type == "list":
        return False  # `! X && echo`, `! X || echo`: the list's operator decides
    statement = _statement(node)
    if last is not None and statement.id == last.id:
        return False
    return not _is_condition(statement) and not status_read_after(statement)


def _name(report: Node) -> str:
    """``echo``, ``/bin/echo``, ``builtin echo``: how the report is named in a reason."""
    name = command_name(report) or "echo"
    words = _arguments(report)
    if name in ("builtin", "command") and words:
        return f"{name} {text_of(words[0])}"
    return name


def _message(report: Node) -> str:
    words = [text_of(w).strip("'\"") for w in _arguments(report)]
    if len(_name(report).split()) > 1:
        words = words[1:]
    return flat(" ".join(w for w in words if not _ECHO_OPTION.fullmatch(w)))


def _arguments(command: Node) -> list[Node]:
    return [c for c in command.children_by_field_name("argument") if c.is_named]


def _needle(report: Node) -> bytes | None:
    """The longest text ``report`` (an echo or printf) prints verbatim wherever it runs, when
    its output surely reaches the command's own; None when there is none long enough to tell
    it from other output."""
    if not _reaches_output(report):
        return None
    words = _arguments(report)
    name = (command_name(report) or "").rsplit("/", 1)[-1]
    if name in ("builtin", "command") and words:
        name, words = text_of(words[0]), words[1:]
    format_only = name == "printf"
    if format_only:
        if not words or (_static(words[0]) or "-").startswith("-"):
            return None  # printf -v x (prints nothing), printf -- ..., a format not written
        words = words[:1]  # only the format is printed as written; arguments are formatted
    while words and _ECHO_OPTION.fullmatch(_static(words[0]) or ""):
        words = words[1:]
    pieces: list[str] = [""]
    for word in words:
        fixed, whole = _pieces(word)
        if "\\c" in "".join(fixed):
            pieces.append("".join(fixed).split("\\c", 1)[0])
            break  # echo -e "\c" ends the output there
        pieces[-1] += (" " if pieces[-1] else "") + (fixed[0] if fixed else "")
        pieces.extend(fixed[1:])
        if not whole:
            pieces.append("")
    fixed = [p for piece in pieces for p in _ESCAPE.split(piece)]
    if format_only:
        fixed = [p for piece in fixed for p in _CONVERSION.split(piece)]
    best = max((p.strip() for p in fixed), key=len, default="")
    return best.encode() if len(best) >= _MIN_NEEDLE else None


def _static(word: Node) -> str | None:
    """The text a word prints as written, or None when the shell expands any of it."""
    fixed, whole = _pieces(word)
    return fixed[0] if whole and len(fixed) == 1 else None


def _pieces(word: Node) -> tuple[list[str], bool]:
    """The runs of text of a word the shell leaves as written (``"MISSING $f"``: ``MISSING``),
    and whether that is all of it."""
    text = text_of(word)
    if word.type == "raw_string":
        return [text[1:-1]], True
    if word.type == "string":
        fixed = [text_of(c) for c in word.named_children if c.type == "string_content"]
        whole = all(c.type == "string_content" for c in word.named_children)
        return (fixed or [""]), whole and len(fixed) <= 1
    if word.type == "word" and not re.search(r"[\\$*?\[{~`]", text):
        return [text], True
    return [], False


def _reaches_output(report: Node) -> bool:
    """Whether what ``report`` prints reaches the script's own stdout or stderr, which planrun
    reads: every redirect on the way out leaves it on fd 1 or 2, no pipe takes it (but
    ``| tee``), no function, substitution or job in the background holds it."""
    stream = 1
    node: Node | None = report
    while node is not None and node.type != "program":
        redirects = [c for c in node.children if c.type == "file_redirect"]
        if redirects:
            found = _through(redirects, stream)
            if found is None:
                return False
            stream = found
        parent = node.parent
        if node.type in ("function_definition", *_SUBSTITUTIONS):
            return False
        if parent is not None and parent.type == "pipeline":
            after = parent.named_children
            at = next(i for i, c in enumerate(after) if c.id == node.id)
            if any(command_name(c) != "tee" for c in after[at + 1 :]):
                return False
        node = parent
    return True


def _through(redirects: list[Node], stream: int) -> int | None:
    """Where fd ``stream`` of a command goes after its ``redirects`` (1 or 2, the enclosing
    command's), or None when elsewhere (a file, a closed or other descriptor)."""
    table: dict[int, str] = {0: "0", 1: "1", 2: "2"}
    for redirect in redirects:
        match = _REDIRECT.fullmatch("".join(text_of(redirect).split()))
        if match is None:
            return None
        op, to = match["op"], match["to"]
        fd = int(match["fd"]) if match["fd"] else (0 if op.startswith("<") else 1)
        if op.startswith("<"):
            if fd in (1, 2):
                table[fd] = "input"
            continue
        if op.startswith("&>") or (op == ">&" and not match["fd"] and not to.isdigit()):
            table[1] = table[2] = "file"
        elif op == ">&":
            table[fd] = table.get(int(to), "other") if to.isdigit() else "closed"
        else:
            table[fd] = "file"
    where = table.get(stream, "other")
    return int(where) if where in ("1", "2") else None


def _output_stays(root: Node, script: str, cwd: Path | None) -> bool:
    """Whether nothing in the script may send its output elsewhere for good: an ``exec`` with
    redirects (but ``exec 2>&1``), ``eval``, a sourced file that does, ``set -v`` (which
    prints every line as read, messages too), a job in the background (its output may come
    after planrun stopped reading)."""
    if _VERBOSE.search(script):
        return False
    for node in walk(root):
        name = command_name(node)
        if name == "exec":
            around = [*node.children, *body_of(node).children]
            redirects = [c for c in around if c.type == "file_redirect"]
            if len(_arguments(body_of(node))) == 0 and any(
                _through(redirects, fd) is None for fd in (1, 2)
            ):
                return False
        elif name in _OPAQUE and not _sourced_stays(node, cwd):
            return False
    return not any(c.type == "&" for n in walk(root) for c in n.children)


def _sourced_stays(node: Node, cwd: Path | None) -> bool:
    """Whether a sourced file (a literal path, read from ``cwd``) leaves output alone."""
    if command_name(node) == "eval" or cwd is None:
        return False
    words = _arguments(body_of(node))
    if not words or _static(words[0]) is None:
        return False
    try:
        with (cwd / (_static(words[0]) or "")).open("rb") as file:
            text = file.read(_SOURCED_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return True  # it cannot be sourced: bash -e stops there, bash prints an error
    return not _EXEC_REDIRECT.search(text) and not _VERBOSE.search(text)


def _in_substitution(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _SUBSTITUTIONS:
            return True
        parent = parent.parent
    return False


def _is_condition(node: Node) -> bool:
    """An ``if``'s or a loop's condition: its failure is a choice of branch, not a check."""
    parent = node.parent
    while parent is not None and parent.type in ("redirected_statement", "list"):
        node, parent = parent, parent.parent
    if parent is None:
        return False
    return any(c.id == node.id for c in parent.children_by_field_name("condition"))


def _statement(node: Node) -> Node:
    """The statement ``node`` is the whole of (a list, with its redirects)."""
    while node.parent is not None and node.parent.type in ("list", "redirected_statement"):
        node = node.parent
    return node
