"""convert writes the canonical format; reading it back gives the same plan."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from planrun.convert import to_canonical
from planrun.document import Document
from planrun.model import Plan
from planrun.validate import validate_paths

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_PATHS = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []


def essence(plan: Plan) -> dict[str, Any]:
    """What must survive a conversion: tasks, dependencies, checks, claims, milestones."""
    return {
        "id": plan.id,
        "tasks": [
            (
                t.id,
                t.name,
                t.depends_on,
                [(v.run, v.expect_exit, v.timeout, v.cwd) for v in t.verify],
                t.claimed,
                t.kind,
                t.files,
                t.must_haves.model_dump(),
            )
            for t in plan.tasks
        ],
        "verify": [v.run for v in plan.verify],
        "must_haves": plan.must_haves.model_dump(),
        "milestones": [(m.id, m.name, m.tasks) for m in plan.milestones],
        "depends_on": plan.depends_on,
        "wave": plan.wave,
        "metadata": plan.metadata,
    }


def round_trip(path: Path) -> tuple[Plan, Plan]:
    [original] = validate_paths([path]).plans
    text = to_canonical(original, Document.read(path))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "converted.md"
        out.write_text(text)
        result = validate_paths([out])
        assert result.ok, [d.format() for d in result.diagnostics.items]
        [again] = result.plans
    assert again.format == "planrun"
    return original, again


@pytest.mark.parametrize("seed", SEED_PATHS, ids=lambda p: p.name[:3])
def test_seeds_round_trip(seed: Path) -> None:
    original, again = round_trip(seed)
    assert essence(again) == essence(original)


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_PATHS = [
    EXAMPLES / "kiro" / ".kiro" / "specs" / "user-auth" / "tasks.md",
    EXAMPLES / "openspec" / "openspec" / "changes" / "add-search" / "tasks.md",
    EXAMPLES / "speckit" / "tasks.md",
    EXAMPLES / "prp" / "PRP-search.md",
]


@pytest.mark.parametrize("example", EXAMPLE_PATHS, ids=lambda p: p.parts[-2])
def test_examples_round_trip(example: Path) -> None:
    original, again = round_trip(example)
    # The converted plan keeps the id it had, so the feature keeps its name.
    assert essence(again) == essence(original)


words = st.text("abcdefghij", min_size=1, max_size=6)
commands = st.sampled_from(
    ["pytest -q", "ruff check .", "make test", "uv run pytest tests/test_x.py", "npm test"]
)


@st.composite
def tasks_doc(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 8))
    out = ["# Plan"]
    for i in range(1, n + 1):
        out.append(f"### Task {i}: {draw(words)}")
        deps = draw(st.lists(st.integers(1, i - 1), unique=True, max_size=3)) if i > 1 else []
        out.append("- **Dependencies**: " + (", ".join(f"Task {d}" for d in deps) or "None"))
        out.append(
            "- **Status**: " + draw(st.sampled_from(["✅ Completed", "In progress", "TODO"]))
        )
        if draw(st.booleans()):
            out.append(f"- **Test command**: `{draw(commands)}`")
    out.append("## Milestones")
    out.append(f"- **Milestone 1**: first (Tasks 1-{n})")
    return "\n".join(out) + "\n"


@st.composite
def checklist_doc(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 10))
    out = ["# Tasks", "## Phase 1"]
    for i in range(1, n + 1):
        if draw(st.integers(0, 4)) == 0:
            out.append(f"## Phase {i + 1}")
        box = "x" if draw(st.booleans()) else " "
        marker = " [P]" if draw(st.booleans()) else ""
        deps = ""
        if i > 1 and draw(st.integers(0, 3)) == 0:
            deps = f" (depends on T{draw(st.integers(1, i - 1)):03d})"
        out.append(f"- [{box}] T{i:03d}{marker} {draw(words)}{deps}")
    out += ["## Validation", f"- `{draw(commands)}` passes"]
    return "\n".join(out) + "\n"


@st.composite
def gsd_doc(draw: st.DrawFn) -> str:
    out = ["---", "phase: 03-x", "plan: 02", "wave: 1", "depends_on: []", "---"]
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["auto", "checkpoint:human-verify"]))
        out.append(f'<task type="{kind}">')
        out.append(f"  <name>{draw(words)}</name>")
        out.append(f"  <files>{draw(words)}.py</files>")
        lines = draw(st.lists(commands, min_size=1, max_size=3))
        out.append("  <verify>" + "\n".join(lines) + "</verify>")
        out.append("</task>")
    return "\n".join(out) + "\n"


@settings(max_examples=40, deadline=None)
@given(st.one_of(tasks_doc(), checklist_doc(), gsd_doc()))
def test_generated_plans_round_trip(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "03-02-PLAN.md"
        path.write_text(text)
        original, again = round_trip(path)
    assert essence(again) == essence(original)


def test_convert_cli(tmp_path: Path) -> None:
    src = tmp_path / "tasks.md"
    src.write_text("# P\n- [x] T001 build it\n- [ ] T002 test it\n## Validation\n- `make test`\n")
    printed = run_cli("convert", src)
    assert printed.exit_code == 0
    assert printed.stdout.startswith("---\nplanrun: 1\nid: tasks\ntitle: P\ntasks:\n- id: T001\n")
    out = tmp_path / "canonical.md"
    written = run_cli("convert", src, "-o", out)
    assert written.exit_code == 0
    assert out.read_text() == printed.stdout
    again = run_cli("convert", src, "-o", out)
    assert again.exit_code == 2
    assert "already exists; convert never overwrites a file" in again.stderr
    # A folder converts when it is one plan (a Backlog.md folder); with several, --plan picks.
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n- [ ] `make a`\n")
    (folder / "b.md").write_text("# B\n- [ ] `make b`\n")
    several = run_cli("convert", folder)
    assert several.exit_code == 2
    assert "holds 2 plans (a, b); convert writes one" in several.stderr
    picked = run_cli("convert", folder, "--plan", "b")
    assert picked.exit_code == 0
    assert picked.stdout.startswith("---\nplanrun: 1\nid: b\ntitle: B\n")
    assert "the original text follows" not in picked.stdout
    unknown = run_cli("convert", folder, "--plan", "c")
    assert unknown.exit_code == 2
    assert 'holds no plan "c"; its plans: a, b' in unknown.stderr
