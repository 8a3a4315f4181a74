"""Which programs are shells: the names the shell command line of a plan is read by (its flags,
errexit.shell_flags) and whose traps planrun can set (bash)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

SHELL_NAMES = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "posh", "yash"})


def shell_of(argv: Sequence[str]) -> str | None:
    """The shell of the command line ``argv``: the last shell named in it (``stdbuf -eL bash
    -c``, ``env bash -c``), None for no shell (``node -e``)."""
    names = [Path(word).name for word in argv]
    return next((n for n in reversed(names) if n in SHELL_NAMES), None)


def runs_bash(argv: Sequence[str]) -> bool:
    """Whether the shell of the command line ``argv`` is bash, whose ERR trap planrun's
    failure records need."""
    return shell_of(argv) == "bash"
