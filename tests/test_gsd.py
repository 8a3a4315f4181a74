"""GSD plans as they are written today: plans on their own, spellings, claims, elements."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli
from planrun.model import Plan
from planrun.validate import Validation, validate_paths


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def plan_text(
    phase: str, plan: str, deps: str = "[]", body: str = "", wave: str = "1", **front: str
) -> str:
    extra = "".join(f"{k}: {v}\n" for k, v in front.items())
    tasks = (
        body
        or f"""\
<task type="auto">
  <name>Task of {plan}</name>
  <files>src/{plan}.py</files>
  <verify><automated>test -n "{plan}"</automated></verify>
</task>
"""
    )
    return (
        f"---\nphase: {phase}\nplan: {plan}\ntype: execute\nwave: {wave}\ndepends_on: {deps}\n"
        f"files_modified: []\nautonomous: true\nmust_haves: {{}}\n{extra}---\n\n"
        f"# Plan {plan}\n\n<tasks>\n{tasks}</tasks>\n"
    )


def phase(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    return tmp_path / ".planning" / "phases" / "07-auth"


def codes(result: Validation) -> list[str]:
    return [d.code for d in result.diagnostics.items if d.severity != "info"]


def plans(result: Validation) -> dict[str, Plan]:
    return {p.id: p for p in result.plans}


def test_a_plan_on_its_own_loads_its_siblings_as_context(tmp_path: Path) -> None:
    folder = phase(tmp_path)
    write(folder / "07-01-PLAN.md", plan_text("07-auth", "01"))
    # A sibling with its own problems: they are not this validation's business.
    write(folder / "07-02-PLAN.md", plan_text("07-auth", "02", body="<task>\n"))
    write(folder / "07-04-PLAN.md", plan_text("07-auth", "01", deps="[99]"))
    target = write(folder / "07-03-PLAN.md", plan_text("07-auth", "03", deps='["07-01"]', wave="2"))
    result = validate_paths([target])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert codes(result) == []
    assert [(p.id, p.context) for p in result.plans] == [
        ("07-03", False),
        ("07-01", True),
        ("07-02", True),
    ]  # 07-04 repeats 07-01's id and names a missing plan: a sibling's problems, not reported
    assert [[u.id for u in w if u.task] for w in result.graph.waves()] == [
        ["07-01/task-1"],
        ["07-03/task-1"],
    ]
    run = run_cli("validate", target)
    assert run.exit_code == 0, run.output
    assert run.stdout.endswith(
        "1 plan, 1 task (and 2 sibling plans read as context): no problems found.\n"
    )


def test_execute_runs_only_the_named_plan_and_counts_the_siblings_claims(tmp_path: Path) -> None:
    folder = phase(tmp_path)
    write(folder / "07-01-PLAN.md", plan_text("07-auth", "01"))
    write(folder / "07-01-SUMMARY.md", "---\nphase: 07-auth\nplan: 01\n---\n# Done\n")
    target = write(folder / "07-03-PLAN.md", plan_text("07-auth", "03", deps="[01]"))
    run = run_cli("execute", target, "--json", "--no-summary")
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    assert [(t["id"], t["status"]) for t in doc["tasks"]] == [("07-03/task-1", "passed")]
    # Without the sibling's claim, the plan waits for the sibling to be run.
    (folder / "07-01-SUMMARY.md").unlink()
    run = run_cli("execute", target, "--json", "--no-summary", "--fresh")
    assert run.exit_code == 1
    [task] = json.loads(run.stdout)["tasks"]
    assert task["status"] == "blocked"


def test_reports_of_a_plan_on_its_own_show_only_that_plan(tmp_path: Path) -> None:
    folder = phase(tmp_path)
    write(folder / "07-01-PLAN.md", plan_text("07-auth", "01"))
    write(folder / "07-01-SUMMARY.md", "---\nstatus: complete\n---\n# Done\n")
    body = """\
<task type="auto">
  <name>Session store</name>
  <verify>test -f src/session.py</verify>
  <acceptance_criteria>
    - `src/session.py` contains `def load`
  </acceptance_criteria>
