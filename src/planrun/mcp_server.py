"""``planrun mcp``: planrun's commands as MCP tools, over stdio (the optional extra
``planrun[mcp]``; only this module imports the SDK, and only ``planrun mcp`` imports it).

Each tool takes the options of its command and returns the command's ``--json`` document as
structured content, with an output schema from docmodels.py. stdout belongs to the protocol:
nothing else is written there (the runner reports through progress notifications).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from planrun import __version__
from planrun.docmodels import (
    NextDocument,
    RunDocument,
    SummaryDocument,
    ValidateDocument,
    WavesDocument,
)
from planrun.document import Document, written_by_planrun
from planrun.errors import InvalidPlanError, PlanError
from planrun.execution import run_plans as run_plan
from planrun.graph import PlanGraph, Unit
from planrun.model import json_schema
from planrun.recorded import next_units
from planrun.recorded import read_status as recorded_status
from planrun.render import jsondoc
from planrun.render import summary as summary_md
from planrun.render.summary import SummaryInput
from planrun.report import Report
from planrun.results import UnitResult
from planrun.scheduler import StopSignal
from planrun.settings import Settings
from planrun.validate import load_valid, validate_paths

INSTRUCTIONS = (
    "planrun referees agent-written plans: `validate` checks a plan, `next` lists the tasks "
    "ready to work on, `execute` runs the verify commands and checks of tasks and records the "
    "results, `status` shows what is recorded, `waves` the parallel groups, `summary` writes "
    "SUMMARY.md. A task is done when `execute` reports it passed, not when a plan says so. "
    "Paths are relative to the server's working folder; without paths, the configured plans "
    "([tool.planrun] path) or plans/."
)

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
# execute and summary write planrun's own state and reports (SUMMARY.md, never a file planrun
# did not write); nothing of the user's is changed or removed.
WRITES_REPORTS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)

Paths = Annotated[
    list[str] | None,
    Field(
        description="Plan files or folders, relative to the server's folder (default: the "
        "configured plans, else plans/)."
    ),
]
Format = Annotated[
    str | None,
    Field(
        description="Read every file in this format instead of detecting it (planrun, gsd, "
        "tasks, checklist, prp, ...)."
    ),
]
Root = Annotated[
    str | None,
    Field(
        description="Where commands run and paths resolve (default: the plan's root:, the "
        "git work tree, the server's folder)."
    ),
]


def _settings(paths: Paths, format: Format, root: Root = None) -> Settings:  # noqa: A002
    """A tool's options over the configuration, as the command's flags are (an empty
    format or root is none)."""
    return Settings.of(paths, format or None, root=root)


def _fail(exc: PlanError) -> ToolError:
    """The error a tool reports: the message, the plan's errors for an invalid plan."""
    lines = [exc.message]
    if isinstance(exc, InvalidPlanError):
        lines.extend(d.format() for d in exc.diagnostics if d.severity != "info")
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    return ToolError("\n".join(lines))


def _result(doc: dict[str, Any]) -> CallToolResult:
    """The document as structured content, and as JSON text for clients without it."""
    return CallToolResult(
        content=[TextContent(type="text", text=jsondoc.dumps(doc))], structured_content=doc
    )


def _guarded(call: Callable[[], dict[str, Any]]) -> CallToolResult:
    try:
        return _result(call())
    except PlanError as exc:
        raise _fail(exc) from None


# -- the read-only tools


def validate(
    paths: Paths = None,
    format: Format = None,  # noqa: A002 - the CLI's option name, which tools mirror
    strict: bool = False,
) -> Annotated[CallToolResult, ValidateDocument]:
    """Check plans: schema, ids, dependencies, cycles, verify commands. `ok` is false when
    there are errors (with strict, warnings too); each diagnostic has a stable code, file,
    line, message and hint."""

    def call() -> dict[str, Any]:
        s = _settings(paths, format)
        result = validate_paths(s.paths, s.fmt, derive=s.derive, shell=s.config.shell)
        return jsondoc.validate_doc(result, strict=strict)

    return _guarded(call)


