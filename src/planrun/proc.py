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

import contextlib
import locale
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from planrun import lazyre
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


# Put before a script of several commands run by bash, on its first line so line numbers stay
# the script's own: `set -E` (functions, subshells and command substitutions inherit it) and an
# ERR trap that appends, to the file at ``path``, a line for each failure: the line of the
# script (the line of the call, for a failure in a function or a sourced file) and the command
# bash ran. A file, not the output: the script's output stays as it printed it (an expected
# output, a printed FAIL), a subshell whose output goes to a file or a pipe is still heard, and
# no later output can push it out of a bounded tail. The path is written into the trap, not
# passed in a variable the script could unset. The trap keeps `$_` (and bash keeps `$?` around
# a trap); a trap of the script's own replaces it (passedover.seen).
# A script that sets an ERR trap of its own: `set -E` would hand it to every function,
# subshell and command substitution, where bash does not run it (`trap 'exit 1' ERR` would
# then end a `$(grep -c x f)` that finds nothing); planrun's trap is replaced by it anyway.
OWN_ERR_TRAP = lazyre.compile(r"\btrap\b[^\n]*\bERR\b")


def record_failures(path: str, script: str = "", heads: tuple[int, ...] = ()) -> str:
    """The prefix recording the failures of ``script`` in ``path`` (a name without quotes or
    `$`); `set -E` too, unless the script sets an ERR trap of its own. ``heads``: lines of the
    script at whose first command a DEBUG trap records the status the shell has there (the
    status the statement before ended with), as ``&& LINE STATUS``, once per line: a failure
    before ``&&`` that neither -e nor the ERR trap stops at (hiddencheck.Hidden.head). Nothing is
    recorded where -e or pipefail is off by then (the status would show nothing)."""
    errtrace = "" if OWN_ERR_TRAP.search(script) else "set -E; "
    prefix = errtrace + (
        "trap '__planrun_e=$? __planrun_u=$_; "
        "__planrun_l=${BASH_LINENO[*]:+${BASH_LINENO[${#BASH_LINENO[@]}-1]}}; "
        'builtin printf "%s %s %s\\n" "${__planrun_l:-$LINENO}" "$__planrun_e" '
        f'"${{BASH_COMMAND//[[:cntrl:]]/ }}" >> "{path}"; '
        ': "$__planrun_u"\' ERR; '
    )
    if not heads:
        return prefix
    lines = "|".join(str(line) for line in sorted(set(heads)))
    return prefix + (
        "__planrun_h=; trap '__planrun_s=$? __planrun_d=$_; case $LINENO in "
        f'{lines}) [[ " $__planrun_h " == *" $LINENO "* || $- != *e* ]] || ! [[ -o pipefail ]] '
        f'|| {{ __planrun_h+=" $LINENO"; '
        f'builtin printf "&& %s %s\\n" "$LINENO" "$__planrun_s" >> "{path}"; }} 2>/dev/null '
        '|| :;; esac; : "$__planrun_d"\' DEBUG; '
    )


SAFE_PATH = lazyre.compile(r"[\w./+,@%=-]+")  # nothing the trap's quoting would have to escape
_FAILURE = lazyre.compile(r"(\d+) (\d+) (.*)")
_HEAD = lazyre.compile(r"&& (\d+) (\d+)")
_HALF = 32 * 1024  # bytes read from each end of a long file: the first and last failures matter


@dataclass(frozen=True)
class Records:
    """What planrun's traps recorded of a script: its ERR trap, each failure (line, command)
    in order and the status each failed with (``statuses``); its DEBUG trap, the status the
    shell had at each line asked (``heads``)."""

    failures: tuple[tuple[int, str], ...]
    statuses: tuple[int, ...]
    heads: dict[int, int]


