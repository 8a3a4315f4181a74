"""Which words of a task's text name a file or folder of the repository (a path, a symbol
"implemented in" a file), resolved against a spec-kit feature folder, and which of them are
outputs nobody checks (gitignored or generated): the vocabulary of ``derive``."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path, PurePosixPath

from planrun import lazyre

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


_PATH = lazyre.compile(r"(?<![\w/.@:-])((?:\.{1,2}/)?(?:[\w@.+-]+/)+(?:[\w@+-][\w@.+-]*)?)")


_CONTAINS = lazyre.compile(
    r"\b(?:implement|add|define|create|export|register|expose|write|declare)s?\s+"
    r"(?:an?\s+|the\s+|new\s+)*`([A-Za-z_][\w.]*)(?:\([^`]*\))?`"
    r"(?:\s+[\w-]+){0,3}?\s+(?:in|to|into|inside|within)\s+`?([\w@./+-]+\.\w+)`?",
    re.I,
)


def named_paths(text: str, feature: str | None, ignored: list[str]) -> list[str]:
    """The repository paths ``text`` names, once each, resolved, not ``ignored``."""
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


def contains_checks(text: str, feature: str | None, ignored: list[str]) -> list[tuple[str, str]]:
    """(path, symbol) for each "implement `foo()` in path" in ``text``."""
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


def feature_dir(source: str, root: Path) -> str | None:
    """The folder of the task's file relative to the root, when it is not the root
    (spec-kit's ``specs/001-x/`` that ``contracts/`` is relative to)."""
    folder = Path(source).resolve().parent
    try:
        rel = folder.relative_to(root.resolve())
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None


def ignore_patterns(root: Path) -> list[str]:
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
