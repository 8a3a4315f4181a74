"""Checkbox items as tasks: the item tree, its markers, and document-order dependencies.

Shared by the checklist reader (spec-kit, Kiro, OpenSpec, Agent OS, BMAD and generic
checklists) and the PRP reader (its final checklists). What an item may carry:

- a box: ``[ ]`` todo, ``[x]`` done, ``[-]``/``[~]``/``[/]`` in progress; ``[ ]*`` (Kiro) optional;
- an id: spec-kit ``T001``, or a dotted number ``1.``, ``1.1``, ``2.1`` (kept as written);
- markers ``[P]`` / ``(P)`` (parallel), ``[US1]``; ``(depends on T012, T013)``;
- lines under it: ``_Depends: 2.1_``, ``_Requirements: 1.2_``, ``Verification: `cmd` ``, and
  the rest of its text when it wraps onto the next line.

Items under Acceptance Criteria / Definition of Done / Must-Haves / Success Criteria / Quality
Gates headings are truths (of the task above them, else of the plan), not tasks. A parent item is
done when its children are, so it depends on them. Without explicit dependencies items run in
document order: headings are phases run one after another, an item waits for the one before it,
consecutive ``[P]`` items share a wave, and an optional item holds up nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planrun import lazyre, markdown, prose
from planrun.linedata import LineDict, LineList
from planrun.readers.common import items, mapping, verify_list

_SPECKIT_ID = lazyre.compile(r"^(T\d{2,})\b[:.]?\s*")
# "1. Set up" or "1.1 Create" (Kiro, OpenSpec); a bare "5 runs" is a number, not an id.
_DOTTED_ID = lazyre.compile(r"^(\d+(?:\.\d+)+|\d+(?=\.))\.?\s+(?=\S)")
_MARKER = lazyre.compile(r"^\[([A-Za-z]{1,4}\d*)\]\s*")
_PARALLEL = lazyre.compile(r"\s*\(P\)(?=\s|$)")
_DEPENDS = lazyre.compile(
    r"\(\s*(?:depends on|depends|after|requires|blocked by)\s*:?\s*([^)]*)\)", re.I
)
_UNDER = lazyre.compile(
    r"^[_*]*\s*(depends(?: on)?|requirements?|verification|verify)\s*[_*]*\s*:\s*(.*?)[_*\s]*$",
    re.I,
)
_PATH = lazyre.compile(r"(?<![\w/])((?:[\w.-]+/)+[\w.-]+\.\w+)")
_CODE_FILE = lazyre.compile(
    r"[\w.-]*\.(?:py|pyi|ts|tsx|js|jsx|mjs|cjs|md|json|ya?ml|toml|rs|go|java|kt|rb|php|sh|css|"
    r"scss|html|sql|txt|cfg|ini|lock|swift|c|h|cc|cpp|hpp|cs|vue|svelte|env|proto|graphql)"
)


@dataclass(eq=False)
class Item:
    line: int
    box: markdown.Box
    text: str
    heading: markdown.Heading | None
    parent: Item | None = None
    children: list[Item] = field(default_factory=list)
    depends: list[tuple[int, str]] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    checks: list[prose.Check] = field(default_factory=list)
    prose: list[tuple[int, str]] = field(default_factory=list)  # a Verification: in words
    held: dict[int, str] = field(default_factory=dict)  # why its command is not run
    not_asked: dict[int, list[str]] = field(default_factory=dict)  # commands said not to run
    id: str = ""


@dataclass
class ReadItems:
    tasks: LineList
    truths: list[tuple[int, str]]  # the plan's own (criteria with no task above them)
    requirements: dict[str, list[str]]
    prose: list[tuple[int, str]]  # Verification: lines with no command: manual, to warn about
    held: dict[int, str]  # why a Verification: line's command is not run (prose.outcome)
    not_asked: dict[int, list[str]]  # commands a Verification: line does not ask to run


def read_items(
    body: markdown.Body, first: int, prefix: str, *, kind: str | None = None
) -> ReadItems:
    """Every checkbox item as a task or a truth, with explicit or document-order dependencies.
    With ``kind="manual"`` (a PRP's checklists) every item is a manual check, criteria too:
    their boxes are claims."""
    found = collect(body)
    _assign_ids(found, prefix)
    criteria = _criteria_headings(body) if kind != "manual" else set()
    owners: dict[int, Item | None] = {}
    tasks: list[Item] = []
    plan_truths: list[tuple[int, str]] = []
    truths_of: dict[int, list[tuple[int, str]]] = {}
    last: Item | None = None
    for item in found:
        if item.heading is not None and item.heading.pos in criteria:
            pos = item.heading.pos
            if pos not in owners:
                owners[pos] = _owner(body, item.heading, last)
            owner = owners[pos]
            truth = (item.line, name_of(item))
            if owner is None:
                plan_truths.append(truth)
            else:
                truths_of.setdefault(id(owner), []).append(truth)
            continue
        tasks.append(item)
        last = item
    deps = _order(tasks, manual=kind == "manual")
    out = items([], first)
    for item in tasks:
        task: LineDict = mapping(item.line, id=item.id, name=name_of(item))
        task["claimed"] = {"x": "done", " ": "todo"}.get(item.box.mark, "in_progress")
        if kind:
            task["kind"] = kind
        files = files_of(item.text)
        if files:
            task["files"] = files
        if deps[id(item)]:
            task["depends_on"] = items(deps[id(item)], item.line)
        if item.checks:
            task["verify"] = verify_list(item.checks, item.checks[0].line)
        truths = truths_of.get(id(item), []) + item.prose
        if truths:
            task["must_haves"] = mapping(truths[0][0], truths=items(truths, truths[0][0]))
        out.append(task)
        out.item_lines.append(item.line)
    requirements = {item.id: item.requirements for item in found if item.requirements}
    worded = [note for item in tasks for note in item.prose]
    held = {no: why for item in tasks for no, why in item.held.items()}
    unasked = {no: why for item in tasks for no, why in item.not_asked.items()}
    return ReadItems(out, plan_truths, requirements, worded, held, unasked)


def collect(body: markdown.Body) -> list[Item]:
    """The items in document order, each with its parent, children and the lines under it."""
    found: list[Item] = []
    stack: list[Item] = []
    passed = 0
    previous: Item | None = None  # the item the line just above belongs to (for wrapping)
    for line in body.lines:
        while passed < len(body.headings) and body.headings[passed].no <= line.no:
            passed += 1
            stack, previous = [], None
        if line.no in body.fenced or (passed and body.headings[passed - 1].no == line.no):
            continue
        found_box = markdown.box(line.text)
        if found_box is not None:
            while stack and stack[-1].box.indent >= found_box.indent:
                stack.pop()
            heading = body.headings[passed - 1] if passed else None
            item = Item(line.no, found_box, found_box.text, heading)
            if stack:
                item.parent = stack[-1]
                stack[-1].children.append(item)
            stack.append(item)
            found.append(item)
            previous = item
            continue
        stripped = line.text.strip()
        if not stripped:
            previous = None
            continue
        indent = len(line.text.expandtabs(4)) - len(line.text.expandtabs(4).lstrip())
        owner = next((i for i in reversed(stack) if i.box.indent < indent), None)
        if owner is None and previous is not None and markdown.bullet(line.text) is None:
            owner = previous  # a lazy continuation line, not indented
        if owner is None:
            stack, previous = [], None
            continue
        _under(owner, line, stripped, wrapping=previous is owner)
        previous = owner if previous is owner and markdown.bullet(line.text) is None else None
    return found


def _under(owner: Item, line: markdown.Line, stripped: str, *, wrapping: bool) -> None:
    """A line under an item: a Kiro field, a verification, or the rest of its text."""
    text = markdown.bullet(line.text)
    content = text if text is not None else stripped
    match = _UNDER.match(content)
    if match:
        key, value = match.group(1).lower(), match.group(2)
        if key.startswith("depends"):
            owner.depends.extend((line.no, d) for d in _ids_in(value))
        elif key.startswith("requirement"):
            owner.requirements.extend(_ids_in(value) or [value.strip()])
        else:
            found = prose.extract(value, line.no)
            owner.checks.extend(found.commands)
            if found.not_asked:
                owner.not_asked[line.no] = found.not_asked
            if not found.commands:
                owner.prose.append((line.no, markdown.strip_markup(value)))
                if found.held:
                    owner.held[line.no] = found.held
        return
    if text is None and wrapping:
        owner.text = f"{owner.text} {stripped}"


def _ids_in(value: str) -> list[str]:
    """Ids in ``2.1, 2.2``, ``T012 and T013``, ``Task 3``: words holding a digit."""
    found = re.findall(r"[\w-]*\d[\w.-]*", markdown.strip_markup(value))
    return [v.rstrip(".") for v in found]


def _assign_ids(found: list[Item], prefix: str) -> None:
    used: set[str] = set()
    for n, item in enumerate(found, 1):
        rest = markdown.strip_markup(item.text)
        match = _SPECKIT_ID.match(rest) or _DOTTED_ID.match(rest)
        item.id = match.group(1) if match and match.group(1) not in used else f"{prefix}{n}"
        used.add(item.id)


def name_of(item: Item) -> str:
    """The item's text without its id, markers and dependency note; ``(optional)`` kept as a
    word when the box is optional."""
    rest = markdown.strip_markup(item.text)
    match = _SPECKIT_ID.match(rest) or _DOTTED_ID.match(rest)
    if match and match.group(1) == item.id:
        rest = rest[match.end() :]
    while marker := _MARKER.match(rest):
        rest = rest[marker.end() :]
    rest = _PARALLEL.sub("", rest)
    rest = _DEPENDS.sub("", rest)
    name = " ".join(rest.split()) or item.id
    return f"{name} (optional)" if item.box.optional else name


def _parallel(item: Item) -> bool:
    rest = markdown.strip_markup(item.text)
    match = _SPECKIT_ID.match(rest) or _DOTTED_ID.match(rest)
    rest = rest[match.end() :] if match else rest
    while marker := _MARKER.match(rest):
        if marker.group(1).upper() == "P":
            return True
        rest = rest[marker.end() :]
    return bool(_PARALLEL.search(rest))


def _explicit(item: Item) -> list[tuple[int, str]] | None:
    dep = _DEPENDS.search(markdown.strip_markup(item.text))
    out = [(item.line, d) for d in re.findall(r"\bT\d{2,}\b", dep.group(1))] if dep else []
    out += item.depends
    return out if dep or item.depends else None


def files_of(text: str) -> list[str]:
    """Paths an item names: ``dir/file.ext`` in its text and every backticked path."""
    found = list(_PATH.findall(text))
    for span in markdown.backticked(text):
        if " " in span or "://" in span or span.startswith(("-", "$")):
            continue
        if "/" in span.strip("/") or _CODE_FILE.fullmatch(span):
            found.append(span)
    return list(dict.fromkeys(found))


def _post_order(tasks: list[Item]) -> list[Item]:
    """Children before their parent: a parent is done when its children are."""
    members = {id(t) for t in tasks}
    out: list[Item] = []

    def visit(item: Item) -> None:
        for child in item.children:
            visit(child)
        if id(item) in members:
            out.append(item)

    for item in tasks:
        if item.parent is None or id(item.parent) not in members:
            visit(item)
    return out


def _order(tasks: list[Item], *, manual: bool) -> dict[int, list[tuple[int, str]]]:
    """Each task's dependencies, as (line, id)."""
    members = {id(t) for t in tasks}
    deps: dict[int, list[tuple[int, str]]] = {}
    barrier: list[str] = []  # what the next item waits for
    group: list[str] = []  # [P] items since the barrier
    phase: markdown.Heading | None = None
    for item in _post_order(tasks):
        if item.heading is not phase:
            phase = item.heading
            if group:
                barrier, group = group, []
        explicit = _explicit(item)
        parallel = _parallel(item)
        # A parent waits for its children, except optional ones (they hold nothing up).
        kids = [c.id for c in item.children if id(c) in members and not c.box.optional]
        mine: list[str]
        if explicit is not None:
            mine = [d for _, d in explicit]
        elif manual or kids:
            mine = []  # a person's checks have no order; a parent waits for its children
        elif item.box.optional:
            mine = list(group or barrier)
        elif parallel:
            mine = list(barrier)
            group.append(item.id)
        else:
            mine = list(group or barrier)
            barrier, group = [item.id], []
        mine += kids
        settles = kids or (explicit is not None and not parallel)
        if settles and not manual and not item.box.optional:
            barrier, group = [item.id], []
        where = {d: ln for ln, d in explicit or []}
        deps[id(item)] = [(where.get(d, item.line), d) for d in dict.fromkeys(mine)]
    return deps


def _criteria_headings(body: markdown.Body) -> set[int]:
    """Positions of criteria headings and of the headings inside them."""
    out: set[int] = set()
    open_at: int | None = None  # level of the criteria heading we are inside
    for heading in body.headings:
        if open_at is not None and heading.level <= open_at:
            open_at = None
        if open_at is None and prose.criteria_heading(heading):
            open_at = heading.level
        if open_at is not None:
            out.add(heading.pos)
    return out


def _owner(body: markdown.Body, heading: markdown.Heading, last: Item | None) -> Item | None:
    """The task criteria belong to: the last task in the section (below the title) that
    encloses their heading, before it; None for the plan's own criteria."""
    parent = next(
        (h for h in reversed(body.headings[: heading.pos]) if h.level < heading.level), None
    )
    if parent is None or parent.level < 2 or last is None or last.heading is None:
        return None
    return last if parent.pos <= last.heading.pos < heading.pos else None
