"""execute, status and next through the CLI, with real child processes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conftest import PlanWriter, Run, assert_no_traceback, run_cli


def execute(path: Path, *args: str) -> tuple[Run, dict[str, Any]]:
    run = run_cli("execute", path, "--root", path.parent, "--json", *args)
    assert_no_traceback(run)
    return run, json.loads(run.stdout)


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in doc["tasks"]}


def test_statuses_reasons_and_plan_order(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: missing, verify: "./no-such-script"}
          - {id: ok, verify: "test $PLANRUN_WAVE"}
          - {id: after, depends_on: [missing], verify: "test $PLANRUN_WAVE"}
          - {id: later, depends_on: [after], verify: "test $PLANRUN_WAVE"}
          - {id: human, kind: manual}
          - {id: nothing}
          - {id: expect, verify: [{run: "exit 2", expect_exit: 2}]}
          - {id: nowhere, verify: [{run: "test $PLANRUN_WAVE", cwd: "no/such/dir"}]}
          - {id: truths, must_haves: {truths: ["it works"]}}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    assert doc["schema_version"] == 1
    assert doc["status"] == "failed"
    assert [t["id"] for t in doc["tasks"]] == [
        "p/missing",
        "p/ok",
        "p/after",
        "p/later",
        "p/human",
        "p/nothing",
        "p/expect",
        "p/nowhere",
        "p/truths",
    ]
    tasks = by_id(doc)
    # A program given by path that is not there is the work not done: failed, and it blocks.
    assert tasks["p/missing"]["status"] == "failed"
    assert tasks["p/missing"]["exit_code"] == 127
    assert tasks["p/missing"]["reason"] == "exit 127 (command not found): `./no-such-script`"
    assert tasks["p/ok"]["status"] == "passed"
    assert tasks["p/after"]["status"] == "blocked"
    assert tasks["p/after"]["reason"] == "dependency p/missing did not pass: p/missing failed"
    assert tasks["p/later"]["reason"] == "dependency p/after did not pass: p/missing failed"
    assert tasks["p/human"]["status"] == "manual"
    assert tasks["p/nothing"]["status"] == "unverified"
    assert tasks["p/expect"]["status"] == "passed"
    assert tasks["p/nowhere"]["status"] == "failed"
    assert (
        tasks["p/nowhere"]["reason"]
        == 'cwd "no/such/dir" does not exist: `test $PLANRUN_WAVE` (line 11)'
    )
    # A must_haves block that yields no check is never a pass.
    assert tasks["p/truths"]["status"] == "manual"
    assert "No such file or directory" in Path(tasks["p/missing"]["log"]).read_text()


def test_text_output_prints_failing_command_and_tail(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        "planrun: 1\ntasks:\n  - {id: a, verify: 'echo boom; exit 3'}\n"
        "  - {id: b, verify: 'test $PLANRUN_WAVE'}\n",
    )
    run = run_cli("execute", path, "--root", path.parent)
    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert any(line.startswith("FAIL       p/a  ") for line in lines)
    assert any(line.startswith("PASS       p/b  ") for line in lines)
    assert "--- FAIL p/a: exit 3: `echo boom; exit 3`" in lines
    assert "$ echo boom; exit 3" in lines
    assert "  boom" in lines
    assert lines[-1].startswith("FAILED: 1 passed, 1 failed in ")


def test_environment_and_working_directory(write_plan: PlanWriter, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = write_plan(
        "p.md",
        """
        planrun: 1
        env: {GREETING: hello, PORT: 8080}
        tasks:
          - id: env
            verify: >-
              test "$GREETING $PORT $PLANRUN_PLAN $PLANRUN_TASK $PLANRUN_WAVE"
              = "hello 8080 p env 1"
          - id: cwd
            verify:
              - test "$(pwd)" = "$PLANRUN_ROOT"
              - {run: 'test "$(basename "$(pwd)")" = sub', cwd: sub}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 0, doc
    assert doc["status"] == "passed"


def test_must_haves_failures_name_what_was_found(write_plan: PlanWriter, tmp_path: Path) -> None:
    (tmp_path / "short.py").write_text("a = 1\n" * 41)
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: t
            must_haves:
              artifacts:
                - {path: short.py, min_lines: 60}
              key_links:
                - {from: short.py, to: x, pattern: "foo(("}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    assert by_id(doc)["p/t"]["reason"] == "short.py has 41 lines, needs at least 60 (and 1 more)"


