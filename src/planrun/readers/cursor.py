"""Cursor plans (``.cursor/plans/*.plan.md``): frontmatter ``name``, ``overview`` and
``todos: [{id, content, status, blockedBy}]``; the markdown body is the plan for people.

Each todo is a task (status pending / in_progress / completed / cancelled); ``blockedBy`` (or
``dependencies``) names the todos it waits for. Fenced shell blocks under a heading such as
"Verification" or "Testing" are the plan's own checks; nothing else in the prose is run.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from planrun import lazyre, markdown
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict
from planrun.model import Plan
from planrun.readers.canonical import validate_plan
from planrun.readers.common import claimed_from, items, mapping, start_plan, verify_list
from planrun.readers.multifile import clean_id
from planrun.shellsplit import Chunk, split_script

_KNOWN = {"id", "content", "status", "blockedBy", "blocked_by", "dependencies", "dependsOn"}
_DEPS = ("blockedBy", "blocked_by", "dependencies", "dependsOn")
_STATUS = {
    "pending": "todo",
    "in_progress": "in_progress",
    "completed": "done",
    "cancelled": "todo",
}
# Only headings that name the checks themselves: "## Testing approach" may hold setup commands.
_CHECKS = lazyre.compile(
    r"^(?:\d+\.?\s*)?(?:verification|validation|testing|tests?|checks?|how to (?:test|verify))"
    r"(?:\s+(?:steps|commands))?:?$",
    re.I,
)
_SHELL = {"bash", "sh", "shell", "zsh", "console"}
_PATH = lazyre.compile(r"`((?:[\w.-]+/)+[\w.-]+\.\w+)`")


class CursorReader:
    name: ClassVar[str] = "cursor"

    def detect(self, doc: Document) -> bool:
        data = doc.frontmatter.data
        if not isinstance(data, dict) or "planrun" in data:
            return False
        todos = data.get("todos")
        return isinstance(todos, list) and any(
            isinstance(t, dict) and ("content" in t or "blockedBy" in t) for t in todos
        )

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        body, data, first = start_plan(doc, diags)
        front = doc.frontmatter.data if isinstance(doc.frontmatter.data, LineDict) else LineDict()
        stem = doc.path.name.removesuffix(".md").removesuffix(".plan")
        data["id"] = clean_id(stem)
        if isinstance(front.get("name"), str) and front["name"].strip():
            data["title"] = front["name"].strip()
        todos = front.get("todos")
        tasks = items([], getattr(todos, "line", first))
        if isinstance(todos, list):
            lines = getattr(todos, "item_lines", [])
            for i, todo in enumerate(todos):
                line = lines[i] if i < len(lines) else front.key_lines.get("todos", first)
                task = _todo(todo, i + 1, line, doc, diags)
                if task is not None:
                    tasks.append(task)
                    tasks.item_lines.append(line)
        elif todos is not None:
            diags.add(
                "invalid-value",
                doc.display,
                front.key_lines.get("todos"),
                "todos: expected a list of {id, content, status, blockedBy}",
            )
        data["tasks"] = tasks
        checks = _checks(body)
        if checks:
            data["verify"] = verify_list(checks, checks[0].line)
        return validate_plan(doc, data, self.name, diags)


def _todo(todo: Any, number: int, line: int, doc: Document, diags: Diagnostics) -> LineDict | None:
    if not isinstance(todo, dict):
        diags.add(
            "ignored-content",
            doc.display,
            line,
            "a todo that is not a mapping of id, content, status; ignored",
        )
        return None
    raw_id = todo.get("id")
    default = f"todo-{number}"
    task_id = clean_id(str(raw_id), default) if raw_id not in (None, "") else default
    content = todo.get("content")
    name = " ".join(str(content).split()) if content not in (None, "") else task_id
    task = mapping(line, id=task_id, name=markdown.strip_markup(name) or task_id)
    status = todo.get("status")
    claimed = _STATUS.get(str(status)) if status is not None else "todo"
    if claimed is None:
        claimed = claimed_from(str(status))
    if claimed is None:
        diags.add(
            "unknown-status",
            doc.display,
            line,
            f"status {status!r} is not one planrun knows; read as todo",
            hint="Cursor statuses are pending, in_progress, completed and cancelled",
        )
    else:
        task["claimed"] = claimed
    deps: list[str] = []
    for key in _DEPS:
        value = todo.get(key)
        values = value if isinstance(value, list) else [value] if value is not None else []
        deps.extend(clean_id(str(v)) for v in values if v not in (None, ""))
    if deps:
        task["depends_on"] = items(((line, d) for d in dict.fromkeys(deps)), line)
    files = list(dict.fromkeys(_PATH.findall(str(content or ""))))
    if files:
        task["files"] = files
    for key in todo:
        if key not in _KNOWN:
            diags.add(
                "ignored-content",
                doc.display,
                getattr(todo, "key_lines", {}).get(key, line),
                f'todo key "{key}" is not one planrun reads; ignored',
            )
    return task


def _checks(body: markdown.Body) -> list[Chunk]:
    out: dict[int, list[Chunk]] = {}
    for heading in body.headings:
        if not _CHECKS.match(markdown.strip_markup(heading.title)):
            continue
        lines = markdown.section(body, heading)
        if not lines:
            continue
        start, end = lines[0].no, lines[-1].no
        for block in body.blocks:
            if start <= block.no <= end and block.lang in _SHELL:
                out.setdefault(block.no, split_script(block.text, block.first))
    return [chunk for _, chunks in sorted(out.items()) for chunk in chunks]
