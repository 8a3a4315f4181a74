"""Checks that skip themselves, as reports.py watches them: an ``exit 0`` that ends the script
before the rest of it ran (earlyexit.py finds it: ``skip``), and an ``if``, ``case`` or ``&&``
on files or the machine whose branch that checks did not run (``branch_skip``). Each is a
:class:`Hidden` that planrun watches by what the skip prints (its whole line where all of it is
fixed) or by whether bash reached a line only the checking path runs.
"""

from __future__ import annotations

import re
from pathlib import Path

from tree_sitter import Node

from planrun import earlyexit, printed
from planrun.commandkinds import (
    PATH_EXPANDS,
    REACH_LINES,
    all_reports,
    head_line,
    inline,
    reach_lines,
    reports_of,
    runs_code,
    sets_up,
    traced,
)
from planrun.errexit import (
    and_chain,
    body_of,
    command_name,
    commands_in,
    flat,
    if_chain,
    next_statement,
    only_call,
    report_message,
    report_name,
    test_words,
    text_of,
)
from planrun.hiddencheck import Hidden
from planrun.shellsplit import one_line, parse

SKIP_FIX = (
    "remove the early `exit 0` and let a check that cannot run fail: planrun reports a "
    "missing program as an error, not a failure"
)


def skip(node: Node, script: earlyexit.Script, *, watchable: bool, bash: bool) -> Hidden | None:
    """``if ! command -v X; then echo "SKIP"; exit 0; fi``, ``[ -z "$CI" ] && exit 0``: an
    ``exit 0`` that ends the script before the rest of it ran (earlyexit.py). Watched by what
    it prints first, or by whether bash reached the statement after it."""
    found = earlyexit.early_exit(node, script)
    if found is None:
        return None
    gated = [s for s in found.reports if _checks(s, script, strict=True)]
    chosen = found.pattern is not None or earlyexit.about_files_or_machine(found.condition, script)
    if gated and chosen:
        # `if command -v python3 >/dev/null; then python3 a.py; exit 0; fi` and then a
        # fallback: its `exit 0` is the check's success. With nothing after it but reports,
        # the other path checks nothing (`[ -n "$CI" ] && { pytest; exit 0; }; echo skip`).
        others = earlyexit.other_branches(found.decider, node)
        rest = [*found.after, *(s for b in others for s in b)]
        fallback = any(_checks(s, script) or _works(s, benign=_BENIGN) for s in rest)
        unknown = found.more and not others  # a function called elsewhere too: what follows
        if unknown or fallback or any(earlyexit.fails(s) for s in found.after):
            return None
        return _checked_then_ended(found, gated[0], watchable=watchable, bash=bash)
    more = found.more or any(_works(s) for s in found.after)
    # `command -v ruff && exit 0; echo "no ruff"; exit 1`: the check's success. Not where
    # only the environment decides it (`[ -z "$CI" ] && exit 0; false`): that checks nothing.
    chosen = found.pattern is not None or earlyexit.environment_only(found.condition, script)
    if not more and (found.word == "return 0" or not chosen):
        return None
    reports = [r for statement in found.reports for r in reports_of(statement)]
    needle, whole = _watched(reports) if watchable else (None, None)
    condition = flat(text_of(found.condition))
    when = _when(found, taken=True)
    reach = reach_lines(found.statement) if bash and found.whole else ()
    if bash and found.call is not None and found.word == "exit 0":
        reach = reach_lines(found.call)  # `main() { ...; exit 0; ...; }; main`: after its call
    if bash and found.whole and not reach:
        # `if [ "$(uname)" = Linux ]; then make test; else exit 0; fi`: another branch ran.
        reach = _branches_reached(found.decider, node)
    message = report_message(reports[0]) if reports else None
    line = found.decider.start_point.row + 1
    shape = f"`{found.word}`"
    return Hidden(
        line,
        condition,
        shape,
        message,
        needle,
        fix=SKIP_FIX.replace("`exit 0`", f"`{found.word}`"),
        skip=when,
        reach=reach,
        whole=whole,
    )


def _when(found: earlyexit.EarlyExit, *, taken: bool) -> str:
    """When the path of the ``exit 0`` is ``taken`` (else: when the other path is), said of
    what decides it: "when `[ -z "$CI" ]` succeeds", "when `"$(uname)"` matches `Linux`"."""
    text = flat(text_of(found.condition))
    if found.pattern is not None:
        match = "matches" if taken else "does not match"
        return f"when `{one_line(text, 40)}` {match} `{one_line(found.pattern, 30)}`"
    return f"when `{one_line(text, 60)}` {'fails' if found.failure == taken else 'succeeds'}"


