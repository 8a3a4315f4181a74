"""Checks inside a script whose failure no exit status shows: ``test -f a.py || echo "missing
a.py"``, ``grep -q x f && echo found``, ``! grep -q TODO f`` before the script's last command
(or in a loop's body). Neither ``bash -e`` nor planrun's ERR trap sees such a failure, and the
script goes on to exit 0: a pass that shows nothing about the check.

Where the failure prints a message of its own (a report after ``||``), planrun watches the
command's output for the message's fixed text (printed.py): when it never appears the report
never ran, so the check passed; when it appears, the check (or something printing the same
text) failed, and the pass shows nothing. Where nothing tells (``&& echo``, ``!``, a message
with no fixed text, output that may go elsewhere), planrun names the check it cannot see.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from tree_sitter import Node

from planrun import earlyexit, lazyre, printed
from planrun.checkoutput import PROBES
from planrun.checkrules import FAILURE_WORDS, negation
from planrun.commandkinds import (
    PATH_EXPANDS,
    all_reports,
    head_line,
    reports_of,
    runs_checks,
    runs_code,
)
from planrun.errexit import (
    SUBSTITUTIONS,
    always_succeeds,
    body_of,
    clause_conditions,
    command_name,
    commands_in,
    flat,
    if_parts,
    in_substitution,
    next_statement,
    reads_status_first,
    report_message,
    report_name,
    shell_script,
    sourced_absent,
    sourced_text,
    text_of,
    walk,
)
from planrun.hiddencheck import Hidden
from planrun.shellsplit import one_line, parse
from planrun.skips import branch_skip, skip

# Nothing to find without a list (&&, ||), a negation (!), `$(`, an `if`, find, a declaration.
_MAY_HIDE = lazyre.compile(
    r"&&|\|\||(?:^|[\s;&|({])!\s|\$\(|\b(?:if|case|find|export|local|readonly|declare|typeset)\b"
)
# `[ -n "$CI" ] && echo ...`: a test of an environment variable is a condition, not a check.
_ENV_TEST = lazyre.compile(
    r'(?:\[\[?|test)\s+(?:!\s+)?-[nz]\s+"?\$\{?[A-Z_][A-Z0-9_]*\}?"?(?:\s+\]\]?)?'
)
# `command -v uv && echo ...`, `export X=1 && echo ...`: no check either.
_NO_CHECK = PROBES | {"export", "declare", "local"}
# Programs that print text they read: files, other commands' output, their arguments.
_RELAYS = frozenset(
    {"cat", "head", "tail", "less", "more", "tac", "sed", "awk", "grep", "egrep", "fgrep"}
    | {"rg", "ag", "git", "diff", "jq", "yq", "tee", "xargs", "find", "ls", "sort", "uniq"}
    | {"cut", "paste", "tr", "column", "nl", "od", "xxd", "strings", "env", "printenv"}
)
_DELIMITER = lazyre.compile(r"""-?(?:\w+|'\w+'|"\w+")""")  # `EOF`, `'PY'`, `"END"`, `-EOF`
_EXPANDS = lazyre.compile(r"[$`~*?\\[{]")  # what makes a bare word other text than written
# What may change or drop planrun's DEBUG trap (one of the script's own, functrace, extdebug,
# a file sourced, which may set one, eval: as commands, not `grep "eval(" src`), or -e (`set
# +e`: then the command after `&&` may have failed and gone on), or would print the trap's
# every run (`set -x`: into the output).
OWN_DEBUG = lazyre.compile(
    r"\btrap\b[^\n]*\bDEBUG\b|\bfunctrace\b|\bextdebug\b|\bset\s+-\w*[Tx]"
    r"|(?:^\s*|[;&|({]\s*|\n\s*|\b(?:then|do|else|builtin|command)\s+)(?:source|eval)\b"
    r"|(?:^|[;&|({]\s*|\n\s*)\.\s|\bset(?:\s+-\w+)*\s+\+\w*e|\+o\s+(?:errexit|pipefail)|\bxtrace\b"
    r"|\bshopt\b[^\n]*\berrexit\b"
)
# Blocks whose status is their last statement's (an `if`'s: the branch taken).
_BLOCKS = frozenset(
    {"compound_statement", "subshell", "if_statement", "else_clause", "elif_clause"}
)
_CONDITIONED = frozenset({"if_statement", "elif_clause", "while_statement"})
# What a branch of an ``if`` prints when its condition is the failure (checkrules' words and more).
_FAILURE = lazyre.compile(
    FAILURE_WORDS.pattern + r"|\bmissing\b|\bnot found\b|\bdoes(?:n't| not) exist\b|\bno such\b",
    re.IGNORECASE,
)
MAX_WATCHED = 128  # texts watched in one command's output; past that, none is (WATCH_LIMIT)


UNREAD = "a line planrun cannot read"
SKIPPED = "the `&&`"  # the shape of a check before `&&` whose failure skips what follows
_FIND_EXEC = "the `find -exec … \\;`"
_FIND_ENDS = frozenset({"\\;", "';'", '";"', "+"})
WATCH_LIMIT = f"planrun watches at most {MAX_WATCHED} messages of one script"


_CHOOSERS = frozenset({"if_statement", "case_statement", "list"})  # what a branch skip reads
_MAY_SKIP = lazyre.compile(r"\b(?:exit|return|if|case)\b|&&")  # what a skip (earlyexit.py) needs


def hidden(
    script: str, cwd: Path | None = None, *, bash: bool = True, look: bool = False
) -> tuple[Hidden, ...]:
    """The checks of ``script`` whose failure it goes on after without a sign in its exit
    status, in the order they are written: not the last command of its last statement (its
    status is the script's). ``cwd``: where files it sources by a literal path are read;
    ``bash``: whether bash runs it (what its own error messages say); ``look``: whether the
    files it tests may be looked at now (it is its task's first check, about to run)."""
    if not _MAY_HIDE.search(script.replace("\\\n", "")):
        return ()
    nested = shell_script(script) if "sh -" in script else None
    if nested is not None:
        # `bash -c 'command -v X || { echo skip; exit 0; }; X'`: a skip or a search inside
        # is watched by what it prints (planrun's traps do not reach that shell).
        found_inside = hidden(nested[3], cwd, bash=False)
        return tuple(
            h for h in found_inside if h.skip is not None or h.shape in (CANNOT_LOOK, ABSENT)
        )
    root = parse(script)
    statements = [c for c in root.named_children if c.type != "comment"]
    last = statements[-1] if statements else None
    watchable = printed.output_stays(root, script, cwd)
    skips = earlyexit.script_of(root) if _MAY_SKIP.search(script) else None
    found: list[Hidden] = []
    for node in walk(root):
        if in_substitution(node):
            continue
        if node.type == "ERROR" and re.search(r"&&|\|\|", text_of(node)):
            found.append(Hidden(node.start_point.row + 1, flat(text_of(node)), UNREAD))
            continue
        for index, child in enumerate(node.children):
            if child.type in ("||", "&&"):
                item = _after(node, index, last, script, watchable=watchable, bash=bash)
                if item is not None:
                    found.append(item)
        item = _declared(node) or _found_by_find(node) or _printed_run(node)
        if item is not None:
            found.append(item)
        if node.type == "command" and skips is not None:
            item = skip(node, skips, watchable=watchable, bash=bash)
            if item is not None:
                found.append(item)
            if command_name(node) == "exit":
                found.extend(_cannot_look(node, watchable=watchable))
        if node.type in _CHOOSERS and skips is not None:
            item = branch_skip(node, skips, cwd, watchable=watchable, bash=bash, look=look)
            if item is not None:
                found.append(item)
        if node.type == "if_statement":
            item = _if_hides(node, last, watchable=watchable)
            if item is not None:
                found.append(item)
        if node.type == "negated_command" and _negation_hides(node, last):
            inner = node.named_children[0] if node.named_children else node
            command = flat(text_of(inner))
            fix = f"write `if {one_line(command, 40)}; then exit 1; fi`"
            found.append(Hidden(node.start_point.row + 1, command, "the `!`", fix=fix))
        elif node.type == "negated_command" and watchable and _decides(node):
            item = _negated_missing(node)
            if item is not None:
                found.append(item)
    looked = {(h.line, h.needle) for h in found if h.shape == CANNOT_LOOK}
    found = [h for h in found if h.shape != ABSENT or (h.line, h.needle) not in looked]
    if any(h.head is not None or h.reach for h in found) and not debug_stays(root, script, cwd):
        found = [replace(h, head=None, reach=()) for h in found]
    watched = {n for h in found for n in (h.needle, h.whole) if n is not None}
    if len(watched) > MAX_WATCHED:
        found = [replace(h, needle=None, whole=None, why=WATCH_LIMIT) for h in found]
    return tuple(found)


def debug_stays(root: Node, script: str, cwd: Path | None) -> bool:
    """Whether nothing in the script (``root``, its text ``script``) may change or drop
    planrun's DEBUG trap (:data:`OWN_DEBUG`): a file it sources by a literal path is read
    (``source .venv/bin/activate`` sets no trap); one that cannot be read may."""
    if not OWN_DEBUG.search(script):
        return True
    text = bytearray(script.encode())
    for node in walk(root):
        if command_name(node) in ("source", ".") and not in_substitution(node):
            sourced = sourced_text(node, cwd)
            if sourced is None and not sourced_absent(node, cwd):
                return False
            if sourced is not None and OWN_DEBUG.search(sourced):
                return False
            text[node.start_byte : node.end_byte] = b" " * (node.end_byte - node.start_byte)
    return not OWN_DEBUG.search(text.decode(errors="replace"))


def still_traced(script: str, cwd: Path | None) -> bool:
    """Whether the DEBUG trap's record still tells, read again after the script ran: a file it
    sources may have been written by the run itself."""
    return debug_stays(parse(script), script, cwd)


def still_watched(script: str, cwd: Path | None) -> bool:
    """Whether the script's output still surely reaches planrun, read again after it ran: a
    file it sources may have been written by the run itself."""
    return printed.output_stays(parse(script), script, cwd)


def _after(
    node: Node, index: int, last: Node | None, script: str, *, watchable: bool, bash: bool
) -> Hidden | None:
    """What the ``||`` or ``&&`` at ``node.children[index]`` hides, when a report follows it."""
    operator = node.children[index].type
    right = next((c for c in node.children[index + 1 :] if c.is_named), None)
    if right is None:
        return None
    if earlyexit.ends_early(right):
        return None  # `X || { echo skip; exit 0; }`: a skip (skip), or X's own success
    reports = reports_of(right)
    if not reports and operator == "&&":
        return _skipped(node, index, last, bash=bash, watchable=watchable)
    if not reports or _final(right, last):
        return None
    left = _left(node, index)
    line = node.start_point.row + 1
    name = _name(reports[0])
    if operator == "&&":
        if _exits_after(node):
            return None  # `grep -q x f && echo found && exit 1`: its success ends the script
        if not _is_check(left) or not all(_prints(r) for r in [right, *reports]):
            return None  # a condition (`[ -n "$CI" ]`), or `echo 1 > a.py`, an action
        statement = _statement(node)
        if _or_after(node) or _is_condition(statement) or _status_checked(statement):
            return None  # `X && echo ok || echo no`: the `||` tells; or the script reads $?
        if last is not None and statement.id == last.id:
            return None  # X's failure fails the whole list, the script's last statement
        said = printed.whole_line(reports[0]) if watchable and len(reports) == 1 else None
        if said is not None and not _quiet(left, said):
            said = None  # X could print the very line itself: seeing it would show nothing
        if said is None or statement.parent is None or statement.parent.type != "program":
            return Hidden(line, flat(text_of(left)), f"the `&& {name}`")
        if script.count(said) != 1 or _relays_text(statement):
            # Written elsewhere too, or another command may print any line (`cat notes.txt`).
            return Hidden(line, flat(text_of(left)), f"the `&& {name}`")
        line_out = b"\n" + said.encode() + b"\n"
        return Hidden(line, flat(text_of(left)), f"the `&& {name}`", said, line_out, success=True)
    if left.type == "list" and left.children[1].type == "&&" and reports_of(left.children[-1]):
        left = left.children[0]  # `X && echo ok || echo no`: the check is X
    needles = [printed.needle(r) for r in reports] if watchable else []
    needle = max((n for n in needles if n is not None), key=len, default=None)
    message = printed.message(reports[0])
    fix = f"end the `|| {name}` with `exit 1`"
    return Hidden(line, flat(text_of(left)), f"the `|| {name}`", message, needle, fix=fix)


def _exits_after(node: Node) -> bool:
    """Whether ``node`` is the left of ``&& exit N`` (or of a group ending in one)."""
    parent = node.parent
    if parent is None or parent.type != "list" or parent.children[0].id != node.id:
        return False
    if parent.children[1].type != "&&":
        return False
    end = body_of(parent.children[-1])
    while end.type == "compound_statement":
        inner = [c for c in end.named_children if c.type != "comment"]
        if not inner:
            return False
        end = body_of(inner[-1])
    return command_name(end) == "exit"


def _skipped(
    node: Node, index: int, last: Node | None, *, bash: bool, watchable: bool
) -> Hidden | None:
    """``npm run build && npm test`` or ``cd web && npm test`` on a line before the script's
    last: a failure before ``&&`` stops neither ``bash -e`` nor planrun's ERR trap, and the
    script goes on without what follows it. ``cd DIR``'s failure prints ``cd: DIR: `` (bash),
    which planrun watches for; a command that runs tests, a build, a linter or code cannot be
    seen. Conditions (``[ -f .env ] && source .env``), probes and setup are left alone."""
    statement = _statement(node)
    if statement.parent is None:
        return None
    top = statement.parent.type == "program"
    if (last is not None and statement.id == last.id) or _or_after(node):
        return None  # its failure fails the script, or the `||` after it decides
    if _is_condition(statement) or _status_checked(statement):
        return None
    if not top and _shows_in_block(statement, last):
        return None  # in a function, or its status is its block's, up to the script's
    left = body_of(_left(node, index))
    while left.type == "list":  # `A && B && C`: B's failure skips C (A's has its own `&&`)
        if left.children[1].type != "&&":
            return None
        left = body_of(left.named_children[-1])
    command = flat(text_of(left))
    line = left.start_point.row + 1
    fix = f"put `{one_line(command, 40)}` on a line of its own"
    if command_name(left) in ("cd", "pushd"):
        target = _literal_word(left)
        if target is None or not bash:
            return None  # `cd "$ROOT"`, `cd -`; another shell words its failure otherwise
        if not watchable or not printed.reaches_output(left, 2):
            return Hidden(line, command, SKIPPED, why=f"its error may not reach planrun ({fix})")
        needle = f"{command_name(left)}: {target}: ".encode()
        return Hidden(line, command, SKIPPED, needle=needle, fix=fix)
    if not any(runs_code(c) for c in commands_in(left)):
        return None
    went = "the script goes on after a failure before `&&`"
    # A group, subshell or loop before `&&` runs with -e ignored inside: its status may be 0
    # though a command in it failed. Only a command or a pipe's status is its commands'.
    traced = top and bash and _plain(left)
    traced = traced and not _heredoc_mismatch(statement)
    head = head_line(statement) if traced else None
    return Hidden(
        line, command, SKIPPED, why=f"{went} ({fix})", fix=fix, head=head, sure=_sure(statement)
    )


def _shows_in_block(statement: Node, last: Node | None) -> bool:
    """Whether a failure of ``statement``, inside a group, an ``if`` or a loop, is not hidden
    by it: it is the last statement of its branch, its block's status is its own, and so on
    up to the script's last statement (not in a loop, whose earlier turns it ends nothing of);
    or it is in a function or a substitution, read where they are used (True: not named)."""
    node = statement
    while node.parent is not None and node.parent.type != "program":
        parent = node.parent
        if parent.type in ("function_definition", *SUBSTITUTIONS):
            return True
        if parent.type in _BLOCKS:
            after = next_statement(node)
            if after is not None and after.type not in ("elif_clause", "else_clause"):
                return False  # statements follow it in its branch
        elif parent.type != "redirected_statement":
            return False  # a loop's body, a list or pipe around the block
        node = parent
    return last is not None and node.id == last.id


def _plain(node: Node) -> bool:
    """A command, or a pipe of commands: no group or subshell, inside which -e is off."""
    if node.type == "pipeline":
        return all(body_of(c).type == "command" for c in node.named_children)
    return node.type == "command"


def _sure(statement: Node) -> bool:
    """Whether a failure of the `&&` list ``statement`` can only be a check's: each command
    before its last `&&` runs code (or is a ``cd``), none a condition (``[ -n "$CI" ] &&``,
    ``command -v x &&``), and the last is not negated (``! grep -q TODO f``, which -e ignores)."""
    parts: list[Node] = []
    node = body_of(statement)
    while node.type == "list" and node.children[1].type == "&&":
        parts.insert(0, body_of(node.named_children[-1]))
        node = body_of(node.children[0])
    parts.insert(0, node)
    if parts[-1].type == "negated_command":
        return False
    for part in parts[:-1]:
        if command_name(part) in ("cd", "pushd"):
            continue
        if not _plain(part) or not any(runs_code(c) for c in commands_in(part)):
            return False
    return True


def _heredoc_mismatch(statement: Node) -> bool:
    """Whether a here-document of the script may end where tree-sitter and bash disagree (a
    delimiter quoted inside the word, ``tr"ue"``): the next line's number is not sure then."""
    program = statement.parent
    for node in walk(program) if program is not None else []:
        if node.type == "heredoc_start" and not _DELIMITER.fullmatch(text_of(node)):
            return True
    return False


def _literal_word(command: Node) -> str | None:
    """The one argument of ``command`` when it is fixed text (``web``, ``"my app"``)."""
    words = command.children_by_field_name("argument")
    if words and text_of(words[0]) == "--":
        words = words[1:]  # `cd -- web`
    if len(words) != 1:
        return None
    word = words[0]
    text = text_of(word)
    if word.type in ("raw_string", "string"):
        if any(c.is_named and c.type != "string_content" for c in word.children):
            return None  # "$ROOT/web"
        text = text[1:-1]
    elif word.type != "word" or _EXPANDS.search(text):
        return None  # $ROOT, ~/web, web*, a\ b
    return text if text and text != "-" else None


def _declared(node: Node) -> Hidden | None:
    """``export OUT=$(pytest -q)``, ``local``, ``readonly``, ``declare``: the declaration's own
    status (0) replaces the command substitution's, under ``bash -e`` too."""
    if node.type != "declaration_command":
        return None
    keyword = text_of(node.children[0])
    for assignment in node.named_children:
        for value in assignment.named_children:
            if value.type != "command_substitution":
                continue
            inner = [c for c in value.named_children if c.type != "comment"]
            if inner and not all(always_succeeds(c) for c in inner):
                command = flat(" ".join(text_of(c) for c in inner))
                fix = "assign it on a line of its own (`NAME=$(...)`), then declare NAME"
                return Hidden(node.start_point.row + 1, command, f"the `{keyword}`", fix=fix)
    return None


def _printed_run(node: Node) -> Hidden | None:
    """``echo "Tests: $(pytest -q | tail -1)"``: the echo's status (0) is the line's, whatever
    the test run inside it returned. Only runs of tests, builds and linters count: ``echo
    "Python: $(python3 --version)"`` checks nothing."""
    if node.type != "command" or report_name(node) is None:
        return None
    for inner in walk(node):
        if inner.type != "command_substitution":
            continue
        for command in commands_in(inner):
            if runs_checks(command):
                text = flat(" ".join(text_of(c) for c in inner.named_children))
                return Hidden(node.start_point.row + 1, text, f"the `{report_name(node)}`")
    return None


def _found_by_find(node: Node) -> Hidden | None:
    """``find tests -name 't*.py' -exec pytest {} \\;``: find's status ignores what ``-exec ...
    \\;`` runs (with ``{} +`` it does not)."""
    if command_name(node) != "find":
        return None
    words = [text_of(c) for c in body_of(node).children_by_field_name("argument")]
    starts = [i for i, w in enumerate(words) if w in ("-exec", "-execdir", "-ok")]
    for start in starts:
        end = next((i for i in range(start + 1, len(words)) if words[i] in _FIND_ENDS), None)
        if end is not None and words[end] != "+":
            command = flat(" ".join(words[start + 1 : end]))
            fix = "end `-exec` with `{} +`: find then fails when the command does"
            return Hidden(node.start_point.row + 1, command, _FIND_EXEC, fix=fix)
    return None


_GROUPS = frozenset({"compound_statement", "redirected_statement"})
CANNOT_LOOK = "its error"  # the shape of a search whose error (exit 2) reads as "not found"
ABSENT = "its absence"  # the shape of a program under `!` that could not run: its 127 passes
_GREPS = frozenset({"grep", "egrep", "fgrep"})
# Builtins and keywords a guard may test: never "command not found".
_NOT_PROGRAMS = frozenset({"test", "[", "[[", "true", "false", ":", "command", "type", "!"})
# Options whose value is the next word: `-m 1`, `--max-count 1` (not `--max-count=1`).
_GREP_VALUED = lazyre.compile(
    r"-[ABCDdmef]|--(?:after-context|before-context|context|devices|directories|max-count"
    r"|regexp|file|include|exclude|exclude-dir|label|binary-files|color|colour)"
)


def _cannot_look(node: Node, *, watchable: bool) -> list[Hidden]:
    """``if grep -rq console.log src; then echo found; exit 1; fi`` (or ``grep ... && exit
    1``): the script fails when grep finds the text, and passes when it exits 2 because it
    could not read ``src`` as when it found nothing. Watched for grep's own error about each
    path it names (``grep: src: ``), which shows the search did not look."""
    words = [text_of(c) for c in node.children_by_field_name("argument")]
    if len(words) != 1 or not words[0].isdigit() or words[0] == "0":
        return []
    after = next_statement(node)
    if after is not None and after.type not in ("elif_clause", "else_clause"):
        return []  # the `exit` does not end its branch
    end = node
    while end.parent is not None and end.parent.type in _GROUPS:
        end = end.parent
    parent = end.parent
    if parent is None:
        return []
    if parent.type == "list" and parent.children[1].type == "&&" and parent.children[-1] == end:
        search = body_of(parent.children[0])
        while (
            search.type == "list"
            and search.children[1].type == "&&"
            and reports_of(search.children[-1])
        ):
            search = body_of(search.children[0])  # `grep -q x f && echo found && exit 1`
    elif parent.type in ("if_statement", "else_clause"):
        owner = parent if parent.type == "if_statement" else parent.parent
        if owner is None:
            return []
        conditions = [c for c in owner.children_by_field_name("condition") if c.is_named]
        if len(conditions) != 1 or any(c.id == end.id for c in conditions):
            return []
        search = body_of(conditions[0])
        negated = search.type == "negated_command"
        if negated != (parent.type == "else_clause"):
            return []  # the exit runs when the search found nothing
        if negated:
            search = body_of(search.named_children[0])
    else:
        return []
    name = (command_name(search) or "").rsplit("/", 1)[-1]
    if not watchable or not name or not printed.reaches_output(search, 2):
        return []  # `2>/dev/null`: the script chose not to hear it (a known gap)
    line = search.start_point.row + 1
    command = flat(text_of(search))
    missing = []
    if "/" not in (command_name(search) or "/") and name not in _NOT_PROGRAMS:
        # `if rg -q x src; then exit 1; fi` without rg: its 127 reads as "not found" too.
        fix = "make sure it is installed, or fail when it is not (`command -v X || exit 1`)"
        needle = f"{name}: command not found".encode()
        missing = [Hidden(line, command, CANNOT_LOOK, None, needle, fix=fix)]
    if name not in _GREPS:
        return missing
    options = [text_of(c) for c in search.children_by_field_name("argument")]
    if any(o == "--no-messages" or re.fullmatch(r"-[a-zA-Z]*s[a-zA-Z]*", o) for o in options):
        return missing  # `grep -s`: it prints no error about a file it cannot read (a gap)
    fix = "test that what it searches exists first (`test -e PATH || exit 1`)"
    paths = _grep_paths(search)
    return missing + [
        Hidden(line, command, CANNOT_LOOK, p, f"grep: {p}: ".encode(), fix=fix) for p in paths
    ]


def _grep_paths(search: Node) -> list[str]:
    """The literal paths a grep reads (not its pattern, not an option's value)."""
    words = list(search.children_by_field_name("argument"))
    texts = [text_of(w) for w in words]
    found: list[str] = []
    pattern_given = any(t in ("-e", "-f") or t.startswith(("--regexp", "--file")) for t in texts)
    skip_next = False
    for word, text in zip(words, texts, strict=True):
        if skip_next:
            skip_next = False
            continue
        if text.startswith("-") and text != "-":
            skip_next = _GREP_VALUED.fullmatch(text) is not None or text in ("-e", "-f")
            continue
        if not pattern_given:
            pattern_given = True
            continue
        literal = text[1:-1] if word.type == "raw_string" else text
        if word.type == "string" and all(c.type == "string_content" for c in word.named_children):
            literal = text[1:-1]
        if word.type in ("word", "string", "raw_string") and not PATH_EXPANDS.search(literal):
            found.append(literal)  # `lib`, `"lib"`, `'lib/'`, `lib/*.py` (unmatched: as is)
    return found


def _if_hides(node: Node, last: Node | None, *, watchable: bool) -> Hidden | None:
    """``if [ ! -f a.py ]; then echo "ERROR: a.py missing"; fi`` before the last statement:
    an ``if`` that only reports, one branch saying a failure, hides its condition's."""
    if (last is not None and _statement(node).id == last.id) or _is_condition(node):
        return None
    found = if_parts(node)
    if found is None:
        return None
    condition, then, otherwise = found
    then_reports = all_reports(then)
    else_reports = all_reports(otherwise)
    if then_reports is None or else_reports is None:
        return None  # a branch that does something is no report
    groups = [then_reports, else_reports]
    failing = [g for g in groups if any(_FAILURE.search(report_message(r)) for r in g)]
    if len(failing) != 1:
        return None  # nothing says which outcome is the failure
    reports = failing[0]
    needles = [printed.needle(r) for r in reports] if watchable else []
    needle = max((n for n in needles if n is not None), key=len, default=None)
    return Hidden(
        node.start_point.row + 1,
        flat(text_of(condition)),
        "the `if`",
        report_message(reports[0]),
        needle,
        fix="add `exit 1` to the branch that reports it",
    )


def _left(node: Node, index: int) -> Node:
    """The command before the operator: ``python3 - <<PY || echo x`` puts the operator in the
    here-document's redirect, whose statement's body is the command."""
    if node.type == "heredoc_redirect" and node.parent is not None:
        body = node.parent.child_by_field_name("body")
        return body if body is not None else node.parent
    before = [c for c in node.children[:index] if c.is_named]
    return before[-1] if before else node


def _name(report: Node) -> str:
    """``echo``, ``/bin/echo``, ``builtin echo``: how the report is named in a reason."""
    name = command_name(report) or "echo"
    if name == "cat":
        return "cat <<"
    return f"{name} {report_name(report)}" if name in ("builtin", "command") else name


def _is_check(node: Node) -> bool:
    """Whether the left of ``&& echo`` is a check whose failure matters: not a command that
    always succeeds, an assignment, a probe for a tool (``command -v uv``) or a test of an
    environment variable (``[ -n "$CI" ]``)."""
    body = body_of(node)
    if always_succeeds(body) or body.type in ("variable_assignment", "declaration_command"):
        return False
    if (command_name(body) or "") in _NO_CHECK:
        return False
    return not _ENV_TEST.fullmatch(" ".join(text_of(body).split()))


def _prints(node: Node) -> bool:
    """Whether a report's output stays on stdout or stderr: ``echo 1 > a.py`` writes a file
    (tree-sitter may put that redirect on the list the echo ends; bash applies it to it)."""
    while True:
        redirects = [c for c in node.children if c.type == "file_redirect"]
        if redirects and printed.through(redirects, 1) is None:
            return False
        parent = node.parent
        if parent is None or parent.type not in ("list", "redirected_statement"):
            return True
        if parent.type == "list" and parent.named_children[-1].id != node.id:
            return True
        node = parent


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


def _decides(negated: Node) -> bool:
    """Whether the ``!`` is what its statement checks (``! X``, ``! X || exit 1``, ``if ! X;
    then echo ok; else exit 1; fi``: checkrules.negation), not a choice (a loop's or an
    ``if``'s condition)."""
    statement = _statement(negated)
    parent = statement.parent
    if parent is not None and parent.type == "if_statement" and _is_condition(statement):
        statement = parent
    if _is_condition(statement):
        return False
    found = negation(statement)
    return found is not None and found.id == negated.id


def _negated_missing(node: Node) -> Hidden | None:
    """``! ./bin/tool --bad`` (or ``! (X)``) whose status the script keeps: a program the
    shell could not run exits 127, which the ``!`` turns into the refusal it tests for.
    Watched for the shell's own words that it could not run it."""
    inner = [c for c in node.named_children if c.type != "comment"]
    if len(inner) == 1 and body_of(inner[0]).type == "subshell":
        inner = [c for c in body_of(inner[0]).named_children if c.type != "comment"]
    command = body_of(inner[0]) if len(inner) == 1 else None
    name = command_name(command) if command is not None else None
    if command is None or not name or _EXPANDS.search(name) or name in _NOT_PROGRAMS:
        return None
    if not printed.reaches_output(command, 2):
        return None  # `2>/dev/null`: the script chose not to hear it (a known gap)
    said = "No such file or directory" if "/" in name else "command not found"
    fix = "test that it is there first (`test -x PATH || exit 1`, `command -v X || exit 1`)"
    text = flat(text_of(command))
    return Hidden(
        command.start_point.row + 1, text, ABSENT, None, f"{name}: {said}".encode(), fix=fix
    )


def _negation_hides(node: Node, last: Node | None) -> bool:
    if node.parent is not None and node.parent.type == "list":
        return False  # `! X && echo`, `! X || echo`: the list's operator decides
    statement = _statement(node)
    if last is not None and statement.id == last.id:
        return False
    return not _is_condition(statement) and not _status_checked(statement)


def _status_checked(statement: Node) -> bool:
    """Whether the statement after ``statement`` tests its exit status first (``if [ $? -ne 0
    ]``, ``[ $? -eq 0 ] || exit 1``, ``exit $?``, ``case $? in``): not one that only prints or
    keeps it (``echo "status: $?"``, ``rc=$?``)."""
    after = next_statement(statement)
    if after is None or not reads_status_first(after):
        return False
    first = body_of(after)
    while first.type == "list":
        first = body_of(first.children[0])
    if first.type in ("if_statement", "case_statement", "while_statement", "test_command"):
        return True
    return command_name(first) in ("exit", "return", "test", "[", "[[")


def _is_condition(node: Node) -> bool:
    """An ``if``'s or a loop's condition: its failure is a choice of branch, not a check."""
    parent = node.parent
    while parent is not None and parent.type in ("redirected_statement", "list"):
        node, parent = parent, parent.parent
    if parent is None or parent.type not in _CONDITIONED:
        return False
    return any(c.id == node.id for c in clause_conditions(parent))


def _statement(node: Node) -> Node:
    """The statement ``node`` is the whole of (a list, with its redirects)."""
    while node.parent is not None and node.parent.type in ("list", "redirected_statement"):
        node = node.parent
    return node


def all_watched(script: str, hidden: tuple[Hidden, ...], *, trapped: bool = False) -> bool:
    """Whether a script whose exit status shows nothing (it can never fail) checks only what
    planrun watched: each statement a report (``echo "Checking..."``), ``X || true``, or a
    list on a line whose check is watched (``X && echo ✓ || echo "✗ x missing"``), with no
    ``if``, loop, group or job among them; ``trapped`` (planrun's ERR trap saw every failure
    of the script and recorded none), a simple command too. Then that is its evidence."""
    if (not hidden and not trapped) or any(h.needle is None or h.skip for h in hidden):
        return False
    root = parse(script)
    if root.has_error:
        return False
    lines = {h.line for h in hidden}
    success = any(h.success for h in hidden)
    commands = len(hidden)  # the checks it runs: with none, echoes alone show nothing
    for statement in (c for c in root.named_children if c.type != "comment"):
        if any(n.type in SUBSTITUTIONS or n.type == "ERROR" for n in walk(statement)):
            return False  # `echo "Tests: $(pytest -q | tail -1)"` runs a check of its own
        body = body_of(statement)
        after = statement.next_sibling
        if _strict_only(body):
            continue  # `set -euo pipefail`: a failure stops the script sooner, not later
        if command_name(body) in _STOPS or (after is not None and after.type == "&"):
            return False  # `exit 0` first: the checks after it never run; `X &`: nor is it
        if report_name(body) is not None or (body.type == "command" and always_succeeds(body)):
            continue  # prints, or checks nothing (`true`, `test -d .`)
        if trapped and body.type == "command" and command_name(body) not in _STOPS:
            commands += 1
            continue  # its failure is one planrun's ERR trap records
        if body.type != "list" or not _plain_list(body):
            return False
        if _ignored_on_purpose(body):
            if success and not _quiet(body.children[0], ""):
                return False  # `cat status.txt || true` may print a watched line itself
            continue
        # The statement itself must be a watched check (`X || echo M`, `X && echo line`),
        # not another list that shares its line (`test -f a && true; test -f b || echo M`).
        if statement.start_point.row + 1 not in lines or not reports_of(body.children[-1]):
            return False
    return commands > 0


def _strict_only(command: Node) -> bool:
    """``set -e``, ``set -euo pipefail``, ``set -o errexit``: options that only make a failure
    stop the script (or an unset variable fail it)."""
    if command_name(command) != "set":
        return False
    words = [text_of(c) for c in command.children_by_field_name("argument")]
    return bool(words) and all(_STRICT.fullmatch(w) for w in words)


_STRICT = lazyre.compile(r"-[eu]*o?|pipefail|errexit|nounset")
# Commands that end or change the script rather than check something: a script that runs
# them may skip the checks after them without a failure.
_STOPS = frozenset(
    {"exit", "return", "exec", "set", "trap", "source", ".", "eval", "kill", "shopt"}
    | {"alias", "break", "continue", "wait"}
)


def _plain_list(node: Node) -> bool:
    """A list of simple commands and pipelines only (no ``if``, loop, group or subshell)."""
    for child in node.named_children:
        part = body_of(child)
        if part.type == "list":
            if not _plain_list(part):
                return False
        elif part.type not in ("command", "pipeline"):
            return False
    return True


def _quiet(node: Node, line: str) -> bool:
    """Whether the check ``node`` prints nothing that could be ``line``: tests (``test``,
    ``[``, ``grep -q``, ``cmp -s``, ``git diff --quiet``) or ``python -c`` code that neither
    prints nor holds the line."""
    for command in commands_in(node):
        name = (command_name(command) or "").rsplit("/", 1)[-1]
        words = [text_of(c) for c in command.children_by_field_name("argument")]
        if name in ("test", "[", "[[", "true", ":"):
            continue
        if name in ("grep", "egrep", "fgrep", "rg") and any(
            w == "--quiet" or (w.startswith("-") and not w.startswith("--") and "q" in w)
            for w in words
        ):
            continue
        if (name == "cmp" and "-s" in words) or (name == "git" and "--quiet" in words):
            continue
        code = " ".join(words)
        python = re.fullmatch(r"python[\d.]*", name) and "-c" in words
        if python and not any(w in code for w in ("print", "stdout", line or "\0")):
            continue
        return False
    return True


def _relays_text(statement: Node) -> bool:
    """Whether a command of the script outside ``statement`` prints text it reads or is
    given (``cat notes.txt``, ``grep x f``, ``echo "$msg"``): it could print the very line a
    watched ``&& echo`` prints, which then shows nothing."""
    program = statement.parent
    for command in commands_in(program) if program is not None else []:
        if statement.start_byte <= command.start_byte < statement.end_byte:
            continue
        name = (command_name(command) or "").rsplit("/", 1)[-1]
        if name in _RELAYS:
            return True
        if report_name(command) is not None and printed.whole_line(command) is None:
            return True  # an echo of something else than fixed text
    return False


def _ignored_on_purpose(node: Node) -> bool:
    """``X || true``, ``X || :``: the script's own word that X's failure does not matter (not
    ``X && echo ✓ || true``, a check that reports its pass)."""
    if node.children[1].type != "||" or command_name(node.children[-1]) not in ("true", ":"):
        return False
    return not any(report_name(n) is not None for n in walk(node.children[0]))
