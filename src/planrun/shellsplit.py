"""Split a multi-line verify block into separate checks, and tell commands from prose.

Agents write several commands in one ``<verify>`` or fenced block; run as one script only the
last one's exit code would count. So each top-level command is its own check, found by a real
bash parser (tree-sitter-bash), so an ``if ... fi`` on one line, a heredoc, a ``$(`` over
several lines, a quote holding ``<<EOF``, a comment that ends in ``&&``, a trailing backslash
and a line ending in ``&&``, ``||`` or ``|`` all come out right. Commands on one line stay
together (``cd sub; make``). A command put in the background with ``&`` starts something the
lines after it use (a server, then ``curl``), and one that changes the shell's state (``cd``,
``export``, ``source``, ``set``, an assignment, a function) is something the lines after it
rely on: either way it and the rest of the block stay one script, up to a line that reads as
prose, which is never joined to a command.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass
from functools import cache, lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from planrun import escape, lazyre


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


@lru_cache(maxsize=1)
def parse(script: str) -> Node:
    """The root (``program``) node of ``script``'s bash syntax tree. The last script's tree is
    kept: validate's lints, and a check's reading, ask for the same script in turn (a tree is
    never changed: nothing here edits one)."""
    return _parser().parse(script.encode()).root_node


def end_row(node: Node) -> int:
    """The last line ``node`` covers (a node that ends with its newline ends on the line before)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row


# First words that make a line a command rather than a sentence.
COMMANDS = frozenset(
    (
        "alembic",
        "ansible",
        "awk",
        "bash",
        "black",
        "bun",
        "bundle",
        "cargo",
        "cat",
        "cd",
        "chmod",
        "cmake",
        "composer",
        "coverage",
        "cp",
        "curl",
        "deno",
        "diff",
        "docker",
        "docker-compose",
        "dotnet",
        "echo",
        "env",
        "eslint",
        "export",
        "find",
        "flake8",
        "git",
        "go",
        "gradle",
        "grep",
        "head",
        "helm",
        "isort",
        "java",
        "jest",
        "just",
        "kubectl",
        "ls",
        "make",
        "mkdir",
        "mvn",
        "mypy",
        "nc",
        "node",
        "nox",
        "npm",
        "npx",
        "perl",
        "php",
        "pip",
        "pip3",
        "playwright",
        "pnpm",
        "poetry",
        "pre-commit",
        "printf",
        "psql",
        "pylint",
        "pyright",
        "pytest",
        "python",
        "python3",
        "rake",
        "rg",
        "rm",
        "ruby",
        "ruff",
        "rustc",
        "sed",
        "set",
        "sh",
        "source",
        "sqlite3",
        "tail",
        "task",
        "terraform",
        "test",
        "timeout",
        "tox",
        "tsc",
        "uv",
        "uvx",
        "vitest",
        "wc",
        "wget",
        "yarn",
        "xargs",
        "true",
        "false",
    )
)
_ASSIGNMENT = lazyre.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*$")


@dataclass(frozen=True)
class Chunk:
    line: int  # file line where the command starts
    text: str


def split_script(text: str, first_line: int) -> list[Chunk]:
    """Separate commands in ``text`` (which starts on ``first_line`` of its file)."""
    lines = [line.rstrip() for line in text.split("\n")]
    spans: list[list[int]] = []  # [first row, last row] of each chunk
    joined = False  # the rest of the block relies on what came before
    offset = 0  # the row ``parse`` started at: after a misparse, the rest is parsed again
    while offset < len(lines):
        restart = None
        for node in parse("\n".join(lines[offset:])).children:
            if node.type == "&":
                joined = True
                continue
            if node.type == "comment" or not (node.is_named or node.type == "ERROR"):
                continue
            start, end = offset + node.start_point.row, offset + end_row(node)
            broken = _broken_row(node, lines, offset)
            if broken is not None:
                end, restart = broken - 1, broken
            if joined and spans and start > spans[-1][1] and _sentence(lines[start]):
                joined = False  # a sentence after a command is never run as part of it
            if spans and (joined or start <= spans[-1][1]):
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
            joined = joined or changes_state(node)
            if restart is not None:
                break
        offset = restart if restart is not None else len(lines)
    chunks = []
    for start, end in spans:
        code = _dedent(lines[start : end + 1])
        if code:
            chunks.append(Chunk(first_line + start, code))
    return chunks


def _sentence(line: str) -> bool:
    """A line that reads as English, not as a command: a capitalized first word that is no
    known command ("All tests pass")."""
    words = line.split()
    return bool(words) and words[0].istitle() and not looks_like_command(line)


def _broken_row(node: Node, lines: list[str], offset: int) -> int | None:
    """The row where a simple command goes on to the next line without a backslash: where
    the parser read a newline as a space (tree-sitter-bash does after ``2>&1 | ... | tail -5``),
    though bash ends the command there."""
    broken: list[int] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "command":
            children = current.children
            for before, after in itertools.pairwise(children):
                row = offset + end_row(before)
                if offset + after.start_point.row > row and not lines[row].endswith("\\"):
                    broken.append(row + 1)
        stack.extend(current.children)
    return min(broken, default=None)


# Commands whose effect lasts for the rest of the script.
_STATEFUL = frozenset(
    {"cd", "pushd", "popd", "source", ".", "set", "shopt", "alias", "umask", "trap", "ulimit"}
)
_STATEFUL_NODES = frozenset(
    {"variable_assignment", "declaration_command", "unset_command", "function_definition"}
)


def changes_state(node: Node) -> bool:
    """Whether a top-level statement changes the shell the next lines run in."""
    if node.type in _STATEFUL_NODES:
        return True
    if node.type in ("list", "redirected_statement"):
        return any(changes_state(child) for child in node.named_children)
    if node.type == "command":
        name = node.child_by_field_name("name")
        return name is not None and (name.text or b"").decode() in _STATEFUL
    return False


def one_line(script: str, width: int) -> str:
    """A script on one line, cut to ``width`` characters, for messages; a line break is shown
    as ' ⏎ ', as in markdown (two lines joined by a space would read as one command)."""
    head = 4 * width + 64
    if len(script) > head:
        # Only the start is shown: flattening all of a long script for each message of a
        # lint made validating it quadratic. The start flattens the same, but for its end.
        flat = _flat(script[:head])
        if len(flat) >= width + 8:
            return flat[: width - 3] + "..."
    flat = _flat(script)
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _flat(script: str) -> str:
    return escape.one_line("\n".join(" ".join(line.split()) for line in script.splitlines()))


def _dedent(lines: list[str]) -> str:
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines).strip()


def looks_like_command(text: str) -> bool:
    """Whether a line is a shell command rather than prose (for verify lines and backticks)."""
    stripped = text.strip()
    if not stripped:
        return False
    try:
        words = shlex.split(stripped, comments=True)
    except ValueError:
        words = stripped.split()
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]  # FOO=bar cmd
    if not words:
        return False
    first = words[0]
    if first in COMMANDS or first.startswith(("./", "/", "$", "~/")):
        return True
    # An unknown tool used like one: `mytool --flag`, `foo | bar`.
    return bool(re.fullmatch(r"[a-z][a-z0-9_.-]*", first)) and (
        any(op in stripped for op in ("&&", "||", " | ", ";", " > ", " 2>"))
        or any(w.startswith("-") for w in words[1:])
    )