def _branches_reached(decider: Node, node: Node) -> tuple[int, ...]:
    """Lines of the first statement of each other branch of ``decider`` (not of a line its
    condition, patterns or the skip's own branch share): any that bash reached shows the
    branch of the ``exit 0`` (``node``) was not taken. None when one cannot be traced."""
    shared, others = earlyexit.branch_parts(decider, node)
    branches = [b for b in others if b]
    if not branches or decider.parent is None or decider.parent.type != "program":
        return ()
    if not all(traced(body[0]) for body in branches):
        return ()
    return tuple(line for body in branches for line in _own_lines(body[0], shared))


def _own_lines(node: Node, others: list[Node]) -> tuple[int, ...]:
    """The lines of ``node`` (its first :data:`REACH_LINES`) that none of ``others`` is on:
    bash's DEBUG trap reporting one shows ``node`` ran, not one of them."""
    taken = {r for c in others for r in range(c.start_point.row, c.end_point.row + 1)}
    start = node.start_point.row
    rows = range(start, min(node.end_point.row, start + REACH_LINES - 1) + 1)
    return tuple(r + 1 for r in rows if r not in taken)


def _checked_then_ended(
    found: earlyexit.EarlyExit, first: Node, *, watchable: bool, bash: bool
) -> Hidden | None:
    """``[ -n "$CI" ] && { pytest; exit 0; }`` with only reports after it: where the condition
    goes the other way, the check never ran and the script ends with success. Watched as a
    branch skip (:func:`branch_skip`): by what the rest prints, or whether bash reached
    ``first``, the check."""
    if not found.whole and found.call is None:
        return None
    reports = [r for statement in found.after for r in reports_of(statement)]
    needle, whole = _watched(reports) if watchable else (None, None)
    text = flat(text_of(found.condition))
    when = _when(found, taken=False)
    reach: tuple[int, ...] = ()
    if bash and found.whole and traced(first):  # not in a function: bash traces none there
        reach = _own_lines(first, [found.condition, *found.after])
    shape = {"if_statement": "the `if`", "case_statement": "the `case`"}.get(
        found.decider.type, "the `||`" if found.failure else "the `&&`"
    )
    return Hidden(
        found.decider.start_point.row + 1,
        text,
        shape,
        report_message(reports[0]) if reports else None,
        needle,
        fix=ENDED_FIX,
        skip=when,
        reach=reach,
        instead=flat(text_of(first)),
        whole=whole,
    )


ENDED_FIX = "let the check run on every path, or end the path that cannot check with `exit 1`"


SKIPS_NOW = "what its test reads is not there"  # _file_there: the skip is sure before it runs


BRANCH_FIX = (
    "let the check fail where what it tests is not there (`test -d DIR` first), or drop the "
    "condition"
)


