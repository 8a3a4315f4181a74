"""GitHub Actions: workflow-command annotations and the job's step summary."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from planrun.results import ERROR, FAILED, TIMEOUT, UnitResult


def active() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _escape(text: str) -> str:
    # Workflow commands take %, CR and LF escaped; properties also ':' and ','.
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


def append_step_summary(text: str) -> Path | None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
    return path
