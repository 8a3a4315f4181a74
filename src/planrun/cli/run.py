"""The commands that run checks: execute (and ``--dry-run``), watch (their bodies are in
``planrun.commands.run``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from planrun.cli.boundary import boundary
from planrun.cli.options import (
    FormatOpt,
    JobsOpt,
    JsonOpt,
    NoDeriveOpt,
    PathsArg,
    RootOpt,
    SummaryOpt,
    TemplateOpt,
    TimeoutOpt,
    settings,
)


@boundary
def execute(
    paths: PathsArg = None,
    wave: Annotated[int | None, typer.Option("--wave", help="Run only this wave.")] = None,
    task: Annotated[
        list[str] | None,
        typer.Option("--task", "-t", help="Run only this task (full or bare id); repeatable."),
    ] = None,
    jobs: JobsOpt = None,
    timeout: TimeoutOpt = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going/--fail-fast",
            help="After a failure, go on with what does not depend on it (default), or start "
            "nothing new.",
        ),
    ] = True,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only tasks that did not pass last time.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Count dependencies outside the selection as passed."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would run, in order; run nothing.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Run everything; reuse no recorded pass (config: reuse = false)."
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="Run part K of N disjoint parts of the selection (CI matrix jobs).",
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Write JUnit XML results to this file.")
    ] = None,
    summary_file: SummaryOpt = None,
    no_summary: Annotated[
        bool, typer.Option("--no-summary", help="Do not write SUMMARY.md.")
    ] = False,
    template: TemplateOpt = None,
    json_out: JsonOpt = False,
    root: RootOpt = None,
    fmt: FormatOpt = None,
    avoid_conflicts: Annotated[
        bool,
        typer.Option(
            "--avoid-conflicts",
            help="Move a task that shares a file with an earlier task of its wave to a later "
            "wave (as waves --avoid-conflicts), and never run two such tasks at once.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show each task as it starts.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Only what did not pass, warnings and the final line."),
    ] = False,
    no_derive: NoDeriveOpt = False,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Hold claims against this commit (default: the parent of the commit that "
            "added the plan).",
        ),
    ] = None,
    prove: Annotated[
        bool,
        typer.Option(
            "--prove", help="Run passing checks again on the base tree; passing there is vacuous."
        ),
    ] = False,
    strict_scope: Annotated[
        bool,
        typer.Option("--strict-scope", help="Changed files that no task declares fail the run."),
    ] = False,
) -> int:
    """Run the verify commands and must_haves checks of the selected tasks."""
    from planrun.commands import run

    s = settings(paths, fmt, root, no_derive)
    opts = s.execute_options(
        argv=sys.argv[1:],
        wave=wave,
        tasks=task,
        jobs=jobs,
        timeout=timeout,
        fail_fast=not keep_going,
        failed=failed,
        force=force,
        avoid_conflicts=avoid_conflicts,
        shard=shard,
        fresh=fresh,
        base=base,
        prove=prove,
        strict_scope=strict_scope,
    )
    return run.execute(
        s,
        opts,
        dry_run=dry_run,
        json_out=json_out,
        summary=None if no_summary else s.summary_path(summary_file),
        junit=junit,
        template=template,
        verbose=verbose,
        quiet=quiet,
    )


@boundary
def watch(
    paths: PathsArg = None,
    jobs: JobsOpt = None,
    timeout: TimeoutOpt = None,
    summary_file: SummaryOpt = None,
    root: RootOpt = None,
    fmt: FormatOpt = None,
) -> int:
    """Run the plans, then rerun what changed each time files change (Ctrl-C stops)."""
    from planrun.commands import run

    s = settings(paths, fmt, root)
    opts = s.execute_options(argv=sys.argv[1:], jobs=jobs, timeout=timeout)
    return run.watch(s, opts, summary_file)
