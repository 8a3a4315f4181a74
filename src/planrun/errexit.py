"""Which statements of a verify script can fail it, run as planrun runs it (``bash -eo
pipefail``), and which always succeed: the facts checkrules.py judges a check's shape by.

Under ``bash -e`` only some statements can fail a script: plain commands before a ``set +e``,
the last command of an ``a && b`` list, and the last statement. Its failure is also ignored
for a ``! cmd`` line, a command run in the background with ``&`` that no ``wait $!`` reads,
anything after ``trap "exit 0" EXIT``, ``X || continue`` / ``X || break`` in a loop's body,
and, after ``set +o pipefail``, a pipeline ending in a command that only passes text on
(``X | cat``). The data: :data:`MASKS` (commands that succeed whatever came before them) and
:data:`NEVER_FAILS` (commands that succeed wherever they run).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from planrun import lazyre
from planrun.shellnames import SHELL_NAMES
from planrun.shellsplit import parse

# Commands that succeed whatever came before them, as the last thing in a check.
MASKS = frozenset({"true", ":", "echo", "printf"})
# Commands that succeed wherever they run: no evidence of anything (whole command, words); a
# bare `wait` returns 0 whatever the jobs it waited for returned.
NEVER_FAILS = lazyre.compile(
    r"(?:test -[de] \.|\[\[? -[de] \. \]\]?|pwd|cd \.|sleep \d+(?:\.\d+)?[smhd]?|wait)"
)
# Commands that end a loop's turn with status 0: ``X || continue`` in a loop hides X's failure.
_LOOP_EXITS = frozenset({"continue", "break"})
# What sets up the shell itself: it checks nothing of the work, and does not fail as written.
_SHELL_SETUP = frozenset({"trap", "shopt", "umask"})
# Prefixes that run the command after them: judged by that command.
_PREFIXES = frozenset({"command", "builtin", "env", "exec", "nohup"})
# Programs that run the command among their arguments (`timeout 60 pytest`): what it checks.
WRAPPERS = _PREFIXES | {"timeout", "nice", "stdbuf", "time", "xvfb-run"}
# Statements that set up the shell rather than check anything.
_SETUP = frozenset(
    {"variable_assignment", "declaration_command", "unset_command", "function_definition"}
)


@dataclass(frozen=True)
class ShellFlags:
    """What the shell starts a script with: ``-e`` and ``-o pipefail`` (planrun's default
    shell, ``bash --noprofile --norc -eo pipefail -c``, has both; a plan's ``shell: bash`` is
    plain ``bash -c``, with neither)."""

    errexit: bool = True
    pipefail: bool = True


DEFAULT_FLAGS = ShellFlags()


def shell_flags(words: Sequence[str]) -> ShellFlags:
    """The flags of the shell command line ``words`` (its program, its options, then the
    option that takes the script): ``-e``, ``+e``, ``-o errexit``, ``-o pipefail``, and
    combined ones (``-eo pipefail``, ``-euo pipefail``); long options are skipped. Only the
    words after the last shell's name count (``stdbuf -eL bash -c``: stdbuf's ``-e`` is not
    bash's); a command line without a shell's name gets neither flag."""
    names = [Path(word).name for word in words]
    at = max((i for i, name in enumerate(names) if name in SHELL_NAMES), default=None)
    if at is None:
        return ShellFlags(errexit=False, pipefail=False)
    return ShellFlags(*_options(list(words[at + 1 :]), errexit_on=False, pipefail=False))


def shell_script(script: str) -> tuple[int, int, str, str, ShellFlags] | None:
    """A check that is one shell started on a script written out in it (``sh -c '...'``,
    ``bash -lc "..."``, ``timeout 60 bash -c '...'``): where that script's argument is (its
    start and end byte), the shell's name, the script's text and the shell's flags. None for
    anything else, or a script the outer shell would change first (an expansion, an escape)."""
    if "sh -" not in script:  # every shell's name ends in "sh"
        return None
    command = only_statement(script)
    name = command.child_by_field_name("name") if command and command.type == "command" else None
    if command is None or name is None:
        return None
    nodes = [name, *command.children_by_field_name("argument")]
    words = [text_of(n) for n in nodes]
    bases = [w.rsplit("/", 1)[-1] for w in words]
    at = 0
    if bases[0] in WRAPPERS:  # `timeout 60 bash -c`, `env X=1 sh -c`
        at = next((i for i, b in enumerate(bases) if b in SHELL_NAMES), 0)
    if bases[at] not in SHELL_NAMES:
        return None
    index, takes_script = at + 1, False
    while index < len(words) and words[index][:1] in ("-", "+") and words[index] != "--":
        option = words[index]
        index += 1
        if option.startswith("--"):
            continue  # --login, --noprofile (one taking a value, --rcfile, ends the reading)
        takes_script = takes_script or (option[0] == "-" and "c" in option)
        index += option.count("o")  # each `o` takes the next word (`-oc pipefail`)
    index += words[index : index + 1] == ["--"]  # `bash -c -- SCRIPT`
    if not takes_script or index >= len(words) or words[index][:1] in ("-", "+"):
        return None
    node = nodes[index]
    if node.type == "raw_string":
        text = words[index][1:-1]
    elif node.type == "string" and all(c.type == "string_content" for c in node.named_children):
        text = words[index][1:-1]
        if "\\" in text:
            return None  # escapes the outer shell removes first
    elif node.type == "word" and not re.search(r"[\\$`*?\[]", words[index]):
        text = words[index]
    else:
        return None
    flags = shell_flags(words[at:index])
    return node.start_byte, node.end_byte, bases[at], text, flags


def stdin_script(script: str) -> tuple[str, str, ShellFlags] | None:
    """A check that is one shell reading its script from a here-document whose delimiter is
    quoted (``bash <<'EOF' ... EOF``, ``sh -s <<"EOF"``: the outer shell leaves it as written):
    the shell's name, the script and the shell's flags. None for anything else."""
    if "<<" not in script:
        return None
    root = parse(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    if root.has_error or len(statements) != 1 or statements[0].type != "redirected_statement":
        return None
    node = statements[0]
    command = node.child_by_field_name("body")
    heredocs = [c for c in node.named_children if c.type == "heredoc_redirect"]
    name = command.child_by_field_name("name") if command and command.type == "command" else None
    if command is None or name is None or len(heredocs) != 1:
        return None
    words = [text_of(c) for c in (name, *command.children_by_field_name("argument"))]
    shell = words[0].rsplit("/", 1)[-1]
    options = words[1:]
    if shell not in SHELL_NAMES or not all(w[:1] in ("-", "+") and "c" not in w for w in options):
        return None  # `bash script.sh <<EOF` runs the file; `bash -c` its own words
    start = next((c for c in heredocs[0].named_children if c.type == "heredoc_start"), None)
    body = next((c for c in heredocs[0].named_children if c.type == "heredoc_body"), None)
    if start is None or body is None or text_of(start)[:1] not in ("'", '"'):
        return None  # unquoted: the outer shell expands `$x` in it first
    return shell, text_of(body), shell_flags(words)


def unwrapped(run: str) -> str:
    """The script a check that is one shell's ``-c`` runs (``sh -c 'grep -q x f'``: ``grep -q
    x f``), else the check: what the rules that read a program's own exit codes look at."""
    found = shell_script(run)
    return run if found is None else unwrapped(found[3])


