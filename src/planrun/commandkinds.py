"""What a command of a verify script is, read from its syntax tree: a run of checks (tests, a
build, a linter: ``runs_checks``) or of code (``runs_code``), setup (``sets_up``: ``npm ci``,
``pip install``), code given inline that only prints or a version asked (``inline``), a report
(``reports_of``: ``echo``, ``printf``); and where bash's DEBUG trap runs in the script's own
shell (``traced``), which lines of it planrun asks bash about (``head_line``, ``reach_lines``).
"""

from __future__ import annotations

import re

from tree_sitter import Node

from planrun import lazyre, printed
from planrun.errexit import (
    WRAPPERS,
    always_succeeds,
    body_of,
    command_name,
    next_statement,
    report_name,
    text_of,
)

# Programs whose exit status is a verdict on the work: tests, builds, linters, type checkers.
RUNNERS = frozenset(
    {"pytest", "py.test", "tox", "nox", "npm", "npx", "yarn", "pnpm", "bun", "cargo", "go"}
    | {"make", "mvn", "gradle", "jest", "vitest", "mocha", "mypy", "ruff", "tsc", "eslint"}
    | {"flake8", "pylint", "black", "dotnet", "swift", "rspec", "phpunit", "ctest", "deno"}
    | {"bats", "mix", "rake", "rubocop", "shellcheck", "pyright", "golangci-lint", "prettier"}
    | {"biome", "stylelint", "terraform", "tflint", "hadolint", "bandit", "isort", "pre-commit"}
    | {"playwright", "cypress", "jasmine", "karma", "ava", "tap", "gotestsum", "sbt", "bazel"}
)


# Programs that run code they are given (a script, `-c`, `-m`): a run of them is a check.
INTERPRETERS = lazyre.compile(r"python[\d.]*|node|deno|ruby|perl|php|bash|sh|zsh")


_TRACED = frozenset(
    {"command", "declaration_command", "variable_assignment", "variable_assignments"}
    | {"test_command", "for_statement", "case_statement", "unset_command"}
)


PATH_EXPANDS = lazyre.compile(r"[$`~\\{]|^$")  # what makes a path other text than written


REACH_LINES = 64  # lines of a statement after a skip that planrun asks bash about, at most


def traced(node: Node) -> bool:
    """Whether bash runs its DEBUG trap (in the script's own shell) before the first command
    of ``node``: a simple command, an assignment, ``[[ ]]``, ``for``, ``case``, or a list, pipe,
    group, ``!``, ``if`` or ``while`` that starts with one."""
    body = body_of(node)
    if body.type in _TRACED:
        return True
    if body.type in ("list", "pipeline", "negated_command", "compound_statement"):
        inner = [c for c in body.named_children if c.type != "comment"]
        return bool(inner) and traced(inner[0])
    if body.type in ("if_statement", "while_statement"):
        conditions = [c for c in body.children_by_field_name("condition") if c.is_named]
        return bool(conditions) and traced(conditions[0])
    return False


def head_line(statement: Node) -> int | None:
    """The line of the statement after ``statement`` when bash's DEBUG trap runs before its
    first command there (with the status ``statement`` ended with, its own line to itself):
    not a subshell, a function definition or a job in the background."""
    after = statement.next_sibling
    if after is not None and after.type == "&":
        return None
    after = next_statement(statement)
    if after is None or after.start_point.row <= statement.end_point.row:
        return None
    return after.start_point.row + 1 if traced(after) else None


def reach_lines(statement: Node) -> tuple[int, ...]:
    """The lines of the statement after ``statement`` (on a line of its own, not a function
    definition, a subshell or a job in the background, where bash runs no DEBUG trap of the
    script's shell): any of them that bash's DEBUG trap reports shows the script went on."""
    after = statement.next_sibling
    if after is not None and after.type == "&":
        return ()
    after = next_statement(statement)
    if after is None or after.start_point.row <= statement.end_point.row:
        return ()
    if not traced(after):
        return ()  # a subshell, `time ( )`, a function definition: bash traces nothing there
    first = after.start_point.row + 1
    last = min(after.end_point.row + 1, first + REACH_LINES - 1)
    return tuple(range(first, last + 1))


def runs_code(command: Node) -> bool:
    """Whether a command runs tests, a build, a linter, or a program's code (``python3 -c``,
    ``node build.js``, ``./check.sh``, ``tests/run.sh``, ``python3 - <<PY``), also behind a
    wrapper (``timeout 60 pytest``, ``env X=1 npm test``): its failure is a verdict, not a
    condition."""
    if runs_checks(command):
        return True
    name = command_name(command) or ""
    words = [text_of(c) for c in command.children_by_field_name("argument")]
    if "/" in name and not name.startswith("/usr/") and not name.startswith("/bin/"):
        return True  # a program of the repository, by path
    if INTERPRETERS.fullmatch(name.rsplit("/", 1)[-1]):
        parent = command.parent
        fed = parent is not None and any(c.type == "heredoc_redirect" for c in parent.children)
        return bool(words) or fed
    if name.rsplit("/", 1)[-1] in WRAPPERS:
        return any(names_code(w) for w in words)
    return False


