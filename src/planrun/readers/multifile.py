"""One plan from several files: a folder of task files (Backlog.md, Task Master's task_NNN.md).

Each file's task is validated against its own file, so an error points at the line the agent
wrote; the tasks are then joined into one plan, each remembering its file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict
from planrun.model import Plan, Task
from planrun.readers.canonical import validate_plan
from planrun.readers.common import items, mapping


def clean_id(text: str, default: str = "plan") -> str:
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "-" for c in text).strip(".-")
    return cleaned or default


def validate_tasks(
    doc: Document, plan_id: str, tasks: list[LineDict], fmt: str, diags: Diagnostics
) -> list[Task]:
    """The tasks one file holds, validated against that file (none when they have errors)."""
    first = tasks[0].line if tasks and tasks[0].line else 1
    data = mapping(first, planrun=1, id=plan_id)
    data["tasks"] = items(((t.line or first, t) for t in tasks), first)
    plan = validate_plan(doc, data, fmt, diags)
    if plan is None:
        return []
    for one in plan.tasks:
        one.set_source(doc.display)
    return list(plan.tasks)


def join(docs: Sequence[Document], plan_id: str, title: str, tasks: list[Task], fmt: str) -> Plan:
    """One plan holding ``tasks``; its source is the file, or the folder the files share."""
    plan = Plan(id=plan_id, title=title)
    plan.tasks = tasks
    if len(docs) == 1:
        source = docs[0].display
    else:
        parents = [str(Path(d.display).parent) for d in docs]
        try:
            source = os.path.commonpath(parents) or "."
        except ValueError:  # absolute and relative paths mixed
            source = parents[0]
    plan.set_origin(source, fmt)
    return plan
