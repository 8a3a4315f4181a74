"""Trustworthy verdicts (issue 10, execution side): shell semantics, evidence rules, the
``error`` and ``stale`` statuses, what blocks, nothing selected. Real child processes."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import PlanWriter, execute, run_cli, tasks
from planrun.checkrules import read
from planrun.errors import UsageError
from planrun.proc import shell_argv


def one_task(write_plan: PlanWriter, verify: str, *extra: str) -> Path:
    lines = ["planrun: 1", "tasks:", "  - id: t", "    verify:", f"      - run: {verify}", *extra]
    return write_plan("p.md", "\n".join(lines))


# -- shell semantics: bash --noprofile --norc -eo pipefail


def test_a_pipeline_fails_when_its_first_command_fails(write_plan: PlanWriter) -> None:
    run, doc = execute(one_task(write_plan, "'false | tail -5'"))
    assert run.exit_code == 1
    assert tasks(doc)["p/t"] == ("failed", "exit 1: `false | tail -5` (line 6)")


def test_a_failing_line_of_a_script_fails_it_and_is_named(write_plan: PlanWriter) -> None:
    script = "|\n          test $PLANRUN_WAVE\n          test -f no-such-file.txt\n"
    script += "          test $PLANRUN_WAVE"
    run, doc = execute(one_task(write_plan, script))
    assert run.exit_code == 1
    assert tasks(doc)["p/t"] == (
        "failed",
        (
            "exit 1: `test -f no-such-file.txt` (line 2 of the script) in "
            "`test $PLANRUN_WAVE; test -f no-such-file.txt; t...` (line 6)"
        ),
    )


def test_a_users_own_set_plus_e_behaves_as_written(write_plan: PlanWriter) -> None:
    script = "|\n          set +e\n          false\n          test $PLANRUN_WAVE"
    run, doc = execute(one_task(write_plan, script))
    assert run.exit_code == 0
    assert tasks(doc)["p/t"] == ("passed", None)


def test_cd_and_heredoc_work_in_a_script(write_plan: PlanWriter, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "here.txt").write_text("x\n")
    script = "|\n          cd sub && test -f here.txt\n          cat <<EOF | grep -q if\n"
    script += "          if\n          EOF"
    run, doc = execute(one_task(write_plan, script))
    assert run.exit_code == 0, doc
    assert tasks(doc)["p/t"] == ("passed", None)


HIDDEN_BY_TAIL = (
    "unverified",
    (
        "its only checks can never fail: `false | tail -5` (line 6; the shell runs without "
        "pipefail, and the `| tail -5` hides a failure of `false`, line 1 of the script)"
    ),
)


def test_a_plans_shell_restores_plain_bash_and_is_judged_as_it_runs(
    write_plan: PlanWriter,
) -> None:
    # Plain bash -c: no pipefail, so `false | tail -5` exits 0, and no -e, so a failing line
    # before the last is passed over. Neither exit 0 shows anything: unverified, never PASS.
    run, doc = execute(one_task(write_plan, "'false | tail -5'", "shell: bash"))
    assert run.exit_code == 1
    assert tasks(doc)["p/t"] == HIDDEN_BY_TAIL
    script = "|\n          test -f no-such-file.txt\n          echo checked"
    run, doc = execute(one_task(write_plan, script, "shell: bash"))
    # The ERR trap saw `test -f` fail: that, not only that it could, is the reason.
    assert tasks(doc)["p/t"] == (
        "unverified",
        (
            "its shell runs without -e and went on after `test -f no-such-file.txt` failed at "
            "line 1 of the script (add `set -e` first, or `|| true` where a failure does not "
            "matter): `test -f no-such-file.txt ⏎ echo checked` (line 6)"
        ),
    )
    path = one_task(write_plan, script, "shell: bash")
    (path.parent / "no-such-file.txt").write_text("")
    run, doc = execute(path)
    # With the file there, the trap recorded no failure: each line's check passed.
    assert tasks(doc)["p/t"] == (
        "passed",
        (
            "judged by `test -f no-such-file.txt; echo checked`: its exit status shows nothing, "
            "but planrun's ERR trap saw none of its commands fail"
        ),
    )
    # What can fail under that shell still decides.
    run, doc = execute(one_task(write_plan, "'true | false'", "shell: bash"))
    assert tasks(doc)["p/t"][0] == "failed"
    script = "|\n          set -eo pipefail\n          false | tail -5"
    run, doc = execute(one_task(write_plan, script, "shell: bash"))
    assert tasks(doc)["p/t"][0] == "failed"


def test_the_configured_shell_applies_and_a_missing_one_is_a_usage_error(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = one_task(write_plan, "'false | tail -5'")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "planrun.toml").write_text('shell = "bash -c"\n')
    assert tasks(execute(path)[1])["p/t"] == HIDDEN_BY_TAIL  # plain bash: no pipefail
    (tmp_path / "planrun.toml").write_text('shell = "no-such-shell-xyz"\n')
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 2
    assert 'the configured shell "no-such-shell-xyz" was not found on PATH' in run.stderr


def test_a_prp_block_whose_middle_line_fails_fails(tmp_path: Path) -> None:
    # The PRP bug: "if" in the echo joined the lines into one script; the last line won.
    path = tmp_path / "prp.md"
    path.write_text(
        "# PRP: build\n\n## Validation Loop\n\n### Level 1: Syntax\n\n"
        "```bash\necho checking if it builds\nfalse\ntrue\n```\n"
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    assert tasks(doc)["prp/level-1"] == ("failed", "exit 1: `false` (line 9)")


def test_a_timeout_names_its_limit(write_plan: PlanWriter) -> None:
    run, doc = execute(one_task(write_plan, "'sleep 30'", "        timeout: 1"))
    assert run.exit_code == 1
    assert tasks(doc)["p/t"] == ("timeout", "timed out after 1 s: `sleep 30` (line 6)")


# -- evidence rules


@pytest.mark.parametrize(
    ("script", "run", "must_fail", "note"),
    [
        ("pytest tests/x.py || true", "pytest tests/x.py", False, "the `|| true`"),
        ('pytest -q 2>/dev/null || echo "RUN_LATER"', "pytest -q 2>/dev/null", False, "`|| echo`"),
        ("make check; exit 0", "make check", False, "the `; exit 0`"),
        ("make check; true", "make check", False, "the `; true`"),
        ("make check || exit 0", "make check", False, "the `|| exit 0`"),
        ("grep -q x f && echo PASS || echo FAIL", "grep -q x f", False, "the `|| echo`"),
        ('test -e a && echo "FAIL: a still exists" || echo "PASS"', "test -e a", True, "runs"),
        ("cd sub\npytest || true", "cd sub\npytest", False, "the `|| true`"),
    ],
)
def test_a_masked_command_is_what_is_judged(
    script: str, run: str, must_fail: bool, note: str
) -> None:
    reading = read(script)
    assert (reading.run, reading.must_fail, reading.never_fails) == (run, must_fail, False)
    assert reading.original == script
    assert reading.note is not None and note in reading.note


@pytest.mark.parametrize(
    "script",
    [
        "true",
        "echo done",
        "true || true",
        "exit 0",
        "a && echo ERROR || echo ERROR",
        "set +e\nfoo\nexit 0",
    ],
)
def test_a_check_that_masks_nothing_nameable_can_never_fail(script: str) -> None:
    assert read(script).never_fails


@pytest.mark.parametrize("script", ["pytest", "a || b", "make; echo done", "set +e\nfoo\nbar"])
def test_a_check_that_can_fail_runs_as_written(script: str) -> None:
    assert read(script) == read(script).__class__(script)


def test_or_echo_is_judged_by_the_command_it_hides(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: hidden, verify: "test -f missing.txt || echo 'RUN_TESTS_LATER'"}
          - {id: shown, verify: "test -f p.md || echo 'RUN_TESTS_LATER'"}
          - {id: gone, verify: "test -f old.py && echo 'FAIL: old.py still exists' || echo PASS"}
          - {id: there, verify: "test -f p.md && echo 'FAIL: p.md still exists' || echo PASS"}
          - {id: nothing, verify: "echo done"}
          - {id: script, verify: "./check.sh && echo 'FAIL: still broken' || echo PASS"}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/hidden"] == (
        "failed",
        "exit 1: `test -f missing.txt` (the `|| echo` would hide its failure)",
    )
    assert found["p/shown"] == (
        "passed",
        "judged by `test -f p.md`: the `|| echo` would hide its failure",
    )
    assert found["p/gone"] == (
        "passed",
        (
            "judged by `test -f old.py`, which must fail: "
            "`echo 'FAIL: old.py still exists'` runs when it succeeds"
        ),
    )
    assert found["p/there"] == (
        "failed",
        (
            "exit 0 (expected a failure): `test -f p.md` "
            "(it must fail: `echo 'FAIL: p.md still exists'` runs when it succeeds)"
        ),
    )
    assert found["p/nothing"] == ("unverified", "its only checks can never fail: `echo done`")
    # A check that must fail is not passed by a script that is not there at all.
    assert found["p/script"] == (
        "failed",
        (
            "exit 127 (command not found): `./check.sh` "
            "(it must fail: `echo 'FAIL: still broken'` runs when it succeeds)"
        ),
    )
    command = next(t for t in doc["tasks"] if t["id"] == "p/hidden")
    assert command["reason"].startswith("exit 1")


def test_a_test_run_that_ran_no_tests_is_unverified(write_plan: PlanWriter, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    py = sys.executable
    path = write_plan(
        "p.md",
        f"""
        planrun: 1
        tasks:
          - {{id: pytest, verify: "{py} -m pytest -q -p no:cacheprovider empty"}}
          - {{id: unittest, verify: "{py} -c \\"print('Ran 0 tests in 0.000s')\\""}}
          - {{id: cargo, verify: "printf 'running 0 tests\\\\ntest result: ok. 0 passed\\\\n'"}}
          - {{id: go, verify: "printf '?   \\\\tpkg\\\\t[no test files]\\\\n'"}}
          - {{id: some, verify: "printf 'running 3 tests\\\\nrunning 0 tests\\\\n'"}}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/pytest"] == (
        "unverified",
        f"ran no tests: `{py} -m pytest -q -p no:cacheprovider empty`",
    )
    assert found["p/unittest"][0] == "unverified"
    assert found["p/cargo"][0] == "unverified"
    assert found["p/go"][0] == "unverified"
    # cargo's doc tests print "running 0 tests" after the unit tests ran: that is a run.
    assert found["p/some"][0] == "unverified"  # a printf alone can never fail either
    assert found["p/some"][1] == (
        "its only checks can never fail: `printf 'running 3 tests\\nrunning 0 tests\\n'`"
    )


