"""The error boundary: a command's result, a PlanError or any other exception, turned into one
clean message and the process exit code; nothing a user types or writes reaches a traceback."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

import typer

from planrun.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, InvalidPlanError, PlanError
from planrun.render import console

P = ParamSpec("P")
# typer's own ways out (Exit, Abort, and its usage errors) carry their own message and code.
# (ClickException is found through BadParameter: typer vendors click in newer versions.)
TYPER_EXITS: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)


def _document(exc: PlanError, json_out: object) -> int:
    """With ``--json``, the error as a JSON document on stdout too (an agent reading stdout
    learns why there is no result), unless stdout already has output; the exit code."""
    if json_out is True and not console.stdout_used():
        from planrun.render import jsondoc

        with contextlib.suppress(PlanError):
            console.out(jsondoc.dumps(jsondoc.error_doc(exc)), raw=True)
            console.flush_stdout()
    return exc.exit_code


def boundary(func: Callable[P, int]) -> Callable[P, None]:
    """Run a command; turn its result, a PlanError, or any other exception (exit 3, one line,
    a crash log; ``PLANRUN_DEBUG=1`` lets it through) into the process exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        from planrun import crash

        console.begin_command()
        try:
            code = func(*args, **kwargs)
            console.flush_stdout()
        except InvalidPlanError as exc:
            console.invalid(exc)
            code = _document(exc, kwargs.get("json_out"))
        except PlanError as exc:
            console.plan_error(exc)
            code = _document(exc, kwargs.get("json_out"))
        except KeyboardInterrupt:
            console.err("planrun: interrupted")
            code = EXIT_INTERRUPTED
        except TYPER_EXITS:
            raise  # typer's own way out, with its own message
        except Exception as exc:
            if crash.debugging():
                raise
            root = kwargs.get("root")
            console.err(crash.report(exc, root if isinstance(root, Path) else None))
            code = EXIT_INTERNAL
        raise typer.Exit(code)

    return wrapper
