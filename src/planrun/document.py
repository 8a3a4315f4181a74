"""A plan file as text: decoding, splitting the YAML frontmatter from the markdown body, and
that body's markdown view, parsed once for every reader that looks at the file."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planrun import lazyre
from planrun.errors import PathNotFoundError

if TYPE_CHECKING:
    from planrun import markdown
    from planrun.yamlio import YamlSyntaxError

GENERATOR = "planrun"
"""The ``generator:`` in the frontmatter of the files planrun writes (SUMMARY.md)."""


def written_by_planrun(frontmatter: object) -> bool:
    return isinstance(frontmatter, dict) and frontmatter.get("generator") == GENERATOR


# The closing line, with the newline before it: a pattern that starts with a literal is
# searched for that character (fast), where one that starts with ^ is tried at every position
# (12 ms on a 20,000-task plan).
_CLOSE = lazyre.compile(r"\n(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_BINARY_SNIFF = 8192
MAX_PLAN_BYTES = 32 * 1024 * 1024
"""The largest plan file planrun reads (a plan is text a person or an agent wrote)."""


class UndecodableError(Exception):
    """The file is not text; ``code`` is the diagnostic code."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


@dataclass
class Frontmatter:
    """The frontmatter block: its data, or why it has none."""

    present: bool
    data: Any = None
    error: YamlSyntaxError | None = None
    unclosed: bool = False
    duplicate_keys: list[tuple[int, str]] = field(default_factory=list)
    literal_backslash_lines: list[int] = field(default_factory=list)
    """Lines where a backslash escape strict YAML rejects was read as a literal backslash."""


@dataclass
class Document:
    path: Path
    display: str
    text: str

    @classmethod
    def read(cls, path: Path, display: str | None = None) -> Document:
        """Read and decode a file; OSError becomes PathNotFoundError; what is not a plan file
        (a FIFO or device, over MAX_PLAN_BYTES, bad bytes) UndecodableError."""
        return cls(path, display or str(path), decode(read_plan_bytes(path, display)))

    @cached_property
    def _split(self) -> tuple[str | None, int, str, int, bool]:
        """(yaml text or None, its first line, body, body's first line, unclosed)."""
        text = self.text
        first_nl = text.find("\n")
        first = text if first_nl < 0 else text[:first_nl]
        if first.rstrip() != "---":
            return None, 0, text, 1, False
        if first_nl < 0:
            return "", 2, "", 0, True
        start = first_nl + 1
        close = _CLOSE.search(text, first_nl)  # the closing line may be the second line
        if close is None:
            return text[start:], 2, "", 0, True
        body_start = close.end() + 1
        body_line = text.count("\n", 0, body_start) + 1
        return text[start : close.start() + 1], 2, text[body_start:], body_line, False

    @property
    def body(self) -> str:
        return self._split[2]

    @property
    def body_line(self) -> int:
        return self._split[3]

    @cached_property
    def parsed(self) -> markdown.Body:
        """The markdown body (the whole text when there is no closed frontmatter), parsed once:
        every reader's ``detect`` and the one that reads the file share it (do not mutate it)."""
        # Imported on use, as PyYAML below: a plan from the plan cache is read by neither.
        from planrun import markdown  # noqa: PLC0415

        if self.frontmatter.present and not self.frontmatter.unclosed:
            return markdown.parse(self.body, self.body_line)
        return markdown.parse(self.text, 1)

    @cached_property
    def frontmatter(self) -> Frontmatter:
        from planrun.yamlio import YamlSyntaxError, load_yaml  # noqa: PLC0415

        yaml_text, first_line, _, _, unclosed = self._split
        if yaml_text is None:
            return Frontmatter(present=False)
        if unclosed:
            return Frontmatter(present=True, unclosed=True)
        try:
            data, dups = load_yaml(yaml_text, first_line)
        except YamlSyntaxError as exc:
            if "unknown escape" not in exc.problem:
                return Frontmatter(present=True, error=exc)
            # Agents (and GSD) write regexes like "Base\.metadata" in double quotes; GSD
            # reads the backslash literally, so the regex works. Do the same, and say so.
            fixed, lines = keep_unknown_escapes(yaml_text)
            try:
                data, dups = load_yaml(fixed, first_line)
            except YamlSyntaxError:
                return Frontmatter(present=True, error=exc)
            return Frontmatter(
                present=True,
                data=data,
                duplicate_keys=dups,
                literal_backslash_lines=[first_line + n for n in lines],
            )
        return Frontmatter(present=True, data=data, duplicate_keys=dups)


