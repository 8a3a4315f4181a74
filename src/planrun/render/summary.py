"""SUMMARY.md: what a person reads after a wave and what the next agent parses.

The context is built here, in Python, so the template (``templates/summary.md.j2``, or a
user's ``--template``) only lays it out; the frontmatter is dumped with PyYAML so it always
parses. Output is deterministic: plan order everywhere, and no clock but the run's own times.
planrun never overwrites a file it did not write (one without ``generator: planrun``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from planrun import __version__
from planrun.document import GENERATOR
from planrun.errors import OutputError, UsageError
from planrun.escape import Raw, block, cell, code, fence, markdown
from planrun.graph import PlanGraph
from planrun.plural import pluralize
from planrun.render import graphfmt
from planrun.report import Report
from planrun.results import MilestoneStatus, UnitResult
from planrun.statuses import ERROR, FAILED, PASSED, STATUSES, TIMEOUT, CheckStatus
from planrun.templates import environment
from planrun.verdicts import count_words, manual_truths
from planrun.writer import check_output, with_digest, write_output

MERMAID_LIMIT = 300  # nodes; a bigger graph does not render on GitHub

TASK_EMOJI = {
    "passed": "✅",
    "failed": "❌",
    "timeout": "⏱️",
    "blocked": "⛔",
    "stale": "♻️",
    "error": "⚠️",
    "manual": "👤",
    "unverified": "❔",
    "not_run": "⚪",
}
MILESTONE_EMOJI = {
    "done": "✅",
    "failed": "❌",
    "blocked": "⛔",
    "partial": "🟡",
    "pending": "⏳",
    "manual": "👤",
}
RUN_EMOJI = {"passed": "✅", "failed": "❌", "partial": "🟡", "interrupted": "⏹️"}
CHECK_EMOJI = {"passed": "✅", "failed": "❌", "manual": "👤", "not_checked": "⚪"}
# Mermaid class colours (fill, stroke) per task status.


@dataclass(frozen=True)
class SummaryInput:
    graph: PlanGraph
    results: Sequence[UnitResult]  # every unit, in plan order
    milestones: Sequence[MilestoneStatus]
    status: str
    run_id: str | None
    started: float | None
    duration: float | None
    root: Path
    evidence: dict[str, Any] = field(default_factory=dict)  # empty: none recorded

    @classmethod
    def of(cls, run: Report, results: Sequence[UnitResult]) -> SummaryInput:
        """A run's summary; ``results`` covers every unit of the plans."""
        return cls(
            run.graph,
            results,
            run.milestones,
            run.status,
            run.run_id,
            run.started,
            run.duration,
            run.root,
            run.evidence,
        )


def default_path(paths: Sequence[Path]) -> Path:
    """SUMMARY.md beside a plan file, or in the folder for a folder."""
    first = paths[0] if paths else Path("plans")
    return (first if first.is_dir() else first.parent) / "SUMMARY.md"


def context(data: SummaryInput) -> dict[str, Any]:
    """The variables a summary template receives: ``frontmatter`` (YAML text), ``status``,
    ``status_emoji``, ``verdict``, ``run_id``, ``started``, ``duration_s``, ``counts``,
    ``milestones``, ``false_claims``, ``failures``, ``waves``, ``tasks`` (each: id, plan, name,
    wave, source, line, status, derived, emoji, claimed, duration, exit_code, reason, why, log,
    commands, failed_command, failed_derived, outcome, tail, tail_lines, fence, checks,
    claim_problem, claim_kind, evidence, changed, unchanged, vacuous, tree_changes),
    ``checks``, ``mermaid`` (None past 300 tasks), ``version``, ``evidence`` (None for a run
    recorded before evidence existed; else base, bases, tree, unavailable, undeclared,
    strict_scope, prove, tasks) and ``environment`` (os, user, root, python, programs:
    [{name, path}]).

    Every ``{{ value }}`` is escaped as inline markdown (one line, markdown punctuation and
    HTML escaped), except what planrun built as markdown itself (``frontmatter``, ``mermaid``,
    ``fence``, ``tail``); the filter ``code`` writes a code span, ``cell`` a table cell."""
    results = list(data.results)
    counts: Counter[str] = Counter(r.status for r in results)
    started = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(data.started)) if data.started else None
    )
    duration = None if data.duration is None else round(data.duration, 1)
    milestones = [{**m.to_json(), "emoji": MILESTONE_EMOJI[m.status]} for m in data.milestones]
    tasks = [_task(r, data.root) for r in results]
    front = {
        "generator": GENERATOR,
        "planrun_version": __version__,
        "status": str(data.status),
        "run_id": data.run_id,
        "started": started,
        "duration_s": duration,
        "tasks": len(results),
        "counts": {s.value: counts[s] for s in STATUSES},
        "milestones": [m.to_json() for m in data.milestones],
    }
    if data.evidence:  # what the verdicts were judged against, for the agent that parses this
        front["base"] = data.evidence.get("base")
        front["tree"] = data.evidence.get("tree")
    false_claims = [t for t in tasks if t["claim_problem"]]
    failures = [t for t in tasks if t["status"] in (FAILED, TIMEOUT, ERROR)]
    waves = []
    status_of = {r.unit.index: r.status for r in results}
    for number, whole in enumerate(data.graph.waves(), start=1):
        # Only the reported plans' units: a sibling read as context has no result here.
        wave = [u for u in whole if u.index in status_of]
        if not wave:
            continue
        wave_counts = Counter(status_of[u.index] for u in wave)
        waves.append(
            {
                "wave": number,
                "tasks": len(wave),
                "passed": wave_counts[PASSED],
                "counts": dict(wave_counts),
                "summary": ", ".join(count_words(wave_counts)),
            }
        )
    checks = [{**c, "task": t["id"]} for t in tasks for c in t["checks"]]
    return {
        "frontmatter": Raw(yaml.safe_dump(front, sort_keys=False, allow_unicode=True)),
        "status": data.status,
        "status_emoji": RUN_EMOJI.get(data.status, "❔"),
        "verdict": _verdict(
            data.status, counts, len(results), len(false_claims), manual_truths(results)
        ),
        "run_id": data.run_id,
        "started": started,
        "duration_s": duration,
        "counts": front["counts"],
        "milestones": milestones,
        "false_claims": false_claims,
        "failures": failures,
        "waves": waves,
        "tasks": tasks,
        "checks": checks,
        "mermaid": _mermaid(data.graph, results),
        "version": __version__,
        "evidence": _evidence(data.evidence, tasks),
        "environment": _environment(data.evidence),
    }


