"""Checklists: ``- [ ]`` / ``- [x]`` items are tasks (claimed status from the box), including
spec-kit, Kiro and OpenSpec tasks.md (see checkitems.py for items, markers and their order).

Commands in backticks under headings such as "Test / Validation", "PR Gates" or "Validation"
become the plan's own checks; other statements there, and under "Success Criteria", are
manual truths.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from planrun import lazyre, markdown, prose
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.model import Plan
from planrun.readers import manualsteps
from planrun.readers.canonical import validate_plan
from planrun.readers.checkitems import read_items
from planrun.readers.common import (
    items,
    mapping,
    note_held,
    note_not_asked,
    parse_body,
    start_plan,
    verify_list,
)
from planrun.shellsplit import Chunk, split_script

# Documents of a feature folder that describe the feature but are not its task list: spec-kit
# (plan, spec, research, data-model, quickstart; checklists/ and contracts/), Kiro
# (requirements, design) and OpenSpec (proposal, design; specs/).
_COMPANIONS = frozenset(
    {
        "plan.md",
        "spec.md",
        "research.md",
        "data-model.md",
        "quickstart.md",
        "requirements.md",
        "design.md",
        "proposal.md",
    }
)
_VERIFICATION = lazyre.compile(r"^\**(?:verification|verify)\**\s*:\**\s*(.+)$", re.I)
_ODD_BOX = lazyre.compile(r"^\s*[-*+]\s+\[[^\]]?\](?:\s|\\?\*|$)")
_COMPANION_DIRS = frozenset({"checklists", "contracts", "specs"})


class ChecklistReader:
    name: ClassVar[str] = "checklist"

    def skips(self, path: Path) -> str | None:
        """A feature folder's companion documents, beside (or under) its tasks.md."""
        if path.name.lower() in _COMPANIONS and (path.parent / "tasks.md").is_file():
            return f"a companion document of {path.parent.name}/tasks.md, not a plan"
        for folder in path.parents:
            if folder.name in _COMPANION_DIRS and (folder.parent / "tasks.md").is_file():
                return f"a companion document of {folder.parent.name}/tasks.md, not a plan"
            if folder.name in ("specs", "changes", ""):
                break
        return None

    def detect(self, doc: Document) -> bool:
        body = parse_body(doc)
        if any(markdown.checkbox(ln.text) for ln in body.lines if ln.no not in body.fenced):
            return True
        return bool(_gate_commands(body))

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        body, data, first = start_plan(doc, diags)
        for line in body.lines:
            if (
                line.no not in body.fenced
                and _ODD_BOX.match(line.text)
                and not markdown.box(line.text)
            ):
                diags.add(
                    "ignored-content",
                    doc.display,
                    line.no,
                    f"{line.text.strip()[:40]!r} looks like a checkbox planrun does not know; "
                    "ignored",
                    hint="use [ ] (todo), [x] (done) or [-] (in progress)",
                )
        found = read_items(body, first, "item-")
        for no, reasons in found.not_asked.items():
            for reason in reasons:
                note_not_asked(reason, no, (doc, diags))
        for no, text in found.prose:
            if no in found.held:
                note_held(found.held[no], no, (doc, diags))
                continue
            if no in found.not_asked:
                continue  # said why above
            diags.add(
                "prose-verify",
                doc.display,
                no,
                f"verification {text[:60]!r} is prose, not a command: it is a manual check",
                hint="put the command in backticks: `pytest -q`",
            )
        data["tasks"] = found.tasks
        if found.requirements:
            data["metadata"] = {**data.get("metadata", {}), "requirements": found.requirements}
        commands = _gate_commands(body)
        _note_unsure(body, doc, diags)
        manualsteps.note(body, doc, diags)
        if commands:
            data["verify"] = verify_list(commands, commands[0].line)
        truths = _truths(body) + found.truths
        if truths:
            data["must_haves"] = mapping(truths[0][0], truths=items(truths, truths[0][0]))
        return validate_plan(doc, data, self.name, diags)


def _gate_sections(body: markdown.Body) -> list[markdown.Heading]:
    return [h for h in body.headings if prose.gate_heading(h)]


