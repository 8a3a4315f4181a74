"""Starting child processes: the shell a verify script runs in, the one call that starts a
command in its own process group, and the one-shot helpers (git, ``git check-ignore``).

Each verify script runs as GitHub Actions runs ``shell: bash``: ``bash --noprofile --norc -eo
pipefail -c SCRIPT`` (``sh -e -c`` without bash), so a failing line or pipeline stage fails the
script; a plan's or the configuration's ``shell`` replaces that. Each runs in its own session, so
its whole process group, grandchildren included, can be signalled at once (see ``spawn``). The
pool that runs verify commands, waits for them and kills them is procpool.py; their output is
tasklog.py's; what escapes a process group is containment.py's (with reaper.py and
watchdog.py). A one-shot helper that is missing, fails or hangs is an answer, never an
exception.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from planrun.errors import UsageError

DEFAULT_SHELL = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c")
FALLBACK_SHELL = ("/bin/sh", "-e", "-c")


def shell_argv(shell: str | None = None) -> tuple[str, ...]:
    """The command line a script is appended to. ``shell`` is a program name (``bash``: plain
    ``bash -c``, the behaviour before pipefail) or a whole command line ending in the flag that
    takes the script (``bash -e -c``); the default is :data:`DEFAULT_SHELL`, else
    :data:`FALLBACK_SHELL`."""
    if shell:
        try:
            words = shlex.split(shell)
        except ValueError as exc:
            raise UsageError(f'the shell "{shell}" is not a valid command line: {exc}') from None
        found = shutil.which(words[0]) if words else None
        if found is None:
            raise UsageError(f'the configured shell "{shell}" was not found on PATH')
        return (found, *(words[1:] or ["-c"]))
    bash = shutil.which("bash")
    return (bash, *DEFAULT_SHELL[1:]) if bash else FALLBACK_SHELL


# Put before a multi-line script run by bash, on its first line so line numbers stay the
# script's own: when -e stops the script, the log says where.
LOCATE_FAILURE = "trap 'echo \"planrun: failed at line $LINENO\" >&2' ERR; "
FAILED_AT = re.compile(r"^planrun: failed at line (\d+)$", re.MULTILINE)


def spawn(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``argv`` in its own session (its process group is its pid) with stdin closed,
    stdout and stderr on one new pipe, and no other file descriptor inherited; return it and
    the pipe's read end, non-blocking. ``OSError`` or ``ValueError`` when it cannot start."""
    read_end, write_end = os.pipe()
    try:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    except (OSError, ValueError):
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    os.set_blocking(read_end, False)
    return popen, read_end


@dataclass(frozen=True)
class Captured:
    """What a short synchronous command printed, and how it exited."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_helper(
    argv: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> Captured:
    """Run a short helper (git) to completion and take its output; a program that is missing,
    cannot start or does not finish is a non-zero result, never an exception."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Captured(-1, "", str(exc))
    return Captured(
        done.returncode,
        done.stdout.decode("utf-8", errors="surrogateescape"),
        done.stderr.decode("utf-8", errors="replace"),
    )


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Captured:
    """``git ARGS`` in ``cwd``, with git's own prompts and pagers switched off."""
    base = os.environ if env is None else env
    # GIT_OPTIONAL_LOCKS=0: git status and diff must not refresh (write) the user's index.
    quiet = {
        **base,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
    }
    return run_helper(["git", *args], cwd, env=quiet)


def capture(argv: list[str], cwd: Path, stdin: str = "", timeout: float = 60.0) -> str | None:
    """A short helper command's stdout (``git check-ignore``...), or None when it could not
    run or failed: callers treat a missing answer as "unknown", never as an error."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode in (0, 1) else None
