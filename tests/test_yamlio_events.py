"""yamlio's event reader gives what the node-tree loader gives: data, lines, repeated keys and
errors (a plain document is built from the parser's events; anything else falls back)."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planrun import yamlio
from planrun.linedata import LineDict, LineList
from planrun.yamlio import YamlSyntaxError, load_yaml

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

DOCUMENTS = [
    "a: 1\na: 2\nb: {c: 1, c: 2}\n",
    "a:\n  - b: 1\n    b: 2\n  - c\nd: {e: 1, e: 2}\nd: 3\n",  # repeats at several depths
    "id: 01\nx: [1, 2]\nid: 1.50\n",
    "tasks:\n  - id: 07\n    name: 'quoted: yes'\n    verify: |\n      test -e x\n",
    "a: yes\nb: No\nc: ~\nd: null\ne: 1_000\nf: 0o17\ng: 1:20\nh: .inf\ni: -.5\n",
    "a: 2025-13-45\nb: 2024-01-01\nc: 2024-01-01 10:00:00\n",
    "1: one\nnull: none\ntrue: t\n",
    "",
    "# only a comment\n",
    "---\n",
    "plain scalar\n",
    "[[[[1]]], {a: [b, {c: d}]}]\n",
    "a: " + "[" * 300 + "]" * 300 + "\n",  # deeper than the event reader goes
    # left to the node tree: anchors, aliases, tags, merge keys, odd keys, errors
    "- &a x\n- *a\n",
    "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",
    "a: !!str 1\n",
    "? [1]\n: 2\n",
    "{a: 1}: 2\n",
    "a: =\n",
    "= : 1\n",
    "a: ! x\n",
    "a: 1\n---\nb: 2\n",
    "a: [\n",
    'a: "\\q"\n',
    "a: b\n\tc: d\n",
    "a: b: c\n",
]


def shape(data: Any) -> Any:
    """Everything load_yaml gives, lines included, in a form == compares."""
    if isinstance(data, LineDict):
        items = [(shape(k), shape(v)) for k, v in data.items()]
        return ("map", data.line, dict(data.key_lines), items)
    if isinstance(data, LineList):
        return ("seq", data.line, list(data.item_lines), [shape(v) for v in data])
    if isinstance(data, float) and math.isnan(data):
        return ("nan",)
    return (type(data).__name__, data)


def outcome(load: Any, text: str, first_line: int, ids: bool) -> Any:
    try:
        data, repeated = load(text, first_line, ids)
    except YamlSyntaxError as exc:
        return ("error", exc.line, exc.problem, exc.hint)
    return ("ok", shape(data), repeated)


def by_events(text: str, first_line: int, ids: bool) -> Any:
    return load_yaml(text, first_line, ids_as_written=ids)


def by_nodes(text: str, first_line: int, ids: bool) -> Any:
    return yamlio._from_nodes("\n" * (first_line - 1) + text, ids_as_written=ids)


def same(text: str, first_line: int = 2, ids: bool = True) -> None:
    assert outcome(by_events, text, first_line, ids) == outcome(by_nodes, text, first_line, ids)


@pytest.mark.parametrize("text", DOCUMENTS)
@pytest.mark.parametrize("ids", [True, False])
def test_documents(text: str, ids: bool) -> None:
    same(text, 2, ids)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside the checkout")
def test_the_seed_plans() -> None:
    frontmatters = []
    for path in sorted(p for p in SEEDS.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---\n") and "\n---" in text[3:]:
            frontmatters.append(text[4 : text.index("\n---", 3) + 1])
    assert frontmatters
    for text in frontmatters:
        same(text)


PIECES = ["a", "id", ":", " ", "\n", "  ", "-", "[", "]", "{", "}", ",", "1", "01", "'", '"']
PIECES += ["#", "&x", "*x", "!", "?", "|", ">", "\t", "<<", "=", "~", "yes", "2024-01-01"]


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_any_text(text: str) -> None:
    same(text)


def test_a_plain_plan_is_read_from_events(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_tree(text: str, *, ids_as_written: bool) -> Any:
        raise AssertionError("composed the node tree")

    monkeypatch.setattr(yamlio, "_from_nodes", no_tree)
    data, repeated = load_yaml(DOCUMENTS[1] + DOCUMENTS[3], 2)
    assert repeated == [(7, "d"), (6, "e"), (4, "b")]  # level by level, as the node tree
    assert data.key_lines["tasks"] == 8
    assert data["tasks"][0]["id"] == "07"


@pytest.mark.parametrize("text", ["- &a x\n- *a\n", "a: !!str 1\n", "<<: {a: 1}\n", "a: [\n"])
def test_the_rest_goes_through_the_node_tree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    composed: list[str] = []
    real = yamlio._from_nodes

    def counting(text: str, *, ids_as_written: bool) -> Any:
        composed.append(text)
        return real(text, ids_as_written=ids_as_written)

    monkeypatch.setattr(yamlio, "_from_nodes", counting)
    with contextlib.suppress(YamlSyntaxError):
        load_yaml(text)
    assert composed == [text]
