"""Checks that end themselves early with success: ``if ! command -v ruff >/dev/null; then echo
"SKIP: ruff not installed"; exit 0; fi`` and then ``ruff check .``. Where such an ``exit 0``
runs, the script passes without running what follows it, and its exit 0 shows nothing of the
work (skips.py watches whether it ran).

An ``exit 0`` (or a call of a function of the script that ends with one: ``skip() { echo
"SKIP: $1"; exit 0; }``) is a skip when it runs because something failed (after ``||``, in an
``else``) or because a condition about the machine held rather than a check passed: a negation
(``! command -v X``, ``[ ! -f package.json ]``), a probe for a tool (``command -v X``), a test
of the environment (``[ -z "$CI" ]``, ``[ "$(uname)" = Darwin ]``, ``[ -z "$(command -v X)"
]``). An ``exit 0`` after a check that passed (``curl -fs URL && exit 0`` in a retry loop, ``if
pytest; then exit 0; fi``, ``[ "$code" = 200 ] && exit 0`` with ``code`` the script's own
``$(curl ...)``) is the check's own success, not a skip. Inside a subshell or a pipe the skip
ends that part of the check, when more of it follows. A ``case`` on what the machine says
(``case "${CI:-}" in "") echo skipping; exit 0;; esac``, ``case "$(uname)" in``) decides its
arms as a condition does. Not read: an ``exit`` in a command substitution, or in a loop's body
outside a condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from planrun import lazyre
from planrun.checkoutput import PROBES
from planrun.errexit import (
    SUBSTITUTIONS,
    always_succeeds,
    body_of,
    clause_conditions,
    command_name,
    if_chain,
    next_statement,
    only_call,
    report_message,
    report_name,
    text_of,
    walk,
)

# Scopes an `exit` ends: the script, or the part of it a subshell or a pipe runs.
_SCOPES = frozenset({"program", "subshell", "pipeline"})
# Where an `exit` is not read: it ends a substitution, a case arm decides it, a function is
# read where it is called.
_UNREAD = SUBSTITUTIONS | {"function_definition", "case_item"}
_LOOP_PARTS = frozenset({"do_group", "for_statement", "c_style_for_statement", "while_statement"})
# test's operators on files: a test using one checks the work (`[ -f dist/app.js ]`).
_FILE_TESTS = lazyre.compile(r"-[efdsxrwLhpSbcgukOGN]|-nt|-ot|-ef")
_TESTS = frozenset({"test", "[", "[["})
# Programs whose output describes the machine, not the work (`[ "$(uname)" = Darwin ]`).
_MACHINE = PROBES | {"uname", "id", "whoami", "hostname", "arch", "nproc", "getconf"}
_VARIABLE = lazyre.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
# `$?`, `$#`, `${#hits[@]}`, `$1`: a status, a count or an argument of the script's own.
_OWN_VALUE = lazyre.compile(r"\$(?:[?#!@*0-9]|\{[#!?@*0-9])")
_FILTERS = frozenset({"cut", "head", "tail", "tr", "sed", "awk", "sort", "uniq", "xargs", "wc"})
_VERSION_WORDS = frozenset({"-v", "-V", "--version", "version", "-version"})
# Programs (and the word after them) that ask whether a service or device is there.
_SERVICES = {
    "pg_isready": "",
    "nvidia-smi": "",
    "docker": "info",
    "podman": "info",
    "redis-cli": "ping",
    "mysqladmin": "ping",
}
# Absolute paths a test of which asks about the machine (`[ -f /.dockerenv ]`).
_MACHINE_PATHS = ("/.dockerenv", "/proc/", "/sys/", "/dev/", "/etc/", "/run/")
# What a script prints where it skips its check on purpose.
_SKIP_WORDS = lazyre.compile(
    r"\bskip(?:s|ped|ping)?\b|\bnot (?:installed|available|running|found)\b|\bunavailable\b"
    r"|\boffline\b",
    re.IGNORECASE,
)
_PYTHON = lazyre.compile(r"python(?:3(?:\.\d+)?)?")
# Code that only imports: whether a module is installed is a question about the machine.
_NAMED = r"[\w.]+(?:\s+as\s+\w+)?"  # `numpy`, `numpy as np`
_IMPORT = (
    rf"(?:import\s+{_NAMED}(?:\s*,\s*{_NAMED})*"
    rf"|from\s+[\w.]+\s+import\s+(?:\*|{_NAMED}(?:\s*,\s*{_NAMED})*))"
)
_PYTHON_IMPORTS = lazyre.compile(rf"\s*{_IMPORT}(?:\s*[;\n]\s*{_IMPORT})*\s*;?\s*")
_REQUIRE = r"require(?:\.resolve)?\(\s*(['\"])[\w@/.-]+\1\s*\)"
_NODE_REQUIRES = lazyre.compile(rf"\s*{_REQUIRE}(?:\s*;\s*{_REQUIRE})*\s*;?\s*")


@dataclass(frozen=True)
class EarlyExit:
    """An ``exit 0`` that skips the rest of the script (or of its subshell or pipe)."""

    decider: Node  # the `if` or the list whose path leads to it
    condition: Node  # what decides whether it runs
    failure: bool  # it runs when ``condition`` fails (`||`, `else`), else when it succeeds
    reports: tuple[Node, ...]  # what it runs first: its block's statements before it
    statement: Node  # the statement of its scope it is in
    whole: bool  # it ends the script (else only a subshell or a pipe's part)
    word: str = "exit 0"  # or "return 0", ending a function
    pattern: str | None = None  # a `case` arm's patterns: it runs when the value matches
    # What runs after ``decider`` in its scope, and after the call of its function (when the
    # script calls it once, as a statement).
    after: tuple[Node, ...] = ()
    # Whether something else runs work it would skip: another branch of its `if` or `case`,
    # or, in a function not called once as a statement, whatever runs after a call of it.
    more: bool = False
    # In a function the script calls once, as a statement of its own: that call.
    call: Node | None = None


@dataclass(frozen=True)
class Script:
    """What the rule needs of a whole script: its skip functions (name: the statements before
    their ``exit 0``) and what each variable it assigns holds (True: something of the machine)."""

    skippers: dict[str, tuple[Node, ...]]
    assigned: dict[str, bool]
    calls: frozenset[str]  # the names the script runs as commands
    functions: dict[str, Node]  # the body of each function it defines


def script_of(root: Node) -> Script:
    skippers: dict[str, tuple[Node, ...]] = {}
    assigned: dict[str, bool] = {}
    calls: set[str] = set()
    functions: dict[str, Node] = {}
    nodes = walk(root)
    own = {
        text_of(name)
        for node in nodes
        if node.type == "variable_assignment" and (name := node.child_by_field_name("name"))
    }
    own |= _BASH_SETS
    for node in nodes:  # `read -r line`, `for f in ...`: set by the script too
        if node.type == "for_statement" and (variable := node.child_by_field_name("variable")):
            own.add(text_of(variable))
        elif command_name(node) in ("read", "mapfile", "readarray"):
            own.update(
                text_of(w)
                for w in node.children_by_field_name("argument")
                if not text_of(w).startswith("-")
            )
    for node in nodes:
        if node.type == "command" and (called := command_name(node)) is not None:
            calls.add(called)
        if node.type == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                functions[text_of(name)] = body
            inner = [c for c in body.named_children if c.type != "comment"] if body else []
            last = inner[-1] if inner else None
            if name is None or last is None or _is_return(last):
                continue
            if _zero(last, inner[:-1], success_path=False):
                skippers[text_of(name)] = tuple(inner[:-1])
        elif node.type == "variable_assignment":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            if name is not None:
                # Only what a machine's program printed is about the machine (`os=$(uname)`);
                # a literal is the script's own state (`found=false`, then `found=true`).
                machine = value is not None and (
                    (_substituted(value) and _only_machine(value))
                    or _from_environment(text_of(name), value, own)
                )
                assigned[text_of(name)] = assigned.get(text_of(name), True) and machine
        elif node.type == "for_statement" and (variable := node.child_by_field_name("variable")):
            assigned[text_of(variable)] = False
        elif command_name(node) in ("read", "mapfile", "readarray"):
            for word in node.children_by_field_name("argument"):
                if not text_of(word).startswith("-"):
                    assigned[text_of(word)] = False
    return Script(skippers, assigned, frozenset(calls), functions)


# Variables bash itself sets as the script runs: what the script did, not its environment.
_BASH_SETS = frozenset(
    {"REPLY", "PIPESTATUS", "BASH_REMATCH", "RANDOM", "SECONDS", "LINENO", "OPTARG", "OPTIND"}
    | {"BASH_COMMAND", "FUNCNAME", "BASHPID", "EPOCHSECONDS", "EPOCHREALTIME", "MAPFILE"}
)


def _from_environment(name: str, value: Node, own: set[str]) -> bool:
    """``CI="${CI:-}"``, ``RUN_E2E="${RUN_E2E:-0}"``, ``IS_CI=${GITHUB_ACTIONS:-false}``: a
    value only the environment gives, through variables the script never sets (or this one,
    defaulted)."""
    if _substituted(value):
        return False
    names = _VARIABLE.findall(text_of(value))
    return bool(names) and all(n == name or n not in own for n in names)


def early_exit(node: Node, script: Script) -> EarlyExit | None:
    """The skip that the command ``node`` is, when it is an ``exit`` with status 0 (or a call
    of a skip function) that runs on a path a condition about the machine (or a failure)
    decides; None otherwise."""
    name = command_name(node)
    called = script.skippers.get(name or "")
    if called is None and _exit_args(node) is None:
        return None
    found = _path(node)
    if found is None:
        return None
    decider, condition, failure, block = found
    if called is None and not _zero(node, block, success_path=not failure):
        return None
    at = next((i for i, c in enumerate(block) if _holds(c, node)), 0)
    before = tuple(block[:at]) + (called or ())
    # `echo "tests failed, skipping lint"; exit 0`: what it says makes it a skip, whatever
    # decides it.
    says = any(_SKIP_WORDS.search(report_message(s)) for s in before if report_name(s))
    pattern = None
    if decider.type == "case_statement":
        if not machine_value(condition, script):
            return None  # `case "$1" in`, `case "$(cat VERSION)" in`: the script's own
        item = node
        while item.parent is not None and item.parent.id != decider.id:
            item = item.parent
        pattern = "|".join(text_of(v) for v in item.children_by_field_name("value"))
    elif not failure and not says and not _about_the_machine(condition, script):
        return None  # `curl -fs URL && exit 0`: the check passed
    statement, scope = decider, decider.parent
    while scope is not None and scope.type not in _SCOPES:
        if scope.type == "function_definition":
            break  # `main() { ...; exit 0; ...; }; main`: read where it is defined
        if scope.type in _UNREAD:
            return None
        if scope.type in _LOOP_PARTS and not failure and not says:
            return None  # `for i in 1 2 3; do pg_isready && exit 0; sleep 1; done`: a retry
        statement, scope = scope, scope.parent
    if scope is None:
        return None
    returns = _is_return(node)
    if scope.type == "function_definition":
        called = called or ()
        function = scope.child_by_field_name("name")
        if function is None or text_of(function) not in script.calls:
            return None  # never called: it skips nothing
        if returns and not _more_after(decider, scope):
            return None  # `return 0` last in its function ends only what is already done
    elif returns:
        return None  # `return` outside a function: not a skip this rule reads
    whole = scope.type == "program"
    if scope.type in ("subshell", "pipeline") and not _more_after(decider, scope):
        return None  # `( [ -z "$CI" ] && exit 0 )`: nothing of the subshell is skipped
    word = "return 0" if returns else "exit 0"
    after = _after(decider, scope)
    call = only_call(scope) if scope.type == "function_definition" else None
    # A `return 0` ends only its function: what the script runs after a call of it runs.
    unknown = scope.type == "function_definition" and call is None and not returns
    if call is not None and not returns:
        after += _after(call, call.parent) if call.parent is not None else []
    return EarlyExit(
        decider=decider,
        condition=condition,
        failure=failure,
        reports=before,
        statement=statement,
        whole=whole,
        word=word,
        pattern=pattern,
        after=tuple(after),
        more=unknown or _other_work(decider, node),
        call=call,
    )


def ends_early(node: Node) -> bool:
    """Whether ``node`` (the right of ``||``) is or ends with an ``exit`` with status 0."""
    body = body_of(node)
    if body.type == "compound_statement":
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and ends_early(inner[-1])
    args = _exit_args(body)
    return args is not None and args == ["0"]


def _exit_args(node: Node) -> list[str] | None:
    """The words after ``exit`` (``builtin exit 0`` too), unquoted; None: not an exit."""
    body = body_of(node)
    words = [_unquoted(text_of(c)) for c in body.children_by_field_name("argument")]
    # `exit 256`, `exit 0000`: bash exits with the number modulo 256.
    words = [str(int(w) % 256) if w.isdigit() else w for w in words]
    name = command_name(body)
    if name == "builtin" and words[:1] in (["exit"], ["return"]):
        return words[1:]
    return words if name in ("exit", "return") else None


def _is_return(node: Node) -> bool:
    body = body_of(node)
    words = [text_of(c) for c in body.children_by_field_name("argument")]
    name = command_name(body)
    return name == "return" or (name == "builtin" and words[:1] == ["return"])


def _unquoted(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def _holds(statement: Node, node: Node) -> bool:
    return statement.start_byte <= node.start_byte and node.end_byte <= statement.end_byte


def _more_after(decider: Node, scope: Node) -> bool:
    """Whether something of ``scope`` (a subshell, a pipe) runs after ``decider``: what its
    ``exit 0`` skips. Not another command of the pipe, which runs beside it."""
    node = decider
    while node.parent is not None and node.id != scope.id:
        after = node.next_named_sibling
        while after is not None and after.type == "comment":
            after = after.next_named_sibling
        skipped = after is not None and after.type not in ("elif_clause", "else_clause")
        if skipped and node.parent.type != "pipeline":
            return True
        node = node.parent
    return False


# What does no work after a skip: a report, an end, a status (`echo "no ruff"; exit 1`).
_NO_WORK = frozenset({"exit", "return", "false", "true", ":"})


def works(statement: Node) -> bool:
    """Whether a statement does work a skip would leave out: not a report, an ``exit``, a
    ``return``, ``true``, ``false`` or ``:``."""
    name = command_name(body_of(statement)) or ""
    return report_name(statement) is None and name not in _NO_WORK


def fails(statement: Node) -> bool:
    """``exit N`` (N > 0), ``return N`` or ``false``: the script ends failing there."""
    args = _exit_args(statement)
    if args is not None:
        return bool(args) and args != ["0"]
    return command_name(body_of(statement)) == "false"


def _after(decider: Node, scope: Node) -> list[Node]:
    """The statements ``scope`` runs after ``decider``, at each level up to it."""
    found: list[Node] = []
    node = decider
    while node.parent is not None and node.id != scope.id:
        if node.parent.type != "pipeline":  # the other commands of a pipe run beside it
            after = next_statement(node)
            while after is not None and after.type not in ("elif_clause", "else_clause"):
                found.append(after)
                after = next_statement(after)
        node = node.parent
    return found


def other_branches(decider: Node, node: Node) -> list[list[Node]]:
    """The statements of each other branch of the ``if`` or ``case`` deciding the ``exit 0``
    (``node``); none for a list."""
    return branch_parts(decider, node)[1]


def branch_parts(decider: Node, node: Node) -> tuple[list[Node], list[list[Node]]]:
    """What of the ``if`` or ``case`` deciding the ``exit 0`` (``node``) is not another branch
    (its conditions or value, the branch of the ``exit``), and the statements of each other
    branch; nothing for a list."""
    if decider.type == "case_statement":
        items = [c for c in decider.named_children if c.type == "case_item"]
        value = decider.child_by_field_name("value")
        own = [i for i in items if _holds(i, node)] + ([value] if value is not None else [])
        return own, [statements_of(i) for i in items if not _holds(i, node)]
    if (chain := if_chain(decider)) is not None:
        conditions = [c for c, _ in chain if c is not None]
        own = [s for _, body in chain if any(_holds(s, node) for s in body) for s in body]
        others = [body for _, body in chain if not any(_holds(s, node) for s in body)]
        return conditions + own, others
    return [], []


def _other_work(decider: Node, node: Node) -> bool:
    """Whether another branch of the ``if`` or ``case`` deciding the ``exit 0`` (``node``) does
    work: ``if command -v X; then X check; else exit 0; fi`` skips ``X check``."""
    return any(works(s) for body in other_branches(decider, node) for s in body)


def _path(node: Node) -> tuple[Node, Node, bool, list[Node]] | None:
    """(the `if` or list deciding, its condition, whether a failure leads here, the
    statements of the block the ``exit`` is in)."""
    child = node
    while child.parent is not None and child.parent.type == "redirected_statement":
        child = child.parent
    statement, block = child, [child]
    parent = child.parent
    leading: list[Node] = []  # `echo "skipping" && exit 0`: its reports
    while parent is not None:
        if parent.type == "list":
            if parent.children[-1].id != child.id:
                return None  # `exit 0 && ...`: nothing decides it
            left, joined = parent.children[0], parent.children[1].type == "&&"
            if joined and report_name(left) is not None:
                leading.insert(0, left)  # a report before it: a statement of its block
                statement = child = parent
                block, parent = [child], parent.parent
                continue
            inner = left.children if left.type == "list" else []
            if joined and len(inner) > 2 and inner[1].type == "&&" and report_name(inner[-1]):
                # `[ -z "$CI" ] && echo "skipping" && exit 0`
                leading.insert(0, inner[-1])
                return parent, inner[0], False, [*leading, *block]
            return parent, left, not joined, [*leading, *block]
        if parent.type == "heredoc_redirect" and parent.parent is not None:
            # `python3 - <<'PY' || exit 0`: tree-sitter puts the list in the here-document.
            operator = parent.child_by_field_name("operator")
            command = parent.parent.child_by_field_name("body")
            if operator is None or command is None or operator.type not in ("||", "&&"):
                return None
            return parent.parent, command, operator.type == "||", block
        if child.id == statement.id:
            block = statements_of(parent)
            at = next((i for i, c in enumerate(block) if c.id == statement.id), len(block))
            block = [*block[:at], *leading, *block[at:]]
        if parent.type == "case_item":
            case = parent.parent
            value = case.child_by_field_name("value") if case is not None else None
            if case is None or value is None:
                return None
            return case, value, False, block
        if parent.type in _UNREAD or parent.type in _LOOP_PARTS or parent.type in _SCOPES:
            return None  # an `exit 0` its scope always reaches: its own end (checkrules)
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
    return clause_conditions(node)


def statements_of(block: Node) -> list[Node]:
    """The statements of a group, of an ``if``'s branch (not its condition or others) or of a
    ``case`` arm (not its patterns)."""
    conditions = {c.id for c in _conditions(block)}
    conditions |= {c.id for c in block.children_by_field_name("value")}
    skip = ("comment", "elif_clause", "else_clause")
    return [c for c in block.named_children if c.type not in skip and c.id not in conditions]


def _zero(node: Node, before: list[Node], *, success_path: bool) -> bool:
    """``exit 0``; a bare ``exit`` after a command that succeeds (``echo skip; exit``), or
    first on a path that a success leads to (the status it exits with is the condition's)."""
    args = _exit_args(node)
    if args is None:
        return False
    if args:
        return args == ["0"]
    statement = node
    while statement.parent is not None and statement.parent.type == "redirected_statement":
        statement = statement.parent
    earlier = [c for c in before if c.end_byte <= statement.start_byte]
    if earlier:
        return always_succeeds(earlier[-1])
    return success_path


def about_files_or_machine(condition: Node, script: Script) -> bool:
    """Whether a condition chooses by what is there rather than by a check of the work: one
    about the machine (:func:`_about_the_machine`) or a test of files (``[ -d frontend ]``)."""
    body = body_of(condition)
    if body.type == "negated_command":
        body = body_of(body.named_children[0]) if body.named_children else body
    if body.type == "test_command" or (command_name(body) or "") in _TESTS:
        return True
    if body.type == "list":  # `[ -d web ] && [ -f web/package.json ]`, `[ -f a ] || [ -f b ]`
        return all(about_files_or_machine(c, script) for c in body.named_children)
    return _about_the_machine(condition, script)


def _about_the_machine(condition: Node, script: Script) -> bool:
    """Whether a condition is about the machine or the run rather than a check of the work: a
    negation, a probe for a tool, a test of the environment (any part of an ``&&``)."""
    body = body_of(condition)
    if body.type == "negated_command":
        # `! command -v X`, `! [ -f x ]`: not `! grep -rq TODO src`, a check that passed.
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and about_files_or_machine(inner[0], script)
    if body.type == "list":
        return any(_about_the_machine(c, script) for c in body.named_children)
    leaves = _test_leaves(body)
    if leaves is None:
        return _probes(body)
    words = [text_of(c) for c in leaves]
    if words[:1] == ["!"]:
        return True
    if any(_FILE_TESTS.fullmatch(w) for w in words):
        # `[ -f dist/app.js ]`: the work is there; `[ -f /.dockerenv ]`: where it runs.
        paths = [_unquoted(w) for w in words if not _FILE_TESTS.fullmatch(w) and w != "!"]
        return bool(paths) and all(p.startswith(_MACHINE_PATHS) for p in paths)
    return all(_of_the_machine(leaf, script) for leaf in leaves)


def _test_leaves(body: Node) -> list[Node] | None:
    """The words and operators of a ``[[ ]]``, ``[ ]`` or ``test``; None for another command."""
    if body.type == "test_command":
        return _leaves(body)
    if (command_name(body) or "") in _TESTS:
        return list(body.children_by_field_name("argument"))
    return None


def environment_only(condition: Node, script: Script) -> bool:
    """Whether a condition reads only the environment or the platform (``[ -z "$CI" ]``,
    ``[ "$(uname)" = Darwin ]``), no probe for a tool and no file: what it decides says
    nothing of the work, so an ``exit 0`` it leads to is no check's success."""
    body = body_of(condition)
    if body.type == "negated_command":
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and environment_only(inner[0], script)
    if body.type == "list":
        return all(environment_only(c, script) for c in body.named_children)
    leaves = _test_leaves(body)
    if leaves is None:
        return False
    words = [text_of(c) for c in leaves]
    if any(_FILE_TESTS.fullmatch(w) for w in words):
        return False
    values = [leaf for leaf in leaves if text_of(leaf) not in ("!", "]", "]]")]
    return all(_of_the_machine(leaf, script) for leaf in values)


def machine_value(value: Node, script: Script) -> bool:
    """Whether a ``case``'s value is what the machine says: a variable of the environment or
    set from a machine's program, or such a program's output (not a literal, not ``$1``)."""
    named = _VARIABLE.search(text_of(value)) is not None or _substituted(value)
    return named and _of_the_machine(value, script)


def _probes(command: Node) -> bool:
    """``command -v X``, ``which X``, ``type X``, ``hash X`` (not ``command X``, which runs X),
    or an import probe: ``python3 -c "import numpy"``, ``node -e "require('vite')"``."""
    name = command_name(command) or ""
    words = [text_of(c) for c in command.children_by_field_name("argument")]
    if name in PROBES:
        return name != "command" or "-v" in words or "-V" in words
    if name in _SERVICES and (not _SERVICES[name] or words[:1] == [_SERVICES[name]]):
        return True  # `docker info`, `pg_isready`: whether a service runs here
    if words and all(w in _VERSION_WORDS for w in words):
        return True  # `ruff --version`: whether it is installed
    interpreter = name.rsplit("/", 1)[-1]
    if len(words) != 2 or words[0] not in ("-c", "-e", "-p"):
        return False
    code = _unquoted(words[1])
    if _PYTHON.fullmatch(interpreter) and words[0] == "-c":
        return _PYTHON_IMPORTS.fullmatch(code) is not None
    return interpreter == "node" and _NODE_REQUIRES.fullmatch(code) is not None


def _of_the_machine(word: Node, script: Script) -> bool:
    """Whether a word of a test holds what the machine or its environment says (``$CI``,
    ``$(uname)``, a variable the script set from one), not what the work printed."""
    if not _only_machine(word) or _OWN_VALUE.search(text_of(word)):
        return False
    return all(script.assigned.get(name, True) for name in _VARIABLE.findall(text_of(word)))


def _substituted(node: Node) -> bool:
    return any(inner.type in SUBSTITUTIONS for inner in walk(node))


def _only_machine(node: Node) -> bool:
    """Whether every command substitution in ``node`` asks only the machine: a program of
    :data:`_MACHINE` or a version (``node -v``), its output cut by text filters after it."""
    for inner in walk(node):
        if inner.type in SUBSTITUTIONS:
            commands = [c for c in walk(inner) if c.type == "command"]
            if not commands or not _asks_the_machine(commands[0]):
                return False
            if any((command_name(c) or "") not in _MACHINE | _FILTERS for c in commands[1:]):
                return False
    return True


def _asks_the_machine(command: Node) -> bool:
    name = (command_name(command) or "").rsplit("/", 1)[-1]
    if name in _MACHINE:
        return True
    words = [text_of(c) for c in command.children_by_field_name("argument")]
    return bool(words) and all(w in _VERSION_WORDS for w in words)


def _leaves(node: Node) -> list[Node]:
    """The words and operators of a ``[[ ]]`` or ``[ ]`` expression, in order."""
    if node.child_count == 0 or node.type in ("word", "string", "raw_string", "number"):
        return [node]
    if node.type in ("test_operator", "simple_expansion", "expansion", "command_substitution"):
        return [node]
    return [
        leaf for c in node.children if c.type not in ("[", "]", "[[", "]]") for leaf in _leaves(c)
    ]
