"""Every reader, fed random text and mutated or truncated seeds, answers only with planrun
diagnostics: never another exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planrun.document import Document, UndecodableError, decode
from planrun.loader import Loaded, load_document, read_groups
from planrun.readers import READERS
from planrun.validate import check_loaded

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_TEXTS = [p.read_text() for p in sorted(SEEDS.glob("*.txt"))] if SEEDS.is_dir() else []
FORMATS = [None, *READERS]

# Fragments agents write, so random documents reach deep into every reader.
FRAGMENTS = [
    "---\n",
    "planrun: 1\n",
    "tasks:\n",
    "  - id: a\n",
    "    depends_on: [b]\n",
    "verify: x\n",
    "phase: 01-x\n",
    "plan: 01\n",
    "wave: 2\n",
    '<task type="auto">',
    "</task>",
    "<verify>",
    "</verify>",
    "<automated>",
    "</automated>",
    "<name>n</name>",
    "<files>a.py</files>",
    "### Task 1: t\n",
    "- **Dependencies**: Tasks 1-3\n",
    "- **Status**: ✅ Completed\n",
    "## Milestones\n",
    "- **Milestone 1**: m (Tasks 1-9)\n",
    "- [ ] T001 [P] x (depends on T002)\n",
    "- [x] done\n",
    "## Validation Loop\n",
    "### Level 1: lint\n",
    "```bash\n",
    "```\n",
    "ruff check .\n",
    "if true; then\n",
    "cat <<EOF\n",
    "\\\n",
    "'",
    '"',
    'pattern: "a\\.b"\n',
    "must_haves:\n",
    "  artifacts:\n",
    "    - path: ../x\n",
    "## Tasks\n",
    "- [x] **T01: t** `est:5m`\n",
    "  - Verify: `npm test` succeeds; `grep -c x a` returns 0 + `make`\n",
    "<acceptance_criteria>\n- `a.py` contains `def f`\n</acceptance_criteria>\n",
    "&amp;&amp; &lt; &quot;",
    "`grep -rn TODO src` should find nothing\n",
    "- [x] T002 Implement `foo()` in src/a.py and create src/, tests/\n",
    "  **Checkpoint**: `black src/`\n",
    "## PR Gates\n",
    "`uv run pytest`\n",
    "</content>\n",
    "Assistant: hi\n",
    "\t",
    "\x00",
    "\ud7ff",
    "{",
    "[",
    "&",
    "*a",
    "!!python/object:x\n",
    "- [-] 2. Build\n",
    "  - [ ] 2.1 Sub (P)\n",
    "  - [ ]* 2.2 Optional\n",
    "    - _Depends: 2.1_\n",
    "    - _Requirements: 1.2_\n",
    "  Verification: `make test`\n",
    "### Acceptance Criteria\n",
    "## 1. Group\n",
    "<!--\n",
    "-->\n",
    "    - [ ] indented code\n",
    "### Task 1.1: dotted\n",
    "## Phase 2: p\n",
    "1. step `npm run dev`\n",
    # Backlog.md, Cursor and Task Master's task files
    "id: task-1\n",
    "title: t\n",
    "status: In Progress\n",
    "dependencies: [task-2, 3, TASK-1]\n",
    "## Acceptance Criteria\n",
    "<!-- AC:BEGIN -->\n",
    "- [ ] #1 `pytest -q` passes\n",
    "## Definition of Done\n",
    "todos:\n",
    "  - id: a\n    content: x `src/a.py`\n    blockedBy: [b]\n",
    "    status: completed\n",
    "## Verification\n",
    "# Task ID: 3\n",
    "# Status: done\n",
    "# Dependencies: 1 \u2713, 2\n",
    "# Test Strategy:\n",
    "# Subtasks:\n",
    "## 3.1. x [done]\n",
    "## 1. y\n",
    "### Dependencies: 3.1\n",
]


def read_everything(text: str, fmt: str | None, name: str = "fuzz.md") -> None:
    read_files([(name, text)], fmt)


def read_files(files: list[tuple[str, str]], fmt: str | None) -> None:
    """Load the files as one scan would (so multi-file formats group them), then validate."""
    loaded = Loaded()
    for name, text in files:
        doc = Document(Path(name), name, text)
        load_document(doc, explicit=True, forced=READERS[fmt] if fmt else None, loaded=loaded)
    read_groups(loaded)
    graph = check_loaded(loaded).graph
    if graph.order is not None:
        graph.assign_waves(avoid_conflicts=True)
        graph.critical_path()
        graph.edges()


documents = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=40).map(
    "".join
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sampled_from(FORMATS))
def test_random_documents(text: str, fmt: str | None) -> None:
    read_everything(text, fmt)


# JSON shaped like Task Master's tasks.json, with wrong types and values mixed in.
_KEYS = ["tasks", "master", "feat", "id", "title", "status", "dependencies", "subtasks"]
_KEYS += ["testStrategy", "details", "metadata"]
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 12),
        st.sampled_from(["1", "2.1", "done", "pending", "in-progress", "`pytest -q` passes"]),
        st.text(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(_KEYS), inner, max_size=6),
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from([0, 2]), st.integers(0, 400))
def test_random_task_master_json(value: object, indent: int, cut: int) -> None:
    text = json.dumps(value, indent=indent or None)
    read_everything(text, None, ".taskmaster/tasks/tasks.json")
    read_everything(text[:cut], None, ".taskmaster/tasks/tasks.json")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(documents, min_size=1, max_size=4),
    st.sampled_from(["backlog/tasks/task-{} - x.md", ".taskmaster/tasks/task_00{}.md"]),
    st.sampled_from([None, "backlog", "taskmaster", "cursor"]),
)
def test_random_multi_file_plans(texts: list[str], pattern: str, fmt: str | None) -> None:
    read_files([(pattern.format(n), text) for n, text in enumerate(texts)], fmt)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(raw: bytes) -> None:
    try:
        text = decode(raw)
    except UndecodableError:
        return
    read_everything(text, None)


@pytest.mark.skipif(not SEED_TEXTS, reason="../shared/seeds is not beside the checkout")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(FORMATS))
def test_mutated_and_truncated_seeds(data: st.DataObject, fmt: str | None) -> None:
    text = data.draw(st.sampled_from(SEED_TEXTS))
    for _ in range(data.draw(st.integers(0, 4))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 80)))
        insert = data.draw(st.one_of(st.just(""), st.sampled_from(FRAGMENTS), st.text(max_size=8)))
        text = text[:start] + insert + text[end:]
    text = text[: data.draw(st.integers(0, len(text)))]
    read_everything(text, fmt)