def read_failures(path: str) -> Records | None:
    """What a script's traps recorded in ``path`` (of a very long file its first and last
    failures), and the file removed; None when it cannot be read (nothing is known then)."""
    try:
        with open(path, "rb") as file:  # noqa: PTH123 -- a str path, once per command
            data = file.read(2 * _HALF)
            size = os.fstat(file.fileno()).st_size
            if size > 2 * _HALF:
                file.seek(size - _HALF)
                tail = file.read(_HALF)
                data = data[:_HALF] + b"\n" + tail.split(b"\n", 1)[-1]
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # noqa: PTH108 -- a str path, once per command
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    found = [m for m in map(_FAILURE.fullmatch, lines) if m]
    failures = tuple((int(m.group(1)), m.group(3)) for m in found)
    statuses = tuple(int(m.group(2)) for m in found)
    heads: dict[int, int] = {}
    for line in lines:
        head = _HEAD.fullmatch(line) if line.startswith("&& ") else None
        if head is not None:
            heads.setdefault(int(head.group(1)), int(head.group(2)))
    return Records(failures, statuses, heads)


OWN_CHILDREN = threading.Lock()
"""Held while planrun starts a child it will collect itself (and records it in ``_own``), and
by a subreaper's sweep of orphans (containment.py) while it collects zombies: in the MCP
server two runs share the process, and one's sweep must not collect the other's commands or
helpers (their exit codes would be lost)."""
# A count per pid, not a set: a helper that ``Popen`` collects frees its pid before the
# helper's thread forgets it, and a command another thread starts meanwhile may get that pid;
# forgetting the helper must leave the command known.
_own: Counter[int] = Counter()


def _forget(pid: int) -> None:
    """Forget one child with ``pid`` (under ``OWN_CHILDREN``)."""
    _own[pid] -= 1
    if _own[pid] <= 0:
        del _own[pid]


def is_own(pid: int) -> bool:
    """Whether ``pid`` is a child planrun started and collects itself (a command or helper)."""
    return _own[pid] > 0


class Spawned:
    """A started command: ``poll`` as ``Popen.poll`` does it, except that a child whose exit
    status something else collected (SIGCHLD ignored, another reaper) is ``lost``: ``Popen``
    calls its exit code 0, which would pass a check that failed. ``popen``: the ``Popen`` it
    was started with, if any, told the exit code so that it does not wait for it again."""

    def __init__(self, pid: int, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.lost = False
        self._popen = popen

    @property
    def by_popen(self) -> bool:
        """Whether ``Popen`` started it (not ``os.posix_spawn``)."""
        return self._popen is not None

    def poll(self) -> int | None:
        if self.returncode is None:
            # Collected and forgotten under the lock: its pid, free once collected, may be
            # given to a child another thread starts (and records) meanwhile.
            with OWN_CHILDREN:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:
                    self.lost = True
                    self.returncode = -1
                else:
                    if pid == self.pid:
                        self.returncode = os.waitstatus_to_exitcode(status)
                if self.returncode is not None:
                    _forget(self.pid)
            if self._popen is not None and self.returncode is not None:
                self._popen.returncode = self.returncode
        return self.returncode


def default_sigchld() -> None:
    """Give SIGCHLD its default action if planrun inherited it ignored (a parent's
    ``signal(SIGCHLD, SIG_IGN)`` survives exec): ignored, the kernel collects every child at
    once and no exit code can be read. Only the main thread may set a handler."""
    if threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(AttributeError, OSError, ValueError):
        if signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)


# posix_spawn cannot close every other descriptor (Python 3.11 has no closefrom action) nor
# change directory: it is used where neither is needed (see ``_can_posix_spawn``).
_POSIX_SPAWN = sys.platform == "linux" and hasattr(os, "posix_spawn")
_RESTORED = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)
)  # what Popen's restore_signals gives the child: Python ignores SIGPIPE and SIGXFSZ
_sealed = False


