"""Safe YAML loading that remembers where every mapping, key and list item was written.

Parsing uses libyaml (``yaml.CSafeLoader``) when PyYAML was built with it; construction stays
in Python so we can attach line numbers. A plain document (no anchors, aliases, explicit tags
or merge keys: every plan an agent writes) is built straight from the parser's events; anything
else, and every error, goes through PyYAML's node tree, which gives the same result for a plain
document (tests/test_yamlio_events.py holds the two to it) and has the last word on the rest.
Line numbers are 1-based lines of the *file*: callers pass the line the YAML text starts on
and we pad the text so libyaml's marks are file lines.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import yaml

from planrun.linedata import LineDict, LineList

_BaseLoader: type[yaml.SafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # PyYAML built without libyaml: correct, only slower
    _BaseLoader = yaml.SafeLoader


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


_MAX_DEPTH = 200
"""Nested deeper than this, a document is left to the node-tree loader (and its limits)."""

_STR = "tag:yaml.org,2002:str"
_NUMBER = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


# The loader's implicit resolvers by first character, as ``resolve`` picks them for a plain
# scalar (the ones for its first character, then the wildcard ones), looked up once here
# rather than per scalar; the loader has no path resolvers, so nothing else decides a tag.
_WILDCARD = tuple(_Loader.yaml_implicit_resolvers.get(None, []))
_RESOLVERS = {
    first: (*resolvers, *_WILDCARD)
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    if first is not None
}


class _UnhandledError(Exception):
    """What the event reader leaves to the node-tree loader."""


def _from_events(loader: _Loader) -> tuple[Any, list[tuple[int, str]]]:
    """The document built straight from the parser's events, as the node-tree loader builds
    it (the same containers, values, lines and repeated keys, in the same order), without
    composing the node tree first. Raises _UnhandledError for anything else: anchors, aliases,
    explicit tags, merge keys, keys that are not scalars, another document, a parse error,
    deep nesting. The node-tree loader then gives those their result or error."""
    get = loader.get_event
    if type(get()) is not yaml.StreamStartEvent:
        raise _UnhandledError
    event = get()
    if type(event) is yaml.StreamEndEvent:
        return None, []
    if type(event) is not yaml.DocumentStartEvent:
        raise _UnhandledError
    ids_as_written = loader.ids_as_written
    constructors = loader.yaml_constructors
    resolvers = _RESOLVERS
    new_dict, new_list = dict.__new__, list.__new__
    scalar_event, mapping_start, sequence_start = (
        yaml.ScalarEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
    )
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    # The node-tree loader fills the containers level by level (each one's contents after its
    # parent's), so it meets repeated keys in that order: (depth, order met, line, key).
    repeats: list[tuple[int, int, int, str]] = []
    # Open containers: [container, depth, key awaiting its value, its line, key pending].
    stack: list[list[Any]] = []
    root: Any = None
    done = False
    while not done:
        event = get()
        kind = type(event)
        if kind in closing:
            stack.pop()
            done = not stack
            continue
        if event.anchor is not None or event.tag is not None:
            raise _UnhandledError
        line = event.start_mark.line + 1
        container: LineDict | LineList | None = None
        if kind is scalar_event:
            value = text = event.value
            tag = _STR
            if event.implicit[0]:
                # the tag Resolver.resolve gives a plain scalar, inline (nearly every scalar)
                for tag, regexp in resolvers.get(text[0] if text else "", _WILDCARD):  # noqa: B007
                    if regexp.match(text):
                        break
                else:
                    tag = _STR
                if tag != _STR:
                    construct = constructors.get(tag)
                    if construct is None:
                        raise _UnhandledError
                    node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
                    value = construct(loader, node)
        elif kind is mapping_start:  # LineDict(line=line), without a Python __init__ call
            value = container = new_dict(LineDict)
            container.line, container.key_lines = line, {}
        elif kind is sequence_start:  # LineList(line=line), likewise
            value = container = new_list(LineList)
            container.line, container.item_lines = line, []
        else:  # an alias, or the end of the document before anything was built
            raise _UnhandledError
        if not stack:
            root = value
            done = container is None
        else:
            top = stack[-1]
            into = top[0]
            if type(into) is LineList:
                into.append(value)
                into.item_lines.append(line)
            elif top[4]:  # the value of the pending key
                key = top[2]
                if (
                    ids_as_written
                    and key in _AS_WRITTEN
                    and kind is scalar_event
                    and not event.style
                    and tag in _NUMBER
                ):
                    value = text
                into[key] = value
                into.key_lines[key] = top[3]
                top[4] = False
            else:  # a key
                if container is not None or (
                    type(value) is not str and not isinstance(value, Hashable)
                ):
                    raise _UnhandledError
                if value in into.key_lines:
                    repeats.append((top[1], len(repeats), line, str(value)))
                top[2], top[3], top[4] = value, line, True
        if container is not None:
            depth = len(stack)
            if depth > _MAX_DEPTH:
                raise _UnhandledError
            stack.append([container, depth, None, 0, False])
    if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
        raise _UnhandledError
    repeats.sort()
    return root, [(line, key) for _, _, line, key in repeats]


def load_yaml(
    text: str, first_line: int = 1, *, ids_as_written: bool = True
) -> tuple[Any, list[tuple[int, str]]]:
    """Load one YAML document written at ``first_line`` of its file. With ``ids_as_written``
    (plans), a plain ``id`` value is its text (``01``), not a number; JSON, whose numbers are
    numbers, turns it off.

    Returns the data and the repeated keys as ``(line, key)``; raises YamlSyntaxError with
    the file line of the problem.
    """
    text = "\n" * (first_line - 1) + text
    loader = _Loader(text, ids_as_written=ids_as_written)
    try:
        return _from_events(loader)
    except Exception:  # noqa: BLE001, S110 - the node-tree loader below has the last word
        pass
    finally:
        loader.dispose()
    return _from_nodes(text, ids_as_written=ids_as_written)


# Where a bracket or brace opened that was never closed: the problem is found lines later.
_OPENED = {"a flow sequence": ("[", "]"), "a flow mapping": ("{", "}")}


def _syntax_error(exc: yaml.MarkedYAMLError) -> YamlSyntaxError:
    """A parse error at the line PyYAML found it; where the construct it was reading began
    is named when that is another line (an unclosed ``[`` is found at the next key)."""
    mark = exc.problem_mark or exc.context_mark
    problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
    start = exc.context_mark
    if start is None or mark is None or start.line == mark.line or not exc.context:
        return YamlSyntaxError(mark.line + 1 if mark else None, problem)
    what = exc.context.removeprefix("while parsing ").removeprefix("while scanning ")
    problem = f"{exc.problem or 'invalid YAML'}, in {what} that starts on line {start.line + 1}"
    hint = None
    if what in _OPENED:
        opened, closed = _OPENED[what]
        hint = f"close the '{opened}' of line {start.line + 1} with '{closed}', or quote its text"
    elif what == "a quoted scalar":
        hint = f"close the quote opened on line {start.line + 1}"
    return YamlSyntaxError(mark.line + 1, problem, hint)


def _from_nodes(text: str, *, ids_as_written: bool) -> tuple[Any, list[tuple[int, str]]]:
    """load_yaml by composing the node tree first: all of YAML (anchors, aliases, tags, merge
    keys) and every error, with its line."""
    loader = _Loader(text, ids_as_written=ids_as_written)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, loader.duplicate_keys
        _check_aliases(node)
        return loader.construct_document(node), loader.duplicate_keys
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc) from None
    except yaml.YAMLError as exc:
        # ReaderError (control characters) and friends carry no mark but say where.
        raise YamlSyntaxError(None, str(exc).replace("\n", " ")) from None
    except RecursionError:
        raise YamlSyntaxError(None, "the YAML is nested too deeply") from None
    finally:
        loader.dispose()
