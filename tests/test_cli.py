from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import PlanWriter, run_cli
from planrun import __version__, cli

REPO = Path(__file__).resolve().parents[1]


def test_version() -> None:
    run = run_cli("--version")
    assert run.exit_code == 0
    assert run.stdout == f"planrun {__version__}\n"


def test_validate_json_document(write_plan: PlanWriter) -> None:
    path = write_plan(
        "fix.md", "planrun: 1\ntasks:\n  - {id: t, depends_on: [buidl], verify: make}\n"
    )
    run = run_cli("validate", "--json", path)
    assert run.exit_code == 1
    doc = json.loads(run.stdout)
    assert doc == {
        "schema_version": 1,
        "ok": False,
        "plans": [{"id": "fix", "source": str(path), "format": "planrun", "tasks": 1}],
        "diagnostics": [
            {
                "code": "format",
                "severity": "info",
                "file": str(path),
                "line": None,
                "message": "read as a planrun plan",
                "hint": None,
            },
            {
                "code": "unknown-dependency",
                "severity": "error",
                "file": str(path),
                "line": 4,
                "message": 'task "t" depends on "buidl", which does not exist',
                "hint": None,
            },
        ],
    }


def test_strict_turns_warnings_into_failure(write_plan: PlanWriter) -> None:
    path = write_plan("p.md", "planrun: 1\ntasks:\n  - {id: a}\n")
    assert run_cli("validate", path).exit_code == 0
    strict = run_cli("validate", "--strict", path)
    assert strict.exit_code == 1
    assert json.loads(run_cli("validate", "--strict", "--json", path).stdout)["ok"] is False


def test_info_diagnostics_need_verbose(tmp_path: Path, write_plan: PlanWriter) -> None:
    write_plan("f/p.md", "planrun: 1\ntasks:\n  - {id: a, verify: 'test -f p.md'}\n")
    (tmp_path / "f" / "README.md").write_text("# notes\n")
    quiet = run_cli("validate", tmp_path / "f")
    assert quiet.exit_code == 0
    assert quiet.stdout == "1 plan, 1 task: no problems found.\n"
    loud = run_cli("validate", "-v", tmp_path / "f")
    assert f"{tmp_path / 'f' / 'README.md'}: info[not-a-plan]" in loud.stdout