</task>
"""
    write(folder / "07-02-PLAN.md", plan_text("07-auth", "02", deps="[01]", wave="2", body=body))
    write(folder / "07-02-SUMMARY.md", "---\nstatus: complete\n---\n# Done\n")
    write(folder / "07-03-PLAN.md", plan_text("07-auth", "03", deps="[02]", wave="3"))
    target = folder / "07-02-PLAN.md"
    run = run_cli("execute", target)
    assert run.exit_code == 1
    summary = (folder / "SUMMARY.md").read_text()
    # The siblings are context: their claims settle 07-02's dependency, but they are not
    # this run's tasks, milestones or waves.
    assert "# ❌ FAILED: 0 of 1 tasks passed (1 false claim; 1 failed)\n" in summary
    assert "07-01/" not in summary.split("## Graph")[0]
    assert "07-03/" not in summary.split("## Graph")[0]
    assert "| Wave 2 | ❌ failed | 0/1 |\n" in summary
    assert "| 2 | 1 | 0 | 1 failed |\n" in summary
    assert (
        "- ❌ `07-02/task-1` artifact (derived) `src/session.py`: src/session.py does not exist, "
        'so it does not contain "def load"\n'
    ) in summary
    # Under Failures too, a derived check says so.
    assert (
        "- ❌ artifact (derived) `src/session.py`: src/session.py does not exist, so it does "
        'not contain "def load"\n'
    ) in summary
    status = run_cli("status", target)
    first, *rest = status.stdout.splitlines()[:4]
    assert first.startswith("FAIL       07-02/task-1  ")  # then its duration
    assert first.endswith("s  [derived checks]")
    assert rest == ["", "Milestones:", "  failed   wave-2: Wave 2 (0/1 passed)"]
    # What to work on next is the named plan's work: 07-01 is claimed done, 07-03 not named.
    assert run_cli("next", target).stdout == "07-02/task-1  wave 2  Session store\n"


def test_a_missing_dependency_of_a_plan_on_its_own_is_external(tmp_path: Path) -> None:
    target = write(phase(tmp_path) / "07-03-PLAN.md", plan_text("07-auth", "03", deps="[06-02]"))
    run = run_cli("validate", target)
    assert run.exit_code == 0, run.output
    assert (
        f'{target}:2: warning[external-dependency] plan "07-03" depends on plan "06-02", '
        "which is not among the plans loaded; it is treated as outside this run"
    ) in run.stdout
    assert run_cli("execute", target, "--no-summary").exit_code == 0
    converted = run_cli("convert", target)
    assert converted.exit_code == 0, converted.output
    assert "depends_on:\n- 06-02\n" in converted.stdout


@pytest.mark.parametrize(
    "dep",
    [
        '"07-01"',
        '"01"',
        "[01]",
        "07-01-PLAN",
        "07-01-PLAN.md",
        "auth-m1-01-session-store",
        "auth-m1-01-session-store-PLAN.md",
        ".planning/phases/07-auth/auth-m1-01-session-store-PLAN.md",
        '"7-1"',
    ],
)
def test_depends_on_spellings(tmp_path: Path, dep: str) -> None:
    folder = phase(tmp_path)
    write(folder / "auth-m1-01-session-store-PLAN.md", plan_text("07-auth", "01"))
    write(folder / "07-02-PLAN.md", plan_text("07-auth", "02", deps=dep))
    result = validate_paths([folder])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert plans(result)["07-02"].depends_on in (["07-01"], ["auth-m1-01-session-store"])
    assert [[u.id for u in w if u.task] for w in result.graph.waves()] == [
        ["07-01/task-1"],
        ["07-02/task-1"],
    ]


def test_zero_padded_phases_and_cross_phase_ids(tmp_path: Path) -> None:
    root = tmp_path / ".planning" / "phases"
    write(root / "0144-cache" / "0144-01-PLAN.md", plan_text("144-cache", "01"))
    write(root / "0144-cache" / "0144-02-PLAN.md", plan_text("144-cache", "2", deps='"0144-01"'))
    write(root / "0145-x" / "0145-01-PLAN.md", plan_text("145-x", "01", deps='["144-02"]'))
    result = validate_paths([root])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert [[u.id for u in w if u.task] for w in result.graph.waves()] == [
        ["144-01/task-1"],
        ["144-02/task-1"],
        ["145-01/task-1"],
    ]
    # One phase folder on its own: the other phase is outside the run, not an error.
    result = validate_paths([root / "0145-x"])
    assert result.ok
    assert codes(result) == ["external-dependency"]


@pytest.mark.parametrize(
    ("summary", "claimed"),
    [
        ("---\nphase: 07-auth\nplan: 01\n---\n# Summary\n", "done"),
        ("---\nstatus: halted\n---\n", "blocked"),
        ("---\nstatus: partial\n---\n", "in_progress"),
        ("---\nstatus: failed\n---\n", "todo"),
        ("# Summary\n\n## Self-Check: FAILED\n\n- tests fail\n", "in_progress"),
        ("---\ngenerator: planrun\nstatus: passed\n---\n", "todo"),
    ],
)
def test_claims_from_gsd_summaries(tmp_path: Path, summary: str, claimed: str) -> None:
    folder = phase(tmp_path)
    write(folder / "07-01-PLAN.md", plan_text("07-auth", "01"))
    write(folder / "07-01-SUMMARY.md", summary)
    [plan] = validate_paths([folder]).plans
    assert [t.claimed for t in plan.tasks] == [claimed]


def test_a_false_claim_is_listed_first(tmp_path: Path) -> None:
    folder = phase(tmp_path)
    body = '<task type="auto"><name>Login</name><verify>test -f src/login.py</verify></task>\n'
    write(folder / "07-01-PLAN.md", plan_text("07-auth", "01", body=body))
    write(folder / "07-01-SUMMARY.md", "---\nstatus: complete\n---\n# Done\n")
    run = run_cli("execute", folder)
    assert run.exit_code == 1
    summary = (folder / "SUMMARY.md").read_text()
    assert summary.index("## False claims") < summary.index("## Failures")
    assert "- ❌ `07-01/task-1` Login: **failed**" in summary
    # planrun's own SUMMARY.md in the folder is never read as a plan or a claim.
    again = validate_paths([folder])
    assert [t.claimed for t in again.plans[0].tasks] == ["done"]


def test_gsd_drift(tmp_path: Path) -> None:
    folder = phase(tmp_path)
    write(folder / "plans" / "07-01-PLAN.md", plan_text("07-auth", "01", wave='"1"'))
    write(folder / "plans" / "07-02-PLAN.md", plan_text("07-auth", "02", status="superseded"))
    for name in ("07-02-OUTLINE.md", "07-01-PLAN.pre-bounce.md", "07-01-PLAN-REVIEW.md"):
        write(folder / "plans" / name, "---\nphase: 07-auth\nplan: 01\n---\n<task></task>\n")
    result = validate_paths([folder])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    assert list(plans(result)) == ["07-01"]
    assert plans(result)["07-01"].wave == 1
    notes = {d.code: d.message for d in result.diagnostics.items if d.severity == "info"}
    assert notes["superseded-plan"].startswith("status: superseded")
    skipped = {Path(d.file).name for d in result.diagnostics.items if d.code == "not-a-plan"}
    assert skipped == {"07-02-OUTLINE.md", "07-01-PLAN.pre-bounce.md", "07-01-PLAN-REVIEW.md"}


ELEMENTS = """\
<task type="auto">
  <name>Entities and fences</name>
  <files>src/app.ts, src/x.tsx</files>
  <verify>
    <automated>npm run build &amp;&amp; test -f dist/app.js</automated>
    <automated>MISSING — no test exists yet</automated>
  </verify>