# -- error: could not run here


def test_a_program_missing_from_path_is_an_error_that_blocks_nothing(
    write_plan: PlanWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: tool, verify: "py -3.14 -m pytest"}
          - {id: after, depends_on: [tool], verify: "test $PLANRUN_WAVE"}
          - {id: script, verify: "./bin/check"}
        """,
        body="",
    )
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `py` launcher, whatever the machine has
    junit = path.parent / "junit.xml"
    run, doc = execute(path, "--junit", junit)
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/tool"] == (
        "error",
        "could not run: `py` was not found on PATH: `py -3.14 -m pytest`",
    )
    assert found["p/after"] == ("passed", "depends on error p/tool")
    assert found["p/script"] == ("failed", "exit 127 (command not found): `./bin/check`")
    case = next(c for c in ET.parse(junit).iter("testcase") if c.get("name") == "tool")
    error = case.find("error")
    assert error is not None and error.get("type") == "error"


def test_a_program_on_path_that_is_not_executable_is_an_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "checker").write_text("#!/bin/sh\nexit 0\n")
    path = write_plan(
        "p.md",
        f"""
        planrun: 1
        env: {{PATH: "{tmp_path / "bin"}:/usr/bin:/bin"}}
        tasks:
          - {{id: t, verify: checker}}
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    checker = tmp_path / "bin" / "checker"
    assert tasks(doc)["p/t"] == (
        "error",
        f"could not run: `{checker}` is not executable: `checker`",
    )