def branch_skip(
    node: Node,
    script: earlyexit.Script,
    cwd: Path | None,
    *,
    watchable: bool,
    bash: bool,
    look: bool,
) -> Hidden | None:
    """``if [ -d frontend ]; then cd frontend; npm test; fi`` (or with an ``else`` that only
    reports, ``echo "no frontend, skipping"``): where the condition fails, the part that checks
    the work never ran and the script exits 0. Watched by what the other branch prints, or by
    whether bash reached the checking branch's first line."""
    top = node.parent is not None and node.parent.type == "program"
    if not top and not _holds_as_written(node):
        return None
    chain: list[tuple[Node | None, list[Node]]]
    if node.type == "list":
        # `[ -d web ] && (cd web && npm test)` before the script's last statement: an `if`
        # without `else` (as its last statement, the condition's failure fails the script).
        found_list = _guarded(node, script)
        if found_list is None:
            return None
        chain = [(found_list[0], found_list[1]), (None, [])]
        conditions = [found_list[0]]
    elif node.type == "case_statement":
        # `case "$(uname -s)" in Linux) pytest ;; *) echo "skipping" ;; esac`: its arms.
        value = node.child_by_field_name("value")
        if value is None or not earlyexit.machine_value(value, script):
            return None
        items = [c for c in node.named_children if c.type == "case_item"]
        chain = [(None, earlyexit.statements_of(i)) for i in items]
        if not any(text_of(v) == "*" for i in items for v in i.children_by_field_name("value")):
            chain.append((None, []))  # no `*)`: where no pattern matches, nothing runs
        conditions = [value]
    else:
        found = if_chain(node)
        if found is None:
            return None
        chain = found
        if chain[-1][0] is not None:
            chain.append((None, []))  # no `else`: where every condition fails, nothing runs
        conditions = [c for c, _ in chain if c is not None]
        if not all(earlyexit.about_files_or_machine(c, script) for c in conditions):
            return None
    # Other programs (`grep -q`, `jq -e`, `docker compose run`) check too where nothing after
    # the `if` does (`if [ -f dist/index.html ]; then grep -q root dist/index.html; fi`).
    alone = not _work_follows(node, script)
    runs = [any(_checks(part, script) for part in body) for _, body in chain]
    checks = [
        ran or (alone and any(_examines(part, script) for part in body))
        for ran, (_, body) in zip(runs, chain, strict=True)
    ]
    if all(checks) or not any(checks):
        return None  # every branch checks something, or none does
    others = [body for (_, body), checking in zip(chain, checks, strict=True) if not checking]
    reported = [all_reports(body, script.functions) for body in others]
    if any(r is None for r in reported):
        return None  # another branch does something of its own (a fallback, an exit)
    reports = [r for found in reported for r in found or []]
    case = node.type == "case_statement"
    simple = len(chain) == 2 and not case
    condition = conditions[0]
    if simple and checks[0] == _negated_test(condition) and _installs(chain, checks):
        return None  # `if [ ! -d node_modules ]; then npm ci; fi`: setup where it is missing
    # One branch that only reports is watched by what it prints; of several, any may run.
    needle, whole = _watched(reports) if watchable and len(others) == 1 else (None, None)
    text = flat(text_of(condition))
    if case:
        when = f"when `{one_line(text, 60)}` matches no arm that checks"
    elif simple:
        when = f"when `{one_line(text, 60)}` {'fails' if checks[0] else 'succeeds'}"
    elif not checks[-1] and all(checks[:-1]):
        tests = ", ".join(f"`{one_line(flat(text_of(c)), 40)}`" for c in conditions)
        when = f"when none of {tests} succeeds"
    else:
        when = "when its conditions choose a branch that only reports"
    working = [body for (_, body), checking in zip(chain, checks, strict=True) if checking]
    if any(command_name(body_of(body[-1])) == "exit" for body in working):
        # `if command -v X; then X; exit 0; fi` and then a fallback check, or a skip that
        # skip reads: not this rule's.
        handled = any(earlyexit.early_exit(body_of(b[-1]), script) for b in working)
        if handled or _check_follows(node, script):
            return None
    if not top and needle is None:
        return None  # piped, in a group or a function: only what it prints would tell
    # The check it skips, named in the reason: not the setup before it (`cd web`).
    firsts = [next((s for s in body if _checks(s, script)), body[0]) for body in working]
    first = firsts[0]
    reach: tuple[int, ...] = ()
    if top and bash and all(traced(f) for f in firsts):
        lines: list[int] = []
        bodies = [i for i, checking in enumerate(checks) if checking]
        for index, check in zip(bodies, firsts, strict=True):
            elsewhere = list(conditions) + [
                s for other, (_, rest) in enumerate(chain) if other != index for s in rest
            ]
            lines.extend(_own_lines(check, elsewhere))
        reach = tuple(lines)
    # `if [ -d web ]; then cd web && npm test; fi` on one line, the task's first check: what
    # the test reads is there or not now, before the task's checks run.
    look = look and top and simple and not reach and needle is None
    there = _file_there(node, condition, cwd) if look else None
    if there is not None and there == checks[0]:
        return None  # the checking branch runs
    head = head_line(node) if node.type == "list" and top and bash else None
    if not any(runs) and not reach and needle is None and there is None and head is None:
        # `if command -v sh; then grep -q x f; fi`: nothing would tell, and the branch runs
        # no tests, build or code: not read unseen.
        return None
    shape = {"case_statement": "the `case`", "list": "the `&&`"}.get(node.type, "the `if`")
    # `[ -d web ] && (cd web && npm test)`: the status the next line starts with (``head``)
    # is the list's, 0 only where all of it ran and passed.
    return Hidden(
        node.start_point.row + 1,
        text,
        shape,
        report_message(reports[0]) if reports else None,
        needle,
        fix=BRANCH_FIX,
        skip=when,
        reach=reach,
        instead=flat(text_of(first)),
        why=None if there is None else SKIPS_NOW,
        whole=whole,
        head=head,
    )


