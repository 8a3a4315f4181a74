"""must_haves checks are bounded: hostile patterns time out and stay interruptible, only regular
files are read, and large files are counted exactly or refused clearly (never truncated)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from planrun.model import Artifact, KeyLink
from planrun.musthaves import check_artifact, check_key_link
from planrun.rootfiles import Budget
from test_proc import wait_for

HOSTILE = "(a+)+$"


def art(**kw: object) -> Artifact:
    return Artifact.model_validate(kw)


def link(**kw: object) -> KeyLink:
    return KeyLink.model_validate(kw)


def test_catastrophic_pattern_fails_after_the_task_timeout(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("a" * 50_000 + "!")
    result = check_key_link(
        link(**{"from": "big.txt", "to": "x", "pattern": HOSTILE}), tmp_path, Budget.of(0.5)
    )
    assert result.ok is False
    assert result.message == "pattern /(a+)+$/ took longer than 0.5 s in big.txt"


def test_catastrophic_pattern_through_execute_is_recorded_as_failed(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("a" * 50_000 + "!")
    plan = tmp_path / "p.md"
    plan.write_text(
        "---\nplanrun: 1\ntimeout: 1\ntasks:\n  - id: t\n    must_haves:\n      key_links:\n"
        f"        - {{from: big.txt, to: x, pattern: '{HOSTILE}'}}\n---\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "planrun", "execute", plan, "--root", tmp_path, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    task = json.loads(done.stdout)["tasks"][0]
    assert task["status"] == "failed"
    assert task["reason"] == "pattern /(a+)+$/ took longer than 1 s in big.txt"


def test_a_command_cannot_pass_its_timeout_while_another_tasks_pattern_runs(
    tmp_path: Path,
) -> None:
    """planrun matches patterns itself; meanwhile the other tasks' commands are still tended,
    so one that outlives its timeout is a timeout, not a pass seen too late."""
    (tmp_path / "big.txt").write_text("a" * 50_000 + "!")
    plan = tmp_path / "p.md"
    plan.write_text(
        "---\nplanrun: 1\ntasks:\n"
        "  - id: slow\n    timeout: 1\n"
        "    verify: touch started; while [ ! -e checking ]; do sleep 0.01; done; sleep 2\n"
        "  - id: pattern\n    timeout: 6\n"
        "    verify: while [ ! -e started ]; do sleep 0.01; done; touch checking\n"
        "    must_haves:\n      key_links:\n"
        f"        - {{from: big.txt, to: x, pattern: '{HOSTILE}'}}\n---\n"
    )
    args = ["execute", plan, "--root", tmp_path, "-j", "2", "--json", "--no-summary"]
    done = subprocess.run(
        [sys.executable, "-m", "planrun", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    tasks = {t["id"]: t for t in json.loads(done.stdout)["tasks"]}
    assert tasks["p/pattern"]["reason"] == "pattern /(a+)+$/ took longer than 6 s in big.txt"
    assert tasks["p/slow"]["status"] == "timeout"


def test_sigint_interrupts_a_pattern_being_matched(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("a" * 50_000 + "!")
    marker = tmp_path / "ready"
    plan = tmp_path / "p.md"
    plan.write_text(
        "---\nplanrun: 1\ntimeout: 600\ntasks:\n  - id: t\n"
        f"    verify: 'echo up > {marker}'\n"
        "    must_haves:\n      key_links:\n"
        f"        - {{from: big.txt, to: x, pattern: '{HOSTILE}'}}\n---\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "planrun", "execute", plan, "--root", tmp_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(marker)
    proc.send_signal(signal.SIGINT)
    # Without the interruptible engine this waits for the 600 s budget.
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert out.splitlines()[-1].startswith("INTERRUPTED: 1 not run in ")


def test_a_fifo_artifact_is_a_failed_check_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    for kw in ({"contains": "x"}, {"min_lines": 1}, {}):
        result = check_artifact(art(path="pipe", **kw), tmp_path)
        assert result.ok is False
        assert result.message == "pipe is a named pipe (FIFO), not a regular file; it was not read"
    linked = check_key_link(link(**{"from": "pipe", "to": "x"}), tmp_path)
    assert linked.message == "pipe is a named pipe (FIFO), not a regular file; it was not read"


def test_a_socket_artifact_is_a_failed_check(tmp_path: Path) -> None:
    here = Path.cwd()
    os.chdir(tmp_path)  # a socket path must be short; bind relative to the folder
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind("sock")
            result = check_artifact(art(path="sock", contains="x"), tmp_path)
    finally:
        os.chdir(here)
    assert result.message == "sock is a socket, not a regular file; it was not read"


def test_a_device_reached_through_the_root_is_refused(tmp_path: Path) -> None:
    root = Path("/dev")
    result = check_artifact(art(path="zero", contains="x"), root)
    assert result.message == "zero is a device, not a regular file; it was not read"


def test_lines_are_counted_past_64_mib_exactly(tmp_path: Path) -> None:
    line = b"x" * 99 + b"\n"
    with (tmp_path / "huge.txt").open("wb") as fh:
        for _ in range(7):
            fh.write(line * 100_000)
        fh.write(b"last line without a newline")
    assert (tmp_path / "huge.txt").stat().st_size > 64 * 1024 * 1024
    counted = check_artifact(art(path="huge.txt", min_lines=700_001), tmp_path)
    assert counted.ok is True
    assert counted.message == "huge.txt exists, 700001 lines"
    searched = check_artifact(art(path="huge.txt", contains="needle"), tmp_path)
    assert searched.ok is False
    assert searched.message == (
        "huge.txt is larger than 64 MiB, the most planrun reads to search; it was not checked"
    )


@pytest.mark.parametrize(
    ("content", "lines"), [(b"a\rb\rc", 3), (b"a\r\nb\r\n", 2), (b"", 0), (b"a\n\nb", 3)]
)
def test_line_endings_are_counted_as_an_editor_does(
    tmp_path: Path, content: bytes, lines: int
) -> None:
    (tmp_path / "f.txt").write_bytes(content)
    result = check_artifact(art(path="f.txt", min_lines=lines + 1), tmp_path)
    assert result.message == f"f.txt has {lines} lines, needs at least {lines + 1}"


def test_a_file_name_too_long_fails_its_check(tmp_path: Path) -> None:
    # validate refuses such a path; the check must still fail cleanly if one reaches it
    long = Artifact.model_construct(path="x" * 300, contains="y", exports=[], min_lines=None)
    result = check_artifact(long, tmp_path)
    assert result.ok is False
    assert result.message == f"{'x' * 300} cannot be read: file name too long"


def test_a_symlink_loop_fails_its_check(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    result = check_artifact(art(path="a", contains="y"), tmp_path)
    assert result.message == '"a" is a symlink loop'


def test_an_unreadable_artifact_fails_with_its_reason(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("running as root: permissions do not apply")
        result = check_artifact(art(path="secret.txt", contains="x"), tmp_path)
    finally:
        secret.chmod(0o600)
    assert result.message == "secret.txt cannot be read: Permission denied"