def test_a_key_link_from_a_missing_makefile_fails(write_plan: PlanWriter, tmp_path: Path) -> None:
    # The task's own file has the pattern; read as a symbol, Makefile would pass on it.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "build.sh").write_text("build:\necho ok\n")
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: t
            files: [src/build.sh]
            must_haves:
              key_links:
                - {from: Makefile, to: src/build.sh, via: make target, pattern: "build:"}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    assert by_id(doc)["p/t"]["status"] == "failed"
    assert by_id(doc)["p/t"]["reason"] == "Makefile does not exist"


def test_wave_by_wave_on_a_chain(write_plan: PlanWriter) -> None:
    path = write_plan(
        "chain.md",
        """
        planrun: 1
        tasks:
          - {id: one, verify: "test $PLANRUN_WAVE"}
          - {id: two, depends_on: [one], verify: "test $PLANRUN_WAVE"}
          - {id: three, depends_on: [two], verify: "test $PLANRUN_WAVE"}
        """,
    )
    run, doc = execute(path, "--wave", "2")
    assert run.exit_code == 1
    [two] = doc["tasks"]
    assert two["status"] == "blocked"
    assert two["reason"] == (
        "dependency chain/one did not pass: chain/one has not run yet; "
        f"run: planrun execute {path} --wave 1"
    )
    forced, doc = execute(path, "--wave", "2", "--force")
    assert forced.exit_code == 0 and doc["tasks"][0]["status"] == "passed"
    first, doc = execute(path, "--wave", "1")
    assert first.exit_code == 0
    assert doc["status"] == "partial"
    second, doc = execute(path, "--wave", "2")
    assert second.exit_code == 0
    assert [t["id"] for t in doc["tasks"]] == ["chain/two"]
    bad = run_cli("execute", path, "--root", path.parent, "--wave", "7")
    assert bad.exit_code == 2
    assert bad.stderr == "planrun: error: there is no wave 7: the plans have 3 waves\n"


def test_a_changed_dependency_no_longer_counts_as_passed(write_plan: PlanWriter) -> None:
    text = (
        "planrun: 1\ntasks:\n  - {{id: one, verify: '{}'}}\n"
        "  - {{id: two, depends_on: [one], verify: 'true'}}\n"
    )
    path = write_plan("c.md", text.format("true"))
    execute(path, "--wave", "1")
    path.write_text("---\n" + text.format("test 1 = 1") + "---\n")
    _, doc = execute(path, "--wave", "2")
    assert doc["tasks"][0]["reason"].startswith(
        "dependency c/one did not pass: c/one changed since it passed"
    )


def test_task_failed_and_fail_fast_selection(write_plan: PlanWriter) -> None:
    path = write_plan(
        "s.md",
        """
        planrun: 1
        tasks:
          - {id: bad, verify: "false"}
          - {id: good, verify: "test $PLANRUN_WAVE"}
          - {id: other, depends_on: [good], verify: "test $PLANRUN_WAVE"}
        """,
    )
    _, doc = execute(path, "--task", "good", "--task", "s/other")
    assert [t["id"] for t in doc["tasks"]] == ["s/good", "s/other"]
    _, doc = execute(path, "--failed")
    assert [t["id"] for t in doc["tasks"]] == ["s/bad"]
    fresh = write_plan("ff.md", path.read_text().split("---")[1])  # no recorded durations
    _, doc = execute(fresh, "--fail-fast", "--jobs", "1")
    tasks = {k.replace("ff/", "s/"): v for k, v in by_id(doc).items()}
    # Longest remaining path first: good (2 deep) starts before bad; then bad (plan order).
    assert tasks["s/good"]["status"] == "passed"
    assert tasks["s/bad"]["status"] == "failed"
    assert tasks["s/other"]["status"] == "not_run"
    assert tasks["s/other"]["reason"] == "not started: --fail-fast stopped the run after ff/bad"
    unknown = run_cli("execute", path, "--task", "godo")
    assert unknown.exit_code == 2
    assert 'no task "godo" in these plans (did you mean "good"?)' in unknown.stderr


