"""Backlog.md task files (``backlog/tasks/task-38 - Title.md``): one task per file.

The frontmatter gives ``id``, ``title``, ``status`` (To Do / In Progress / Done),
``dependencies`` and ``assignee``; the checkboxes under ``## Acceptance Criteria`` and
``## Definition of Done`` (``- [ ] #1 text``, between ``<!-- AC:BEGIN -->`` markers) are the
task's truths: manual, unless one holds a runnable command (see criteria.py). The files of one
backlog (``tasks/``, ``completed/``, ``drafts/``) form one plan whose dependencies come from the
frontmatter; ``archive/`` holds abandoned tasks and is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from planrun import lazyre, markdown
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict
from planrun.model import Plan, Task
from planrun.readers.common import claimed_from, items, mapping, note_chatter, parse_body
from planrun.readers.criteria import truth
from planrun.readers.multifile import clean_id, join, validate_tasks

_ID = lazyre.compile(r"[A-Za-z]+-\d+(?:\.\d+)*")
_FILE = lazyre.compile(r"^[A-Za-z]+-\d+(?:\.\d+)*(?: - .*)?\.md$")
_SUBFOLDERS = {"tasks", "completed", "drafts"}
_NOT_TASKS = {"decisions", "docs"}
_NOT_TASK_IDS = ("decision-", "doc-")
_CRITERIA = lazyre.compile(r"acceptance criteria|definition of done", re.I)
_NUMBER = lazyre.compile(r"^#\d+\s+")
_COMMENT = lazyre.compile(r"^\s*<!--.*-->\s*$")
_STATUS_HINT = "Backlog.md statuses are To Do, In Progress and Done"


class BacklogReader:
    name: ClassVar[str] = "backlog"

    def detect(self, doc: Document) -> bool:
        data = doc.frontmatter.data
        if not isinstance(data, dict) or "planrun" in data:
            return False
        if not {"id", "title", "status"} <= data.keys() or not _ID.fullmatch(str(data["id"])):
            return False
        if doc.path.parent.name in _NOT_TASKS or str(data["id"]).lower().startswith(_NOT_TASK_IDS):
            return False  # Backlog.md's decision records and documents
        return bool(
            _FILE.match(doc.path.name)
            or "backlog" in doc.path.parts
            or "AC:BEGIN" in doc.text
            or re.search(r"^##\s+(?:Description|Acceptance Criteria)\s*$", doc.text, re.M)
        )

    def group(self, doc: Document) -> str:
        return str(_root(doc.path))

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        plans = self.read_group([doc], diags)
        return plans[0] if plans else None

    def read_group(self, docs: list[Document], diags: Diagnostics) -> list[Plan]:
        root = _root(docs[0].path)
        if root.name == "archive":
            for doc in docs:
                diags.add("not-a-plan", doc.display, None, "skipped: an archived Backlog.md task")
            return []
        plan_id = clean_id(root.name, "backlog")
        raw = [(doc, task) for doc in docs if (task := _task(doc, diags)) is not None]
        known = {str(task["id"]) for _, task in raw}
        for doc, task in raw:
            _resolve_dependencies(task, known, doc, root, alone=len(docs) == 1, diags=diags)
        _parents_wait_for_subtasks([task for _, task in raw], known)
        tasks: list[Task] = []
        for doc, task in raw:
            tasks.extend(validate_tasks(doc, plan_id, [task], self.name, diags))
        return [join(docs, plan_id, f"Backlog.md tasks in {root.name}", tasks, self.name)]


def _root(path: Path) -> Path:
    """The backlog folder a task file belongs to (the parent of tasks/, completed/, drafts/)."""
    folder = path.resolve().parent
    if folder.name in _SUBFOLDERS and folder.parent != folder:
        return folder.parent
    return folder


def _task(doc: Document, diags: Diagnostics) -> LineDict | None:
    front = doc.frontmatter.data
    if not isinstance(front, LineDict) or front.get("id") in (None, ""):
        diags.add(
            "missing-key",
            doc.display,
            getattr(front, "line", None) or 1,
            'a Backlog.md task file needs an "id" in its frontmatter (id: task-1)',
        )
        return None
    line = front.key_lines.get("id", front.line or 1)
    task = mapping(line, id=str(front["id"]))
    title = front.get("title")
    if isinstance(title, str | int | float) and str(title).strip():
        task["name"] = str(title).strip()
    _claimed(front, task, doc, diags)
    assignee = front.get("assignee")
    if isinstance(assignee, list):
        assignee = ", ".join(str(a) for a in assignee if a is not None)
    if isinstance(assignee, str) and assignee.strip():
        task["owner"] = assignee.strip().lstrip("@")
    deps = front.get("dependencies")
    if deps is not None:
        values = deps if isinstance(deps, list) else [deps]
        lines = getattr(deps, "item_lines", [])
        dep_line = front.key_lines.get("dependencies", line)
        kept = items([], dep_line)
        for i, value in enumerate(values):
            value_line = lines[i] if i < len(lines) else dep_line
            if isinstance(value, str | int | float) and str(value).strip():
                kept.append(str(value).strip())
                kept.item_lines.append(value_line)
            elif value is not None:
                diags.add(
                    "ignored-content",
                    doc.display,
                    value_line,
                    f"dependency {value!r} is not a task id; ignored",
                )
        task["depends_on"] = kept
    parent = front.get("parent_task_id", front.get("parent"))
    if isinstance(parent, str | int) and str(parent).strip():
        task["_parent"] = str(parent).strip()
    truths = _criteria(doc, diags)
    if truths:
        first = truths[0].line
        task["must_haves"] = mapping(first, truths=items(((t.line, t) for t in truths), first))
    return task


def _claimed(front: LineDict, task: LineDict, doc: Document, diags: Diagnostics) -> None:
    status = front.get("status")
    line = front.key_lines.get("status", front.line)
    claimed = claimed_from(str(status)) if isinstance(status, str | int | float) else None
    if claimed is None:
        diags.add(
            "unknown-status",
            doc.display,
            line,
            f"status {status!r} is not one planrun knows; read as todo",
            hint=_STATUS_HINT,
        )
    else:
        task["claimed"] = claimed


def _criteria(doc: Document, diags: Diagnostics) -> list[LineDict]:
    """The checkboxes under Acceptance Criteria / Definition of Done, as truths; anything else
    that looks like a checklist item or sits in those sections is reported, not dropped."""
    body = parse_body(doc)
    note_chatter(body, doc, diags)
    inside: set[int] = set()
    out: list[LineDict] = []
    for heading in body.headings:
        if not _CRITERIA.search(heading.title):
            continue
        for line in markdown.section(body, heading):
            inside.add(line.no)
            if line.no in body.fenced or not line.text.strip() or _COMMENT.match(line.text):
                continue
            box = markdown.checkbox(line.text)
            if box is None:
                if markdown.bullet(line.text) is not None:
                    diags.add(
                        "ignored-content",
                        doc.display,
                        line.no,
                        f"not a checkbox item under {heading.title!r}; ignored",
                        hint="write criteria as '- [ ] #1 text'",
                    )
                continue
            out.append(truth(_NUMBER.sub("", box[2]), line.no, (doc, diags)))
    for line in body.lines:
        if line.no in inside or line.no in body.fenced:
            continue
        if markdown.checkbox(line.text):
            diags.add(
                "ignored-content",
                doc.display,
                line.no,
                "a checkbox outside Acceptance Criteria / Definition of Done is not read",
                hint="Backlog.md reads criteria from those two sections",
            )
    return out


def _resolve_dependencies(
    task: LineDict, known: set[str], doc: Document, root: Path, *, alone: bool, diags: Diagnostics
) -> None:
    """Match dependencies to the ids of the backlog's tasks ("TASK-1", "1" and "task-1" are one
    task); a dependency on a task whose file was not loaded is reported and left out."""
    deps: Any = task.get("depends_on")
    if not deps:
        return
    by_lower = {k.lower(): k for k in known}
    by_number = {k.split("-", 1)[1]: k for k in known if "-" in k}
    kept = items([], deps.line)
    for line, dep in zip(deps.item_lines, deps, strict=True):
        found = by_lower.get(dep.lower()) or by_number.get(dep)
        if found is None and alone and _file_for(dep, root):
            diags.add(
                "external-dependency",
                doc.display,
                line,
                f'task "{task["id"]}" depends on "{dep}", whose file was not loaded; the '
                "dependency is not checked",
                hint=f"load the whole backlog to check it: planrun validate {root}",
            )
            continue
        kept.append(found or dep)
        kept.item_lines.append(line)
    task["depends_on"] = kept


def _parents_wait_for_subtasks(tasks: list[LineDict], known: set[str]) -> None:
    """A parent task is done when its subtasks are (``parent_task_id: task-38``), so it
    depends on them, unless a subtask already waits for its parent."""
    by_lower = {str(t["id"]).lower(): t for t in tasks}
    for task in tasks:
        parent_id = task.pop("_parent", None)
        parent = by_lower.get(str(parent_id).lower()) if parent_id else None
        if parent is None or parent is task:
            continue
        if str(parent["id"]) in task.get("depends_on", []):
            continue
        deps = parent.get("depends_on")
        if deps is None:
            deps = parent["depends_on"] = items([], parent.line)
        if task["id"] not in deps and task["id"] in known:
            deps.append(task["id"])
            deps.item_lines.append(task.line)


def _file_for(dep: str, root: Path) -> bool:
    prefix = dep.lower()
    for folder in _SUBFOLDERS:
        here = root / folder
        if here.is_dir() and any(
            p.name.lower().startswith(prefix + " ") or p.stem.lower() == prefix
            for p in here.iterdir()
        ):
            return True
    return False