def names_code(word: str) -> bool:
    """Whether a wrapper's word names a program that runs checks or code (``pytest``, ``python3``,
    ``./run.sh``)."""
    base = word.strip("'\"").rsplit("/", 1)[-1]
    return base in RUNNERS or bool(INTERPRETERS.fullmatch(base)) or word.startswith("./")


def runs_checks(command: Node) -> bool:
    """Whether a command runs tests, a build or a linter (its status is a verdict)."""
    name = (command_name(command) or "").rsplit("/", 1)[-1]
    words = [text_of(c) for c in command.children_by_field_name("argument")]
    if name in RUNNERS:
        return True
    if re.fullmatch(r"python[\d.]*", name) and "-m" in words:
        return words[words.index("-m") + 1 : words.index("-m") + 2] != [] and (
            words[words.index("-m") + 1] in RUNNERS | {"unittest"}
        )
    if name in ("uv", "poetry", "pipenv", "hatch", "pdm", "uvx") and words[:1] == ["run"]:
        return len(words) > 1 and words[1] in RUNNERS
    if name in ("bundle", "uvx", "pipx") and words[:1] in (["exec"], ["run"]):
        return len(words) > 1  # `bundle exec rspec`, `pipx run ruff`: a tool of the project
    if name == "uvx":
        return bool(words) and words[0] in RUNNERS
    return False


def reports_of(node: Node) -> list[Node]:
    """The echo and printf commands of ``node`` when all it does is print (``echo x``, ``>&2
    echo x``, ``builtin echo x``, ``{ echo a; true; }``, ``(echo a)``, ``echo x | tee log``),
    else none."""
    body = body_of(node)
    if body.type in ("compound_statement", "subshell"):
        inner = [c for c in body.named_children if c.type != "comment"]
        found = [reports_of(c) for c in inner if not (always_succeeds(c) and not report_name(c))]
        return [r for group in found for r in group] if found and all(found) else []
    if body.type == "pipeline":
        return reports_of(body.named_children[0])
    if command_name(body) == "cat" and printed.heredoc_of(body) is not None:
        return [body]  # `X || cat <<EOF ... EOF`
    return [body] if report_name(body) is not None else []


def all_reports(
    statements: list[Node], functions: dict[str, Node] | None = None
) -> list[Node] | None:
    """The reports of a branch that only reports (no-ops aside), else None. ``functions``:
    the script's, whose call only reports when its body does (``note() { echo "$1"; }``)."""
    found: list[Node] = []
    for statement in statements:
        body = (functions or {}).get(command_name(body_of(statement)) or "")
        if report_name(statement) is not None:
            found.extend(reports_of(statement))
        elif body is not None:
            inner = [c for c in body.named_children if c.type != "comment"]
            # What it prints is its arguments (`$1`): not watched; bash's record still tells.
            if not inner or all_reports(inner) is None:
                return None
        elif not always_succeeds(statement) or command_name(statement) == "exit":
            return None
    return found


_VERSION_WORDS = frozenset({"-v", "-V", "--version", "version", "-version"})


# Code given inline that only prints something: `echo ...`, `print(...)`, `console.log(...)`.
_PRINTS = lazyre.compile(r"\s*(?:echo|printf|print|console\.log)\b[^;&|\n]*$")


def inline(command: Node) -> bool:
    """An interpreter asked its version (``python3 --version``, ``node -v``) or given code
    that only prints (``bash -c "echo banner"``, ``python3 -c "print('skipping')"``)."""
    name = (command_name(command) or "").rsplit("/", 1)[-1]
    words = [text_of(c).strip("'\"") for c in command.children_by_field_name("argument")]
    if runs_checks(command) or not INTERPRETERS.fullmatch(name):
        return False
    if not words or all(w in _VERSION_WORDS for w in words):
        return True
    return len(words) == 2 and words[0] in ("-c", "-e", "-p") and bool(_PRINTS.match(words[1]))


# What installs or prepares rather than checks: `npm ci`, `python3 -m pip install`, `uv sync`,
# `go mod download`, `make deps`, `terraform init`, `pre-commit install`, `./setup.sh`.
_INSTALL_WORDS = frozenset(
    {"install", "ci", "sync", "add", "restore", "fetch", "i", "venv", "download", "deps"}
    | {"init", "setup", "bootstrap", "prepare", "vendor"}
)


_SETUP_SCRIPT = lazyre.compile(r"(?:^|[/_-])(?:setup|install|bootstrap|prepare)(?:[._-]|$)")


def sets_up(command: Node) -> bool:
    """Whether a command installs or prepares what the checks need (:data:`_INSTALL_WORDS`
    among its first words, or a script named so): setup, not a check."""
    name = command_name(command) or ""
    words = [text_of(c).strip("'\"") for c in command.children_by_field_name("argument")]
    if "/" in name and _SETUP_SCRIPT.search(name.rsplit("/", 1)[-1]):
        return True
    return bool(_INSTALL_WORDS.intersection(words[:3]))
