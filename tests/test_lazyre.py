"""Deferred patterns: every rule's pattern still compiles, and a deferred one acts as compiled."""

from __future__ import annotations

import importlib
import pkgutil
import re

import planrun
from planrun import lazyre


def test_every_deferred_pattern_compiles() -> None:
    # A pattern is compiled when a run first uses it: a typo in one must fail here, not in
    # the one run that meets its rule.
    for module in pkgutil.walk_packages(planrun.__path__, "planrun."):
        importlib.import_module(module.name)
    assert len(lazyre.DEFERRED) > 250
    for deferred in lazyre.DEFERRED:
        source, flags = vars(deferred)["_source"]
        assert deferred.pattern == source  # type: ignore[attr-defined]
        assert deferred.flags == re.compile(source, flags).flags  # type: ignore[attr-defined]


def test_a_deferred_pattern_compiles_once_and_acts_as_compiled() -> None:
    pattern = lazyre.compile(r"(?P<word>b\w+)", re.I)
    assert "search" not in vars(pattern)
    assert repr(pattern) == "lazyre.compile('(?P<word>b\\\\w+)', re.IGNORECASE)"
    match = pattern.search("a Bee")
    assert match is not None
    assert match["word"] == "Bee"
    assert "search" in vars(pattern)  # bound: later uses do not come back to compile
    assert pattern.sub("x", "a bee, a bat") == "a x, a x"
    assert [m[0] for m in pattern.finditer("bo ba")] == ["bo", "ba"]
    assert pattern.fullmatch("boo") is not None
    assert pattern.groupindex == {"word": 1}
    assert pattern.flags & re.I
