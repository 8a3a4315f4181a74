"""A plan file as text: decoding, and splitting the YAML frontmatter from the markdown body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from planrun.errors import PathNotFoundError
from planrun.yamlio import YamlSyntaxError, load_yaml

GENERATOR = "planrun"
"""The ``generator:`` in the frontmatter of the files planrun writes (SUMMARY.md)."""


def written_by_planrun(frontmatter: object) -> bool:
    return isinstance(frontmatter, dict) and frontmatter.get("generator") == GENERATOR


_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_BINARY_SNIFF = 8192


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
        """Read and decode a file; OSError becomes PathNotFoundError, bad bytes UndecodableError."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PathNotFoundError(f"cannot read {display or path}: {exc.strerror}") from None
        return cls(path, display or str(path), decode(raw))

    @cached_property
    def _split(self) -> tuple[str | None, int, str, int, bool]:
        """(yaml text or None, its first line, body, body's first line, unclosed)."""
        text = self.text
        first_nl = text.find("\n")
        first = text if first_nl < 0 else text[:first_nl]
        if first.rstrip() != "---":
            return None, 0, text, 1, False
        start = first_nl + 1 if first_nl >= 0 else len(text)
        close = _CLOSE.search(text, start)
        if close is None:
            return text[start:], 2, "", 0, True
        body_start = close.end() + 1
        body_line = text.count("\n", 0, body_start) + 1
        return text[start : close.start()], 2, text[body_start:], body_line, False

    @property
    def body(self) -> str:
        return self._split[2]

    @property
    def body_line(self) -> int:
        return self._split[3]

    @cached_property
    def frontmatter(self) -> Frontmatter:
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
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


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


def decode(raw: bytes) -> str:
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
    return text.replace("\r\n", "\n")
