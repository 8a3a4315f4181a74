"""Split a multi-line verify block into separate checks (planrun.prose tells commands from
prose).

Agents write several commands in one ``<verify>`` or fenced block; run as one script only the
last one's exit code would count. So each line is its own check, unless lines form one shell
construct: a trailing backslash, ``&&``, ``||`` or ``|``; if/for/while/until/case and ``{``
blocks; a heredoc; or an open quote. A line that ends in ``&`` starts something in the
background that the lines after it use (a server, then ``curl``), so it and the rest of the
block stay one script.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_OPENERS = {"if": "fi", "for": "done", "while": "done", "until": "done", "case": "esac"}
_CLOSERS = {"fi", "done", "esac"}
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_CONTINUES = re.compile(r"(\\|&&|\|\||\|)\s*$")
_BACKGROUND = re.compile(r"(?<![&>])&\s*(?:#.*)?$")

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


@dataclass(frozen=True)
class Chunk:
    line: int  # file line where the command starts
    text: str


def split_script(text: str, first_line: int) -> list[Chunk]:
    """Separate commands in ``text`` (which starts on ``first_line`` of its file)."""
    chunks: list[Chunk] = []
    current: list[str] = []
    start = first_line
    depth = 0
    heredoc: str | None = None
    background = False
    for offset, raw in enumerate(text.splitlines()):
        line = raw.rstrip()
        stripped = line.strip()
        if heredoc is not None:
            current.append(line)
            if stripped == heredoc:
                heredoc = None
                if not depth:
                    chunks.append(Chunk(start, _dedent(current)))
                    current = []
            continue
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if not current:
            start = first_line + offset
        current.append(line)
        depth = _depth(stripped, depth)
        marker = _HEREDOC.search(stripped)
        if marker:
            heredoc = marker.group(2)
            continue
        background = background or bool(_BACKGROUND.search(stripped))
        if background or depth or _CONTINUES.search(stripped) or _open_quote("\n".join(current)):
            continue
        chunks.append(Chunk(start, _dedent(current)))
        current = []
    if current:
        chunks.append(Chunk(start, _dedent(current)))
    return chunks


def _depth(stripped: str, depth: int) -> int:
    """Nesting of compound commands after a line: if/for/while/until/case and { }."""
    code = stripped.split(" #", 1)[0]
    for word in re.split(r"[\s;()&|]+", code):
        if word in _OPENERS:
            depth += 1
        elif word in _CLOSERS:
            depth = max(0, depth - 1)
    if stripped.endswith("{"):
        depth += 1
    elif stripped == "}" or stripped.startswith("} "):
        depth = max(0, depth - 1)
    return depth


def one_line(script: str, width: int) -> str:
    """A script on one line, cut to ``width`` characters, for messages."""
    flat = " ".join(script.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _dedent(lines: list[str]) -> str:
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines).strip()


def _open_quote(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:
        return True
    return False
