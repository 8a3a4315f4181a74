"""must_haves checks, run by planrun itself (no shell): artifacts and key_links.

Every path resolves under the root; an absolute path, or one that escapes the root (also
through a symlink), fails its check and is never read. Each result says what was found.

Every check is bounded. Only regular files are read (a FIFO, device or socket fails its check
instead of blocking). Lines are counted by streaming, up to MAX_COUNT_BYTES; text is searched
(``contains``, ``exports``, ``pattern``) only in files up to MAX_SEARCH_BYTES; a larger file
fails its check saying so, never a silent truncation. A key_links ``pattern`` runs on the
``regex`` engine with a per-call timeout (the task's timeout), and the engine checks for
signals while it matches, so Ctrl-C stops a catastrophic backtrack at once
(``Interrupted``). An OSError while checking fails that check with its reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import regex

from planrun.document import file_kind
from planrun.model import Artifact, KeyLink
from planrun.results import CheckResult

MAX_SEARCH_BYTES = 64 * 1024 * 1024
"""Largest file whose text is searched (``contains``, ``exports``, ``pattern``)."""
MAX_COUNT_BYTES = 1024 * 1024 * 1024
"""Largest file whose lines are counted (``min_lines``), reading it in chunks."""
_CHUNK = 1024 * 1024


class Interrupted(Exception):  # noqa: N818 -- it is a signal, not a failure of the check
    """A stop signal arrived while a pattern was being matched (raised by the runner's handler)."""


_searching = False


def searching() -> bool:
    """Whether a key_links pattern is being matched now (the signal handler may interrupt it)."""
    return _searching


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


_NO_LIMIT = 10.0 * 365 * 24 * 3600


class _OutsideRootError(Exception):
    pass


class _FailedError(Exception):
    """The check fails with this message (a file that cannot be read as asked)."""


def resolve_under(root: Path, rel: str) -> Path:
    """``root/rel``, refusing absolute paths and anything that ends up outside ``root``."""
    if not rel:
        raise _OutsideRootError("empty path: must_haves paths name a file under the root")
    if Path(rel).is_absolute() or rel.startswith("~"):
        raise _OutsideRootError(
            f'"{rel}" is an absolute path; must_haves paths are relative to the root'
        )
    try:
        real_root = root.resolve()
        target = (real_root / rel).resolve()
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        raise _FailedError(f'"{rel}" is a symlink loop') from None
    except (OSError, ValueError) as exc:
        raise _FailedError(f'"{rel}" cannot be read: {_why(exc)}') from None
    if not target.is_relative_to(real_root):
        raise _OutsideRootError(f'"{rel}" resolves outside the root ({target}); it was not read')
    return target


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.ENAMETOOLONG:
            return "file name too long"
        return exc.strerror or str(exc)
    return str(exc)


def _status(path: Path) -> os.stat_result | None:
    """The file's stat, None when it does not exist; _FailedError for any other error."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOTDIR:
            return None
        raise _FailedError(_why(exc)) from None


@contextlib.contextmanager
def _open_regular(path: Path, name: str) -> Iterator[int]:
    """A read-only descriptor on ``path``, which must be a regular file. Opening does not
    block (O_NONBLOCK), so a FIFO is seen for what it is instead of waiting for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise _FailedError(f"{name} cannot be read: {_why(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _FailedError(f"{name} is {file_kind(mode)}, not a regular file; it was not read")
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
            raise _FailedError(f"{name} cannot be read: {_why(exc)}") from None
        if not data:
            return
        total += len(data)
        if total > limit:
            raise _FailedError(
                f"{name} is larger than {limit // (1024 * 1024)} MiB, the most planrun "
                f"reads to {what}; it was not checked"
            )
        if budget.left() <= 0:
            raise _FailedError(f"reading {name} took longer than {budget.seconds:g} s")
        yield data


def _count_lines(path: Path, name: str, budget: Budget) -> int:
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


def _read_text(path: Path, name: str, budget: Budget) -> str:
    with _open_regular(path, name) as fd:
        data = b"".join(_chunks(fd, name, MAX_SEARCH_BYTES, budget, "search"))
    return data.decode("utf-8", errors="replace")


def check_artifact(art: Artifact, root: Path, budget: Budget | None = None) -> CheckResult:
    try:
        found = _check_artifact(art, root, budget or Budget.of(_NO_LIMIT))
    except (_FailedError, _OutsideRootError) as exc:
        found = CheckResult("artifact", art.path, ok=False, message=str(exc))
    return replace(found, derived=True) if art.derived else found


def _check_artifact(art: Artifact, root: Path, budget: Budget) -> CheckResult:
    label = art.path
    path = resolve_under(root, art.path)
    try:
        info = _status(path)
    except _FailedError as exc:
        raise _FailedError(f"{art.path} cannot be read: {exc}") from None
    if info is None:
        # Said of each requirement, so "exists" and "contains" on one path read apart.
        also = f', so it does not contain "{art.contains}"' if art.contains is not None else ""
        return CheckResult("artifact", label, ok=False, message=f"{art.path} does not exist{also}")
    wants_text = art.contains is not None or bool(art.exports)
    if stat.S_ISDIR(info.st_mode):
        if wants_text or art.min_lines is not None:
            return CheckResult(
                "artifact", label, ok=False, message=f"{art.path} is a directory, not a file"
            )
        return CheckResult("artifact", label, ok=True, message=f"{art.path} exists (directory)")
    if not stat.S_ISREG(info.st_mode):
        raise _FailedError(
            f"{art.path} is {file_kind(info.st_mode)}, not a regular file; it was not read"
        )
    found = [f"{art.path} exists"]
    if art.min_lines is not None:
        lines = _count_lines(path, art.path, budget)
        if lines < art.min_lines:
            return CheckResult(
                "artifact",
                label,
                ok=False,
                message=f"{art.path} has {lines} lines, needs at least {art.min_lines}",
            )
        found.append(f"{lines} lines")
    text = _read_text(path, art.path, budget) if wants_text else ""
    if art.contains is not None:
        if art.contains not in text:
            return CheckResult(
                "artifact", label, ok=False, message=f'{art.path} does not contain "{art.contains}"'
            )
        found.append(f'contains "{art.contains}"')
    missing = [name for name in art.exports if not re.search(rf"\b{re.escape(name)}\b", text)]
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        return CheckResult(
            "artifact", label, ok=False, message=f"{art.path} does not define {names}"
        )
    if art.exports:
        found.append("defines " + ", ".join(art.exports))
    return CheckResult("artifact", label, ok=True, message=", ".join(found))


def _is_symbol(ref: str) -> bool:
    """A key_links ``from`` that names code (``StreamingExporter.open()``), not a file."""
    return "/" not in ref and not re.search(r"\.[A-Za-z]{1,5}$", ref.strip())


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """A key_links pattern, compiled for the engine that runs it (``regex``); PatternError when
    it is not a valid Python regular expression or exceeds what an engine accepts. Plans are
    written for Python's ``re``: a pattern is accepted only if both engines take it, and ``re``
    words the message."""
    try:
        re.compile(pattern)
        return regex.compile(pattern)
    except re.error as exc:
        raise PatternError(exc.msg, exc.pos) from None
    except regex.error as exc:
        raise PatternError(str(exc.msg), exc.pos) from None
    except (OverflowError, RecursionError, MemoryError):
        raise PatternError(
            "a repeat count or nesting is larger than the regular expression engine accepts",
            None,
        ) from None


class PatternError(Exception):
    def __init__(self, msg: str, pos: int | None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def check_key_link(
    link: KeyLink, root: Path, budget: Budget | None = None, declared: Sequence[str] = ()
) -> CheckResult:
    """GSD's key_links: the ``pattern`` (a regex over the whole file) in the ``from`` file,
    else in the ``to`` file; without a pattern, ``from`` mentions ``to``. When ``from`` is a
    symbol or a call, not a file, the plan's ``declared`` files are searched instead."""
    label = f"{link.from_} -> {link.to}"
    try:
        return _check_key_link(link, root, budget or Budget.of(_NO_LIMIT), declared)
    except (_FailedError, _OutsideRootError) as exc:
        return CheckResult("key_link", label, ok=False, message=str(exc))


def _check_key_link(
    link: KeyLink, root: Path, budget: Budget, declared: Sequence[str]
) -> CheckResult:
    label = f"{link.from_} -> {link.to}"
    source = resolve_under(root, link.from_)
    try:
        info = _status(source)
    except _FailedError as exc:
        raise _FailedError(f"{link.from_} cannot be read: {exc}") from None
    if (info is None or stat.S_ISDIR(info.st_mode)) and _is_symbol(link.from_):
        return _search_declared(link, root, declared, label, budget)
    if info is None or stat.S_ISDIR(info.st_mode):
        return CheckResult("key_link", label, ok=False, message=f"{link.from_} does not exist")
    text = _read_text(source, link.from_, budget)
    if link.pattern is None:
        if link.to in text:
            return CheckResult(
                "key_link", label, ok=True, message=f'{link.from_} mentions "{link.to}"'
            )
        return CheckResult(
            "key_link", label, ok=False, message=f'{link.from_} does not mention "{link.to}"'
        )
    try:
        compiled = compile_pattern(link.pattern)
    except PatternError as exc:
        return _bad_pattern(label, link.pattern, exc)
    found = _search(compiled, text, link.from_, budget)
    if found:
        return CheckResult("key_link", label, ok=True, message=f"/{link.pattern}/ {found}")
    where = [link.from_]
    target = _maybe_file(root, link.to)
    if target is not None:
        try:
            other = _read_text(target, link.to, budget)
        except _FailedError:
            other = ""
        found = _search(compiled, other, link.to, budget)
        if found:
            return CheckResult("key_link", label, ok=True, message=f"/{link.pattern}/ {found}")
        where.append(link.to)
    return CheckResult(
        "key_link",
        label,
        ok=False,
        message=f"/{link.pattern}/ not found in {' or '.join(where)}",
    )


def _bad_pattern(label: str, pattern: str, exc: PatternError) -> CheckResult:
    message = f"pattern /{pattern}/ is not a valid regular expression: {exc.msg}"
    return CheckResult("key_link", label, ok=False, message=message)


def _search_declared(
    link: KeyLink, root: Path, declared: Sequence[str], label: str, budget: Budget
) -> CheckResult:
    files = [p for p in dict.fromkeys(declared) if _maybe_file(root, p) is not None]
    if not files:
        return CheckResult(
            "key_link",
            label,
            ok=False,
            message=f"{link.from_} is not a file and the plan declares no existing file to "
            "search for it",
        )
    if link.pattern is not None:
        try:
            compiled = compile_pattern(link.pattern)
        except PatternError as exc:
            return _bad_pattern(label, link.pattern, exc)
        what = f"/{link.pattern}/"
    else:
        compiled = regex.compile(regex.escape(link.to))
        what = f'"{link.to}"'
    for name in files:
        path = _maybe_file(root, name)
        if path is None:
            continue
        try:
            text = _read_text(path, name, budget)
        except _FailedError:
            continue
        found = _search(compiled, text, name, budget)
        if found:
            return CheckResult("key_link", label, ok=True, message=f"{what} {found}")
    return CheckResult(
        "key_link",
        label,
        ok=False,
        message=f"{what} not found in the plan's files ({', '.join(files[:5])}"
        + (", ..." if len(files) > 5 else "")
        + ")",
    )


def _search(compiled: regex.Pattern[str], text: str, name: str, budget: Budget) -> str | None:
    """ "found in NAME:LINE: match" when ``compiled`` matches ``text``; fails past the budget."""
    global _searching  # noqa: PLW0603 -- read by the signal handler, which has no other way in
    left = budget.left()
    if left <= 0:
        raise _FailedError(f"pattern /{compiled.pattern}/ took longer than {budget.seconds:g} s")
    try:
        _searching = True
        # A signal that came before the flag was set is seen here; one after it, by the handler.
        if budget.stopped():
            raise Interrupted
        # concurrent: the engine lets go of the GIL, so the pool's tending thread keeps the
        # running commands' deadlines meanwhile (signals still reach this thread).
        match = compiled.search(text, timeout=left, concurrent=True)
    except TimeoutError:
        raise _FailedError(
            f"pattern /{compiled.pattern}/ took longer than {budget.seconds:g} s in {name}"
        ) from None
    finally:
        _searching = False
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    return f"found in {name}:{line}: {match.group(0)[:80]}"


def _maybe_file(root: Path, ref: str) -> Path | None:
    """``ref`` as a file under the root, when it names one (``to`` may be a symbol instead)."""
    try:
        path = resolve_under(root, ref)
        info = _status(path)
    except (_OutsideRootError, _FailedError, OSError, ValueError):
        return None
    return path if info is not None and stat.S_ISREG(info.st_mode) else None
