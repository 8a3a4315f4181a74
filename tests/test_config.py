"""[tool.planrun] / planrun.toml: found from the current folder up; flags override it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PlanWriter, run_cli
from planrun.config import Config, load_config

PLAN = "planrun: 1\ntasks:\n  - {id: a, verify: 'sleep 0.01; test -n \"$PLANRUN_TASK\"'}\n"


def test_no_configuration(tmp_path: Path) -> None:
    assert load_config(tmp_path) == Config()


def test_pyproject_section_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.planrun]\npath = "work/plans"\njobs = 3\n'
        'timeout = 90\nsummary = "reports/SUMMARY.md"\nformat = "gsd"\nshell = "sh"\n'
    )
    (tmp_path / "deep" / "er").mkdir(parents=True)
    config = load_config(tmp_path / "deep" / "er")
    assert config.path == ("work/plans",)
    assert (config.jobs, config.timeout, config.format, config.shell) == (3, 90, "gsd", "sh")
    assert config.resolve(config.summary) == tmp_path / "reports" / "SUMMARY.md"


def test_planrun_toml_wins_over_pyproject_in_one_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.planrun]\njobs = 3\n")
    (tmp_path / "planrun.toml").write_text('jobs = 5\npath = ["a", "b"]\n')
    config = load_config(tmp_path)
    assert config.jobs == 5
    assert config.path == ("a", "b")


def test_pyproject_without_the_section_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.planrun]\njobs = 4\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path / "sub").jobs == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool.planrun]\njbos = 2\n",
            'unknown setting "jbos" in [tool.planrun] (did you mean "jobs"?)',
        ),
        ("[tool.planrun]\njobs = 'two'\n", "setting \"jobs\" must be int, got 'two'"),
        ("[tool.planrun]\njobs = 0\n", 'setting "jobs" must be at least 1, got 0'),
        ("[tool.planrun]\npath = [1]\n", 'setting "path" must be a string or list of strings'),
        ("[tool.planrun\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    run = run_cli("validate")
    assert run.exit_code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_precedence_flags_over_file_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_plan: PlanWriter
) -> None:
    write_plan("work/p.md", PLAN)
    (tmp_path / "planrun.toml").write_text(
        'path = "work"\njobs = 1\nsummary = "out/S.md"\ntimeout = 0.001\n'
    )
    monkeypatch.chdir(tmp_path)
    # The file's path, summary and (too short) timeout apply when no flag is given ...
    run = run_cli("execute", "--root", tmp_path, "--json")
    doc = json.loads(run.stdout)
    assert doc["tasks"][0]["id"] == "p/a"
    assert doc["tasks"][0]["status"] == "timeout"
    assert (tmp_path / "out" / "S.md").is_file()
    # ... and flags win over it.
    run = run_cli(
        "execute",
        "work/p.md",
        "--root",
        tmp_path,
        "--json",
        "--timeout",
        "30",
        "--summary",
        "elsewhere.md",
    )
    assert json.loads(run.stdout)["tasks"][0]["status"] == "passed"
    assert (tmp_path / "elsewhere.md").is_file()


def test_configured_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_plan: PlanWriter
) -> None:
    write_plan("p.md", "planrun: 1\ntasks:\n  - {id: a, verify: 'test -z \"$BASH_VERSION\"'}\n")
    (tmp_path / "planrun.toml").write_text('shell = "sh"\n')
    monkeypatch.chdir(tmp_path)
    run = run_cli("execute", "p.md", "--root", tmp_path, "--no-summary")
    assert run.exit_code == 0, run.output
    (tmp_path / "planrun.toml").write_text('shell = "no-such-shell"\n')
    bad = run_cli("execute", "p.md", "--root", tmp_path, "--no-summary")
    assert bad.exit_code == 2
    assert 'the configured shell "no-such-shell" was not found on PATH' in bad.stderr
