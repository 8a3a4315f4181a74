"""The commands that read plans and run nothing: validate, waves, graph, convert, export,
schema and new."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.errors import EXIT_FAILED, EXIT_NOTHING_SELECTED, EXIT_OK
from planrun.render import console

if TYPE_CHECKING:
    from planrun.settings import Settings


def validate(s: Settings, *, strict: bool, json_out: bool, verbose: bool, quiet: bool) -> int:
    """Check plans; exit 1 on errors (with strict, on warnings too), 5 when there are none."""
    from planrun.render import jsondoc, text
    from planrun.validate import validate_paths

    result = validate_paths(s.paths, s.fmt, derive=s.derive, shell=s.config.shell)
    doc = jsondoc.validate_doc(result, strict=strict)
    diags = result.diagnostics.sorted()
    if json_out:
        console.out(jsondoc.dumps(doc), raw=True)
    else:
        console.block([d.format() for d in diags if verbose or d.severity != "info"])
        if not quiet:
            console.out(text.validate_summary(result) + "\n")
    console.flush_stdout()
    console.annotate(diags)
    if doc["ok"] and not result.plans:
        # As pytest exits 5 when it collects nothing: a gate over no plans is not green.
        console.err(f"planrun: error: no plans found in {', '.join(str(t) for t in s.paths)}")
        return EXIT_NOTHING_SELECTED
    return EXIT_OK if doc["ok"] else EXIT_FAILED


def waves(s: Settings, *, json_out: bool, avoid_conflicts: bool) -> int:
    """The waves and the critical path."""
    from planrun.render import jsondoc, text
    from planrun.validate import load_valid

    graph = load_valid(s.paths, s.fmt).graph
    if avoid_conflicts:
        graph.assign_waves(avoid_conflicts=True)
    critical = graph.critical_path()
    if json_out:
        console.out(jsondoc.dumps(jsondoc.waves_doc(graph, critical)), raw=True)
    else:
        console.out(text.waves(graph, critical))
    return EXIT_OK


def graph(paths: list[Path] | None, plan_format: str | None, out_format: str) -> int:
    """The dependency graph as mermaid, Graphviz dot or JSON."""
    from planrun.errors import UsageError
    from planrun.recorded import read_status
    from planrun.render import graphfmt
    from planrun.settings import Settings
    from planrun.validate import load_valid

    if out_format not in graphfmt.FORMATS:
        raise UsageError(
            f'unknown graph format "{out_format}"; use one of: {", ".join(graphfmt.FORMATS)}'
        )
    s = Settings.of(paths, plan_format)
    graph = load_valid(s.paths, s.fmt).graph
    statuses: dict[str, str] = {}
    if out_format != "dot":  # dot carries no statuses
        # Each task's last recorded result (not_run where none is), as `status` reports it.
        report = read_status(s.paths, s.fmt, warn=console.warn)
        statuses = {r.unit.id: str(r.status) for r in report.everything}
    console.out(graphfmt.render(graph, out_format, statuses))
    return EXIT_OK


CONVERT_HINT = "choose another -o, or remove the file first"


def convert(
    path: Path, output: Path | None, plan_id: str | None, fmt: str | None, *, no_derive: bool
) -> int:
    """A plan in the canonical format, on stdout or in a new file (never over one)."""
    from planrun.convert import pick_plan, to_canonical
    from planrun.document import Document
    from planrun.errors import RefusedError
    from planrun.settings import Settings
    from planrun.validate import load_valid
    from planrun.writer import check_output, write_output

    if output is not None:
        if os.path.lexists(output):
            raise RefusedError(
                f"{output} already exists; convert never overwrites a file", hint=CONVERT_HINT
            )
        check_output(output, overwrite="never", hint=CONVERT_HINT)
    s = Settings.of([path], fmt, no_derive=no_derive)
    # Derived checks are written out with `derived: true`, so the converted plan is judged
    # the same way and still labels them (--no-derive drops them when it is read).
    # Sibling plans loaded as context are not converted.
    result = load_valid([path], s.fmt, derive=s.derive)
    plan = pick_plan(path, [p for p in result.plans if not p.context], plan_id)
    canonical = to_canonical(plan, None if path.is_dir() else Document.read(path))
    if output is None:
        console.out(canonical, raw=True)  # a plan file's text: redirected to a file as it is
        return EXIT_OK
    write_output(output, canonical, overwrite="never", hint=CONVERT_HINT)
    console.err(f"wrote {output}")
    return EXIT_OK


def export_github_actions(
    s: Settings,
    *,
    output: Path | None,
    granularity: str,
    shards: int,
    install: str | None,
    python: str,
) -> int:
    """A GitHub Actions workflow, on stdout or in a file planrun may replace."""
    from planrun.export import default_install, github_workflow
    from planrun.roots import git_work_tree
    from planrun.validate import load_valid
    from planrun.writer import check_output, write_output

    hint = "choose another -o FILE (planrun replaces only a workflow it wrote)"
    if output is not None:
        check_output(output, overwrite="planrun", root=s.output_root(), hint=hint)
    graph = load_valid(s.paths, s.fmt).graph
    if install is None:
        install = default_install(git_work_tree(Path.cwd()) or Path.cwd())
    workflow = github_workflow(
        graph,
        [str(p) for p in s.paths],
        granularity=granularity,
        install=install,
        shards=shards,
        python=python,
    )
    for warning in workflow.warnings:
        console.warn(warning)
    if output is None:
        console.out(workflow.text, raw=True)
        return EXIT_OK
    write_output(output, workflow.text, overwrite="planrun", root=s.output_root(), hint=hint)
    console.err(f"wrote {output} ({len(workflow.jobs) + 1} jobs)")
    return EXIT_OK


def schema() -> int:
    """The JSON Schema of the canonical plan frontmatter."""
    from planrun.model import json_schema
    from planrun.render import jsondoc

    console.out(jsondoc.dumps(json_schema()), raw=True)
    return EXIT_OK


def new(name: str, directory: Path, title: str | None) -> int:
    """A new canonical plan from the template."""
    from planrun.scaffold import new_plan

    path = new_plan(name, directory, title)
    console.out(f"created {path}\nnext: edit it, then run: planrun validate {path}\n")
    return EXIT_OK