def _guarded(node: Node, script: earlyexit.Script) -> tuple[Node, list[Node]] | None:
    """``[ -d web ] && cd web && npm test``, not the script's last statement: the condition
    (about files or the machine) and what runs where it holds."""
    if node.parent is None or node.parent.type != "program" or next_statement(node) is None:
        return None
    chain = and_chain(node)  # not `X || Y`: a fallback or a mask, not this rule's
    if chain is None or not earlyexit.about_files_or_machine(chain[0], script):
        return None
    return chain


def _examines(node: Node, script: earlyexit.Script, depth: int = 0) -> bool:
    """Whether ``node`` runs a program other than a report, setup or one of :data:`_SETUP`
    (``grep -q``, ``test -f``, ``jq -e``, ``diff``, ``docker compose run``), also inside a
    function of the script it calls."""
    for command in commands_in(node):
        name = (command_name(command) or "").rsplit("/", 1)[-1]
        body = script.functions.get(name)
        if body is not None:
            if depth < _CALL_DEPTH and _examines(body, script, depth + 1):
                return True
            continue
        if name and name not in _SETUP and report_name(command) is None and not sets_up(command):
            return True
    return False


# What prepares or moves around rather than examines the work (a branch of only these checks
# nothing: `if [ -f .env ]; then . ./.env; fi`).
_SETUP = frozenset(
    {"cd", "pushd", "popd", "export", "unset", "set", "shopt", "source", ".", "alias", "hash"}
    | {"ulimit", "umask", "trap", "mkdir", "touch", "rm", "cp", "mv", "ln", "chmod", "chown"}
    | {"sleep", "date", "pwd", "wait", "kill", "local", "declare", "readonly", "read", "shift"}
    | {"true", "false", ":", "exit", "return", "git", "env", "printenv", "ls", "cat", "tee"}
)


def _work_follows(node: Node, script: earlyexit.Script) -> bool:
    after = next_statement(node)
    while after is not None:
        if _examines(after, script):
            return True
        after = next_statement(after)
    return False


def _check_follows(node: Node, script: earlyexit.Script) -> bool:
    after = next_statement(node)
    while after is not None:
        if _checks(after, script):
            return True
        after = next_statement(after)
    return False


def _holds_as_written(node: Node) -> bool:
    """Whether ``node`` runs once as the script goes, inside a group, a subshell, a pipe
    (``if …; fi 2>&1 | tee log``) or a function the script calls once: not in a loop, a
    condition or a branch, which decide whether and how often it runs."""
    parent = node.parent
    while parent is not None and parent.type != "program":
        if parent.type == "function_definition":
            call = only_call(parent)
            if call is None:
                return False
            parent = call.parent
            continue
        if parent.type not in _AS_WRITTEN:
            return False
        parent = parent.parent
    return parent is not None


_AS_WRITTEN = frozenset({"redirected_statement", "pipeline", "compound_statement", "subshell"})


def _watched(reports: list[Node]) -> tuple[bytes | None, bytes | None]:
    """What a skip's reports print that planrun watches for: the longest fixed text, and the
    whole line of the report that prints it, when all of that line is fixed."""
    found = [(printed.needle(r), r) for r in reports]
    needle, report = max(
        ((n, r) for n, r in found if n is not None), key=lambda p: len(p[0]), default=(None, None)
    )
    said = printed.whole_line(report) if report is not None else None
    return needle, None if said is None else b"\n" + said.encode() + b"\n"


def _checks(node: Node, script: earlyexit.Script, depth: int = 0, *, strict: bool = False) -> bool:
    """Whether ``node`` runs tests, a build or code (:func:`runs_code`), also inside a
    function of the script it calls (``run_tests() { pytest; }``). ``strict``: not code given
    inline or a version asked (``bash -c "echo banner"``, ``python3 --version``)."""
    for command in commands_in(node):
        if runs_code(command) and not sets_up(command) and (not strict or not inline(command)):
            return True
        body = script.functions.get(command_name(command) or "")
        if body is not None and depth < _CALL_DEPTH and _checks(body, script, depth + 1):
            return True
    return False


