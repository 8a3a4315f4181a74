"""The commands that read the recorded state: status, summary (``--merge``), next (their bodies
are in ``planrun.commands.recorded``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planrun.cli.boundary import boundary
from planrun.cli.options import (
    FormatOpt,
    JsonOpt,
    NoDeriveOpt,
    PathsArg,
    RootOpt,
    TemplateOpt,
    settings,
)


@boundary
def status(
    paths: PathsArg = None,
    json_out: JsonOpt = False,
    root: RootOpt = None,
    fmt: FormatOpt = None,
    no_derive: NoDeriveOpt = False,
) -> int:
    """Show the last recorded result of every task and milestone."""
    from planrun.commands import recorded

    return recorded.status(settings(paths, fmt, root, no_derive), json_out=json_out)


@boundary
def summary_(
    paths: PathsArg = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: beside the plan).")
    ] = None,
    merge: Annotated[
        Path | None,
        typer.Option(
            "--merge",
            help="First record the `execute --json` documents in this folder (results from "
            "other machines); exit 1 if a task did not pass.",
        ),
    ] = None,
    template: TemplateOpt = None,
    root: RootOpt = None,
    fmt: FormatOpt = None,
) -> int:
    """Re-render SUMMARY.md from the recorded state, without running anything."""
    from planrun.commands import recorded

    s = settings(paths, fmt, root)
    return recorded.summary(s, output=output, merge=merge, template=template)


@boundary
def next_(
    paths: PathsArg = None,
    json_out: JsonOpt = False,
    root: RootOpt = None,
    fmt: FormatOpt = None,
    no_derive: NoDeriveOpt = False,
) -> int:
    """List tasks ready to work on: not passed yet, every dependency passed."""
    from planrun.commands import recorded

    return recorded.next_(settings(paths, fmt, root, no_derive), json_out=json_out)