def spawn(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[Spawned, int]:
    """Start ``argv`` in its own session (its process group is its pid) with stdin closed,
    stdout and stderr on one new pipe, and no other file descriptor inherited; return it and
    the pipe's read end, non-blocking. ``OSError`` or ``ValueError`` when it cannot start.

    ``os.posix_spawn`` starts it where it can (about half the parent's time of ``Popen``,
    which encodes the environment in Python and closes descriptors one by one in the child):
    in planrun's own working directory, with every descriptor above 2 close-on-exec."""
    read_end, write_end = os.pipe()
    try:
        with OWN_CHILDREN:
            child = _start(argv, cwd, env, write_end)
            _own[child.pid] += 1
    except (OSError, ValueError):
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    os.set_blocking(read_end, False)
    return child, read_end


def seal_descriptors() -> None:
    """Make every descriptor above 2 close-on-exec, so that a command started by
    ``os.posix_spawn`` inherits none, as ``Popen(close_fds=True)`` gives it none. A pool calls
    this as it opens: Python opens its own descriptors close-on-exec, and sqlite3 and inotify
    theirs; one that planrun inherited from its own parent is not the commands'."""
    global _sealed  # noqa: PLW0603 -- the descriptors are the process's
    if not _POSIX_SPAWN:
        return
    try:
        for entry in Path("/proc/self/fd").iterdir():
            fd = int(entry.name)
            if fd > 2:
                with contextlib.suppress(OSError):
                    os.set_inheritable(fd, False)  # noqa: FBT003 -- positional only
    except (OSError, ValueError):
        return
    _sealed = True


def _start(argv: list[str], cwd: Path, env: dict[str, str], write_end: int) -> Spawned:
    pid = _posix_spawn(argv, env, write_end) if _can_posix_spawn(argv[0], cwd, write_end) else None
    if pid is not None:
        return Spawned(pid)
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
    return Spawned(popen.pid, popen)


def _posix_spawn(argv: list[str], env: dict[str, str], write_end: int) -> int | None:
    """The pid of ``argv`` started by ``os.posix_spawn``; None where it refuses what Popen
    takes (an environment name it calls illegal, such as an empty one) or this libc cannot
    start a session (glibc before 2.26): then Popen starts it."""
    try:
        return os.posix_spawn(
            argv[0],
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDWR, 0),  # as Popen's DEVNULL
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_DUP2, write_end, 2),
            ],
            setsid=True,
            setsigdef=_RESTORED,
        )
    except (ValueError, NotImplementedError):
        return None


def _can_posix_spawn(argv0: str, cwd: Path, write_end: int) -> bool:
    """Whether ``os.posix_spawn`` starts a command as ``Popen`` would: on Linux, with the
    descriptors sealed, an absolute program, the pipe above the standard descriptors, and in
    planrun's own working directory (Python 3.11's posix_spawn cannot change it)."""
    if not _sealed or write_end < 3 or not argv0.startswith("/"):  # Linux: "/" is the root
        return False
    try:
        return str(cwd) == os.getcwd()  # noqa: PTH109 -- a str: no Path built per command
    except OSError:  # planrun's own directory was removed
        return False


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
        code, out, err = _helper(argv, cwd, env=env, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Captured(-1, "", str(exc))
    return Captured(
        code,
        out.decode("utf-8", errors="surrogateescape"),
        err.decode("utf-8", errors="replace"),
    )


def _helper(
    argv: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    data: str | None = None,
    timeout: float,
) -> tuple[int, bytes, bytes]:
    """``subprocess.run(argv, capture_output=True)``, the child known as planrun's own while it
    runs (see ``OWN_CHILDREN``); ``data`` is written to its stdin (else /dev/null)."""
    with OWN_CHILDREN:
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _own[popen.pid] += 1
    try:
        with popen:
            try:
                out, err = popen.communicate(
                    None
                    if data is None
                    # A path os.fsdecode could not decode keeps its bytes (surrogateescape).
                    else data.encode(
                        locale.getpreferredencoding(do_setlocale=False), "surrogateescape"
                    ),
                    timeout=timeout,
                )
            except BaseException:  # a timeout or an interrupt: as subprocess.run does
                popen.kill()
                raise
        return popen.returncode, out, err
    finally:
        with OWN_CHILDREN:
            _forget(popen.pid)


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
        code, out, _err = _helper(argv, cwd, data=stdin, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    # As text=True would read it: the locale's encoding, universal newlines.
    text = out.decode(locale.getpreferredencoding(do_setlocale=False), "surrogateescape")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if code in (0, 1) else None