# -- blocking


def test_items_without_checks_do_not_block_the_plans_validation_commands(tmp_path: Path) -> None:
    path = tmp_path / "tasks.md"
    path.write_text(
        "# Tasks: feature\n\n## Phase 1\n\n- [ ] T001 Write the model\n"
        "- [ ] T002 Wire the route\n\n## Test / Validation\n\n- `test $PLANRUN_WAVE`\n"
    )
    run, doc = execute(path)
    assert run.exit_code == 1  # nothing showed the items work
    found = tasks(doc)
    assert found["tasks/T001"][0] == "unverified"
    assert found["tasks/T002"] == (
        "unverified",
        (
            "nothing verifies it: no verify command and no must_haves check; "
            "depends on unverified tasks/T001"
        ),
    )
    assert found["tasks/@checks"][0] == "passed"
    assert "depends on unverified tasks/T001" in str(found["tasks/@checks"][1])
    # Both items still need work (a way to verify them): next lists them.
    nxt = json.loads(run_cli("next", path, "--root", tmp_path, "--json").stdout)
    assert [t["id"] for t in nxt["tasks"]] == ["tasks/T001", "tasks/T002"]


# -- stale


def test_a_changed_check_makes_a_recorded_pass_stale(write_plan: PlanWriter) -> None:
    plan = """
        planrun: 1
        tasks:
          - {{id: a, verify: "{verify}"}}
          - {{id: b, depends_on: [a], verify: "test $PLANRUN_WAVE"}}
        """
    path = write_plan("p.md", plan.format(verify="test $PLANRUN_WAVE"))
    assert execute(path)[0].exit_code == 0
    write_plan("p.md", plan.format(verify="exit 1"))
    status = run_cli("status", path, "--root", path.parent)
    reason = "its commands or checks changed since it passed"
    line = next(x for x in status.stdout.splitlines() if x.startswith("STALE      p/a  "))
    assert line.endswith(f"s  ({reason})")
    doc = json.loads(run_cli("status", path, "--root", path.parent, "--json").stdout)
    assert tasks(doc)["p/a"] == ("stale", reason)
    assert doc["status"] == "failed"
    assert [m["status"] for m in doc["milestones"]] == ["pending", "done"]  # wave 1 is a
    nxt = json.loads(run_cli("next", path, "--root", path.parent, "--json").stdout)
    assert [t["id"] for t in nxt["tasks"]] == ["p/a"]
    gated = run_cli("execute", path, "--root", path.parent, "--wave", "2", "--no-summary")
    assert gated.exit_code == 1
    assert "p/a changed since it passed" in gated.stdout