def declared_flags(shell: str | None) -> ShellFlags:
    """The flags of a plan's ``shell:`` as written (``bash`` alone runs ``bash -c``); the
    default shell's when it has none or it cannot be read (execute refuses it then)."""
    if not shell:
        return DEFAULT_FLAGS
    try:
        words = shlex.split(shell)
    except ValueError:
        return DEFAULT_FLAGS
    return shell_flags(words) if words else DEFAULT_FLAGS


@dataclass(frozen=True)
class Ignored:
    """A statement whose failure does not fail the script: why, and how to write it so that
    it does (None: no warning)."""

    node: Node
    why: str  # "bash -e ignores a failure of `x`"
    fix: str | None = None
    alone: bool = False  # worth a warning only when nothing else in the script can fail


def errexit(
    statements: list[Node], flags: ShellFlags = DEFAULT_FLAGS
) -> tuple[list[Node], list[Ignored]]:
    """The statements whose failure fails the script under ``bash -eo pipefail``, and those
    that could fail but whose failure is ignored: a ``! cmd`` line, the commands of an
    ``a && b`` list before its last, anything after ``set +e`` but the last statement, a
    command run in the background with ``&`` that nothing waits for, anything after a
    ``trap "exit 0" EXIT``, ``X || continue`` in a loop, and ``X | cat`` after
    ``set +o pipefail``; ``flags``: the shell's own (a shell without ``-e`` or pipefail
    ignores those failures from the first line)."""
    honoured: list[Node] = []
    skipped: list[Ignored] = []
    on, pipefail = flags.errexit, flags.pipefail
    # Whether what is off is off from the shell (else a `set` of the script's own turned it
    # off): the fix differs.
    shell_e, shell_pipefail = not on, not pipefail
    trap: str | None = None
    for index, node in enumerate(statements):
        text = (node.text or b"").decode()
        if command_name(node) == "set":
            was = on, pipefail
            on, pipefail = set_options(node, on, pipefail)
            # A `set` of -e or +e (even one that changes nothing) is the script's own choice.
            shell_e = shell_e and not sets_errexit(node)
            shell_pipefail = shell_pipefail and pipefail == was[1]
            if index < len(statements) - 1:
                continue
        if command_name(node) == "trap" and _traps_success(node):
            trap = " ".join(text.split())
            continue
        skipped.extend(_loop_masks(node))
        if always_succeeds(node) or node.type in _SETUP:
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
            body = body_of(node)
            pipe = body.named_children
            last = flat(text_of(pipe[-1]))
            before = (body.text or b"")[: pipe[-2].end_byte - body.start_byte].decode()
            why = f"with pipefail off, the `| {last}` hides a failure of `{before}`"
            fix = f"remove the `set +o pipefail`, or drop the `| {last}`"
            if shell_pipefail:
                why = f"the shell runs without pipefail, and the `| {last}` hides a failure of "
                why += f"`{before}`"
                fix = f"add `set -o pipefail` first, or drop the `| {last}`"
            skipped.append(Ignored(node, why, fix))
        elif index == len(statements) - 1:
            honoured.append(node)
        elif not on and shell_e:
            why = f"the shell runs without -e, and a failure of `{text}` does not stop it"
            fix = "add `set -e` first, or `|| true` where a failure does not matter"
            skipped.append(Ignored(node, why, fix, alone=True))
        elif not on:
            fix = "remove the `set +e`, or make the check the last statement"
            why = f"bash -e ignores a failure of `{text}`"
            skipped.append(Ignored(node, why, fix, alone=True))
        elif node.type == "negated_command":
            inner = flat(text_of(node.named_children[0]))
            fix = f"write `if {inner}; then exit 1; fi`, or put it last"
            skipped.append(Ignored(node, f"bash -e ignores a failure of `{text}`", fix))
        elif body_of(node).type == "list":
            final = body_of(node).children[-1]
            # `X || failed=1` with nothing testing `$failed` later: noted, then dropped
            masked = body_of(node).children[1].type == "||" and sets_unread(final, node)
            if not masked:
                honoured.append(final)
            if always_succeeds(final) or masked:
                left = flat(text_of(body_of(node).children[0]))
                fix = f"put `{left}` on a line of its own, or put the list last"
                skipped.append(Ignored(node, f"bash -e ignores a failure of `{text}`", fix))
        else:
            honoured.append(node)
    return honoured, skipped