</task>
<task type="auto">
  <name>Prose lines</name>
  <files>src/app.ts</files>
  <verify>
    Run `npx tsc --noEmit` to verify no type errors.
    - grep "useState" src/x.tsx
    cargo tauri dev (app launches)
    `grep -c "TODO(13-01)" src` returns 0
    `grep -rn "console.log" src` should find nothing
    npm test -- --run red.test.ts  # Expected: FAIL
  </verify>
</task>
<task type="auto">
  <name>One script</name>
  <verify>
```bash
cd web
npm run dev &amp;
sleep 2
curl -sf localhost:3000 &gt; /dev/null
```
  </verify>
  <acceptance_criteria>
    - `src/app.ts` contains `export function main`
    - `src/x.tsx` exists
    - tests/test_a.py exists with 8 test functions (grep `def test_` count == 8)
    - `npm run lint` exits 0
    - The page looks right on mobile
  </acceptance_criteria>
</task>
"""


def test_inside_gsd_elements(tmp_path: Path) -> None:
    target = write(phase(tmp_path) / "07-01-PLAN.md", plan_text("07-auth", "01", body=ELEMENTS))
    result = validate_paths([target])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    entities, prose, script = plans(result)["07-01"].tasks
    assert [c.run for c in entities.verify] == ["npm run build && test -f dist/app.js"]
    assert entities.must_haves.truths[0].truth == "MISSING — no test exists yet"
    checks = [(c.run, c.expect_output, c.expect_exit) for c in prose.verify]
    assert checks == [
        ("npx tsc --noEmit", None, 0),
        ('grep "useState" src/x.tsx', None, 0),
        ('grep -c "TODO(13-01)" src', "count == 0", 0),
        ('grep -rn "console.log" src', "empty", 0),
        ("npm test -- --run red.test.ts", None, 1),
    ]
    assert prose.verify[0].description == "Run `npx tsc --noEmit` to verify no type errors."
    assert [t.truth for t in prose.must_haves.truths] == ["cargo tauri dev"]
    assert [c.run for c in script.verify] == [
        "cd web\nnpm run dev &\nsleep 2\ncurl -sf localhost:3000 > /dev/null",
        "grep -c -- 'def test_' tests/test_a.py",
        "npm run lint",
    ]
    assert script.verify[1].expect_output == "count == 8"
    assert [c.derived for c in script.verify] == [False, True, True]
    arts = [(a.path, a.contains, a.derived) for a in script.must_haves.artifacts]
    assert arts == [("src/app.ts", "export function main", True), ("src/x.tsx", None, True)]
    assert [t.truth for t in script.must_haves.truths] == ["The page looks right on mobile"]
    warnings = [d.message for d in result.diagnostics.items if d.code == "prose-verify"]
    assert any("MISSING" in w for w in warnings)
    assert any("long-running" in w for w in warnings)
    # Tasks of one GSD plan are done by one agent in order: no file conflict among them.
    assert "file-conflict" not in codes(result)


def test_negative_expectations_pass_when_the_work_is_right(tmp_path: Path) -> None:
    body = """\
