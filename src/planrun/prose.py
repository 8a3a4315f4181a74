"""Command or prose: the one place that decides whether text from a plan may be run.

planrun is a referee; running a sentence from a plan as a shell command is one of the worst
things it can do. So a command is taken only from where a plan author puts checks:

- a section whose *heading* (level 2 and below; the level-1 heading is the document's title)
  names validation, tests, checks or gates (``gate_heading``);
- an explicit verify element (a ``Verify:`` field, GSD's ``<verify>``/``<automated>``);
- a ``bash``/``sh``/``shell``/``console`` fenced block.

Even there, a line is a command only when it reads as one (``is_command``): a bare path or route
(``/dist``, ``/api/cron/x returns 200``) and a numbered English step are prose. A line that
starts like a command but reads as English (``test the login page by hand``) is *unsure*: the
reader reports a manual check with a ``prose-verify`` warning and never runs it. Backticked
spans in running prose anywhere else are never commands.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from planrun import markdown

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

GATE = re.compile(
    r"\b(test|tests|testing|validation|validate|gates?|verif\w*|checks?|quality)\b", re.I
)
CRITERIA = re.compile(
    r"success criteria|acceptance criteria|definition of done|must[- ]haves?|quality gates?|"
    r"done when|exit criteria",
    re.I,
)
SHELL_FENCES = frozenset({"bash", "sh", "shell", "zsh", "console", "shell-session"})

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*$")
_TOOL = re.compile(r"[a-z][a-z0-9_.-]*")
_OPERATORS = ("&&", "||", " | ", ";", " > ", " 2>", " >> ")
_NUMBERED = re.compile(r"^\s*(?:[-*+]\s+)?(?:\d+[.)]|step\s+\d+\s*[:.)-])\s+", re.I)
_SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/opt/")
_SCRIPT = re.compile(r"[\w.-]+(?:/[\w.-]+)+\.(?:sh|bash)")  # scripts/verify.sh
# Words that make a line English rather than shell when they stand on their own (not in quotes,
# not as a flag). Words that shell commands use as arguments (run, test, check, verify, pass,
# all, in, do, build, install, up) are deliberately absent.
_ENGLISH_WORDS = """
    the an and or that this these those is are be been should must will would can could into
    onto from of to with when it its sure not confirm ensure manually works passes succeeds
    returns without using via your our we you they there correctly properly successfully no
"""
_ENGLISH = frozenset(_ENGLISH_WORDS.split())


# Criteria lists that name no gate: their lines are statements, never commands.
_STATEMENTS = re.compile(
    r"success criteria|acceptance criteria|definition of done|must[- ]haves?|done when|"
    r"exit criteria",
    re.I,
)


def gate_heading(heading: markdown.Heading) -> bool:
    """A section whose commands are the plan's checks: level 2 or below, naming validation,
    tests, checks or gates, and not a list of criteria such as Acceptance Criteria ("Quality
    Gates" is both: its commands are checks, its checkbox items truths)."""
    title = markdown.strip_markup(heading.title)
    return heading.level >= 2 and bool(GATE.search(title)) and not _STATEMENTS.search(title)


def criteria_heading(heading: markdown.Heading) -> bool:
    """Acceptance Criteria, Definition of Done, Must-Haves, Success Criteria, Quality Gates."""
    return heading.level >= 2 and bool(CRITERIA.search(markdown.strip_markup(heading.title)))


def _words(text: str) -> list[str]:
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        words = text.split()
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]  # FOO=bar cmd
    return words


def _path_or_route(first: str) -> bool:
    """``/dist``, ``/api/cron/x``: a path a sentence names, not a program to run."""
    return first.startswith("/") and not first.startswith(_SYSTEM_DIRS)


def _english(words: list[str]) -> bool:
    return any(w.lower() in _ENGLISH for w in words[1:] if re.fullmatch(r"[A-Za-z]+[.,]?", w))


def starts_like_command(text: str) -> bool:
    """Whether the first word is a program: a known tool, ``./x``, ``~/x``, ``$X`` or a system
    path. Says nothing about the rest of the line."""
    words = _words(text.strip())
    if not words:
        return False
    first = words[0]
    return (
        first in COMMANDS
        or first.startswith(("./", "../", "~/", "$", *_SYSTEM_DIRS))
        or bool(_SCRIPT.fullmatch(first))
    )


def is_command(text: str) -> bool:
    """Whether ``text`` reads as a shell command and nothing else."""
    stripped = text.strip()
    if not stripped or _NUMBERED.match(stripped):
        return False
    words = _words(stripped)
    if not words:
        return False
    first = words[0]
    if _path_or_route(first) or _english(words):
        return False
    if starts_like_command(stripped):
        return True
    # An unknown tool used like one: `mytool --flag`, `foo | bar`.
    return bool(_TOOL.fullmatch(first)) and (
        any(op in stripped for op in _OPERATORS) or any(w.startswith("-") for w in words[1:])
    )


def fence_script(block: markdown.Block) -> str | None:
    """The script a shell fence holds (a ``console`` block: its ``$`` lines), else None."""
    if block.lang in ("console", "shell-session"):
        return "\n".join(
            ln[2:] if ln.startswith("$ ") else "# " + ln for ln in block.text.splitlines()
        )
    return block.text if block.lang in SHELL_FENCES else None


@dataclass(frozen=True)
class Check:
    """A command found in a plan, with the prose around it kept as its description."""

    line: int
    text: str
    description: str | None = None


@dataclass
class Extracted:
    commands: list[Check] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)  # reads partly as a command: never run
    statement: str | None = None  # the line as prose, when it holds no command


def extract(line_text: str, line: int) -> Extracted:
    """The commands in one line of a verify area (a gate section or a verify element).

    ``Run `npx tsc --noEmit` to verify`` gives the command ``npx tsc --noEmit`` described by the
    sentence; a line without backticks is a command only if all of it is one."""
    text = markdown.bullet(line_text)
    text = (text if text is not None else line_text).strip()
    out = Extracted()
    if not text:
        return out
    spans = markdown.backticked(text)
    plain = markdown.strip_markup(text)
    # "1. Start the server with `npm run dev`": a step of a procedure a person follows, whose
    # commands only make sense together and in order. Never run; said so when it holds one.
    step = bool(_NUMBERED.match(line_text))
    if spans:
        prose = _without_spans(text)
        description = plain if prose else None
        for span in spans:
            if is_command(span) and not (step and prose):
                out.commands.append(Check(line, span, description))
            elif starts_like_command(span):
                out.unsure.append(span)
    elif is_command(text):
        out.commands.append(Check(line, text))
    elif starts_like_command(text) and not step:
        out.unsure.append(text)
    if not out.commands:
        out.statement = plain
    return out


def _without_spans(text: str) -> str:
    """What is left of a line once its code spans and punctuation are removed."""
    rest = re.sub(r"(`+)(.+?)\1", " ", text)
    return re.sub(r"[\W_]+", " ", rest).strip()