def test_github_annotations(write_plan: PlanWriter, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_plan("p.md", "planrun: 1\ntasks:\n  - {id: a, depends_on: [b], verify: x}\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = run_cli("validate", "--json", path)
    assert (
        f'::error file={path},line=4::[unknown-dependency] task "a" depends on "b", which does '
        "not exist\n" in run.stderr
    )
    json.loads(run.stdout)  # stdout still holds only the document


def test_invalid_plan_is_annotated_by_execute_under_github_actions(
    write_plan: PlanWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_plan("p.md", "planrun: 1\ntasks:\n  - {id: a, depends_on: [a], verify: x}\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = run_cli("execute", path, "--root", path.parent)
    assert run.exit_code == 2
    assert f'::error file={path},line=4::[self-dependency] task "a" depends on itself' in (
        run.stderr
    )


def test_unknown_format_is_a_usage_error(write_plan: PlanWriter) -> None:
    path = write_plan("p.md", "planrun: 1\n")
    run = run_cli("validate", "--format", "planrn", path)
    assert run.exit_code == 2
    assert 'unknown format "planrn" (did you mean "planrun"?)' in run.stderr


def test_schema_validates_every_bundled_plan() -> None:
    run = run_cli("schema")
    assert run.exit_code == 0
    schema = json.loads(run.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    from planrun.document import Document
    from planrun.validate import validate_paths

    plans = [Path(p.source) for p in validate_paths([REPO / "plans"]).plans]
    assert len(plans) >= 3
    for path in plans:
        data = Document.read(path).frontmatter.data
        errors = [e.message for e in validator.iter_errors(json.loads(json.dumps(data)))]
        assert errors == [], path


def test_schema_rejects_what_validate_rejects() -> None:
    schema = json.loads(run_cli("schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({"planrun": 1, "tasks": [{"id": "a", "verifyy": "x"}]})
    assert not validator.is_valid({"tasks": []})
    assert validator.is_valid({"planrun": 1, "tasks": [{"id": "a", "verify": "make"}]})


def test_new_writes_a_plan_that_validates_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("# project\n")
    run = run_cli("new", "fix-login")
    assert run.exit_code == 0
    assert run.stdout.startswith("created plans/fix-login.md\n")
    # The command the plan's own comment gives works from here.
    written = (tmp_path / "plans" / "fix-login.md").read_text()
    assert "Validate it with `planrun validate plans/fix-login.md`;" in written
    assert "check the work with `planrun execute plans/fix-login.md`." in written
    check = run_cli("validate", "--strict", "plans/fix-login.md")
    assert check.exit_code == 0, check.stdout
    # Its first check fails until the step is done, then passes.
    first = run_cli("execute", "plans/fix-login.md", "--task", "inspect", "--no-summary")
    assert first.exit_code == 1, first.stdout
    assert first.stdout.startswith("FAIL       fix-login/inspect  "), first.stdout
    (tmp_path / "NOTES.md").write_text("the login fails on empty passwords\n")
    first = run_cli("execute", "plans/fix-login.md", "--task", "inspect", "--no-summary")
    assert first.exit_code == 0, first.stdout
    assert first.stdout.startswith("PASS       fix-login/inspect  "), first.stdout
    again = run_cli("new", "fix-login")
    assert again.exit_code == 2
    assert again.stderr.startswith(
        "planrun: error: plans/fix-login.md already exists; planrun new never overwrites a file"
    )


def test_new_names_an_odd_folder_only_by_the_file(tmp_path: Path) -> None:
    odd = tmp_path / "a\nid: forged"
    run = run_cli("new", "p", "--dir", str(odd))
    assert run.exit_code == 0, run.output
    text = (odd / "p.md").read_text()
    assert "Validate it with `planrun validate p.md`;" in text
    assert "\nid: forged" not in text
    assert run_cli("validate", "--strict", str(odd / "p.md")).exit_code == 0


def test_new_rejects_a_bad_name(tmp_path: Path) -> None:
    run = run_cli("new", "../escape", "--dir", str(tmp_path))
    assert run.exit_code == 2
    assert "is not a valid plan name" in run.stderr


def test_bundled_plans_validate_clean() -> None:
    run = run_cli("validate", "--strict", REPO / "plans")
    assert run.exit_code == 0, run.stdout


def test_installed_console_script() -> None:
    # Once through the real entry point, as a user would run it.
    exe = shutil.which("planrun", path=str(Path(sys.executable).parent)) or shutil.which("planrun")
    assert exe, "the planrun console script is not installed"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout == f"planrun {__version__}\n"
    module = subprocess.run(
        [sys.executable, "-m", "planrun", "validate", str(REPO / "plans" / "no-such.md")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 2
    assert "no such file or directory" in module.stderr
    assert "Traceback" not in module.stderr


def test_an_output_encoding_that_cannot_show_plan_text_escapes_it(write_plan: PlanWriter) -> None:
    # Once through the real entry point: a task's name and a two-line script (shown with ⏎)
    # on a stdout that only speaks ASCII are escaped, not a crash.
    plan = write_plan(
        "p.md",
        "planrun: 1\nid: d\ntasks:\n  - id: a\n    name: café\n"
        "    verify: |\n      ! grep -q x plan.md\n      echo done\n",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "planrun", "execute", str(plan), "--root", str(plan.parent)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"},
    )
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "UNVERIFIED d/a" in proc.stdout
    assert "\\u23ce" in proc.stdout


@pytest.mark.parametrize("command", ["execute", "status", "next", "waves"])
def test_json_on_an_invalid_plan_is_still_one_document_on_stdout(
    write_plan: PlanWriter, command: str
) -> None:
    # An agent piping `--json` into a parser learns why there is no result.
    path = write_plan(
        "p.md",
        "planrun: 1\ntasks:\n  - {id: a, depends_on: [b], verify: x}\n"
        "  - {id: b, depends_on: [a], verify: x}\n",
    )
    run = run_cli(command, path, "--json")
    assert run.exit_code in (1, 2)
    doc = json.loads(run.stdout)
    assert doc["ok"] is False
    assert doc["error"]["exit_code"] == run.exit_code
    assert [d["code"] for d in doc["diagnostics"]] == ["cycle"]
    assert "dependency cycle" in run.stderr  # the text stays on stderr


def test_json_on_a_missing_path_names_the_error(tmp_path: Path) -> None:
    run = run_cli("execute", tmp_path / "nothere.md", "--json")
    assert run.exit_code == 2
    doc = json.loads(run.stdout)
    assert doc["error"]["message"] == f"{tmp_path / 'nothere.md'}: no such file or directory"
    assert doc["diagnostics"] == []


@pytest.mark.parametrize("name", list(cli._COMMANDS))
def test_the_app_of_one_command_helps_and_fails_as_the_whole_app(name: str) -> None:
    # main() runs a named command in an app holding that command only (typer builds every
    # registered command before parsing); what a user sees must not change.
    one = cli._app_for(["planrun", name])
    assert one is not cli.app
    for args in ([name, "--help"], [name, "--no-such-option"], [name, "-h"]):
        got = CliRunner().invoke(one, args, prog_name="planrun")
        want = CliRunner().invoke(cli.app, args, prog_name="planrun")
        assert (got.exit_code, got.output) == (want.exit_code, want.output)


@pytest.mark.parametrize("argv", [[], ["--version"], ["--help"], ["nex"], ["Next"]])
def test_anything_but_a_command_name_gets_the_whole_app(argv: list[str]) -> None:
    assert cli._app_for(["planrun", *argv]) is cli.app


def test_shell_completion_gets_the_whole_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_PLANRUN_COMPLETE", "complete_bash")
    assert cli._app_for(["planrun", "next"]) is cli.app
