"""The README documents every diagnostic code, and CI runs the README's commands verbatim."""

from __future__ import annotations

import re
from pathlib import Path

from planrun.diagnostics import CODES

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_codes_table_matches_the_code() -> None:
    table = README.split("<!-- codes:start", 1)[1].split("<!-- codes:end -->", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \| (.+) \|$", table, re.MULTILINE)
    assert rows == [(code, sev, desc) for code, (sev, desc) in CODES.items()]


def test_quick_start_has_exactly_two_commands_and_ci_runs_both() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    for command in commands:
        assert command in ci, f"{command!r} is not run verbatim by .ci/run"
