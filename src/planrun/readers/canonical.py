"""The canonical ``planrun`` format: YAML frontmatter with ``planrun: 1`` (what ``new`` writes)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineDict, LineList
from planrun.model import Milestone, Plan, Task
from planrun.modelchecks import Artifact, KeyLink, MustHaves, Truth, VerifyCommand
from planrun.planids import derived_id
from planrun.suggest import closest

# The model that a mapping under each key is validated as, to name the keys it allows.
_MODEL_UNDER: dict[str, type[BaseModel]] = {
    "tasks": Task,
    "verify": VerifyCommand,
    "must_haves": MustHaves,
    "truths": Truth,
    "artifacts": Artifact,
    "key_links": KeyLink,
    "milestones": Milestone,
}

_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "bool_type": "expected true or false",
}


class CanonicalReader:
    name: ClassVar[str] = "planrun"

    def detect(self, doc: Document) -> bool:
        data = doc.frontmatter.data
        return isinstance(data, dict) and "planrun" in data

    def read(self, doc: Document, diags: Diagnostics) -> Plan | None:
        data = doc.frontmatter.data
        if not isinstance(data, LineDict):
            return None
        _note_string_depends_on(doc, data, diags)
        _models_for_tasks(data)
        return validate_plan(doc, data, self.name, diags)


def _models_for_tasks(data: LineDict) -> None:
    """Replace each valid task mapping under ``tasks`` by its model, one task at a time, so
    that its raw mapping (and the line-aware containers in it) is freed as soon as its model
    exists: the raw YAML and the models of a large plan are never all alive at once. The
    plan's validation takes a model as it is (pydantic does not validate an instance's fields
    again; its line and default name are already set), and a task with errors stays as
    written, for validate_plan to report and salvage as before."""
    tasks = data.get("tasks")
    if type(tasks) is not LineList:
        return
    for index, task in enumerate(tasks):
        if type(task) is LineDict:
            try:
                tasks[index] = Task.model_validate(task)
            except ValidationError:
                continue


def validate_plan(doc: Document, data: LineDict, fmt: str, diags: Diagnostics) -> Plan | None:
    """Validate canonical-shaped data (from any reader) into a Plan, reporting every error
    with its file line and key path."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for err in errors:
            _report(doc, data, err, diags)
        salvaged = _salvage(data, errors)
        if salvaged is None:
            return None
        plan = salvaged
    if not plan.id:
        plan.derive_id(derived_id(doc.path.absolute()))
    plan.set_origin(doc.display, fmt, doc.path)
    return plan


def _salvage(data: LineDict, errors: list[ErrorDetails]) -> Plan | None:
    """The plan without what its schema errors concern, so that one error does not hide the
    rest: the ids, dependencies, cycles and lints of everything else are still checked. A task
    with an error keeps only its id and depends_on (when those are valid) and is marked
    skipped; a top-level key with an error is left out. The errors are already reported."""
    bad_tasks: set[int] = set()
    bad_keys: set[str] = set()
    for err in errors:
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] == "tasks" and isinstance(loc[1], int):
            bad_tasks.add(loc[1])
        elif loc:
            bad_keys.add(str(loc[0]))
        else:
            return None
    kept = LineDict({k: v for k, v in data.items() if k not in bad_keys}, line=data.line)
    kept.key_lines = dict(data.key_lines)
    tasks = kept.get("tasks")
    skipped: list[str] = []
    if bad_tasks and isinstance(tasks, LineList):
        out = LineList(line=tasks.line)
        for i, task in enumerate(tasks):
            line = tasks.item_lines[i] if i < len(tasks.item_lines) else tasks.line
            if i in bad_tasks:
                task = _stub(task)  # noqa: PLW2901
                if task is None:
                    continue
                skipped.append(str(task["id"]))
            out.append(task)
            out.item_lines.append(line)
        kept["tasks"] = out
    try:
        plan = Plan.model_validate(kept)
    except ValidationError:
        return None
    plan.mark_skipped(skipped)
    return plan


def _stub(task: Any) -> LineDict | None:
    """What graph checks need of a task with schema errors: its id and depends_on."""
    if not isinstance(task, LineDict) or not isinstance(task.get("id"), str):
        return None
    stub = LineDict({"id": task["id"]}, line=task.line)
    deps = task.get("depends_on")
    if isinstance(deps, str) or (isinstance(deps, list) and all(isinstance(d, str) for d in deps)):
        stub["depends_on"] = deps
    try:
        Task.model_validate(stub)
    except ValidationError:
        stub.pop("depends_on", None)
        try:
            Task.model_validate(stub)
        except ValidationError:
            return None
    return stub


def _note_string_depends_on(doc: Document, data: LineDict, diags: Diagnostics) -> None:
    def note(where: str, mapping: LineDict) -> None:
        value = mapping.get("depends_on")
        if isinstance(value, str):
            diags.add(
                "depends-on-string",
                doc.display,
                mapping.key_lines.get("depends_on"),
                f'{where}depends_on is the string "{value}"; read as the list ["{value}"]',
                hint=f'write depends_on: ["{value}"]',
            )

    note("", data)
    tasks = data.get("tasks")
    if isinstance(tasks, list):
        for task in tasks:
            if isinstance(task, LineDict):
                note(f'task "{task.get("id")}": ', task)


def _report(doc: Document, data: LineDict, err: ErrorDetails, diags: Diagnostics) -> None:
    loc = err["loc"]
    line, found = _locate(data, loc)
    kind = err["type"]
    path = _key_path(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        guess = closest(key, allowed)
        where = f" in {_key_path(loc[:-1])}" if len(loc) > 1 else ""
        message = f'unknown key "{key}"{where}'
        if guess:
            message += f' (did you mean "{guess}"?)'
        diags.add(
            "unknown-key", doc.display, line, message, hint=f"allowed keys: {', '.join(allowed)}"
        )
        return
    if kind == "missing":
        parent = _key_path(loc[:-1]) or "the plan"
        diags.add("missing-key", doc.display, line, f'{parent}: missing required key "{loc[-1]}"')
        return
    if kind == "value_error":
        message = str(err.get("ctx", {}).get("error", err["msg"]))
    else:
        expected = _EXPECTED.get(kind) or err["msg"].replace("Input should be", "expected")
        message = f"{expected}, got {_describe(err.get('input'))}"
    if kind in ("model_type", "dict_type") and loc and loc[0] == "tasks" and len(loc) == 2:
        message = f"a task must be a mapping with at least an id, got {_describe(found)}"
    diags.add("invalid-value", doc.display, line, f"{path}: {message}" if path else message)


def _locate(data: Any, loc: tuple[int | str, ...]) -> tuple[int | None, Any]:
    """The deepest line known along ``loc``, and the value found there."""
    line: int | None = getattr(data, "line", None)
    current = data
    for part in loc:
        if isinstance(current, LineDict) and part in current:
            line = current.key_lines.get(part, line)
            current = current[part]
        elif isinstance(current, LineList) and isinstance(part, int) and part < len(current):
            if part < len(current.item_lines):
                line = current.item_lines[part]
            current = current[part]
        else:
            break
    return line, current


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _allowed_keys(parent: tuple[int | str, ...]) -> list[str]:
    names = [p for p in parent if isinstance(p, str)]
    model: type[BaseModel] = _MODEL_UNDER.get(names[-1], Plan) if names else Plan
    return [f.alias or name for name, f in model.model_fields.items()]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{short}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
