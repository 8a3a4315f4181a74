"""A check is judged as its shell runs it: a plan's `shell: bash` (plain `bash -c`) has no -e and
no pipefail, so a failure they would catch is ignored there, and an exit 0 shows nothing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from conftest import run_cli
from planrun.errexit import ShellFlags, declared_flags, shell_flags


@pytest.mark.parametrize(
    ("words", "flags"),
    [
        (
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"],
            ShellFlags(errexit=True, pipefail=True),
        ),
        (["bash", "-c"], ShellFlags(errexit=False, pipefail=False)),
        (["bash"], ShellFlags(errexit=False, pipefail=False)),
        (["/bin/sh", "-e", "-c"], ShellFlags(errexit=True, pipefail=False)),
        (["bash", "-euo", "pipefail", "-c"], ShellFlags(errexit=True, pipefail=True)),
        (["bash", "-o", "errexit", "-c"], ShellFlags(errexit=True, pipefail=False)),
        (["bash", "-e", "+e", "-c"], ShellFlags(errexit=False, pipefail=False)),
        (["zsh", "-o", "pipefail", "-c"], ShellFlags(errexit=False, pipefail=True)),
        # A wrapper's own options are not the shell's.
        (["stdbuf", "-eL", "bash", "-c"], ShellFlags(errexit=False, pipefail=False)),
        (
            ["docker", "exec", "-e", "CI=1", "box", "sh", "-c"],
            ShellFlags(errexit=False, pipefail=False),
        ),
        (["stdbuf", "-oL", "/bin/bash", "-e", "-c"], ShellFlags(errexit=True, pipefail=False)),
        (["python3", "-c"], ShellFlags(errexit=False, pipefail=False)),
    ],
)
def test_the_flags_of_a_shell_command_line(words: list[str], flags: ShellFlags) -> None:
    assert shell_flags(words) == flags


def test_a_plans_shell_as_written() -> None:
    assert declared_flags(None) == ShellFlags(errexit=True, pipefail=True)  # planrun's default
    assert declared_flags("bash") == ShellFlags(errexit=False, pipefail=False)  # runs `bash -c`
    assert declared_flags("bash -e -c") == ShellFlags(errexit=True, pipefail=False)
    # A shell that cannot be read: execute refuses it; the default's flags meanwhile.
    assert declared_flags("bash 'unclosed") == ShellFlags(errexit=True, pipefail=True)


def _plan(tmp_path: Path, shell: str | None) -> Path:
    head = f"shell: {shell}\n" if shell else ""
    path = tmp_path / "p.md"
    path.write_text(
        f"---\nplanrun: 1\nid: p\n{head}tasks:\n"
        "  - {id: pipe, verify: 'false | cat'}\n"
        "  - id: lines\n    verify:\n"
        '      - run: "test -f nothere.txt\\necho checked"\n'
        "---\n"
    )
    return path


def test_validate_warns_of_what_a_plain_bash_ignores(tmp_path: Path) -> None:
    run = run_cli("validate", _plan(tmp_path, "bash"))
    assert run.exit_code == 0
    src = tmp_path / "p.md"
    assert run.stdout.splitlines() == [
        (
            f'{src}:6: warning[verify-failure-ignored] task "pipe": verify `false | cat`: the '
            "shell runs without pipefail, and the `| cat` hides a failure of `false` (line 1 of "
            "the script), so it does not fail the check"
        ),
        "    hint: add `set -o pipefail` first, or drop the `| cat`",
        (
            f'{src}:9: warning[verify-failure-ignored] task "lines": verify `test -f nothere.txt '
            "⏎ echo checked`: the shell runs without -e, and a failure of `test -f nothere.txt` "
            "does not stop it (line 1 of the script): if it fails, the check is unverified"
        ),
        "    hint: add `set -e` first, or `|| true` where a failure does not matter",
        "1 plan, 2 tasks: 0 errors, 2 warnings.",
    ]


def test_under_the_default_shell_the_same_checks_fail(tmp_path: Path) -> None:
    path = _plan(tmp_path, None)
    # Only the warning that other runners may lack pipefail: planrun's own run catches both.
    assert "verify-failure-ignored" not in run_cli("validate", path).stdout
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 1
    assert "FAIL       p/pipe" in run.stdout
    assert "FAIL       p/lines" in run.stdout


def test_a_pipe_into_sed_hides_a_failure_without_pipefail(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text(
        "---\nplanrun: 1\nid: p\nshell: bash\ntasks:\n"
        "  - {id: t, verify: 'grep x nothere.txt | sed s/a/b/'}\n---\n"
    )
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 1
    assert run.stdout.startswith("UNVERIFIED p/t"), run.stdout


def test_validate_warns_under_the_configured_shell_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _plan(tmp_path, None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "planrun.toml").write_text('shell = "bash -c"\n')
    run = run_cli("validate", path)
    assert run.stdout.count("warning[verify-failure-ignored]") == 2, run.stdout
    # A plan's own shell wins over the configured one.
    run = run_cli("validate", _plan(tmp_path, '"bash -eo pipefail -c"'))
    assert "verify-failure-ignored" not in run.stdout


def _went_on(tmp_path: Path, shell: str, *scripts: str) -> dict[str, object]:
    verify = "".join(f"      - {json.dumps(s)}\n" for s in scripts)
    path = tmp_path / "p.md"
    path.write_text(
        f"---\nplanrun: 1\nid: p\nshell: {shell}\ntasks:\n  - id: t\n    verify:\n{verify}---\n"
    )
    (tmp_path / "b").write_text("")
    (tmp_path / ".planrun").mkdir(exist_ok=True)
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary", "--json", "--fresh")
    task: dict[str, object] = json.loads(run.stdout)["tasks"][0]
    return task


FIX = "(add `set -e` first, or `|| true` where a failure does not matter)"


def test_a_failure_a_shell_without_e_went_on_after_is_no_pass(tmp_path: Path) -> None:
    # `test -f a` failed: the script's exit 0 (from `test -f b`) does not show `a` is there.
    task = _went_on(tmp_path, "bash", "test -f a\ntest -f b\n")
    assert task["status"] == "unverified"
    assert task["reason"] == (
        "its shell runs without -e and went on after `test -f a` failed at line 1 of the "
        f"script {FIX}: `test -f a ⏎ test -f b` (line 8)"
    )


def test_another_commands_pass_does_not_outweigh_it(tmp_path: Path) -> None:
    task = _went_on(tmp_path, "bash", "test -f b", "test -f a; test -f b")
    assert task["status"] == "unverified"
    assert task["reason"] == (
        f"its shell runs without -e and went on after `test -f a` failed {FIX}: "
        "`test -f a; test -f b` (line 9)"
    )


def test_a_loop_that_went_on_after_a_failure(tmp_path: Path) -> None:
    task = _went_on(tmp_path, "bash", "for f in a b; do\n  test -f $f\ndone\n")
    assert task["status"] == "unverified"
    assert "went on after `test -f $f` failed at line 2 of the script" in str(task["reason"])


def test_the_failure_is_found_after_much_output(tmp_path: Path) -> None:
    # Much output after the failure: the record is in a file, not in the bounded tail.
    task = _went_on(tmp_path, "bash", "test -f a\nseq 5000\n")
    assert task["status"] == "unverified"
    assert "`test -f a` failed at line 1" in str(task["reason"])


@pytest.mark.parametrize(
    "script",
    [
        "set +e\ntest -f a\ntest -f b\n",  # the script's own choice
        "test -f a\nif [ $? -ne 0 ]; then echo no a; fi\ntest -f b\n",  # it reads the status
        "test -f a || true\ntest -f b\n",  # a failure that does not matter, said so
        "test -f b\ntest -f b\n",  # nothing failed
    ],
)
def test_a_failure_the_script_chose_to_go_on_after_passes(tmp_path: Path, script: str) -> None:
    task = _went_on(tmp_path, "bash", script)
    assert task["status"] == "passed", task["reason"]


def test_under_a_shell_with_e_the_failure_stops_the_script(tmp_path: Path) -> None:
    task = _went_on(tmp_path, '"bash -e -c"', "test -f a\ntest -f b\n")
    assert task["status"] == "failed"


def test_an_expected_output_after_a_set_plus_e_failure_is_judged_by_it(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text(
        "---\nplanrun: 1\nid: p\ntasks:\n  - id: t\n    verify:\n"
        '      - run: "set +e\\nfalse\\necho done"\n        expect_output: "count 1"\n---\n'
    )
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary")
    assert run.exit_code == 0, run.stdout


def test_a_set_that_leaves_e_alone_is_no_choice_to_go_on(tmp_path: Path) -> None:
    task = _went_on(tmp_path, "bash", "set -x\ntest -f a\ntest -f b\n")
    assert task["status"] == "unverified"


# What trying to break it found: every one of these passed.
@pytest.mark.parametrize(
    ("name", "script", "extra"),
    [
        # grep's exit 1 is "no match" for an expected output: the failure before it counts.
        ("expected output", "test -f a\ngrep TODO b\n", "        expect_output: empty\n"),
        ("one line", "test -f a; grep TODO b", "        expect_output: empty\n"),
        # Output without a final line break does not hide the traps' lines.
        ("no final newline", "test -f a\nprintf hi\n", ""),
        ("in a function", "f() { test -f a; test -f b; }\nf\n", ""),
        ("in a subshell", "(test -f a; test -f b)\n", ""),
        ("own EXIT trap", "trap 'rm -f tmpfile' EXIT\ntest -f a\ntest -f b\n", ""),
        ("own ERR trap", "trap 'echo failed >&2' ERR\ntest -f a\ntest -f b\n", ""),
        ("exec at the end", "test -f a\nexec test -f b\n", ""),
        ("exec redirect", "exec 2>/dev/null\ntest -f a\ntest -f b\n", ""),
        ("$? of another command", "test -f a\ngrep -q x b\nrc=$?\ntest $rc -eq 1\n", ""),
        ("$? in a comment", "test -f a\ntest -f b  # exits with $? of test\n", ""),
        ("set -e after it", "test -f a; set -e; test -f b", ""),
        ("sourced", ". ./lib.sh\ntrue\nset +e\ntest -f b\n", ""),
    ],
)
def test_a_failure_passed_over_is_seen_however_the_script_is_written(
    tmp_path: Path, name: str, script: str, extra: str
) -> None:
    (tmp_path / "lib.sh").write_text("true\ntrue\ntest -f a\n")
    path = tmp_path / "p.md"
    head = "---\nplanrun: 1\nid: p\nshell: bash\ntasks:\n  - id: t\n    verify:\n"
    path.write_text(f"{head}      - run: {json.dumps(script)}\n{extra}---\n")
    (tmp_path / "b").write_text("")
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary", "--json")
    task = json.loads(run.stdout)["tasks"][0]
    assert task["status"] == "unverified", (name, task["reason"])
    assert str(task["reason"]).startswith("its shell runs without -e"), task["reason"]


@pytest.mark.parametrize("shell", ["sh", "dash", '"env bash -c"', '"stdbuf -eL bash -c"'])
def test_a_shell_whose_failures_planrun_cannot_see_is_judged_by_the_script(
    tmp_path: Path, shell: str
) -> None:
    task = _went_on(tmp_path, shell, "test -f a\ntest -f b\n")
    assert task["status"] == "unverified"
    if "bash" in shell:  # bash behind a wrapper gets the traps
        assert "went on after `test -f a` failed at line 1" in str(task["reason"])
    else:
        assert task["reason"] == (
            "its shell runs without -e, and planrun cannot see whether `test -f a` (line 1 "
            f"of the script) failed {FIX}: `test -f a ⏎ test -f b` (line 8)"
        )
    assert _went_on(tmp_path, shell, "test -f b\ntest -f b\n")["status"] == (
        "passed" if "bash" in shell else "unverified"
    )


def test_the_traps_leave_a_printed_result_and_the_last_argument_alone(tmp_path: Path) -> None:
    # Under the default shell, after a `set +e` of the script's own: the last line printed
    # is the script's (not a trap's), and `$_` is what the failed command left.
    path = tmp_path / "p.md"
    printed = "test -f b\nset +e\ngrep -q foo b\n"
    printed += "case $? in 0) echo 'PASS';; *) echo 'FAIL';; esac\n"
    last = 'set +e\nls nothere\ntest "$_" = nothere\n'
    path.write_text(
        "---\nplanrun: 1\nid: p\ntasks:\n"
        f"  - id: printed\n    verify:\n      - run: {json.dumps(printed)}\n"
        f"  - id: last\n    verify:\n      - run: {json.dumps(last)}\n---\n"
    )
    (tmp_path / "b").write_text("")
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary", "--json")
    printed_task, last_task = json.loads(run.stdout)["tasks"]
    assert printed_task["status"] == "failed"
    assert str(printed_task["reason"]).startswith("exit 0 (it printed `FAIL` as its result)")
    assert last_task["status"] == "passed", last_task["reason"]


def test_validate_warns_once_of_a_line_the_shell_would_go_on_after(tmp_path: Path) -> None:
    # Beside a command that can fail too, as execute makes the check unverified if it fails;
    # not when the script chose to go on (its own `set +e`, a `$?` read right after).
    path = tmp_path / "p.md"
    scripts = [
        "test -f a\ntest -f b\ntest -f c\n",
        "set +e\ntest -f a\ntest -f b\n",
        "test -f a\necho $?\ntest -f b\n",
    ]
    verify = "".join(f"      - {json.dumps(s)}\n" for s in scripts)
    path.write_text(
        f"---\nplanrun: 1\nid: p\nshell: bash\ntasks:\n  - id: t\n    verify:\n{verify}---\n"
    )
    run = run_cli("validate", path)
    assert run.stdout.splitlines() == [
        (
            f'{path}:8: warning[verify-failure-ignored] task "t": verify `test -f a ⏎ test -f b '
            "⏎ test -f c`: the shell runs without -e, and a failure of `test -f a` does not stop "
            "it (line 1 of the script): if it fails, the check is unverified"
        ),
        "    hint: add `set -e` first, or `|| true` where a failure does not matter",
        "1 plan, 1 task: 0 errors, 1 warning.",
    ]


def _run_cases(
    tmp_path: Path, shell: str | None, cases: dict[str, tuple[str, str]]
) -> dict[str, tuple[str, str | None]]:
    """Each case (script, extra keys) as a task of one plan under ``shell`` (None: the
    default): its status and reason."""
    (tmp_path / "sub").mkdir(exist_ok=True)
    (tmp_path / "b").write_text("x\n")
    tasks = "".join(
        f"  - id: {name}\n    verify:\n      - run: {json.dumps(script)}\n{extra}"
        for name, (script, extra) in cases.items()
    )
    head = f"shell: {shell}\n" if shell else ""
    path = tmp_path / "p.md"
    path.write_text(f"---\nplanrun: 1\nid: p\n{head}tasks:\n{tasks}---\n")
    run = run_cli("execute", path, "--root", tmp_path, "--no-summary", "--json")
    return {
        t["id"].split("/")[1]: (t["status"], t["reason"]) for t in json.loads(run.stdout)["tasks"]
    }


def _verdicts(tmp_path: Path, shell: str, cases: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {name: found[0] for name, found in _run_cases(tmp_path, shell, cases).items()}


def _assert_split(
    tmp_path: Path, went_on: dict[str, tuple[str, str]], passes: dict[str, tuple[str, str]]
) -> None:
    """Under `shell: bash`: every case of ``went_on`` unverified, every one of ``passes``
    passed."""
    found = _verdicts(tmp_path, "bash", {**went_on, **passes})
    assert {n: found[n] for n in went_on} == dict.fromkeys(went_on, "unverified")
    assert {n: found[n] for n in passes} == dict.fromkeys(passes, "passed")


COUNT0 = "        expect_output: count 0\n"


def test_what_a_second_attack_found_is_judged_as_the_script_ran(tmp_path: Path) -> None:
    went_on = {
        # An earlier failure in the last statement (a loop) is no "no match" of its grep.
        "loop_last": ("for f in a; do\n  test -f $f\n  grep -c zz b\ndone\n", COUNT0),
        # `$?` in single quotes, or read by a later loop's own grep, reads nothing.
        "quoted_status": ("test -f a\necho 'status in $?'\ntest -f b\n", ""),
        "status_of_loop": ("test -f a\nfor f in b; do grep -q x $f; rc=$?; done\n", ""),
        # A subshell whose output goes to a file or a pipe still records its failure.
        "subshell_log": ("(cd sub; test -f a; test -f b) > build.log 2>&1\ntest -f b\n", ""),
        "subshell_pipe": ("(test -f a; echo built) 2>&1 | tail -1\ntest -f b\n", ""),
        # Without pipefail, a pipeline before the last statement hides its first command.
        "pipe_before_last": ("test -f a | cat\ntest -f b\n", ""),
    }
    passes = {
        # The last statement's own grep gives the exit 1 an expected output allows.
        "subshell_last": ("(cd sub && grep -c TODO ../b)", COUNT0),
        "function_last": ('count() { grep -c TODO "$1"; }\ncount b\n', COUNT0),
        # A function that reads `$?` right after its own failing command chose to go on.
        "function_reads": (
            'check() {\n  grep -q needle "$1"\n  rc=$?\n  return 0\n}\ncheck b\ntest -f b\n',
            "",
        ),
        # The words exec and trap in arguments are no traps of the script's own.
        "exec_word": ("echo exec > said.txt\ntest -f b\n", ""),
        "trap_word": ("cd sub\necho trap | grep -c trap\n", ""),
        # `set -x` traces are output, but the trap adds no lines of its own to them.
        "xtrace": ("set -x\ngrep zz b || true\n", "        expect_output: count 2\n"),
    }
    _assert_split(tmp_path, went_on, passes)


def test_under_sh_the_script_s_own_choices_are_respected(tmp_path: Path) -> None:
    cases = {
        "reads_status": ("grep -q needle b\nrc=$?\n[ $rc -eq 1 ]\n", ""),
        "case_status": ("grep -q needle b\ncase $? in 1) true;; *) false;; esac\n", ""),
        "own_set": ("set +e\ngrep -q needle b\ntest -f b\n", ""),
        "guarded_loop": ('for f in b; do test -f "$f" || exit 1; done\ntest -f b\n', ""),
        "unseen": ("test -f b\ntest -f b\n", ""),  # could have failed: planrun cannot see
    }
    assert _verdicts(tmp_path, "sh", cases) == {
        "reads_status": "passed",
        "case_status": "passed",
        "own_set": "passed",
        "guarded_loop": "passed",
        "unseen": "unverified",
    }


LIB_TRAP = "trap 'echo \"error at $LINENO\" >&2' ERR\n"


def test_what_a_third_attack_and_a_review_found(tmp_path: Path) -> None:
    (tmp_path / "lib.sh").write_text(LIB_TRAP)
    went_on = {
        # The same command written twice: the copy that did not run excuses nothing.
        "same_text": ("test -f a\ntest -f b\nif [ -f zz ]; then test -f a; echo $?; fi\n", ""),
        # A failure the script chose to go on after does not excuse a later one.
        "second": ("test -f a; rc=$?\ntest -f nothere\ntest -f b\n", ""),
        # A pipeline in an `if` hides its first command's failure without pipefail too.
        "nested_pipe": ("if true; then test -f a | cat; fi\ntest -f b\n", ""),
        # A sourced file that sets its own ERR trap replaces planrun's.
        "sourced_trap": (". ./lib.sh\ntest -f a\ntest -f b\n", ""),
        # An expected failure must be the last command's.
        "expect_exit": ("test -f a\ngrep -q zz b\n", "        expect_exit: 1\n"),
    }
    passes = {
        # A failure inside $(...) is the test's to decide, as under -e.
        "substitution": ('[ -z "$(grep TODO b)" ]\n[ -z "$(grep FIXME b)" ]\n', ""),
        # An EXIT trap or redirections of the script's own hide nothing from the ERR trap.
        "exit_trap": ("trap 'rm -f out.txt' EXIT\ngrep x b > out.txt\ntest -s out.txt\n", ""),
        "exec_redirect": ("exec 2>&1\ntest -f b\ngrep -q x b\n", ""),
        # PIPESTATUS read after a pipeline: the script looks at its first command itself.
        "pipestatus": ("grep x b | tee log.txt\ntest ${PIPESTATUS[0]} -eq 0\ntest -f b\n", ""),
    }
    _assert_split(tmp_path, went_on, passes)


def test_under_the_default_shell_a_stop_before_the_last_command_is_seen(tmp_path: Path) -> None:
    many = "set +e\nfor i in $(seq 3000); do test -f nothere$i; done\ngrep -c zz b\n"
    cases = {
        # -e stops in a function (the trap is inherited with set -E) before grep ran.
        "function": ("f() { test -d nothere; }\nf\ngrep x b\n", "        expect_output: empty\n"),
        "group": ("{ test -f nothere; grep x b; }\n", "        expect_output: empty\n"),
        "expect_exit": ("test -f a\ngrep -q zz b\n", "        expect_exit: 1\n"),
        # Over 64 KiB of failures gone past on purpose: the last one recorded is grep's.
        "many": (many, COUNT0),
    }
    found = _run_cases(tmp_path, None, cases)
    assert found["function"][0] == "failed"
    assert "stopped at line 2 of the script, before its last command" in found["function"][1]
    assert found["group"][0] == "failed"
    assert found["expect_exit"] == (
        "failed",
        (
            "exit 1 (stopped at line 1 of the script, before its last command): `test -f a` "
            "(line 1 of the script) in `test -f a; grep -q zz b` (line 15)"
        ),
    )
    assert found["many"] == ("passed", None)


def test_a_temporary_folder_with_a_space_still_records_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trap holds the record's path unquoted: another folder is used, never no record.
    spaced = tmp_path / "a b"
    spaced.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spaced))
    found = _run_cases(tmp_path, "bash", {"t": ("test -f b\ntest -f b\n", "")})
    assert found == {"t": ("passed", None)}
    assert list(spaced.iterdir()) == []


def test_a_script_s_own_err_trap_is_not_handed_to_its_substitutions(tmp_path: Path) -> None:
    # With set -E (planrun's, under a shell without -e), `trap '... exit 1' ERR` would end the
    # `$(grep -c ...)` that finds nothing: bash alone does not run it there.
    script = (
        "trap 'echo \"error on line $LINENO\" >&2; exit 1' ERR\n"
        "n=$(grep -c nomatch b; true)\n"
        'echo "n=$n"\n'
        "test -f b\n"
    )
    assert _run_cases(tmp_path, "bash", {"t": (script, "")}) == {"t": ("passed", None)}
