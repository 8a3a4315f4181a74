"""Evidence rules on a check's shape: when a check that passes shows nothing, and which
command it is judged by instead (checkoutput.py holds the rules on what a check printed).

A referee must not count as evidence a check written so it can never fail. The rules are data
(the tables below, listed in the README), read from the bash syntax tree, not from the text:

- :data:`~planrun.errexit.MASKS`: what after ``||`` (or as the last statement) turns any
  failure into success.
  ``X || true``, ``X || /bin/true``, ``X || echo ... >&2``, ``X || { echo ...; }``,
  ``X || (exit 0)``, ``X; exit 0`` are judged by ``X``, which must succeed; so are
  ``X && echo PASS || echo FAIL`` and ``if X; then echo ok; fi``; when the success branch
  prints one of :data:`FAILURE_WORDS` (``X && echo "FAIL: ..." || echo "PASS"``), ``X`` must
  fail. A branch whose message begins with one of :data:`INFO_WORDS` (``X || echo "INFO:
  ..."``, ``X && echo "NOTE: ..."``) only informs: when it runs, the plan has called the
  outcome neither a pass nor a failure, so the check shows nothing either way (unverified,
  however the task's other checks end).
- :data:`~planrun.errexit.NEVER_FAILS`: commands that succeed wherever they run
  (``test -d .``, ``pwd``).
- Only some statements can fail a script (errexit.py: under ``bash -e``, a ``! cmd`` line, a
  list's other commands, a job in the background, anything after ``trap "exit 0" EXIT``, ...
  are ignored); when all the statements that can fail it always succeed, the check can never
  fail.
- A check that can never fail and masks nothing planrun can name is no evidence.
- A check that only prints PASS or FAIL (commandlint's ``verify-prints-result``) is no
  evidence either, unless what it printed last is a failure.
- A check that starts a shell on a script of its own (``sh -c '...'``, :func:`nested`) is read
  with that shell's flags: what its script masks, can never fail, or goes on after.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from tree_sitter import Node

from planrun import lazyre, retryloops, scriptfiles, timed
from planrun.commandlint import jq_exit_status, prints_result, prints_value
from planrun.errexit import (
    DEFAULT_FLAGS,
    LOOPS,
    MASKS,
    WRAPPERS,
    ShellFlags,
    decides,
    errexit,
    functions_of,
    guarded,
    if_parts,
    next_statement,
    only_statement,
    reads_status_first,
    report_message,
    report_name,
    set_options,
    sets_unread,
    shell_script,
    sourced_text,
    status_read_after,
    stdin_script,
    text_of,
    unwrapped,
    walk,
)
from planrun.errexit import always_succeeds as _always_succeeds
from planrun.errexit import body_of as _body
from planrun.errexit import command_name as _name
from planrun.errexit import flat as _flat
from planrun.shellsplit import parse

# A success branch that prints one of these means the command is expected to fail.
FAILURE_WORDS = lazyre.compile(
    r"\bFAIL(?:ED|S|URE)?\b|\bERROR\b|✗|✘|❌|\bstill (?:exists|present|there)\b", re.IGNORECASE
)
# A report naming one of these says the check passed, whatever word it begins with.
PASS_WORDS = lazyre.compile(
    r"\bPASS(?:ED|ES)?\b|\bOK\b|\bSUCCE(?:SS|SSFUL|EDED)\b|✓|✔|✅", re.IGNORECASE
)
# A report that begins with one of these only informs ("INFO: checking usage...").
INFO_WORDS = lazyre.compile(
    r"[\W_]*?(?:(?:INFO|NOTE|NOTICE|WARN(?:ING)?)\b|\u2139|\u26a0)",
    re.IGNORECASE,
)
# A colour written into a message (`echo -e "\e[33mNOTE\e[0m: ..."`): not part of its words.
_ANSI = lazyre.compile(r"(?:\\(?:e|033|x1[bB]|u001[bB])|\x1b)\[[0-9;]*m")
# Programs that answer "not found" with exit 1 and an error with exit 2 (checkoutput.py).
NO_MATCH_PROGRAMS = frozenset({"grep", "egrep", "fgrep", "rg", "test", "["})


@dataclass(frozen=True)
class Reading:
    """How planrun runs one check: ``run`` (the check, or the command it masks)."""

    run: str
    must_fail: bool = False
    note: str | None = None  # why it is judged by ``run``: "the `|| echo` would hide its failure"
    never_fails: bool = False  # it can never fail and masks nothing planrun can name
    original: str | None = None  # the check as written, when ``run`` is the command it masks
    prints_result: bool = False  # it prints PASS or FAIL and exits 0 either way
    prints_value: bool = False  # it prints whether what it checks holds (True or False)
    informs_ok: str | None = None  # what it prints when ``run`` succeeds, when that only informs
    informs_failed: str | None = None  # the same, when ``run`` fails
    # Why its exit 0 shows nothing: `curl` without `--fail`, or a shell it starts itself that
    # goes on after a failure (UNSEEN: evidence against the work).
    status_blind: str | None = None


@lru_cache(maxsize=1024)
def read(script: str, flags: ShellFlags = DEFAULT_FLAGS) -> Reading:
    """The command ``script`` is judged by; itself when it can fail as written. ``flags``: the
    shell's (a failure that a shell without ``-e`` or pipefail ignores is no evidence).

    A pure function of its arguments, and a Reading is frozen: the readings of a run are
    kept, since the tasks of a plan often share their checks (``pytest -q``, ``npm test``)."""
    plain = timed.untimed(script)
    if plain is not None:
        found = read(plain, flags)
        # Run as written (with its timing) unless the rules judge it by another command.
        return replace(found, run=script) if found.run == plain else replace(found, original=script)
    found = _read(script, flags)
    # Not `sh -c '...' &`: nothing reads a job's status in the background.
    inner = nested(script) if found.run == script and not found.never_fails else None
    if inner is not None:
        return inner
    fed = _fed(script) if found.run == script and not found.never_fails else None
    if fed is not None:
        return fed
    if found.run != script and not found.must_fail and (masked := nested(found.run)):
        # `bash -c 'A; B' || true`: the masked shell's own script is read too.
        if masked.never_fails:
            return Reading(script, never_fails=True, note=found.note)
        if masked.status_blind and masked.status_blind.startswith(UNSEEN):
            return replace(found, status_blind=masked.status_blind, original=script)
    inside = _ignored_in(found, flags)
    if inside is not None:
        command, why = inside
        fix = f"put `{command}` last in it, or call it outside the `&&`, `||` or `if`"
        unseen = f"{UNSEEN} `{command}` failed: {why} ({fix})"
        original = None if found.run == script else script
        return replace(found, status_blind=unseen, original=original)
    if found.run == script and not found.never_fails and prints_result(script, flags.errexit):
        return replace(found, prints_result=True)
    if found.run == script and ("tail" in script or "logs" in script or "cat" in script):
        shown = _shows_a_log(script)  # `X || tail -n 20 log` before the last line
        if shown is not None:
            return replace(found, status_blind=shown)
    if found.run == script and not found.never_fails and prints_value(script):
        return replace(found, prints_value=True)
    if found.run == script and (waited := retryloops.gives_up(script)) is not None:
        fix = retryloops.FIX
        why = f"the loop around it ends with exit 0 when it never does ({fix})"
        return replace(found, status_blind=f"{UNSEEN} `{waited}` succeeded: {why}")
    if found.run == script and "curl" in script and (blind := status_blind(script)):
        return replace(found, status_blind=blind)
    return replace(found, original=script) if found.run != script else found


UNSEEN = "planrun cannot see whether"  # a check no exit status shows: evidence against it


def _fed(script: str) -> Reading | None:
    """The reading of a check that is a shell reading its script from a here-document
    (``bash <<'EOF' ... EOF``: errexit.stdin_script), read with that shell's flags: without
    -e it goes on after a failure. None when its exit status shows what it checks."""
    found = stdin_script(script)
    if found is None:
        return None
    shell, text, flags = found
    where = f"the script `{shell}` reads from its input"
    fix = f"start it as `{shell} -e`, or write its commands as the check"
    return _read_elsewhere(script, where, text, flags, runner=shell, fix=fix, cwd=None)


def nested(script: str) -> Reading | None:
    """The reading of a check that is a shell started on a script of its own (``sh -c '...'``,
    ``bash -lc "..."``, ``timeout 60 bash -c '...'``), that script written out: it is read
    with that shell's flags, not planrun's (without -e it goes on after a failure, and
    planrun's traps do not reach it). A check it masks is run in the same shell (``sh -c
    'pytest || echo failed'`` is judged by ``sh -c pytest``); a failure it goes on after, or
    a status only the script reads (``! grep``, ``grep && echo NOTE``), leaves its exit 0
    showing nothing. None when the script is not one shell's ``-c`` with the text written out
    (an expansion in it is the outer shell's to make)."""
    found = shell_script(script)
    if found is None:
        return None
    start, end, shell, inner_script, flags = found
    root = parse(inner_script)
    if root.has_error:
        return None  # judged by its exit status, as a script planrun cannot read is
    flags = _err_trapped(root, flags, shell)
    inner = read(inner_script, flags)
    if inner.never_fails:
        return Reading(script, never_fails=True, note=inner.note)
    unseen = _unseen(shell, inner, flags)
    if unseen is not None:
        command, why, fix = unseen
        return Reading(script, status_blind=f"{UNSEEN} `{command}` failed: {why} ({fix})")
    if inner.run != inner_script:
        data = script.encode()
        run = (data[:start] + shlex.quote(inner.run).encode() + data[end:]).decode()
        return replace(inner, run=run, original=script)
    return replace(inner, run=script, original=None)


def in_file(script: str, cwd: Path | None) -> Reading | None:
    """The reading of a check that runs a script of the project kept elsewhere: a shell script
    file (``bash scripts/verify.sh``, ``./check.sh``: scriptfiles.script_file) or scripts of
    package.json (``npm test``, ``npm run lint && npm test``: scriptfiles.npm_scripts), from
    their text read with their shell's flags: what it can never show (a check that can never
    fail, a mask, a failure it goes on after, a result it only prints). None when there is no
    such text, or its exit status shows what it checks."""
    try:
        return _in_file(script, cwd, 0)
    except RecursionError:
        return None  # a file nested past what the syntax tree can be walked in: its status


_NPM_DEPTH = 3  # `"verify": "npm run lint && npm test"` read into, that many scripts deep


def _in_file(script: str, cwd: Path | None, depth: int) -> Reading | None:
    scripts = scriptfiles.npm_scripts(script, cwd) if cwd is not None else None
    if scripts is not None and cwd is not None:
        return _combined([_npm_reading(script, found, cwd, depth) for found in scripts])
    recipe = scriptfiles.make_recipe(script, cwd) if cwd is not None else None
    if recipe is not None and cwd is not None:
        return _make_reading(script, recipe, cwd, depth)
    found = scriptfiles.script_file(script, cwd)
    if found is None:
        return None
    path, text, flags, shell = found
    fix = f"add `set -euo pipefail` at the top of {path}"
    return _read_elsewhere(script, path, text, flags, runner=shell, fix=fix, cwd=cwd)


def _combined(readings: list[Reading | None]) -> Reading | None:
    """The reading of a check that runs several scripts kept elsewhere, one after the other
    until one fails: a mask inside any of them shows nothing; none that can fail, nothing."""
    if len(readings) == 1:
        return readings[0]  # its reading whole: one that only prints its result too
    blind = next((r for r in readings if r is not None and r.status_blind), None)
    if blind is not None:
        return blind  # its failure shows nowhere
    if readings and all(r is not None and r.never_fails for r in readings):
        return next(r for r in readings if r is not None)
    printed = next((r for r in readings if r is not None and r.prints_result), None)
    if printed is not None and all(
        r is not None and (r.never_fails or r.prints_result) for r in readings
    ):
        return printed  # the others can never fail: what it prints decides
    return None


def _make_reading(
    script: str, recipe: scriptfiles.MakeRecipe, cwd: Path, depth: int
) -> Reading | None:
    """:func:`in_file` of a ``make TARGET`` check: each line of the recipe, which make runs
    with ``sh -c`` (without -e) and stops after the first that fails, unless it is ``-cmd``."""
    target, makefile, lines, up_to_date = recipe
    where = f"the `{target}` recipe of {makefile}"
    if up_to_date:
        why = f"`{target}` is there and not .PHONY in {makefile}: make finds it up to date"
        return Reading(script, never_fails=True, note=f"{why} and runs nothing")
    if not lines:
        return Reading(script, never_fails=True, note=f"{makefile} has no recipe for `{target}`")
    runs_in = (cwd / makefile).parent
    fix = f"let {where} fail when it does (no `-` before a line, `&&` between commands)"
    plain = ShellFlags(errexit=False, pipefail=False)
    readings: list[Reading | None] = []
    for line, ignored in lines:
        inner = _in_file(line, runs_in, depth + 1) if depth < _NPM_DEPTH else None
        if inner is None:
            inner = _read_elsewhere(script, where, line, plain, runner="sh", fix=fix, cwd=runs_in)
        statement = only_statement(line)
        cleanup = statement is not None and (
            _cleans_up(statement) or _name(statement) in ("mkdir", *_CLEANUP)
        )
        if ignored and not cleanup and not (inner is not None and inner.never_fails):
            why = f"make ignores its failure (the `-` before it in {where})"
            blind = f"{UNSEEN} `{_flat(line)}` failed: {why} ({fix})"
            return Reading(script, status_blind=blind)
        readings.append(replace(inner, run=script, original=None) if inner else None)
    found = _combined(readings)
    if found is not None and found.never_fails:
        return Reading(script, never_fails=True, note=f"{where} can never fail")
    return found


def _npm_reading(
    script: str, found: scriptfiles.NpmScript, cwd: Path, depth: int
) -> Reading | None:
    """:func:`in_file` of one package.json script a check runs (``script``)."""
    name, text, package = found
    if text is None:
        return Reading(script, never_fails=True, note=f"{package} has no `{name}` script")
    where = f"the `{name}` script of {package}"
    if not text.strip():
        return Reading(script, never_fails=True, note=f"{where} is empty")
    runs_in = (cwd / package).parent  # npm runs a script in its package's folder
    inner = _in_file(text, runs_in, depth + 1) if depth < _NPM_DEPTH else None
    if inner is not None:  # `"verify": "npm run lint && npm test"`
        if inner.never_fails:
            return Reading(script, never_fails=True, note=f"{where} can never fail")
        return replace(inner, run=script, original=None)
    fix = f"let {where} fail when it does (`&&` between its commands)"
    plain = ShellFlags(errexit=False, pipefail=False)  # npm runs it with `sh -c`
    return _read_elsewhere(script, where, text, plain, runner="sh", fix=fix, cwd=runs_in)


# What a script may run before its own `set -euo pipefail` and still mean it for the rest.
_PREAMBLE = frozenset(
    {"cd", "shopt", "trap", "source", ".", "export", "readonly", "declare", "umask"}
)


def _own_flags(root: Node, flags: ShellFlags, cwd: Path | None, depth: int = 0) -> ShellFlags:
    """The flags a script kept elsewhere runs its checks with: its shell's, then what its own
    ``set`` lines say before its first other command (``cd``, ``shopt``, ``trap``, ``export``
    and the like, assignments and function definitions aside), also in a file it sources
    there by a literal path (``source ./lib.sh``) or at the top of the one function it then
    calls (``main() { set -euo pipefail; ...; }; main "$@"``)."""
    on, pipefail = flags.errexit, flags.pipefail
    functions = functions_of(root)
    for node in root.named_children:
        body = _body(node)
        if node.type == "comment" or body.type in ("variable_assignment", "function_definition"):
            continue
        name = _name(node)
        if name == "set":
            on, pipefail = set_options(node, on, pipefail)
            continue
        if name in ("source", ".") and depth == 0:
            text = sourced_text(node, cwd)
            sourced = parse(text) if text is not None else None
            if sourced is not None and not sourced.has_error:
                inner = _own_flags(sourced, ShellFlags(on, pipefail), cwd, depth + 1)
                on, pipefail = inner.errexit, inner.pipefail
            continue
        if name in functions and depth == 0:
            # its checks run there, with the flags it sets first
            return _own_flags(functions[name], ShellFlags(on, pipefail), cwd, depth + 1)
        if name not in _PREAMBLE:
            break
    return ShellFlags(errexit=on, pipefail=pipefail)


def _drops_nothing(root: Node, inner: Reading, flags: ShellFlags) -> bool:
    """Whether the command a script kept elsewhere would be judged by (``X`` of ``X; exit 0``)
    leaves out only what hides no failure: a last ``exit 0`` or ``true`` after a statement that
    cannot fail unseen (under -e, or one that always succeeds, ``echo "All good"``)."""
    statements = [c for c in root.named_children if c.type != "comment"]
    if inner.must_fail or len(statements) < 2 or not _terminates(statements[-1]):
        return False
    return flags.errexit or _always_succeeds(statements[-2])


def _read_elsewhere(
    script: str,
    where: str,
    text: str,
    flags: ShellFlags,
    *,
    runner: str,
    fix: str,
    cwd: Path | None,
) -> Reading | None:
    """:func:`in_file` of the script ``text`` a check runs from ``where``."""
    root = parse(text)
    if root.has_error:
        return None
    flags = _err_trapped(root, _own_flags(root, flags, cwd), runner)
    inner = read(text, flags)
    unseen = _unseen(runner, inner, flags, place=where, fix=fix)
    if unseen is not None:
        command, why, _ = unseen
        why = " ".join(why.split())  # a block's lines, on one line
        return Reading(script, status_blind=f"{UNSEEN} `{command}` failed: {why} ({fix})")
    if inner.never_fails:
        return Reading(script, never_fails=True, note=f"{where} can never fail")
    if inner.run != text and not _drops_nothing(root, inner, flags):
        command = _flat(inner.run)
        mask = f"{inner.note} inside {where}" if inner.note else f"a mask inside {where} hides it"
        return Reading(script, status_blind=f"{UNSEEN} `{command}` failed: {mask} ({fix})")
    if inner.status_blind is not None:
        return Reading(script, status_blind=inner.status_blind)
    if inner.prints_result:
        return Reading(script, prints_result=True)
    return None


def nested_unseen(script: str) -> tuple[str, str, str] | None:
    """For a check that is one shell's ``-c`` (errexit.shell_script): the command whose failure
    its exit status may not show, why, and how to write it; None when its status shows it."""
    found = shell_script(script)
    if found is None:
        return None
    shell, inner_script, flags = found[2], found[3], found[4]
    return _unseen(shell, read(inner_script, flags), flags)


def _unseen(
    shell: str, inner: Reading, flags: ShellFlags, place: str | None = None, fix: str | None = None
) -> tuple[str, str, str] | None:
    """:func:`nested_unseen` of the script ``shell`` runs (kept in ``place``: a file, a
    package.json script), read as ``inner``."""
    fix = fix or f"start it as `{shell} -eo pipefail -c`, or write its commands as the check"
    place = f"inside `{shell} -c`" if place is None else f"inside {place}"
    judged = inner.run
    root = parse(judged)
    statements = [c for c in root.named_children if c.type != "comment"]
    on, pipefail = flags.errexit, flags.pipefail
    for node in statements:
        if _name(node) == "set":
            on, pipefail = set_options(node, on, pipefail)
    if not pipefail:
        # Without pipefail a pipe's status is its last command's, wherever the pipe is
        # (`cd app && pytest | tail -5`, `{ make | tee log; }`, `pytest | grep passed`).
        for node in walk(root):
            stages = [c for c in node.named_children if c.type != "comment"]
            if node.type == "pipeline" and not all(_always_succeeds(c) for c in stages[:-1]):
                if status_read_after(_top(node)):
                    continue  # `pytest | tee log; exit ${PIPESTATUS[0]}`
                text = _flat(text_of(node))
                why = f"the shell runs without pipefail, and `{text}` has its last command's status"
                return text, f"{place}, {why}", fix
    functions = functions_of(root)
    skipped = [i for i in errexit(statements, flags)[1] if not _handled(i.node, functions)]
    if skipped:
        first = skipped[0]
        return _flat(text_of(first.node)), f"{place}, {first.why}", fix
    if on:
        return None
    for node in walk(root):
        left_out = [
            *node.children_by_field_name("condition"),
            *node.children_by_field_name("value"),
        ]
        inside = [
            c
            for c in node.named_children
            if c.type not in ("comment", "elif_clause", "else_clause") and c not in left_out
        ]
        loose = [
            c
            for c in inside[:-1]
            if not (_always_succeeds(c) or _stops_on_failure(c) or status_read_after(c))
        ]
        if (node.type in LOOPS and not (guarded(node) or _waits(node))) or (
            node.type in _BLOCK_TYPES and loose
        ):
            text = _flat(text_of(node))
            why = f"the shell runs without -e, and goes on after a failure inside `{text}`"
            return text, f"{place}, {why}", fix
    return None


def _top(node: Node) -> Node:
    """The top-level statement ``node`` is in."""
    while node.parent is not None and node.parent.type != "program":
        node = node.parent
    return node


def _handled(node: Node, functions: dict[str, Node]) -> bool:
    """A statement whose failure a script without -e does not go on after unseen: it exits
    (``X || exit 1``, ``if ! X; then exit 1; fi``, ``X || fail "msg"`` with a helper that
    exits), the next line reads its status into a test or an ``exit`` (``X; rc=$?`` ... ``exit
    $rc``), it counts it in a variable a test or ``exit`` reads later (``X || status=1`` ...
    ``exit $status``, ``X || errors+=(x)`` ... ``[ ${#errors[@]} -eq 0 ]``), it runs in the
    background (a server the check talks to), or it is the ``cd`` to the script's own folder."""
    if stops(node, functions) or _name(node) in _SETS_UP_SHELL:
        return True
    after = next_statement(node)
    if after is not None and reads_status_first(after):
        read = _body(after)
        if read.type == "variable_assignment":  # `rc=$?`: read, then used?
            name = read.child_by_field_name("name")
            return name is not None and decides(after, text_of(name))
        # `if [ $? -ne 0 ]`, `case $? in`, `exit $?`: not `echo "exit: $?"`
        return read.type in _STATUS_USES or _name(read) in ("exit", "return", "test", "[", "[[")
    body = _body(node)
    if any(c.type == "&" for c in node.children) or any(c.type == "&" for c in body.children):
        return True
    if (
        _name(body) == "cd"
        and "dirname" in text_of(body)
        and ("$0" in text_of(body) or "BASH_SOURCE" in text_of(body))
    ):
        return True
    if body.type != "list" or body.children[1].type != "||":
        return False
    right = _body(body.children[-1])
    name = right.child_by_field_name("name") if right.type == "variable_assignment" else None
    return name is not None and decides(node, text_of(name))


_SETS_UP_SHELL = frozenset({"trap", "set", "shopt", "umask"})  # no check of the work
_STATUS_USES = frozenset({"if_statement", "case_statement", "test_command", "while_statement"})


def stops(node: Node, functions: dict[str, Node]) -> bool:
    """Whether ``node`` ends the script when what it checks fails (``X || exit 1``, ``if !
    X; then echo FAIL; exit 1; fi``): an ``if`` that only reports does not."""
    if not _stops_on_failure(node, functions=functions):
        return False
    return any(_exits_failing(c, functions=functions) for c in walk(_body(node)))


def _err_trapped(root: Node, flags: ShellFlags, shell: str) -> ShellFlags:
    """``flags`` with -e where a bash script's ``trap 'exit 1' ERR`` ends it as -e would (sh
    has no ERR trap: dash rejects it and goes on)."""
    statements = [c for c in root.named_children if c.type != "comment"]
    if flags.errexit or shell != "bash" or not _err_trap_exits(statements):
        return flags
    return replace(flags, errexit=True)


def _err_trap_exits(statements: list[Node]) -> bool:
    """``trap 'exit 1' ERR`` (or ``trap 'echo failed; exit 1' ERR``) at the top: a failure
    ends the script as -e would; in a function or subshell too only under ``set -E``."""
    text = "\n".join(text_of(n) for n in statements)
    inherited = re.search(r"\bset\s+(?:-\w*E|-o\s+errtrace)", text) is not None
    if not inherited and any(
        c.type in ("function_definition", "subshell") for n in statements for c in walk(n)
    ):
        return False
    for node in statements:
        if _name(node) != "trap":
            continue
        words = [text_of(c).strip("'\"") for c in _body(node).children_by_field_name("argument")]
        if len(words) >= 2 and "ERR" in words[1:] and re.search(r"\bexit\s+[1-9]", words[0]):
            return True
    return False


def ignored_in(script: str, flags: ShellFlags = DEFAULT_FLAGS) -> tuple[str, str] | None:
    """The command whose failure a group or function where bash ignores -e hides in the check
    as planrun runs it (:func:`ignored_inside`), and why; validate's warning of what
    :func:`read` makes unverified."""
    if not flags.errexit or not any(word in script for word in _MAY_HIDE):
        return None  # as ignored_inside, before the reading is made
    return _ignored_in(_read(script, flags), flags)


def _ignored_in(found: Reading, flags: ShellFlags) -> tuple[str, str] | None:
    if not flags.errexit or found.never_fails or found.must_fail:
        return None
    if found.informs_ok is not None or found.informs_failed is not None:
        return None
    return ignored_inside(found.run)


def ignored_inside(script: str) -> tuple[str, str] | None:
    """Under -e, a group, subshell, loop, ``if``, ``case`` or function of the script run where
    bash ignores -e (left of `&&` or `||`, an `if` or `while` condition, after `!`): a
    failure inside it before its last command does not stop it, and its status is its last
    command's (`{ pytest; echo done; } && ...`, `check || exit 1` with `check() { a; b; }`,
    followed into the functions it calls). The first such command, and why; None when there
    is none."""
    if not any(word in script for word in _MAY_HIDE):
        return None  # no group, subshell, function, loop, if or case: nothing to look into
    root = parse(script)
    if root.has_error:
        return None
    functions = functions_of(root)
    # `if a; b; then`, `while a; b; do`: the conditions run in turn with -e ignored.
    several = {
        (found[0].start_byte, found[0].end_byte): found
        for node in walk(root)
        if node.type in ("if_statement", "elif_clause", "while_statement")
        and len(found := _conditions(node)) > 1
    }
    for place in _errexit_off(root):
        hidden = _hides(place, functions, frozenset())
        shown = place
        many = several.get((place.start_byte, place.end_byte))
        if hidden is None and many is not None:
            hidden = _hides_in(many, functions, frozenset())
            shown = place.parent or place
        if hidden is not None:
            command = _flat(text_of(hidden))
            where = _flat(text_of(shown))
            return command, f"bash ignores -e inside `{where}`, which goes on after it"
    return None


_MAY_HIDE = ("{", "(", "done", "fi", "esac")


def _hides(node: Node, functions: dict[str, Node], called: frozenset[str]) -> Node | None:
    """The first command under ``node`` (run with -e ignored) whose failure the script goes on
    after, following the functions it calls; None when there is none."""
    body = _body(node)
    kind = body.type
    if kind in ("compound_statement", "subshell", "do_group", "program"):
        return _hides_in([c for c in body.named_children if c.type != "comment"], functions, called)
    if kind == "function_definition":
        return None  # defining one runs nothing
    if kind == "command":
        name = _name(body) or ""
        if name in functions and name not in called:
            return _hides(functions[name], functions, called | {name})
        return None
    if kind in LOOPS:
        # An iteration's failure: the next one runs (not so a wait or a retry).
        return None if guarded(body) or _waits(body) else body
    if kind == "list":
        return _hides(body.children[0], functions, called) or _hides(
            body.children[-1], functions, called
        )
    if kind in ("if_statement", "elif_clause", "else_clause", "case_item", "case_statement"):
        conditions = _conditions(body)
        found = _hides_in(conditions, functions, called)  # `if a; b; then`: a goes unseen
        if found is not None:
            return found
        parts = body.children_by_field_name("value")
        branch = [
            c
            for c in body.named_children
            if c.type != "comment" and c not in conditions and c not in parts
        ]
        plain = [c for c in branch if c.type not in ("elif_clause", "else_clause", "case_item")]
        found = _hides_in(plain, functions, called)
        for clause in (c for c in branch if c not in plain):
            found = found or _hides(clause, functions, called)
        return found
    if kind in ("pipeline", "negated_command", "redirected_statement"):
        for part in body.named_children:
            found = _hides(part, functions, called)
            if found is not None:
                return found
    return None


def _hides_in(
    statements: list[Node], functions: dict[str, Node], called: frozenset[str]
) -> Node | None:
    """The first of ``statements`` (run in turn with -e ignored) whose failure goes unseen: one
    before the last that can fail and neither stops the script, has its status read, nor only
    sets the shell up; else what the last one hides."""
    for node in statements[:-1]:
        if _loose(node, functions, returns=bool(called)):
            return node
        found = _hides(node, functions, called)
        if found is not None:
            return found
    return _hides(statements[-1], functions, called) if statements else None


# Commands that set the shell up rather than check anything (their failure is a typo).
_SETUP_COMMANDS = frozenset({"set", "shopt", "trap", "shift", "unset", "export", "local"})


def _loose(node: Node, functions: dict[str, Node], *, returns: bool) -> bool:
    if _always_succeeds(node) or status_read_after(node):
        return False
    if _stops_on_failure(node, returns=returns, functions=functions):
        return False
    body = _body(node)
    if body.type in LOOPS and (guarded(body) or _waits(body)):
        return False  # a wait or a retry: it ends when what it waits for is there
    if body.type == "list" and body.children[1].type == "&&":
        right = body.children[-1]  # `[ "$V" = 1 ] && set -x`: a condition, not a check
        if _always_succeeds(right) or _name(right) in _SETUP_COMMANDS:
            return False
    called = functions.get(_name(body) or "")
    if called is not None:  # `log "checking"`: a helper that only prints
        inside = [c for c in called.named_children if c.type != "comment"]
        if inside and all(_always_succeeds(c) for c in inside):
            return False
    substitution = any(c.type == "command_substitution" for c in walk(body))
    if body.type in ("variable_assignment", "declaration_command") and not substitution:
        return False
    return not (_name(body) in _SETUP_COMMANDS and not substitution)


def _errexit_off(root: Node) -> list[Node]:
    """The parts of a script where bash ignores -e: the left of `&&` and `||`, the conditions
    of `if`, `while` and `until`, and what `!` negates."""
    out = []
    for node in walk(root):
        if node.type == "list":
            out.append(node.children[0])
        elif node.type in ("if_statement", "elif_clause", "while_statement"):
            out.extend(_conditions(node))
        elif node.type == "negated_command":
            out.extend(node.named_children)
    return out


def _conditions(node: Node) -> list[Node]:
    """The statements of an ``if``'s or ``while``'s condition (tree-sitter also marks the
    ``;`` after them)."""
    return [
        c for c in node.children_by_field_name("condition") if c.is_named and c.type != "comment"
    ]


def _waits(loop: Node) -> bool:
    """A loop that waits or retries (``until test -f ready; do sleep 1; done``, ``for i in 1 2
    3; do "$@" && return 0; sleep 1; done``): what its body runs always succeeds, or succeeds
    out of it."""
    group = loop.child_by_field_name("body")
    inside = [c for c in group.named_children if c.type != "comment"] if group else []
    return all(_always_succeeds(c) or _succeeds_out(c) for c in inside)


def _succeeds_out(node: Node) -> bool:
    """``X && return 0``, ``X && exit 0``, ``X && break``: leaving the loop on success."""
    body = _body(node)
    if body.type != "list" or body.children[1].type != "&&":
        return False
    right = _body(body.children[-1])
    args = [text_of(c) for c in right.children_by_field_name("argument")]
    return _name(right) == "break" or (
        _name(right) in ("return", "exit") and args[:1] in ([], ["0"])
    )


def _stops_on_failure(
    node: Node, *, returns: bool = False, functions: dict[str, Node] | None = None
) -> bool:
    """A statement that ends the script when what it checks fails, -e or not: ``X || exit 1``
    (``|| exit``), ``if ! X; then exit 1; fi``, a loop guarded so; with ``returns`` (in a
    function), ``|| return 1`` too."""
    body = _body(node)
    if body.type == "list" and body.children[1].type == "||":
        return _exits_failing(body.children[-1], returns=returns, functions=functions)
    if body.type == "if_statement":
        conditions = body.children_by_field_name("condition")
        inside = {(c.start_byte, c.end_byte) for cond in conditions for c in walk(cond)}
        commands = [
            c
            for c in walk(body)
            if c.type == "command" and (c.start_byte, c.end_byte) not in inside
        ]
        return bool(commands) and all(
            _exits_failing(c, returns=returns) or _always_succeeds(c) for c in commands
        )
    return guarded(node)


def _exits_failing(
    node: Node, *, returns: bool = False, functions: dict[str, Node] | None = None
) -> bool:
    """``exit``, ``exit 1``, ``{ echo missing; exit 1; }``, a call of ``die() { echo "$1";
    exit 1; }``: not ``exit 0``; ``return 1`` only with ``returns`` (out of a function it does
    not stop the script)."""
    body = _body(node)
    helper = (functions or {}).get(_name(body) or "")
    if helper is not None:
        return _exits_failing(helper)
    if body.type == "compound_statement":  # not `( exit 1 )`: a subshell's exit ends only it
        inside = [c for c in body.named_children if c.type != "comment"]
        return bool(inside) and _exits_failing(inside[-1], returns=returns)
    if _name(body) not in (("exit", "return") if returns else ("exit",)):
        return False
    args = [text_of(c) for c in body.children_by_field_name("argument")]
    return not args or args[0] != "0"


_BLOCK_TYPES = frozenset(
    {"compound_statement", "subshell", "case_item", "if_statement", "elif_clause", "else_clause"}
)


def _read(script: str, flags: ShellFlags) -> Reading:
    root = parse(script)
    if root.has_error:
        return Reading(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    if not statements:
        return Reading(script)
    found = (
        _negated(script, statements)
        or _if_masked(script, statements, flags)
        or _masked(script, statements, flags)
    )
    if found is not None:
        return found
    honoured, skipped = errexit(statements, flags)
    functions = functions_of(root) if "(" in script else {}
    if any(stops(i.node, functions) for i in skipped):
        return Reading(script)  # `X || exit 1` lines before `echo OK`: they can fail it
    if all(_always_succeeds(s) for s in honoured):
        if skipped:
            first = skipped[0]
            where = f"line {first.node.start_point.row + 1} of the script"
            return Reading(script, never_fails=True, note=f"{first.why}, {where}")
        if all(_always_succeeds(s) for s in statements):
            return Reading(script, never_fails=True)
    return Reading(script)


def _masked(script: str, statements: list[Node], flags: ShellFlags) -> Reading | None:
    first, last = statements[0], statements[-1]
    if len(statements) > 1 and _terminates(last) and not _opts_out(statements):
        inner = _read(_text(script, first, statements[-2]), flags)
        if inner.never_fails:
            return Reading(script, never_fails=True)
        return _judged(inner, f"the `; {_text(script, last, last)}`")
    heredoc = _heredoc_masked(script, last, flags)
    if heredoc is not None:
        return heredoc
    body = _body(last)
    if body.type != "list":
        return None
    left, op, right = body.children[0], body.children[1], body.children[-1]
    exits = _exits_when_it_succeeds(script, body if op.type == "&&" else left)
    if exits is not None and (op.type == "&&" or _always_succeeds(right)):
        # `grep -rn TODO src && exit 1 || echo "No TODOs"`: the author's "X must fail".
        checked, what = exits
        if checked.start_byte != first.start_byte:
            return Reading(script, never_fails=True)  # lines before it could fail too
        text = _text(script, checked, checked)
        return Reading(text, must_fail=True, note=f"`{_flat(what)}` runs when it succeeds")
    # bash applies the redirect of `a || echo x >&2` to the echo; tree-sitter to the list.
    right_text = _text(script, right, last)
    alone = len(statements) == 1
    if op.type == "&&" and alone and (said := _informs(right)) is not None:
        return Reading(_text(script, left, left), informs_ok=said)
    if op.type != "||" or not (
        _always_succeeds(right) or _dumps(right) or sets_unread(right, last)
    ):
        return None
    if _cleans_up(left):
        # `kill $PID || true` last: tidying after the check, not the check (alone: no check)
        return None if len(statements) > 1 else Reading(script, never_fails=True)
    mask = f"the `|| {_name(right) if _is_report(right) else right_text}`"
    failed_says = _informs(right) if alone else None
    if left.type == "list" and left.children[1].type == "&&" and _is_report(left.children[-1]):
        command = left.children[0]
        success = _text(script, left.children[-1], left.children[-1])
        if FAILURE_WORDS.search(success):
            if FAILURE_WORDS.search(right_text):
                return Reading(script, never_fails=True)  # both branches report a failure
            if command.start_byte != first.start_byte:
                # Lines before it could fail too, and a failure would look like success.
                return Reading(script, never_fails=True)
            x = _text(script, command, command)
            return Reading(x, must_fail=True, note=f"`{_flat(success)}` runs when it succeeds")
        ok_says = _informs(left.children[-1]) if alone else None
        if ok_says is not None and failed_says is not None:
            # Both branches only inform: nothing tells a pass from a failure.
            return Reading(script, never_fails=True)
        if ok_says is not None and not FAILURE_WORDS.search(right_text):
            x = _text(script, command, command)
            if PASS_WORDS.search(right_text):  # X && echo "NOTE: TODOs left" || echo "PASS"
                return Reading(x, must_fail=True, note=f"`{_flat(success)}` runs when it succeeds")
            return Reading(x, informs_ok=ok_says)  # `|| true`, `|| echo "no TODOs"`: neutral
        left = command
    if failed_says is not None:
        x = _text(script, left, left)
        return Reading(x, informs_failed=failed_says, note=f"{mask} would hide its failure")
    inner = _read(_text(script, first, left), flags)
    if inner.never_fails:
        return Reading(script, never_fails=True)
    return _judged(inner, mask)


# curl's options that make an HTTP error status (400 and up) its failure.
_CURL_FAILS = lazyre.compile(r"--fail(?:-with-body)?|-[a-zA-Z]*f[a-zA-Z]*")
STATUS_BLIND = "exits 0 whatever HTTP status the server answers"


def status_blind(script: str) -> str | None:
    """Why the script's exit status shows nothing of what a server answered: a ``curl``
    without ``--fail`` (a 500 page exits 0 as a 200 does) whose output nothing checks, and
    nothing else in the script but reports (``curl -s URL && echo OK``, ``curl -s URL | head
    -1``, ``timeout 5 curl -s URL``, ``body=$(curl -s URL)``)."""
    root = parse(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    if root.has_error or not statements:
        return None
    kinds = [_curl_blind(s) for s in statements]
    if None in kinds or not any(kinds):
        return None
    return f"`curl` {STATUS_BLIND} (add `--fail`, or check what it prints)"


# What a pipe from curl may go through and still check nothing of it.
_PASSES_TEXT = frozenset({"head", "tail", "tee", "cat", "sort", "less", "more", "wc"})


def _reads_json(node: Node) -> bool:
    """``jq .`` or ``jq -r .status`` without ``-e``, ``python3 -m json.tool``: it only prints
    the JSON it was given (an error page in JSON, `{"detail": "Not Found"}`, too)."""
    words = text_of(_body(node)).split()
    name = (words[0] if words else "").rsplit("/", 1)[-1]
    if name == "jq":
        return not jq_exit_status(words[1:])
    return name.startswith("python") and words[1:3] == ["-m", "json.tool"]


def _curl_blind(node: Node) -> bool | None:
    """True for a ``curl`` whose status shows nothing of the answer; False for a statement
    that always succeeds (a report); None for anything else (a check of its own)."""
    body = _body(node)
    if body.type == "list":
        if body.children[1].type != "&&":
            return None
        parts = [_curl_blind(body.children[0]), _curl_blind(body.children[-1])]
        return None if None in parts else any(parts)
    if body.type == "pipeline":
        first, *rest = [c for c in body.named_children if c.type != "comment"]
        if not all((_name(c) or "") in _PASSES_TEXT or _reads_json(c) for c in rest):
            return None  # `| grep -q ok`, `| jq -e .ok`: checked
        return _curl_blind(first)
    if body.type == "variable_assignment":
        value = body.child_by_field_name("value")
        inner = list(value.named_children) if value is not None else []
        if value is None or value.type != "command_substitution" or len(inner) != 1:
            return None
        return _curl_blind(inner[0])
    if body.type != "command":
        return None
    words = [(_name(body) or "").rsplit("/", 1)[-1]]
    words += [(c.text or b"").decode() for c in body.children_by_field_name("argument")]
    while words and words[0] in WRAPPERS:
        words = words[1:]
        while words and words[0] != "curl" and words[0] not in WRAPPERS:
            words = words[1:]  # `timeout 5`, `env X=1`
    if words[:1] == ["curl"]:
        return not any(_CURL_FAILS.fullmatch(w) for w in words[1:] if not w.startswith("http"))
    return False if _always_succeeds(body) else None


def _heredoc_masked(script: str, last: Node, flags: ShellFlags) -> Reading | None:
    """``python3 - <<'PY' || echo "import failed"`` (the here-document's lines after it) as the
    last statement: judged by the command with its here-document, without the mask (bash runs
    the ``||`` as written; tree-sitter puts it inside the redirect)."""
    if last.type != "redirected_statement":
        return None
    for redirect in (c for c in last.children if c.type == "heredoc_redirect"):
        ops = [c for c in redirect.children if c.type in ("||", "&&", "|")]
        if len(ops) != 1 or ops[0].type != "||":
            return None
        after = ops[0].next_named_sibling
        if after is None or after.type.startswith("heredoc") or not _always_succeeds(after):
            return None
        data = script.encode()
        start = ops[0].start_byte
        while start > 0 and data[start - 1 : start] in (b" ", b"\t"):
            start -= 1
        run = (data[:start] + data[after.end_byte :]).decode()
        name = _name(after) if _is_report(after) else _flat(_text(script, after, after))
        inner = _read(run, flags)
        if inner.never_fails:
            return Reading(script, never_fails=True)
        return _judged(inner, f"the `|| {name}`")
    return None


def _exits_when_it_succeeds(script: str, node: Node) -> tuple[Node, str] | None:
    """``X && exit 1``, ``X && { echo ...; exit 1; }``, ``X && echo "✗ ..." && exit 1``: the
    check ``X`` and what runs when it succeeds, which ends the script with a failure."""
    if node.type != "list" or node.children[1].type != "&&":
        return None
    end = node.children[-1]
    if not _fails_script(end):
        return None
    x = node.children[0]
    while x.type == "list" and x.children[1].type == "&&" and _is_report(x.children[-1]):
        x = x.children[0]  # `X && echo "✗ still there" && exit 1`
    if x.type == "list":
        return None
    return x, _text(script, end, end)


def _fails_script(node: Node) -> bool:
    """``exit N`` (N > 0), or a group of reports ending in one."""
    body = _body(node)
    if body.type == "compound_statement":
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and _fails_script(inner[-1]) and all(_is_report(c) for c in inner[:-1])
    words = [(c.text or b"").decode() for c in body.named_children[1:]]
    return _name(body) == "exit" and len(words) == 1 and words[0].isdigit() and words[0] != "0"


def _if_masked(script: str, statements: list[Node], flags: ShellFlags) -> Reading | None:
    """``if X; then echo ok; fi`` (no ``elif``, branches that always succeed) is judged by
    ``X``: it must succeed, or fail when only its success branch reports a failure."""
    node = statements[-1]
    conditions = [c for c in node.children_by_field_name("condition") if c.is_named]
    if node.type != "if_statement" or len(conditions) != 1:
        return None
    condition = conditions[0]
    branches = [c for c in node.named_children if c.type != "comment" and c != condition]
    if any(c.type == "elif_clause" for c in branches):
        return None
    otherwise = [c for c in branches if c.type == "else_clause"]
    then = [c for c in branches if c.type != "else_clause"]
    negated = condition.type == "negated_command"
    if (
        not negated
        and len(statements) == 1
        and _body(condition).type == "command"
        and (_name(condition) or "").rsplit("/", 1)[-1] not in NO_MATCH_PROGRAMS
        and then
        and _fails_script(then[-1])
        and all(_is_report(c) for c in then[:-1])
        and all(_only_reports(c) for c in otherwise)
    ):
        # `if ./cli --port abc; then echo "should have failed"; exit 1; fi`: X must fail, and
        # its exit 127 (no cli) or python's "can't open file" is no refusal. (A search there
        # that could not look is watched by what it printed: hiddencheck.)
        note = f"`{_flat(_text(script, then[-1], then[-1]))}` runs when it succeeds"
        return Reading(_text(script, condition, condition), must_fail=True, note=note)
    if not all(_only_reports(c) for c in then + otherwise):
        return None  # a branch that does something (writes a file, sleeps) is run as written
    then_fails = any(FAILURE_WORDS.search(_text(script, c, c)) for c in then)
    else_fails = any(FAILURE_WORDS.search(_text(script, c, c)) for c in otherwise)
    x = condition.named_children[0] if negated else condition
    said = next((m for c in then if (m := _informs(c)) is not None), None)
    if said is not None and len(statements) == 1 and not then_fails and not else_fails:
        # `if grep -q TODO a.py; then echo "WARNING: TODOs remain"; fi`: the branch informs.
        if otherwise and not all(_informs(c) is None and _is_report(c) for c in otherwise):
            return Reading(script, never_fails=True)  # both inform: nothing tells
        if negated:
            return Reading(_text(script, x, x), informs_failed=said)
        return Reading(_text(script, x, x), informs_ok=said)
    if (then_fails and else_fails) or (negated and not then_fails and not else_fails):
        return Reading(script, never_fails=True)  # nothing tells success from failure
    must_fail = then_fails != negated
    note = "the `if` around it would hide its failure"
    if must_fail:
        if len(statements) > 1:
            return Reading(script, never_fails=True)  # lines before it could fail too
        report = next(c for c in then if FAILURE_WORDS.search(_text(script, c, c)))
        note = f"`{_flat(_text(script, report, report))}` runs when it succeeds"
        return Reading(_text(script, x, x), must_fail=True, note=note)
    before = _text(script, statements[0], statements[-2]) + "\n" if len(statements) > 1 else ""
    inner = _read(before + _text(script, x, x), flags)
    if inner.never_fails:
        return Reading(script, never_fails=True)
    return _judged(inner, "the `if` around it")


# What tidies up after a check (a server it started, a folder it made): its failure, masked by
# `|| true` as the script's last statement, is no failure of the work.
_CLEANUP = frozenset(
    {"kill", "pkill", "killall", "wait", "rm", "rmdir", "unlink", "umount", "popd", "deactivate"}
)
_CONTAINER_CLEANUP = frozenset({"stop", "rm", "kill", "down", "rmi"})
_CONTAINERS = frozenset({"docker", "podman", "docker-compose", "podman-compose"})
# What shows why a check failed (a log) after `||`: it succeeds as a report does. `cat`, `head`
# and `ls` only beside a report (`|| { echo "--- log ---"; cat app.log; }`): alone they are as
# often another check (`ls dist/app.js || ls build/app.js`).
_DUMPS = frozenset({"tail", "journalctl"})
_SHOWS = frozenset({"cat", "head", "ls"})


def _shows_a_log(script: str) -> str | None:
    """Why a script's exit status does not show whether a check before its last line failed:
    ``X || tail -n 20 server.log`` there shows a log and goes on, under -e too (the last
    line's is the mask planrun judges by ``X``); None when there is none."""
    root = parse(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    for node in statements[:-1] if not root.has_error else []:
        body = _body(node)
        if body.type == "list" and body.children[1].type == "||" and _dumps(body.children[-1]):
            check, shown = _flat(text_of(body.children[0])), _flat(text_of(body.children[-1]))
            fix = f"end it with `|| {{ {shown}; exit 1; }}`"
            return f"{UNSEEN} `{check}` failed: the `|| {shown}` shows a log and goes on ({fix})"
    return None


def _cleans_up(node: Node) -> bool:
    name = (_name(node) or "").rsplit("/", 1)[-1]
    if name in _CLEANUP:
        return True
    words = [text_of(c) for c in _body(node).children_by_field_name("argument")]
    words = [w for w in words if not w.startswith("-")]
    if words[:1] == ["compose"]:
        words = words[1:]
    return name in _CONTAINERS and words[:1] != [] and words[0] in _CONTAINER_CLEANUP


def _dumps(node: Node) -> bool:
    """``|| tail -n 20 server.log``, ``|| { echo "--- log ---"; cat app.log; }``, ``|| docker
    logs app``: it only shows what went wrong, and the script goes on with exit 0."""
    body = _body(node)
    if body.type in ("compound_statement", "subshell"):
        inner = [c for c in body.named_children if c.type != "comment"]
        shown = [c for c in inner if (_name(c) or "").rsplit("/", 1)[-1] in _SHOWS]
        return (
            bool(inner)
            and any(_is_report(c) for c in inner)
            and all(_always_succeeds(c) or _dumps(c) or c in shown for c in inner)
        )
    name = (_name(body) or "").rsplit("/", 1)[-1]
    words = [text_of(c) for c in body.children_by_field_name("argument")]
    if name in _CONTAINERS or name == "kubectl":
        return "logs" in words[:2]
    return name in _DUMPS


def _terminates(node: Node) -> bool:
    """``true``, ``:`` or ``exit 0`` as the last statement (an ``echo`` there is a message:
    under ``-e`` a failure before it still fails the script)."""
    return _body(node).type == "command" and _only_reports(node) and not _is_report(node)


def _opts_out(statements: list[Node]) -> bool:
    """A ``set +e`` of the user's own: the script means what it says."""
    for node in statements:
        if _name(node) == "set":
            args = [(c.text or b"").decode() for c in node.named_children[1:]]
            if "+e" in args or args[-2:] == ["+o", "errexit"]:
                return True
    return False


def _negated(script: str, statements: list[Node]) -> Reading | None:
    """``! grep -q TODO a.py``: the ``!`` turns every failure into success, so grep's exit 2
    (a.py missing) would pass. Judged by the command, which must fail by finding nothing; so is
    ``! ./bin/tool --bad-flag``, whose exit 127 (no bin/tool) would pass too, and so are the
    same negation in a subshell (``! (X)``) and one whose failure exits (``! X || exit 1``,
    ``if ! X; then echo ok; else exit 1; fi``): the script's status is the ``!``'s."""
    found = negation(statements[0]) if len(statements) == 1 else None
    if found is None:
        return None
    inner = [c for c in found.named_children if c.type != "comment"]
    if len(inner) == 1 and _body(inner[0]).type == "subshell":
        inner = [c for c in _body(inner[0]).named_children if c.type != "comment"]
    if len(inner) != 1 or (
        _name(inner[0]) not in NO_MATCH_PROGRAMS and _body(inner[0]).type != "command"
    ):
        return None
    text = _text(script, inner[0], inner[0])
    return Reading(text, must_fail=True, note="the `!` would turn its error into a pass")


def negation(node: Node) -> Node | None:
    """The ``! X`` whose status is ``node``'s: itself, the left of ``! X || exit 1``, or the
    condition of an ``if ! X`` whose ``then`` only reports and whose ``else`` exits failing
    (not a search there: one that could not look is watched by what it printed, hiddencheck)."""
    body = _body(node)
    if body.type == "list" and body.children[1].type == "||" and _exits_failing(body.children[-1]):
        body = _body(body.children[0])
    elif (parts := if_parts(body)) is not None:
        condition, then, otherwise = parts
        if not otherwise or not all(_only_reports(c) for c in then + otherwise[:-1]):
            return None
        if not _exits_failing(otherwise[-1]) or _body(condition).type != "negated_command":
            return None
        inner = _body(condition).named_children
        if inner and (_name(inner[0]) or "").rsplit("/", 1)[-1] in NO_MATCH_PROGRAMS:
            return None
        body = _body(condition)
    return body if body.type == "negated_command" else None


def _judged(inner: Reading, mask: str) -> Reading:
    note = f"{mask} would hide its failure"
    if inner.note:
        note = f"{inner.note}; {note}"
    return Reading(inner.run, must_fail=inner.must_fail, note=note)


def judged(run: str, note: str, *, must_fail: bool) -> str:
    """How a report says which command a check was judged by, and why."""
    which = ", which must fail" if must_fail else ""
    return f"judged by `{_flat(run)}`{which}: {note}"


def _only_reports(node: Node) -> bool:
    """A branch of an ``if`` that only prints (to the terminal) or succeeds: judging the ``if``
    by its condition, which drops the branch, loses nothing."""
    if node.type == "else_clause":
        inner = [c for c in node.named_children if c.type != "comment"]
        return bool(inner) and all(_only_reports(c) for c in inner)
    if node.type == "redirected_statement":
        for redirect in node.children_by_field_name("redirect"):
            target = redirect.child_by_field_name("destination")
            if redirect.type != "file_redirect" or target is None or target.type != "number":
                return False  # `> file` writes something the rest may rely on
    name = _name(node)
    if name == "exit":
        return _always_succeeds(node)
    return name is not None and name.rsplit("/", 1)[-1] in MASKS


def _informs(node: Node) -> str | None:
    """The message of a report that only informs (``echo "INFO: checking ..."``), else None;
    a message naming a failure (``WARNING: tests FAILED``) or a pass (``NOTE: all tests
    passed``) is that outcome's report."""
    if not _is_report(node):
        return None
    said = _ANSI.sub("", report_message(node))
    if not INFO_WORDS.match(said) or FAILURE_WORDS.search(said) or PASS_WORDS.search(said):
        return None
    return said


def finds(run: str) -> bool:
    """Whether ``run`` is one search (grep, rg, test): its exit 1 is "not found", no error."""
    statement = only_statement(unwrapped(run))
    name = _name(statement) if statement is not None else None
    return name is not None and name.rsplit("/", 1)[-1] in NO_MATCH_PROGRAMS


def _is_report(node: Node) -> bool:
    return report_name(node) is not None


def _text(script: str, first: Node, last: Node) -> str:
    data = script.encode()
    return data[first.start_byte : last.end_byte].decode()
