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


SERVICE = """
# PRP: Feature

## Validation Loop

### Level 1: Syntax
```bash
python3 -m py_compile src/main.py
```

### Level 3: Integration Test
```bash
# Start the service
uv run python -m src.main --dev

# Test the endpoint
curl -X POST http://localhost:8000/feature \\
  -H "Content-Type: application/json" \\
  -d '{"param": "test_value"}'

# Expected: {"status": "success", "data": {...}}
```

### Level 4: Smoke
```bash
test -f src/main.py
# Start the server
python3 src/app.py
curl -f http://localhost:8000/health
```

### Level 5: In the background
```bash
# Start the service
python3 src/app.py &
sleep 1
curl -f http://localhost:8000/health
kill %1
```

### Level 6: Frontend
Start the dev server:
```bash
node server.js
```
"""

LONG = "verify-long-running"


def test_a_level_that_starts_the_service_in_the_foreground_is_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "prp.md"
    path.write_text(textwrap.dedent(SERVICE).lstrip())
    result = validate_paths([path])
    [plan] = result.plans
    by_id = {t.id: t for t in plan.tasks}
    # The base template's Level 3: the start would hold until the timeout, and the curl
    # after it needs the service. Both are a person's to run; the level is manual.
    level3 = by_id["level-3"]
    assert (level3.kind, level3.verify) == ("manual", [])
    assert [t.truth for t in level3.must_haves.truths] == [
        "uv run python -m src.main --dev",
        (
            'curl -X POST http://localhost:8000/feature \\\n  -H "Content-Type: application/json" '
            '\\\n  -d \'{"param": "test_value"}\''
        ),
    ]
    # A plain program run, which the comment above it says starts the server: the commands
    # before it still run.
    level4 = by_id["level-4"]
    assert (level4.kind, [v.run for v in level4.verify]) == ("auto", ["test -f src/main.py"])
    assert [t.truth for t in level4.must_haves.truths] == [
        "python3 src/app.py",
        "curl -f http://localhost:8000/health",
    ]
    # Started in the background in the block, it is a check like any other.
    level5 = by_id["level-5"]
    assert [v.run for v in level5.verify] == [
        "python3 src/app.py &\nsleep 1\ncurl -f http://localhost:8000/health\nkill %1"
    ]
    assert level5.must_haves.truths == []
    # Said in the line above the fence.
    level6 = by_id["level-6"]
    assert (level6.kind, [t.truth for t in level6.must_haves.truths]) == (
        "manual",
        ["node server.js"],
    )
    found = [(d.line, d.message) for d in result.diagnostics.items if d.code == LONG]
    held = "starts a service that does not exit: it and the commands after it in the block, "
    rest = "which need it running, are manual checks, not run"
    assert found == [
        (13, f'"uv run python -m src.main --dev" {held}{rest}'),
        (27, f'"python3 src/app.py" {held}{rest}'),
        (43, '"node server.js" starts a service that does not exit: it is a manual check, not run'),
    ]


def test_the_service_level_is_manual_when_run(tmp_path: Path) -> None:
    from conftest import execute, tasks

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("import time\ntime.sleep(3600)\n")
    path = tmp_path / "prp.md"
    text = textwrap.dedent(SERVICE).lstrip().split("### Level 4")[0]
    path.write_text(text.replace("uv run python -m src.main", "python3 src/main.py"))
    _, doc = execute(path, "--timeout", "20")
    assert tasks(doc) == {
        "prp/level-1": ("passed", None),
        "prp/level-3": ("manual", "needs a human: no automated check"),
    }


def test_a_level_for_a_person_runs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "prp.md"
    path.write_text(
        textwrap.dedent(
            """
            # PRP: Banner

            ### Task 1: Add the banner
            **Validation**: Run `uv run pytest tests/test_banner.py` to check it

            #### Manual testing
            ```bash
            uv run python -m app --demo
            ```

            ## Validation Loop

            ### Level 1: Lint
            ```bash
            ruff check src/
            ```

            ### Level 2: Manual testing
            ```bash
            uv run python -m app --serve-once
            ```
            """
        ).lstrip()
    )
    result = validate_paths([path])
    [plan] = result.plans
    by_id = {t.id: t for t in plan.tasks}
    assert [v.run for v in by_id["task-1"].verify] == ["uv run pytest tests/test_banner.py"]
    assert [t.truth for t in by_id["task-1"].must_haves.truths] == ["uv run python -m app --demo"]
    assert [v.run for v in by_id["level-1"].verify] == ["ruff check src/"]
    assert (by_id["level-2"].kind, by_id["level-2"].verify) == ("manual", [])
    assert [t.truth for t in by_id["level-2"].must_haves.truths] == [
        "uv run python -m app --serve-once"
    ]
    person = "the shell block is not run: it is a step under {!r}, a section for a person"
    assert [(d.line, d.message) for d in result.diagnostics.items if d.code == "prose-verify"] == [
        (7, person.format("Manual testing")),
        (19, person.format("Level 2: Manual testing")),
    ]
