"""What ``execute --dry-run`` shows: the selected tasks in order, with their commands and
checks, or which recorded pass each would reuse; as text or as a JSON document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planrun.plural import pluralize
from planrun.render.jsondoc import SCHEMA_VERSION

if TYPE_CHECKING:
    from planrun.execution import PlannedUnit


def doc(planned: list[PlannedUnit]) -> dict[str, Any]:
    """The ``--json`` document of a dry run."""
    return {
        "schema_version": SCHEMA_VERSION,
        "dry_run": True,
        "tasks": [
            {
                "id": p.unit.id,
                "wave": p.unit.wave,
                "commands": [s.run for s in p.steps],
                "checks": p.checks,
                "cached": p.cached,
            }
            for p in planned
        ],
    }


def text(planned: list[PlannedUnit]) -> str:
    """The order, each task's commands (what they must exit) and checks."""
    runs = sum(1 for p in planned if not p.cached)
    reuse = f" and reuse {len(planned) - runs}" if runs != len(planned) else ""
    out = [f"would run {pluralize(runs, 'task')}{reuse}, in this order:"]
    for p in planned:
        if p.cached:
            out.append(f"  wave {p.unit.wave}  {p.unit.id}  (cached: its recorded pass holds)")
            continue
        out.append(f"  wave {p.unit.wave}  {p.unit.id}")
        for step in p.steps:
            first, *rest = step.run.splitlines()
            expects = f"  (expects exit {step.expect_exit})" if step.expect_exit else ""
            out.append(f"      $ {first}{expects if not rest else ''}")
            out.extend(f"        {line}" for line in rest)
            if rest and expects:
                out.append(f"     {expects}")
        out.extend(f"      check {c}" for c in p.checks)
        if not p.steps and not p.checks:
            kind = "manual" if p.unit.manual else "nothing to run"
            out.append(f"      ({kind})")
    return "\n".join(out) + "\n"
