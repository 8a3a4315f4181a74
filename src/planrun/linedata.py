"""The containers a plan's YAML is read into: a mapping and a list that know the lines they
and their items were written on. Apart from the YAML reader (yamlio.py), so that the models and
a plan from the plan cache use them without importing PyYAML."""

from __future__ import annotations

from typing import Any


class LineDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key."""

    __slots__ = ("key_lines", "line")

    def __init__(self, *args: Any, line: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, *args: Any, line: int = 0) -> None:
        super().__init__(*args)
        self.line = line
        self.item_lines: list[int] = []
