"""Generated plans through the CLI (canonical, GSD, checklist) with hostile values: non-finite
and huge numbers, NUL, long path parts, broken frontmatter. Every command answers with a
diagnostic and an exit code in {0, 1, 2}, never a traceback. Example counts come from the
hypothesis profile (conftest.py): small by default, ``--hypothesis-profile=long`` for more."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Run, run_cli

# YAML scalars as an agent (or an attacker) might write them.
NUMBERS = st.sampled_from(
    [".inf", "-.inf", ".nan", "1e400", "-1e400", "0", "-1", "256", "1e-300", "10" * 20, "0x1F"]
) | st.integers(min_value=-(10**40), max_value=10**40).map(str)
TEXT = st.sampled_from(
    [
        '"a\\0b"',
        "x" * 300,
        "a/" + "y" * 256 + "/b",
        '""',
        "'a{4294967296}'",
        "'(a+)+$'",
        "../../etc/passwd",
        "/dev/zero",
        "&a x",
        "*a",
        "'::error::x'",
    ]
) | st.text(min_size=0, max_size=120).map(
    lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
VALUE = NUMBERS | TEXT


@st.composite
def canonical(draw: st.DrawFn) -> str:
    v = draw
    lines = [
        "planrun: 1",
        f"timeout: {v(NUMBERS)}",
        f"env: {{A: {v(VALUE)}}}",
        "tasks:",
        f"  - id: {v(VALUE)}",
        f"    timeout: {v(NUMBERS)}",
        (
            f"    verify: [{{run: 'true', timeout: {v(NUMBERS)}, expect_exit: {v(NUMBERS)}, "
            f"cwd: {v(VALUE)}}}]"
        ),
        (
            f"    must_haves: {{artifacts: [{{path: {v(VALUE)}, min_lines: {v(NUMBERS)}}}], "
            f"key_links: [{{from: {v(VALUE)}, to: {v(VALUE)}, pattern: {v(VALUE)}}}]}}"
        ),
        f"  - {{id: b, depends_on: [{v(VALUE)}], verify: 'exit 1'}}",
        f"wave: {v(NUMBERS)}",
    ]
    return "\n".join(lines)


@st.composite
def gsd(draw: st.DrawFn) -> str:
    v = draw
    front = "\n".join(
        [
            f"phase: {v(VALUE)}",
            f"plan: {v(NUMBERS)}",
            f"wave: {v(NUMBERS)}",
            f"depends_on: [{v(VALUE)}]",
            f"files_modified: [{v(VALUE)}]",
            "must_haves:",
            f"  artifacts: [{{path: {v(VALUE)}, min_lines: {v(NUMBERS)}}}]",
            f"  key_links: [{{from: {v(VALUE)}, to: b, pattern: {v(VALUE)}}}]",
        ]
    )
    body = (
        '<task type="auto">\n<name>t</name>\n<files>' + "x" * v(st.integers(0, 400)) + "</files>\n"
        "<verify><automated>true</automated></verify>\n</task>\n"
    )
    return front + "\n---\n" + body


@st.composite
def checklist(draw: st.DrawFn) -> str:
    v = draw
    front = f"title: {v(VALUE)}\nitems: {v(NUMBERS)}"
    body = (
        f"# Tasks\n\n- [ ] T001 {v(st.text(max_size=200))} (depends on T{v(NUMBERS)})\n"
        f"- [x] T002 done\n\n## Test / Validation\n\n- `true`\n"
    )
    return front + "\n---\n" + body


def breakage(draw: st.DrawFn, text: str) -> str:
    """Sometimes break the frontmatter: unclosed, unbalanced, cut short."""
    how = draw(st.sampled_from(["none", "none", "unclosed", "bracket", "cut"]))
    if how == "unclosed":
        return text.replace("\n---\n", "\n", 1)
    if how == "bracket":
        return text.replace("[", "[[", 1)
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))]
    return text


def run_everything(document: str, fmt: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plan = root / "p.md"
        plan.write_bytes(document.encode("utf-8", "surrogatepass"))
        forced = ["--format", fmt] if fmt else []
        runs: list[Run] = [
            run_cli("validate", plan, *forced),
            run_cli("waves", plan, *forced),
            run_cli("graph", plan, "--format", "json"),
            run_cli("convert", plan, *forced),
            run_cli("execute", plan, "--root", root, "--dry-run", *forced),
            run_cli("execute", plan, "--root", root, "--no-summary", "--timeout", "30", *forced),
            run_cli("status", plan, "--root", root, *forced),
        ]
        for run in runs[:4] + runs[6:]:
            assert run.exit_code in (0, 1, 2), run.output
        for run in runs[4:6]:  # execute: 5 when the plan has nothing to run
            assert run.exit_code in (0, 1, 2, 5), run.output
        for run in runs:
            assert "Traceback" not in run.output


SLOW = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SLOW
@given(st.data())
def test_generated_canonical_plans(data: st.DataObject) -> None:
    text = data.draw(canonical())
    run_everything("---\n" + breakage(data.draw, text + "\n---\n") + "# plan\n", None)


@SLOW
@given(st.data())
def test_generated_gsd_plans(data: st.DataObject) -> None:
    run_everything("---\n" + breakage(data.draw, data.draw(gsd())), "gsd")


@SLOW
@given(st.data())
def test_generated_checklists(data: st.DataObject) -> None:
    run_everything("---\n" + breakage(data.draw, data.draw(checklist())), "checklist")
