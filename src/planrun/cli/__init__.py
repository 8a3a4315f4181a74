"""The command line: parse options, call one core function, return an exit code.

This package is the only code that imports typer. Core modules are imported inside the commands
so ``planrun --version`` stays fast. ``boundary`` is the single place that turns PlanError into
one clean message and its exit code; nothing a user types or writes reaches a traceback. This
module holds the app, ``--version``, the commands in the order ``--help`` lists them (each
declared in ``plans``, ``run``, ``recorded`` or ``agents``) and ``main``, the console script.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from planrun import __version__
from planrun.cli import agents, plans, recorded, run
from planrun.cli.boundary import TYPER_EXITS
from planrun.errors import EXIT_INTERNAL
from planrun.render import console

app = typer.Typer(
    name="planrun",
    help="Validate agent-written plans, run their verify commands in dependency waves, "
    "and report what is really done.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"planrun {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """planrun: the referee between "the agent says it is done" and "it is done"."""


# The order here is the order `planrun --help` lists the commands in (export, a group, last).
app.command()(plans.validate)
app.command()(plans.waves)
app.command()(plans.graph)
app.command()(run.execute)
app.command()(run.watch)
app.command()(recorded.status)
app.command(name="summary")(recorded.summary_)
app.command(name="next")(recorded.next_)
app.command()(plans.convert)

export_app = typer.Typer(
    name="export",
    help="Export plans to other tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(export_app)


export_app.command("github-actions")(plans.export_github_actions)
app.command()(plans.schema)
app.command()(plans.new)
app.command()(agents.mcp)
app.command()(agents.hook)


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
        app()
    except TYPER_EXITS:
        raise
    except Exception as exc:  # outside any command (option parsing, completion)
        if crash.debugging():
            raise
        console.err(crash.report(exc))
        raise SystemExit(EXIT_INTERNAL) from None
