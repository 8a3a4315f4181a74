"""GitHub Actions: workflow-command annotations and the job's step summary."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from planrun import lazyre
from planrun.escape import terminal
from planrun.results import UnitResult
from planrun.statuses import ERROR, FAILED, TIMEOUT, UNVERIFIED
from planrun.writer import append_output


def active() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


# The runner reads a line as a command when, leading whitespace trimmed, it starts with "::"
# (or "##[", the older syntax). Its trim is .NET's: any Unicode space (U+00A0 too), not only
# spaces and tabs.
_COMMAND = lazyre.compile(r"^([^\S\n]*)(::|##\[)", re.MULTILINE)


def neutralize(text: str) -> str:
    """Echoed text whose lines cannot become workflow commands: a backslash before the
    command marker, which the runner does not trim."""
    return _COMMAND.sub(r"\1\\\2", text)


def stop_commands(lines: Sequence[str]) -> list[str]:
    """A block of echoed text between ``::stop-commands::TOKEN`` and ``::TOKEN::``: the
    runner processes no command inside, and the text cannot guess the random token."""
    token = "planrun-" + secrets.token_hex(16)
    return [f"::stop-commands::{token}", *lines, f"::{token}::"]


def _escape(text: str) -> str:
    # Workflow commands take %, CR and LF escaped; properties also ':' and ','.
    text = terminal(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def annotation(kind: str, file: str, line: int | None, message: str) -> str:
    where = f"file={_prop(file)}" + (f",line={line}" if line else "")
    return f"::{kind} {where}::{_escape(message)}"


def failure_annotations(results: Iterable[UnitResult]) -> list[str]:
    """An ::error at the line where each failed task is written."""
    return [
        annotation(
            "error",
            r.unit.plan.source,
            r.unit.line,
            f"{r.unit.id} {r.status}: {r.reason or ''}".rstrip(": "),
        )
        for r in results
        if r.status in (FAILED, TIMEOUT, ERROR)
    ]


SHOWN = 10  # GitHub shows about ten annotations of a kind per step


def evidence_annotations(results: Iterable[UnitResult], evidence: Mapping[str, Any]) -> list[str]:
    """A ::warning where each task is written whose pass is no evidence (vacuous under
    --prove, or its checks changed the tree), and one per changed file no task declares (an
    ::error under --strict-scope, which fails the run)."""
    out = [
        annotation(
            "warning", r.unit.plan.source, r.unit.line, f"{r.unit.id} unverified: {r.reason}"
        )
        for r in results
        if r.status == UNVERIFIED and (r.vacuous or r.tree_changes)
    ]
    undeclared = [str(p) for p in evidence.get("undeclared_changes") or []]
    strict = bool(evidence.get("strict_scope"))
    why = "changed since the base, but no task declares it" + (
        " (--strict-scope fails the run)" if strict else ""
    )
    out += [annotation("error" if strict else "warning", p, None, why) for p in undeclared[:SHOWN]]
    return out


def step_summary_path() -> Path | None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(target) if target and active() else None


def append_step_summary(text: str) -> Path | None:
    path = step_summary_path()
    if path is not None:
        append_output(path, text)
    return path