def _gate_lines(body: markdown.Body) -> list[tuple[markdown.Line, prose.Extracted]]:
    """Each line of a gate section (outside fences, checkboxes and a subsection for a person)
    with what it holds."""
    out = []
    seen = manualsteps.lines_under(body)
    for heading in _gate_sections(body):
        for line in manualsteps.loose_lines(body, heading):
            if line.no in seen:
                continue
            seen.add(line.no)
            out.append((line, prose.extract(line.text, line.no)))
    return out


def _gate_commands(body: markdown.Body) -> list[prose.Check | Chunk]:
    """The plan's own checks: commands in gate sections (in lines and in shell fences), and
    ``Verification:`` lines outside items (OpenSpec writes them under a group)."""
    found: dict[str, prose.Check | Chunk] = {}
    for _, extracted in _gate_lines(body):
        for check in extracted.commands:
            found.setdefault(check.text, check)
    gates = [markdown.section(body, h) for h in _gate_sections(body)]
    spans = [(lines[0].no, lines[-1].no) for lines in gates if lines]
    manual = manualsteps.lines_under(body)
    for block in body.blocks:
        script = prose.fence_script(block)
        if script is None or block.no in manual:
            continue
        if any(a <= block.no <= b for a, b in spans):
            for chunk in split_script(script, block.first):
                found.setdefault(chunk.text, chunk)
    for _, extracted in _verification_lines(body):
        for check in extracted.commands:
            found.setdefault(check.text, check)
    return list(found.values())


def _verification_lines(body: markdown.Body) -> list[tuple[markdown.Line, prose.Extracted]]:
    """``Verification:`` lines outside items (OpenSpec writes them under a group)."""
    out = []
    headings = {h.no for h in body.headings}
    for index, line in enumerate(body.lines):
        if line.no in body.fenced or line.text[:1].isspace():
            continue
        above = body.lines[index - 1] if index else None
        if above is not None and above.text.strip() and above.no not in headings:
            continue  # right under an item, it is that item's (see checkitems)
        match = _VERIFICATION.match(line.text)
        if match:
            out.append((line, prose.extract(match.group(1), line.no)))
    return out


def _note_unsure(body: markdown.Body, doc: Document, diags: Diagnostics) -> None:
    gate = _gate_lines(body)
    inside = {line.no for line, _ in gate}
    for line, extracted in _verification_lines(body):
        if line.no in inside:
            continue
        if extracted.held:
            note_held(extracted.held, line.no, (doc, diags))
        for reason in extracted.not_asked:
            note_not_asked(reason, line.no, (doc, diags))
    for line, extracted in gate:
        if extracted.held:
            note_held(extracted.held, line.no, (doc, diags))
        for reason in extracted.not_asked:
            note_not_asked(reason, line.no, (doc, diags))
        for text in extracted.unsure:
            diags.add(
                "prose-verify",
                doc.display,
                line.no,
                f"{text[:60]!r} reads as prose, not a command: it is a manual check, not run",
                hint="put only the command in backticks: `pytest -q`",
            )


def _truths(body: markdown.Body) -> list[tuple[int, str]]:
    """Statements under gate, success-criteria and manual headings that no command checks."""
    out: list[tuple[int, str]] = []
    gate = _gate_lines(body)
    for line, extracted in gate:
        if extracted.statement and markdown.bullet(line.text):
            out.append((line.no, extracted.statement))
    inside = {line.no for line, _ in gate}
    for line, extracted in _verification_lines(body):
        if (
            (extracted.held or extracted.not_asked)
            and extracted.statement
            and line.no not in inside
        ):
            out.append((line.no, extracted.statement))  # a held command: a person's check
    out += manualsteps.steps(body)
    for heading in body.headings:
        if not prose.criteria_heading(heading) or prose.gate_heading(heading):
            continue  # a gate's statements are above
        for line in markdown.section(body, heading):
            if line.no in body.fenced or markdown.checkbox(line.text):
                continue
            text = markdown.bullet(line.text)
            if text:
                out.append((line.no, markdown.strip_markup(text)))
    once: dict[int, str] = {}  # "Manual acceptance criteria" is read twice
    for no, text in out:
        once.setdefault(no, text)
    return list(once.items())
