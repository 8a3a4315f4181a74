"""What an ``echo`` or ``printf`` in a script surely prints, and whether it reaches the output
planrun reads: the text planrun watches for to tell whether a report ran (reports.py).

Only text the shell prints exactly as written counts: not an expansion, an escape, a printf
conversion, a word joined across a line continuation. Only a report whose output surely
reaches the command's own stdout or stderr counts: every redirect on its way out is followed
(``>&2`` keeps it, ``> file`` loses it), a pipe keeps it only through ``tee`` or ``cat``, and
anything that may send the script's output elsewhere for good (``exec > log``, a sourced file
that does, ``coproc``, an ``echo`` defined as a function or alias, ``set -v``, which prints
every line as read) makes every report unwatchable.
"""

from __future__ import annotations

import re
from pathlib import Path

from tree_sitter import Node

from planrun import lazyre
from planrun.errexit import (
    ECHO_OPTION,
    SUBSTITUTIONS,
    body_of,
    command_name,
    only_call,
    report_message,
    report_name,
    sourced_absent,
    sourced_text,
    text_of,
    walk,
)

# Fixed text shorter than this could be printed by anything: not watched.
_MIN_NEEDLE = 3
# What echo -e or printf may print otherwise than as written: an escape, a conversion.
_ESCAPE = lazyre.compile(
    r"\\(?:[0-7]{1,4}|x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|.)?"
)
_CONVERSION = lazyre.compile(r"%[-+ #0-9.*']*[a-zA-Z%]?")
_REDIRECT = lazyre.compile(r"(?P<fd>\d*)(?P<op>&>>?|>&|>>|>\||>|<&|<>|<<<|<<-?|<)(?P<to>.*)")
_TERMINAL = {"/dev/stdout": "1", "/dev/stderr": "2"}
_PASSES_ON = frozenset({"tee", "cat"})  # a pipe into these still prints what they are given
# In a script or a file it sources: what may send its output elsewhere for good.
_REDIRECTS_SHELL = lazyre.compile(r"(?m)^[^#\n]*?\b(?:exec|coproc)\b[^\n]*")
_VERBOSE = lazyre.compile(r"(?m)^\s*set\s+(?:[-+]\w+\s+)*(?:-\w*v\w*|-o\s+verbose)\b")
_REDEFINES = lazyre.compile(
    r"(?m)^\s*(?:alias\s+(?:echo|printf)=|function\s+(?:echo|printf)\b|(?:echo|printf)\s*\(\s*\))"
)
_DUP_ONLY = lazyre.compile(r"\s[12]?>&[12]\b")
_TEE = lazyre.compile(r"[12]?>\s*>\(\s*tee\b[^)]*\)")  # exec > >(tee -a log): it prints all it gets
_SOURCES = lazyre.compile(r"(?m)^\s*(?:builtin\s+)?(?:source|\.)\s")


def needle(report: Node) -> bytes | None:
    """The longest text ``report`` (an echo or printf) prints verbatim wherever it runs, when
    its output surely reaches the command's own; None when there is none long enough to tell
    it from other output."""
    if not reaches_output(report) or "\\\n" in text_of(report):
        return None  # a line continuation joins words the syntax tree keeps apart
    heredoc = heredoc_of(report)
    if heredoc is not None:
        return _longest(_heredoc_pieces(heredoc))
    words = [c for c in body_of(report).children_by_field_name("argument") if c.is_named]
    if command_name(report) in ("builtin", "command"):
        words = words[1:]
    pieces: list[str] = [""]
    if report_name(report) == "printf":
        if not words or (_static(words[0]) or "-").startswith("-"):
            return None  # printf -v x (prints nothing), printf -- ..., a format not written
        fixed, _ = _pieces(words[0])
        pieces = [p for piece in fixed for p in _CONVERSION.split(piece)]
    else:
        while words and ECHO_OPTION.fullmatch(_static(words[0]) or ""):
            words = words[1:]
        for word in words:
            fixed, whole = _pieces(word)
            if any("\\c" in piece for piece in fixed):
                pieces.append(" ".join(fixed).split("\\c", 1)[0])
                break  # echo -e "\c" ends the output there
            pieces[-1] += (" " if pieces[-1] else "") + (fixed[0] if fixed else "")
            pieces.extend(fixed[1:])
            if not whole:
                pieces.append("")
    return _longest([p for piece in pieces for p in _ESCAPE.split(piece)])


