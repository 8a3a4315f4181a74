"""Evidence rules on what a finished check printed and how it exited (checkrules.py reads
the check's shape before it runs). The rules are data, listed in the README:

- :data:`ZERO_TESTS`: output that says a test runner ran no tests, unless :data:`RAN_TESTS`
  says another part of the same run did (cargo prints ``running 0 tests`` for doc tests);
  :data:`LISTS_TESTS`: a test command that only lists tests (``pytest --collect-only``).
- :data:`NOT_FOUND`: a shell's, a script's or a wrapper's (``timeout``, ``env``) message that
  a program could not be run; ``python -m X`` saying ``No module named X``.
- :data:`NO_MATCH_EXIT`: programs whose "not found" answer is exit 1 only (``grep`` exits 2
  when it cannot read a file): a check that must fail is not passed by them erring.
- :data:`PRINTED_FAILURE`: the last line a check that only prints its result printed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tree_sitter import Node

from planrun import lazyre, scriptfiles
from planrun.commandlint import jq_exit_status
from planrun.environment import machine_paths
from planrun.errexit import (
    always_succeeds,
    and_chain,
    body_of,
    command_name,
    commands_in,
    if_parts,
    only_statement,
    report_name,
    text_of,
    unwrapped,
    walk,
)
from planrun.shellsplit import parse
from planrun.timed import timed_program

_OTHERS = r"(?:, \d+ (?:deselected|warnings?))*"
# Output of a test runner that ran nothing: (runner, pattern).
ZERO_TESTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pytest", lazyre.compile(r"\bno tests ran\b")),
    (
        "pytest: every test skipped",
        lazyre.compile(rf"^=*\s*\d+ skipped{_OTHERS} in [\d.]+s\b", re.M),
    ),
    (
        "pytest: every test expected to fail",
        lazyre.compile(
            r"^=*\s*(?:\d+ (?:skipped|deselected), )*\d+ xfailed(?:, \d+ warnings?)* in [\d.]+s\b",
            re.M,
        ),
    ),
    ("unittest", lazyre.compile(r"^Ran 0 tests\b", re.MULTILINE)),
    ("cargo", lazyre.compile(r"^running 0 tests$", re.MULTILINE)),
    ("jest/vitest", lazyre.compile(r"\bNo tests? (?:files? )?found\b", re.IGNORECASE)),
    ("go", lazyre.compile(r"\[no test files\]")),
    ("mocha", lazyre.compile(r"^\s*0 passing\b", re.MULTILINE)),
    ("node --test", lazyre.compile(r"^(?:# |\u2139 )tests 0$", re.MULTILINE)),
)
# Output that shows tests did run, which overrides a zero-tests line from another part.
RAN_TESTS: tuple[re.Pattern[str], ...] = (
    lazyre.compile(r"^Ran [1-9]\d* tests?\b", re.MULTILINE),
    lazyre.compile(r"^running [1-9]\d* tests?$", re.MULTILINE),
    lazyre.compile(r"\b[1-9]\d* (?:passed|failed)\b"),
    lazyre.compile(r"^\s*[1-9]\d* passing\b", re.MULTILINE),
    lazyre.compile(r"^ok\s+\S+\s+(?:\(cached\)|[\d.]+s)", re.MULTILINE),
    lazyre.compile(r"^(?:# |\u2139 )tests [1-9]\d*$", re.MULTILINE),
)
# Test commands that list tests without running them: (what it does, pattern on the command).
LISTS_TESTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pytest --collect-only", lazyre.compile(r"\bpytest\b[^;&|\n]*\s--(?:co|collect-only)\b")),
    ("jest --listTests", lazyre.compile(r"\bjest\b[^;&|\n]*\s--listTests\b")),
    ("go test -list", lazyre.compile(r"\bgo\s+test\b[^;&|\n]*\s-list\b")),
)
PYTEST_NO_TESTS_EXIT = 5  # pytest's exit code when it collected no tests
_QUOTE = r"[\u2018\u2019'`\"]"  # the quotes coreutils and python put around a name
_REASON = r"(?:command not found|not found|Permission denied|No such file or directory)"
# Messages naming a program that could not be run: a shell's, a script's (with its line), and
# a wrapper's that runs the program it is given.
NOT_FOUND: tuple[re.Pattern[str], ...] = (
    lazyre.compile(
        rf"^(?:\S*/)?(?:ba|da)?sh: (?:line \d+: |\d+: )?(?P<name>.+?): {_REASON}$", re.MULTILINE
    ),
    lazyre.compile(
        r"^\S+: (?:line )?\d+: (?P<name>[^\s/]+): (?:command )?not found$", re.MULTILINE
    ),
    lazyre.compile(
        r"^(?:timeout|env|nice|nohup|xargs|stdbuf|setsid): (?:failed to run command )?"
        rf"{_QUOTE}?(?P<name>[^\u2018\u2019'`:\s]+){_QUOTE}?: {_REASON}$",
        re.MULTILINE,
    ),
)
# A script's own message (bash, then dash) that a program on one of its lines could not run.
IN_SCRIPT = lazyre.compile(
    r"^(?P<script>[^\s:]+): (?:line )?(?P<line>\d+): (?P<name>[^\s:]+): "
    r"(?P<why>command not found|not found|No such file or directory|Permission denied)$",
    re.MULTILINE,
)
_PYTHON_M = lazyre.compile(r"(?:^|[\s;&|(])(?:\S*/)?python[\d.]*(?:\s+-[^m\s]\S*)*\s+-m\s+([\w.]+)")
# Programs that answer "no match" with exit 1 and "could not look" with 2 or more.
NO_MATCH_EXIT = {"grep": 1, "egrep": 1, "fgrep": 1, "rg": 1, "test": 1, "[": 1, "[[": 1}
# The last line of output of a check that only prints its result, when it reports a failure.
PRINTED_FAILURE = lazyre.compile(
    r"\W*(?:FAIL(?:ED|URE)?|ERROR|MISSING|NOT[ _-]?FOUND|INVALID)\W*", re.IGNORECASE
)


_COLOURS = lazyre.compile(r"\x1b\[[0-9;]*m")


def ran_no_tests(run: str, exit_code: int | None, output: str) -> str | None:
    """The runner whose output (or command) shows it ran no tests; None when tests ran (or it
    is not a test run)."""
    output = _COLOURS.sub("", output)  # `pytest --color=yes`
    if exit_code == PYTEST_NO_TESTS_EXIT and re.search(r"\bpytest\b", run):
        return "pytest"
    if exit_code != 0:
        return None
    for what, pattern in LISTS_TESTS:
        if pattern.search(run):
            return f"{what} lists tests without running them"
    for runner, pattern in ZERO_TESTS:
        if pattern.search(output):
            if any(ran.search(output) for ran in RAN_TESTS):
                return None
            return runner
    skipped = _all_skipped(output)
    # `python -m unittest 2>&1 | tail -1` shows `OK` alone, which 3.11 prints after running
    # no test too: what it ran was cut off or sent elsewhere (unless another runner's count
    # shows tests ran).
    if (
        skipped is None
        and _UNITTEST.search(run.strip().rsplit("\n", 1)[-1].rsplit("&&", 1)[-1])
        and not _UNITTEST_RAN.search(output)
        and not any(ran.search(output) for ran in RAN_TESTS)
    ):
        return "unittest, as far as its output shows: no `Ran N tests` line"
    return skipped


_UNITTEST = lazyre.compile(r"\bpython[\d.]*\s+(?:-\w+\s+)*-m\s+unittest\b")
_UNITTEST_RAN = lazyre.compile(r"^Ran \d+ tests?\b", re.M)


# A runner's count of tests and of those skipped: (runner, ran, skipped), where both the same
# means no test ran (`Ran 2 tests ... OK (skipped=2)`, node's `# tests 1` / `# skipped 1`).
_COUNTS: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "unittest: every test skipped",
        lazyre.compile(r"^Ran (\d+) tests?\b", re.M),
        lazyre.compile(r"^OK \(skipped=(\d+)\)$", re.M),
    ),
    (
        "unittest: every test expected to fail",
        lazyre.compile(r"^Ran (\d+) tests?\b", re.M),
        lazyre.compile(r"^OK \(expected failures=(\d+)\)$", re.M),
    ),
    (
        "node --test: every test skipped",
        lazyre.compile(r"^(?:# |\u2139 )tests (\d+)$", re.M),
        lazyre.compile(r"^(?:# |\u2139 )skipped (\d+)$", re.M),
    ),
)


def _all_skipped(output: str) -> str | None:
    """The runner that skipped every test it found (one run of it in the output)."""
    for runner, ran, skipped in _COUNTS:
        counts = ran.findall(output)
        skips = skipped.findall(output)
        if len(counts) == 1 and len(skips) == 1 and int(counts[0]) > 0 and counts == skips:
            return runner
    return None


# The shell's own word that the check's script (its -c string, not a script it runs) is not
# shell: bash's "bash: -c: line 1: syntax error near ...", dash's "sh: 1: Syntax error: ...".
# Prose in a verify field (`pytest tests/ (all passing)`): the check never ran.
_SYNTAX = lazyre.compile(
    r"^(?:[\w./-]*bash: -c: line \d+: (?P<why>syntax error[^\n]*)"
    r"|(?:[\w./-]*/)?(?:sh|dash): \d+: (?P<why2>Syntax error:[^\n]*))$",
    re.MULTILINE,
)


# bash's words where `${NAME:?...}` finds NAME unset (it then exits 1, or 127 without -e).
_UNSET = lazyre.compile(
    r"^(?:\S*: )?(?:line \d+: )?(?P<name>[A-Za-z_]\w*): (?P<said>.*)$", re.MULTILINE
)


def _unset_required(run: str, output: str) -> str | None:
    """The variable a ``${NAME:?message}`` of the check required and found unset: bash said
    its message, or "parameter null or not set"."""
    for match in _UNSET.finditer(output):
        name = match["name"]
        for required in re.finditer(rf"\$\{{{name}:?\?(?P<message>[^}}]*)\}}", run):
            message = required["message"].strip("'\" ") or "parameter null or not set"
            if match["said"].strip() in (message, "parameter null or not set"):
                return name
    return None


def missing_program(
    run: str, exit_code: int | None, output: str, cwd: Path | None = None, expected: int = 0
) -> str | None:
    """Why the check could not run at all ("`x` was not found on PATH"); None when it ran, or
    when the missing program is given by path in the check (``./bin/check``: the work is not
    done). A script the check runs that could not run a program and went on (exit 0 after
    ``notatool: command not found``) did not run either (see :func:`in_script`), when it
    ended as ``expected`` (a script that failed anyway stays a failure)."""
    module = _missing_module(run, exit_code, output)
    if module is not None and not _project_module(module, cwd):
        return f"python module `{module}` is not installed"
    if exit_code not in (0, expected, None):
        tooling = _missing_tooling(run, exit_code, output, cwd)
        if tooling is not None:
            return tooling
    if exit_code == 2 and expected != 2:
        # Only when the check itself does not parse: a program it runs (make, a nested
        # `bash -c`, a test of a parser) may print the same words about its own input.
        syntax = _SYNTAX.search(output) if parse(run).has_error else None
        if syntax is not None:
            why = (syntax.group("why") or syntax.group("why2")).strip()
            return f"the shell cannot parse the check ({why})"
    if exit_code in (1, 127) and (unset := _unset_required(run, output)) is not None:
        return f"`{unset}` is not set: the environment the check expects is not set up"
    if exit_code not in (126, 127):
        if exit_code not in (0, expected, None) and (
            guarded := _guard_missing(run, output, exit_code)
        ):
            return guarded
        return in_script(run, output, cwd) if exit_code == expected else None
    found = None
    for match in sorted(
        (m for pattern in NOT_FOUND for m in pattern.finditer(output)), key=lambda m: m.start()
    ):
        found = match.group("name")
    if found is None:
        return None
    if re.search(r"(?:^|/)(?:\.venv|venv|\.tox|node_modules)/", found):
        return f"`{found}` is not there: the environment the check expects is not set up"
    if "/" in found and (found in run or not found.startswith("/")):
        # given by path: the file the plan names is missing, or one of the project's that a
        # script of it runs (`"test": "./scripts/test.sh"`); not a path of the machine
        return None
    if _diagnoses(run, found):
        return None  # `X || { docker compose logs; exit 1; }`: X failed first
    if _own_function(run, found, cwd):
        return None  # the script calls a function of its own before defining it: its bug
    if _script_operand(run, found):
        return None  # `bash verify.sh`: the script the plan runs is missing
    why = "is not executable" if exit_code == 126 else "was not found on PATH"
    return f"`{found}` {why}"


def _own_function(run: str, name: str, cwd: Path | None) -> bool:
    """Whether ``name``, which the shell could not find, is a function the check's script (or
    the script file it runs) defines: called before its definition, it is the work's bug, not
    a tool missing here."""
    texts = [run]
    found = scriptfiles.script_file(run, cwd)
    if found is not None:
        texts.append(found[1])
    defined = re.compile(
        rf"^\s*(?:function\s+{re.escape(name)}\b|{re.escape(name)}\s*\(\s*\))", re.M
    )
    return any(defined.search(text) for text in texts)


def _diagnoses(run: str, program: str) -> bool:
    """Whether ``program`` runs only to show why a check failed, in an ``X || { ...; exit 1;
    }`` that fails the script anyway: its absence is not why the check failed."""
    root = parse(unwrapped(run))
    uses = [c for c in commands_in(root) if (command_name(c) or "").rsplit("/", 1)[-1] == program]
    return bool(uses) and all(_in_failure_branch(c) for c in uses)


def _in_failure_branch(node: Node) -> bool:
    child, parent = node, node.parent
    while parent is not None:
        if (
            parent.type == "list"
            and parent.children[1].type == "||"
            and child == parent.children[-1]
        ):
            branch = body_of(child)
            inner = [c for c in branch.named_children if c.type != "comment"]
            last = inner[-1] if branch.type == "compound_statement" and inner else branch
            words = text_of(body_of(last)).split()
            return words[:1] == ["exit"] and len(words) == 2 and words[1] not in ("0", "$?")
        child, parent = parent, parent.parent
    return False


# Programs whose arguments are text to look for, not paths to use: a machine path there is data.
_READS_TEXT = frozenset({"grep", "egrep", "fgrep", "rg", "ag", "sed", "awk", "echo", "printf"})


def foreign_path(run: str) -> str | None:
    """A path of another machine that a failed check uses and that does not exist here
    (``PYTHONPATH=/Users/ann/app/backend pytest``, ``cd /home/ann/app``): the check could not
    run as written, which is no failure of the work. Not a path it only searches text for
    (``grep -r /Users/ src``)."""
    if "/Users/" not in run and "/home/" not in run:
        return None
    for command in commands_in(parse(run)):
        name = command_name(command)
        if name is not None and name.rsplit("/", 1)[-1] in _READS_TEXT:
            continue
        for path in machine_paths(text_of(command)):
            for part in path.split(":"):
                if machine_paths(part) and not Path(part).exists():
                    return part
    return None


_RECIPE = " (a make recipe runs it)"
# A tool or an environment the check needs, reported missing by another program: (pattern,
# reason); a failure of the check's set-up, not of the work.
_TOOLING: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        lazyre.compile(
            r"^(?:\S*: )?(?:line \d+: )?(?P<name>(?:\./)?(?:\.venv|venv|\.tox|node_modules)/\S+): "
            r"No such file or directory$",
            re.MULTILINE,
        ),
        "`{name}` is not there: the environment the check expects is not set up",
    ),
    (
        lazyre.compile(
            r"^make(?:\[\d+\])?: (?P<name>[^\s:*]+): "
            r"(?:No such file or directory|Command not found)$",
            re.M,
        ),
        "`{name}` was not found on PATH" + _RECIPE,
    ),
    (
        lazyre.compile(r"npx canceled due to missing packages"),
        "npx would have to install a package",
    ),
    (
        lazyre.compile(r"docker: '(?P<name>[\w-]+)' is not a docker command"),
        "docker has no `{name}` command here: its plugin is not installed",
    ),
    (
        lazyre.compile(r"docker: unknown command: docker (?P<name>[\w-]+)"),
        "docker has no `{name}` command here: its plugin is not installed",
    ),
    (
        lazyre.compile(r"Cannot connect to the Docker daemon|Is the docker daemon running\?"),
        "the Docker daemon is not running here: start it before planrun runs the check",
    ),
)
_PYTEST_OPTION = lazyre.compile(r"^[^:\n]*: error: unrecognized arguments: (?P<name>-[-\w]+)", re.M)
PYTEST_USAGE_EXIT = 4
CURL_NO_CONNECTION = 7  # curl's "failed to connect to host"
NOTHING_ANSWERED = "nothing answered"
_URL = lazyre.compile(r"https?://(?P<host>[^/\s'\"]+)")


def _missing_tooling(
    run: str, exit_code: int | None, output: str, cwd: Path | None = None
) -> str | None:
    """Why a failed check could not run as written here: a tool or environment it needs is
    missing, as another program reports it (make, npx, docker, a pytest plugin, a virtualenv)."""
    for pattern, why in _TOOLING:
        match = pattern.search(output)
        if match is None or (why.startswith("docker") and _diagnoses(run, "docker")):
            continue
        name = match.groupdict().get("name") or ""
        if why.endswith(_RECIPE) and "/" in name and not name.startswith("/"):
            continue  # `./scripts/helper.sh` in a recipe: a file of the project is missing
        return why.format(name=name)
    run = unwrapped(run)  # `bash -c 'curl -s URL'`: the script's own words
    if (
        exit_code == CURL_NO_CONNECTION
        and re.search(r"(?:^|[\s;&|(/])curl\s", run)
        and not starts_a_server(run, cwd)
    ):
        url = _URL.search(run)
        where = f" at {url['host']}" if url else ""
        return (
            f"{NOTHING_ANSWERED}{where} (curl could not connect): the server the check talks "
            "to is not running; start it before planrun runs the check"
        )
    if exit_code == PYTEST_USAGE_EXIT and re.search(r"\bpytest\b", run):
        match = _PYTEST_OPTION.search(output)
        if match is not None:
            return f"pytest does not know `{match['name']}`: a plugin it needs is not installed"
    return None


def starts_a_server(run: str, cwd: Path | None = None) -> bool:
    """Whether the check starts something itself before it talks to it (``python3 app.py &``,
    ``nohup npm start``, ``docker compose up -d``, or a script file it runs that does, from
    ``cwd``): then nothing answering is the work's failure (the server it started did not come
    up), not a server missing from the machine."""
    root = parse(run)
    for node in walk(root):
        if any(c.type == "&" for c in node.children):
            return True
        name = command_name(node) if node.type == "command" else None
        found = scriptfiles.script_file(text_of(node), cwd) if name is not None else None
        if found is not None and found[1] != run and starts_a_server(found[1]):
            return True  # `./start.sh && curl ...` with `python3 server.py &` in start.sh
        words = [text_of(c) for c in node.children_by_field_name("argument")]
        if name in ("nohup", "setsid", "daemonize") or (
            name in ("docker", "podman") and ("-d" in words or "--detach" in words)
        ):
            return True
    return False


PROBES = frozenset({"command", "which", "type", "hash"})  # `command -v ruff`: is it there?


def probed_missing(run: str, path: str | None, code: int | None = None) -> str | None:
    """The tool a check looks for first and that is not on ``path`` (``command -v ruff &&
    ruff check .``), or that a line of it exits with status ``code`` without (``command -v
    ruff || exit 1``, ``if ! which ruff; then echo "no ruff"; exit 1; fi``) when only lines
    that cannot fail, or that look for tools too, come before it and nothing changes PATH:
    the check could not run here, which shows nothing of the work."""
    run = unwrapped(run)
    if not any(probe in run for probe in PROBES):
        return None
    root = parse(run)
    statements = [c for c in root.named_children if c.type != "comment"]
    if len(statements) != 1 or body_of(statements[0]).type == "if_statement":
        return _first_probe_missing(statements, path, code)
    node = body_of(statements[0])
    while node.type == "list":
        node = body_of(node.children[0])  # the first command of `probe && check || skip`
    tool = _probed_tool(node)
    return tool if tool is not None and shutil.which(tool, path=path) is None else None


# What may change where programs are found: PATH itself, a virtualenv's activate script.
_CHANGES_PATH = lazyre.compile(
    r"\bPATH\b|\bsource\b|(?:^|[;&|({]\s*|\n\s*)\.\s|\beval\b|\bhash\s+-"
)


def _first_probe_missing(statements: list[Node], path: str | None, code: int | None) -> str | None:
    for statement in statements:
        guard = _exits_without(statement)
        tool = _probed_tool(guard) if guard is not None else None
        if tool is None:
            if _CHANGES_PATH.search(text_of(statement)):
                return None  # `export PATH="$PWD/node_modules/.bin:$PATH"`: found there
            if always_succeeds(statement) or command_name(statement) == "set":
                continue
            return None  # it may have failed before (`test -f x` then the probe)
        if _exit_status(statement) != code or _CHANGES_PATH.search(text_of(statement)):
            return None
        if shutil.which(tool, path=path) is None:
            return tool
    return None


def probe_skipped(run: str, path: str | None) -> str | None:
    """The tool a check runs only when it is found and that is not on ``path``: ``if command
    -v ruff >/dev/null; then ruff check .; fi`` (or with an ``else`` that only reports, or
    ``if ! command -v ruff; then echo skip; else ruff check .; fi``, or ``command -v ruff &&
    command -v mypy`` as the condition). That part of the check did not run, and its exit 0
    shows nothing of it. Not when the script changes PATH."""
    run = unwrapped(run)
    if not any(probe in run for probe in PROBES) or _CHANGES_PATH.search(run):
        return None
    if path is not None and "~" in path:
        return None  # bash expands it in PATH; shutil.which does not
    for statement in parse(run).named_children:
        found = if_parts(body_of(statement)) or _and_parts(body_of(statement))
        if found is None:
            continue
        condition, then, otherwise = found
        condition = body_of(condition)
        negated = condition.type == "negated_command"
        if negated:
            condition = body_of(condition.named_children[0])
        working, other = (otherwise, then) if negated else (then, otherwise)
        if not all(report_name(c) is not None or _no_op(c) for c in other):
            continue  # the other branch does something of its own (a fallback, an exit)
        names = {command_name(c) for part in working for c in commands_in(part)}
        for tool in _probed_tools(condition):
            if tool in names and shutil.which(tool, path=path) is None:
                return tool
    return None


def _and_parts(node: Node) -> tuple[Node, list[Node], list[Node]] | None:
    """``command -v ruff >/dev/null && ruff check .`` as an ``if`` without ``else``: its first
    command, what runs after it (a chain of ``&&`` only), and no ``else``."""
    chain = and_chain(node)
    return (chain[0], chain[1], []) if chain is not None else None


def _no_op(node: Node) -> bool:
    return command_name(node) in ("true", ":")


def _probed_tools(node: Node) -> list[str]:
    """The tools a condition looks for: one probe, or probes joined by ``&&``."""
    if node.type == "list" and node.children[1].type == "&&":
        return _probed_tools(body_of(node.children[0])) + _probed_tools(body_of(node.children[-1]))
    tool = _probed_tool(node)
    return [tool] if tool is not None else []


_BASH_NOT_FOUND = lazyre.compile(
    r"^(?:\S*/)?bash: line (?P<line>\d+): (?P<name>[^\s:]+): command not found$", re.MULTILINE
)


def _guard_missing(run: str, output: str, code: int) -> str | None:
    """A program that the shell could not run, on a line that exits with status ``code``
    when it fails (``notool --check || exit 1``): the script's status is that line's."""
    # The script's own shell's words, with the line it ran the program on: not those of a
    # script it runs (`./check.sh: line 3: X: command not found`).
    said = [(int(m["line"]), m["name"]) for m in _BASH_NOT_FOUND.finditer(output)]
    names = {name for _, name in said if "/" not in name}
    if not names:
        return None
    run = unwrapped(run)
    if _CHANGES_PATH.search(run):
        return None  # `export PATH=...` after a first try: a later run may have found it
    root = parse(run)
    helpers = _helpers(root)
    for statement in root.named_children:
        guard = _exits_without(statement, helpers)
        # `time notool --check || exit 1`: the keyword runs it, and its status is notool's
        name = timed_program(guard) if guard is not None else None
        if name not in names or _exit_status(statement, helpers) != code:
            continue
        inside = range(statement.start_byte, statement.end_byte)
        rows = range(statement.start_point.row + 1, statement.end_point.row + 2)
        runs = [c for c in commands_in(root) if timed_program(c) == name]
        if all(c.start_byte in inside for c in runs) and all(
            line in rows for line, n in said if n == name
        ):  # its only runs are on that line, and that is where bash could not run it
            return f"`{name}` was not found on PATH (the script exits when it fails)"
    return None


def _probed_tool(node: Node) -> str | None:
    """``X`` of ``command -v X``, ``which X``, ``type X``, ``hash X``."""
    if command_name(node) not in PROBES:
        return None
    words = [text_of(c) for c in node.children_by_field_name("argument")]
    tools = [w for w in words if not w.startswith("-")]
    if len(tools) != 1 or (command_name(node) == "command" and "-v" not in words):
        return None
    if "/" in tools[0] or tools[0].startswith("~"):
        return None  # `command -v ./node_modules/.bin/eslint`: where the script runs decides
    return tools[0]


def _helpers(root: Node) -> dict[str, Node]:
    """The script's functions whose last statement is ``exit N`` (``die() { echo "$*"; exit
    1; }``): that statement, by name."""
    found: dict[str, Node] = {}
    for node in root.named_children:
        name = node.child_by_field_name("name") if node.type == "function_definition" else None
        body = node.child_by_field_name("body") if name is not None else None
        inner = [c for c in body.named_children if c.type != "comment"] if body else []
        if name is not None and inner and command_name(body_of(inner[-1])) == "exit":
            found[text_of(name)] = inner[-1]
    return found


def _ending(node: Node, helpers: dict[str, Node]) -> Node:
    """``node``, or the ``exit`` that ends the helper it calls (``|| die "lint failed"``)."""
    return helpers.get(command_name(body_of(node)) or "", node)


def _exits_without(statement: Node, helpers: dict[str, Node] | None = None) -> Node | None:
    """The command whose failure makes ``statement`` end the script with a failure: ``X ||
    exit 1`` (or ``|| { echo ...; exit 1; }``, ``|| die "..."``), ``if ! X; then ...; exit 1;
    fi``."""
    body = body_of(statement)
    if body.type == "list" and body.children[1].type == "||":
        probe, end = body_of(body.children[0]), body.children[-1]
    elif (parts := if_parts(body)) is not None and parts[1]:
        condition, then, otherwise = parts
        if body_of(condition).type == "negated_command" and not otherwise:
            probe = body_of(body_of(condition).named_children[0])
            end = then[-1]
        elif otherwise and _probed_tool(body_of(condition)) is not None:
            # `if command -v X; then X; else echo "no X"; exit 1; fi`
            probe = body_of(condition)
            end = otherwise[-1]
        else:
            return None
    else:
        return None
    end = _ending(end, helpers or {})
    return probe if probe.type == "command" and _exits_failing(end) else None


def _exits_failing(node: Node) -> bool:
    """``exit N`` with N > 0, or a group ending in one."""
    body = body_of(node)
    if body.type == "compound_statement":
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and _exits_failing(inner[-1])
    words = [text_of(c) for c in body.children_by_field_name("argument")]
    return command_name(body) == "exit" and len(words) == 1 and words[0] not in ("0", "")


def _exit_status(statement: Node, helpers: dict[str, Node] | None = None) -> int | None:
    """The status the ``exit N`` that ends a guard (_exits_without) exits with, when literal."""
    body = body_of(statement)
    parts = [c for c in body.named_children if c.type != "comment"]
    end = body.children[-1] if body.type == "list" else parts[-1]
    while body_of(end).type in ("compound_statement", "else_clause"):
        inner = [c for c in body_of(end).named_children if c.type != "comment"]
        if not inner:
            return None
        end = inner[-1]
    end = _ending(end, helpers or {})
    words = [text_of(c) for c in body_of(end).children_by_field_name("argument")]
    return int(words[0]) if len(words) == 1 and words[0].isdigit() else None


def in_script(run: str, output: str, cwd: Path | None) -> str | None:
    """A program that a script the check names (``./check.sh``, ``bash scripts/v.sh``) could
    not run, said by the script's shell, where the script went on past it. A probe is not
    counted: a command tested on its line of the script (``if tool --version; then``,
    ``tool || fallback``), found by reading the script (from ``cwd``)."""
    words = set(run.split())
    for match in IN_SCRIPT.finditer(output):
        script, name = match.group("script"), match.group("name")
        if script not in words or name == script:
            continue
        if cwd is not None and _probed(cwd / script, int(match.group("line")), name):
            continue
        why = "is not executable" if match.group("why") == "Permission denied" else "was not found"
        if why == "was not found" and "/" not in name:
            why += " on PATH"
        return f"`{name}` {why} (line {match.group('line')} of `{script}`, which went on)"
    return None


def _probed(script: Path, line: int, name: str) -> bool:
    """Whether ``name`` on ``line`` of ``script`` is a command whose failure the script
    tests (an ``if``/``while`` condition, the left of ``||`` or ``&&``, after ``!``)."""
    try:
        text = script.read_text(errors="replace")
    except (OSError, ValueError):
        return False
    stack = [parse(text)]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type != "command" or node.start_point.row != line - 1:
            continue
        word = node.child_by_field_name("name")
        if word is None or (word.text or b"").decode() != name:
            continue
        return _tested(node)
    return False


def _tested(node: Node) -> bool:
    child, parent = node, node.parent
    while parent is not None and parent.type != "program":
        if parent.type == "negated_command":
            return True
        if parent.type == "list" and child != parent.children[-1]:
            return True
        if parent.type in ("if_statement", "elif_clause", "while_statement") and any(
            c == child for c in parent.children_by_field_name("condition")
        ):
            return True
        if parent.type in ("do_group", "compound_statement", "else_clause", "subshell"):
            return False
        child, parent = parent, parent.parent
    return False


def _missing_module(run: str, exit_code: int | None, output: str) -> str | None:
    """The module of ``python -m X`` when python said it is not installed."""
    if exit_code != 1:
        return None
    for match in _PYTHON_M.finditer(run):
        module = match.group(1)
        top = module.split(".")[0]
        for name in {module, top}:
            said = rf"No module named {_QUOTE}?{re.escape(name)}{_QUOTE}?(?:$|\)|\s)"
            if re.search(said, output, re.MULTILINE):
                return name
    return None


def _project_module(module: str, cwd: Path | None) -> bool:
    """Whether ``module`` belongs to the project the check runs in (``app`` of ``python -m
    app.cli`` with an ``app/`` package, ``__init__.py`` or ``__main__.py`` in it, or an
    ``app.py`` there): then it not being found is the work's failure, not a missing install (a
    ``build/`` folder of output is no package; one under ``src/`` loads only once installed)."""
    if cwd is None:
        return False
    top = module.split(".", maxsplit=1)[0]
    places = (cwd,)  # not src/: a package there is imported only once installed
    return any(
        (p / top / "__init__.py").is_file()
        or (p / top / "__main__.py").is_file()
        or (p / f"{top}.py").is_file()
        for p in places
    )


_SHELLS = r"(?:^|[\s;&|(])(?:\S*/)?(?:ba|da|z|k)?sh\s+(?:-\S+\s+)*"


def _script_operand(run: str, name: str) -> bool:
    """Whether ``name`` is the script a shell of the check runs (``bash verify.sh``), not a
    program looked up on PATH."""
    return re.search(_SHELLS + re.escape(name) + r"(?:$|[\s;&|)])", unwrapped(run)) is not None


# What python and node print when the script they were given is not there (python: the path
# made absolute; node: the module it resolved), and exit 2 or 1 as a refusal would.
_NOT_OPENED = (
    lazyre.compile(r"can't open file '(?P<path>[^'\n]+)': \[Errno 2\]"),
    lazyre.compile(r"Error: Cannot find module '(?P<path>[^'\n]+)'"),
)


def _there(path: Path) -> bool:
    """Whether ``path`` is there; a name the system refuses (too long) is not."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


