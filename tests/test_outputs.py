"""Output paths: one error boundary, one write policy, unwritable places (issues 15 and 16)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import frontmatter
import pytest

from conftest import PlanWriter, assert_no_traceback, run_cli
from planrun.errors import OutputError, RefusedError
from planrun.writer import write_output

PLAN = "planrun: 1\ntasks:\n  - {id: ok, verify: 'test -d .'}\n  - {id: bad, verify: 'exit 1'}\n"


def _plan(write_plan: PlanWriter) -> Path:
    return write_plan("plans/p.md", PLAN)


def _nothing_ran(root: Path) -> None:
    """No run was recorded: no state, or a state without a single run row."""
    db = root / ".planrun" / "state.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)


# --- issue 15 #1: every output path, template and shell checked before anything runs ---


@pytest.mark.parametrize("option", ["--junit", "--summary"])
def test_execute_output_under_a_file_is_refused_before_running(
    write_plan: PlanWriter, tmp_path: Path, option: str
) -> None:
    plan = _plan(write_plan)
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    run = run_cli("execute", plan, "--root", tmp_path, option, afile / "out")
    assert_no_traceback(run)
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == (
        f"planrun: error: cannot write {afile / 'out'}: {afile} is not a folder"
    )
    hint = "    hint: write the summary elsewhere with --summary FILE, or skip it with --no-summary"
    assert run.stderr.splitlines()[1:] == ([hint] if option == "--summary" else [])
    assert run.stdout == ""
    assert not (tmp_path / ".planrun").exists()


def test_convert_output_under_a_file(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = _plan(write_plan)
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    run = run_cli("convert", plan, "-o", afile / "out.md")
    assert_no_traceback(run)
    assert run.exit_code == 2
    assert run.stderr == (
        f"planrun: error: cannot write {afile / 'out.md'}: {afile} is not a folder\n"
    )


def test_missing_template_is_refused_before_running(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = _plan(write_plan)
    missing = tmp_path / "missing.j2"
    run = run_cli("execute", plan, "--root", tmp_path, "--template", missing)
    assert run.exit_code == 2
    assert run.stderr == (
        f"planrun: error: the template {missing} does not exist (or is not a file)\n"
    )
    assert not (tmp_path / ".planrun").exists()
    broken = tmp_path / "broken.j2"
    broken.write_text("{% for x in %}\n")
    run = run_cli("execute", plan, "--root", tmp_path, "--template", broken)
    assert run.exit_code == 2
    assert run.stderr.startswith(f"planrun: error: cannot render {broken}:1: ")
    assert not (tmp_path / ".planrun").exists()


def test_missing_shell_leaves_no_run_recorded(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(write_plan)
    (tmp_path / "planrun.toml").write_text('shell = "nosuchshell"\n')
    monkeypatch.chdir(tmp_path)
    run = run_cli("execute", plan, "--root", tmp_path)
    assert run.exit_code == 2
    assert run.stderr == (
        'planrun: error: the configured shell "nosuchshell" was not found on PATH\n'
    )
    _nothing_ran(tmp_path)


# --- the last-resort handler: exit 3, one line, a crash log ---


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom: an internal bug")


def test_internal_error_is_one_line_and_a_crash_log(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(write_plan)
    monkeypatch.delenv("PLANRUN_DEBUG")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("planrun.validate.validate_paths", _boom)
    run = run_cli("validate", plan)
    assert run.exit_code == 3
    assert run.stdout == ""
    assert run.stderr == (
        "planrun hit an internal error; details in .planrun/crash.log — please report it\n"
    )
    log = (tmp_path / ".planrun" / "crash.log").read_text()
    assert log.startswith("planrun 0.")
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: boom: an internal bug" in log
    assert (tmp_path / ".planrun" / ".gitignore").read_text() == "*\n"


def test_crash_log_goes_to_a_temporary_file_when_planrun_cannot_write_here(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(write_plan)
    work = tmp_path / "work"
    work.mkdir()
    (work / ".planrun").write_text("a file where the folder would be\n")
    monkeypatch.delenv("PLANRUN_DEBUG")
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr("planrun.validate.validate_paths", _boom)
    run = run_cli("validate", plan)
    assert run.exit_code == 3
    [log] = tmp_path.glob("planrun-crash-*.log")
    assert run.stderr == (f"planrun hit an internal error; details in {log} — please report it\n")
    assert "RuntimeError: boom" in log.read_text()


def test_planrun_debug_lets_the_exception_through(
    write_plan: PlanWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(write_plan)
    monkeypatch.setattr("planrun.validate.validate_paths", _boom)
    with pytest.raises(RuntimeError, match="boom"):
        run_cli("validate", plan)


# --- issue 15 #2: one write policy ---


def _summary_text() -> str:
    return "---\ngenerator: planrun\nstatus: passed\n---\n\n# ✅ PASSED\n"


def test_write_output_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "SUMMARY.md"
    target.write_text(_summary_text())
    target.chmod(0o640)
    write_output(target, _summary_text() + "more\n", overwrite="planrun", root=tmp_path)
    assert target.read_text().endswith("more\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SUMMARY.md"]  # no temporary left


def test_write_output_never_overwrites_when_told(tmp_path: Path) -> None:
    target = tmp_path / "plan.md"
    target.write_text("mine\n")
    with pytest.raises(RefusedError, match="already exists; planrun never overwrites it"):
        write_output(target, "new\n", overwrite="never")
    assert target.read_text() == "mine\n"


def test_symlinks_are_written_through_only_inside_root_to_planrun_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ours = root / "real.md"
    ours.write_text(_summary_text())
    inside = root / "SUMMARY.md"
    inside.symlink_to(ours)
    write_output(inside, _summary_text() + "again\n", overwrite="planrun", root=root)
    assert inside.is_symlink()
    assert ours.read_text().endswith("again\n")

    outside = tmp_path / "outside.md"
    outside.write_text(_summary_text())
    link = root / "OUT.md"
    link.symlink_to(outside)
    with pytest.raises(RefusedError, match=r"is a symbolic link to .*outside ROOT"):
        write_output(link, "x\n", overwrite="planrun", root=root)
    assert outside.read_text() == _summary_text()

    theirs = root / "notes.md"
    theirs.write_text("# notes\n")
    (root / "N.md").symlink_to(theirs)
    with pytest.raises(RefusedError, match="was not written by planrun"):
        write_output(root / "N.md", "x\n", overwrite="planrun", root=root)
    dangling = root / "D.md"
    dangling.symlink_to(root / "nowhere.md")
    with pytest.raises(RefusedError, match="symbolic link to nothing"):
        write_output(dangling, "x\n", overwrite="planrun", root=root)
    assert dangling.is_symlink()


def test_write_errors_are_output_errors(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=f"cannot write {tmp_path}: it is a folder"):
        write_output(tmp_path, "x", overwrite="planrun")
    with pytest.raises(OutputError, match="cannot write /dev/full: it is not a regular file"):
        write_output(Path("/dev/full"), "x", overwrite="planrun")


def test_junit_never_overwrites_a_plan(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = _plan(write_plan)
    before = plan.read_text()
    run = run_cli("execute", plan, "--root", tmp_path, "--junit", plan)
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        (
            f"planrun: error: {plan} exists and was not written by planrun (no 'generator: "
            "planrun' in its frontmatter); it was left untouched"
        ),
        "    hint: choose another --junit FILE (planrun replaces only a JUnit file it wrote)",
    ]
    assert plan.read_text() == before
    assert not (tmp_path / ".planrun").exists()
    # A JUnit file planrun wrote is replaced by the next run.
    out = tmp_path / "junit.xml"
    assert run_cli("execute", plan, "--root", tmp_path, "--junit", out).exit_code == 1
    assert run_cli("execute", plan, "--root", tmp_path, "--junit", out).exit_code == 1
    assert out.read_text().splitlines()[1] == "<!-- generator: planrun -->"


def test_export_never_overwrites_a_file_it_did_not_write(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = _plan(write_plan)
    workflow = tmp_path / "ci.yml"
    workflow.write_text("name: mine\n")
    run = run_cli("export", "github-actions", plan, "-o", workflow)
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == (
        f"planrun: error: {workflow} exists and was not written by planrun (no planrun marker "
        "in its first lines); it was left untouched"
    )
    assert workflow.read_text() == "name: mine\n"
    workflow.unlink()
    assert run_cli("export", "github-actions", plan, "-o", workflow).exit_code == 0
    assert run_cli("export", "github-actions", plan, "-o", workflow).exit_code == 0


# --- issue 16 section 2: a SUMMARY.md a person edited is left alone ---


def test_an_edited_summary_is_not_overwritten(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = _plan(write_plan)
    summary = tmp_path / "plans" / "SUMMARY.md"
    assert run_cli("execute", plan, "--root", tmp_path).exit_code == 1
    meta = frontmatter.loads(summary.read_text()).metadata
    assert len(meta["body_sha256"]) == 64
    assert run_cli("execute", plan, "--root", tmp_path).exit_code == 1  # unedited: replaced
    summary.write_text(summary.read_text() + "\nMy notes on the failure.\n")
    edited = summary.read_text()
    run = run_cli("execute", plan, "--root", tmp_path)
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        (
            f"planrun: error: {summary} was written by planrun but edited since (its body no "
            "longer matches the digest in its frontmatter); it was left untouched"
        ),
        "    hint: write the summary elsewhere with --summary FILE, or skip it with --no-summary",
    ]
    assert summary.read_text() == edited
    again = run_cli("summary", plan, "--root", tmp_path)
    assert again.exit_code == 2
    assert summary.read_text() == edited


# --- issue 16 section 2: unwritable places ---


def test_root_where_planrun_cannot_create_its_folder(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = _plan(write_plan)
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    run = run_cli("execute", plan, "--root", afile, "--no-summary")
    assert_no_traceback(run)
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        f"planrun: error: --root {afile}: not a folder",
        "    hint: give an existing folder",
    ]


def test_unwritable_log_folder_refuses_before_recording_a_run(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = _plan(write_plan)
    (tmp_path / ".planrun").mkdir()
    (tmp_path / ".planrun" / "logs").write_text("a file where the folder would be\n")
    run = run_cli("execute", plan, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 2
    first = run.stderr.splitlines()[0]
    assert first.startswith(
        f"planrun: error: cannot create the log folder {tmp_path / '.planrun' / 'logs'}/"
    )
    assert first.endswith(": Not a directory")
    _nothing_ran(tmp_path)


def test_unwritable_step_summary_is_refused_before_running(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(write_plan)
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(afile / "step.md"))
    run = run_cli("execute", plan, "--root", tmp_path)
    assert run.exit_code == 2
    assert run.stderr == (
        f"planrun: error: cannot write {afile / 'step.md'}: {afile} is not a folder\n"
    )
    assert not (tmp_path / ".planrun").exists()


def _planrun(*args: str | Path, stdout: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PLANRUN_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "planrun", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=120,
    )


def test_status_to_a_full_disk(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = _plan(write_plan)
    run_cli("execute", plan, "--root", tmp_path, "--no-summary")
    with Path("/dev/full").open("w") as full:
        done = _planrun("status", plan, "--root", tmp_path, stdout=full.fileno(), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "planrun: error: cannot write to standard output: No space left on device\n"
    )


def test_next_into_a_closed_pipe(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = _plan(write_plan)
    read, write = os.pipe()
    os.close(read)  # like `| head -0`: nobody reads
    try:
        done = _planrun("next", plan, "--root", tmp_path, stdout=write, cwd=tmp_path)
    finally:
        os.close(write)
    assert done.returncode == 2
    assert done.stderr == "planrun: error: cannot write to standard output: Broken pipe\n"


def test_execute_to_a_full_disk_records_every_result(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = _plan(write_plan)
    with Path("/dev/full").open("w") as full:
        done = _planrun("execute", plan, "--root", tmp_path, stdout=full.fileno(), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"wrote {tmp_path / 'plans' / 'SUMMARY.md'}",
        "planrun: error: cannot write to standard output: No space left on device",
    ]
    status = json.loads(run_cli("status", plan, "--root", tmp_path, "--json").stdout)
    assert {t["id"]: t["status"] for t in status["tasks"]} == {"p/ok": "passed", "p/bad": "failed"}


def _can_mount_read_only() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", "mount --bind -o ro / / 2>/dev/null || exit 1; true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def test_status_next_summary_work_on_a_read_only_disk(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    if not _can_mount_read_only():
        pytest.skip("needs a mount namespace (unshare -m, as root) to make a read-only disk")
    plan = _plan(write_plan)
    assert run_cli("execute", plan, "--root", tmp_path, "--no-summary").exit_code == 1
    out = tmp_path.parent / f"{tmp_path.name}-out" / "SUMMARY.md"
    script = (
        f"mount --bind -o ro {tmp_path} {tmp_path} && "
        f"{sys.executable} -m planrun status {plan} --root {tmp_path} && "
        f"{sys.executable} -m planrun next {plan} --root {tmp_path} && "
        f"{sys.executable} -m planrun summary {plan} --root {tmp_path} -o {out}"
    )
    env = {k: v for k, v in os.environ.items() if k != "PLANRUN_DEBUG"}
    done = subprocess.run(
        [str(shutil.which("unshare")), "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "FAIL       p/bad" in done.stdout
    assert done.stdout.endswith("p/bad  wave 1  bad\n")
    assert "❌ FAILED" in out.read_text()


def test_a_log_that_cannot_be_written_fails_no_run(write_plan: PlanWriter, tmp_path: Path) -> None:
    # The first task puts a file where the plan's log folder would go; the second one's
    # output can then not be logged: it is still judged, recorded and shown.
    plan = write_plan(
        "plans/p.md",
        """
        planrun: 1
        tasks:
          - {id: a, verify: 'touch "$PLANRUN_ROOT/.planrun/logs/$PLANRUN_RUN_ID/p"'}
          - {id: b, depends_on: [a], verify: "echo still here; exit 1"}
          - {id: c, depends_on: [a], verify: "echo fine && test -d ."}
        """,
    )
    run = run_cli("execute", plan, "--root", tmp_path, "--json", "--no-summary")
    assert run.exit_code == 1
    tasks = {t["id"]: t for t in json.loads(run.stdout)["tasks"]}
    assert {k: t["status"] for k, t in tasks.items()} == {
        "p/a": "passed",
        "p/b": "failed",
        "p/c": "passed",
    }
    logs = tmp_path / ".planrun" / "logs"
    [run_folder] = logs.iterdir()
    assert tasks["p/b"]["tail"].splitlines() == [
        f"[planrun: cannot write the log {run_folder / 'p' / 'b.log'}: File exists]",
        "$ echo still here; exit 1",
        "still here",
    ]
    assert tasks["p/b"]["log"] is None


def test_an_output_failing_after_the_run_keeps_results_and_other_outputs(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    # The task itself puts a folder where SUMMARY.md goes, after the check before the run.
    plan = write_plan(
        "plans/p.md",
        "planrun: 1\ntasks:\n  - {id: a, verify: 'mkdir \"$PLANRUN_ROOT/plans/SUMMARY.md\"'}\n",
    )
    junit = tmp_path / "junit.xml"
    run = run_cli("execute", plan, "--root", tmp_path, "--junit", junit)
    assert run.exit_code == 2
    summary = tmp_path / "plans" / "SUMMARY.md"
    assert run.stderr.splitlines() == [
        f"wrote {junit}",
        f"planrun: error: cannot write {summary}: it is a folder",
        "    hint: write the summary elsewhere with --summary FILE, or skip it with --no-summary",
    ]
    assert junit.read_text().splitlines()[1] == "<!-- generator: planrun -->"
    status = json.loads(run_cli("status", plan, "--root", tmp_path, "--json").stdout)
    assert status["status"] == "passed"


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_outside_a_run_exits_130(
    write_plan: PlanWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(write_plan)
    monkeypatch.setattr("planrun.validate.validate_paths", _interrupt)
    run = run_cli("validate", plan)
    assert run.exit_code == 130
    assert run.stderr == "planrun: interrupted\n"


def test_execute_json_into_a_closed_pipe_still_writes_the_summary(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = _plan(write_plan)
    read, write = os.pipe()
    os.close(read)
    try:
        done = _planrun("execute", plan, "--root", tmp_path, "--json", stdout=write, cwd=tmp_path)
    finally:
        os.close(write)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-2:] == [
        f"wrote {tmp_path / 'plans' / 'SUMMARY.md'}",
        "planrun: error: cannot write to standard output: Broken pipe",
    ]
    assert "❌ FAILED" in (tmp_path / "plans" / "SUMMARY.md").read_text()