<task type="auto">
  <name>No TODOs left</name>
  <verify>
    `grep -rc "TODO(13-01)" src` returns 0
    `grep -rn "console.log" src` returns no matches
    `grep -c "def " src/a.py` (expect 2)
  </verify>
</task>
"""
    target = write(phase(tmp_path) / "07-01-PLAN.md", plan_text("07-auth", "01", body=body))
    write(tmp_path / "src" / "a.py", "def a(): ...\ndef b(): ...\n")
    run = run_cli("execute", target, "--no-summary", "--json")
    assert run.exit_code == 0, run.output
    write(tmp_path / "src" / "b.py", "# TODO(13-01)\n")
    run = run_cli("execute", target, "--no-summary", "--json")
    assert run.exit_code == 1
    [task] = json.loads(run.stdout)["tasks"]
    assert task["reason"] == (
        'count 1 (expected output: count == 0): `grep -rc "TODO(13-01)" src` (line 18)'
    )


def test_section_style_gsd_plan(tmp_path: Path) -> None:
    body = """\
### Task 04-01-01: Add the store
- **Verify**: `pytest -q tests/test_store.py`

### Task 04-01-02: Wire it
Some text.

### Task 04-01-03: Document it

## Verification

```bash
pytest -q
```
"""
    target = write(
        phase(tmp_path) / "04-01-PLAN.md",
        f"---\nphase: 04-store\nplan: 01\nwave: 1\n---\n\n# Store\n\n{body}",
    )
    result = validate_paths([target])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    [plan] = result.plans
    assert plan.format == "gsd"
    assert [t.id for t in plan.tasks] == ["04-01-01", "04-01-02", "04-01-03"]
    assert [c.run for c in plan.tasks[0].verify] == ["pytest -q tests/test_store.py"]
    assert [c.run for c in plan.verify] == ["pytest -q"]


def test_key_links_from_a_symbol_search_the_plans_files(tmp_path: Path) -> None:
    root = tmp_path
    (root / ".git").mkdir()
    write(
        root / "src" / "export.py",
        "class StreamingExporter:\n    def open(self):\n"
        "        return sink.write(\n            rows)\n",
    )
    body = (
        '<task type="auto"><name>Export</name><files>src/export.py</files>'
        "<verify>test -f src/export.py</verify></task>\n"
    )
    links = (
        "must_haves:\n  key_links:\n"
        "    - {from: StreamingExporter.open(), to: sink, pattern: 'sink\\.write\\(\\s+rows'}\n"
        "    - {from: StreamingExporter.close(), to: flush, pattern: 'flush\\('}\n"
        "    - {from: src/export.py, to: sink, pattern: 'Exporter -> sink'}\n"
    )
    text = plan_text("07-auth", "01", body=body).replace("must_haves: {}\n", links)
    target = write(root / ".planning" / "phases" / "07-auth" / "07-01-PLAN.md", text)
    result = validate_paths([target])
    [warning] = [d for d in result.diagnostics.items if d.code == "key-link-pattern"]
    assert "is prose (A -> B)" in warning.message
    run = run_cli("execute", target, "--json", "--no-summary")
    checks = {c["label"]: c for t in json.loads(run.stdout)["tasks"] for c in t["checks"]}
    # Matched over the whole file, across lines, as GSD's own verify key-links does.
    assert checks["StreamingExporter.open() -> sink"]["status"] == "passed"
    assert checks["StreamingExporter.open() -> sink"]["message"].startswith(
        "/sink\\.write\\(\\s+rows/ found in src/export.py:3"
    )
    assert checks["StreamingExporter.close() -> flush"]["message"] == (
        "/flush\\(/ not found in the plan's files (src/export.py)"
    )


SLICE = """\
# S01: Foundation

