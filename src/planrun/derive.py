"""Checks derived from what a task names, for tasks that carry no verify of their own.

Agent-written checklists ("- [X] T012 Create Task model in src/models/task.py") say what
was built without saying how to check it. Most of that can be settled from the repository:
every file or folder the task names must exist; "Implement `foo()` in path" means the file
contains ``foo``; a command in backticks in the item (or on a ``**Checkpoint**:`` line after
it) is its verify. These checks are weaker than a written verify, so each carries
``derived: true`` and every report labels it.

Applied after reading, to every format but the canonical one (whose author writes verify
on purpose; a converted plan carries the derived checks of its source, labelled).
Conservative by design: a path or a command in a task that removes, renames or moves things
("Drop the `test -f x` guard": the command is what goes away), a placeholder, a gitignored or
generated output, a bare name without a folder, a command that changes the tree (installers,
``mkdir``, fixers that cannot check) or never ends (dev servers), one the words do not ask to
run (``Do not run `make deploy` ``) and one they say must fail (``should no longer work``)
is never turned into a check.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from pathlib import Path

from planrun import lazyre
from planrun.diagnostics import Diagnostics
from planrun.model import Plan, Task
from planrun.modelchecks import Artifact, VerifyCommand
from planrun.removals import GOES

_TENTATIVE = (
    r"\b(?:if\s+(?:it\s+)?exists?|if\s+needed|if\s+present|optional(?:ly)?|consider|e\.g\.|"
    r"for\s+example)(?!\w)"
)
_REMOVES = lazyre.compile(GOES + "|" + _TENTATIVE, re.I)
_GONE = lazyre.compile(GOES, re.I)
_CHECKPOINT = lazyre.compile(
    r"^\s*(?:[-*+]\s+)?\*\*(?:checkpoint|verify|verification|test)\*\*:?", re.I
)
_FAILS_FIRST = lazyre.compile(r"\b(?:must|should|will|to|ensure\s+\w+|expect\w*)\s+fail", re.I)
_BOX = lazyre.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX~-]\]")
_HEADING = lazyre.compile(r"^\s{0,3}(#{1,6})\s")
_FRONTMATTER = lazyre.compile(r"\A---[ \t]*\n.*?^---[ \t]*$", re.S | re.M)
_TAG = lazyre.compile(r"</?[A-Za-z_][\w:-]*(?:\s[^<>]*)?/?>")


def derive_plan(plan: Plan, texts: Mapping[str, str], root: Path, diags: Diagnostics) -> None:
    """Give each task of ``plan`` without checks of its own the checks its text implies.
    ``texts`` holds the text of each file the plan was read from, by its display name (a
    multi-file plan, such as a Backlog.md folder, has one per task); ``root`` is where paths
    resolve."""
    if plan.format == "planrun":
        return
    # Imported here, not above: the canonical format derives nothing, and the prose rules
    # compile about a hundred patterns (`next` and `status` on a canonical plan skip them).
    from planrun.derivepaths import feature_dir, ignore_patterns  # noqa: PLC0415
    from planrun.plural import pluralize  # noqa: PLC0415

    ignored = ignore_patterns(root)
    for task in plan.tasks:
        if task.kind == "manual" or task.has_checks or task.must_haves.truths or not task.line:
            continue  # a verify in words (a manual truth) is the task's own, too
        source = plan.source_of(task)
        if source not in texts:
            continue
        text = _text_of(plan, task, task.line, source, texts[source])
        found = _derive(text, task, feature_dir(source, root), ignored, plan, diags)
        if found:
            diags.add(
                "derived-checks",
                source,
                task.line,
                f'task "{task.id}" has no verify; planrun derived {pluralize(len(found), "check")}'
                " from its text: " + "; ".join(found),
                hint="write a verify that proves the task, derived checks are weaker",
            )


def _text_of(plan: Plan, task: Task, line: int, source: str, text: str) -> str:
    """What ``task`` says: its lines in its file; the whole body of a file that holds only it
    (a Backlog.md task file); only its name when the file is JSON (a Task Master tasks.json,
    whose other lines are other tasks' fields)."""
    if source.lower().endswith(".json"):
        return task.name
    mine = sorted(t.line for t in plan.tasks if t.line and plan.source_of(t) == source)
    if plan.source != source and len(mine) == 1:
        body = _FRONTMATTER.sub("", text, count=1)
        return task.name + "\n" + re.sub(r"<!--.*?-->", " ", body, flags=re.S)
    after = bisect.bisect_right(mine, line)
    return task_text(text.splitlines(), line, mine[after] if after < len(mine) else None)


def drop_derived(plan: Plan) -> None:
    """Remove the checks a plan labels ``derived: true`` (a converted plan keeps planrun's
    derived checks so labelled): with derivation off, they are not the plan's checks."""
    for task in plan.tasks:
        task.verify = [v for v in task.verify if not v.derived]
        task.must_haves.artifacts = [a for a in task.must_haves.artifacts if not a.derived]


def task_text(lines: list[str], start: int, next_task: int | None) -> str:
    """The text of the task starting on line ``start``: a checklist item with its wrapped
    lines and a following ``**Checkpoint**:`` line, a heading's section, or a GSD ``<task>``
    block without its ``<action>`` (which quotes code, not checks)."""
    end = min(next_task or len(lines) + 1, len(lines) + 1)
    first = lines[start - 1] if 0 < start <= len(lines) else ""
    out = [first]
    heading = _HEADING.match(first)
    if first.lstrip().startswith("<task"):
        for line in lines[start : end - 1]:
            out.append(line)
            if "</task>" in line:
                break
        block = re.sub(r"<action>.*?</action>", " ", "\n".join(out), flags=re.S | re.I)
        # The tags go too: "src/page.tsx</name>" ends a path, it is no template (src/<x>).
        return _TAG.sub(" ", block)
    fence = False
    for line in lines[start : end - 1]:
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        other = _HEADING.match(line)
        if heading:
            if other and len(other.group(1)) <= len(heading.group(1)):
                break
        elif other or _BOX.match(line):
            break
        elif not line.strip():
            continue
        elif not (line.startswith((" ", "\t")) or _CHECKPOINT.match(line)):
            break
        out.append(line)
    return "\n".join(out)


def _derive(  # noqa: PLR0917 (one private call site, arguments in a natural order)
    text: str,
    task: Task,
    feature: str | None,
    ignored: list[str],
    plan: Plan,
    diags: Diagnostics,
) -> list[str]:
    from planrun.derivepaths import contains_checks, named_paths  # noqa: PLC0415
    from planrun.prose import is_command  # noqa: PLC0415

    found: list[str] = []
    contains = contains_checks(text, feature, ignored)
    commands = _commands(text, task, plan, diags)
    # Paths inside a command (`pytest tests/unit`) are its arguments, not things to create.
    prose = re.sub(r"`([^`]+)`", lambda m: " " if is_command(m.group(1)) else m[0], text)
    paths = [] if _REMOVES.search(text) else named_paths(prose, feature, ignored)
    with_content = {path for path, _ in contains}
    for path in paths:
        if path in with_content:
            continue
        task.must_haves.artifacts.append(Artifact(path=path, derived=True))
        found.append(f"{path} exists")
    if not _REMOVES.search(text):
        for path, symbol in contains:
            task.must_haves.artifacts.append(Artifact(path=path, contains=symbol, derived=True))
            found.append(f'{path} contains "{symbol}"')
    for cmd in commands:
        task.verify.append(cmd)
        found.append(f"`{cmd.run}`")
    return found


def _commands(text: str, task: Task, plan: Plan, diags: Diagnostics) -> list[VerifyCommand]:
    from planrun import expectations, markdown  # noqa: PLC0415
    from planrun.checkform import check_form  # noqa: PLC0415
    from planrun.prose import denies_success, is_command  # noqa: PLC0415
    from planrun.unasked import whys  # noqa: PLC0415

    out: list[VerifyCommand] = []
    # The item's own words (not a **Checkpoint**: line, which states a check): in a task that
    # removes, replaces or moves things, its commands are what goes ("Drop the `test -f x`
    # guard"), and run they fail the work done, or pass while what should go is still there.
    item = "\n".join(ln for ln in text.splitlines() if not _CHECKPOINT.match(ln))
    removes = _REMOVES.search(item)
    for line in text.splitlines():
        spans = markdown.backticked_with_rest(line)
        for (span, after), unasked in zip(spans, whys(line), strict=True):
            if not is_command(span):
                continue
            if unasked is not None:
                _not_a_check(span, unasked, task, plan, diags)
                continue
            if removes and not _CHECKPOINT.match(line):
                word = " ".join(removes.group(0).split())
                does = "removes, replaces or moves it" if _GONE.match(word) else "only suggests it"
                _not_a_check(span, f"the task {does} ({word!r})", task, plan, diags)
                continue
            if _FAILS_FIRST.search(line):
                _not_a_check(span, "the task expects it to fail first", task, plan, diags)
                continue
            command, why = check_form(span)
            if command is None:
                _not_a_check(span, why, task, plan, diags)
                continue
            expect = expectations.for_command(command, expectations.from_prose(after))
            if expect.output is None and not expect.fails and denies_success(after):
                # "`python -c 'import old'` should no longer work": run, its exit 0 is the
                # opposite of what the task asks (its other failure words describe the work).
                _not_a_check(span, "the task says it must no longer succeed", task, plan, diags)
                continue
            if re.match(r"(?:ls|wc)\b", command) and expect.output is None:
                _not_a_check(span, "it prints, and passes whatever it prints", task, plan, diags)
                continue
            out.append(
                VerifyCommand(
                    run=command,
                    expect_output=expect.output,
                    expect_exit=1 if expect.fails else 0,
                    derived=True,
                )
            )
    unique: dict[str, VerifyCommand] = {}
    for cmd in out:
        unique.setdefault(cmd.run, cmd)
    return list(unique.values())


def _not_a_check(span: str, why: str, task: Task, plan: Plan, diags: Diagnostics) -> None:
    diags.add(
        "not-a-check",
        plan.source_of(task),
        task.line,
        f'task "{task.id}": `{span[:60]}` is not used as a check: {why}',
    )
