"""Checklist meaning: criteria are truths, nested items, Kiro and OpenSpec markers, names."""

from __future__ import annotations

import textwrap
from pathlib import Path

from planrun.model import Plan
from planrun.validate import Validation, validate_paths


def load(tmp_path: Path, text: str, name: str = "tasks.md") -> tuple[Plan, Validation]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    result = validate_paths([path])
    [plan] = result.plans
    return plan, result


def deps(plan: Plan) -> dict[str, list[str]]:
    return {t.id: t.depends_on for t in plan.tasks}


def test_acceptance_criteria_are_truths_not_tasks(tmp_path: Path) -> None:
    plan, result = load(
        tmp_path,
        """
        # Feature

        ## Story 1: Login
        - [ ] Build the form
        - [ ] Wire the API

        ### Acceptance Criteria
        - [ ] A user can log in
        - [x] A wrong password is refused

        ## Definition of Done
        - [ ] Docs updated
        - Reviewed by a person
        """,
    )
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [t.name for t in plan.tasks] == ["Build the form", "Wire the API"]
    wire = plan.tasks[1]
    assert [t.truth for t in wire.must_haves.truths] == [
        "A user can log in",
        "A wrong password is refused",
    ]
    assert sorted(t.truth for t in plan.must_haves.truths) == [
        "Docs updated",
        "Reviewed by a person",
    ]


def test_a_parent_item_depends_on_its_children(tmp_path: Path) -> None:
    plan, _ = load(
        tmp_path,
        """
        # Plan
        - [ ] Setup
        - [ ] Auth
          - [ ] Model
          - [ ] Routes
        - [ ] Deploy
        """,
    )
    assert deps(plan) == {
        "item-1": [],
        "item-2": ["item-3", "item-4"],
        "item-3": ["item-1"],
        "item-4": ["item-3"],
        "item-5": ["item-2"],
    }


KIRO = """
# Implementation Plan

- [x] 1. Set up the project
  - Create the folders
  - _Requirements: 1.1, 1.2_
- [-] 2. Build the model
  - [ ] 2.1 Write the model class (P)
    - _Depends: 1_
    - _Requirements: 2.1_
  - [ ]* 2.2 Write property tests
  - [ ]\\* 2.3 Write fuzz tests
- [ ] 3. Wire `src/pkg/__init__.py` and handle `*args` in `src/api.py`
  that wraps onto a second line
"""


def test_kiro_markers(tmp_path: Path) -> None:
    plan, result = load(tmp_path, KIRO, ".kiro/specs/model/tasks.md")
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert plan.id == "model"
    by_id = {t.id: t for t in plan.tasks}
    assert list(by_id) == ["1", "2", "2.1", "2.2", "2.3", "3"]
    assert [t.claimed for t in plan.tasks] == [
        "done",
        "in_progress",
        "todo",
        "todo",
        "todo",
        "todo",
    ]
    assert by_id["2.1"].name == "Write the model class"
    assert by_id["2.1"].depends_on == ["1"]
    assert by_id["2.2"].name == "Write property tests (optional)"
    assert by_id["2.3"].name == "Write fuzz tests (optional)"
    assert by_id["2.2"].depends_on == ["1"]
    # A parent waits for its children, but not for the optional ones.
    assert by_id["2"].depends_on == ["2.1"]
    assert by_id["3"].depends_on == ["2"]
    assert by_id["3"].name == (
        "Wire src/pkg/__init__.py and handle *args in src/api.py that wraps onto a second line"
    )
    assert by_id["3"].files == ["src/pkg/__init__.py", "src/api.py"]
    assert plan.metadata["requirements"] == {"1": ["1.1", "1.2"], "2.1": ["2.1"]}


OPENSPEC = """
## 1. Implementation
- [ ] 1.1 Add the endpoint
  Verification: run `uv run pytest tests/test_api.py`
- [x] 1.2 Document it

## 2. Rollout
- [ ] 2.1 Flip the flag
"""


def test_openspec_groups_items_and_verification(tmp_path: Path) -> None:
    plan, result = load(tmp_path, OPENSPEC, "openspec/changes/add-api/tasks.md")
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert plan.id == "add-api"
    assert deps(plan) == {"1.1": [], "1.2": ["1.1"], "2.1": ["1.2"]}
    assert [(v.run, v.line) for v in plan.tasks[0].verify] == [
        ("uv run pytest tests/test_api.py", 3)
    ]


def test_dotted_ids_in_headings_and_items_stay_distinct(tmp_path: Path) -> None:
    plan, result = load(
        tmp_path,
        """
        # P
        ### Task 1.1: one
        - **Verify**: `true`
        ### Task 1.2: two
        - **Dependencies**: Task 1.1
        """,
        "p.md",
    )
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [t.id for t in plan.tasks] == ["task-1.1", "task-1.2"]
    assert plan.tasks[1].depends_on == ["task-1.1"]


def test_comments_and_indented_code_are_not_items(tmp_path: Path) -> None:
    plan, _ = load(
        tmp_path,
        """
        # Tasks

        <!--
        - [ ] T999 An example from the template
        ## Phase N: example
        -->

        Example:

            - [ ] T998 indented code, not an item

        - [ ] T001 Real item
          - [ ] T002 Nested item, not code
        """,
    )
    assert [t.id for t in plan.tasks] == ["T001", "T002"]


def test_steps_and_phases_are_task_headings(tmp_path: Path) -> None:
    plan, _ = load(
        tmp_path,
        """
        # Migrate
        ## Phase 1: Prepare
        1. Back up the database
        2. Announce downtime
        ## Phase 2: Move
        1. Run the migration
        """,
        "p.md",
    )
    assert plan.format == "tasks"
    assert [(t.id, t.name) for t in plan.tasks] == [
        ("phase-1", "Prepare"),
        ("phase-2", "Move"),
    ]
    plan, _ = load(
        tmp_path, "# S\n### Step 1: a\n### Step 2: b\n- **Depends on**: Step 1\n", "s.md"
    )
    assert [(t.id, t.depends_on) for t in plan.tasks] == [("step-1", []), ("step-2", ["step-1"])]


def test_speckit_phases_over_items_stay_a_checklist(tmp_path: Path) -> None:
    plan, _ = load(tmp_path, "# T\n## Phase 1: Setup\n1. intro\n- [ ] T001 Create it\n")
    assert plan.format == "checklist"
    assert [t.id for t in plan.tasks] == ["T001"]
