"""Verify commands that look like checks but are not, found on real agent-written plans.

Each finder takes a verify script and says what is wrong with it as a check: a grep that
matches the failure it should catch, a result that is only printed, a file that the command's
own redirect creates, an exit status read in a fresh shell, a server that never exits.
lint.py turns the findings into warnings; the GSD and PRP readers keep a server found here
(``long_running``, ``service_start``) as a manual check. Nothing here decides a verdict.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from planrun import lazyre


@dataclass(frozen=True)
class Finding:
    code: str
    why: str
    hint: str


_FAILURE_WORD = lazyre.compile(
    r"(?i)(?<![a-z])(?:fail(?:ed|ure|s)?|errors?|panic(?:ked)?|traceback|exception|fatal)(?![a-z])"
    r"|✗|❌"
)
_GREP = lazyre.compile(r"(?:^|(?<=[\s;&|(!]))(?:grep|egrep|rg)\b", re.MULTILINE)
_NEGATED_AFTER = lazyre.compile(r"^\s*(?:&&\s*(?:exit\s+[1-9]|false)|\|\|\s*true\b)")


def grep_failure_word(script: str) -> Finding | None:
    """A grep that succeeds when the output holds a failure word: on piped output, or with an
    alternation (``BUILD SUCCEEDED|BUILD FAILED``) that matches success and failure alike."""
    for match in _GREP.finditer(script):
        before = script[: match.start()].rstrip()
        if before.endswith(("!", "if", "until", "while")):
            continue  # a negated grep: it fails when the word is there
        words, end = _arguments(script, match.end())
        if words is None or _NEGATED_AFTER.match(script[end:]):
            continue
        if _counts_or_inverts(w for w in words if w.startswith("-")):
            continue
        piped = before.endswith("|") and not before.endswith("||")
        for pattern in _patterns(words):
            word = _failure_word(pattern)
            if word is None:
                continue
            if piped or len(re.split(r"\\?\|", pattern)) > 1:
                return Finding(
                    "verify-grep-failure",
                    f'grep "{pattern}" also matches a failure ("{word}"), so the check '
                    "passes when the output reports one",
                    "grep for the success line only (grep -q 'BUILD SUCCEEDED'), or let the "
                    "command's exit code decide",
                )
    return None


_NEGATION = lazyre.compile(r"(?i)\b(?:no|0|zero|without|not|non)[\s-]+(?:\w+\s+)?$")


def _failure_word(pattern: str) -> str | None:
    """The first failure word in a grep pattern that no "no", "0" or "without" negates."""
    for match in _FAILURE_WORD.finditer(pattern):
        if not _NEGATION.search(pattern[: match.start()]):
            return match.group(0)
    return None


def _arguments(script: str, start: int) -> tuple[list[str] | None, int]:
    """The words after a command name up to the first unquoted operator, and where it is."""
    quote = ""
    i = start
    while i < len(script):
        char = script[i]
        if char == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "|;&()<>\n":
            break
        i += 1
    try:
        return shlex.split(script[start:i]), i
    except ValueError:
        return None, i


def _counts_or_inverts(options: Iterable[str]) -> bool:
    for option in options:
        if option in ("--count", "--invert-match", "--files-without-match"):
            return True
        if not option.startswith("--") and any(c in option[1:] for c in "vcL"):
            return True
    return False


def _patterns(words: list[str]) -> list[str]:
    out: list[str] = []
    expect_pattern = False
    positional: list[str] = []
    for word in words:
        if expect_pattern:
            out.append(word)
            expect_pattern = False
        elif word in ("-e", "--regexp"):
            expect_pattern = True
        elif word.startswith("--regexp="):
            out.append(word.split("=", 1)[1])
        elif not word.startswith("-"):
            positional.append(word)
    if not out and positional:
        out.append(positional[0])
    return out


_PASS_WORD = lazyre.compile(r"""["'`][^"'`\n]*\b(?:PASS(?:ED)?|OK|SUCCESS)\b[^"'`\n]*["'`]|✅|✓""")
_FAIL_WORD = lazyre.compile(r"""["'`][^"'`\n]*\b(?:FAIL(?:ED)?|ERROR)\b[^"'`\n]*["'`]|❌|✗""")
_PRINTS = lazyre.compile(r"\b(?:console\.log|print|echo|printf|puts|println)\b")
_DECIDES = lazyre.compile(
    r"\b(?:exit|process\.exit(?:Code)?|sys\.exit|raise|throw|assert|abort|die)\b|\|\|\s*echo\b"
)


def prints_result(script: str, errexit: bool = False) -> Finding | None:
    """A script that prints PASS or FAIL but exits 0 either way. Not a shell script whose
    words are only its own ``echo``s where a failure ends it (``errexit``, or ``set -e``):
    ``pytest; echo "✅ PASSED"`` exits non-zero when pytest fails."""
    if not (_PASS_WORD.search(script) and _FAIL_WORD.search(script) and _PRINTS.search(script)):
        return None
    if _DECIDES.search(script):
        return None  # it exits on failure (or another lint already speaks for it)
    if _ends_in_a_test(script) or ((errexit or _SETS_E.search(script)) and _says_failures(script)):
        return None
    return Finding(
        "verify-prints-result",
        "it prints PASS or FAIL but exits 0 either way, so planrun cannot tell them apart",
        "exit non-zero on failure: process.exit(ok ? 0 : 1), sys.exit(0 if ok else 1)",
    )


_SETS_E = lazyre.compile(r"\bset\s+(?:-\w*e\w*|-o\s+errexit)\b")
_ON_FAILURE = lazyre.compile(r"\btrap\b.*\bERR\b|\breturn\s+[1-9]")


def _says_failures(script: str) -> bool:
    """Whether each FAIL word of ``script`` is only said where a failure also ends it: in an
    ERR trap (``trap 'echo "❌ FAILED"' ERR``) or before a ``return 1`` on its line (with
    ``set -e``, the call then fails the script)."""
    lines = [line for line in script.splitlines() if _FAIL_WORD.search(line)]
    return all(_ON_FAILURE.search(line) for line in lines)


def _ends_in_a_test(script: str) -> bool:
    """``FAIL=0 ... [ "$FAIL" -eq 0 ]``: the script's last line tests what it counted."""
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    return bool(lines) and re.match(r"(?:\[\[?|test)\s", lines[-1]) is not None