_INTERPRETERS = lazyre.compile(r"(?:python[\d.]*|node|bash|sh|dash|perl|ruby|php)")


def _interpreted(run: str) -> str | None:
    """The script file an interpreter runs in ``run`` (``python3 app/cli.py --port x``: app/
    cli.py), by a literal relative path; None for anything else (``python3 -m app``, ``node
    -e``)."""
    statement = only_statement(unwrapped(run))
    name = statement.child_by_field_name("name") if statement is not None else None
    if statement is None or statement.type != "command" or name is None:
        return None
    if not _INTERPRETERS.fullmatch(text_of(name).rsplit("/", 1)[-1]):
        return None
    words = iter(text_of(n) for n in statement.children_by_field_name("argument"))
    for word in words:
        if word.startswith("-"):
            if word in ("-m", "-c", "-e", "-p", "-r", "--eval", "--print", "--require"):
                return None  # a module or code, not a file
            if word in ("-W", "-X", "-o", "-O", "--rcfile", "--init-file"):
                next(words, None)  # the option's value
            continue
        plain = re.fullmatch(r"[\w./+@%-]+", word) is not None
        return word if plain and not word.startswith("/") else None
    return None


def could_not_look(
    run: str, exit_code: int | None, output: str = "", cwd: Path | None = None
) -> str | None:
    """Why a check that must fail did not show the work is absent: ``grep`` exits 2 when it
    could not read a file (``grep -q TODO src/app.py`` with no src/app.py), not 1 (no match);
    python or node could not open the script they were to run (``! python3 app/cli.py --port
    abc`` with no app/cli.py, its message silenced or not): nothing refused anything."""
    if exit_code is None or exit_code <= 0 or exit_code >= 126:
        return None
    script = _interpreted(run)
    if script is not None:
        opened = (Path(m["path"]).name for p in _NOT_OPENED for m in p.finditer(output))
        missing = cwd is not None and not _there(cwd / script)
        if missing or Path(script).name in opened:
            return f"`{script}` is not there: the program it runs could not open it"
    statements = [c for c in parse(unwrapped(run)).named_children if c.type != "comment"]
    if not statements:
        return None
    node = statements[-1]
    name = None
    if node.type == "command":
        word = node.child_by_field_name("name")
        name = (word.text or b"").decode().rsplit("/", 1)[-1] if word is not None else None
    elif node.type == "test_command":
        name = (node.children[0].text or b"").decode()
    limit = NO_MATCH_EXIT.get(name or "")
    if limit is None or exit_code <= limit:
        return None
    if name in ("test", "[", "[["):
        return f"`{name}` could not evaluate its expression"
    return f"`{name}` could not read its input: a file it names is missing or unreadable"


