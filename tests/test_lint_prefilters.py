"""The textual prefilters that let validate's command lints skip their syntax tree and most of
their regular expressions give the same findings as the full lints (lint.py, errexit.py,
commandlint.py): each prefilter only says when a lint cannot find anything."""

from __future__ import annotations

import random
import re

import pytest

from planrun import commandlint, environment, errexit, lint
from planrun.diagnostics import Diagnostic, Diagnostics
from planrun.modelchecks import VerifyCommand

_WORDS = [
    "py",
    "PY",
    "Py",
    "py.exe",
    "cmd",
    "CMD.EXE",
    "cmd.exe",
    "powershell",
    "PowerShell",
    "python",
    "python3",
    "pytest",
    "tests/test_1.py",
    "./py",
    "/usr/bin/py",
    r"C:\\Py\\py",
    r"\py",
    "x.exe",
    "foo.EXE",
    "py-3",
    "mypy",
    "cmd_x",
    "-3",
    "/c",
    "-q",
    "echo",
    "true",
    "false",
    ":",
    "grep",
    "-q",
    "-v",
    "error",
    "FAIL",
    "PASS",
    "ok",
    "exit",
    "0",
    "1",
    "set",
    "+e",
    "-e",
    "+o",
    "pipefail",
    "-euo",
    "trap",
    '"exit 0"',
    "EXIT",
    "wait",
    "$!",
    "$?",
    "[",
    "]",
    "-f",
    "out.txt",
    "test",
    "sleep",
    "1",
    "cd",
    "..",
    "npm",
    "run",
    "dev",
    "serve",
    "npx",
    "vite",
    "build",
    "uvicorn",
    "app:app",
    "flask",
    "rails",
    "s",
    "docker",
    "compose",
    "up",
    "-d",
    "next",
    "tauri",
    "manage.py",
    "runserver",
    "tail",
    "cat",
    "tee",
    "log",
    "/home/me/x",
    "/Users/me/y",
    "~/z",
    "'quoted py'",
    '"a && b"',
    "$(py -3)",
    "`cmd /c`",
    "x=1",
    "FOO=py",
]
_GLUE = [
    " ",
    " ",
    " ",
    " && ",
    " || ",
    " | ",
    "; ",
    " &\n",
    "\n",
    " ! ",
    " > ",
    " 2>&1 | ",
    "\\\n",
    " &> ",
]
_SHAPES = [
    "for f in a b; do {0} || continue; done",
    "if {0}; then {1}; fi",
    "{{ {0}; }}",
    "( {0} )",
    "while {0}; do {1} || break; done",
    "! {0}",
    "{0} &",
    "trap 'exit 0' EXIT\n{0}",
    "set +o pipefail\n{0} | cat",
    "set +e\n{0}\n{1}",
]


def _scripts(count: int, seed: int = 14) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - a seeded corpus, not a secret
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            parts.append(rng.choice(_WORDS))
            parts.append(rng.choice(_GLUE))
        script = "".join(parts[:-1])
        if rng.random() < 0.3:
            other = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3)))
            script = rng.choice(_SHAPES).format(script, other)
        out.append(script)
    return out


SCRIPTS = _scripts(1500)
EVERYTHING = re.compile("")  # a prefilter that lets every script through


def test_the_corpus_reaches_every_lint() -> None:
    assert any(lint.launchers(s) for s in SCRIPTS)
    assert any(errexit.ignored_failures(s) for s in SCRIPTS)
    assert any(commandlint.long_running(s) for s in SCRIPTS)


@pytest.mark.parametrize(
    ("module", "name", "function"),
    [
        (lint, "_MAYBE_LAUNCHER", lint.launchers),
        (errexit, "_MAY_IGNORE", errexit.ignored_failures),
        (commandlint, "_MAYBE_LONG_RUNNING", commandlint.long_running),
    ],
)
def test_a_prefilter_changes_no_finding(
    module: object, name: str, function: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert callable(function)
    filtered = [function(s) for s in SCRIPTS]
    monkeypatch.setattr(module, name, EVERYTHING)
    assert [function(s) for s in SCRIPTS] == filtered


@pytest.mark.parametrize(
    ("pattern", "needs"),
    [
        *[(p, lambda s: "||" in s or "exit" in s) for p, _, _ in lint._NEVER_FAILS],
        (lint._PIPE_TAIL, lambda s: "|" in s),
        (environment._MACHINE_PATH, lambda s: "/Users/" in s or "/home/" in s),
        (commandlint._REDIRECT, lambda s: ">" in s),
    ],
)
def test_a_pattern_matches_only_where_its_prefilter_lets_it(
    pattern: re.Pattern[str], needs: object
) -> None:
    assert callable(needs)
    assert all(needs(s) for s in SCRIPTS if pattern.search(s))


def test_a_script_with_nothing_any_lint_needs_is_skipped_without_a_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def lint_all() -> list[object]:
        diags = Diagnostics()
        for number, script in enumerate(SCRIPTS):
            command = VerifyCommand(run=script)
            lint._lint_command(
                command, f'task "t{number}"', number, "plan.md", diags, context="RED"
            )
        return list(diags.items)

    skipped = [s for s in SCRIPTS if not lint._MAY_FIND.search(s)]
    assert len(skipped) > 50  # the corpus has plain scripts too
    filtered = lint_all()
    monkeypatch.setattr(lint, "_MAY_FIND", EVERYTHING)
    assert lint_all() == filtered


def test_said_sees_every_diagnostic_however_it_was_added() -> None:
    # lint asks, for each command, whether verify-never-fails was already said at its line
    # (two commands on one line get one warning); Diagnostics indexes each item once.
    diags = Diagnostics()
    assert not diags.said("verify-never-fails", "p.md", 3)
    diags.add("verify-never-fails", "p.md", 3, "one")
    assert diags.said("verify-never-fails", "p.md", 3)
    assert not diags.said("verify-never-fails", "p.md", 4)
    assert not diags.said("verify-never-fails", "q.md", 3)
    assert not diags.said("unknown-dependency", "p.md", 3)
    diags.items.extend([Diagnostic("verify-never-fails", "warning", "q.md", None, "two")])
    assert diags.said("verify-never-fails", "q.md", None)


def test_two_never_failing_commands_on_one_line_are_said_once() -> None:
    diags = Diagnostics()
    commands = [VerifyCommand(run="echo one"), VerifyCommand(run="true")]  # both on line 7
    for cmd in commands:
        lint._lint_command(cmd, 'task "a"', 7, "p.md", diags)
    assert [d.code for d in diags.items] == ["verify-never-fails"]
