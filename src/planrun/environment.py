"""What a run ran on: OS, user, Python, and the program each command resolved to.

Done work turns into failures on another machine for reasons a reviewer must be able to see:
another Node or ruff on PATH, or running as root (permission tests behave differently).
"""

from __future__ import annotations

import getpass
import os
import platform
import shlex
import shutil
import sys
from collections.abc import Iterable
from typing import Any

from planrun import lazyre

_ASSIGNMENT = lazyre.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

_PREFIXES = frozenset({"env", "command", "exec", "time", "nice", "nohup", "sudo", "!"})
_BUILTINS = frozenset(
    {
        "cd", "set", "export", "test", "[", "[[", "echo", "printf", "true", "false", "exit",
        "if", "for", "while", "until", "case", "{", "(", "source", ".", "eval", "trap",
        "local", "read", "return", "shift", "unset", "type", "wait", ":", "function",
    }
)  # fmt: skip


_MACHINE_PATH = lazyre.compile(r"(?<![\w.~-])/(?:Users|home)/[^/\s\"']+(?:/[^\s\"';|&)]*)?")


def machine_paths(text: str) -> list[str]:
    """Absolute paths in ``text`` under a user's home folder (``/Users/ann/app``,
    ``/home/ann/app``): where the plan was written, not where it runs."""
    if "/Users/" not in text and "/home/" not in text:  # what _MACHINE_PATH needs
        return []
    return _MACHINE_PATH.findall(text)


_QUOTING = lazyre.compile(r"[\"'\\#]")
_WORD = lazyre.compile(r"[^ \t\r\n]+")  # shlex's whitespace


def program(script: str) -> str | None:
    """The program a script's first command runs (``FOO=1 uv run x`` -> ``uv``), or None for a
    shell builtin or something that is not a plain word."""
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _QUOTING.search(stripped) is None:
            words: list[str] = _WORD.findall(stripped)  # shlex.split's words, nothing quoted
        else:
            try:
                words = shlex.split(stripped, comments=True)
            except ValueError:
                words = stripped.split()
        while words and (_ASSIGNMENT.match(words[0]) or words[0] in _PREFIXES):
            words = words[1:]
        if not words:
            continue
        first = words[0]
        if first in _BUILTINS or "$" in first or "`" in first:
            return None
        return first
    return None


def describe(programs: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """The environment document: ``os``, ``user``, ``root``, ``python``, ``programs`` (name ->
    resolved path, null when not found on the PATH the commands get)."""
    resolved: dict[str, str | None] = {}
    for name, path in programs:
        if name not in resolved:
            resolved[name] = shutil.which(name, path=path) if "/" not in name else _local(name)
    root = running_as_root()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return {
        "os": platform.platform(),
        "user": user,
        "root": root,
        "python": f"{platform.python_version()} ({sys.executable})",
        "programs": dict(sorted(resolved.items())),
    }


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _local(name: str) -> str | None:
    # ./script or bin/tool: relative to where the command runs, so not resolved here.
    return name


ROOT_WARNING = "running as root: permission checks (read-only files, chmod) behave differently"
