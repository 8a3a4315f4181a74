"""``planrun graph`` output: mermaid, Graphviz dot, and JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping

from planrun.escape import mermaid_label
from planrun.graph import PlanGraph

FORMATS = ("mermaid", "dot", "json")


def render(graph: PlanGraph, fmt: str, statuses: Mapping[str, str] | None = None) -> str:
    statuses = statuses or {}
    if fmt == "mermaid":
        return mermaid(graph, statuses)
    if fmt == "dot":
        return dot(graph)
    return json.dumps(to_json(graph, statuses), indent=2) + "\n"


def to_json(graph: PlanGraph, statuses: Mapping[str, str]) -> dict[str, object]:
    return {
        "schema_version": 1,
        "nodes": [
            {"id": u.id, "wave": u.wave, "status": statuses.get(u.id, "not_run")}
            for u in graph.units
        ],
        "edges": [[a.id, b.id] for a, b in graph.edges()],
    }


# Each status's colours (fill, stroke), in the order their classDefs are written.
COLOURS = {
    "passed": ("#d3f9d8", "#2f9e44"),
    "failed": ("#ffe3e3", "#e03131"),
    "timeout": ("#ffe8cc", "#e8590c"),
    "blocked": ("#f1f3f5", "#868e96"),
    "stale": ("#f3f0ff", "#7048e8"),
    "error": ("#fff0f6", "#c2255c"),
    "manual": ("#e7f5ff", "#1971c2"),
    "unverified": ("#fff3bf", "#f08c00"),
    "not_run": ("#ffffff", "#adb5bd"),
}


def mermaid(graph: PlanGraph, statuses: Mapping[str, str]) -> str:
    lines = ["graph TD"]
    lines.extend(f'  n{u.index}["{mermaid_label(u.id)}"]' for u in graph.units)
    lines.extend(f"  n{a.index} --> n{b.index}" for a, b in graph.edges())
    if statuses:
        for status in sorted(set(statuses.values())):
            members = [f"n{u.index}" for u in graph.units if statuses.get(u.id) == status]
            if members:
                lines.append(f"  class {','.join(members)} {status}")
        # A class without a classDef colours nothing.
        lines.extend(
            f"  classDef {status} fill:{fill},stroke:{stroke},color:#000"
            for status, (fill, stroke) in COLOURS.items()
            if status in statuses.values()
        )
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: PlanGraph) -> str:
    lines = ["digraph planrun {", "  rankdir=TB;", "  node [shape=box];"]
    lines.extend(f"  {_dot_id(u.id)} [label={_dot_id(u.id)}];" for u in graph.units)
    lines.extend(f"  {_dot_id(a.id)} -> {_dot_id(b.id)};" for a, b in graph.edges())
    lines.append("}")
    return "\n".join(lines) + "\n"
