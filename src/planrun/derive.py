"""Checks derived from what a task names, for tasks that carry no verify of their own.

Agent-written checklists ("- [X] T012 Create Task model in src/models/task.py") say what
was built without saying how to check it. Most of that can be settled from the repository:
every file or folder the task names must exist; "Implement `foo()` in path" means the file
contains ``foo``; a command in backticks in the item (or on a ``**Checkpoint**:`` line after
it) is its verify. These checks are weaker than a written verify, so each carries
``derived: true`` and every report labels it.

Applied after reading, to every format but the canonical one (whose author writes verify
on purpose; a converted plan carries the derived checks of its source, labelled).
Conservative by design: a path in a task that removes, renames or moves things, a
placeholder, a gitignored or generated output, a bare name without a folder, a command
that changes the tree (installers, ``mkdir``, fixers that cannot check) or never ends
(dev servers) is never turned into a check.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from planrun import expectations, markdown
from planrun.checkform import check_form
from planrun.diagnostics import Diagnostics
from planrun.model import Artifact, Plan, Task, VerifyCommand
from planrun.plural import pluralize
from planrun.prose import is_command

_EXTENSIONS = frozenset(
    [
        "py",
        "pyi",
        "ts",
        "tsx",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "json",
        "jsonc",
        "yaml",
        "yml",
        "toml",
        "md",
        "mdx",
        "rst",
        "txt",
        "rs",
        "go",
        "java",
        "kt",
        "kts",
        "rb",
        "php",
        "cs",
        "swift",
        "c",
        "h",
        "cc",
        "cpp",
        "hpp",
        "m",
        "mm",
        "sh",
        "bash",
        "zsh",
        "ps1",
        "sql",
        "html",
        "htm",
        "css",
        "scss",
        "sass",
        "less",
        "vue",
        "svelte",
        "astro",
        "xml",
        "gradle",
        "proto",
        "graphql",
        "gql",
        "dart",
        "ex",
        "exs",
        "erl",
        "lua",
        "r",
        "ipynb",
        "tf",
        "hcl",
        "cfg",
        "ini",
        "conf",
        "lock",
        "csv",
        "tsv",
        "env",
        "example",
        "sample",
        "j2",
        "jinja",
        "tmpl",
        "hbs",
        "ejs",
        "prisma",
        "scala",
        "clj",
        "elm",
        "hs",
        "ml",
        "zig",
        "nim",
        "dockerfile",
        "mk",
        "cmake",
        "svg",
        "png",
        "jpg",
        "gif",
        "ico",
        "wasm",
    ]
)
# First folders that make a slash-separated word a path even without an extension.
_CODE_DIRS = frozenset(
    [
        "src",
        "lib",
        "app",
        "apps",
        "packages",
        "tests",
        "test",
        "specs",
        "docs",
        "scripts",
        "internal",
        "cmd",
        "pkg",
        "components",
        "migrations",
        "crates",
        ".github",
        "contracts",
        "checklists",
    ]
)
# Outputs of builds and tools: never a check that the work was done.
_GENERATED = (
    "node_modules/*",
    "*/node_modules/*",
    "dist/*",
    "build/*",
    "out/*",
    "target/*",
    ".next/*",
    "coverage/*",
    "htmlcov/*",
    "*/__pycache__/*",
    "__pycache__/*",
    "*.pyc",
    ".venv/*",
    "venv/*",
    "*.egg-info/*",
    "*.log",
    ".env",
    ".planrun/*",
)
# spec-kit names relative to the feature folder (specs/NNN-x/), not the repository.
_FEATURE_FILES = frozenset(
    [
        "contracts",
        "checklists",
        "research.md",
        "data-model.md",
        "quickstart.md",
        "spec.md",
        "plan.md",
    ]
)
_PATH = re.compile(r"(?<![\w/.@:-])((?:\.{1,2}/)?(?:[\w@.+-]+/)+(?:[\w@+-][\w@.+-]*)?)")
_REMOVES = re.compile(
    r"\b(?:remove[sd]?|delet\w*|drop(?:s|ped)?|renam\w*|mov(?:e|es|ed|ing)|deprecat\w*|"
    r"clean\s*up|uninstall\w*|replac\w*|migrat\w*\s+away|get\s+rid|if\s+(?:it\s+)?exists?|"
    r"if\s+needed|if\s+present|optional(?:ly)?|consider|e\.g\.|for\s+example)\b",
    re.I,
)
_CONTAINS = re.compile(
    r"\b(?:implement|add|define|create|export|register|expose|write|declare)s?\s+"
    r"(?:an?\s+|the\s+|new\s+)*`([A-Za-z_][\w.]*)(?:\([^`]*\))?`"
    r"(?:\s+[\w-]+){0,3}?\s+(?:in|to|into|inside|within)\s+`?([\w@./+-]+\.\w+)`?",
    re.I,
)
_CHECKPOINT = re.compile(
    r"^\s*(?:[-*+]\s+)?\*\*(?:checkpoint|verify|verification|test)\*\*:?", re.I
)
_FAILS_FIRST = re.compile(r"\b(?:must|should|will|to|ensure\s+\w+|expect\w*)\s+fail", re.I)
_BOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX~-]\]")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s")
_FRONTMATTER = re.compile(r"\A---[ \t]*\n.*?^---[ \t]*$", re.S | re.M)
_TAG = re.compile(r"</?[A-Za-z_][\w:-]*(?:\s[^<>]*)?/?>")


def derive_plan(plan: Plan, texts: Mapping[str, str], root: Path, diags: Diagnostics) -> None:
    """Give each task of ``plan`` without checks of its own the checks its text implies.
    ``texts`` holds the text of each file the plan was read from, by its display name (a
    multi-file plan, such as a Backlog.md folder, has one per task); ``root`` is where paths
    resolve."""
    if plan.format == "planrun":
        return
    ignored = _ignore_patterns(root)
    for task in plan.tasks:
        if task.kind == "manual" or task.has_checks or task.must_haves.truths or not task.line:
            continue  # a verify in words (a manual truth) is the task's own, too
        source = plan.source_of(task)
        if source not in texts:
            continue
        text = _text_of(plan, task, task.line, source, texts[source])
        found = _derive(text, task, _feature_dir(source, root), ignored, plan, diags)
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
    found: list[str] = []
    contains = _contains_checks(text, feature, ignored)
    commands = _commands(text, task, plan, diags)
    # Paths inside a command (`pytest tests/unit`) are its arguments, not things to create.
    prose = re.sub(r"`([^`]+)`", lambda m: " " if is_command(m.group(1)) else m[0], text)
    paths = [] if _REMOVES.search(text) else _paths(prose, feature, ignored)
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


def _paths(text: str, feature: str | None, ignored: list[str]) -> list[str]:
    out: list[str] = []
    for match in _PATH.finditer(text):
        raw = match.group(1).rstrip(".,;:)")
        after = text[match.end() : match.end() + 1]
        if after in ("(", "<", "{", "*", "$") or "//" in raw or raw.startswith("../"):
            continue
        quoted = match.start() > 0 and text[match.start() - 1] == "`"
        path = _as_path(raw, quoted=quoted)
        if path is None:
            continue
        resolved = _resolve(path, feature)
        if resolved and resolved not in out and not _ignored(resolved, ignored):
            out.append(resolved)
    return out


def _as_path(raw: str, *, quoted: bool = True) -> str | None:
    """``raw`` as a repository path, when it clearly is one (a folder without a trailing
    slash only in backticks: "update scripts/docs" is two things)."""
    raw = raw.removeprefix("./")
    if not raw or any(c in raw for c in "<>{}*$`|\\"):
        return None
    parts = [p for p in raw.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return None
    last = parts[-1]
    if raw.endswith("/"):
        return raw if parts[0] in _CODE_DIRS or len(parts) > 1 else _folder(parts)
    suffix = PurePosixPath(last).suffix.lstrip(".").lower()
    if suffix in _EXTENSIONS and not re.fullmatch(r"[\d.]+", last):
        return raw
    if not suffix and quoted and parts[0] in _CODE_DIRS and len(parts) > 1:
        return raw  # a folder named without its trailing slash: `src/models`
    return None


def _folder(parts: list[str]) -> str | None:
    # "src/" in a folder list: a single word with a slash is a folder when it looks like one.
    name = parts[0]
    return f"{name}/" if re.fullmatch(r"[a-z0-9_.-]+", name) and len(name) > 1 else None


def _resolve(path: str, feature: str | None) -> str | None:
    first = path.split("/", 1)[0]
    if feature and (first in _FEATURE_FILES or path in _FEATURE_FILES):
        return f"{feature}/{path}"
    return path


def _contains_checks(text: str, feature: str | None, ignored: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for match in _CONTAINS.finditer(text):
        symbol = match.group(1).split(".")[-1]
        path = _as_path(match.group(2))
        if not path or "/" not in path or len(symbol) < 3:
            continue
        resolved = _resolve(path, feature)
        if resolved and not _ignored(resolved, ignored) and (resolved, symbol) not in out:
            out.append((resolved, symbol))
    return out


def _commands(text: str, task: Task, plan: Plan, diags: Diagnostics) -> list[VerifyCommand]:
    out: list[VerifyCommand] = []
    for line in text.splitlines():
        for span, after in markdown.backticked_with_rest(line):
            if not is_command(span):
                continue
            if _FAILS_FIRST.search(line):
                _not_a_check(span, "the task expects it to fail first", task, plan, diags)
                continue
            command, why = check_form(span)
            if command is None:
                _not_a_check(span, why, task, plan, diags)
                continue
            expect = expectations.for_command(command, expectations.from_prose(after))
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


def _feature_dir(source: str, root: Path) -> str | None:
    """The folder of the task's file relative to the root, when it is not the root
    (spec-kit's ``specs/001-x/`` that ``contracts/`` is relative to)."""
    folder = Path(source).resolve().parent
    try:
        rel = folder.relative_to(root.resolve())
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None


def _ignore_patterns(root: Path) -> list[str]:
    """The root .gitignore's patterns (the simple ones: no negation) plus generated outputs."""
    out = list(_GENERATED)
    try:
        text = (root / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        line = line.lstrip("/")
        if line.endswith("/"):
            out += [f"{line}*", f"*/{line}*"]
        else:
            out += [line, f"*/{line}", f"{line}/*", f"*/{line}/*"]
    return out


def _ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) for p in patterns)