def waves(
    paths: Paths = None,
    format: Format = None,  # noqa: A002 - the CLI's option name, which tools mirror
    avoid_conflicts: bool = False,
) -> Annotated[CallToolResult, WavesDocument]:
    """The waves (groups of tasks that can run in parallel) and the critical path."""

    def call() -> dict[str, Any]:
        s = _settings(paths, format)
        graph = load_valid(s.paths, s.fmt).graph
        if avoid_conflicts:
            graph.assign_waves(avoid_conflicts=True)
        return jsondoc.waves_doc(graph, graph.critical_path())

    return _guarded(call)


def next_(
    paths: Paths = None,
    format: Format = None,  # noqa: A002 - the CLI's option name, which tools mirror
    root: Root = None,
) -> Annotated[CallToolResult, NextDocument]:
    """Tasks ready to work on: not passed yet, every dependency passed."""

    def call() -> dict[str, Any]:
        s = _settings(paths, format, root)
        units = next_units(s.paths, s.fmt, s.root, derive=s.derive)
        return jsondoc.next_doc(units)

    return _guarded(call)


def status(
    paths: Paths = None,
    format: Format = None,  # noqa: A002 - the CLI's option name, which tools mirror
    root: Root = None,
) -> Annotated[CallToolResult, RunDocument]:
    """The last recorded result of every task and milestone (runs nothing)."""

    def call() -> dict[str, Any]:
        s = _settings(paths, format, root)
        report = recorded_status(s.paths, s.fmt, s.root, derive=s.derive)
        return jsondoc.run_doc(report, report.results)

    return _guarded(call)


# -- the tools that write planrun's reports


def summary(
    paths: Paths = None,
    format: Format = None,  # noqa: A002 - the CLI's option name, which tools mirror
    root: Root = None,
    output: str | None = None,
) -> Annotated[CallToolResult, SummaryDocument]:
    """Re-render SUMMARY.md from the recorded results (runs nothing); returns its path and
    text. It never overwrites a file planrun did not write."""

    def call() -> dict[str, Any]:
        s = _settings(paths, format, root)
        report = recorded_status(s.paths, s.fmt, s.root, derive=s.derive)
        path = _write_summary(report, report.results, s, output)
        return {
            "schema_version": jsondoc.SCHEMA_VERSION,
            "path": str(path),
            "status": report.status,
            "markdown": path.read_text(encoding="utf-8"),
        }

    return _guarded(call)


def _write_summary(run: Report, results: list[UnitResult], s: Settings, output: str | None) -> Path:
    target = s.summary_path(output)
    text = summary_md.render(SummaryInput.of(run, results), s.template())
    summary_md.write(text, target)
    return target


