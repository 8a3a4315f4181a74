"""Diagnostics: one finding about a plan, with a stable code, a place and a hint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

# Every code planrun emits, its severity and what it means. The README's table is generated
# from this (tests/test_readme.py keeps them in sync), so a code is documented or it fails CI.
CODES: dict[str, tuple[Severity, str]] = {
    # -- the file itself
    "empty-file": ("error", "the plan file is empty"),
    "binary-file": ("error", "the file is binary (it contains NUL bytes)"),
    "not-utf8": ("error", "the file is not UTF-8 text"),
    "special-file": ("error", "a plan path is a FIFO, device or socket, not a regular file"),
    "file-too-large": ("error", "a plan file is larger than 32 MiB"),
    "no-frontmatter": ("error", "a plan given by name has no YAML frontmatter"),
    "not-a-plan": ("info", "a markdown file in a folder is not a plan and was skipped"),
    "superseded-plan": ("info", "a GSD plan with status: superseded is left out of the waves"),
    "unrecognized-plan": ("error", "a file given by name is not in any plan format planrun reads"),
    "yaml-syntax": ("error", "the YAML frontmatter does not parse"),
    "json-syntax": ("error", "a JSON plan (Task Master tasks.json) does not parse"),
    "frontmatter-not-mapping": ("error", "the frontmatter is a list or a scalar, not a mapping"),
    "duplicate-key": ("warning", "a YAML mapping repeats a key; the last value wins"),
    "yaml-backslash": (
        "warning",
        'a backslash escape YAML rejects ("Base\\.metadata") was read literally, as GSD does',
    ),
    "format": ("info", "which reader read the file"),
    "trailing-chatter": ("warning", "an agent's transcript after the document was ignored"),
    "ignored-content": ("warning", "a line or key the reader could not interpret was ignored"),
    "unread-element": ("info", "a GSD task element that is text for people, not a check"),
    "unknown-element": ("warning", "an element inside <verify> that is not <automated>"),
    "malformed-task": ("error", "a GSD <task> that is unclosed, nested, or closed twice"),
    "gsd-missing-key": ("warning", "a key GSD requires is missing from the frontmatter"),
    "prose-verify": ("warning", "a verify line is prose, not a command: it is a manual check"),
    "unknown-status": ("warning", "a task status planrun does not know; read as todo"),
    # -- schema
    "unknown-key": ("error", "a key the canonical format does not have (with a did-you-mean)"),
    "missing-key": ("error", "a required key is missing"),
    "invalid-value": ("error", "a value has the wrong type or form"),
    "depends-on-string": ("info", "depends_on was a string; read as a list of one id"),
    # -- graph
    "duplicate-id": ("error", "two tasks of one plan, or two plans, share an id"),
    "unknown-dependency": ("error", "depends_on names a task or plan that does not exist"),
    "external-dependency": (
        "warning",
        "a plan loaded on its own depends on a plan not loaded; treated as outside the run",
    ),
    "self-dependency": ("error", "a task or plan depends on itself"),
    "cycle": ("error", "dependencies form a cycle (the cycle path is given)"),
    "wave-mismatch": ("warning", "a plan's declared wave differs from the computed one"),
    "file-conflict": ("warning", "tasks of one wave touch the same file (merge-conflict risk)"),
    "unknown-milestone-task": ("warning", "a milestone names a task that does not exist"),
    # -- checks
    "invalid-regex": ("error", "a key_links pattern is not a valid regular expression"),
    "key-link-pattern": ("warning", "a key_links pattern is prose or a shell command, not a regex"),
    "path-outside-root": ("error", "a must_haves path is absolute or escapes the root"),
    "no-verify": ("warning", "a task has no runnable verify command and no must_haves check"),
    "root-missing": (
        "warning",
        "a plan's `root:` is not a folder (execute refuses it without `--root`)",
    ),
    "verify-never-fails": ("warning", "a verify command that passes whatever happens"),
    "verify-failure-ignored": (
        "warning",
        (
            "a line of a verify script whose failure is ignored (`! cmd`, `cmd && echo ok`, "
            "`npm run build && npm test` before the last line, `cmd &`, a loop that skips on "
            "failure, after `trap 'exit 0' EXIT` or `set +o pipefail`), or, under a shell "
            "without `-e`, the first line it would go on after"
        ),
    ),
    "verify-grep-failure": (
        "warning",
        "a grep that also matches a failure word, so it passes when the output reports one",
    ),
    "verify-prints-result": ("warning", "a verify that prints PASS or FAIL but exits 0 either way"),
    "verify-redirect-creates": (
        "warning",
        "a verify tests that a file exists that its own redirect (> file) created",
    ),
    "verify-exit-status-lost": (
        "warning",
        "a verify reads $? before running anything: in its fresh shell it is always 0",
    ),
    "verify-long-running": (
        "warning",
        "a verify starts a dev server or watcher that never exits (npm run dev, vite, ...)",
    ),
    "verify-status-blind": (
        "warning",
        "a verify ends in a bare `curl` without --fail, which exits 0 whatever HTTP status it got",
    ),
    "verify-skips-itself": (
        "warning",
        (
            "a verify ends itself with `exit 0` when a tool is missing or a condition holds, "
            "before the rest of the check"
        ),
    ),
    "machine-path": (
        "warning",
        (
            "a machine-specific absolute path (/Users/..., /home/...), or a Windows-only launcher "
            "(`py -3.14`, `cmd /c`, `powershell`, `*.exe`)"
        ),
    ),
    "claimed-done-unverified": ("warning", "a task claimed done has nothing to verify it"),
    "no-runnable-checks": ("warning", "nothing in the plan can be checked automatically"),
    "derived-checks": ("info", "a task without verify gets checks derived from what it names"),
    "not-a-check": ("info", "a command a task names changes the tree or never ends: not run"),
    "destructive-check": (
        "warning",
        (
            "a command a plan states as a check deletes or rewrites the work (`git clean -fdx`, "
            "`rm -rf`, `--fix`, a snapshot update): a manual check, not run"
        ),
    ),
    "inputs-match-nothing": ("warning", "an `inputs:` glob names no file under the root"),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    file: str
    line: int | None
    message: str
    hint: str | None = None

    def format(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{place}: {self.severity}[{self.code}] {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[str, int, str]:
        return (self.file, self.line or 0, self.code)


class Diagnostics:
    """Collects diagnostics; the severity of each comes from ``CODES``."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []  # only ever appended to or extended
        self._places: dict[str, set[tuple[str, int | None]]] = {}  # code: (file, line)
        self._indexed = 0  # how many of the items _places holds

    def said(self, code: str, file: str, line: int | None) -> bool:
        """Whether a ``code`` diagnostic was given at ``file:line``. Each item is indexed once:
        asked for each command of a plan, a scan of every item was quadratic (20,000 verify
        commands against thousands of warnings)."""
        items = self.items
        while self._indexed < len(items):
            item = items[self._indexed]
            self._places.setdefault(item.code, set()).add((item.file, item.line))
            self._indexed += 1
        return (file, line) in self._places.get(code, ())

    def add(
        self, code: str, file: str, line: int | None, message: str, hint: str | None = None
    ) -> None:
        severity = CODES[code][0]
        self.items.append(Diagnostic(code, severity, file, line, message, hint))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.items if d.severity == severity)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)
