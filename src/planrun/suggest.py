"""Did-you-mean suggestions that stay near-linear on plans with tens of thousands of ids.

difflib compares a name against every candidate; with 20,000 task ids and many unknown
dependencies that is quadratic. Instead we index candidates once, lazily, by their sorted
letters (catches transpositions: "buidl" -> "build") and by every one-letter deletion (catches
one inserted, deleted or replaced letter), so each lookup costs O(len(name)).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from planrun import lazyre

_DIGITS = lazyre.compile(r"\d")


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """Best match among a small, fixed set (keys of a schema)."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


class Suggester:
    """Suggest the candidate nearest to a misspelled id, in O(len(id)) per lookup."""

    def __init__(self, candidates: Iterable[str]) -> None:
        self._candidates = candidates
        self._index: dict[str, str] | None = None

    def _build(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for cand in self._candidates:
            low = cand.lower()
            index.setdefault("=" + low, cand)
            index.setdefault("~" + "".join(sorted(low)), cand)
            for gone in _deletions(low):
                index.setdefault("-" + gone, cand)
        return index

    def suggest(self, name: str, exclude: str | None = None) -> str | None:
        if self._index is None:
            self._index = self._build()
        low = name.lower()
        # Nearest first: same letters in another case or order; then, for names long enough
        # that one edit leaves them recognisable, one letter too many, missing, or replaced.
        keys = ["=" + low, "~" + "".join(sorted(low))]
        if len(low) > 2:
            dels = _deletions(low)
            keys += ["=" + d for d in dels]
            keys.append("-" + low)
            keys += ["-" + d for d in dels]
        for key in keys:
            found = self._index.get(key)
            if found is not None and found not in (name, exclude) and not _renumbered(found, name):
                return found
        return None


def _renumbered(a: str, b: str) -> bool:
    """ "task-9" for "task-1" is another number, not a typo: no suggestion."""
    return a != b and _DIGITS.sub("#", a) == _DIGITS.sub("#", b)


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]
