"""The files a command leaves behind: SUMMARY.md, JUnit XML and the GitHub step summary.

Each is resolved and checked (folder, permissions, who wrote an existing file, the template)
before anything runs or is recorded, and written afterwards; a file that still fails then is
reported without keeping the others from being written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.errors import PlanError, UsageError
from planrun.render import github, junit
from planrun.results import Report, UnitResult
from planrun.writer import check_append

if TYPE_CHECKING:
    from planrun.results import Report


@dataclass(frozen=True)
class ReportFiles:
    summary: Path | None = None
    template: Path | None = None
    junit: Path | None = None
    root: Path | None = None

    def check(self) -> None:
        """Refuse (PlanError) every output that could not be written, before a run."""
        # planrun.render.summary loads jinja2: imported only when a SUMMARY.md is written.
        if self.template is not None:
            from planrun.render import summary  # noqa: PLC0415 -- loads jinja2

            summary.check_template(self.template)
        if self.summary is not None and self.junit is not None and _same(self.summary, self.junit):
            raise UsageError(f"--junit and the summary are the same file: {self.junit}")
        if self.summary is not None:
            from planrun.render import summary  # noqa: PLC0415 -- loads jinja2

            summary.check_writable(self.summary, self.root)
            step = github.step_summary_path()
            if step is not None:
                check_append(step)
        if self.junit is not None:
            junit.check(self.junit, self.root)

    def write(
        self,
        run: Report,
        results: Sequence[UnitResult],
        report: Report | None,
        note: Callable[[str], None],
    ) -> list[PlanError]:
        """Write every output; return the errors of those that failed."""
        errors: list[PlanError] = []
        if report is not None and self.junit is not None:
            try:
                junit.write_junit(report, self.junit, self.root)
                note(f"wrote {self.junit}")
            except PlanError as exc:
                errors.append(exc)
        if self.summary is not None:
            from planrun.render import summary  # noqa: PLC0415 -- loads jinja2

            try:
                text = summary.render(summary.SummaryInput.of(run, results), self.template)
                summary.write(text, self.summary, self.root)
                note(f"wrote {self.summary}")
                github.append_step_summary(summary.step_summary(text))
            except PlanError as exc:
                errors.append(exc)
        return errors


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()
