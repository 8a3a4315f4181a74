"""Reading a file under the root for a check planrun runs itself, bounded: the path resolves
inside the root (also through symlinks), only regular files are opened (a FIFO never blocks),
lines are counted by streaming up to MAX_COUNT_BYTES, text is read up to MAX_SEARCH_BYTES,
and all of it within the task's time ``Budget``. What cannot be read so fails the check."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from planrun.document import file_kind

MAX_SEARCH_BYTES = 64 * 1024 * 1024
"""Largest file whose text is searched (``contains``, ``exports``, ``pattern``)."""


MAX_COUNT_BYTES = 1024 * 1024 * 1024
"""Largest file whose lines are counted (``min_lines``), reading it in chunks."""


_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """How long the checks of one task may take: its timeout."""

    seconds: float
    deadline: float
    stopped: Callable[[], bool] = lambda: False
    """Whether the run was asked to stop (checked before each pattern is matched)."""

    @classmethod
    def of(cls, seconds: float, stopped: Callable[[], bool] | None = None) -> Budget:
        return cls(seconds, time.monotonic() + seconds, stopped or (lambda: False))

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


class OutsideRootError(Exception):
    """The path is absolute or resolves outside the root; it was not read."""


class FailedError(Exception):
    """The check fails with this message (a file that cannot be read as asked)."""


def resolve_under(root: Path, rel: str) -> Path:
    """``root/rel``, refusing absolute paths and anything that ends up outside ``root``."""
    if not rel:
        raise OutsideRootError("empty path: must_haves paths name a file under the root")
    if Path(rel).is_absolute() or rel.startswith("~"):
        raise OutsideRootError(
            f'"{rel}" is an absolute path; must_haves paths are relative to the root'
        )
    try:
        real_root = root.resolve()
        target = (real_root / rel).resolve()
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        raise FailedError(f'"{rel}" is a symlink loop') from None
    except (OSError, ValueError) as exc:
        raise FailedError(f'"{rel}" cannot be read: {_why(exc)}') from None
    if not target.is_relative_to(real_root):
        raise OutsideRootError(f'"{rel}" resolves outside the root ({target}); it was not read')
    return target


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.ENAMETOOLONG:
            return "file name too long"
        return exc.strerror or str(exc)
    return str(exc)


def stat_or_none(path: Path) -> os.stat_result | None:
    """The file's stat, None when it does not exist; FailedError for any other error."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOTDIR:
            return None
        raise FailedError(_why(exc)) from None


@contextlib.contextmanager
def _open_regular(path: Path, name: str) -> Iterator[int]:
    """A read-only descriptor on ``path``, which must be a regular file. Opening does not
    block (O_NONBLOCK), so a FIFO is seen for what it is instead of waiting for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise FailedError(f"{name} cannot be read: {_why(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FailedError(f"{name} is {file_kind(mode)}, not a regular file; it was not read")
        os.set_blocking(fd, True)
        yield fd
    finally:
        os.close(fd)


def _chunks(fd: int, name: str, limit: int, budget: Budget, what: str) -> Iterator[bytes]:
    total = 0
    while True:
        try:
            data = os.read(fd, _CHUNK)
        except OSError as exc:
            raise FailedError(f"{name} cannot be read: {_why(exc)}") from None
        if not data:
            return
        total += len(data)
        if total > limit:
            raise FailedError(
                f"{name} is larger than {limit // (1024 * 1024)} MiB, the most planrun "
                f"reads to {what}; it was not checked"
            )
        if budget.left() <= 0:
            raise FailedError(f"reading {name} took longer than {budget.seconds:g} s")
        yield data


def count_lines(path: Path, name: str, budget: Budget) -> int:
    """Lines as an editor counts them: LF, CRLF or a lone CR end a line; a last line without
    an ending counts too. Streamed, so a large file is counted exactly."""
    lines = 0
    last = b""
    with _open_regular(path, name) as fd:
        for data in _chunks(fd, name, MAX_COUNT_BYTES, budget, "count lines"):
            crlf = data.count(b"\r\n") + (1 if last == b"\r" and data[:1] == b"\n" else 0)
            lines += data.count(b"\n") + data.count(b"\r") - crlf
            last = data[-1:]
    if last and last not in (b"\n", b"\r"):
        lines += 1
    return lines


def read_text(path: Path, name: str, budget: Budget) -> str:
    """The file's text as UTF-8. A leading byte order mark is left out: it is no part of the
    text, and kept, it would stand before the first line, where ``^export`` never matched."""
    with _open_regular(path, name) as fd:
        data = b"".join(_chunks(fd, name, MAX_SEARCH_BYTES, budget, "search"))
    return data.decode("utf-8-sig", errors="replace")