def whole_line(report: Node) -> str | None:
    """The whole line an ``echo`` prints, when all of it is written as is (no option, escape
    or expansion) and it surely reaches the output; else None."""
    if (
        report_name(report) != "echo"
        or command_name(report) != "echo"
        or not reaches_output(report)
    ):
        return None
    words = [c for c in body_of(report).children_by_field_name("argument") if c.is_named]
    fixed = [_static(w) for w in words]
    if not fixed or any(w is None or "\\" in w for w in fixed):
        return None
    said = " ".join(w for w in fixed if w is not None)
    if ECHO_OPTION.fullmatch(said.split(" ", 1)[0]) or len(said.strip()) < _MIN_NEEDLE:
        return None
    return said if "\n" not in said else None


def _longest(pieces: list[str]) -> bytes | None:
    best = max((p.strip() for p in pieces), key=len, default="")
    return best.encode() if len(best) >= _MIN_NEEDLE else None


def message(report: Node) -> str:
    """What a report is written to print, for a reason: an echo's words, a here-document's
    first line."""
    heredoc = heredoc_of(report)
    if heredoc is None:
        return report_message(report)
    body = next((c for c in heredoc.named_children if c.type == "heredoc_body"), None)
    lines = [line.strip() for line in text_of(body).splitlines() if line.strip()] if body else []
    return lines[0] if lines else ""


def heredoc_of(report: Node) -> Node | None:
    """The here-document a ``cat`` reads (``X || cat <<EOF``: tree-sitter puts it on the
    statement whose last command the cat is)."""
    if command_name(report) != "cat" or any(
        c.is_named for c in body_of(report).children_by_field_name("argument")
    ):
        return None
    node = report
    while node.parent is not None:
        parent = node.parent
        if parent.type == "list" and parent.named_children[-1].id != node.id:
            return None
        if parent.type not in ("list", "redirected_statement"):
            return None
        found = next((c for c in parent.children if c.type == "heredoc_redirect"), None)
        if found is not None:
            return found
        node = parent
    return None


def _heredoc_pieces(heredoc: Node) -> list[str]:
    """The lines of a here-document printed as written: all of a quoted one (``<<'EOF'``),
    the text between expansions of another."""
    start = next((c for c in heredoc.named_children if c.type == "heredoc_start"), None)
    body = next((c for c in heredoc.named_children if c.type == "heredoc_body"), None)
    if body is None:
        return []
    if start is not None and text_of(start)[:1] in ("'", '"'):
        return text_of(body).splitlines()
    contents = [text_of(c) for c in body.named_children if c.type == "heredoc_content"]
    if not body.named_children:
        contents = [text_of(body)]
    return [p for piece in contents for line in piece.splitlines() for p in _ESCAPE.split(line)]


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
        pieces: list[str] = []
        cursor = word.start_byte + 1  # after the opening quote
        whole = True
        for child in word.named_children:
            if child.type != "string_content":
                whole = False
                continue
            if child.start_byte != cursor or not pieces:
                whole = whole and child.start_byte == cursor
                pieces.append("")
            pieces[-1] += text_of(child)
            cursor = child.end_byte
        whole = whole and cursor == word.end_byte - 1
        return (pieces or [""]), whole and len(pieces) <= 1
    if word.type == "word" and not re.search(r"[\\$*?\[{~`]", text):
        return [text], True
    return [], False