async def execute(
    ctx: Context,
    *,
    paths: Paths = None,
    format: Format = None,  # noqa: A002 - the CLI's option name, which tools mirror
    wave: Annotated[int | None, Field(description="Run only this wave.")] = None,
    tasks: Annotated[
        list[str] | None, Field(description="Run only these tasks (full or bare ids).")
    ] = None,
    failed: Annotated[bool, Field(description="Only tasks that did not pass last time.")] = False,
    jobs: Annotated[int | None, Field(ge=1, description="Parallel jobs (default: CPUs).")] = None,
    timeout: Annotated[
        float | None, Field(gt=0, description="Seconds per command when the plan sets none.")
    ] = None,
    root: Root = None,
    fail_fast: bool = False,
    force: bool = False,
    fresh: bool = False,
    shard: str | None = None,
    no_summary: bool = False,
) -> Annotated[CallToolResult, RunDocument]:
    """Run the verify commands and must_haves checks of the selected tasks (all, or `wave`,
    `tasks`, `failed`, `shard` K/N), record the results and write SUMMARY.md. A pass recorded
    under unchanged inputs is reused (`cached`) unless `fresh`. Progress is reported per
    finished task; cancelling the request stops the running commands (their process groups)
    and keeps the results of the tasks that finished."""
    try:
        s = _settings(paths, format, root)
        opts = s.execute_options(
            argv=["mcp", "execute"],
            wave=wave,
            tasks=tasks,
            jobs=jobs,
            timeout=timeout,
            fail_fast=fail_fast,
            failed=failed,
            force=force,
            shard=shard,
            fresh=fresh,
        )
        if not no_summary:  # refuse a SUMMARY.md that cannot be written before running
            summary_md.check_template(s.template())
            summary_md.check_writable(s.summary_path())
    except PlanError as exc:
        raise _fail(exc) from None
    stop = StopSignal()
    finished = threading.Event()
    progress = _Progress(ctx)

    def work() -> dict[str, Any]:
        try:
            report = run_plan(opts, progress, stop)
            if not no_summary:
                _write_summary(report, report.everything, s, None)
            return jsondoc.run_doc(report, report.results)
        finally:
            finished.set()

    try:
        doc = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        # The request was cancelled: stop the run like an interrupt (its process groups get
        # SIGTERM, then SIGKILL), and wait for it to record what finished before going.
        progress.cancelled = True
        stop.request()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(finished.wait)
        raise
    except PlanError as exc:
        raise _fail(exc) from None
    return _result(doc)


class _Progress:
    """The runner's reporter: a progress notification per finished task (when the client
    asked for progress); nothing else, since stdout is the protocol's."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.total = 0
        self.done = 0
        self.cancelled = False

    def start(self, graph: PlanGraph, units: list[Unit], jobs: int, run_id: str) -> None:
        self.total = len(units)

    def unit_started(self, unit: Unit) -> None:
        pass

    def unit_finished(self, result: UnitResult) -> None:
        self.done += 1
        if self.cancelled:
            return
        message = f"{result.unit.id}: {result.status}"
        # A notification that cannot be sent must not stop the run.
        with contextlib.suppress(Exception):
            anyio.from_thread.run(self.ctx.report_progress, self.done, self.total, message)

    def warn(self, message: str) -> None:
        sys.stderr.write(f"planrun: warning: {message}\n")

    def interrupting(self, *, kill: bool) -> None:
        pass

    def finish(self, report: object) -> None:
        pass


# -- resources


def plan_schema() -> str:
    """The JSON Schema of the canonical plan frontmatter (what `planrun schema` prints)."""
    return jsondoc.dumps(json_schema())


def last_summary(plan: str) -> str:
    """The last SUMMARY.md written for a plan file or folder (a path relative to the server's
    working folder, slashes URL-encoded)."""
    path = Settings.of([plan]).summary_path()
    if not path.is_file():
        raise ResourceError(f"no SUMMARY.md at {path}: run the execute or summary tool first")
    doc = Document.read(path)
    if not written_by_planrun(doc.frontmatter.data):
        raise ResourceError(f"{path} was not written by planrun")
    return doc.text


def build_server() -> MCPServer:
    server: MCPServer = MCPServer(
        "planrun", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    for fn, name, hints in (
        (validate, "validate", READ_ONLY),
        (waves, "waves", READ_ONLY),
        (next_, "next", READ_ONLY),
        (status, "status", READ_ONLY),
        (execute, "execute", WRITES_REPORTS),
        (summary, "summary", WRITES_REPORTS.model_copy(update={"idempotent_hint": True})),
    ):
        server.add_tool(fn, name=name, annotations=hints, structured_output=True)
    server.resource("planrun://schema", name="plan-schema", mime_type="application/schema+json")(
        plan_schema
    )
    server.resource("planrun://summary/{plan}", name="summary", mime_type="text/markdown")(
        last_summary
    )
    return server


def serve() -> None:
    """Serve over stdio until the client closes it."""
    build_server().run("stdio")