# -- nothing selected


def test_nothing_selected_exits_5_and_keeps_the_summary(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "notes.md").write_text("# Notes\n\nJust prose.\n")
    run = run_cli("execute", plans, "--root", tmp_path)
    assert run.exit_code == 5
    assert f"nothing selected: no plans found in {plans}" in run.stderr
    assert not (plans / "SUMMARY.md").exists()


def test_a_filter_that_matches_nothing_exits_5(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: a, verify: "test $PLANRUN_WAVE"}
          - {id: b, depends_on: [a], verify: "test $PLANRUN_WAVE"}
        """,
    )
    run = run_cli("execute", path, "--root", path.parent, "--wave", "2", "--task", "a")
    assert run.exit_code == 5
    assert f"nothing selected: no task matches --wave 2 --task a in {path}" in run.stderr
    assert not (path.parent / "SUMMARY.md").exists()
    # With --failed, a matching task that passed last time is not selected either: it is named.
    assert run_cli("execute", path, "--root", path.parent, "--wave", "1").exit_code == 0
    run = run_cli("execute", path, "--root", path.parent, "--wave", "1", "--failed")
    assert run.exit_code == 5
    assert f"nothing selected: no task matches --wave 1 --failed in {path}" in run.stderr


# -- --avoid-conflicts


def test_execute_avoid_conflicts_moves_the_later_task_and_runs_them_apart(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    lock = tmp_path / "lock"
    # Each task fails if the other holds the file's lock; run together, one would see it.
    check = f"mkdir {lock} && sleep 0.2 && rmdir {lock}"
    path = write_plan(
        "p.md",
        f"""
        planrun: 1
        tasks:
          - {{id: a, files: [x.py], verify: "{check}"}}
          - {{id: b, files: [x.py], verify: "{check}"}}
        """,
    )
    run, doc = execute(path, "--avoid-conflicts", "--jobs", "2")
    assert run.exit_code == 0, doc
    assert {t["id"]: t["wave"] for t in doc["tasks"]} == {"p/a": 1, "p/b": 2}
    run, doc = execute(path, "--avoid-conflicts", "--wave", "2", "--force")
    assert [t["id"] for t in doc["tasks"]] == ["p/b"]


def test_the_summary_shows_why_a_pass_is_weak_or_absent(write_plan: PlanWriter) -> None:
    plan = """
        planrun: 1
        tasks:
          - {{id: a, verify: "{verify}"}}
          - {{id: masked, verify: "test $PLANRUN_WAVE || echo later"}}
          - {{id: tool, verify: "no-such-tool-xyz --check"}}
          - {{id: after, depends_on: [tool], verify: "test $PLANRUN_WAVE"}}
        """
    path = write_plan("p.md", plan.format(verify="test $PLANRUN_WAVE"))
    assert execute(path)[0].exit_code == 1
    write_plan("p.md", plan.format(verify="exit 1"))
    out = path.parent / "S.md"
    assert run_cli("summary", path, "--root", path.parent, "-o", out).exit_code == 0
    rows = {line.split("`")[1]: line for line in out.read_text().splitlines() if "| `p/" in line}
    assert rows["p/a"].startswith("| `p/a` a | ♻️ stale |")
    assert "its commands or checks changed since it passed |" in rows["p/a"]
    # The reason is escaped like all plan text in SUMMARY.md: backticks and pipes as text.
    assert (
        "✅ passed | 0.0s | 0 | todo → passed | judged by \\`test $PLANRUN_WAVE\\`: "
        "the \\`\\|\\| echo\\`" in (rows["p/masked"])
    )
    assert "| ⚠️ error |" in rows["p/tool"]
    assert "could not run: \\`no-such-tool-xyz\\` was not found on PATH" in rows["p/tool"]
    assert rows["p/after"].endswith("| depends on error p/tool |")
    assert "✅" not in rows["p/a"] + rows["p/tool"]


def test_validate_warns_about_windows_launchers_and_notes_pipefail(
    write_plan: PlanWriter,
) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: a
            verify:
              - run: py -3.14 -m pytest tests
              - run: cmd /c dir && tools\\\\check.exe
              - run: pytest -q | tail -5
        """,
    )
    run = run_cli("validate", path)
    assert run.exit_code == 0
    out = run.stdout
    assert (
        f'{path}:6: warning[machine-path] task "a": verify starts "py -3.14", which exists only '
        "on Windows; on other machines the check cannot run (error)"
    ) in out
    assert 'verify starts "cmd /c"' in out
    assert 'verify starts "tools\\\\check.exe"' in out
    assert (
        f'{path}:8: warning[verify-never-fails] task "a": verify `pytest -q | tail -5` can never '
        'fail: the pipeline ends in "| tail", whose exit code (0) hides the command\'s where it '
        "runs without pipefail (planrun itself runs it with pipefail; agents and other runners "
        "often do not)"
    ) in out


