"""Safe YAML loading that remembers where every mapping, key and list item was written.

Parsing uses libyaml (``yaml.CSafeLoader``) when PyYAML was built with it; construction stays
in Python so we can attach line numbers. Line numbers are 1-based lines of the *file*: callers
pass the line the YAML text starts on and we pad the text so libyaml's marks are file lines.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import yaml

_BaseLoader: type[yaml.SafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # PyYAML built without libyaml: correct, only slower
    _BaseLoader = yaml.SafeLoader


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


class YamlSyntaxError(Exception):
    def __init__(self, line: int | None, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem
        self.hint = hint
        """What to do about it, when the usual advice (quoting) does not apply."""


MAX_ALIAS_NODES = 1_000_000
"""How many nodes aliases (``*name``) may add when expanded: a billion-laughs document
expands to billions from a few lines, and every consumer of the data (convert, JSON) would
walk them all."""

_AS_WRITTEN = frozenset({"id"})
"""Keys whose plain scalar value is kept as the text written: ``id: 01`` is "01", not 1."""


def _check_aliases(root: yaml.Node) -> None:
    """Raise YamlSyntaxError when aliases expand ``root`` by more than MAX_ALIAS_NODES."""
    size: dict[int, int] = {}
    composed = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        children = _children(node)
        if not done:
            composed += 1
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        size[id(node)] = 1 + sum(size.get(id(c), 1) for c in children)
        if size[id(node)] - composed > MAX_ALIAS_NODES:
            line = node.start_mark.line + 1 if node.start_mark else None
            raise YamlSyntaxError(
                line,
                f"aliases (*name) expand this YAML to more than {MAX_ALIAS_NODES} nodes; "
                "planrun does not expand it",
                hint="write the repeated values out, or use fewer aliases",
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader building LineDict/LineList and noting repeated keys."""

    def __init__(self, stream: str, *, ids_as_written: bool = True) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, str]] = []
        self.ids_as_written = ids_as_written


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict(line=node.start_mark.line + 1)
    yield data
    loader.flatten_mapping(node)
    key_lines = data.key_lines
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key (a list or mapping used as a key)",
                key_node.start_mark,
            )
        line = key_node.start_mark.line + 1
        if key in key_lines:
            loader.duplicate_keys.append((line, str(key)))
        if (
            loader.ids_as_written
            and key in _AS_WRITTEN
            and isinstance(value_node, yaml.ScalarNode)
            and not value_node.style  # plain: None (PyYAML) or '' (libyaml)
            and value_node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        ):
            data[key] = value_node.value
        else:
            data[key] = loader.construct_object(value_node, deep=False)
        key_lines[key] = line


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList(line=node.start_mark.line + 1)
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)
    data.item_lines = [child.start_mark.line + 1 for child in node.value]


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    # Agents write dates like 2025-13-45 that match YAML's timestamp pattern but are not
    # dates; PyYAML raises ValueError for those. Keep them as the text that was written.
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml(
    text: str, first_line: int = 1, *, ids_as_written: bool = True
) -> tuple[Any, list[tuple[int, str]]]:
    """Load one YAML document written at ``first_line`` of its file. With ``ids_as_written``
    (plans), a plain ``id`` value is its text (``01``), not a number; JSON, whose numbers are
    numbers, turns it off.

    Returns the data and the repeated keys as ``(line, key)``; raises YamlSyntaxError with
    the file line of the problem.
    """
    loader = _Loader("\n" * (first_line - 1) + text, ids_as_written=ids_as_written)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, loader.duplicate_keys
        _check_aliases(node)
        return loader.construct_document(node), loader.duplicate_keys
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise YamlSyntaxError(mark.line + 1 if mark else None, problem) from None
    except yaml.YAMLError as exc:
        # ReaderError (control characters) and friends carry no mark but say where.
        raise YamlSyntaxError(None, str(exc).replace("\n", " ")) from None
    except RecursionError:
        raise YamlSyntaxError(None, "the YAML is nested too deeply") from None
    finally:
        loader.dispose()
