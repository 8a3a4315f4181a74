"""A command's own stdout and stderr: escaped writes, errors and warnings, annotations.

Plan text in a message is escaped for a terminal and for CI logs (``render.output.echo``); a
JSON document (``raw``) is escaped already. A write to stdout that fails is an
``OutputError``, not a traceback; after one, stdout points at /dev/null so the interpreter's
last flush is quiet.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from planrun.errors import InvalidPlanError, OutputError, PlanError

if TYPE_CHECKING:
    from planrun.diagnostics import Diagnostic


def err(text: str) -> None:
    """A message on stderr; plan text in it is escaped for a terminal and for CI logs."""
    from planrun.render.output import echo

    with contextlib.suppress(OSError):  # nowhere left to say anything
        sys.stderr.write(echo(text) + "\n")


def warn(message: str) -> None:
    err(f"planrun: warning: {message}")


def command(line: str) -> None:
    """A workflow command planrun means (an annotation): written as it is."""
    with contextlib.suppress(OSError):
        sys.stderr.write(line + "\n")


_stdout_used = False  # something was written to stdout: no second JSON document after it


def stdout_used() -> bool:
    return _stdout_used


def begin_command() -> None:
    """A command starts: nothing of it is on stdout yet (the MCP server and tests run several
    in one process)."""
    global _stdout_used  # noqa: PLW0603 -- one process, one stdout
    _stdout_used = False


def out(text: str, *, raw: bool = False) -> None:
    """Write to stdout; JSON documents (``raw``) are already escaped."""
    from planrun.render.output import echo

    global _stdout_used  # noqa: PLW0603 -- one process, one stdout
    _stdout_used = True
    try:
        sys.stdout.write(text if raw else echo(text))
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def flush_stdout() -> None:
    """Flush stdout, so a full disk or a closed pipe is an error now, not a traceback at exit;
    after a failure, stdout points at /dev/null so the interpreter's last flush is quiet."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        silence_stdout()
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def block(lines: list[str]) -> None:
    """Lines echoing plan text; under GitHub Actions between stop-commands markers."""
    from planrun.escape import terminal
    from planrun.render import github

    if not lines:
        return
    if github.active():
        out("\n".join(github.stop_commands([terminal(x) for x in lines])) + "\n", raw=True)
    else:
        out("\n".join(lines) + "\n")


def annotate(diagnostics: Sequence[Diagnostic]) -> None:
    """Under GitHub Actions, an annotation per error and warning, on its line of the diff."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    from planrun.render.github import annotation

    for d in diagnostics:
        if d.severity != "info":
            kind = "error" if d.severity == "error" else "warning"
            command(annotation(kind, d.file, d.line, f"[{d.code}] {d.message}"))


def invalid(exc: InvalidPlanError) -> None:
    """An invalid plan: its errors and warnings, then one line."""
    for diag in exc.diagnostics:
        if diag.severity != "info":
            err(diag.format())
    annotate(exc.diagnostics)
    err(f"planrun: {exc.message}")


def plan_error(exc: PlanError) -> None:
    """An expected error: one message and its hint."""
    if isinstance(exc, OutputError) and "standard output" in exc.message:
        silence_stdout()
    err(f"planrun: error: {exc.message}")
    if exc.hint:
        err(f"    hint: {exc.hint}")


def report_error(exc: PlanError) -> int:
    """Print an expected error (an invalid plan's diagnostics, or one message and a hint)."""
    if isinstance(exc, InvalidPlanError):
        invalid(exc)
    else:
        plan_error(exc)
    return exc.exit_code


def attempt(step: Callable[[], None]) -> list[PlanError]:
    """Run one output step; the error it raised, if any, for later."""
    try:
        step()
    except PlanError as exc:
        return [exc]
    return []


def report_errors(errors: Sequence[PlanError], code: int) -> int:
    """Every output that failed, one message each; exit 2 if any did."""
    from planrun.errors import EXIT_USAGE

    for exc in errors:
        plan_error(exc)
    return EXIT_USAGE if errors else code