def test_wave_gating_treats_a_pass_whose_inputs_changed_as_stale(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: a, files: [a.txt], verify: "test -f a.txt"}
          - {id: b, depends_on: [a], verify: "test $PLANRUN_WAVE"}
        """,
    )
    (path.parent / "a.txt").write_text("one\n")
    assert execute(path)[0].exit_code == 0
    (path.parent / "a.txt").write_text("two\n")
    run, doc = execute(path, "--wave", "2")
    assert run.exit_code == 1
    assert tasks(doc)["p/b"] == (
        "blocked",
        (
            "dependency p/a did not pass: p/a is stale: its inputs changed since it passed; "
            f"run: planrun execute {path} --wave 1"
        ),
    )


def test_without_bash_scripts_run_with_sh_e(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bash to be found
    assert shell_argv() == ("/bin/sh", "-e", "-c")
    with pytest.raises(UsageError, match='the configured shell "bash" was not found on PATH'):
        shell_argv("bash")


def test_sh_reports_a_missing_program_too(write_plan: PlanWriter) -> None:
    path = one_task(write_plan, "'true; no-such-tool-xyz'", "shell: sh -e -c")
    run, doc = execute(path)
    assert run.exit_code == 1
    assert tasks(doc)["p/t"] == (
        "error",
        (
            "could not run: `no-such-tool-xyz` was not found on PATH: `true; no-such-tool-xyz` "
            "(line 6)"
        ),
    )


def test_an_expected_output_is_judged_on_the_last_commands_output(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    """A multi-line script's count is the last command's: a command before it that stops the
    script (its error line is no count, its exit 1 no "no match") fails it, and the line
    planrun's own ERR trap prints is not counted."""
    (tmp_path / "a.md").write_text("API here\n")
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - id: early
            verify:
              - run: "cd nothere\\ngrep -l API *.md"
                expect_output: count >= 1
          - id: zero
            verify:
              - run: "test -f a.md\\ngrep -c NOPE a.md"
                expect_output: count == 0
          - id: found
            verify:
              - run: "test -f a.md\\ngrep -l API *.md"
                expect_output: count >= 1
        """,
    )
    run, doc = execute(path)
    assert run.exit_code == 1
    assert tasks(doc) == {
        "p/early": (
            "failed",
            (
                "exit 1, stopped at line 1 of the script, before its last command (expected "
                "output: count >= 1): `cd nothere` (line 1 of the script) "
                "in `cd nothere; grep -l API *.md` (line 6)"
            ),
        ),
        "p/zero": ("passed", None),
        "p/found": ("passed", None),
    }
    # Under a shell without -e the script goes on after `cd nothere` (the ERR trap still names
    # it) and exits 0: not stopped, so what it printed decides, as after a `set +e` (here
    # bash's error line and grep's count: two lines).
    run, doc = execute(
        write_plan(
            "q.md",
            """
            planrun: 1
            shell: bash
            tasks:
              - id: goes_on
                verify:
                  - run: "cd nothere\\ngrep -c API a.md"
                    expect_output: count == 1
            """,
        )
    )
    assert tasks(doc)["q/goes_on"] == (
        "failed",
        "count 2 (expected output: count == 1): `cd nothere ⏎ grep -c API a.md` (line 7)",
    )


@pytest.mark.parametrize(
    ("shell", "why"),
    [
        ("", "syntax error near unexpected token `('"),
        ("shell: sh", 'Syntax error: "(" unexpected'),
    ],
)
def test_a_check_the_shell_cannot_parse_is_an_error_not_a_failure(
    write_plan: PlanWriter, shell: str, why: str
) -> None:
    # Prose in a verify field never ran: it shows nothing about the work either way.
    run, doc = execute(one_task(write_plan, "'pytest tests/ (all passing)'", shell))
    assert run.exit_code == 1
    assert tasks(doc)["p/t"] == (
        "error",
        (
            f"could not run: the shell cannot parse the check ({why}): "
            "`pytest tests/ (all passing)` (line 6)"
        ),
    )


def test_validate_warns_of_a_verify_every_command_of_which_succeeds(
    write_plan: PlanWriter,
) -> None:
    path = write_plan(
        "p.md",
        "planrun: 1\ntasks:\n  - {id: a, verify: 'true'}\n  - {id: b, verify: 'echo done'}\n"
        "  - {id: c, verify: 'test -f p.md'}\n",
    )
    run = run_cli("validate", path)
    assert run.stdout.splitlines() == [
        (
            f'{path}:4: warning[verify-never-fails] task "a": verify `true` can never fail: '
            "every command of it succeeds wherever it runs, so it is no evidence (alone, the "
            "task is unverified)"
        ),
        "    hint: check what the task made: run its tests, `test -f FILE`, `grep -q TEXT FILE`",
        (
            f'{path}:5: warning[verify-never-fails] task "b": verify `echo done` can never fail: '
            "every command of it succeeds wherever it runs, so it is no evidence (alone, the "
            "task is unverified)"
        ),
        "    hint: check what the task made: run its tests, `test -f FILE`, `grep -q TEXT FILE`",
        "1 plan, 3 tasks: 0 errors, 2 warnings.",
    ]


def test_a_program_that_reports_a_syntax_error_is_judged_by_its_exit(
    write_plan: PlanWriter,
) -> None:
    # The check parses: the words are the tested program's, about its own input.
    say = 'import sys; print("bash: -c: line 1: syntax error near unexpected token `(\'", '
    say += "file=sys.stderr); sys.exit(2)"
    path = write_plan("p.md", "planrun: 1\ntasks:\n  - id: t\n    verify:\n      - run: x\n")
    (path.parent / "p.py").write_text(say + "\n")
    for extra, status in (("", "failed"), ("        expect_exit: 2\n", "passed")):
        path.write_text(
            "---\nplanrun: 1\ntasks:\n  - id: t\n    verify:\n"
            f"      - run: {json.dumps(sys.executable + ' p.py')}\n{extra}---\n"
        )
        assert tasks(execute(path)[1])["p/t"][0] == status
