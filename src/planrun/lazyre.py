"""Module-level patterns compiled on first use.

planrun's rules hold a few hundred patterns, and most runs use a few dozen of them (a plan of
``test -f`` checks never meets the rules about pytest's output, a canonical plan never meets
the prose rules). Compiling them all at import was about a fifth of what ``execute`` of one
task did before its first child started. A deferred pattern is compiled the first time any of
its attributes is used, then binds the compiled pattern's methods on itself, so later uses cost
what a compiled pattern's do. tests/test_lazyre.py compiles every one, so a typo in a rule
still fails the tests, not a user's run.
"""

from __future__ import annotations

import re
from typing import AnyStr, cast

_BOUND = (
    "search",
    "match",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "scanner",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)

DEFERRED: list[_Deferred] = []
"""Every deferred pattern made so far (for the test that compiles them all)."""


class _Deferred:
    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> object:
        # Only reached for what is not bound yet; "_source" missing would mean a half-built
        # object (never made here), and looking it up again would recurse.
        if name.startswith("__") or name == "_source":
            raise AttributeError(name)
        pattern, flags = self._source
        compiled: re.Pattern[str] | re.Pattern[bytes] = re.compile(pattern, flags)
        for attr in _BOUND:
            self.__dict__[attr] = getattr(compiled, attr)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazyre.compile({self._source[0]!r}, {self._source[1]!r})"


def compile(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:  # noqa: A001 -- re's name
    """``re.compile``, deferred. Use the result through its methods and attributes only: it
    is not an ``re.Pattern`` instance (``re.sub(pattern, ...)`` would not take it)."""
    deferred = _Deferred(pattern, flags)
    DEFERRED.append(deferred)
    return cast("re.Pattern[AnyStr]", deferred)
