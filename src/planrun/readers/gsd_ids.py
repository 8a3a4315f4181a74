"""GSD's names for plans: ids padded as GSD pads them, the spellings of depends_on, the
aliases a plan is known by, and the claim of the ``NN-MM-SUMMARY.md`` beside it."""

from __future__ import annotations

import re
from typing import Any

from planrun import lazyre
from planrun.document import Document, UndecodableError, written_by_planrun
from planrun.linedata import LineDict

PLAN_FILE = lazyre.compile(r"^(\d+(?:\.\d+)?)-(\d+)-PLAN\.md$", re.I)
# GSD SUMMARY.md statuses that are not "done".
_CLAIMS = {
    "halted": "blocked",
    "blocked": "blocked",
    "partial": "in_progress",
    "in_progress": "in_progress",
    "in-progress": "in_progress",
    "failed": "todo",
    "incomplete": "todo",
}


def _number(text: str) -> str:
    """A GSD phase or plan number as GSD pads it: "7" and "007" are "07", "144" and "0144"
    are "144", "2.1" is "02.1"."""
    whole, dot, frac = text.partition(".")
    return whole.lstrip("0").zfill(2) + dot + frac


def plan_id(front: LineDict, doc: Document) -> str | None:
    phase, number = front.get("phase"), front.get("plan")
    file = PLAN_FILE.match(doc.path.name)
    if phase is not None and number is not None:
        phase_no = re.match(r"\d+(?:\.\d+)?", str(phase))
        plan_no = re.match(r"\d+", str(number))
        if phase_no and plan_no:
            return f"{_number(phase_no.group(0))}-{_number(plan_no.group(0))}"
        if phase_no and re.fullmatch(r"[\w.-]+", str(number)):
            return f"{_number(phase_no.group(0))}-{number}"
    return f"{_number(file.group(1))}-{_number(file.group(2))}" if file else None


def dep(value: Any, phase: str | None) -> str:
    """A depends_on entry as a plan id: YAML reads [01] as the integer 1 (GSD means plan 01
    of the same phase); a path or file name means its plan; ids are padded as ids are."""
    text = f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    text = text.strip().strip("\"'")
    if "/" in text:
        text = text.rsplit("/", 1)[1]
    base = re.sub(r"(?:-PLAN)?(?:\.md)?$", "", text, flags=re.I)
    if re.fullmatch(r"\d+", base) and phase:
        return f"{phase}-{_number(base)}"
    match = re.fullmatch(r"(\d+(?:\.\d+)?)-(\d+)", base)
    if match:
        return f"{_number(match.group(1))}-{_number(match.group(2))}"
    return base


def phase_of(dep: str) -> str | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)-\d+", dep)
    return match.group(1) if match else None


def aliases(plan_id: str, doc: Document, front: LineDict) -> list[str]:
    """Other names of this plan in GSD depends_on lists."""
    stem = doc.path.name.removesuffix(".md")
    out = [f"{plan_id}-PLAN", stem, re.sub(r"-PLAN$", "", stem, flags=re.I)]
    raw_phase = re.match(r"\d+(?:\.\d+)?", str(front.get("phase", "")))
    if raw_phase and front.get("plan") is not None:
        out.append(f"{raw_phase.group(0)}-{front.get('plan')}")
    return out


def claim(doc: Document) -> str | None:
    """What GSD's ``NN-MM-SUMMARY.md`` beside the plan claims: done, unless its frontmatter
    status or a failed self-check says otherwise. None without a GSD summary."""
    name = re.sub(r"-PLAN\.md$", "-SUMMARY.md", doc.path.name, flags=re.I)
    path = doc.path.with_name(name)
    if name == doc.path.name or not path.is_file():
        return None
    try:
        summary = Document.read(path)
    except (OSError, UndecodableError):
        return None
    data = summary.frontmatter.data
    if written_by_planrun(data):
        return None  # planrun's own report is not GSD's claim
    status = str(data.get("status", "")).strip().lower() if isinstance(data, dict) else ""
    if status in _CLAIMS:
        return _CLAIMS[status]
    if re.search(r"self[- ]check:?\**\s*:?\s*\**\s*failed", summary.text, re.I):
        return "in_progress"
    return "done"