_REDIRECT = lazyre.compile(r"(?<![<>&\d])(?:&>|\d?>>?)\s*([^\s;&|)<>]+)")
_EXISTS = r"(?:test\s+-[ef]\s+|\[\[?\s+-[ef]\s+|ls\s+(?:-\w+\s+)*)[\"']?{}[\"']?(?=[\s;&|\]]|$)"


def redirect_creates(script: str) -> Finding | None:
    """``cmd > out.txt ... test -f out.txt``: the shell creates the file before cmd runs."""
    if ">" not in script:  # what _REDIRECT needs
        return None
    for match in _REDIRECT.finditer(script):
        target = match.group(1).strip("\"'")
        if not target or target.startswith(("/dev/", "&")):
            continue
        exists = re.compile(_EXISTS.format(re.escape(target)))
        if exists.search(script, match.end()):
            return Finding(
                "verify-redirect-creates",
                f'"> {target}" creates the file before the command runs, so testing that it '
                "exists proves nothing",
                f"test what the command did: its exit code, or that {target} is not empty "
                f"(test -s {target}) and holds what it should",
            )
    return None


_FIRST_COMMAND = lazyre.compile(r"^[^;&|\n]*")


def exit_status_lost(script: str) -> Finding | None:
    """A script whose first command reads ``$?``: in a fresh shell it is always 0."""
    if "$?" not in script:
        return None
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        first = _FIRST_COMMAND.match(stripped)
        if first and "$?" in first.group(0):
            return Finding(
                "verify-exit-status-lost",
                "it reads $? before running anything: each check runs in a fresh shell, so $? "
                "is 0 here, not the exit status of the command on the line before",
                "put the command and the test of its status in one check (cmd; test $? -eq 1), "
                "or use expect_exit",
            )
        return None
    return None


