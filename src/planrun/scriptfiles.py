"""A check that runs a shell script file of the project (``bash scripts/verify.sh``, ``sh
check.sh``, ``./verify.sh``): the file's text, and the flags the shell runs it with.

Such a file runs in a shell of its own, started without -e or pipefail unless its command line,
its ``#!`` line or its own ``set`` says so, and planrun's traps do not reach it: a failure it
goes on after, a mask, a check that can never fail, is read from its text as for ``bash -c
'...'`` (checkrules.nested). Only a file given by a literal path, read as it is before the
run; a file that is not there, too large or not text is not read (the check is then judged by
its exit status).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tree_sitter import Node

from planrun import lazyre
from planrun.document import read_regular
from planrun.errexit import (
    WRAPPERS,
    ShellFlags,
    body_of,
    command_name,
    only_statement,
    shell_flags,
    text_of,
)
from planrun.shellnames import SHELL_NAMES
from planrun.shellsplit import parse

MAX_BYTES = 256 * 1024
_PLAIN = lazyre.compile(r"[\w./+@%=-]+")  # a path with nothing the shell would expand or split
_SHELLS = frozenset({"sh", "bash", "dash"})


def script_file(run: str, cwd: Path | None) -> tuple[str, str, ShellFlags, str] | None:
    """(the file as the check names it, its text, its shell's flags, the shell: bash or sh)
    when the check is one command running a shell script file by a literal path; else None."""
    statement = only_statement(run) if cwd is not None and "sh" in run else None
    if cwd is None or statement is None:
        return None
    command = _unwrapped(statement)
    name = command.child_by_field_name("name") if command.type == "command" else None
    if name is None:
        return None
    words = [text_of(n) for n in (name, *command.children_by_field_name("argument"))]
    at = 0
    if Path(words[0]).name in WRAPPERS:  # `timeout 300 bash scripts/check.sh`
        at = next((i for i, w in enumerate(words) if Path(w).name in SHELL_NAMES), -1)
        if at < 0:
            return None
    if Path(words[at]).name in _SHELLS:
        index = at + 1
        while index < len(words) and words[index][:1] in ("-", "+") and words[index] != "--":
            option = words[index]
            index += 1
            if option.startswith("--"):
                continue  # --noprofile, --norc
            if option[0] == "-" and "c" in option:
                return None  # `bash -c '...'`: checkrules.nested reads it
            index += option.count("o")  # each `o` takes the next word (`-eo pipefail`)
        index += words[index : index + 1] == ["--"]
        if index >= len(words):
            return None
        text = _text(cwd, words[index])
        shell = Path(words[at]).name
        return None if text is None else (words[index], text, shell_flags(words[at:index]), shell)
    if at != 0 or "/" not in words[0]:
        return None
    text = _text(cwd, words[0])  # `./verify.sh`: its `#!` line says how it runs
    first = text.split("\n", 1)[0] if text is not None else ""
    shebang = first[2:].split() if first.startswith("#!") else []
    if text is not None and not first.startswith("#!") and words[0].endswith(".sh"):
        shebang = ["bash"]  # no `#!` line: bash runs it in a new shell of its own
    if text is None or not any(Path(w).name in _SHELLS for w in shebang):
        return None
    shell = next(Path(w).name for w in reversed(shebang) if Path(w).name in _SHELLS)
    return words[0], text, shell_flags(shebang), shell


_REPORTS = frozenset({"echo", "printf", "true", ":"})
_PASSES_ON = frozenset({"tail", "head", "tee", "cat"})


def _unwrapped(node: Node) -> Node:
    """The command of ``bash check.sh && echo OK`` or ``./check.sh 2>&1 | tail -5``: what
    only reports after it, or only passes its output on, decides nothing (planrun's shell
    runs with pipefail; a plan's own shell without it is not told apart here)."""
    while True:
        if node.type == "list" and node.children[1].type == "&&":
            if command_name(node.children[-1]) not in _REPORTS:
                return node
            node = body_of(node.children[0])
        elif node.type == "pipeline":
            stages = [c for c in node.named_children if c.type != "comment"]
            if not all((command_name(c) or "") in _PASSES_ON for c in stages[1:]):
                return node
            node = body_of(stages[0])
        else:
            return node


def _text(cwd: Path, path: str) -> str | None:
    if not _PLAIN.fullmatch(path) or path.startswith("-"):
        return None
    data = read_regular(cwd / path, MAX_BYTES)
    if data is None or b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


_PACKAGE_BYTES = 1024 * 1024
# npm's options that take no value, beside a script's name (`npm run lint --if-present -s`).
_NPM_FLAGS = frozenset({"--if-present", "--silent", "-s", "--quiet", "-q"})
_NPM_FOLDER = frozenset({"--prefix", "-C"})  # the folder whose package.json npm runs
# What may come before the check in `cd web && npm ci && npm test`: it checks nothing itself.
_NPM_SETUP = frozenset({"ci", "install", "i"})


NpmScript = tuple[str, "str | None", str]
"""A package.json script a check runs: its name, its text (None: not there, under
``--if-present``) and the package.json holding it, as the check names it."""


def npm_scripts(run: str, cwd: Path | None) -> list[NpmScript] | None:
    """The package.json scripts a check runs with ``npm test`` or ``npm run NAME`` (npm runs
    each with ``sh -c``, without -e), in order, when that is all it runs: also in another
    folder (``npm --prefix web test``, ``cd web && npm test``, ``(cd web && npm ci && npm
    test)``), several (``npm run lint && npm test``, one per line), behind ``timeout 60``, or
    piped into ``tail``. None for anything else, for a script with a ``pre``/``post`` script
    beside it (npm runs those too), or when a package.json cannot be read."""
    root = parse(run) if cwd is not None and "npm" in run else None
    if cwd is None or root is None or root.has_error:
        return None
    found: list[NpmScript] = []
    folder = Path()
    for statement in (c for c in root.named_children if c.type != "comment"):
        node = body_of(statement)
        if node.type == "subshell":  # `(cd web && npm test)`: its `cd` stays inside
            inner = [c for c in node.named_children if c.type != "comment"]
            if len(inner) != 1 or not _npm_chain(body_of(inner[0]), cwd, folder, found):
                return None
            continue
        after = _npm_chain(node, cwd, folder, found)
        if after is None:
            return None
        folder = after
    return found or None


def _npm_chain(node: Node, cwd: Path, folder: Path, found: list[NpmScript]) -> Path | None:
    """Adds to ``found`` the scripts of an ``&&`` chain of ``cd``s to literal folders, installs
    (``npm ci``: they check nothing) and npm scripts; the folder it ends in, or None when it
    holds anything else."""
    chain: list[Node] = []
    while node.type == "list" and node.children[1].type == "&&":
        chain.insert(0, body_of(node.children[-1]))
        node = body_of(node.children[0])
    chain.insert(0, node)
    for written in chain:
        step = _unwrapped(written)
        if command_name(step) == "cd":
            args = [text_of(n) for n in step.children_by_field_name("argument")]
            if len(args) != 1 or not _PLAIN.fullmatch(args[0]) or args[0].startswith("-"):
                return None
            folder = folder / args[0]
            continue
        if command_name(step) in _REPORTS and written is not chain[0]:
            continue  # `npm test && echo OK`
        words = _npm_words(step)
        if words is None or not words:
            return None
        if words[0] in _NPM_SETUP:
            continue
        script = _npm_script(words, cwd, folder)
        if script is None:
            return None
        found.append(script)
    return folder


def _npm_script(words: list[str], cwd: Path, folder: Path) -> NpmScript | None:
    """The script of ``npm WORDS`` run in ``folder`` (under ``cwd``), or None."""
    if "--" in words:
        words = words[: words.index("--")]  # what follows goes to the script
    words, prefix = _prefix(words)
    if prefix is None:
        return None
    folder = folder / prefix
    flags = [w for w in words if w.startswith("-")]
    words = [w for w in words if not w.startswith("-")]
    if any(f not in _NPM_FLAGS for f in flags):
        return None  # `--workspace`: another package.json
    if words[:1] in (["test"], ["t"]) and len(words) == 1:
        script = "test"
    elif words[:1] in (["run"], ["run-script"]) and len(words) == 2:
        script = words[1]
    else:
        return None
    package = (folder / "package.json").as_posix()
    scripts = _scripts(cwd / package)
    if scripts is None:
        return None
    if f"pre{script}" in scripts or f"post{script}" in scripts:
        return None
    text = scripts.get(script)
    if isinstance(text, str):
        return script, text, package
    return (script, None, package) if "--if-present" in flags else None


def _npm_words(command: Node) -> list[str] | None:
    """The words after ``npm`` of an ``npm ...`` command (``timeout 60 npm ...`` too); None
    for any other."""
    name = command.child_by_field_name("name") if command.type == "command" else None
    if name is None:
        return None
    words = [text_of(n) for n in (name, *command.children_by_field_name("argument"))]
    if Path(words[0]).name in WRAPPERS and "npm" in words:
        words = words[words.index("npm") :]  # `timeout 60 npm test`
    return words[1:] if words[0] == "npm" else None


def _prefix(words: list[str]) -> tuple[list[str], str | None]:
    """``words`` without a ``--prefix DIR`` (``--prefix=DIR``, ``-C DIR``), and that folder
    ("." when none); None as the folder when it is not a literal path."""
    rest: list[str] = []
    folder = "."
    at = 0
    while at < len(words):
        word = words[at]
        option, equals, value = word.partition("=")
        if option in _NPM_FOLDER:
            if not equals:
                at += 1
                value = words[at] if at < len(words) else ""
            if not _PLAIN.fullmatch(value) or value.startswith("-"):
                return rest, None
            folder = value
        else:
            rest.append(word)
        at += 1
    return rest, folder


def _scripts(path: Path) -> dict[str, object] | None:
    data = read_regular(path, _PACKAGE_BYTES)
    try:
        found = json.loads(data) if data is not None else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(found, dict):
        return None
    scripts = found.get("scripts", {})  # none at all: `--if-present` runs nothing either
    return scripts if isinstance(scripts, dict) else None


# What a Makefile may hold for its recipes to be read as written: no include, no variables
# of make's in them, the default shell, one shell per line.
_MAKE_UNREAD = lazyre.compile(
    r"^\s*(?:-?include|sinclude|define|ifn?eq|ifn?def|\.ONESHELL|\.POSIX|SHELL\s*[:?+]?=|"
    r"\.SHELLFLAGS)\b",
    re.M,
)
_MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
_MAKE_FLAGS = frozenset({"-s", "--silent", "--quiet", "--no-print-directory"})


MakeRecipe = tuple[str, str, list[tuple[str, bool]], bool]
"""A make rule a check runs: its target, the makefile as the check names it, its recipe's
lines with whether make ignores each one's failure (``-cmd``), and whether make considers the
target up to date (a file or folder of its name is there and it is not ``.PHONY``)."""


def make_recipe(run: str, cwd: Path | None) -> MakeRecipe | None:
    """The rule a ``make TARGET`` check runs (:data:`MakeRecipe`), when it has no
    prerequisites and its recipe holds nothing of make's own (``$(VAR)``, a continued line);
    make runs nothing for a target without a recipe, or one that is up to date ("'test' is up
    to date"). None for anything else, or a makefile that cannot be read as written."""
    statement = only_statement(run) if cwd is not None and "make" in run else None
    if cwd is None or statement is None:
        return None
    command = _unwrapped(statement)
    name = command.child_by_field_name("name") if command.type == "command" else None
    if name is None or text_of(name) != "make":
        return None
    words = [text_of(n) for n in command.children_by_field_name("argument")]
    folder = "."
    if words[:1] == ["-C"] and len(words) > 1 and _PLAIN.fullmatch(words[1]):
        folder, words = words[1], words[2:]
    targets = [w for w in words if w not in _MAKE_FLAGS]
    if len(targets) != 1 or not re.fullmatch(r"[\w.-]+", targets[0]) or targets[0][0] in "-.":
        return None
    target = targets[0]
    found = next(
        ((f, t) for f in _MAKEFILES if (t := _text(cwd, f"{folder}/{f}")) is not None), None
    )
    if found is None or _MAKE_UNREAD.search(found[1]):
        return None
    makefile = found[0] if folder == "." else f"{folder}/{found[0]}"
    lines = found[1].split("\n")
    rules = [i for i, line in enumerate(lines) if _rule_of(line, target) is not None]
    if len(rules) != 1:
        return None  # none (make's built-in rules), or several: not read
    if _rule_of(lines[rules[0]], target):
        return None  # prerequisites: their recipes run first
    recipe: list[tuple[str, bool]] = []
    for line in lines[rules[0] + 1 :]:
        if not line.startswith("\t"):
            if line.strip() and not line.lstrip().startswith("#"):
                break
            continue
        text = line[1:].strip()
        if "$" in text.replace("$$", "") or text.endswith("\\"):
            return None  # make expands it, or joins it with the next line
        prefix = re.match(r"[@+-]*", text)
        flags = prefix.group(0) if prefix else ""
        recipe.append((text[len(flags) :].strip().replace("$$", "$"), "-" in flags))
    try:
        there = (cwd / folder / target).exists()
    except (OSError, ValueError):
        there = False  # a name too long for the system: no file of it
    return target, makefile, recipe, _not_phony(lines, target) and there


def _not_phony(lines: list[str], target: str) -> bool:
    """Whether ``target`` is surely not declared ``.PHONY`` (``.PHONY: a b``, ``.PHONY : a``,
    continued with ``\\``); False where a declaration names it or cannot be read
    (``.PHONY: $(TARGETS)``)."""
    names: list[str] = []
    continued = False
    for line in lines:
        if continued or re.match(r"\.PHONY\s*:", line):
            text = line.split(":", 1)[1] if not continued else line
            continued = text.rstrip().endswith("\\")
            names += text.rstrip().rstrip("\\").split()
    return target not in names and not any("$" in name for name in names)


def _rule_of(line: str, target: str) -> str | None:
    """What follows ``target:`` on a rule line naming it (its prerequisites); None when the
    line is no rule of it (an assignment ``x := 1``, a double-colon rule, a recipe)."""
    if line.startswith(("\t", " ", "#")) or ":" not in line:
        return None
    head, _, rest = line.partition(":")
    if rest.startswith((":", "=")) or target not in head.split():
        return None
    # `test: ; pytest` has its recipe on the rule's line: read as a prerequisite, not read
    return rest.split("#", 1)[0].strip()
