"""Section-style GSD plans: ``### Task 04-01-01: title`` headings instead of ``<task>``
blocks. A task's checks are the commands on its Verify lines and the fenced scripts a Verify
line introduces; other fenced blocks are the code the task writes, never run."""

from __future__ import annotations

import re

from planrun import lazyre, markdown
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineList
from planrun.readers import gsd_verify
from planrun.readers.common import mapping

_TASK_HEADING = lazyre.compile(r"^Task\s+([\w.-]*\w)\s*(?::|\s[\u2014-]|\.\s)\s*(.+)$", re.I)
_VERIFY_LABEL = lazyre.compile(
    r"^\s*(?:[-*]\s+)?(?:\*\*|#+\s*)?(?:verify|verification|test|tests|validation|check)"
    r"(?:\s+\w+)?\s*:?\s*(?:\*\*)?\s*:?",
    re.I,
)


def _labelled_fences(lines: list[markdown.Line]) -> gsd_verify.Reading:
    """Fenced scripts that a "Verify:" / "**Verification**" line introduces (one script
    each); other fenced blocks in a task are the code it writes, never run."""
    out = gsd_verify.Reading()
    label = False
    block: list[markdown.Line] | None = None
    skipping = False
    for line in lines:
        stripped = line.text.strip()
        fence = stripped.startswith(("```", "~~~"))
        if skipping:
            skipping = not fence
            continue
        if block is not None:
            if fence:
                text = "```bash\n" + "\n".join(ln.text for ln in block) + "\n```"
                out.checks += gsd_verify.read_commands(text, block[0].no - 1).checks
                block = None
            else:
                block.append(line)
            continue
        if fence:
            lang = stripped.strip("`~").strip().lower()
            if label and lang in ("", "bash", "sh", "shell", "console", "zsh"):
                block = []
            else:
                skipping = True
            label = False
        elif stripped:
            label = bool(_VERIFY_LABEL.match(line.text))
    return out


def section_tasks(body: markdown.Body, doc: Document, diags: Diagnostics) -> LineList:
    """Section-style GSD plans: ``### Task 04-01-01: title`` headings instead of <task>
    blocks; a task's verify is its fenced script or commands in its Verify lines."""
    tasks = LineList(line=body.lines[0].no if body.lines else 1)
    used: set[str] = set()
    for heading in body.headings:
        match = _TASK_HEADING.match(markdown.strip_markup(heading.title))
        if match is None:
            continue
        task_id = re.sub(r"[^\w.-]", "", match.group(1)) or f"task-{len(tasks) + 1}"
        if task_id in used or not task_id[0].isalnum():
            task_id = f"task-{len(tasks) + 1}"
        used.add(task_id)
        task = mapping(heading.no, id=task_id, name=match.group(2).strip())
        lines = markdown.section(body, heading)
        verify = LineList(line=heading.no)
        must: dict[str, LineList] = {}
        labels = [ln for ln in lines if _VERIFY_LABEL.match(ln.text)]
        reading = _labelled_fences(lines)
        for ln in labels:
            rest = _VERIFY_LABEL.sub("", ln.text)
            if rest.strip():
                reading.checks += gsd_verify.read_commands(rest, ln.no).checks
        gsd_verify.add_reading(reading, verify, must, doc, diags)
        if verify:
            task["verify"] = verify
        tasks.append(task)
        tasks.item_lines.append(heading.no)
    return tasks
