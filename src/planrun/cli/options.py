"""The options several commands share (typer Annotated aliases), and their settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from planrun.settings import Settings

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Plan files or folders of plans (default: plans/).", show_default=False),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Read every file in this format instead of detecting it."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
NoDeriveOpt = Annotated[
    bool,
    typer.Option(
        "--no-derive",
        help="Do not derive checks from the text of tasks that have no verify "
        "(also: derive = false in the configuration).",
    ),
]
SummaryOpt = Annotated[
    Path | None,
    typer.Option("--summary", help="Write SUMMARY.md here (default: beside the plan)."),
]
TemplateOpt = Annotated[
    Path | None,
    typer.Option("--template", help="A jinja2 template to render SUMMARY.md with."),
]
RootOpt = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help=(
            "Where commands run and the plans' paths resolve (default: plan root:, git root, "
            "cwd); PATH arguments are relative to the current directory."
        ),
    ),
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Parallel jobs (default: CPUs).")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0.001, help="Seconds per command when the plan sets none."),
]


def settings(
    paths: list[Path] | None, fmt: str | None, root: Path | None = None, no_derive: bool = False
) -> Settings:
    """Flags over the configuration over the defaults, resolved once for the command."""
    from planrun.settings import Settings

    return Settings.of(paths, fmt, root=root, no_derive=no_derive)
