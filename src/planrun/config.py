"""Configuration: ``[tool.planrun]`` in pyproject.toml, or a standalone ``planrun.toml``.

The first folder, from the current one upwards, that has either file wins (``planrun.toml``
before ``pyproject.toml`` in one folder; a pyproject.toml without ``[tool.planrun]`` does not
count). Precedence, strongest first: command-line flags, the configuration file, built-in
defaults. Unknown keys are an error with a did-you-mean.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from planrun.errors import UsageError
from planrun.modelfields import check_timeout
from planrun.suggest import closest


@dataclass(frozen=True)
class Config:
    path: tuple[str, ...] = ()  # default plan paths
    jobs: int | None = None
    timeout: float | None = None
    summary: str | None = None  # SUMMARY.md location
    summary_template: str | None = None
    format: str | None = None
    shell: str | None = None
    reuse: bool = True  # reuse recorded passes whose key did not change
    derive: bool = True  # derive checks for tasks without verify
    hook_max_blocks: int = 3  # agent hooks: blocks in a row per session before letting a stop by
    base_ref: str | None = None  # the "base" key: the commit claims are held against
    strict_scope: bool = False
    source: Path | None = None  # the file these came from
    base: Path | None = None  # paths in the file are relative to its folder

    def resolve(self, value: str | None) -> Path | None:
        if value is None:
            return None
        path = Path(value)
        return path if path.is_absolute() or self.base is None else self.base / path

    def plan_paths(self) -> list[Path]:
        """The configured default plan paths (``path``), resolved; empty when none is set."""
        return [p for p in (self.resolve(x) for x in self.path) if p is not None]


_TYPES: dict[str, tuple[type, ...]] = {
    "path": (str, list),
    "jobs": (int,),
    "timeout": (int, float),
    "summary": (str,),
    "summary_template": (str,),
    "format": (str,),
    "shell": (str,),
    "reuse": (bool,),
    "derive": (bool,),
    "hook_max_blocks": (int,),
    "base": (str,),
    "strict_scope": (bool,),
}
_FIELDS = {"base": "base_ref"}  # keys whose Config field has another name
KEYS = tuple(_TYPES)


def find_config(start: Path) -> Path | None:
    here = start.resolve()
    for folder in (here, *here.parents):
        standalone = folder / "planrun.toml"
        if standalone.is_file():
            return standalone
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_section(pyproject):
            return pyproject
    return None


def _has_section(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if "tool.planrun" in text:  # meant for planrun: say why it is not read
            raise UsageError(f"{pyproject}: invalid TOML: {exc}") from None
        return False
    return isinstance(data.get("tool"), dict) and "planrun" in data["tool"]


def load_config(start: Path | None = None) -> Config:
    """The configuration that applies in ``start`` (default: the current folder)."""
    found = find_config(start or Path.cwd())
    if found is None:
        return Config()
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {found}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{found}: invalid TOML: {exc}") from None
    if found.name == "pyproject.toml":
        table: Any = data["tool"]["planrun"]
        where = "[tool.planrun]"
    else:
        table = data.get("tool", {}).get("planrun", data)
        where = "planrun.toml"
    if not isinstance(table, dict):
        raise UsageError(f"{found}: {where} must be a table of settings")
    return _parse(table, found, where)


def _parse(table: dict[str, Any], source: Path, where: str) -> Config:
    values: dict[str, Any] = {}
    value: Any
    for key, raw in table.items():
        value = raw
        if key not in _TYPES:
            guess = closest(key, KEYS)
            hint = f' (did you mean "{guess}"?)' if guess else ""
            raise UsageError(
                f'{source}: unknown setting "{key}" in {where}{hint}; settings: {", ".join(KEYS)}'
            )
        allowed = _TYPES[key]
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            kinds = " or ".join("a list of strings" if t is list else t.__name__ for t in allowed)
            raise UsageError(f'{source}: setting "{key}" must be {kinds}, got {value!r}')
        if key == "path":
            paths: list[Any] = [value] if isinstance(value, str) else cast(list[Any], value)
            if not all(isinstance(p, str) for p in paths):
                raise UsageError(f'{source}: setting "path" must be a string or list of strings')
            value = tuple(paths)
        if key == "jobs" and value < 1:
            raise UsageError(f'{source}: setting "jobs" must be at least 1, got {value}')
        if key == "hook_max_blocks" and value < 0:
            raise UsageError(f'{source}: setting "hook_max_blocks" must be 0 or more, got {value}')
        if key == "timeout":
            try:
                check_timeout(float(value))
            except (ValueError, OverflowError) as exc:
                raise UsageError(f'{source}: setting "timeout": {exc}') from None
        values[_FIELDS.get(key, key)] = value
    return Config(**values, source=source, base=source.parent)
