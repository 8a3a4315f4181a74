"""must_haves checks, run by planrun itself (no shell): artifacts and key_links.

Every path resolves under the root; an absolute path, or one that escapes the root (also
through a symlink), fails its check and is never read. Each result says what was found.

Every check is bounded (``rootfiles`` reads the files: regular files only, by size and time);
a larger file fails its check saying so, never a silent truncation. A key_links ``pattern``
runs on the ``regex`` engine with a per-call timeout (the task's timeout), and the engine
checks for signals while it matches, so Ctrl-C stops a catastrophic backtrack at once
(``Interrupted``). An OSError while checking fails that check with its reason.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.document import file_kind
from planrun.modelchecks import Artifact, KeyLink
from planrun.results import CheckResult
from planrun.rootfiles import (
    Budget,
    FailedError,
    OutsideRootError,
    count_lines,
    read_text,
    resolve_under,
    stat_or_none,
)

if TYPE_CHECKING:
    import regex


class Interrupted(Exception):  # noqa: N818 -- it is a signal, not a failure of the check
    """A stop signal arrived while a pattern was being matched (raised by the runner's handler)."""


_searching = False


def searching() -> bool:
    """Whether a key_links pattern is being matched now (the signal handler may interrupt it)."""
    return _searching


_NO_LIMIT = 10.0 * 365 * 24 * 3600


def check_artifact(art: Artifact, root: Path, budget: Budget | None = None) -> CheckResult:
    try:
        found = _check_artifact(art, root, budget or Budget.of(_NO_LIMIT))
    except (FailedError, OutsideRootError) as exc:
        found = CheckResult("artifact", art.path, ok=False, message=str(exc))
    return replace(found, derived=True) if art.derived else found


def _check_artifact(art: Artifact, root: Path, budget: Budget) -> CheckResult:
    label = art.path
    path = resolve_under(root, art.path)
    try:
        info = stat_or_none(path)
    except FailedError as exc:
        raise FailedError(f"{art.path} cannot be read: {exc}") from None
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
        raise FailedError(
            f"{art.path} is {file_kind(info.st_mode)}, not a regular file; it was not read"
        )
    found = [f"{art.path} exists"]
    if art.min_lines is not None:
        lines = count_lines(path, art.path, budget)
        if lines < art.min_lines:
            return CheckResult(
                "artifact",
                label,
                ok=False,
                message=f"{art.path} has {lines} lines, needs at least {art.min_lines}",
            )
        found.append(f"{lines} lines")
    text = read_text(path, art.path, budget) if wants_text else ""
    if art.contains is not None:
        if not _contains(text, art.contains):
            return CheckResult(
                "artifact", label, ok=False, message=f'{art.path} does not contain "{art.contains}"'
            )
        found.append(f'contains "{art.contains}"')
    missing = [name for name in art.exports if not _defines(text, name)]
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        return CheckResult(
            "artifact", label, ok=False, message=f"{art.path} does not define {names}"
        )
    if art.exports:
        found.append("defines " + ", ".join(art.exports))
    return CheckResult("artifact", label, ok=True, message=", ".join(found))


def _contains(text: str, wanted: str) -> bool:
    """``wanted`` in ``text``, line endings aside: a ``contains`` written over two lines in
    YAML (``\\n``) is found in a file saved with CRLF, as an editor shows the two the same."""
    if "\r" not in wanted and "\n" not in wanted:
        return wanted in text  # no line break to differ on: the same answer, without a copy
    return _lf(wanted) in _lf(text)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _defines(text: str, name: str) -> bool:
    """Whether an ``exports`` name appears in ``text`` as a whole name. A word boundary is
    wanted only at an edge that is a word character: ``\\b$store`` could never match, as
    ``$`` is no word character, while ``store`` must not be found inside ``$stores``. A name
    written as a call (``useAuth()``) is the name of a function: ``useAuth``, so that
    ``function useAuth(token)`` and ``const useAuth = () =>`` define it, as ``useAuth`` does."""
    name = name.strip()
    if name.endswith("()") and len(name) > 2:
        name = name[:-2].rstrip()
    if not name:
        return False
    before = r"(?<!\w)" if re.match(r"\w", name[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", name[-1]) else ""
    return re.search(before + re.escape(name) + after, text) is not None


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """A key_links pattern, compiled for the engine that runs it (``regex``); PatternError when
    it is not a valid Python regular expression or exceeds what an engine accepts. Plans are
    written for Python's ``re``: a pattern is accepted only if both engines take it, and ``re``
    words the message."""
    import regex  # noqa: PLC0415 -- only key_links need it: not every run pays its import

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
    except (FailedError, OutsideRootError) as exc:
        return CheckResult("key_link", label, ok=False, message=str(exc))


def _check_key_link(
    link: KeyLink, root: Path, budget: Budget, declared: Sequence[str]
) -> CheckResult:
    label = f"{link.from_} -> {link.to}"
    source = resolve_under(root, link.from_)
    try:
        info = stat_or_none(source)
    except FailedError as exc:
        raise FailedError(f"{link.from_} cannot be read: {exc}") from None
    if (info is None or stat.S_ISDIR(info.st_mode)) and link.from_code:
        return _search_declared(link, root, declared, label, budget)
    if info is None or stat.S_ISDIR(info.st_mode):
        return CheckResult("key_link", label, ok=False, message=f"{link.from_} does not exist")
    text = read_text(source, link.from_, budget)
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
            other = read_text(target, link.to, budget)
        except FailedError:
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
        import regex  # noqa: PLC0415 -- see compile_pattern

        compiled = regex.compile(regex.escape(link.to))
        what = f'"{link.to}"'
    for name in files:
        path = _maybe_file(root, name)
        if path is None:
            continue
        try:
            text = read_text(path, name, budget)
        except FailedError:
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
        raise FailedError(f"pattern /{compiled.pattern}/ took longer than {budget.seconds:g} s")
    try:
        _searching = True
        # A signal that came before the flag was set is seen here; one after it, by the handler.
        if budget.stopped():
            raise Interrupted
        # concurrent: the engine lets go of the GIL, so the pool's tending thread keeps the
        # running commands' deadlines meanwhile (signals still reach this thread).
        match = compiled.search(text, timeout=left, concurrent=True)
    except TimeoutError:
        raise FailedError(
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
        info = stat_or_none(path)
    except (OutsideRootError, FailedError, OSError, ValueError):
        return None
    return path if info is not None and stat.S_ISREG(info.st_mode) else None