def _evidence(evidence: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The Evidence section: base, tested tree, undeclared changes, --prove, and each task's
    declared files (None for a run recorded before evidence existed)."""
    if not evidence:
        return None
    bases = evidence.get("bases") or {}
    per_plan = [
        {"plan": pid, "commit": b.get("commit"), "label": b.get("label"), "reason": b.get("reason")}
        for pid, b in bases.items()
        if isinstance(b, dict)
    ]
    return {
        "base": evidence.get("base_label") or evidence.get("base"),
        "bases": [b for b in per_plan if b["commit"]] if not evidence.get("base") else [],
        "tree": evidence.get("tree"),
        "unavailable": evidence.get("unavailable") or [],
        "undeclared": evidence.get("undeclared_changes") or [],
        "strict_scope": bool(evidence.get("strict_scope")),
        "prove": evidence.get("prove_line"),
        "tasks": [
            t for t in tasks if t["evidence"] or t["tree_changes"] or t["vacuous"] is not None
        ],
    }


def _environment(evidence: dict[str, Any]) -> dict[str, Any] | None:
    env = evidence.get("environment")
    if not isinstance(env, dict):
        return None
    programs = env.get("programs") or {}
    return {
        **env,
        "programs": [{"name": k, "path": v} for k, v in programs.items()],
    }


def _claim_kind(result: UnitResult) -> str:
    """What kind of false claim: the diff, --prove, or the checks."""
    if result.false_claim:
        return "files unchanged"
    if result.vacuous:
        return "vacuous"
    return result.status.replace("_", " ")


def _task(result: UnitResult, root: Path) -> dict[str, Any]:
    """A task as the template sees it: its JSON encoding (``UnitResult.to_json``), with the
    log relative to the root, the tail as a markdown block, and what the layout needs."""
    unit = result.unit
    log = result.log
    if log and Path(log).is_relative_to(root):
        log = str(Path(log).relative_to(root))
    tail = block(result.tail.rstrip("\n"))
    return {
        **result.to_json(),
        "source": unit.plan.source,
        "line": unit.line,
        "derived": result.derived,
        "emoji": TASK_EMOJI[result.status],
        "run_id": result.run_id,
        "duration": "" if result.duration is None else f"{result.duration:.1f}s",
        "log": log,
        "commands": [{**c.to_json(), "ok": c.ok, "outcome": c.outcome} for c in result.commands],
        "failed_command": next((c.run for c in result.commands if not c.ok), None),
        "failed_derived": next((c.derived for c in result.commands if not c.ok), False),
        "outcome": result.reason
        if result.status == ERROR
        else next((c.outcome for c in result.commands if not c.ok), result.reason),
        "why": _why(result),
        "tail": tail,
        "tail_lines": len(tail.splitlines()),
        "fence": Raw(fence(tail)),
        "checks": _checks(result),
        "claim_problem": result.claim_problem(),
        "claim_kind": _claim_kind(result),
        "changed": (result.evidence or {}).get("changed", []),
        "unchanged": (result.evidence or {}).get("unchanged", []),
    }


def _why(result: UnitResult) -> str:
    """Why a task's pass is weak (how it was judged, a dependency with no evidence) or why
    there is no pass; empty for a plain pass."""
    return result.reason or ""


def _checks(result: UnitResult) -> list[dict[str, Any]]:
    """What each must_haves check found; for a task that never got to its checks, each one
    listed as not checked, so nothing declared silently disappears."""
    out: list[dict[str, Any]] = []
    for check in result.checks:
        found = check.to_json()
        out.append({**found, "derived": check.derived, "emoji": CHECK_EMOJI[str(found["status"])]})
    if out or result.status in (PASSED, FAILED, TIMEOUT):
        return out
    must = result.unit.must_haves
    why = f"not checked: the task is {result.status.replace('_', ' ')}"
    declared = [("artifact", a.path) for a in must.artifacts]
    declared += [("key_link", f"{k.from_} -> {k.to}") for k in must.key_links]
    declared += [("truth", t.truth) for t in must.truths]
    return [
        {
            "kind": kind,
            "label": label,
            "status": CheckStatus.NOT_CHECKED.value,
            "derived": False,
            "message": why,
            "emoji": CHECK_EMOJI[CheckStatus.NOT_CHECKED],
        }
        for kind, label in declared
    ]


def _verdict(status: str, counts: Counter[str], total: int, false_claims: int, truths: int) -> str:
    passed = counts[PASSED]
    problems = [
        f"{counts[s]} {s.replace('_', ' ')}"
        for s in ("failed", "timeout", "blocked", "stale", "error", "unverified")
        if counts[s]
    ]
    # A partial run failed nothing it ran; a task it did not select may still have failed
    # before (`execute --task b` after a's failure): then "nothing failed" would be false.
    clean = "" if problems else ", nothing failed"
    head = {
        "passed": f"all {total} tasks verified",
        "failed": f"{passed} of {total} tasks passed",
        "partial": f"{passed} of {total} tasks passed{clean}",
        "interrupted": f"interrupted; {passed} of {total} tasks passed",
    }.get(status, status)
    if false_claims:
        problems.insert(0, pluralize(false_claims, "false claim"))
    rest = [f"{counts[s]} {s.replace('_', ' ')}" for s in ("manual", "not_run") if counts[s]]
    if truths:
        rest.insert(0, f"{pluralize(truths, 'manual truth')} to check by hand")
    tail = "; ".join(problems + rest)
    return f"{head}" + (f" ({tail})" if tail else "")


def _mermaid(graph: PlanGraph, results: Sequence[UnitResult]) -> str | None:
    if len(graph.units) > MERMAID_LIMIT:
        return None
    statuses = {r.unit.id: r.status for r in results}
    return Raw(graphfmt.mermaid(graph, statuses))


def render(data: SummaryInput, template: Path | None = None) -> str:
    name = template.name if template else "summary.md.j2"
    try:
        return _template(template).render(**context(data))
    except jinja2.TemplateError as exc:
        raise _template_error(exc, template or name) from None


def _template(template: Path | None) -> jinja2.Template:
    env = environment(template.parent if template else None, finalize=markdown)
    env.filters["cell"] = cell
    env.filters["code"] = code
    env.filters["markdown"] = markdown
    return env.get_template(template.name if template else "summary.md.j2")


def _template_error(exc: jinja2.TemplateError, where: Path | str) -> UsageError:
    line = getattr(exc, "lineno", None)
    return UsageError(f"cannot render {where}{f':{line}' if line else ''}: {exc.message or exc}")


def check_template(template: Path | None) -> None:
    """Refuse a missing or unparsable template before anything runs."""
    if template is None:
        return
    if not template.is_file():
        raise UsageError(f"the template {template} does not exist (or is not a file)")
    try:
        _template(template)
    except jinja2.TemplateError as exc:
        raise _template_error(exc, template) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the template {template}: {exc}") from None


HINT = "write the summary elsewhere with --summary FILE, or skip it with --no-summary"


def check_writable(path: Path, root: Path | None = None) -> None:
    """Refuse, before a run, a SUMMARY.md location that ``write`` would refuse."""
    try:
        check_output(path, overwrite="planrun", root=root, hint=HINT)
    except OutputError as exc:
        raise OutputError(exc.message, hint=HINT) from None  # the default place may be a surprise


def write(text: str, path: Path, root: Path | None = None) -> None:
    """Write atomically, never over a file planrun did not write or a person edited since:
    the body's digest goes into the frontmatter (see writer.write_output)."""
    try:
        write_output(path, with_digest(text), overwrite="planrun", root=root, hint=HINT)
    except OutputError as exc:
        raise OutputError(exc.message, hint=HINT) from None


def step_summary(text: str) -> str:
    """The part of SUMMARY.md for ``$GITHUB_STEP_SUMMARY``: the verdict and milestones."""
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
    kept = body.split("\n## False claims", 1)[0].split("\n## Failures", 1)[0]
    return kept.split("\n## Waves", 1)[0].rstrip() + "\n"
