"""The PlanError family: every error a user can cause and act on.

Core modules raise these and never exit; the CLI's single error boundary turns them into one
clean message and the exit code they carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from planrun.plural import pluralize

if TYPE_CHECKING:
    from planrun.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_NOTHING_SELECTED = 5  # as pytest exits when it collected no tests
EXIT_INTERRUPTED = 130


class PlanError(Exception):
    """Base of every expected error; ``exit_code`` is what the process exits with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(PlanError):
    """Bad options or arguments."""


class PathNotFoundError(PlanError):
    """A path given on the command line does not exist or cannot be read."""


class InvalidPlanError(PlanError):
    """The plans have errors; carries the diagnostics so the boundary can print them."""

    def __init__(self, diagnostics: Sequence[Diagnostic], *, exit_code: int = EXIT_FAILED) -> None:
        errors = sum(1 for d in diagnostics if d.severity == "error")
        super().__init__(f"the plan has {pluralize(errors, 'error')}")
        self.diagnostics = list(diagnostics)
        self.exit_code = exit_code


class RefusedError(PlanError):
    """planrun refuses to do what would lose a user's work, such as overwrite their file."""


class NothingSelectedError(PlanError):
    """``execute`` found no task to run: a CI gate must not go green on nothing."""

    exit_code = EXIT_NOTHING_SELECTED


class OutputError(PlanError):
    """A file or stream planrun writes to cannot be written (the path and the reason)."""
