"""Plan inputs planrun cannot or should not read are refused clearly, without hanging: special
files, huge files, alias bombs, UTF-16; and ids, line endings, links read as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PlanWriter, assert_no_traceback, run_cli

PLAN = "---\nplanrun: 1\ntasks: [{id: a, verify: 'test -f p.md'}]\n---\n"
LAUGHS = "".join(
    f"  {b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
BOMB = (
    "---\nplanrun: 1\ntasks: [{id: a, verify: 'true'}]\nx-extra:\n"
    '  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + LAUGHS + "---\n"
)


def planrun(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A real planrun process: a hang shows as TimeoutExpired, not a stuck test run."""
    return subprocess.run(
        [sys.executable, "-m", "planrun", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_device_given_as_a_plan_is_refused() -> None:
    done = planrun("validate", "/dev/zero")
    assert done.returncode == 1
    assert "/dev/zero: error[special-file] a device, not a regular file: not read as a plan" in (
        done.stdout
    )


def test_a_fifo_in_a_scanned_folder_is_refused_without_hanging(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "ok.md").write_text(PLAN)
    os.mkfifo(tmp_path / "plans" / "x.md")
    for command in (["validate"], ["waves"], ["execute", "--root", tmp_path]):
        done = planrun(*command, tmp_path / "plans")
        assert "x.md: error[special-file] a named pipe (FIFO), not a regular file" in (
            done.stdout + done.stderr
        ), command
        assert done.returncode in (1, 2)


def test_a_plan_over_32_mib_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with big.open("w") as fh:
        fh.write(PLAN)
        fh.truncate(33 * 1024 * 1024)
    run = run_cli("validate", big)
    assert run.exit_code == 1
    assert (
        "error[file-too-large] the file is 33.0 MiB; planrun reads plans of at most 32 MiB"
        in run.output
    )


@pytest.mark.parametrize("command", ["validate", "convert"])
def test_an_alias_bomb_stops_with_a_diagnostic(tmp_path: Path, command: str) -> None:
    (tmp_path / "p.md").write_text(BOMB)
    done = planrun(command, tmp_path / "p.md", timeout=30)
    assert done.returncode == 1
    assert (
        "error[yaml-syntax] the YAML frontmatter does not parse: aliases (*name) expand this "
        "YAML to more than 1000000 nodes; planrun does not expand it\n"
        "    hint: write the repeated values out, or use fewer aliases\n"
    ) in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_ids_are_strings_as_written(write_plan: PlanWriter) -> None:
    plan = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: 01, verify: "true"}
          - {id: 0x1F, depends_on: ["01"], verify: "true"}
          - id: 1.50
            verify: "true"
        """,
    )
    run = run_cli("waves", plan)
    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines()[:5] == [
        "Wave 1 (2 tasks)",
        "  p/01",
        "  p/1.50",
        "Wave 2 (1 task)",
        "  p/0x1F",
    ]


def test_utf16_says_to_save_as_utf8(tmp_path: Path) -> None:
    for name, data in (
        ("bom.md", PLAN.encode("utf-16")),
        ("le.md", PLAN.encode("utf-16-le")),
        ("be.md", PLAN.encode("utf-16-be")),
    ):
        (tmp_path / name).write_bytes(data)
        run = run_cli("validate", tmp_path / name)
        assert run.exit_code == 1
        assert f"{name}: error[not-utf8] UTF-16 is not supported, save as UTF-8" in run.output


def test_cr_only_line_endings_are_read(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_bytes(PLAN.replace("\n", "\r").encode())
    run = run_cli("validate", tmp_path / "p.md")
    assert run.exit_code == 0, run.output
    assert run.stdout.endswith("1 plan, 1 task: no problems found.\n")


def test_a_symlink_loop_is_called_one(tmp_path: Path) -> None:
    (tmp_path / "a.md").symlink_to("b.md")
    (tmp_path / "b.md").symlink_to("a.md")
    run = run_cli("validate", tmp_path / "a.md")
    assert run.exit_code == 2
    assert f"{tmp_path / 'a.md'}: symlink loop" in run.output
    assert_no_traceback(run)


def test_an_empty_artifact_path_is_an_empty_path(write_plan: PlanWriter) -> None:
    plan = write_plan("p.md", 'planrun: 1\ntasks: [{id: a, must_haves: {artifacts: [{path: ""}]}}]')
    run = run_cli("validate", plan)
    assert run.exit_code == 1
    assert (
        "error[invalid-value] tasks[0].must_haves.artifacts[0].path: empty path: name a file "
        "relative to the root"
    ) in run.output


def test_a_folder_scan_follows_a_directory_symlink_loop_once(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    (plans / "sub").mkdir(parents=True)
    (plans / "sub" / "p.md").write_text(PLAN)
    (plans / "sub" / "up").symlink_to("..")
    done = planrun("validate", plans)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith("1 plan, 1 task: no problems found.\n")