def reaches_output(report: Node, stream: int = 1) -> bool:
    """Whether what ``report`` prints on ``stream`` (1: stdout, 2: stderr) reaches the
    script's own stdout or stderr: every redirect on the way out leaves it on fd 1 or 2, no
    pipe takes it (but into ``tee`` or ``cat``), no function, substitution or job in the
    background holds it."""
    node: Node | None = report
    while node is not None and node.type != "program":
        redirects = [c for c in node.children if c.type == "file_redirect"]
        if _feeds_a_pipe(node, redirects):
            return False
        if redirects:
            found = through(redirects, stream)
            if found is None:
                return False
            stream = found
        if node.type == "function_definition" and (call := only_call(node)) is not None:
            node = call  # called once, as a statement: what it prints goes where that goes
            continue
        if node.type in ("function_definition", *SUBSTITUTIONS) or _backgrounded(node):
            return False
        parent = node.parent
        if parent is not None and parent.type == "pipeline":
            after = parent.named_children
            at = next(i for i, c in enumerate(after) if c.id == node.id)
            for later in after[at + 1 :]:
                if command_name(later) not in _PASSES_ON or not _keeps(later):
                    return False
        node = parent
    return True


def _feeds_a_pipe(node: Node, redirects: list[Node]) -> bool:
    """``a || echo M | cat < /dev/null``: tree-sitter puts the input redirect on the list,
    bash on the pipe's last command, which then reads it instead of the message."""
    body = body_of(node) if node.type == "redirected_statement" else node
    if body.type not in ("list", "pipeline"):
        return False
    return any(text_of(r).lstrip("0123456789").startswith("<") for r in redirects)


def _keeps(node: Node) -> bool:
    """Whether a ``tee`` or ``cat`` in a pipe prints what it is given unchanged: no redirect
    (``cat < /dev/null`` reads something else), ``cat`` with no argument (``cat -v`` changes
    the text), ``tee`` given only files (and ``-a``)."""
    levels = [node, body_of(node)]
    if any(c.type.endswith("redirect") for level in levels for c in level.children):
        return False
    words = [text_of(c) for c in body_of(node).children_by_field_name("argument")]
    if command_name(node) == "cat":
        return not words
    return all(w == "-a" or not w.startswith("-") for w in words)


def _backgrounded(node: Node) -> bool:
    """Whether ``node`` is run in the background (``X &``): its output may come late."""
    after = node.next_sibling
    return after is not None and after.type == "&"


def through(redirects: list[Node], stream: int) -> int | None:
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
            table[1] = table[2] = _TERMINAL.get(to, "file")
        elif op == ">&":
            table[fd] = table.get(int(to), "other") if to.isdigit() else "closed"
        else:
            table[fd] = table.get(int(_TERMINAL[to]), "other") if to in _TERMINAL else "file"
    where = table.get(stream, "other")
    return int(where) if where in ("1", "2") else None


def output_stays(root: Node, script: str, cwd: Path | None) -> bool:
    """Whether nothing in the script (``root``, its text ``script``) or a file it sources may
    send its output elsewhere for good or change what ``echo`` is."""
    if not _text_stays(script):
        return False
    for node in walk(root):
        name = (command_name(node) or "").strip("\\\"'")
        if name in ("eval", "coproc"):
            return False
        if name in ("source", ".") or (name == "builtin" and _SOURCES.search(text_of(node))):
            text = sourced_text(node, cwd)
            if text is None and cwd is not None and not sourced_absent(node, cwd):
                return False  # unreadable: cannot tell (one not there is read after the run)
            if text is not None and (not _text_stays(text) or _SOURCES.search(text)):
                return False  # a file it sources in turn is not read
    return True


def _text_stays(text: str) -> bool:
    text = text.replace("\\\n", " ")  # a line continuation: one line to bash
    if _VERBOSE.search(text) or _REDEFINES.search(text):
        return False
    for line in _REDIRECTS_SHELL.finditer(text):
        if ">" in _TEE.sub("", _DUP_ONLY.sub("", line.group())):
            return False  # `exec > log`; `exec 2>&1` and `exec > >(tee log)` keep it
    return True