# Where a command starts: a line's start, after an operator, or after a runner (npx vite).
_AT_COMMAND = (
    r"(?:^|(?<=[;&|(]))\s*(?:(?:npx|bunx|pnpm\s+exec|yarn|uv\s+run|poetry\s+run|pipenv\s+run|"
    r"python3?\s+-m|bundle\s+exec|exec|timeout\s+\S+)\s+)*(?:bin/)?"
)
_LONG_RUNNING = [
    lazyre.compile(_AT_COMMAND + body)
    for body in (
        r"(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?(?:dev|serve|watch)\b",
        r"next\s+dev\b",
        r"vite\b(?!\s+(?:build|optimize|--version|-v\b|--help|-h\b))",
        r"(?:cargo\s+|npm\s+run\s+)?tauri\s+dev\b",
        r"(?:uvicorn|gunicorn|hypercorn)\b(?![^;&|\n]*--(?:help|version|check-config))",
        r"fastapi\s+(?:dev|run)\b",
        r"flask\s+run\b",
        r"streamlit\s+run\b",
        r"nodemon\b",
        r"rails\s+(?:s|server)\b",
        r"(?:python3?\s+)?manage\.py\s+runserver\b",
        r"php\s+(?:artisan\s+serve\b|-S\s)",
        r"python3?\s+-m\s+http\.server\b",
        r"(?:hugo\s+server|mkdocs\s+serve|jekyll\s+serve)\b",
        # An app's own entry point in its dev or reload mode (the PRP base template's
        # `uv run python -m src.main --dev`): a program named main, app, server or api, as a
        # module or a script, with --dev or --reload.
        (
            r"(?:python3?\s+)?(?:-m\s+(?:\w+\.)*(?:main|app|server|api)(?![\w.])|"
            r"(?:\S*/)?(?:main|app|server|api)\.py\b)[^;&|\n]*?\s--(?:dev|reload)(?![\w-])"
        ),
        r"docker(?:\s+|-)compose\s+up\b(?![^;&|\n]*\s(?:-d|--detach)\b)",
    )
]
# A word each of _LONG_RUNNING needs: a line without one starts no server or watcher.
_MAYBE_LONG_RUNNING = lazyre.compile(
    r"dev|serve|watch|vite|corn|fastapi|flask|streamlit|nodemon|rails|php|reload|docker"
)
_BACKGROUND = lazyre.compile(r"^[^;\n]*?(?<![&>])&(?!&)")
# A comment (or the line before a fence) that says the next command starts the app:
# "# Start the service", "# Start the API server (in another terminal)", "# Run the server".
# The thing started ends the clause ("# Run the api tests" starts nothing); to "run" is to
# start only a server or service ("# Run the app" may be a program that exits). Not one
# that starts it in the background or detached: that command comes back.
_STARTS_SERVICE = lazyre.compile(
    r"^(?:\d+[.)]\s*)?(?:(?:start|launch|boot|spin\s+up|bring\s+up)\s+(?:up\s+)?"
    r"(?:the\s+|an?\s+|your\s+)?(?:[\w.-]+\s+){0,2}?"
    r"(?:services?|servers?|app|application|api|backend)"
    r"|run\s+(?:the\s+|an?\s+|your\s+)?(?:[\w.-]+\s+){0,2}?(?:services?|servers?|api|backend))"
    r"(?=\s*(?:$|[:.,;(\u2013\u2014-]|(?:in|on|at|with|for|locally|first|and|using|via|from)\b))"
    r"(?![^\n]*\b(?:background|detached|daemon)\b)",
    re.I,
)
# What such a comment can start that holds the terminal: a program run in the foreground.
# `systemctl start`, `docker compose up -d` and `brew services start` come back: not these.
_RUNS_PROGRAM = lazyre.compile(
    _AT_COMMAND
    + r"(?:python3?\s+(?:-m\s+)?[\w.-]|[\w./-]+\.py\b|node\s+[\w.-]|deno\s+(?:run|serve|task)\b"
    r"|bun\s+(?:run\s+)?[\w./-]+\.[jt]sx?\b|ruby\s+[\w./-]+\.rb\b|go\s+run\b|cargo\s+run\b"
    r"|dotnet\s+(?:run|watch)\b|java\s+-jar\b|(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?start\b"
    r"|make\s+(?:run|serve|start|dev)\b|\./[\w./-]+)"
)
_UP_TO_OPERATOR = lazyre.compile(r"[^;&|\n]*")


def long_running(script: str) -> Finding | None:
    """A dev server or watcher as a check: it runs until the timeout kills it."""
    found = service_start(script)
    if found is None:
        return None
    _, command, said = found
    by = f' ("{said}" above it)' if said else ""
    return Finding(
        "verify-long-running",
        f'"{command}" starts a server or watcher that does not exit{by}: '
        "it can only end by the timeout",
        "check a build or a test instead (npm run build, pytest), or start the server "
        "in the background in the same check and curl it",
    )


def service_start(script: str, said: str = "") -> tuple[int, str, str] | None:
    """The first line of ``script`` that starts a server or watcher in the foreground: its
    row, the command, and the comment that says it starts the service ("" when the command
    is one by itself). ``said`` is a line just before the script (the prose above a fence).
    A known server (``uvicorn``, ``npm run dev``) is one wherever it is; a plain program run
    (``python app.py``, ``node server.js``) only right under a comment that says it starts
    the service, as the PRP base template writes it. Run in the background (``&``), none is."""
    pending = said.strip() if _STARTS_SERVICE.match(said.strip().rstrip(":")) else ""
    for row, line in enumerate(script.splitlines()):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if _STARTS_SERVICE.match(stripped.lstrip("#").strip()):
                pending = stripped
            continue
        comment, pending = pending, ""
        if _MAYBE_LONG_RUNNING.search(stripped):
            for pattern in _LONG_RUNNING:
                match = pattern.search(stripped)
                if match is not None and not _BACKGROUND.match(stripped[match.start() :]):
                    return row, match.group(0).strip(" ;&|("), ""
        if comment:
            match = _RUNS_PROGRAM.search(stripped)
            if match is not None and not _BACKGROUND.match(stripped[match.start() :]):
                command = _UP_TO_OPERATOR.match(stripped[match.start() :])
                shown = command.group(0) if command else stripped[match.start() :]
                return row, shown.strip(" ;&|("), comment
    return None


