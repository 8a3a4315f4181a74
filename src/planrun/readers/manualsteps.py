"""Sections headed for a person ("Manual testing", "Manual QA", "Verify by hand"): their lines
are steps a person takes, in an order and with judgement a check has not ("Run `npm run dev`
and log in"; "`make seed`, then open /admin"). So nothing in them is run, though a step names a
command: each step is a manual truth of the plan, and each command in one is said not run
(``prose-verify``). Under a gate ("## Testing" / "### Manual") the subsection is still a
person's. A checkbox item there is still a task, and its ``Verify:`` line still asks for its
check (see checkitems).
"""

from __future__ import annotations

from collections.abc import Iterator

from planrun import markdown, prose
from planrun.diagnostics import Diagnostics
from planrun.document import Document

HINT = "a check planrun runs goes in a section such as Validation or Tests: - `cmd`"


def loose_lines(body: markdown.Body, heading: markdown.Heading) -> Iterator[markdown.Line]:
    """The lines of a section outside fences, checkbox items and the lines under them (an
    item's own ``Verification:`` is its check)."""
    item: int | None = None  # indent of the checkbox item the lines below belong to
    for line in markdown.section(body, heading):
        if line.no in body.fenced:
            continue
        found = markdown.box(line.text)
        if found is not None:
            item = found.indent
            continue
        indent = len(line.text) - len(line.text.lstrip())
        if item is not None and (indent > item or not line.text.strip()):
            continue
        item = None
        yield line


def _sections(body: markdown.Body) -> list[markdown.Heading]:
    return [h for h in body.headings if prose.manual_heading(h)]


def lines_under(body: markdown.Body) -> set[int]:
    """The lines of the sections for a person, their subsections too."""
    return {line.no for h in _sections(body) for line in markdown.section(body, h)}


def steps(body: markdown.Body) -> list[tuple[int, str]]:
    """Each listed step of a section for a person, as a manual truth."""
    out: dict[int, str] = {}
    for heading in _sections(body):
        for line in loose_lines(body, heading):
            text = markdown.bullet(line.text)
            if text:
                out.setdefault(line.no, markdown.strip_markup(text))
    return sorted(out.items())


def _commands(text: str) -> list[str]:
    spans = markdown.backticked(text)
    if not spans:
        bare = markdown.bullet(text)
        return [bare] if bare and prose.is_command(bare) else []
    return [
        s
        for s in spans
        if prose.starts_like_command(s) or prose.is_command(s) or prose.unknown_program(s)
    ]


def _why(heading: markdown.Heading) -> str:
    title = markdown.strip_markup(heading.title)
    return f"it is a step under {title[:40]!r}, a section for a person"


def note(body: markdown.Body, doc: Document, diags: Diagnostics) -> None:
    """Say which commands of the sections for a person are not run: in their steps and in
    their shell blocks."""
    seen: set[int] = set()
    for heading in _sections(body):
        for line in loose_lines(body, heading):
            if line.no in seen:
                continue
            seen.add(line.no)
            for command in _commands(line.text):
                diags.add(
                    "prose-verify", doc.display, line.no,
                    f"`{command[:60]}` is not run: {_why(heading)}", hint=HINT,
                )  # fmt: skip
    note_blocks(body, doc, diags)


def note_blocks(body: markdown.Body, doc: Document, diags: Diagnostics) -> set[int]:
    """Say that the shell blocks of the sections for a person are not run; their lines."""
    seen: set[int] = set()
    for heading in _sections(body):
        inside = {line.no for line in markdown.section(body, heading)}
        for block in body.blocks:
            if block.no in inside and block.no not in seen and prose.fence_script(block):
                seen.add(block.no)
                diags.add(
                    "prose-verify", doc.display, block.no,
                    f"the shell block is not run: {_why(heading)}", hint=HINT,
                )  # fmt: skip
    return seen
