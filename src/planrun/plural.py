"""Counted words: ``1 task``, ``2 tasks``; the one place planrun decides between one and many."""

from __future__ import annotations


def pluralize(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, in the plural (``many``, else ``word`` + s) unless it is 1."""
    return f"{count} {agree(count, word, many or word + 's')}"


def agree(count: int, one: str, many: str) -> str:
    """The form of a word that agrees with ``count``: ``has``/``have``, ``does``/``do``."""
    return one if count == 1 else many
