"""The field types of the plan model and how a plan's YAML is coerced into them: ids and
dependency ids, timeouts, exit codes, paths, scripts, environment maps, and strings where a
list of mappings is expected (each keeping its line)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator

from planrun import lazyre
from planrun.linedata import LineDict, LineList

_ID_RE = lazyre.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(
            f'"{value}" is not a valid id: use letters, digits, "_", "." and "-" '
            '(no spaces or "/"; "/" joins plan and task in a full id)'
        )
    return value


def _check_dep(value: str) -> str:
    plan, sep, task = value.partition("/")
    if sep:
        check_id(plan)
        check_id(task)
    else:
        check_id(value)
    return value


_EXPECT_OUTPUT = lazyre.compile(r"empty|count\s*(==|>=|<=|>|<|!=)?\s*\d+")


def check_expect_output(value: str) -> str:
    value = " ".join(value.split()).lower()
    if not _EXPECT_OUTPUT.fullmatch(value):
        raise ValueError(
            f'"{value}" is not an output expectation: use "empty", "count N" or "count >= N"'
        )
    return value


Id = Annotated[str, AfterValidator(check_id)]
DepId = Annotated[str, AfterValidator(_check_dep)]

MAX_TIMEOUT = 1_000_000.0
"""The longest timeout, in seconds (11.5 days): beyond it the OS cannot wait that long."""
NAME_MAX = 255
"""The longest file name (one path component, in bytes) the usual file systems allow."""
PATH_MAX = 4096


def check_timeout(value: float) -> float:
    """A timeout must be a finite number of seconds in (0, MAX_TIMEOUT]."""
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        shown = str(value).replace("inf", "infinity")
        raise ValueError(
            f"a timeout is a number of seconds greater than 0 and at most {MAX_TIMEOUT:.0f}, "
            f"got {shown}"
        )
    return value


def _check_exit(value: int) -> int:
    if not 0 <= value <= 255:
        raise ValueError(f"an exit code is from 0 to 255, got {value}")
    return value


def _shown(text: str, limit: int = 60) -> str:
    """``text`` for a message: NUL written as \\0, cut to ``limit`` characters."""
    text = text.replace("\0", "\\0")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _no_nul(value: str) -> str:
    if "\0" in value:
        raise ValueError(
            f'"{_shown(value)}" contains a NUL character (\\0), which no command, path or '
            "environment variable can hold"
        )
    return value


def _check_path(value: str) -> str:
    """A path planrun will open: no NUL, no component longer than a file name can be."""
    _no_nul(value)
    encoded = value.encode("utf-8", "surrogateescape")
    if len(encoded) > PATH_MAX:
        raise ValueError(f"the path is {len(encoded)} bytes long; the most is {PATH_MAX}")
    for part in encoded.replace(b"\\", b"/").split(b"/"):
        if len(part) > NAME_MAX:
            shown = part[:20].decode("utf-8", "replace")
            raise ValueError(
                f'the path component "{shown}..." is {len(part)} bytes long; a file name can '
                f"be at most {NAME_MAX}"
            )
    return value


def _check_file(value: str) -> str:
    if not value.strip():
        raise ValueError("empty path: name a file relative to the root")
    return _check_path(value)


Timeout = Annotated[float, AfterValidator(check_timeout)]
FileStr = Annotated[str, AfterValidator(_check_file)]
ExitCode = Annotated[int, AfterValidator(_check_exit)]
Script = Annotated[str, AfterValidator(_no_nul)]
PathStr = Annotated[str, AfterValidator(_check_path)]


def none_to_list(value: Any) -> Any:
    return [] if value is None else value


def string_to_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [value]
    return value


_SCALARS = (str, int, float)  # bool is an int


def _is_scalar(value: Any) -> bool:
    return isinstance(value, _SCALARS)


def _scalar_text(value: Any) -> str:
    # YAML reads `verify: true` as a boolean; in a shell, `true` is the command.
    return str(value).lower() if isinstance(value, bool) else str(value)


def as_script(value: Any) -> Any:
    return _scalar_text(value) if _is_scalar(value) else value


def wrap_strings(key: str) -> Any:
    """Normalize a string, or a list mixing strings and mappings, into mappings ``{key: s}``.

    Strings inside a list keep their own line, so a diagnostic on them points at that item.
    """

    def normalize(value: Any) -> Any:
        if value is None:
            return []
        if _is_scalar(value):  # a plain dict: a LineDict without a line would add nothing
            return [{key: _scalar_text(value)}]
        if isinstance(value, dict):
            return [value]
        if not isinstance(value, list):
            return value
        lines = value.item_lines if isinstance(value, LineList) else []
        out = LineList(line=getattr(value, "line", 0))
        for i, item in enumerate(value):
            if _is_scalar(item):
                line = lines[i] if i < len(lines) else 0
                item = LineDict({key: _scalar_text(item)}, line=line)  # noqa: PLW2901
            out.append(item)
        out.item_lines = lines
        return out

    return normalize


def env_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            if isinstance(v, str | int | float | bool) or v is None
            else v
            for k, v in value.items()
        }
    return value


def check_env(value: dict[str, str]) -> dict[str, str]:
    for key, text in value.items():
        if not key or "=" in key or "\0" in key:
            raise ValueError(
                f'"{_shown(key)}" is not an environment variable name (empty, or holds "=" or NUL)'
            )
        if "\0" in text:
            raise ValueError(
                f"the value of {key} contains a NUL character (\\0), which no environment "
                "variable can hold"
            )
    return value
