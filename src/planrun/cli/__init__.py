"""The command line: parse options, call one core function, return an exit code.

This package is the only code that imports typer. Core modules are imported inside the commands
so ``planrun --version`` stays fast. ``boundary`` is the single place that turns PlanError into
one clean message and its exit code; nothing a user types or writes reaches a traceback. This
module holds the app, ``--version``, the commands in the order ``--help`` lists them (each
declared in ``plans``, ``run``, ``recorded`` or ``agents``) and ``main``, the console script.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

import typer

from planrun import __version__
from planrun.cli import agents, plans, recorded, run
from planrun.cli.boundary import TYPER_EXITS
from planrun.errors import EXIT_INTERNAL
from planrun.render import console

_SETTINGS: dict[str, Any] = {
    "name": "planrun",
    "help": "Validate agent-written plans, run their verify commands in dependency waves, "
    "and report what is really done.",
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"planrun {__version__}\n")
        raise typer.Exit(0)


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """planrun: the referee between "the agent says it is done" and "it is done"."""


# The order here is the order `planrun --help` lists the commands in (export, a group, last).
_COMMANDS: dict[str, Callable[..., None] | None] = {
    "validate": plans.validate,
    "waves": plans.waves,
    "graph": plans.graph,
    "execute": run.execute,
    "watch": run.watch,
    "status": recorded.status,
    "summary": recorded.summary_,
    "next": recorded.next_,
    "convert": plans.convert,
    "export": None,  # a group: see _export
    "schema": plans.schema,
    "new": plans.new,
    "mcp": agents.mcp,
    "hook": agents.hook,
}


def _export() -> typer.Typer:
    export_app = typer.Typer(
        name="export",
        help="Export plans to other tools.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    export_app.command("github-actions")(plans.export_github_actions)
    return export_app


def _app(names: Iterable[str]) -> typer.Typer:
    """The planrun app with the commands ``names``, in --help's order."""
    built = typer.Typer(**_SETTINGS)
    built.callback()(_root)
    for name in names:
        command = _COMMANDS[name]
        if command is None:
            built.add_typer(_export())
        else:
            built.command(name=name)(command)
    return built


app = _app(_COMMANDS)


def _app_for(argv: Sequence[str]) -> typer.Typer:
    """The app to run ``argv`` with: when it names a command, an app with that command only.

    typer turns every registered command into a click command before it parses anything
    (reading each signature and evaluating its annotations), which for planrun's fourteen
    commands costs more than the command ``next`` itself. The app of one command parses,
    helps and fails the same way for that command; anything else (no command, an option
    first, a name that is no command, shell completion) gets the whole app."""
    first = argv[1] if len(argv) > 1 else ""
    if first not in _COMMANDS or any(k.endswith("_COMPLETE") for k in os.environ):
        return app
    return _app([first])


def main() -> None:
    from planrun import crash, proc

    proc.default_sigchld()  # before any child: helpers' exit codes are read too

    # Plan text is any Unicode; a terminal or pipe whose encoding cannot show a character (a
    # latin-1 locale, PYTHONIOENCODING=ascii) gets it escaped instead of a crash mid-report.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        _app_for(sys.argv)()
    except TYPER_EXITS:
        raise
    except Exception as exc:  # outside any command (option parsing, completion)
        if crash.debugging():
            raise
        console.err(crash.report(exc))
        raise SystemExit(EXIT_INTERNAL) from None