# How an exit status is read: ``$?``, ``${?}``, ``${PIPESTATUS[0]}`` (not in single quotes).
_STATUS = lazyre.compile(r"\$\{?(?:\?|PIPESTATUS)")
_EXPANSIONS = frozenset({"simple_expansion", "expansion"})
_COMPOUND = frozenset(
    {"compound_statement", "subshell", "if_statement", "case_statement", "function_definition"}
    | {"for_statement", "c_style_for_statement", "while_statement"}
)


def _reads_status(node: Node) -> bool:
    """Whether ``node`` expands ``$?`` or ``PIPESTATUS`` anywhere in it."""
    if node.type in _EXPANSIONS and _STATUS.match(text_of(node)):
        return True
    return any(_reads_status(child) for child in node.named_children)


def reads_status_first(node: Node) -> bool:
    """Whether ``node`` reads the exit status before it runs any command of its own: ``rc=$?``,
    ``if [ $? -ne 0 ]``, ``case $? in``, ``echo $?`` (not a loop whose ``$?`` reads its own
    grep, nor ``'$?'`` in single quotes)."""
    if node.type in _EXPANSIONS and _STATUS.match(text_of(node)):
        return True
    if node.type in ("command", "test_command", "variable_assignment", "declaration_command"):
        return _reads_status(node)
    if node.type == "case_statement":
        value = node.child_by_field_name("value")
        return value is not None and _reads_status(value)
    children = node.named_children
    return bool(children) and reads_status_first(children[0])  # what it runs first


