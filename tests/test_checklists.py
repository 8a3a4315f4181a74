"""Checklist meaning: criteria are truths, nested items, Kiro and OpenSpec markers, names."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from planrun import markdown
from planrun.document import Document
from planrun.loader import Loaded, load_document
from planrun.model import Plan
from planrun.readers import READERS
from planrun.validate import Validation, check_loaded, validate_paths


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


def test_companion_documents_of_a_feature_are_skipped(tmp_path: Path) -> None:
    feature = tmp_path / "specs" / "001-a"
    (feature / "checklists").mkdir(parents=True)
    (feature / "tasks.md").write_text("# Tasks\n- [ ] T001 Do it\n")
    for name in ("plan.md", "spec.md", "research.md", "data-model.md", "quickstart.md"):
        (feature / name).write_text("# Doc\n- [ ] T001 Not a task\n")
    (feature / "checklists" / "requirements.md").write_text("# Q\n- [ ] CHK001 Is it clear?\n")
    result = validate_paths([tmp_path / "specs"])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [p.id for p in result.plans] == ["001-a"]
    skipped = sorted(
        (Path(d.file).name, d.message) for d in result.diagnostics.items if d.code == "not-a-plan"
    )
    assert skipped == [
        (name, "skipped: a companion document of 001-a/tasks.md, not a plan")
        for name in (
            "data-model.md",
            "plan.md",
            "quickstart.md",
            "requirements.md",
            "research.md",
            "spec.md",
        )
    ]
    # Named on the command line, a companion is read like any file.
    [plan] = validate_paths([feature / "plan.md"]).plans
    assert [t.id for t in plan.tasks] == ["T001"]


def test_research_notes_and_progress_logs_of_a_prp_are_skipped(tmp_path: Path) -> None:
    prps = tmp_path / "PRPs"
    (prps / "research").mkdir(parents=True)
    (prps / "PRP-search.md").write_text("# PRP: search\n## Validation Loop\n```bash\ntrue\n```\n")
    (prps / "research" / "notes.md").write_text("# Notes\n- [ ] read the docs\n")
    (prps / "search-progress.md").write_text("# Progress\n- [x] level 1\n")
    result = validate_paths([prps])
    assert [p.format for p in result.plans] == ["prp"]
    messages = {d.message for d in result.diagnostics.items if d.code == "not-a-plan"}
    assert messages == {
        "skipped: research notes of a PRP, not a plan",
        "skipped: a progress log of a PRP, not a plan",
    }


def test_an_unknown_checkbox_is_reported_not_dropped(tmp_path: Path) -> None:
    _, result = load(tmp_path, "# P\n- [ ] one\n- [?] two\n- [a](http://x) a link\n", "p.md")
    [warning] = [d for d in result.diagnostics.items if d.code == "ignored-content"]
    assert (warning.line, warning.message) == (
        3,
        "'- [?] two' looks like a checkbox planrun does not know; ignored",
    )


def test_plan_checks_from_shell_fences_and_group_verification_lines(tmp_path: Path) -> None:
    plan, result = load(
        tmp_path,
        """
        ## 1. Build
        - [ ] 1.1 Add it
        Verification: `make check`

        Verification: run `make test` after the group

        ## Validation
        ```bash
        ruff check .
        pytest -q
        ```

        ## Notes
        ```bash
        rm -rf build
        ```
        """,
        "p.md",
    )
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [v.run for v in plan.tasks[0].verify] == ["make check"]
    assert [v.run for v in plan.verify] == ["ruff check .", "pytest -q", "make test"]


LINES = [
    "# Title\n",
    "## Phase\n",
    "### Acceptance Criteria\n",
    "## Definition of Done\n",
    "- [ ] a `src/x.py`\n",
    "- [x] T001 b\n",
    "- [-] 1. c\n",
    "- [ ]* 1.1 d\n",
    "  - [ ] 1.2 e (P)\n",
    "    - [ ] f\n",
    "  - _Depends: 1.1_\n",
    "  Verification: `true`\n",
    "  wrapped text\n",
    "\n",
    "<!-- x -->\n",
]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=25))
def test_every_checkbox_is_a_task_or_a_truth_and_ids_are_unique(lines: list[str]) -> None:
    text = "".join(lines)
    doc = Document(Path("c.md"), "c.md", text)
    loaded = Loaded()
    load_document(doc, explicit=True, forced=READERS["checklist"], loaded=loaded)
    result = check_loaded(loaded)
    assert "duplicate-id" not in {d.code for d in result.diagnostics.items}
    if not loaded.plans:
        return
    [plan] = loaded.plans
    body = markdown.parse(text, 1)  # indented code and comments hold no items
    boxes = sum(1 for ln in body.lines if ln.no not in body.fenced and markdown.box(ln.text))
    truths = sum(len(t.must_haves.truths) for t in plan.tasks) + len(plan.must_haves.truths)
    assert len(plan.tasks) + truths >= boxes


def test_a_verification_in_words_is_a_manual_truth_with_a_warning(tmp_path: Path) -> None:
    plan, result = load(
        tmp_path,
        "- [ ] 1.1 Add it\n  Verification: the page shows the list\n- [ ] 1.2 More\n"
        "  - _Depends: Task 1.1 and T012._\n",
        "p.md",
    )
    assert [t.truth for t in plan.tasks[0].must_haves.truths] == ["the page shows the list"]
    assert plan.tasks[1].depends_on == ["1.1", "T012"]
    [warning] = [d for d in result.diagnostics.items if d.code == "prose-verify"]
    assert (warning.line, warning.message) == (
        2,
        "verification 'the page shows the list' is prose, not a command: it is a manual check",
    )


def test_quality_gates_commands_are_checks_and_their_items_truths(tmp_path: Path) -> None:
    plan, result = load(
        tmp_path,
        """
        # Feature
        - [ ] Build it

        ## Quality Gates
        - `ruff check .` passes
        - Code reviewed
        - [ ] No flaky tests
        """,
        "p.md",
    )
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [t.name for t in plan.tasks] == ["Build it"]
    assert [v.run for v in plan.verify] == ["ruff check ."]
    assert sorted(t.truth for t in plan.must_haves.truths) == ["Code reviewed", "No flaky tests"]
