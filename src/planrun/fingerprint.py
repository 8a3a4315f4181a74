"""A unit's key: what a recorded pass vouches for, so an unchanged pass can be reused.

The key covers the unit's commands and their options, its must_haves, the plan's ``env``, the
shell, planrun's version, the *content* of its inputs (``inputs:`` globs relative to ROOT,
default its ``files:``) and the keys of the units it depends on, so an edit reruns the tasks
that read the file and everything after them. Content, not mtimes: a checkout or a ``touch``
keeps the key, an edit changes it. The files its must_haves read (artifacts, key_links) count
whatever ``inputs:`` says: planrun reads them itself. A unit with no inputs, or one that
depends on a unit without a key, has no key and is never reused; what its result is held to
instead is ``reads``. A unit whose inputs are only its ``files`` (no ``inputs:``) may read other
files too: freshness.py also holds its result to the work tree it was tested on.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from functools import lru_cache
from pathlib import Path

from planrun import __version__
from planrun.graph import PlanGraph, Unit
from planrun.inputglobs import escapes, matches

RULES = 37
"""The version of the rules that judge a check (checkrules.py, errexit.py, judge.py): raised
with a change that can turn a recorded verdict, so a pass judged by older rules is run again
rather than reused (2: a shell without -e or pipefail; 3: an expected output is the last
command's; 4: a failure a shell without -e went on after; 5: in functions, subshells and
under shells planrun cannot trap; 6: failures recorded in a file, a pipeline without pipefail
before the last line; 7: an expected exit must be the last command's, command substitutions;
8: a report that only informs; 9: a check whose failure only prints, `&& echo`, `!`;
10: `X && exit 1` must fail, a bare wait, declarations, find -exec, the `if` form;
11: `X && echo` watched by its whole line, a pipe into grep without pipefail; 12: a checklist
whose watched checks stayed silent, missing tools reported by other programs; 13: a script
without -e whose ERR trap saw no failure; 14: a report of a test run, build or linter;
15: no `&& echo` line watched beside a command that relays text; 16-21: failures before
`&&`, `curl` without `--fail`, in groups and loops (git log of this file); 22: a shell a check
starts on a script of its own, ``sh -c '...'``, read with that shell's flags; 23: a group,
subshell or function run where bash ignores -e, left of ``&&`` or ``||``; 24: loops, ifs,
several conditions and called functions there too; 25-29: skips (git log); 30: retry loops
that give up with exit 0, `[ -d X ] && check || echo` where X is not there, failures in a
``<(...)``, a loop over named folders none of which is there; 31: a cleanup masked last is not the
check, `|| tail log` masks, a server the check starts, the project's own files, a script
file read as its shell runs it; 32: package.json scripts, `|| exit 1` lines without -e, a last
line saying FAIL, a `case` that only reports, all tests xfailed, printed values; 33: a file's
own `set` lines, one-line checks gated on the environment, no make rule; 34: `|| tail log`
before the last line; 35: package.json scripts of another folder, `cd web && npm test`; 36: a
failed `$(...)` a test reads, -e stopping at a count or counter, negative tests of a program
that is not there, variables noted and dropped, errors caught, several npm scripts, key_links
from files, exports, a service a PRP starts; 37: make recipes, here-documents fed to a shell,
unittest output cut, functions called before defined, lookups printing null, the review's
fixes of 36)."""
_CHUNK = 1 << 20
_MAX_WORDS = 200  # words of one command looked at for file names


def digest(unit: Unit) -> str:
    """What a recorded pass vouches for: the unit's commands and checks."""
    payload = json.dumps(
        [
            [c.model_dump(exclude={"description"}) for c in unit.verify],
            unit.must_haves.model_dump(by_alias=True),
        ],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def inputs_of(unit: Unit) -> list[str]:
    """The globs whose content decides the key: ``inputs``, else ``files``."""
    task = unit.task
    if task is None:
        return []
    return list(task.inputs if task.inputs is not None else task.files)


def _files(root: Path, patterns: list[str]) -> list[tuple[str, Path | None]]:
    """Every file the patterns name under ROOT, as (relative path, path); a pattern that
    matches nothing is kept as (pattern, None) so that creating the file changes the key."""
    found: dict[str, Path | None] = {}
    for pattern in patterns:
        hits = 0
        for path in matches(root, pattern):
            # A name too long or a symlink loop is a file that is not there, not a crash.
            try:
                files = sorted(path.rglob("*")) if path.is_dir() else [path]
            except (OSError, RuntimeError):
                continue
            for file in files:
                try:
                    if not file.is_file() or _outside(root, file):
                        continue
                except (OSError, RuntimeError):
                    continue
                found[file.relative_to(root).as_posix()] = file
                hits += 1
        if not hits:
            found.setdefault(f"?{pattern}", None)
    return sorted(found.items())


def _outside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return True
    return False


def _content(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return digest.hexdigest()


def declares_inputs(unit: Unit) -> bool:
    """Whether the unit says what its checks read (``inputs:``); otherwise they may read any
    file, and only the work tree they were tested on vouches for a result."""
    return unit.task is not None and unit.task.inputs is not None


def _named(unit: Unit, root: Path) -> list[list[str]]:
    """Content hashes of the files under ROOT that a unit's commands name by path."""
    found: dict[str, str] = {}
    top = _resolved(root)
    for cmd in unit.verify:
        base = root / cmd.cwd if cmd.cwd else root
        for word in _path_words(cmd.run):
            path = base / word
            try:
                if not path.is_file():
                    continue
                name = _inside(path, top)
            except (OSError, RuntimeError, ValueError):
                continue  # not there, a loop, or outside ROOT
            found.setdefault(name, "")
    return [[name, _same_content(top / name)] for name in sorted(found)]


@lru_cache(maxsize=1024)
def _path_words(run: str) -> tuple[str, ...]:
    """The words of a command that may name a file (the tasks of a plan share commands)."""
    try:
        words = shlex.split(run, comments=True)
    except ValueError:
        words = run.split()
    return tuple(
        w
        for w in words[:_MAX_WORDS]
        if w and not w.startswith("-") and "=" not in w and "\0" not in w
    )


@lru_cache(maxsize=4096)
def _inside(path: Path, top: Path) -> str:
    """``path`` (a file that is there) relative to the resolved ROOT ``top``; ValueError
    outside it. Kept: resolving walks every folder of the path, for each task naming it (a
    symlink changed under a running planrun is not seen)."""
    return path.resolve().relative_to(top).as_posix()


@lru_cache(maxsize=64)
def _resolved(root: Path) -> Path:
    """ROOT resolved once: every task of a run asks (resolving walks each of its folders)."""
    return root.resolve()


_SEEN: dict[tuple[str, int, int, int, int], str] = {}
_SEEN_MAX = 4096


def _same_content(path: Path) -> str:
    """:func:`_content`, kept for a file whose identity, size and modification time have not
    changed since: the tasks of a plan often name the same files (a plan of 1,000 checks of
    `test -e plan.md` hashed plan.md 1,000 times)."""
    try:
        info = path.stat()
    except OSError:
        return _content(path)
    key = (str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    found = _SEEN.get(key)
    if found is None:
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        found = _SEEN[key] = _content(path)
    return found


def _checked(unit: Unit, root: Path) -> list[list[str | None]]:
    """Content hashes of the files the unit's must_haves checks read (None: not there, so that
    creating it changes the key); a path outside ROOT is never read, so it is not hashed."""
    found: dict[str, str | None] = {}
    for written in unit.checked_files:
        name = written.strip()
        if not name or name in found or escapes(name):
            continue
        path = root / name
        try:
            there = path.is_file() and not _outside(root, path)
        except (OSError, RuntimeError, ValueError):
            there = False
        found[name] = _same_content(path) if there else None
    return [[name, found[name]] for name in sorted(found)]


def reads(unit: Unit, root: Path) -> str | None:
    """What holds a result of a unit without a key besides the work tree: the content of its
    inputs (default its ``files``), of the files its commands name and of the files its
    must_haves read. Outside git it is all there is; in git it also sees ignored files. None
    when the unit names no file at all."""
    patterns = [p for p in inputs_of(unit) if not escapes(p)]
    payload = {
        "inputs": [[n, _content(p) if p else None] for n, p in _files(root, patterns)],
        "named": [] if declares_inputs(unit) else _named(unit, root),
        "checked": _checked(unit, root),
    }
    if not any(payload.values()):
        return None
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def unit_key(unit: Unit, root: Path, shell: str | None, deps: list[str | None]) -> str | None:
    patterns = inputs_of(unit)
    if not patterns or any(d is None for d in deps):
        return None
    if any(escapes(p) for p in patterns):
        return None  # a file outside ROOT is not hashed: planrun cannot see it change
    payload = {
        "version": __version__,
        "rules": RULES,
        "verify": [c.model_dump(exclude={"description"}) for c in unit.verify],
        "must_haves": unit.must_haves.model_dump(by_alias=True),
        "timeout": unit.task.timeout if unit.task else None,
        "plan_timeout": unit.plan.timeout,
        "env": unit.plan.env,
        "shell": unit.plan.shell or shell,  # the plan's own shell wins, as when it runs
        "inputs": [[name, _content(p) if p else None] for name, p in _files(root, patterns)],
        # Without declared inputs, the files its commands name (a script, a test file) count
        # too: git's tree hash, which also holds its pass, does not see ignored files.
        "named": [] if declares_inputs(unit) else _named(unit, root),
        "deps": sorted(d for d in deps if d is not None),
    }
    checked = _checked(unit, root)
    if checked:  # only then: the key of a unit without must_haves files stays as it was
        payload["checked"] = checked
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def keys(graph: PlanGraph, root_of: dict[str, Path], shell: str | None) -> list[str | None]:
    """The key of every unit (None where there is none), dependencies first."""
    out: list[str | None] = [None] * graph.node_count()
    done = [False] * len(out)
    for node in graph.order or []:
        deps = [out[p] if done[p] else None for p in graph.preds(node)]
        if graph.is_virtual(node):
            # A plan dependency: the key of everything in the depended-on plan, or none.
            out[node] = (
                None
                if any(d is None for d in deps)
                else hashlib.sha256("".join(sorted(d for d in deps if d)).encode()).hexdigest()
            )
        else:
            unit = graph.units[node]
            out[node] = unit_key(unit, root_of[unit.plan.id], shell, deps)
        done[node] = True
    return out[: len(graph.units)]