_VALID_ESCAPES = frozenset('0abtnvfre "/\\N_LPxuU\t\n')
_DOUBLE_QUOTED = lazyre.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def keep_unknown_escapes(text: str) -> tuple[str, list[int]]:
    """Double each backslash that starts an escape YAML does not know, inside double-quoted
    scalars; return the new text and the 0-based lines changed."""
    changed: set[int] = set()

    def fix(match: re.Match[str]) -> str:
        out = []
        quoted = match.group(0)
        i = 0
        while i < len(quoted):
            char = quoted[i]
            if char == "\\" and i + 1 < len(quoted):
                nxt = quoted[i + 1]
                if nxt in _VALID_ESCAPES:
                    out.append(quoted[i : i + 2])
                else:
                    out.append("\\\\" + nxt)
                    changed.add(text.count("\n", 0, match.start() + i))
                i += 2
                continue
            out.append(char)
            i += 1
        return "".join(out)

    return _DOUBLE_QUOTED.sub(fix, text), sorted(changed)


def file_kind(mode: int) -> str:
    """What a path that is not a regular file is, for messages ("a named pipe (FIFO)")."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def read_plan_bytes(path: Path, display: str | None = None) -> bytes:
    """A plan file's bytes: only a regular file (opened without blocking, so a FIFO cannot
    hang planrun), at most MAX_PLAN_BYTES."""
    name = display or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        why = "symlink loop" if exc.errno == errno.ELOOP else exc.strerror
        raise PathNotFoundError(f"cannot read {name}: {why}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UndecodableError(
                "special-file", f"{file_kind(info.st_mode)}, not a regular file: not read as a plan"
            )
        if info.st_size > MAX_PLAN_BYTES:
            raise UndecodableError("file-too-large", _too_large(info.st_size))
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while data := os.read(fd, 1024 * 1024):
            total += len(data)
            if total > MAX_PLAN_BYTES:  # it grew while being read
                raise UndecodableError("file-too-large", _too_large(total))
            chunks.append(data)
    except OSError as exc:
        raise PathNotFoundError(f"cannot read {name}: {exc.strerror}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_regular(path: Path, limit: int, *, follow_links: bool = True) -> bytes | None:
    """The bytes of ``path`` when it is a regular file of at most ``limit`` bytes (opened
    without blocking: a FIFO or a device could block or never end; with ``follow_links``
    False, not a link either), else None: what cannot be read so is not read."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    flags |= 0 if follow_links else os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= limit else None


def _too_large(size: int) -> str:
    return (
        f"the file is {size / (1024 * 1024):.1f} MiB; planrun reads plans of at most "
        f"{MAX_PLAN_BYTES // (1024 * 1024)} MiB"
    )


def _utf16(raw: bytes) -> bool:
    """A UTF-16 file: its byte-order mark, or ASCII text with every other byte NUL."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = raw[:_BINARY_SNIFF]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    mostly, rarely = 0.9, 0.1
    return (even.count(0) > mostly * len(even) and odd.count(0) < rarely * len(odd)) or (
        odd.count(0) > mostly * len(odd) and even.count(0) < rarely * len(even)
    )


def decode(raw: bytes) -> str:
    if _utf16(raw):
        raise UndecodableError("not-utf8", "UTF-16 is not supported, save as UTF-8")
    if b"\x00" in raw[:_BINARY_SNIFF]:
        raise UndecodableError("binary-file", "binary file (it contains NUL bytes), not a plan")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UndecodableError(
            "not-utf8",
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} cannot be decoded",
            line,
        ) from None
    # Universal newlines: CRLF (Windows) and a lone CR (classic Mac OS) both end a line.
    return text.replace("\r\n", "\n").replace("\r", "\n")
