"""Terminal manners: NO_COLOR, plain output off a terminal, --quiet, --verbose, completion."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PlanWriter, run_cli

COLOUR = re.compile(r"\x1b\[[0-9;]*m")
PLAN = (
    "planrun: 1\ntasks:\n  - {id: ok, verify: 'test $PLANRUN_WAVE'}\n"
    "  - {id: bad, verify: 'exit 1'}\n"
)


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "planrun", *args], stdout=child, stderr=child, env=env
    )
    os.close(child)
    out = b""
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    proc.wait(timeout=60)
    os.close(main)
    return out.decode(errors="replace")


def test_no_color_on_a_terminal(tmp_path: Path, write_plan: PlanWriter) -> None:
    plan = write_plan("p.md", PLAN)
    args = ["execute", str(plan), "--root", str(tmp_path), "--no-summary"]
    coloured = _on_a_terminal(args, {**os.environ, "TERM": "xterm", "NO_COLOR": ""})
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    plain = _on_a_terminal(args, {**env, "TERM": "xterm", "NO_COLOR": "1"})
    assert "FAIL" in coloured and "FAIL" in plain
    assert COLOUR.search(coloured)
    assert not COLOUR.search(plain)


def test_off_a_terminal_output_is_plain_lines(tmp_path: Path, write_plan: PlanWriter) -> None:
    plan = write_plan("p.md", PLAN)
    run = run_cli("execute", plan, "--root", tmp_path, "--no-summary")
    assert not COLOUR.search(run.stdout)
    assert run.stdout.splitlines()[0].startswith(("PASS       p/ok", "FAIL       p/bad"))


def test_quiet_and_verbose(tmp_path: Path, write_plan: PlanWriter) -> None:
    plan = write_plan("p.md", PLAN)
    quiet = run_cli("execute", plan, "--root", tmp_path, "--no-summary", "-q")
    assert "PASS" not in quiet.stdout
    assert "FAIL       p/bad" in quiet.stdout
    verbose = run_cli("execute", plan, "--root", tmp_path, "--no-summary", "-v")
    assert "START      p/ok" in verbose.stdout
    clean = write_plan("c.md", "planrun: 1\ntasks:\n  - {id: a, verify: 'test $PLANRUN_WAVE'}\n")
    assert run_cli("validate", "-q", clean).stdout == ""


def test_shell_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without this, typer ignores "bash" and asks shellingham for the shell running pytest,
    # which finds none when pytest's ancestors are not a shell (a background job, some CI).
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    run = run_cli("--show-completion", "bash")
    assert run.exit_code == 0
    assert "complete" in run.stdout and "planrun" in run.stdout
    assert "--install-completion" in run_cli("--help").stdout
