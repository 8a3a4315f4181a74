"""The README's module map is true: every module is listed, and imports point only downward.

The map is a table in README.md (module, layer, what it owns). A module may import modules of
its own layer or of a lower one, and the imports between planrun's modules form no cycle, so
each layer can be read (and tested) without the ones above it.
"""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "src" / "planrun"
ROW = re.compile(r"^\|\s*`(?P<module>[\w.]+)`\s*\|\s*(?P<layer>\d)\s*\|")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """The planrun modules that ``path`` imports, at any depth (function-level imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from planrun import proc`` imports the module planrun.proc
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def _map() -> dict[str, int]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Module map\n", 1)
    assert len(section) == 2, "README.md has no '## Module map' section"
    body = section[1].split("\n## ", 1)[0]
    layers: dict[str, int] = {}
    for line in body.splitlines():
        match = ROW.match(line)
        if match:
            layers["planrun" + ("." + match["module"] if match["module"] != "planrun" else "")] = (
                int(match["layer"])
            )
    return layers


def test_every_module_is_in_the_map_and_nothing_else() -> None:
    listed = set(_map())
    actual = set(_modules())
    assert sorted(actual - listed) == [], "modules missing from README.md's module map"
    assert sorted(listed - actual) == [], "README.md's module map lists modules that do not exist"


def test_imports_point_only_downward() -> None:
    layers = _map()
    modules = _modules()
    upward = [
        f"{name} (layer {layers[name]}) imports {other} (layer {layers[other]})"
        for name, path in modules.items()
        for other in sorted(_imports(path, set(modules)))
        if other != name and name in layers and other in layers and layers[other] > layers[name]
    ]
    assert upward == []


def test_the_imports_between_modules_form_no_cycle() -> None:
    modules = _modules()
    # A package's __init__ is imported with each of its submodules; only its own imports count.
    graph = {
        name: {
            other
            for other in _imports(path, set(modules))
            if other != name and not name.startswith(other + ".")
        }
        for name, path in modules.items()
    }
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")