**Goal:** a working app.

## Must-Haves

- The app builds
- `src/lib/db.ts` exports `db`

## Verification

- `npm run build` completes without errors
- `npm run dev` starts and `curl -sf localhost:3000` renders

## Tasks

- [x] **T01: Scaffold the project** `est:30m`
  - Why: everything needs it.
  - Files: `package.json`, `src/lib/db.ts`
  - Verify: `npm run build` succeeds; `test -f sqlite.db` + `grep -c users src/db.ts` returns 1
  - Done when: it builds.

- [ ] **T02: Chat route** `est:45m`
  - Files: `src/app/api/chat/route.ts`, `package.json`
  - Verify: Open the page and see text stream in.
"""


def test_gsd2_slice_and_task_plans(tmp_path: Path) -> None:
    slices = tmp_path / ".gsd" / "milestones" / "M001" / "slices" / "S01"
    write(slices / "S01-PLAN.md", SLICE)
    write(
        slices / "tasks" / "T01-PLAN.md",
        "# T01: Scaffold\n\n## Steps\n\n1. Do it.\n\n## Verification\n\n- `npm test` passes\n",
    )
    write(slices / "S01-SUMMARY.md", "---\nstatus: complete\n---\n")
    result = validate_paths([tmp_path / ".gsd"])
    assert result.ok, [d.format() for d in result.diagnostics.items]
    found = plans(result)
    assert list(found) == ["M001-S01", "M001-S01-T01"]
    slice_plan, task_plan = found.values()
    assert slice_plan.format == "gsd2"
    one, two = slice_plan.tasks
    assert (one.id, one.name, one.claimed, two.claimed) == (
        "T01",
        "Scaffold the project",
        "done",
        "todo",
    )
    assert [(c.run, c.expect_output) for c in one.verify] == [
        ("npm run build", None),
        ("test -f sqlite.db", None),
        ("grep -c users src/db.ts", "count == 1"),
    ]
    assert one.files == ["package.json", "src/lib/db.ts"]
    assert [t.truth for t in two.must_haves.truths] == ["Open the page and see text stream in."]
    assert [c.run for c in slice_plan.verify] == ["npm run build"]
    assert [t.truth for t in slice_plan.must_haves.truths] == [
        "`npm run dev` starts and `curl -sf localhost:3000` renders",
        "The app builds",
        "`src/lib/db.ts` exports `db`",
    ]
    assert [c.run for c in task_plan.tasks[0].verify] == ["npm test"]
    assert "file-conflict" not in codes(result)


def test_a_verify_in_words_is_not_replaced_by_derived_checks(tmp_path: Path) -> None:
    body = (
        '<task type="auto"><name>Page</name><files>src/page.tsx</files>'
        "<verify>Open the page and check the button</verify></task>\n"
    )
    target = write(phase(tmp_path) / "07-01-PLAN.md", plan_text("07-auth", "01", body=body))
    [task] = validate_paths([target]).plans[0].tasks
    assert not task.derived
    assert [t.truth for t in task.must_haves.truths] == ["Open the page and check the button"]
    run = run_cli("execute", target, "--json", "--no-summary")
    assert json.loads(run.stdout)["tasks"][0]["status"] == "manual"


def test_section_style_runs_only_fences_a_verify_line_introduces(tmp_path: Path) -> None:
    body = """\
