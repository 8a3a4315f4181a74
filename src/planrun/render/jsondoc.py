"""The JSON documents of SPEC section 7 (``schema_version`` 1): built here, printed by the CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from planrun.errors import InvalidPlanError, PlanError
from planrun.graph import PlanGraph, Unit
from planrun.report import Report
from planrun.results import UnitResult
from planrun.validate import Validation

SCHEMA_VERSION = 1


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def error_doc(exc: PlanError) -> dict[str, Any]:
    """What ``--json`` prints when a command stops on an expected error (an invalid plan, a
    bad option): the message, its hint and exit code, and an invalid plan's diagnostics."""
    diags = exc.diagnostics if isinstance(exc, InvalidPlanError) else []
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": False,
        "error": {"message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code},
        "diagnostics": [d.to_json() for d in diags if d.severity != "info"],
    }


def validate_doc(result: Validation, *, strict: bool = False) -> dict[str, Any]:
    diags = result.diagnostics.sorted()
    ok = not any(d.severity == "error" or (strict and d.severity == "warning") for d in diags)
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": ok,
        "plans": [
            {
                "id": p.id,
                "source": p.source,
                "format": p.format,
                "tasks": len(p.tasks),
                **({"context": True} if p.context else {}),
            }
            for p in result.plans
        ],
        "diagnostics": [d.to_json() for d in diags],
    }


def waves_doc(graph: PlanGraph, critical: list[Unit]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "waves": [
            {"wave": i, "tasks": [u.id for u in wave]}
            for i, wave in enumerate(graph.waves(), start=1)
        ],
        "critical_path": [u.id for u in critical],
    }


def run_doc(run: Report, results: Sequence[UnitResult]) -> dict[str, Any]:
    """``execute --json`` (the selected tasks) and ``status --json`` (every task)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "status": str(run.status),
        "run_id": run.run_id,
        "duration_s": None if run.duration is None else round(run.duration, 3),
        "tasks": [r.to_json() for r in results],
        "milestones": [m.to_json() for m in run.milestones],
        **evidence_keys(run.evidence, results),
    }


def evidence_keys(evidence: dict[str, Any], results: Sequence[UnitResult]) -> dict[str, Any]:
    """``base`` (the commit every plan's claims were held against; null when there is none or
    the plans have different ones: see ``bases`` and each task's ``evidence.base``), ``tree``
    (content hash of the tested work tree), ``false_claims``, ``undeclared_changes``,
    ``environment`` and ``prove``; empty values for a run recorded before evidence existed."""
    claims = [(r.unit.id, r.claim_problem()) for r in results]
    return {
        "base": evidence.get("base"),
        "bases": evidence.get("bases", {}),
        "evidence_unavailable": evidence.get("unavailable", []),
        "tree": evidence.get("tree"),
        "false_claims": [{"id": uid, "reason": why} for uid, why in claims if why],
        "undeclared_changes": evidence.get("undeclared_changes", []),
        "environment": evidence.get("environment"),
        "prove": evidence.get("prove"),
    }


def next_doc(units: list[Unit]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tasks": [
            {"id": u.id, "plan": u.plan.id, "name": u.name, "wave": u.wave, "files": u.files}
            for u in units
        ],
    }
