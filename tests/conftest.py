from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from planrun import plancache
from planrun.cli import app

# CI-friendly example counts by default; `pytest --hypothesis-profile=long` digs deeper.
# (Tests that pin max_examples in @settings keep their own count.)
settings.register_profile("planrun", max_examples=60, deadline=None)
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile("planrun")


@pytest.fixture(scope="session", autouse=True)
def _user_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The plan cache's per-user signing key goes to a folder of this session, not the real
    ``~/.cache`` (also for the planrun processes tests start: they inherit the variable)."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    plancache._SECRET.clear()  # a key read before this fixture ran is not this session's


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str | Path) -> Run:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback would have reached the user: fail loudly
    return Run(result.exit_code, result.stdout, result.stderr)


def execute(path: Path, *args: str | Path) -> tuple[Run, dict[str, Any]]:
    """``execute --json`` of a plan, rooted at its folder: the run and its JSON document."""
    run = run_cli("execute", path, "--root", path.parent, "--json", "--no-summary", *args)
    assert_no_traceback(run)
    return run, json.loads(run.stdout)


def tasks(doc: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Each task's (status, reason) in a run document."""
    return {t["id"]: (t["status"], t["reason"]) for t in doc["tasks"]}


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.output
    assert "Error:" not in run.output.replace("error:", "")


PlanWriter = Callable[..., Path]


def checks_plan(write_plan: PlanWriter, checks: dict[str, str], shell: str | None = None) -> Path:
    """A plan p.md with a task per check, named by its key, whose one verify item is the
    check (``run:``, on line 6 for the first task, 3 lines more for each after it)."""
    body = ["planrun: 1", *([f"shell: {shell}"] if shell else []), "tasks:"]
    for name, check in checks.items():
        body += [f"  - id: {name}", "    verify:", f"      - run: {json.dumps(check)}"]
    return write_plan("p.md", "\n".join(body))


@pytest.fixture(autouse=True)
def _debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """An internal error raises in tests (a test of the crash handler unsets this)."""
    monkeypatch.setenv("PLANRUN_DEBUG", "1")


@pytest.fixture
def write_plan(tmp_path: Path) -> PlanWriter:
    """Write ``name`` under tmp_path: YAML frontmatter (dedented) wrapped in '---' lines."""

    def write(name: str, frontmatter: str, body: str = "# Plan\n") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n" + textwrap.dedent(frontmatter).strip("\n") + "\n---\n" + body)
        return path

    return write


@pytest.fixture
def cli() -> Callable[..., Run]:
    return run_cli