### Task 05-02-01: Seed the cache
Install and write it:
```bash
npm install lru-cache
```
**Verify:**
```bash
cd web
npm test -- cache
```
"""
    target = write(
        phase(tmp_path) / "05-02-PLAN.md",
        f"---\nphase: 05-cache\nplan: 02\n---\n\n# Cache\n\n{body}",
    )
    [task] = validate_paths([target]).plans[0].tasks
    assert [c.run for c in task.verify] == ["cd web\nnpm test -- cache"]


def test_gsd_elements_and_derived_checks_share_the_one_prose_rule(tmp_path: Path) -> None:
    # A route a sentence names and a line that reads as English are never run (planrun.prose).
    body = """\
<task type="auto">
  <name>Health route</name>
  <verify>
    /api/health returns 200
    `/dashboard` shows the list
    curl the page and ensure it works
  </verify>
</task>
<task type="auto">
  <name>Health page in src/pages/health.tsx</name>
  <action>Write it.</action>
</task>
"""
    target = write(phase(tmp_path) / "07-01-PLAN.md", plan_text("07-auth", "01", body=body))
    result = validate_paths([target])
    route, page = plans(result)["07-01"].tasks
    assert route.verify == []
    assert [t.truth for t in route.must_haves.truths] == [
        "/api/health returns 200",
        "`/dashboard` shows the list",
        "curl the page and ensure it works",
    ]
    warnings = [(d.line, d.message) for d in result.diagnostics.items if d.code == "prose-verify"]
    manual = "is prose, not a command: it is a manual check"
    assert warnings == [
        (18, f"verify line '/api/health returns 200' {manual}"),
        (19, f"verify line '`/dashboard` shows the list' {manual}"),
        (20, f"verify line 'curl the page and ensure it works' {manual}"),
    ]
    assert [(a.path, a.derived) for a in page.must_haves.artifacts] == [
        ("src/pages/health.tsx", True)
    ]


def test_a_dev_server_written_as_a_check_runs_with_a_warning(tmp_path: Path) -> None:
    body = """\
<task type="auto">
  <name>Dev server</name>
  <verify><automated>npm run dev</automated></verify>
</task>
<task type="auto">
  <name>Desktop app</name>
  <verify>cargo tauri dev (app launches)</verify>
