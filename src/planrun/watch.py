"""``planrun watch``: run the plans once, then again for each batch of changed files.

A batch (debounced by watchfiles) selects the tasks whose inputs match a changed file, and
everything that depends on them; a changed plan file reloads and reruns everything, with
unchanged passes reused as ``execute`` always does. ``.git/``, ``.planrun/``, the paths git
ignores and the files planrun writes itself (SUMMARY.md) never start a run, or every run would
start the next. watchfiles is an optional extra (``planrun[watch]``), imported only here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from planrun import proc
from planrun.errors import EXIT_INTERRUPTED, PlanError, UsageError
from planrun.fingerprint import inputs_of
from planrun.graph import PlanGraph
from planrun.report import Report
from planrun.roots import run_root
from planrun.selection import ExecuteOptions, load_for_run
from planrun.statuses import RunStatus

IGNORED_DIRS = frozenset({".git", ".planrun"})
DEBOUNCE_MS = 400


def _watchfiles() -> Any:
    try:
        import watchfiles  # noqa: PLC0415 -- an optional extra, imported only by this command
    except ImportError:
        raise UsageError(
            "planrun watch needs the optional extra: pip install 'planrun[watch]'"
        ) from None
    return watchfiles


def affected(graph: PlanGraph, root: Path, changed: Iterable[str]) -> list[str] | None:
    """Full ids of the units to rerun for files changed under ROOT (relative paths); None to
    rerun everything (a plan file changed)."""
    changed = list(changed)
    # A plan's file, or in a multi-file plan (a Backlog.md folder) the file of any task.
    sources = {Path(p.source_of(t)).resolve() for p in graph.plans for t in [None, *p.tasks]}
    if any((root / c).resolve() in sources for c in changed):
        return None
    hit: set[int] = set()
    for unit in graph.units:
        if unit.task is not None and unit.task.inputs is None:
            # No declared inputs: it may read any file, and its pass holds only for the tree
            # it was tested on (see execution.reusable).
            if changed:
                hit.add(unit.index)
            continue
        patterns = [p.strip().removeprefix("./").rstrip("/") for p in inputs_of(unit)]
        if any(_matches(c, p) for c in changed for p in patterns if p):
            hit.add(unit.index)
    # Everything after a hit unit reruns too (its key includes the dependency's).
    stack = list(hit)
    seen = set(stack)
    while stack:
        for nxt in graph.succs(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return [graph.units[i].id for i in sorted(seen) if not graph.is_virtual(i)]


def _matches(path: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern + "/")


class _Filter:
    def __init__(self, root: Path, own: set[Path]) -> None:
        self.root = root
        self.own = own

    def keep(self, paths: Iterable[str]) -> list[str]:
        rel: list[str] = []
        for raw in paths:
            path = Path(raw)
            try:
                relative = path.resolve().relative_to(self.root)
            except ValueError:
                continue
            if relative.parts and relative.parts[0] in IGNORED_DIRS:
                continue
            if path.resolve() in self.own:
                continue
            rel.append(relative.as_posix())
        # NUL-separated both ways (-z): git neither quotes a name (non-ASCII, a quote) nor
        # splits one with a line break in it.
        ignored = proc.capture(
            ["git", "check-ignore", "-z", "--stdin"], self.root, stdin="\0".join(rel) + "\0"
        )
        skip = set(ignored.split("\0")) if ignored else set()
        return sorted(r for r in rel if r not in skip)


def watch(
    opts: ExecuteOptions,
    run: Callable[[ExecuteOptions], Report],
    say: Callable[[str], None],
    own_outputs: Callable[[ExecuteOptions], set[Path]],
    on_error: Callable[[PlanError], None],
) -> int:
    """Run, then rerun on changes until Ctrl-C (exit 130). ``run`` executes and reports one
    run; ``own_outputs`` names the files a run writes, which are not changes. A plan that
    turns invalid while watched is reported through ``on_error``, and watching goes on."""
    watchfiles = _watchfiles()
    report = run(opts)
    if report.status == RunStatus.INTERRUPTED:
        return EXIT_INTERRUPTED
    graph = load_for_run(opts).graph
    root = run_root(graph.plans, opts.paths, opts.root)
    folders = sorted({root, *(Path(p.source).resolve().parent for p in graph.plans)})
    watched = [f for f in folders if not any(f.is_relative_to(o) for o in folders if o != f)]
    ready = False
    try:
        for changes in watchfiles.watch(
            *watched,
            debounce=DEBOUNCE_MS,
            rust_timeout=500,
            yield_on_timeout=True,
            raise_interrupt=True,
        ):
            if not ready:
                ready = True
                say(f"watching {root} for changes (Ctrl-C to stop)")
            changed = _Filter(root, own_outputs(opts)).keep(path for _, path in changes)
            if not changed:
                continue
            try:
                tasks = affected(load_for_run(opts).graph, root, changed)
                if tasks == []:
                    continue
                more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
                say(f"changed: {', '.join(changed[:3])}{more}")
                report = run(opts if tasks is None else replace(opts, tasks=tasks))
            except PlanError as exc:
                on_error(exc)
                continue
            if report.status == RunStatus.INTERRUPTED:
                return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_INTERRUPTED