def test_invalid_plan_exits_2_and_runs_nothing(write_plan: PlanWriter, tmp_path: Path) -> None:
    path = write_plan(
        "p.md", "planrun: 1\ntasks:\n  - {id: a, depends_on: [b], verify: 'touch ran'}\n"
    )
    run = run_cli("execute", path, "--root", tmp_path)
    assert run.exit_code == 2
    assert 'error[unknown-dependency] task "a" depends on "b"' in run.stderr
    assert not (tmp_path / "ran").exists()


def test_dry_run_runs_nothing(write_plan: PlanWriter, tmp_path: Path) -> None:
    path = write_plan(
        "p.md",
        "planrun: 1\ntasks:\n  - {id: a, verify: 'touch ran'}\n"
        "  - {id: b, depends_on: [a], must_haves: {artifacts: [{path: ran}]}}\n",
    )
    run = run_cli("execute", path, "--root", tmp_path, "--dry-run")
    assert run.exit_code == 0
    assert run.stdout == (
        "would run 2 tasks, in this order:\n"
        "  wave 1  p/a\n      $ touch ran\n"
        "  wave 2  p/b\n      check artifact ran\n"
    )
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / ".planrun").exists()


def test_status_and_next(write_plan: PlanWriter) -> None:
    path = write_plan(
        "n.md",
        """
        planrun: 1
        tasks:
          - {id: a, verify: "test $PLANRUN_WAVE", files: [a.py]}
          - {id: b, depends_on: [a], verify: "false"}
          - {id: c, depends_on: [b], verify: "test $PLANRUN_WAVE"}
          - {id: d, verify: "test $PLANRUN_WAVE"}
        """,
    )
    before = json.loads(run_cli("next", path, "--root", path.parent, "--json").stdout)
    assert [t["id"] for t in before["tasks"]] == ["n/a", "n/d"]
    assert before["tasks"][0] == {
        "id": "n/a",
        "plan": "n",
        "name": "a",
        "wave": 1,
        "files": ["a.py"],
    }
    execute(path, "--task", "a")
    after = json.loads(run_cli("next", path, "--root", path.parent, "--json").stdout)
    assert [t["id"] for t in after["tasks"]] == ["n/b", "n/d"]
    status = json.loads(run_cli("status", path, "--root", path.parent, "--json").stdout)
    assert {t["id"]: t["status"] for t in status["tasks"]} == {
        "n/a": "passed",
        "n/b": "not_run",
        "n/c": "not_run",
        "n/d": "not_run",
    }
    assert status["milestones"][0] == {
        "id": "wave-1",
        "name": "Wave 1",
        "status": "partial",
        "passed": 1,
        "total": 2,
    }
    text = run_cli("status", path, "--root", path.parent)
    assert text.stdout.splitlines()[0].startswith("PASS       n/a")


def test_junit(write_plan: PlanWriter, tmp_path: Path) -> None:
    path = write_plan(
        "j.md",
        "planrun: 1\ntasks:\n  - {id: a, verify: 'echo nope; exit 1'}\n"
        "  - {id: b, verify: 'true'}\n  - {id: c, kind: manual}\n",
    )
    run_cli("execute", path, "--root", tmp_path, "--junit", tmp_path / "out" / "junit.xml")
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (
        "j",
        "3",
        "1",
        "1",
    )
    failure = suite.find("testcase[@name='a']/failure")
    assert failure is not None and "nope" in (failure.text or "")


def test_a_script_too_long_for_a_command_line_is_an_error(write_plan: PlanWriter) -> None:
    # Linux takes at most 128 KiB in one argument: bash -c cannot be given the script, which
    # says nothing of the work (an error, not a failure).
    lines = "\n".join(f"          test -n x{i}" for i in range(12_000))
    path = write_plan(
        "p.md", f"planrun: 1\ntasks:\n  - id: long\n    verify:\n      - run: |\n{lines}"
    )
    run, doc = execute(path)
    task = by_id(doc)["p/long"]
    assert task["status"] == "error"
    assert task["reason"].startswith("cannot start: [Errno 7] Argument list too long")
    assert "(a script this long cannot be given to a shell: run it from a file)" in task["reason"]
    assert run.exit_code == 1
