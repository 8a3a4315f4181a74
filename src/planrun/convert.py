"""``planrun convert``: any plan, written in the canonical format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from planrun.document import Document
from planrun.errors import UsageError
from planrun.model import Plan
from planrun.readers.common import parse_body

_FIELD_ORDER = ("planrun", "id", "title", "depends_on", "wave", "root", "env", "timeout")


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings, so converted scripts stay readable."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
# Containers from the line-aware loader are plain dicts and lists to the dumper.
_Dumper.add_multi_representer(dict, lambda d, v: d.represent_dict(dict(v)))
_Dumper.add_multi_representer(list, lambda d, v: d.represent_list(list(v)))


def _simplify_verify(items: list[dict[str, Any]]) -> list[Any]:
    return [item["run"] if set(item) == {"run"} else item for item in items]


def canonical_data(plan: Plan) -> dict[str, Any]:
    data = plan.model_dump(by_alias=True, exclude_defaults=True)
    out: dict[str, Any] = {"planrun": 1, "id": plan.id}
    for key in _FIELD_ORDER[2:]:
        if key in data:
            out[key] = data[key]
    for key in ("milestones", "tasks", "must_haves", "verify", "metadata"):
        if key in data:
            out[key] = data[key]
    for task in out.get("tasks", []):
        if "verify" in task:
            task["verify"] = _simplify_verify(task["verify"])
        if task.get("name") == task["id"]:
            del task["name"]
    if "verify" in out:
        out["verify"] = _simplify_verify(out["verify"])
    for holder in [out, *out.get("tasks", [])]:
        truths = holder.get("must_haves", {}).get("truths")
        if truths:
            for t in truths:
                if "verify" in t:
                    t["verify"] = _simplify_verify(t["verify"])
            holder["must_haves"]["truths"] = [
                t["truth"] if set(t) == {"truth"} else t for t in truths
            ]
    for milestone in out.get("milestones", []):
        if milestone.get("name") == milestone["id"]:
            del milestone["name"]
    return out


def pick_plan(path: Path, plans: list[Plan], plan_id: str | None) -> Plan:
    """The one plan to convert: the only one, or the one ``--plan`` names."""
    ids = ", ".join(p.id for p in plans) or "none"
    if plan_id is not None:
        for plan in plans:
            if plan.id == plan_id:
                return plan
        raise UsageError(f'{path} holds no plan "{plan_id}"; its plans: {ids}')
    if len(plans) != 1:
        raise UsageError(
            f"{path} holds {len(plans)} plans ({ids}); convert writes one",
            hint="choose one with --plan ID",
        )
    return plans[0]


def to_canonical(plan: Plan, doc: Document | None) -> str:
    """The plan as a canonical file; the original text (of a single file) follows it."""
    front = yaml.dump(
        canonical_data(plan), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    note = (
        f"<!-- Converted by planrun convert from {plan.source} ({plan.format} format). "
        "planrun reads only the frontmatter above"
    )
    if doc is None:
        return f"---\n{front}---\n\n{note}. -->\n"
    note += "; the original text follows. -->\n\n"
    if doc.path.suffix.lower() != ".md":
        # Not markdown (a Task Master tasks.json): kept verbatim in a fence.
        fence = "~~~~"
        lang = doc.path.suffix.lstrip(".").lower()
        return f"---\n{front}---\n\n{note}{fence}{lang}\n{doc.text.rstrip()}\n{fence}\n"
    # The body as the readers see it: up to any agent transcript pasted after the document.
    original = "\n".join(line.text for line in parse_body(doc).lines)
    return f"---\n{front}---\n\n{note}{original.strip()}\n"