</task>
"""
    target = write(phase(tmp_path) / "07-01-PLAN.md", plan_text("07-auth", "01", body=body))
    result = validate_paths([target])
    server, app = plans(result)["07-01"].tasks
    assert [c.run for c in server.verify] == ["npm run dev"]  # run under the timeout
    assert app.verify == []  # a thing to watch, in words: by hand
    assert [t.truth for t in app.must_haves.truths] == ["cargo tauri dev"]
    found = [(d.code, d.line) for d in result.diagnostics.items if d.severity == "warning"]
    assert ("verify-long-running", 17) in found
    assert ("prose-verify", 21) in found


def test_a_gsd_summary_claim_is_no_undeclared_change(tmp_path: Path) -> None:
    from test_evidence import commit, init

    repo = init(tmp_path / "repo")
    body = '<task type="auto"><name>Login</name><files>src/login.py</files>'
    body += "<verify>test -f src/login.py</verify></task>\n"
    plan = ".planning/phases/07-auth/07-01-PLAN.md"
    commit(repo, "plan", {plan: plan_text("07-auth", "01", body=body)})
    summary = ".planning/phases/07-auth/07-01-SUMMARY.md"
    commit(repo, "work", {"src/login.py": "ok\n", summary: "---\nstatus: complete\n---\n"})
    (repo / "notes.txt").write_text("not declared by any task\n")
    run = run_cli("execute", repo / plan, "--json", "--no-summary")
    assert run.exit_code == 0, run.output
    # GSD's claim beside the plan is part of the plan, like the plan file itself.
    assert json.loads(run.stdout)["undeclared_changes"] == ["notes.txt"]


def test_an_expected_output_on_a_command_that_prints_no_count_is_held(tmp_path: Path) -> None:
    phase = tmp_path / ".planning" / "phases" / "01-x"
    phase.mkdir(parents=True)
    (tmp_path / "a.txt").write_text("TODO\n")
    task = (
        '<task type="auto">\n  <name>Task {n}</name>\n  <files>a.txt</files>\n'
        "  <action>x</action>\n  <verify><automated>{run}</automated></verify>\n"
        "  <done>x</done>\n</task>\n"
    )
    (phase / "01-01-PLAN.md").write_text(
        "---\nphase: 01-x\nplan: 01\ntype: execute\nwave: 1\ndepends_on: []\n"
        "files_modified: [a.txt]\nautonomous: true\nmust_haves: {truths: []}\n---\n\n<tasks>\n"
        + task.format(n=1, run='python3 -c "print(3)"  # expect 1')
        + task.format(n=2, run="grep -c TODO a.txt  # expect 0")
        + "</tasks>\n"
    )
    run = run_cli("execute", phase / "01-01-PLAN.md", "--root", tmp_path, "--json", "--no-summary")
    found = {t["id"]: t["status"] for t in json.loads(run.stdout)["tasks"]}
    assert found == {"01-01/task-1": "manual", "01-01/task-2": "failed"}
    check = run_cli("validate", phase / "01-01-PLAN.md")
    assert (
        '`python3 -c "print(3)"` has an expected output planrun cannot check on what this '
        "command prints (count == 1): it is a manual check, not run"
    ) in check.stdout


def test_words_after_an_automated_element_say_what_it_must_print(tmp_path: Path) -> None:
    body = """\
<task type="auto">
  <name>Strip console.log</name>
  <verify><automated>grep -rc console.log src/app.ts</automated> equals 0</verify>
</task>
<task type="auto">
  <name>Drop the legacy module</name>
  <verify><automated>python3 -c "import legacy"</automated> should no longer work</verify>
</task>
"""
    target = write(phase(tmp_path) / "07-01-PLAN.md", plan_text("07-auth", "01", body=body))
    write(tmp_path / "src" / "app.ts", "console.log(1);\nconsole.log(2);\n")
    write(tmp_path / "legacy.py", "")
    [strip, drop] = plans(validate_paths([target]))["07-01"].tasks
    assert [(c.run, c.expect_output) for c in strip.verify] == [
        ("grep -rc console.log src/app.ts", "count == 0")
    ]
    assert (drop.verify, [t.truth for t in drop.must_haves.truths]) == (
        [],
        [
            (
                "`python3 -c \"import legacy\"` is expected to fail ('should no longer work'); "
                "a check passes only on exit 0"
            )
        ],
    )
    run = run_cli("execute", target, "--no-summary", "--json")
    found = {t["id"]: (t["status"], t["reason"]) for t in json.loads(run.stdout)["tasks"]}
    assert found["07-01/task-1"] == (
        "failed",
        "count 2 (expected output: count == 0): `grep -rc console.log src/app.ts` (line 17)",
    )
    assert found["07-01/task-2"][0] == "manual"