# A last line that says the check failed (`FAIL: f.txt wrong`, `❌ ...`): not a count of none
# (`FAILED: 0`), and not ERROR, which a check that looks for an error message prints too.
_SAID_FAILED = lazyre.compile(r"\W*FAIL(?:ED|URE|S)?\b(?![:=]?\s*0\b).*|\s*[\u2717\u2718\u274c].*")
# Programs that print what they found: a last line of theirs is data, not the check's verdict.
_PRINTS_FOUND = frozenset(
    {"grep", "egrep", "fgrep", "rg", "ag", "awk", "sed", "cat", "tail", "head", "jq", "less"}
)


def said_failed(run: str, output: str) -> str | None:
    """What a check that exited 0 printed last to say it failed (``FAIL: f.txt wrong``); None
    when its last line says no such thing, or a program of it prints what it found (``grep
    FAIL log.txt`` prints the line it looked for)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines or not _SAID_FAILED.fullmatch(lines[-1]):
        return None
    root = parse(run)
    if any((command_name(c) or "").rsplit("/", 1)[-1] in _PRINTS_FOUND for c in commands_in(root)):
        return None
    if any(n.type == "negated_command" for n in walk(root)) or any(
        _exits_failing(c) for c in commands_in(root)
    ):
        return None  # `! python3 v.py`, `if X; then exit 1; fi`: X's FAIL is the expected one
    return lines[-1]


# A check of its own code that catches what it raises (`try: ... except Exception as e:
# print(f"Error: {e}")`, `catch (e) { console.error("Error:", e.message) }`), and a last line
# saying what it caught: an exception's name or an error (python's traceback ends with it).
_CATCHES = lazyre.compile(r"\bexcept\b|\bcatch\b")
_CAUGHT = lazyre.compile(
    r"\W*(?:[A-Z]\w*(?:Error|Exception)|Error|ERROR|Exception|Traceback)\b(?![:=]?\s*0\b).*"
)


# Words of a caught error anywhere in the line: `print("Could not import app:", e)`.
_CAUGHT_WORDS = lazyre.compile(
    r"No module named|Cannot find module|\b(?:could not|cannot|can't|failed to) import\b"
    r"|\bnot importable\b",
    re.IGNORECASE,
)
_EXPECTED = lazyre.compile(r"\bexpected\b|\bas (?:it )?should\b", re.IGNORECASE)
# A negative test: the code it tries must raise, and reaching the end of the try fails it.
_REFUSES = lazyre.compile(
    r"\bSystemExit\b|\bsys\.exit\(|\bprocess\.exit\(|\bexit\(\s*[1-9]|\braise\b"
)


def caught_error(run: str, output: str) -> str | None:
    """What a check that exited 0 printed last about an error it caught itself (``Error: No
    module named 'app'``, ``ModuleNotFoundError: ...``): its exit 0 shows nothing; None when
    the check catches nothing, or its last line names no error."""
    if not _CATCHES.search(run) or _REFUSES.search(run):
        return None
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines or not (_CAUGHT.fullmatch(lines[-1]) or _CAUGHT_WORDS.search(lines[-1])):
        return None
    if _EXPECTED.search(lines[-1]):
        return None  # `print("ValueError raised as expected")`: a negative test's own pass
    root = parse(run)
    if any((command_name(c) or "").rsplit("/", 1)[-1] in _PRINTS_FOUND for c in commands_in(root)):
        return None
    return lines[-1]


def value_printed(run: str, output: str) -> tuple[bool | None, str]:
    """Whether a check that prints whether what it checks holds said it does (every line
    ``True`` or ``true``; ``console.assert`` printing nothing), does not (a line ``False``,
    ``false`` or ``null``, node's ``Assertion failed``), or neither (None); and the line that
    decides."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    failed = next((line for line in lines if line.startswith("Assertion failed")), None)
    if failed is not None:
        return False, failed
    if "console.assert(" in run:
        return (True, "") if not lines else (None, lines[-1])
    against = next((line for line in lines if line in ("False", "false", "null")), None)
    if against is not None:
        return False, against
    if lines and all(line in ("True", "true") for line in lines):
        return True, lines[-1]
    return None, lines[-1] if lines else ""


_NOTHING = frozenset({"null", "false", "undefined"})


def looked_up_nothing(run: str, output: str) -> str | None:
    """What a one-command lookup that exits 0 whatever it finds printed when it found nothing
    (``jq .scripts.test package.json`` without -e: ``null``, ``false``, where ``jq -e`` exits
    1; ``node -p "require('./package.json').dependencies.zod"``: ``undefined``); None when it
    printed no such line, or is no such lookup."""
    statement = only_statement(run) if "jq" in run or "node" in run else None
    name = statement.child_by_field_name("name") if statement is not None else None
    if statement is None or statement.type != "command" or name is None:
        return None
    words = [text_of(n) for n in statement.children_by_field_name("argument")]
    program = text_of(name).rsplit("/", 1)[-1]
    if program == "jq":
        if jq_exit_status(words):
            return None
    elif program != "node" or not any(w in ("-p", "--print") for w in words):
        return None
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines or lines[0][:1] in ("[", "{"):
        return None  # a structure printed whole: its `false` or `null` is one value of it
    if len(lines) == 1:
        return lines[0] if lines[0] in _NOTHING else None
    # several values (`.a, .b`, node -p's own `undefined` after a console.log): only a false
    # among them, which the caller holds as no answer, not as nothing found
    return "false" if "false" in lines else None


def printed_failure(output: str) -> str | None:
    """The failure a check that only prints its result printed as its last line (``FAIL``,
    ``MISSING``, or a line that starts by saying it failed: ``FAIL: nope missing``, ``✗ …``)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]
    return last if PRINTED_FAILURE.fullmatch(last) or _SAID_FAILED.fullmatch(last) else None