def functions_of(root: Node) -> dict[str, Node]:
    """The functions a script defines, by name: their bodies."""
    return {
        text_of(name): body
        for node in walk(root)
        if node.type == "function_definition"
        and (name := node.child_by_field_name("name")) is not None
        and (body := node.child_by_field_name("body")) is not None
    }


def test_words(node: Node) -> list[str] | None:
    """The words of a ``[ ]``, ``[[ ]]`` or ``test`` (``[ -f "$d/package.json" ]``: ``-f``,
    ``"$d/package.json"``), its brackets left out; None for any other command."""
    body = body_of(node)
    if body.type == "test_command":
        return " ".join(text_of(c) for c in body.named_children).split()
    if command_name(body) in ("test", "["):
        words = [text_of(c) for c in body.children_by_field_name("argument")]
        return words[:-1] if words[-1:] == ["]"] else words
    return None


def only_statement(script: str) -> Node | None:
    """The one statement of ``script``, without its redirects; None when the script does not
    parse or holds more than one."""
    root = parse(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    if root.has_error or len(statements) != 1:
        return None
    return body_of(statements[0])


def commands_in(node: Node) -> list[Node]:
    """Every simple command in ``node``, in the order they are written."""
    return [n for n in walk(node) if n.type == "command"]


def next_statement(node: Node) -> Node | None:
    """The statement after ``node`` in its block, comments skipped."""
    after = node.next_named_sibling
    while after is not None and after.type == "comment":
        after = after.next_named_sibling
    return after


def status_read_after(node: Node) -> bool:
    """Whether the statement after ``node`` reads its exit status first (the script looks at
    the failure itself)."""
    after = next_statement(node)
    return after is not None and reads_status_first(after)


def sets_errexit(node: Node) -> bool:
    """Whether a ``set`` command sets -e or +e (``set -eu``, ``set +o errexit``)."""
    args = [(c.text or b"").decode() for c in node.named_children[1:]]
    on = _options(args, errexit_on=False, pipefail=True)
    return on == _options(args, errexit_on=True, pipefail=True)


def guarded(node: Node) -> bool:
    """A loop or ``if`` whose every command that can fail is followed by ``|| exit`` (or
    ``|| return``): it cannot end in a failure the shell goes on after."""
    body = body_of(node)
    if body.type not in _COMPOUND:
        return False
    lists = [n for n in walk(body) if n.type == "list" and n.children[1].type == "||"]
    guarded = {
        (c.start_byte, c.end_byte)
        for n in lists
        if command_name(n.children[-1]) in ("exit", "return")
        for c in commands_in(n.children[0])
    }
    loose = [
        c
        for c in commands_in(body)
        if (c.start_byte, c.end_byte) not in guarded
        and not always_succeeds(c)
        and command_name(c) not in ("exit", "return")
    ]
    return bool(lists) and not loose


def if_parts(node: Node) -> tuple[Node, list[Node], list[Node]] | None:
    """An ``if`` with one condition and no ``elif``: its condition, and the statements of its
    ``then`` and of its ``else`` branch (comments left out); None for any other node."""
    if node.type != "if_statement":
        return None
    conditions = [c for c in node.children_by_field_name("condition") if c.is_named]
    parts = [c for c in node.named_children if c.type != "comment" and c not in conditions]
    if len(conditions) != 1 or any(c.type == "elif_clause" for c in parts):
        return None
    then = [c for c in parts if c.type != "else_clause"]
    otherwise = [
        s for c in parts if c.type == "else_clause" for s in c.named_children if s.type != "comment"
    ]
    return conditions[0], then, otherwise


def and_chain(node: Node) -> tuple[Node, list[Node]] | None:
    """``A && B && C``: its first command and what runs after it, in order; None for a list
    with ``||`` in the chain or for a node that is no list."""
    parts: list[Node] = []
    while node.type == "list":
        if node.children[1].type != "&&":
            return None
        parts.insert(0, node.children[-1])
        node = node.children[0]
    return (node, parts) if parts else None


def clause_conditions(node: Node) -> list[Node]:
    """The conditions of an ``if``, ``elif`` or ``while``: what comes before its ``then`` or
    ``do`` (an ``elif_clause`` has no ``condition`` field)."""
    if node.type not in ("if_statement", "elif_clause"):
        return [c for c in node.children_by_field_name("condition") if c.is_named]
    return [c for c in node.children[: _then_at(node)] if c.is_named and c.type != "comment"]


def _then_at(node: Node) -> int:
    ahead = [c.type == "then" for c in node.children]
    return ahead.index(True) if True in ahead else 0


def if_chain(node: Node) -> list[tuple[Node | None, list[Node]]] | None:
    """An ``if`` whose ``if`` and each ``elif`` have one condition: (condition, statements) of
    each branch in order, with None as the condition of an ``else``; None for any other node."""
    if node.type != "if_statement":
        return None
    chain: list[tuple[Node | None, list[Node]]] = []
    for part in [node, *(c for c in node.named_children if c.type == "elif_clause")]:
        conditions = clause_conditions(part)
        if len(conditions) != 1:
            return None
        skip = ("comment", "elif_clause", "else_clause")
        after = part.children[_then_at(part) :]
        statements = [c for c in after if c.is_named and c.type not in skip]
        chain.append((conditions[0], statements))
    chain.extend(
        (None, [s for s in part.named_children if s.type != "comment"])
        for part in node.named_children
        if part.type == "else_clause"
    )
    return chain


def only_call(function: Node) -> Node | None:
    """The one call of ``function``, when the script calls it once, as a statement of its own
    (``main "$@"``): what runs after that call is what its ``exit 0`` skips."""
    name = function.child_by_field_name("name")
    root = function
    while root.parent is not None:
        root = root.parent
    if name is None or root.type != "program":
        return None
    calls = [c for c in walk(root) if c.type == "command" and command_name(c) == text_of(name)]
    if len(calls) != 1:
        return None
    statement = calls[0]
    while statement.parent is not None and statement.parent.type == "redirected_statement":
        statement = statement.parent
    return statement if statement.parent is not None and statement.parent.id == root.id else None


def walk(node: Node) -> list[Node]:
    """``node`` and every node under it, in the order they are written."""
    found = [node]
    for child in node.named_children:
        found.extend(walk(child))
    return found


def set_options(node: Node, errexit_on: bool, pipefail: bool) -> tuple[bool, bool]:
    """``errexit`` and ``pipefail`` after ``set -e``, ``set +o pipefail``, ``set -euo pipefail``,
    ``set -o errexit +o pipefail``."""
    args = [(c.text or b"").decode() for c in node.named_children[1:]]
    return _options(args, errexit_on=errexit_on, pipefail=pipefail)


def _options(args: list[str], *, errexit_on: bool, pipefail: bool) -> tuple[bool, bool]:
    """``errexit`` and ``pipefail`` after the options ``args`` (of ``set`` or of a shell's
    command line): ``-e``, ``+e``, ``-o errexit``, ``+o pipefail``, combined ones (``-euo
    pipefail``); long options are skipped; ``--`` or a word that is no option ends them."""
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--" or not arg.startswith(("-", "+")) or arg in ("-", "+"):
            break
        if arg.startswith("--"):
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
    """``trap "exit 0" EXIT`` (or ERR), or ``trap cleanup EXIT`` with ``cleanup() { rm -rf
    tmp; exit 0; }``: the script exits 0 whatever failed after it."""
    args = [(c.text or b"").decode().strip("'\"") for c in node.named_children[1:]]
    if len(args) < 2 or not any(a.upper() in ("EXIT", "SIGEXIT", "0", "ERR") for a in args[1:]):
        return False
    if re.search(r"(?:^|[;&|\s])exit\s+0\b", args[0]):
        return True
    return re.fullmatch(r"[A-Za-z_][\w-]*", args[0]) is not None and _ends_in_exit_0(node, args[0])


def _ends_in_exit_0(node: Node, name: str) -> bool:
    """Whether the script defines a function ``name`` one of whose own statements is
    ``exit 0`` (not one inside a branch of it)."""
    root = node
    while root.parent is not None:
        root = root.parent
    for found in walk(root):
        if found.type != "function_definition":
            continue
        called = found.child_by_field_name("name")
        body = found.child_by_field_name("body")
        if called is None or body is None or text_of(called) != name:
            continue
        for statement in body.named_children:
            words = [text_of(c) for c in body_of(statement).children_by_field_name("argument")]
            if command_name(body_of(statement)) == "exit" and words == ["0"]:
                return True
    return False


def _backgrounded(node: Node) -> bool:
    after = node.next_sibling
    return after is not None and after.type == "&"


def _waited(after: list[Node]) -> bool:
    """A ``wait`` with an argument (``wait $!``) reads the status of what runs in the
    background; a bare ``wait`` returns 0."""
    return any(command_name(n) == "wait" and len(body_of(n).named_children) > 1 for n in after)


_PASS_THROUGH = frozenset(
    {"cat", "tee", "tail", "head", "sort", "uniq", "wc", "tr", "column", "sed", "cut", "nl"}
    | {"fold", "rev", "paste", "expand", "fmt"}
)


def _pipe_hides(node: Node) -> bool:
    """A pipeline whose last command only passes text on: without pipefail its status is 0."""
    body = body_of(node)
    return body.type == "pipeline" and command_name(body.named_children[-1]) in _PASS_THROUGH


LOOPS = frozenset({"for_statement", "c_style_for_statement", "while_statement"})
_TESTS = frozenset({"test", "[", "[["})


def _loop_masks(node: Node) -> list[Ignored]:
    """``X || continue`` and ``X || break`` in a loop's body: X's failure only moves the loop
    on (a test such as ``[ -f "$f" ] || continue`` is a filter, not a check)."""
    body = body_of(node)
    if body.type not in LOOPS:
        return []
    group = body.child_by_field_name("body")
    found: list[Ignored] = []
    for child in group.named_children if group is not None else []:
        found.extend(_loop_masks(child))
        inner = body_of(child)
        if inner.type != "list" or inner.children[1].type != "||":
            continue
        left, right = inner.children[0], inner.children[-1]
        exit_word = command_name(right)
        if (
            exit_word not in _LOOP_EXITS
            or command_name(left) in _TESTS
            or left.type == "test_command"
        ):
            continue
        text = text_of(left)
        why = f"the `|| {exit_word}` in the loop hides a failure of `{text}`"
        fix = f"drop the `|| {exit_word}`, or record the failure and exit 1 after the loop"
        found.append(Ignored(left, why, fix))
    return found


def text_of(node: Node) -> str:
    return (node.text or b"").decode()


SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
ECHO_OPTION = lazyre.compile(r"-[neE]+")  # echo -n, -e, -E: options, not words it prints
# A sourced file is read at most this much (for an ERR trap or a redirect of its own).
_SOURCED_BYTES = 256 * 1024


def in_substitution(node: Node) -> bool:
    """Whether ``node`` is written inside a ``$(...)`` or ``<(...)``."""
    parent = node.parent
    while parent is not None:
        if parent.type in SUBSTITUTIONS:
            return True
        parent = parent.parent
    return False


def sourced_text(command: Node, cwd: Path | None) -> str | None:
    """The text of the file a ``source`` or ``.`` command reads by a literal path (from
    ``cwd``), None when it names none or it cannot be read."""
    words = [text_of(c) for c in body_of(command).named_children[1:]]
    if command_name(command) not in ("source", ".") or not words or cwd is None:
        return None
    try:
        with (cwd / words[0].strip("'\"")).open("rb") as file:
            return file.read(_SOURCED_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None


def sourced_absent(command: Node, cwd: Path | None) -> bool:
    """Whether the file a ``source`` or ``.`` names by a literal path is not there (``[ -f
    .env ] && source .env``): it sources nothing now. Callers read the script again after it
    ran, when the run may have written it."""
    words = [text_of(c).strip("'\"") for c in body_of(command).named_children[1:]]
    if not words or cwd is None or not words[0] or re.search(r"[$`~\\{*?\[]", words[0]):
        return False
    return not (cwd / words[0]).exists()


def report_name(node: Node) -> str | None:
    """``echo`` or ``printf`` when ``node`` runs one (``/bin/echo``, ``builtin echo``,
    ``command printf``), else None."""
    body = body_of(node)
    name = (command_name(body) or "").rsplit("/", 1)[-1]
    if name in ("builtin", "command"):
        words = [c for c in body.children_by_field_name("argument") if c.is_named]
        name = text_of(words[0]) if words else ""
    return name if name in ("echo", "printf") else None


def report_message(node: Node) -> str:
    """What an echo or printf (``node``) is written to print, quotes and options left out."""
    words = [text_of(c).strip("'\"") for c in body_of(node).children_by_field_name("argument")]
    if command_name(node) in ("builtin", "command"):
        words = words[1:]
    return flat(" ".join(w for w in words if not ECHO_OPTION.fullmatch(w)))


def body_of(node: Node) -> Node:
    """A statement without its redirects (tree-sitter puts ``a || b >&2``'s on the list)."""
    while node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        if body is None:
            return node
        node = body
    return node


def decides(node: Node, variable: str) -> bool:
    """Whether a statement after ``node`` decides the script's status by ``variable``: an
    ``exit``/``return`` of it, or a test of it (``[ "$status" -eq 0 ]``, ``(( failed == 0
    ))``, ``[ ${#errors[@]} -eq 0 ]``, ``if [ $rc -ne 0 ]; then exit 1; fi``)."""
    parent = node.parent
    if parent is None:
        return False
    later = (parent.text or b"")[node.end_byte - parent.start_byte :].decode()
    name = re.escape(variable)
    used = rf"(?:\$\{{?#?{name}\b|\b{name}\b)"
    return (
        re.search(rf"\b(?:exit|return)\s+\"?\$\{{?{name}\b", later) is not None
        or re.search(rf"(?:\[\[?|\btest\b)[^\n;]*{used}", later) is not None
        or re.search(rf"\(\([^\n;]*{used}", later) is not None
    )


def sets_unread(node: Node, after: Node) -> bool:
    """Whether ``node``, what runs after a ``||``, only sets variables (beside reports and what
    always succeeds: ``failed=1``, ``{ rc=$?; echo "failed with $rc"; }``) that no statement
    after ``after`` tests or exits with: the failure is noted, then dropped."""
    body = body_of(node)
    parts = body.named_children if body.type == "compound_statement" else [body]
    names = []
    for part in (body_of(c) for c in parts if c.type != "comment"):
        if part.type != "variable_assignment":
            if not always_succeeds(part):
                return False
            continue
        name, value = part.child_by_field_name("name"), part.child_by_field_name("value")
        runs = value is not None and any(n.type in SUBSTITUTIONS for n in walk(value))
        if name is None or runs:
            return False  # `out=$(cat log)` runs a command
        names.append(text_of(name))
    return bool(names) and not any(decides(after, n) for n in names)


def always_succeeds(node: Node) -> bool:
    """``true``, ``/bin/true``, ``:``, ``echo ...`` (redirected or not), ``printf ...``,
    ``exit 0``, a command of :data:`NEVER_FAILS`, or a ``{ }`` group, ``( )`` subshell or
    ``if`` whose statements all always succeed."""
    node = body_of(node)
    if node.type in ("compound_statement", "subshell", "else_clause"):
        inner = [c for c in node.named_children if c.type != "comment"]
        return bool(inner) and all(always_succeeds(c) for c in inner)
    if node.type in LOOPS:
        # Only a loop that hides a check's failure (`X || continue`) counts: a loop that
        # waits (`while [ ! -f x ]; do sleep 1; done`) is run as written.
        group = node.child_by_field_name("body")
        inner = [c for c in group.named_children if c.type != "comment"] if group else []
        masked = bool(_loop_masks(node))
        return masked and all(always_succeeds(c) for c in errexit(inner)[0])
    if node.type == "if_statement":
        conditions = node.children_by_field_name("condition")
        parts = [c for c in node.named_children if c.type != "comment" and c not in conditions]
        return all(always_succeeds(c) for c in parts)
    if node.type == "case_statement":
        # `case $(python3 a.py) in 2) echo ok;; *) echo "unexpected";; esac`: it only reports
        items = [c for c in node.named_children if c.type == "case_item"]
        return bool(items) and all(_item_reports(item) for item in items)
    if node.type == "list":
        left, op, right = node.children[0], node.children[1], node.children[-1]
        return always_succeeds(right) and (op.type == "||" or always_succeeds(left))
    if NEVER_FAILS.fullmatch(" ".join((node.text or b"").decode().split())):
        return True
    name = command_name(node)
    if name is not None and (
        name.rsplit("/", 1)[-1] in MASKS or name in _LOOP_EXITS or name in _SHELL_SETUP
    ):
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
        return always_succeeds(node.named_children[0]) and command_name(last) in ("tee", "cat")
    return False


def _item_reports(item: Node) -> bool:
    values = item.children_by_field_name("value")
    inner = [c for c in item.named_children if c.type != "comment" and c not in values]
    return all(always_succeeds(c) for c in inner)


def command_name(node: Node) -> str | None:
    node = body_of(node)
    if node.type != "command":
        return None
    name = node.child_by_field_name("name")
    return None if name is None else (name.text or b"").decode()


def flat(text: str) -> str:
    flat = "; ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return flat if len(flat) <= 80 else flat[:77] + "..."


# Every ignored failure errexit() names needs one of these: a list (&&, ||), a job in the
# background (&), a negation (!), `set` (+e, +o pipefail) or `trap`; a script without any has
# none, and needs no syntax tree to say so.
_MAY_IGNORE = lazyre.compile(r"[&|!]|set|trap")


def ignored_failures(script: str, flags: ShellFlags = DEFAULT_FLAGS) -> list[tuple[int, str, str]]:
    """Lines of ``script`` that look like checks but whose failure is ignored (a ``! cmd``
    line, ``cmd && echo ok`` before the last line, ``X || continue`` in a loop, anything after
    ``trap "exit 0" EXIT``, ...): (line in the script, why, how to write it so that its
    failure fails the script). A command in the background, or one after the user's own
    ``set +e``, is named only when nothing else in the script can fail (a server started for
    the lines after it is no check)."""
    if flags == DEFAULT_FLAGS and not _MAY_IGNORE.search(script):
        return []
    root = parse(script)
    if root.has_error:
        return []
    statements = [c for c in root.named_children if c.type != "comment"]
    honoured, skipped = errexit(statements, flags)
    can_fail = not all(always_succeeds(s) for s in honoured)
    found = []
    shell_said = False
    for ignored in skipped:
        # A failure the shell goes on after makes the check unverified when it happens
        # (judge.went_on): worth a warning even beside a command that can fail, once a script.
        by_shell = ignored.why.startswith("the shell runs without -e")
        if ignored.fix is None or (can_fail and ignored.alone and not by_shell):
            continue
        if by_shell and (shell_said or status_read_after(ignored.node) or guarded(ignored.node)):
            continue
        shell_said = shell_said or by_shell
        found.append((ignored.node.start_point.row + 1, ignored.why, ignored.fix))
    return found
