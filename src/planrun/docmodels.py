"""Pydantic models of the ``--json`` documents (SPEC section 7), for their JSON Schemas.

jsondoc.py builds the documents; these models describe them, so the MCP server can publish an
output schema per tool and check what it returns against it. Fields the SPEC lists but a
version of planrun may not write yet have defaults (they are not required). Documents may
carry more keys than listed here (``extra="allow"``): a newer planrun adds keys, it never
removes or retypes one within ``schema_version`` 1.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Document(_Model):
    schema_version: Literal[1] = Field(description="Version of the document format.")


class PlanEntry(_Model):
    id: str
    source: str = Field(description="The plan file.")
    format: str = Field(description="The format it was read as (planrun, gsd, tasks, ...).")
    tasks: int = Field(description="How many tasks it has.")


class DiagnosticEntry(_Model):
    code: str = Field(description="Stable diagnostic code (see README, Diagnostic codes).")
    severity: Literal["error", "warning", "info"]
    file: str
    line: int | None
    message: str
    hint: str | None


class ValidateDocument(_Document):
    """``planrun validate --json``."""

    ok: bool = Field(description="No errors (with strict, no warnings either).")
    plans: list[PlanEntry]
    diagnostics: list[DiagnosticEntry]


class Wave(_Model):
    wave: int = Field(description="Wave number, from 1.")
    tasks: list[str] = Field(description="Full task ids (PLAN/TASK).")


class WavesDocument(_Document):
    """``planrun waves --json``."""

    waves: list[Wave]
    critical_path: list[str]


class CommandEntry(_Model):
    run: str
    exit_code: int | None
    expect_exit: int
    duration_s: float
    timed_out: bool
    error: str | None
    limit: float | None = Field(default=None, description="The timeout, in seconds.")
    line: int | None = Field(default=None, description="Where the command is in the plan.")
    original: str | None = Field(
        default=None, description="The check as written, when `run` is the command it masks."
    )
    must_fail: bool = Field(default=False, description="The check passes when `run` fails.")
    note: str | None = Field(
        default=None, description="Why it was judged by `run` (the evidence rules)."
    )
    weak: str | None = Field(
        default=None, description="Why it is no evidence: can never fail, ran no tests."
    )
    missing: str | None = Field(
        default=None,
        description="Why it could not run: a program not found on PATH or not executable, a "
        "python module not installed (error).",
    )
    failure: str | None = Field(
        default=None,
        description="Why the evidence rules fail it whatever its exit code: a grep that could "
        "not read its file, a printed FAIL.",
    )
    at: str | None = Field(
        default=None, description="Where a multi-line script stopped, and the command there."
    )


class CheckEntry(_Model):
    kind: str = Field(description="artifact, key_link or truth.")
    label: str
    status: str = Field(description="passed, failed or manual.")
    message: str | None


class Evidence(_Model):
    base: str | None = Field(default=None, description="The commit the files were held against.")
    changed: list[str] = Field(
        default_factory=list, description="Declared files changed since the base."
    )
    unchanged: list[str] = Field(
        default_factory=list, description="Declared files unchanged since the base."
    )


class BaseEntry(_Model):
    commit: str | None = Field(description="The plan's base commit (or empty tree); null: none.")
    label: str | None = Field(default=None, description="How messages name the base.")
    empty: bool | None = Field(default=None, description="The base is the empty tree.")
    reason: str | None = Field(default=None, description="Why the plan has no base.")
    plan_file: str | None = Field(
        default=None, description="The plan file (relative to ROOT) this base is for."
    )


class EnvironmentEntry(_Model):
    os: str
    user: str
    root: bool = Field(description="Running as root (permission checks behave differently).")
    python: str
    programs: dict[str, str | None] = Field(
        description="Each command's program and the path it resolved to (null: not found)."
    )


class ProveEntry(_Model):
    tasks: int = Field(description="Tasks whose checks ran again on the base tree.")
    vacuous: int = Field(description="How many of them passed there too.")
    duration_s: float
    interrupted: bool


class TaskResult(_Model):
    id: str = Field(description="Full task id, PLAN/TASK.")
    plan: str
    name: str
    wave: int
    status: str = Field(
        description="passed, failed, timeout, blocked, manual, unverified, stale, error or not_run."
    )
    claimed: str = Field(description="What the plan says: todo, in_progress, done or blocked.")
    exit_code: int | None
    duration_s: float | None
    reason: str | None = Field(description="Why it did not pass, naming the cause.")
    log: str | None = Field(description="Full output of its commands.")
    started: str | None = None
    finished: str | None = None
    tail: str = Field(default="", description="Last lines of output of a task that did not pass.")
    commands: list[CommandEntry] = Field(default_factory=list)
    checks: list[CheckEntry] = Field(default_factory=list)
    cached: bool | None = Field(default=None, description="A reused pass (inputs unchanged).")
    vacuous: bool | None = Field(default=None, description="Its checks pass without the change.")
    evidence: Evidence | None = None
    false_claim: str | None = Field(
        default=None, description="Claimed done, but none of its declared files changed."
    )
    tree_changes: list[str] = Field(
        default_factory=list, description="Files its checks changed (their pass is no evidence)."
    )
    key: str | None = Field(
        default=None, description="What a pass vouches for: commands, checks and inputs."
    )


class MilestoneEntry(_Model):
    id: str
    name: str
    status: str = Field(description="done, failed, blocked, partial, pending or manual.")
    passed: int
    total: int


class FalseClaim(_Model):
    id: str
    reason: str


class RunDocument(_Document):
    """``planrun execute --json`` (the selected tasks) and ``status --json`` (every task)."""

    status: Literal["passed", "failed", "partial", "interrupted"]
    run_id: str | None
    duration_s: float | None
    tasks: list[TaskResult]
    milestones: list[MilestoneEntry]
    base: str | None = Field(
        default=None, description="The base commit of every plan; null: none, or they differ."
    )
    bases: dict[str, BaseEntry] = Field(default_factory=dict, description="Each plan's base.")
    evidence_unavailable: list[str] = Field(
        default_factory=list, description="Why some plans have no base."
    )
    tree: str | None = Field(
        default=None, description="git write-tree hash of the tested work tree (untracked too)."
    )
    false_claims: list[FalseClaim] = Field(default_factory=list)
    undeclared_changes: list[str] = Field(
        default_factory=list, description="Changed files no task declares."
    )
    environment: EnvironmentEntry | None = None
    prove: ProveEntry | None = Field(default=None, description="What --prove did; null: not run.")


class NextTask(_Model):
    id: str
    plan: str
    name: str
    wave: int
    files: list[str]


class NextDocument(_Document):
    """``planrun next --json``: tasks not passed yet whose dependencies all passed."""

    tasks: list[NextTask]


class SummaryDocument(_Document):
    """What the MCP ``summary`` tool returns: where SUMMARY.md was written, and its text."""

    path: str
    status: str
    markdown: str


DOCUMENTS: dict[str, type[_Document]] = {
    "validate": ValidateDocument,
    "waves": WavesDocument,
    "run": RunDocument,
    "next": NextDocument,
    "summary": SummaryDocument,
}
