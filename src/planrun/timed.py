"""bash's ``time`` keyword before a check (``time pytest -q || exit 1``, ``time ! ./cli --bad``).

``time`` only prints how long the pipeline after it took, to the shell's stderr; the status is
the pipeline's. tree-sitter-bash reads it as a command named ``time`` whose arguments are the
pipeline's words, so a rule that looks for ``!`` or for the program's name would not find them:
the check is read as if the ``time`` were not there, and judged as that script would be.
"""

from __future__ import annotations

from tree_sitter import Node

from planrun.errexit import command_name, in_substitution, text_of, walk
from planrun.shellsplit import parse

# What `time` itself takes before the pipeline: `-p` (POSIX format) and the end of options.
_OWN_OPTIONS = frozenset({"-p", "--"})


def untimed(script: str) -> str | None:
    """``script`` without the ``time`` keyword at the head of its pipelines; None when it has
    none (or bash could not parse it). Not ``\\time`` or ``"time"`` (the program, not the
    keyword), nor one in a ``$(...)`` (what it prints there may be what a test reads)."""
    if "time" not in script:
        return None
    root = parse(script)
    cuts: list[tuple[int, int]] = []
    for node in walk(root):
        start = _pipeline_start(node)
        if start is not None:
            cuts.append((node.start_byte, start))
    if not cuts:
        return None
    data = script.encode()
    for begin, end in sorted(cuts, reverse=True):
        data = data[:begin] + data[end:]
    # tree-sitter misreads `time ! (X)`, which bash runs: only its untimed form must parse
    return None if parse(data.decode()).has_error else data.decode()


def timed_program(node: Node) -> str | None:
    """The name of the program ``time`` runs in ``node`` (``time nosuchtool --x``: nosuchtool),
    else ``node``'s own command name."""
    name = command_name(node)
    if name != "time":
        return name
    words = [text_of(c) for c in node.children_by_field_name("argument")]
    skipped = _skipped(words)
    return words[skipped] if skipped < len(words) else None


def _skipped(words: list[str]) -> int:
    count = 0
    while count < len(words) and words[count] in _OWN_OPTIONS:
        count += 1
    return count


def _pipeline_start(node: Node) -> int | None:
    """Where the pipeline that the keyword ``time`` of ``node`` times begins; None when
    ``node`` is no such ``time``."""
    if node.type != "command" or in_substitution(node):
        return None
    name = node.child_by_field_name("name")
    if name is None or text_of(name) != "time" or name.start_byte != node.start_byte:
        return None  # `X=1 time cmd`: an assignment first makes it the program
    parent = node.parent
    if parent is not None and parent.type == "pipeline" and parent.children[0].id != node.id:
        return None  # `a | time b`: not where bash reads the keyword
    # not only its arguments: tree-sitter puts `time (X)`'s subshell beside them
    after = [c for c in node.children if c.start_byte >= name.end_byte]
    skipped = _skipped([text_of(c) for c in after])
    if skipped >= len(after):
        return None  # `time` alone times nothing: nothing to judge in its place
    return after[skipped].start_byte