def _works(statement: Node, benign: frozenset[str] = frozenset()) -> bool:
    """Whether a statement does work a skip would leave out: not a report, an ``exit`` or a
    no-op (earlyexit.works), not only setup (``python3 -m venv .venv``) or programs of
    ``benign``."""
    if not earlyexit.works(statement):
        return False
    commands = commands_in(statement)
    idle = [c for c in commands if sets_up(c) or (command_name(c) or "") in benign]
    return not commands or len(idle) < len(commands)


# Programs that check nothing of the work: after a gated check, no fallback of it.
_BENIGN = frozenset(
    {"date", "sleep", "pwd", "ls", "env", "printenv", "whoami", "uname", "hostname", "mkdir"}
    | {"touch", "rm", "cd", "export", "unset", "set", "wait", "cp", "mv", "ln", "chmod"}
)


_CALL_DEPTH = 4  # functions calling functions read that deep (a recursive one ends there)


def _installs(chain: list[tuple[Node | None, list[Node]]], checks: list[bool]) -> bool:
    """Whether the branch that runs where something is missing only sets it up: the only
    branch (``if [ ! -d node_modules ]; then npm ci; fi``), or one whose programs install
    (``npm ci``, ``pip install``, ``uv sync``), not ``else python3 check.py``."""
    if len(chain) == 2 and not chain[1][1]:
        return True  # no `else`: what runs where it is missing
    body = chain[0][1] if checks[0] else chain[1][1]
    commands = (c for part in body for c in commands_in(part))
    return not any(runs_code(c) and not sets_up(c) for c in commands)


def _negated_test(condition: Node) -> bool:
    """Whether a condition is a test of a file's absence (``[ ! -d x ]``, ``! test -f x``)."""
    body = body_of(condition)
    if body.type == "negated_command":
        return True
    words = [text_of(c) for c in _leaves(body)]
    return words[:1] == ["!"] or words[:2] in (["[", "!"], ["test", "!"])


def _leaves(node: Node) -> list[Node]:
    if node.child_count == 0:
        return [node]
    return [leaf for c in node.children if c.type not in ("[[", "]]") for leaf in _leaves(c)]


_OPTIONS = frozenset({"set", "shopt"})


def guard_failed(run: str, cwd: Path | None) -> tuple[str, str] | None:
    """For a check judged by ``G && C`` (``[ -d web ] && (cd web && npm test) || echo
    skipping``, its report dropped) that failed: G and C when G tests one literal path that is
    not there now. Then G failed and C never ran (C runs only where the path is, and does not
    take it away): the script skips its check here, which is no failure of it."""
    root = parse(run)
    statements = [c for c in root.named_children if c.type != "comment"]
    if root.has_error or not statements:
        return None
    chain = and_chain(body_of(statements[-1]))
    if chain is None:
        return None
    guard, rest = chain
    if _file_there(statements[-1], guard, cwd) is not False:
        return None
    return flat(text_of(guard)), flat(" && ".join(text_of(c) for c in rest))


def _file_there(node: Node, condition: Node, cwd: Path | None) -> bool | None:
    """Whether the test of an ``if`` that is the script's first statement (after ``set``,
    ``shopt``) holds now, for a test of one literal relative path (``[ -d web ]``, ``[ ! -f
    package.json ]``)."""
    earlier = []
    for statement in node.parent.named_children if node.parent is not None else []:
        if statement.id == node.id:
            break
        earlier.append(statement)
    # Only the shell's options before it (`set -euo pipefail`): nothing that makes or moves.
    if cwd is None or any(c.type != "comment" and command_name(c) not in _OPTIONS for c in earlier):
        return None
    body = body_of(condition)
    negated = body.type == "negated_command"
    if negated:
        body = body_of(body.named_children[0])
    words = test_words(body)
    if words is None:
        return None
    if words[:1] == ["!"]:
        negated, words = not negated, words[1:]
    if len(words) != 2 or words[0] not in ("-d", "-f", "-e") or PATH_EXPANDS.search(words[1]):
        return None
    if "'" not in words[1] and '"' not in words[1] and re.search(r"[*?\[]", words[1]):
        return None  # `[ -f src/*.py ]`: bash tests what the glob matches
    path = words[1].strip("'\"")
    if path.startswith("/") or not path:
        return None
    target = cwd / path
    found = {"-d": target.is_dir, "-f": target.is_file, "-e": target.exists}[words[0]]()
    return found != negated
