"""Every reader, fed random text and mutated or truncated seeds, answers only with planrun
diagnostics: never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planrun.document import Document, UndecodableError, decode
from planrun.loader import Loaded, load_document
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
]


def read_everything(text: str, fmt: str | None) -> None:
    loaded = Loaded()
    doc = Document(Path("fuzz.md"), "fuzz.md", text)
    load_document(doc, explicit=True, forced=READERS[fmt] if fmt else None, loaded=loaded)
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
