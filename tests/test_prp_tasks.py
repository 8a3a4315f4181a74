"""PRP documents: Task sections with dependencies and checks, optional levels, bare fences."""

from __future__ import annotations

import textwrap
from pathlib import Path

from planrun.validate import validate_paths

PRP = """
# PRP: Search

### Task 1: Create the model
**Depends on**: none
**Validation**: Run `uv run pytest tests/test_model.py` to check the model

### Task 2: Add the endpoint
**Depends on**: Task 1
**Validation**: the endpoint answers

## Validation Loop

### Level 1: Lint
```bash
ruff check src/
```

### Level 2: Integration (optional, only if Task 2 is done)
```bash
curl -fsS http://localhost:8000/search
```

### Level 3: Tests
```
uv run pytest -q
```

### Level 4: Output
```
All tests pass
```
"""


def test_prp_task_sections_levels_and_fences(tmp_path: Path) -> None:
    path = tmp_path / "prp.md"
    path.write_text(textwrap.dedent(PRP).lstrip())
    result = validate_paths([path])
    [plan] = result.plans
    by_id = {t.id: t for t in plan.tasks}
    assert list(by_id) == ["task-1", "task-2", "level-1", "level-2", "level-3"]
    assert [(v.run, v.description) for v in by_id["task-1"].verify] == [
        (
            "uv run pytest tests/test_model.py",
            "Run uv run pytest tests/test_model.py to check the model",
        )
    ]
    assert by_id["task-1"].depends_on == []
    assert by_id["task-2"].depends_on == ["task-1"]
    assert by_id["task-2"].verify == []
    # The optional level 2 waits for level 1, but level 3 does not wait for it.
    assert by_id["level-2"].depends_on == ["level-1"]
    assert by_id["level-3"].depends_on == ["level-1"]
    assert [v.run for v in by_id["level-3"].verify] == ["uv run pytest -q"]
    prose = [(d.line, d.message) for d in result.diagnostics.items if d.code == "prose-verify"]
    assert prose == [
        (9, "validation 'the endpoint answers' is prose, not a command: it is a manual check"),
        (
            29,
            (
                "a fenced block without a language holds prose or output, not only commands: "
                "it is a manual check, not run"
            ),
        ),
    ]


def test_a_validation_in_prose_is_a_manual_truth(tmp_path: Path) -> None:
    path = tmp_path / "prp.md"
    path.write_text(textwrap.dedent(PRP).lstrip())
    [plan] = validate_paths([path]).plans
    [task] = [t for t in plan.tasks if t.id == "task-2"]
    assert [t.truth for t in task.must_haves.truths] == ["the endpoint answers"]