# `python3 -c "print(x == y)"`, `node -e "console.log(a === b)"`, `jq -n '1 == 2'`: a program whose
# only output is whether something holds, with an exit status that never says so.
_PY_PRINT = lazyre.compile(r"print\((?P<expr>.*)\)")
_JS_PRINT = lazyre.compile(r"console\.(?:log|assert)\((?P<expr>.*)\);?")
_HOLDS = lazyre.compile(
    r"==|!=|<=|>=|(?<![-=])>(?!=)|(?<![<=])<(?!=)|\b(?:in|is|not)\b|\b(?:all|any|isinstance|hasattr"
    r"|callable|exists|existsSync|isfile|isdir|startswith|endswith|includes|has|test|contains)\("
)
_VALUE_PROGRAMS = {"-c": ("python", "python3"), "-e": ("node",), "-p": ("node",)}
_ASSIGNMENT = lazyre.compile(r"[A-Za-z_]\w*=\S*")
_STATEMENT_END = lazyre.compile(r"[;\n]")


def jq_exit_status(words: list[str]) -> bool:
    """Whether jq's options ``words`` make its exit status say what it printed (``-e``,
    ``--exit-status``, or ``-e`` among short options, ``-re``): 1 on false or null. Without,
    jq exits 0 whatever it printed."""
    return any(
        w == "--exit-status" or (w.startswith("-") and not w.startswith("--") and "e" in w)
        for w in words
    )


def prints_value(script: str) -> Finding | None:
    """A one-line program that only prints whether something holds (``True``/``False``,
    ``true``/``false``) or only asserts with ``console.assert``, and exits 0 either way."""
    try:
        words = shlex.split(script.strip())
    except ValueError:
        return None
    if not words or "\n" in script.strip():
        return None
    while words and _ASSIGNMENT.fullmatch(words[0]):
        words = words[1:]  # `PYTHONPATH=src python3 -c ...`
    if words[-1:] == ["2>&1"]:
        words = words[:-1]
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "jq":
        holds = len(words) >= 2 and not jq_exit_status(words[1:])
        if not holds or not _HOLDS.search(
            next((w for w in words[1:] if not w.startswith("-")), "")
        ):
            return None
    elif (
        len(words) == 3
        and words[1] in _VALUE_PROGRAMS
        and any(program.startswith(name) for name in _VALUE_PROGRAMS[words[1]])
    ):
        code = words[2].strip()
        if words[1] == "-p":  # node -p prints the value of its expression
            if not _HOLDS.search(code) or ";" in code:
                return None
        else:
            # what runs before its last statement (`import os; ...`) fails it, or printed too
            statements = [part.strip() for part in _STATEMENT_END.split(code) if part.strip()]
            last = statements[-1] if statements else ""
            pattern = _PY_PRINT if program.startswith("python") else _JS_PRINT
            found = pattern.fullmatch(last)
            assertion = program == "node" and last.startswith("console.assert(")
            if found is None or not (assertion or _HOLDS.search(found["expr"])):
                return None
    else:
        return None
    return Finding(
        "verify-prints-result",
        "it only prints whether what it checks holds (true or false) and exits 0 either way",
        "exit non-zero when it does not hold: `assert ...`, sys.exit(0 if ok else 1), "
        "process.exit(ok ? 0 : 1), jq -e",
    )


FINDERS = (
    grep_failure_word,
    prints_result,
    prints_value,
    redirect_creates,
    exit_status_lost,
    long_running,
)


def findings(script: str, errexit: bool = False) -> list[Finding]:
    """What the lints find in ``script`` (``errexit``: its shell stops at a failure)."""
    found: list[Finding] = []
    for finder in FINDERS:
        finding = prints_result(script, errexit) if finder is prints_result else finder(script)
        if finding is not None:
            found.append(finding)
    return found


_RED = lazyre.compile(
    r"\bRED\b|(?i:\b(?:fails?\s+first|must\s+fail|should\s+fail|expect(?:ed|s)?\s+(?:it\s+)?"
    r"to\s+fail|expected:\s*fail|failing\s+tests?|red\s+(?:phase|step)|tdd\s+red)\b)"
)


def says_must_fail(text: str) -> bool:
    """Whether a task's text says its check must fail first (a TDD red step)."""
    return bool(_RED.search(text))
