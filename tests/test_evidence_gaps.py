"""Gaps in the evidence rules found by trying to fool planrun (issue 10's known gaps): masks
that still passed (a trap, a background job, ``|| continue`` in a loop, pipefail turned off),
a script that hits a missing tool and goes on, "# expect 3+". Real child processes; plans in
tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PlanWriter, execute, run_cli, tasks
from planrun import reports
from planrun.checkrules import nested, read


def plan(write_plan: PlanWriter, checks: dict[str, str]) -> Path:
    """A plan with one task per check; each check is a block starting on ``line(i)``."""
    lines = ["planrun: 1", "tasks:"]
    for name, check in checks.items():
        lines += [f"  - id: {name}", "    verify:", "      - run: |"]
        lines += [f"          {row}" for row in check.splitlines()]
    return write_plan("p.md", "\n".join(lines))


def at(checks: dict[str, str], name: str) -> int:
    line = 6  # after "---", planrun, tasks, "- id", "verify"
    for key, check in checks.items():
        if key == name:
            return line
        line += 3 + len(check.splitlines())
    raise KeyError(name)


MASKS = {
    "trap": ('trap "exit 0" EXIT; grep -q x f.txt', 'the `trap "exit 0" EXIT` turns a failure'),
    "trap-function": (
        "cleanup() { rm -f none; exit 0; }\ntrap cleanup EXIT\ngrep -q x f.txt",
        "the `trap cleanup EXIT` turns a failure",
    ),
    "background": ("grep -q x f.txt &", "nothing reads the exit status of `grep -q x f.txt &`"),
    "continue": (
        "for f in f.txt; do\n  grep -q x $f || continue\ndone",
        "the `|| continue` in the loop hides a failure of `grep -q x $f`",
    ),
    "break": (
        "while true; do\n  grep -q x f.txt || break\ndone",
        "the `|| break` in the loop hides a failure of `grep -q x f.txt`",
    ),
    "pipefail-off": (
        "set +o pipefail\ngrep x f.txt | cat",
        "with pipefail off, the `| cat` hides a failure of `grep x f.txt`",
    ),
    "errexit-off": (
        "set +e\ngrep x f.txt | cat\necho done",
        "bash -e ignores a failure of `grep x f.txt | cat`",
    ),
    "errexit-no-pipefail": (
        "set -o errexit +o pipefail\ngrep x f.txt | cat",
        "with pipefail off, the `| cat` hides a failure of `grep x f.txt`",
    ),
}


def test_masks_that_passed_are_unverified_and_validate_names_them(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("no match here\n")
    checks = {name: script for name, (script, _) in MASKS.items()}
    path = plan(write_plan, checks)
    run, doc = execute(path)
    assert run.exit_code == 1
    found = tasks(doc)
    for name, (_, why) in MASKS.items():
        status, reason = found[f"p/{name}"]
        assert status == "unverified", name
        assert reason is not None and reason.startswith("its only checks can never fail: `"), name
        assert f"(line {at(checks, name)}; {why}" in reason, name
    out = run_cli("validate", path).stdout
    assert (
        f'{path}:{at(checks, "trap")}: warning[verify-failure-ignored] task "trap": verify '
        '`trap "exit 0" EXIT; grep -q x f.txt`: the `trap "exit 0" EXIT` turns a failure of '
        "`grep -q x f.txt` into success (line 1 of the script), so it does not fail the check\n"
        '    hint: remove the `trap "exit 0" EXIT`'
    ) in out
    assert (
        f'{path}:{at(checks, "continue")}: warning[verify-failure-ignored] task "continue": '
        "verify `for f in f.txt; do ⏎ grep -q x $f || continue ⏎ done`: the `|| continue` in the "
        "loop hides a failure of `grep -q x $f` (line 2 of the script), so it does not fail "
        "the check\n"
        "    hint: drop the `|| continue`, or record the failure and exit 1 after the loop"
    ) in out
    assert "hint: run it in the foreground, or `wait $!` for it" in out
    assert "hint: remove the `set +o pipefail`, or drop the `| cat`" in out
    assert "hint: remove the `set +e`, or make the check the last statement" in out
    for name in MASKS:
        assert f'task "{name}": verify' in out, name


@pytest.mark.parametrize(
    "script",
    [
        "false &\nwait $!",  # its status is read
        "set +o pipefail\nset -o pipefail\ngrep x f | cat",
        "set -e +o pipefail\ngrep x f",  # no pipe
        'for f in *.py; do\n  [ -f "$f" ] || continue\n  grep -q x "$f"\ndone',  # a filter
        'trap "rm -f tmp" EXIT\ngrep -q x f',  # a clean-up trap
        "for f in a b; do grep -q x $f; done",
    ],
)
def test_scripts_that_can_fail_are_run_as_written(script: str) -> None:
    reading = read(script)
    assert (reading.run, reading.never_fails, reading.note) == (script, False, None)


def test_a_server_in_the_background_before_a_check_is_not_flagged(
    write_plan: PlanWriter,
) -> None:
    checks = {"server": "python3 -m http.server 0 &\ngrep -q x f.txt"}
    path = plan(write_plan, checks)
    assert not read(checks["server"]).never_fails
    assert "verify-failure-ignored" not in run_cli("validate", path).stdout


def test_a_loop_filter_that_skips_is_not_flagged_but_the_check_after_it_counts(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("no match here\n")
    checks = {
        "filter": 'for f in f.txt nofile; do\n  [ -f "$f" ] || continue\n  grep -q x "$f"\ndone'
    }
    path = plan(write_plan, checks)
    _, doc = execute(path)
    assert tasks(doc)["p/filter"] == (
        "failed",
        (
            'exit 1: `for f in f.txt nofile; do ⏎ [ -f "$f" ] || continue ⏎ grep -q x "$f" '
            f"⏎ done` (line {at(checks, 'filter')})"
        ),
    )
    assert "verify-failure-ignored" not in run_cli("validate", path).stdout


@pytest.mark.parametrize(
    ("comment", "found"),
    [
        ("# expect 3+", ("passed", "passed", "failed")),
        ("# expect 3 or more", ("passed", "passed", "failed")),
        ("# expect >= 3", ("passed", "passed", "failed")),
        ("# expect at least 3", ("passed", "passed", "failed")),
        ("# expect 3", ("failed", "passed", "failed")),
    ],
)
def test_expect_n_plus_is_a_minimum(
    tmp_path: Path, comment: str, found: tuple[str, str, str]
) -> None:
    phase = tmp_path / ".planning" / "phases" / "01-x"
    phase.mkdir(parents=True)
    for name, count in (("five", 5), ("three", 3), ("two", 2)):
        (tmp_path / f"{name}.txt").write_text("TODO\n" * count)
    task = (
        '<task type="auto">\n  <name>Task {n}</name>\n  <files>{name}.txt</files>\n'
        "  <action>x</action>\n  <verify><automated>grep -c TODO {name}.txt  {comment}"
        "</automated></verify>\n  <done>x</done>\n</task>\n"
    )
    (phase / "01-01-PLAN.md").write_text(
        "---\nphase: 01-x\nplan: 01\ntype: execute\nwave: 1\ndepends_on: []\n"
        "files_modified: [five.txt]\nautonomous: true\nmust_haves: {truths: []}\n---\n\n"
        "<tasks>\n"
        + "".join(
            task.format(n=n, name=name, comment=comment)
            for n, name in enumerate(("five", "three", "two"), 1)
        )
        + "</tasks>\n"
    )
    run = run_cli("execute", phase / "01-01-PLAN.md", "--root", tmp_path, "--json", "--no-summary")
    doc = json.loads(run.stdout)
    assert tuple(tasks(doc)[f"01-01/task-{n}"][0] for n in (1, 2, 3)) == found
    want = "==" if comment == "# expect 3" else ">="
    assert tasks(doc)["01-01/task-3"][1] == (
        f"count 2 (expected output: count {want} 3): `grep -c TODO two.txt` (line 31)"
    )


def test_a_script_that_hits_a_missing_tool_and_goes_on_is_an_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    scripts = {
        "check.sh": "#!/bin/bash\nnotatool_xyz --check\necho ok\n",
        "path.sh": "#!/bin/bash\n./bin/gen\necho ok\n",
        "probe.sh": (
            "#!/bin/bash\nif notatool_xyz --version; then\n  notatool_xyz --check\nfi\n"
            "command -v notatool_xyz || echo 'no notatool_xyz: skipping'\n"
            "notatool_xyz --check || echo fallback\necho ok\n"
        ),
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    checks = {
        "script": "./check.sh",
        "bash": "bash check.sh",
        "path": "./path.sh",
        "probe": "./probe.sh",
        "failing": "./check.sh && false",
    }
    run, doc = execute(plan(write_plan, checks))
    assert run.exit_code == 1
    found = tasks(doc)
    assert found["p/script"] == (
        "error",
        (
            "could not run: `notatool_xyz` was not found on PATH (line 2 of `./check.sh`, "
            f"which went on): `./check.sh` (line {at(checks, 'script')})"
        ),
    )
    assert found["p/bash"] == (
        "error",
        (
            "could not run: `notatool_xyz` was not found on PATH (line 2 of `check.sh`, "
            f"which went on): `bash check.sh` (line {at(checks, 'bash')})"
        ),
    )
    assert found["p/path"] == (
        "error",
        (
            "could not run: `./bin/gen` was not found (line 2 of `./path.sh`, which went on): "
            f"`./path.sh` (line {at(checks, 'path')})"
        ),
    )
    # Its probes are no missing tool; and it goes on after every failure (no -e): unverified.
    assert found["p/probe"][0] == "unverified"
    assert "inside ./probe.sh, the shell runs without -e" in (found["p/probe"][1] or "")
    assert found["p/failing"][0] == "failed"  # it failed anyway: a failure stays one


def test_a_loop_that_waits_is_run_as_written() -> None:
    script = "setsid sleep 30 &\nwhile [ ! -s pid ]; do sleep 0.01; done"
    assert read(script) == read(script).__class__(script)


def test_a_destructive_command_a_plan_states_is_held_not_run(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("the work\n")
    path = tmp_path / "checklist.md"
    path.write_text(
        "# Cleanup\n\n- [x] Tidy the tree\n\n## Validation\n\n```bash\n"
        "rm -f keep.txt\ngit clean -fdx\nruff check --fix .\ntest -f keep.txt\n```\n\n"
        "- `npx jest -u` updates the snapshots\n"
    )
    run, doc = execute(path)
    assert (tmp_path / "keep.txt").exists()  # nothing destructive ran
    found = tasks(doc)
    assert found["checklist/@checks"][0] == "passed"  # `test -f keep.txt` still ran
    checks = next(t for t in doc["tasks"] if t["id"] == "checklist/@checks")
    assert [c["run"] for c in checks["commands"]] == ["test -f keep.txt"]
    out = run_cli("validate", path).stdout
    for line, shown, why in [
        (8, "rm -f keep.txt", "deletes files"),
        (9, "git clean -fdx", "deletes untracked files"),
        (10, "ruff check --fix .", "would rewrite the code it judges"),
        (14, "npx jest -u", "would rewrite the expected output it judges against"),
    ]:
        assert (
            f'{path}:{line}: warning[destructive-check] plan "checklist": `{shown}` is not run: '
            f"it {why}; it is a manual check\n"
            "    hint: state the check without it (`git status --porcelain`, `ruff check`, "
            "`prettier --check`), and run the clean-up or fix yourself"
        ) in out
    assert run.exit_code == 1  # item-1 has nothing that verifies it


def test_a_gsd_check_that_cleans_first_is_held_and_the_canonical_verify_is_not(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    canonical = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: rebuild, verify: "rm -rf build && mkdir build && test -d build"}
        """,
    )
    run, doc = execute(canonical)
    assert tasks(doc)["p/rebuild"] == ("passed", None)
    assert "destructive-check" not in run_cli("validate", canonical).stdout
    phase = tmp_path / ".planning" / "phases" / "01-x"
    phase.mkdir(parents=True)
    (phase / "01-01-PLAN.md").write_text(
        "---\nphase: 01-x\nplan: 01\ntype: execute\nwave: 1\ndepends_on: []\n"
        "files_modified: [a.txt]\nautonomous: true\nmust_haves: {truths: []}\n---\n\n<tasks>\n"
        '<task type="auto">\n  <name>Task 1</name>\n  <files>a.txt</files>\n'
        "  <action>x</action>\n  <verify><automated>git clean -fdx && test -f a.txt"
        "</automated></verify>\n  <done>x</done>\n</task>\n</tasks>\n"
    )
    (tmp_path / "a.txt").write_text("x\n")
    gsd = phase / "01-01-PLAN.md"
    out = run_cli("validate", gsd).stdout
    assert (
        'warning[destructive-check] task "task-1": `git clean -fdx && test -f a.txt` is not '
        "run: `git clean -fdx` in it deletes untracked files; it is a manual check"
    ) in out
    run = run_cli("execute", gsd, "--root", tmp_path, "--json", "--no-summary")
    assert tasks(json.loads(run.stdout))["01-01/task-1"][0] == "manual"


@pytest.mark.parametrize(
    "command",
    [
        "pytest -q",
        "ruff check .",
        "ruff format --check .",
        "npm test",
        "cargo test",
        "npx prettier --check .",
        "git diff --exit-code",
        "cd sub && make test",
        "uv run mypy src",
        "sed -n 1p f",
        'rm -rf "$tmp"',  # its own scratch files
        "rm -f /tmp/out.json",
    ],
)
def test_real_checks_are_not_held(command: str) -> None:
    from planrun.checkform import destroys

    assert destroys(command) is None


def test_an_inputs_glob_that_matches_nothing_is_a_warning(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    path = write_plan(
        "p.md",
        """
        planrun: 1
        root: .
        tasks:
          - id: ok
            inputs: ["src/*.py", "src"]
            verify: "test -f src/a.py"
          - id: typo
            inputs: ["scr/**/*.py", "src/*.py", "../outside/*.py"]
            verify: "test -f src/a.py"
        """,
    )
    out = run_cli("validate", path).stdout
    assert (
        f"{path}:8: warning[inputs-match-nothing] task \"typo\": inputs glob 'scr/**/*.py' "
        f"matches no file under {tmp_path}\n"
        "    hint: fix the glob: a pass is reused while the files it names are unchanged, and "
        "it names none"
    ) in out
    assert out.count("inputs-match-nothing") == 1


# A check that starts a shell on a script of its own: that shell's flags, not planrun's,
# decide what its exit status shows (without -e it goes on after a failure).
NESTED = {
    # masked inside: judged by the masked command, in the same shell
    "mask": ("sh -c 'grep -q x f.txt || echo \"not found\"'", "failed"),
    "mask-true": ('bash -c "grep -q x f.txt || true"', "failed"),
    "dashes": ("bash -c -- 'grep -q x f.txt || :'", "failed"),
    "wrapped-mask": ("timeout 60 bash -c 'grep -q x f.txt || echo no'", "failed"),
    # no -e inside: a failure before the last command is not seen
    "no-e": ("bash -lc 'grep -q x f.txt; test -f f.txt'", "unverified"),
    "no-pipefail": ("bash -ec 'grep x f.txt | cat'", "unverified"),
    "never-fails": ("bash -lc 'grep -q x f.txt; echo done'", "unverified"),
    "no-e-mask": ("sh -c 'grep -q x f.txt; grep -q here f.txt || echo failed'", "unverified"),
    "masked-shell": ("bash -c 'grep -q x f.txt; grep -q here f.txt' || true", "unverified"),
    "loop": ("sh -c 'for f in nofile f.txt; do test -f $f; done'", "unverified"),
    "group": ("sh -c 'f() { grep -q x f.txt; grep -q here f.txt; }; f'", "unverified"),
    # the rules that read a program's own exit codes see inside
    "must-fail": ("sh -c '! grep -q TODO nofile'", "failed"),  # grep's 2: it could not look
    "note": ("sh -c 'grep -q x f.txt && echo \"NOTE: x left\"'", "unverified"),  # it only reports
    "probe": ("sh -c 'command -v nosuchtool && nosuchtool check . || echo skipping'", "error"),
    "option-o": ("bash -oc pipefail 'grep -q x f.txt || true'", "failed"),
    # what can fail as written is judged by its exit status
    "one": ("sh -c 'grep -q x f.txt'", "failed"),
    "guarded": ("sh -c 'grep -q here f.txt || exit 1; grep -q match f.txt'", "passed"),
    "if-guard": ("sh -c 'if ! grep -q here f.txt; then exit 1; fi; test -f f.txt'", "passed"),
    "brace-exit": ("bash -c 'test -f f.txt || { echo no; exit 1; }; grep -q here f.txt'", "passed"),
    "background": ("sh -c 'grep -q here f.txt' &", "unverified"),  # nothing reads its status
    # without pipefail a pipe anywhere has its last command's status
    "pipe-in-list": ("bash -c 'test -f f.txt && grep x f.txt | cat'", "unverified"),
    "pipe-grep": ("sh -c 'grep here f.txt 2>&1 | grep -q here'", "unverified"),
    "pipe-exit": ("bash -c 'grep x f.txt | tee log || exit 1; test -f log'", "unverified"),
    "return": ("bash -c 'grep -q x f.txt || return 1; test -f f.txt'", "unverified"),
    # the script reads a status itself, or stops on a failure
    "status-read": ("sh -c 'grep -q here f.txt; rc=$?; echo done; exit $rc'", "passed"),
    "guarded-loop": ("bash -c 'for f in f.txt; do test -f \"$f\" || exit 1; done'", "passed"),
    "case": ("bash -c 'case $(uname) in *) grep -q here f.txt;; esac'", "passed"),
    "errexit": ("bash -ec 'test -f f.txt; grep -q here f.txt'", "passed"),
    "list": ("bash -c 'test -f f.txt && grep -q here f.txt'", "passed"),
    "list-fails": ("bash -c 'test -f f.txt && grep -q x f.txt'", "failed"),
}


def run_table(
    write_plan: PlanWriter, tmp_path: Path, table: dict[str, tuple[str, str]]
) -> tuple[dict[str, str], Path, dict[str, tuple[str, str | None]]]:
    """Run one task per (check, status) of ``table`` beside an f.txt that holds no `x`; assert
    each status; the checks, the plan and each task's (status, reason)."""
    (tmp_path / "f.txt").write_text("no match here\n")
    checks = {name: script for name, (script, _) in table.items()}
    path = plan(write_plan, checks)
    _, doc = execute(path)
    found = tasks(doc)
    assert {name: found[f"p/{name}"][0] for name in table} == {
        name: status for name, (_, status) in table.items()
    }
    return checks, path, found


def test_a_shell_a_check_starts_is_read_with_its_own_flags(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, path, found = run_table(write_plan, tmp_path, NESTED)
    assert found["p/mask"][1] == (
        "exit 1: `sh -c 'grep -q x f.txt'` (line 6; the `|| echo` would hide its failure)"
    )
    assert found["p/no-e"][1] == (
        "planrun cannot see whether `grep -q x f.txt` failed: inside `bash -c`, the shell runs "
        "without -e, and a failure of `grep -q x f.txt` does not stop it (start it as `bash "
        "-eo pipefail -c`, or write its commands as the check): `bash -lc 'grep -q x f.txt; "
        f"test -f f.txt'` (line {at(checks, 'no-e')})"
    )
    out = run_cli("validate", path).stdout
    assert (
        f'{path}:{at(checks, "mask-true")}: warning[verify-never-fails] task "mask-true": verify '
        '`bash -c "grep -q x f.txt || true"` can never fail: inside `bash -c`, the `|| true` '
        "would hide its failure\n"
        "    hint: let the command's own exit status decide (drop what hides it)"
    ) in out
    assert (
        f'{path}:{at(checks, "no-e")}: warning[verify-failure-ignored] task "no-e": verify '
        "`bash -lc 'grep -q x f.txt; test -f f.txt'`: inside `bash -c`, the shell runs without "
        "-e, and a failure of `grep -q x f.txt` does not stop it, so it does not fail the check\n"
        "    hint: start it as `bash -eo pipefail -c`, or write its commands as the check"
    ) in out
    for name in ("one", "errexit", "list", "list-fails"):
        assert f'task "{name}"' not in out, name


@pytest.mark.parametrize(
    "script",
    [
        'bash -c "grep -q $WORD f.txt || true"',  # the outer shell expands it first
        "bash -c 'grep -q x f.txt || true' && echo ok",  # not one command
        "bash --rcfile x -c 'false || true'",  # an option with an argument planrun skips
        "python3 -c 'import sys'",  # not a shell
        "bash scripts/check.sh",  # no -c
        "bash -c 'if true; then grep -q x f.txt || true'",  # a syntax error inside
    ],
)
def test_shells_whose_script_is_not_written_out_are_read_as_before(script: str) -> None:
    assert nested(script) is None


def test_validate_warns_of_a_curl_without_fail_inside_a_shell(write_plan: PlanWriter) -> None:
    path = plan(write_plan, {"health": "bash -c 'curl -s http://127.0.0.1:9/health'"})
    out = run_cli("validate", path).stdout
    assert (
        f'{path}:6: warning[verify-status-blind] task "health": verify `bash -c \'curl -s '
        "http://127.0.0.1:9/health'`: `curl` exits 0 whatever HTTP status the server answers"
    ) in out


# Under -e, bash ignores -e inside what runs left of `&&` or `||`, in an `if` condition, or
# after `!`: a group, subshell or function there goes on after a failure, and ends with its
# last command's status.
IGNORED_INSIDE = {
    "group": ("{ grep -q x f.txt; test -f f.txt; } && echo done", "unverified"),
    "subshell": ("(grep -q x f.txt; test -f f.txt) || exit 1", "unverified"),
    "function": ("check() { grep -q x f.txt; test -f f.txt; }\ncheck || exit 1", "unverified"),
    "in-shell": ("bash -ec 'c() { grep -q x f.txt; test -f f.txt; }; c || exit 1'", "unverified"),
    "called-plainly": ("check() { grep -q x f.txt; test -f f.txt; }\ncheck", "failed"),
    "one-command": ("{ grep -q x f.txt; } && echo done", "failed"),
    "masked": ("{ grep -q x f.txt; test -f f.txt; } || echo failed", "failed"),
    "last-only": ("{ echo checking; grep -q here f.txt; } && echo done", "passed"),
    "calls": ("a() { grep -q x f.txt; test -f f.txt; }\nb() { a; }\nb || exit 1", "unverified"),
    "loop": ('for w in x here; do grep -q "$w" f.txt; done && echo ok', "unverified"),
    "conditions": ("if grep -q x f.txt; test -f f.txt; then :; else exit 1; fi", "unverified"),
    "branch": ("if [ -f f.txt ]; then grep -q here f.txt; fi && echo done", "passed"),
    "retry": (
        (
            'retry() { for i in 1 2 3; do "$@" && return 0; sleep 0.1; done; return 1; }\n'
            'retry test -f f.txt || { echo "never came"; exit 1; }'
        ),
        "passed",
    ),
    "helpers": (
        (
            'log() { echo "[check] $*" >&2; }\ndie() { echo "$1" >&2; exit 1; }\n'
            'check() { log start; test -f f.txt || die "no f.txt"; grep -q here f.txt; }\n'
            "check || exit 1"
        ),
        "passed",
    ),
    "condition-set-x": (
        'check() { [ "${V:-0}" = 1 ] && set -x; grep -q here f.txt; }\ncheck || exit 1',
        "passed",
    ),
    "setup-and-return": (
        (
            'check() { local f=$1; test -f "$f" || return 1; grep -q here "$f"; }\n'
            "check f.txt || exit 1"
        ),
        "passed",
    ),
}


def test_a_group_or_function_where_bash_ignores_e_is_unverified_when_it_exits_0(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, path, found = run_table(write_plan, tmp_path, IGNORED_INSIDE)
    assert found["p/group"][1] == (
        "planrun cannot see whether `grep -q x f.txt` failed: bash ignores -e inside `{ grep -q "
        "x f.txt; test -f f.txt; }`, which goes on after it (put `grep -q x f.txt` last in it, "
        "or call it outside the `&&`, `||` or `if`): `{ grep -q x f.txt; test -f f.txt; } && "
        f"echo done` (line {at(checks, 'group')})"
    )
    out = run_cli("validate", path).stdout
    assert (
        f'{path}:{at(checks, "function")}: warning[verify-failure-ignored] task "function": '
        "verify `check() { grep -q x f.txt; test -f f.txt; } ⏎ check || ex...`: a failure of "
        "`grep -q x f.txt` does not stop it (bash ignores -e inside `check`, which goes on after "
        "it), so it does not fail the check\n"
        "    hint: put `grep -q x f.txt` last in it, or call it outside the `&&`, `||` or `if`"
    ) in out
    for name in ("called-plainly", "one-command", "masked", "last-only"):
        assert f'warning[verify-failure-ignored] task "{name}"' not in out, name


# A check that ends itself early with success (`exit 0`) when a tool is missing or the
# machine is not the one it expects: it passed without running what follows.
SKIPS = {
    "if-skip": (
        (
            'if ! command -v nosuchtool >/dev/null; then echo "SKIP: no tool"; exit 0; fi\n'
            "nosuchtool check ."
        ),
        "unverified",
    ),
    "if-skip-ran": (
        'if ! command -v sh >/dev/null; then echo "SKIP: no sh"; exit 0; fi\ngrep -q x f.txt',
        "failed",
    ),
    "if-skip-pass": (
        'if ! command -v sh >/dev/null; then echo "SKIP: no sh"; exit 0; fi\ngrep -q here f.txt',
        "passed",
    ),
    "or-skip": (
        'command -v nosuchtool >/dev/null || { echo "skip"; exit 0; }\nnosuchtool check .',
        "unverified",
    ),
    "silent-skip": ("[ ! -f nofile ] && exit 0\ngrep -q here f.txt", "unverified"),
    "silent-no-skip": ("[ ! -f f.txt ] && exit 0\ngrep -q here f.txt", "passed"),
    "env-skip": (
        'if [ -z "$PLANRUN_NO_SUCH_VARIABLE" ]; then\n  exit 0\nfi\ngrep -q here f.txt',
        "unverified",
    ),
    "else-skip": (
        (
            "if command -v nosuchtool >/dev/null; then\n  nosuchtool check .\nelse\n"
            '  echo "nosuchtool missing, skipping"\n  exit 0\nfi'
        ),
        "unverified",
    ),
    "or-exit": ("test -f nofile || exit 0\ngrep -q here f.txt", "unverified"),
    "bare-exit": (
        'if ! command -v nosuchtool >/dev/null; then\n  echo "skipped"\n  exit\nfi\ngrep -q x f',
        "unverified",
    ),
    "function": (
        (
            'skip() { echo "SKIP: $1"; exit 0; }\n'
            'command -v nosuchtool >/dev/null || skip "not installed"\nnosuchtool check .'
        ),
        "unverified",
    ),
    "probe-inside": (
        'if [ -z "$(command -v nosuchtool)" ]; then exit 0; fi\nnosuchtool check .',
        "unverified",
    ),
    "platform": ('OS=$(uname)\n[ "$OS" = "$OS" ] && exit 0\ngrep -q x f.txt', "unverified"),
    "quoted": ('command -v nosuchtool >/dev/null || exit "0"\nnosuchtool', "unverified"),
    "builtin": ("command -v nosuchtool >/dev/null || builtin exit 0\nnosuchtool", "unverified"),
    "in-subshell": (
        "(command -v nosuchtool >/dev/null || { echo 'missing, skipping'; exit 0; }; nosuchtool)",
        "unverified",
    ),
    "piped": (
        "{ command -v nosuchtool >/dev/null || exit 0; nosuchtool; } 2>&1 | tee log",
        "unverified",
    ),
    "in-function": (
        (
            'main() { if ! command -v nosuchtool >/dev/null; then echo "SKIP"; exit 0; fi; '
            'grep -q x f.txt; }\nmain "$@"'
        ),
        "unverified",
    ),
    "return": (
        "lint() { command -v nosuchtool >/dev/null || return 0; grep -q x f.txt; }\nlint",
        "unverified",
    ),
    "nested": (
        "bash -c 'command -v nosuchtool >/dev/null || { echo skip; exit 0; }\nnosuchtool'",
        "unverified",
    ),
    "nested-not-taken": (
        "bash -ec 'command -v sh >/dev/null || { echo skip; exit 0; }\ngrep -q here f.txt'",
        "passed",
    ),
    "version-gate": (
        (
            'if [ "$(bash --version | head -1 | cut -c1-4)" != "zzzz" ]; then exit 0; fi\n'
            "grep -q x f.txt"
        ),
        "unverified",
    ),
    "case-env": (
        (
            'case "${PLANRUN_NO_SUCH_VARIABLE:-}" in\n  "") echo "not in CI, skipping"; exit 0 ;;\n'
            "esac\ngrep -q x f.txt"
        ),
        "unverified",
    ),
    "case-silent": (
        'case "${PLANRUN_NO_SUCH_VARIABLE:-}" in\n  "") exit 0 ;;\nesac\ngrep -q here f.txt',
        "unverified",
    ),
    "case-group": (
        'case "$(uname -s)" in\n  *) { echo "skip here"; exit 0; } ;;\nesac\ngrep -q x f.txt',
        "unverified",
    ),
    "case-not-taken": (
        'case "$(uname -s)" in\n  NoSuchSystem) exit 0 ;;\nesac\ngrep -q here f.txt',
        "passed",
    ),
    "import-probe": (
        (
            'if ! python3 -c "import planrun_no_such_module" 2>/dev/null; then exit 0; fi\n'
            "grep -q x f.txt"
        ),
        "unverified",
    ),
    # an `exit 0` with nothing after it but reports and `exit 1` is the success of what decides
    "import-check": ("python3 -c 'import json' && exit 0\nexit 1", "passed"),
    "probe-check": ("command -v sh >/dev/null && exit 0\necho 'no sh'\nexit 1", "passed"),
    "import-and-run": ("python3 -c 'import json; print(1)' && exit 0\nexit 1", "passed"),
    "heredoc-or": (
        "python3 - <<'PY' || exit 0\nimport sys; sys.exit(1)\nPY\ngrep -q here f.txt",
        "unverified",
    ),
    "env-default": (
        (
            'NO_SUCH="${PLANRUN_NO_SUCH_VARIABLE:-0}"\nif [ "$NO_SUCH" != 1 ]; then\n'
            '  echo "not asked for, skipping"\n  exit 0\nfi\ngrep -q x f.txt'
        ),
        "unverified",
    ),
    "import-as": (
        "python3 -c 'import planrun_no_such_module as m' 2>/dev/null || exit 0\ngrep -q x f.txt",
        "unverified",
    ),
    "echo-and-exit": (
        (
            '[ -z "${PLANRUN_NO_SUCH_VARIABLE:-}" ] && echo "skipping here" && exit 0\n'
            "grep -q x f.txt"
        ),
        "unverified",
    ),
    "guard-function": (
        (
            'require() {\n  if [ -z "${PLANRUN_NO_SUCH_VARIABLE:-}" ]; then\n    echo "not set"\n'
            "    exit 0\n  fi\n}\nrequire\ngrep -q x f.txt"
        ),
        "unverified",
    ),
    "guard-function-not-taken": (
        (
            'require() {\n  if [ -n "${PLANRUN_NO_SUCH_VARIABLE:-}" ]; then\n    echo "set"\n'
            "    exit 0\n  fi\n}\nrequire\ngrep -q here f.txt"
        ),
        "passed",
    ),
    "main-not-taken": (
        (
            'main() {\n  if ! command -v sh >/dev/null; then\n    echo "no sh, skipping"\n'
            '    exit 0\n  fi\n  grep -q here f.txt\n}\nmain "$@"'
        ),
        "passed",
    ),
    # an `exit 0` after the check it gates: a fallback follows, or only a report
    "fallback": (
        (
            "if command -v python3 >/dev/null; then\n  python3 -c 'import sys'\n  exit 0\nfi\n"
            'echo "no python3, trying python"\npython -c "import sys"'
        ),
        "passed",
    ),
    "checked-then-ended": (
        (
            '[ -n "${PLANRUN_NO_SUCH_VARIABLE:-}" ] && { python3 -c "import sys"; exit 0; }\n'
            'echo "not asked for: skipping"'
        ),
        "unverified",
    ),
    # an `exit 0` that ends the last statement: another branch reached shows it did not run
    "arm-not-taken": (
        'case "$(uname -s)" in\n  NoSuchSystem) exit 0 ;;\n  *) grep -q here f.txt ;;\nesac',
        "passed",
    ),
    "else-taken": (
        'if [ "$(uname -s)" != NoSuchSystem ]; then\n  exit 0\nelse\n  grep -q here f.txt\nfi',
        "unverified",
    ),
    "machine-path": (
        'if [ -d /proc/self ]; then echo "on this machine, skipping"; exit 0; fi\ngrep -q x f.txt',
        "unverified",
    ),
    "file-branch-exit": (
        'if [ -d nodir ]; then cd nodir; python3 a.py; exit 0; fi\necho "no nodir, skipping"',
        "unverified",
    ),
    "failed-then-gated": (
        (
            "python3 -c 'import sys; sys.exit(1)' || { python3 -c 'import sys'; exit 0; }\n"
            "grep -q here f.txt"
        ),
        "unverified",
    ),
    "retried-check": (
        (
            "grep -q here f.txt || { echo retrying; python3 -c 'import sys'; exit 0; }\n"
            'echo "tests passed"'
        ),
        "passed",
    ),
    "banner": (
        (
            'if [ -z "${PLANRUN_NO_SUCH_VARIABLE:-}" ]; then echo "not asked for"; '
            'bash -c "echo banner"; exit 0; fi\ngrep -q x f.txt'
        ),
        "unverified",
    ),
    "function-gated": (
        (
            'run() { if [ -n "${PLANRUN_NO_SUCH_VARIABLE:-}" ]; then python3 -c "import sys"; '
            'exit 0; fi; }\nrun\necho "not asked for"'
        ),
        "unverified",
    ),
    "return-then-call": (
        (
            'main() { if [ -z "${PLANRUN_NO_SUCH_VARIABLE:-}" ]; then return 0; fi; '
            "grep -q x f.txt; }\nmain\necho done"
        ),
        "unverified",
    ),
    "elif-exit": (
        (
            'if [ -f nodir/a ]; then\n  echo a\nelif [ -z "${PLANRUN_NO_SUCH_VARIABLE:-}" ]; then\n'
            "  exit 0\nfi\ngrep -q x f.txt"
        ),
        "unverified",
    ),
    # only the environment decides it: nothing of the work is shown
    "environment-then-false": (
        '[ -z "${PLANRUN_NO_SUCH_VARIABLE:-}" ] && exit 0\nfalse',
        "unverified",
    ),
    "says-skip": (
        (
            "if ! python3 -c 'import sys; sys.exit(1)'; then echo \"tests failed, skipping lint\"; "
            "exit 0; fi\ngrep -q here f.txt"
        ),
        "unverified",
    ),
    "version-probe": (
        "if ! nosuchtool --version >/dev/null 2>&1; then exit 0; fi\nnosuchtool check .",
        "unverified",
    ),
    "exit-256": ("command -v nosuchtool >/dev/null || exit 256\ngrep -q here f.txt", "unverified"),
    # a retry whose probe is the check, and a `return 0` that ends only a helper
    "retry-probe": (
        "for i in 1 2; do\n  python3 -c 'import json' && exit 0\n  sleep 0\ndone\nexit 1",
        "passed",
    ),
    "return-helper": (
        (
            'ensure() {\n  if command -v "$1" >/dev/null; then return 0; fi\n'
            '  echo "installing $1"\n}\nensure sh\nensure nosuchtool\ngrep -q here f.txt'
        ),
        "passed",
    ),
    # what a skip prints, inside a longer line of the check's own, shows no skip
    "needle-in-line": (
        (
            'if ! command -v sh >/dev/null; then echo "skipped"; exit 0; fi\n'
            "python3 -c 'print(\"1 passed, 1 skipped\")'"
        ),
        "passed",
    ),
    # a case on the script's own arguments or on what the work holds is not about the machine
    "case-own": ('case "$#" in\n  0) exit 0 ;;\nesac\nexit 1', "passed"),
    "case-work": (
        'case "$(cat f.txt)" in\n  *here*) echo found; exit 0 ;;\nesac\nexit 1',
        "passed",
    ),
    # an `exit 0` after a check that passed is that check's success
    "retry": ("for i in 1 2; do\n  grep -q here f.txt && exit 0\ndone\nexit 1", "passed"),
    "if-passed": ("if grep -q here f.txt; then exit 0; fi\nexit 1", "passed"),
    "file-test": ("[ -f f.txt ] && exit 0\nexit 1", "passed"),
    "subshell": ('( [ -z "$PLANRUN_NO_SUCH_VARIABLE" ] && exit 0 )\ngrep -q here f.txt', "passed"),
    "flag": (
        (
            "found=false\ngrep -q here f.txt && found=true\n"
            'if [ "$found" = true ]; then exit 0; fi\nexit 1'
        ),
        "passed",
    ),
    "negated-check": (
        'if ! grep -q x f.txt; then echo "clean"; exit 0; fi\nexit 1',
        "passed",
    ),
    "status": ("set +e\ngrep -q here f.txt\nif [ $? -eq 0 ]; then exit 0; fi\nexit 1", "passed"),
    "not-skipped": (
        (
            '[ -n "${PLANRUN_NO_SUCH_VARIABLE:-}" ] && { echo "skipping"; exit 0; }\n'
            "grep -q here f.txt"
        ),
        "passed",
    ),
    "retry-found": (
        'for i in 1 2; do\n  grep -q here f.txt && { echo "found"; exit 0; }\ndone\nexit 1',
        "passed",
    ),
    "output": (
        'out=$(cat f.txt)\nif [ "$out" = "no match here" ]; then exit 0; fi\nexit 1',
        "passed",
    ),
    # a script that sources a file or runs eval asks no DEBUG trap; not a grep for "eval("
    "eval-text": (
        '[ -n "$PLANRUN_NO_SUCH_VARIABLE" ] && exit 0\n! grep -q "eval(" f.txt',
        "passed",
    ),
}


def test_a_check_that_skips_itself_with_exit_0_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, path, found = run_table(write_plan, tmp_path, SKIPS)
    fix = (
        "remove the early `exit 0` and let a check that cannot run fail: planrun reports a "
        "missing program as an error, not a failure"
    )
    assert found["p/if-skip"][1] == (
        "its script printed `SKIP: no tool`, which line 1 of the script prints before its "
        "`exit 0` when `! command -v nosuchtool >/dev/null` succeeds, skipping the rest of the "
        f'check ({fix}): `if ! command -v nosuchtool >/dev/null; then echo "SKIP: no tool"; '
        f"exit 0; fi ...` (line {at(checks, 'if-skip')})"
    )
    assert found["p/silent-skip"][1] == (
        "its script ended at the `exit 0` of line 1 of the script (when `[ ! -f nofile ]` "
        f"succeeds): bash never reached line 2, skipping the rest of the check ({fix}): "
        f"`[ ! -f nofile ] && exit 0 ⏎ grep -q here f.txt` (line {at(checks, 'silent-skip')})"
    )
    assert (found["p/piped"][1] or "").startswith(
        "planrun cannot see whether the script ended at the `exit 0` of line 1 (when "
        "`command -v nosuchtool >/dev/null` fails), skipping the rest of the check"
    )
    assert "when `command -v nosuchtool >/dev/null` fails" in (found["p/else-skip"][1] or "")
    assert (found["p/case-silent"][1] or "").startswith(
        "its script ended at the `exit 0` of line 1 of the script (when "
        '`"${PLANRUN_NO_SUCH_VARIABLE:-}"` matches `""`): bash never reached line 4'
    )
    out = run_cli("validate", path).stdout
    assert (
        f'{path}:{at(checks, "or-exit")}: warning[verify-skips-itself] task "or-exit": verify '
        "`test -f nofile || exit 0 ⏎ grep -q here f.txt`: line 1 of the script ends it with "
        "`exit 0` when `test -f nofile` fails, before the rest of the check; when it does, the "
        f"task is unverified\n    hint: {fix}"
    ) in out
    warned = {name for name in SKIPS if f'verify-skips-itself] task "{name}"' in out}
    skipped = {name for name, (_, status) in SKIPS.items() if status == "unverified"}
    # Where it did not skip when run, validate still warns that it may.
    maybe = {"if-skip-ran", "if-skip-pass", "silent-no-skip", "eval-text", "not-skipped"}
    maybe |= {"nested-not-taken", "case-not-taken", "needle-in-line"}
    maybe |= {"guard-function-not-taken", "main-not-taken", "checked-then-ended"}
    maybe.add("arm-not-taken")
    assert warned == skipped | maybe


# A search whose finding fails the script (`if grep -rq x src; then exit 1; fi`) and which
# could not read what it names (grep's exit 2) found nothing either: it did not look.
SEARCHES = {
    "missing": ('if grep -rq console.log nodir; then echo "found"; exit 1; fi', "unverified"),
    "clean": ('if grep -rq console.log f.txt; then echo "found"; exit 1; fi', "passed"),
    "found": ('if grep -q here f.txt; then echo "found"; exit 1; fi', "failed"),
    "and": ('grep -q x nofile && { echo "x found"; exit 1; }\necho ok', "unverified"),
    "and-clean": ('grep -q x f.txt && { echo "x found"; exit 1; }\necho ok', "passed"),
    "quoted": ("if grep -rq \"TODO\" 'nodir/'; then exit 1; fi", "unverified"),
    "glob": ("grep -q TODO nodir/*.py && exit 1\necho ok", "unverified"),
    "else": (
        'if ! grep -q x nofile; then echo "none"; else echo "found"; exit 1; fi',
        "unverified",
    ),
    "else-clean": (
        'if ! grep -q x f.txt; then echo "none"; else echo "found"; exit 1; fi',
        "passed",
    ),
    # a program that is not on PATH refused nothing: it could not run
    "no-program": ('if nosuchtool -q x f.txt; then echo "found"; exit 1; fi', "error"),
    "nested": ("bash -ec 'if grep -rq x nodir; then exit 1; fi'", "unverified"),
    "reported": ('grep -q x f.txt && echo "found x" && exit 1\necho clean', "passed"),
    "reported-found": ('grep -q here f.txt && echo "found" && exit 1\necho clean', "failed"),
}


def test_a_search_that_could_not_look_before_exit_1_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, _, found = run_table(write_plan, tmp_path, SEARCHES)
    assert found["p/missing"][1] == (
        "its script printed `grep: nodir:`: `grep -rq console.log nodir` (line 1) could not "
        'read `nodir`, and the script took that for "not found" and went on (test that what it '
        "searches exists first (`test -e PATH || exit 1`)): `if grep -rq console.log nodir; "
        f'then echo "found"; exit 1; fi` (line {at(checks, "missing")})'
    )


# A program the shell could not run, where the script exits with a failure when it fails or
# is missing: the check could not run here (an error), not a failure of the work.
GUARDED = {
    "unset-required": (
        ': "${PLANRUN_NO_SUCH_VARIABLE:?PLANRUN_NO_SUCH_VARIABLE must be set}"\ngrep -q here f.txt',
        "error",
    ),
    "unset-bare": ('X="${PLANRUN_NO_SUCH_VARIABLE:?}"\ngrep -q here f.txt', "error"),
    "set-required-fails": ('X="${HOME:?}"\necho "HOME: no x"\ngrep -q x f.txt', "failed"),
    "die-helper": (
        'die() { echo "failed: $*"; exit 1; }\nnosuchtool check . || die "lint failed"\ntrue',
        "error",
    ),
    "die-helper-fails": (
        'die() { echo "failed: $*"; exit 1; }\ngrep -q x f.txt || die "no x"\ntrue',
        "failed",
    ),
    "probe-exit": (
        (
            'command -v nosuchtool >/dev/null || { echo "no nosuchtool"; exit 1; }\n'
            "nosuchtool check ."
        ),
        "error",
    ),
    "if-which": (
        "if ! which nosuchtool >/dev/null 2>&1; then\n  exit 1\nfi\nnosuchtool check .",
        "error",
    ),
    "or-exit": ("nosuchtool --check || exit 1", "error"),
    "if-not": ("if ! nosuchtool --check; then exit 3; fi", "error"),
    "fails": ("grep -q x f.txt || exit 1", "failed"),
    "probe-else": (
        'if command -v nosuchtool >/dev/null; then nosuchtool; else echo "no"; exit 1; fi',
        "error",
    ),
    # a check run only when its tool is found did not run without it
    "only-if-found": ("if which nosuchtool >/dev/null; then nosuchtool check .; fi", "error"),
    "found": ("if command -v sh >/dev/null; then grep -q here f.txt; fi", "passed"),
    "else-reports": (
        'if command -v nosuchtool >/dev/null; then nosuchtool .; else echo "no tool" >&2; fi',
        "error",
    ),
    "negated-else": (
        "if ! command -v nosuchtool >/dev/null; then echo skip; else nosuchtool .; fi",
        "error",
    ),
    "two-probes": (
        "if command -v sh >/dev/null && command -v nosuchtool >/dev/null; then nosuchtool; fi",
        "error",
    ),
    # the probe picks a wrapper: what runs after it is the check
    "wrapper": (
        (
            'RUN=""\nif command -v nosuchtool >/dev/null; then RUN="nosuchtool -a"; fi\n'
            "$RUN grep -q here f.txt"
        ),
        "passed",
    ),
    "comment": (
        (
            'if ! command -v nosuchtool >/dev/null; then\n  echo "required"; exit 1  # hard\nfi\n'
            "nosuchtool"
        ),
        "error",
    ),
    # a line that failed before the probe, or a PATH the script sets itself: not the probe's
    "failed-before": (
        'grep -q x f.txt || { echo "FAIL"; exit 1; }\ncommand -v nosuchtool || exit 1',
        "failed",
    ),
    "own-path": (
        'export PATH="$PWD/bin:$PATH"\ncommand -v nosuchtool >/dev/null || exit 1\nfalse',
        "failed",
    ),
    "probe-present": ("command -v sh >/dev/null || exit 1\ngrep -q x f.txt", "failed"),
}


def test_a_missing_program_a_script_exits_on_is_an_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, GUARDED)
    assert (found["p/or-exit"][1] or "").startswith(
        "could not run: `nosuchtool` was not found on PATH (the script exits when it fails): "
    )
    assert (found["p/probe-exit"][1] or "").startswith(
        "could not run: `nosuchtool` was not found on PATH (the check looks for it first): "
    )


def test_a_mask_inside_a_substitution_is_not_the_scripts(write_plan: PlanWriter) -> None:
    """``ok=$(grep -c x f || true)`` keeps grep's count, not the script's status: the test
    after it can fail."""
    checks = {
        "count": 'ok=$(grep -c zzz f.txt || true)\n[ "$ok" -ge 1 ]',
        "retry": (
            "for i in 1 2 3; do\n"
            '  code=$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:9/ || true)\n'
            '  if [ "$code" = "200" ]; then exit 0; fi\n'
            "done\nexit 1"
        ),
        "masked": "grep -c zzz f.txt || true",
    }
    out = run_cli("validate", plan(write_plan, checks)).stdout
    warned = {name for name in checks if f'verify-never-fails] task "{name}"' in out}
    assert warned == {"masked"}


# An `if` on what is there (a file, a tool, the environment) whose one branch does the
# checking and whose other only reports, or is absent: where it chose the other, the check
# did not run.
BRANCHES = {
    "else-reports": (
        (
            "if [ -d nodir ]; then\n  cd nodir\n  python3 a.py\nelse\n"
            '  echo "nodir missing, skipping"\nfi'
        ),
        "unverified",
    ),
    "silent": ("if [ -d nodir ]; then\n  python3 nodir/a.py\nfi\ngrep -q here f.txt", "unverified"),
    "ran": ("if [ -f f.txt ]; then\n  python3 -c 'import sys'\nfi", "passed"),
    "ran-failing": ("if [ -f f.txt ]; then\n  python3 -c 'import sys; sys.exit(1)'\nfi", "failed"),
    "one-line": ("if [ -d nodir ]; then python3 nodir/a.py; fi", "unverified"),
    "one-line-ran": ("if [ -f f.txt ]; then python3 -c 'import sys'; fi", "passed"),
    "negated": ("if [ ! -f f.txt ]; then echo skip; else python3 -c 'import sys'; fi", "passed"),
    "shared-line": (
        'if [ -d nodir ]; then\n  cd nodir && python3 a.py; else echo "no dir"; fi',
        "unverified",
    ),
    "joined": (
        "if [ -d nodir ] && [ -f nodir/a.py ]; then\n  python3 nodir/a.py\nfi",
        "unverified",
    ),
    "subshell-ran": ("if [ -f f.txt ]; then\n  (python3 -c 'import sys')\nfi", "passed"),
    # an `elif` chain that picks how to test by what the project holds
    "chain": (
        (
            "if [ -f nodir/pyproject.toml ]; then\n  python3 -m pytest\n"
            "elif [ -f nodir/package.json ]; then\n  npm test\nelse\n"
            '  echo "no project found"\nfi'
        ),
        "unverified",
    ),
    "chain-silent": (
        (
            "if [ -f nodir/a.toml ]; then\n  python3 -m pytest\n"
            "elif [ -f nodir/b.json ]; then\n  npm test\nfi"
        ),
        "unverified",
    ),
    "chain-one-line": (
        (
            "if [ -f nodir/a ]; then python3 -m pytest; elif [ -f nodir/b ]; then npm test; "
            'else echo "nothing to test"; fi'
        ),
        "unverified",
    ),
    "chain-ran": (
        (
            "if [ -f nodir/a.toml ]; then\n  python3 -m pytest\n"
            "elif [ -f f.txt ]; then\n  python3 -c 'import sys'\nelse\n  echo none\nfi"
        ),
        "passed",
    ),
    "chain-ran-failing": (
        (
            "if [ -f f.txt ]; then\n  python3 -c 'import sys; sys.exit(1)'\n"
            "elif [ -f nodir/b.json ]; then\n  npm test\nfi"
        ),
        "failed",
    ),
    "chain-middle": (
        (
            "if [ -f nodir/a.toml ]; then\n  python3 -m pytest\n"
            'elif [ -f f.txt ]; then\n  echo "only f.txt, nothing to run"\n'
            "else\n  python3 -c 'import sys'\nfi"
        ),
        "unverified",
    ),
    "import-probe": (
        (
            "if python3 -c 'import planrun_no_such_module' 2>/dev/null; then\n"
            '  python3 -m planrun_no_such_module\nelse\n  echo "not installed, skipping"\nfi'
        ),
        "unverified",
    ),
    # a function of the script that checks, or that only reports
    "function-checks": (
        (
            "run_tests() {\n  python3 nodir/a.py\n}\nif [ -d nodir ]; then\n  run_tests\nfi\n"
            "grep -q here f.txt"
        ),
        "unverified",
    ),
    "function-reports": (
        (
            'note() { echo "$1"; }\nif [ -d nodir ]; then\n  python3 nodir/a.py\nelse\n'
            '  note "no dir"\nfi'
        ),
        "unverified",
    ),
    "function-ran": (
        "run() {\n  python3 -c 'import sys'\n}\nif [ -f f.txt ]; then\n  run\nfi",
        "passed",
    ),
    "case-reports": (
        (
            'case "${PLANRUN_NO_SUCH_VARIABLE:-}" in\n  true) python3 -c "import sys" ;;\n'
            '  *) echo "not asked for, skipping" ;;\nesac'
        ),
        "unverified",
    ),
    "case-no-default": (
        'case "$(uname -s)" in\n  NoSuchSystem) python3 -c "import sys" ;;\nesac',
        "unverified",
    ),
    "case-ran": ('case "$(uname -s)" in\n  *) python3 -c "import sys" ;;\nesac', "passed"),
    "bundle-chain": (
        (
            "if [ -f nodir/Gemfile ]; then\n  bundle exec rspec\nelif [ -f nodir/go.mod ]; then\n"
            '  go test ./...\nelse\n  echo "no project here"\nfi'
        ),
        "unverified",
    ),
    # piped into tee, or in a function called once: watched by what the other branch prints
    "piped": (
        (
            "if [ -d nodir ]; then (cd nodir && python3 a.py); "
            'else echo "no nodir, skipping"; fi 2>&1 | tee log.txt'
        ),
        "unverified",
    ),
    "in-function": (
        (
            "run() {\n  if [ -d nodir ]; then\n    python3 nodir/a.py\n  else\n"
            '    echo "no nodir, skipping"\n  fi\n}\nrun'
        ),
        "unverified",
    ),
    "in-function-ran": (
        (
            "run() {\n  if [ -f f.txt ]; then\n    python3 -c 'import sys'\n  else\n"
            '    echo "no f.txt, skipping"\n  fi\n}\nrun'
        ),
        "passed",
    ),
    "after-set": ("set -euo pipefail\nif [ -f f.txt ]; then python3 -c 'import sys'; fi", "passed"),
    "needle-in-line": (
        'if [ -f f.txt ]; then\n  python3 -c \'print("2 skipped")\'\nelse\n  echo "skipped"\nfi',
        "passed",
    ),
    # `COND && CHECK` before the last statement: an `if` without `else`
    "and-form": ("[ -d nodir ] && (cd nodir && python3 a.py)\ngrep -q here f.txt", "unverified"),
    "and-form-ran": ("[ -f f.txt ] && python3 -c 'import sys'\ngrep -q here f.txt", "passed"),
    "and-form-later": (
        "cd .\n[ -f f.txt ] && python3 -c 'import sys'\ngrep -q here f.txt",
        "passed",
    ),
    "and-form-later-skipped": (
        "cd .\n[ -d nodir ] && python3 nodir/a.py\ngrep -q here f.txt",
        "unverified",
    ),
    "and-probe-missing": ("command -v nosuchtool >/dev/null && nosuchtool check .\ntrue", "error"),
    # a branch that runs another program that examines the work, where nothing after does
    "grep-branch": (
        (
            "if [ -f nodir/index.html ]; then grep -q root nodir/index.html; "
            'else echo "not built, skipping"; fi'
        ),
        "unverified",
    ),
    "grep-branch-ran": (
        'if [ -f f.txt ]; then grep -q here f.txt; else echo "no f.txt, skipping"; fi',
        "passed",
    ),
    "grep-branch-then-check": (
        "if [ -f nodir/x ]; then\n  grep -q a nodir/x\nfi\ngrep -q here f.txt",
        "passed",
    ),
    "report-then-check": (
        (
            'if [ -f f.txt ]; then echo "skip marker found, skipping"; '
            "else python3 -c 'import sys'; fi"
        ),
        "unverified",
    ),
    "install-branch": (
        (
            "if [ -f nodir/requirements.txt ]; then\n"
            "  python3 -m pip install -r nodir/requirements.txt\nfi\ngrep -q here f.txt"
        ),
        "passed",
    ),
    # setup where something is missing is no skip of a check
    "setup-if-missing": (
        'if [ ! -f f.txt ]; then\n  python3 -c \'open("f.txt", "w")\'\nfi\ngrep -q here f.txt',
        "passed",
    ),
    # setup is no check, and two branches that both check choose how to check
    "setup": ("if [ -f .env ]; then\n  . ./.env\nfi\ngrep -q here f.txt", "passed"),
    "both": (
        (
            'if [ -n "${PLANRUN_NO_SUCH_VARIABLE:-}" ]; then\n  python3 -c "import sys"\n'
            'else\n  python3 -c "import os"\nfi'
        ),
        "passed",
    ),
}


def test_a_branch_that_checks_skipped_by_an_if_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, path, found = run_table(write_plan, tmp_path, BRANCHES)
    fix = (
        "let the check fail where what it tests is not there (`test -d DIR` first), or drop "
        "the condition"
    )
    assert (found["p/silent"][1] or "").startswith(
        "its script did not run `python3 nodir/a.py` (line 2), which the `if` of line 1 of "
        f"the script skips when `[ -d nodir ]` fails ({fix})"
    )
    assert (found["p/one-line"][1] or "").startswith(
        "its script did not run `python3 nodir/a.py`, which the `if` of line 1 skips when "
        f"`[ -d nodir ]` fails ({fix})"
    )
    assert (found["p/else-reports"][1] or "").startswith(
        "its script printed `nodir missing, skipping`, which line 1 of the script prints when "
        "`[ -d nodir ]` fails, instead of `python3 a.py`"
    )
    assert (found["p/chain"][1] or "").startswith(
        "its script printed `no project found`, which line 1 of the script prints when none "
        "of `[ -f nodir/pyproject.toml ]`, `[ -f nodir/package.json ]` succeeds, instead of "
        "`python3 -m pytest`"
    )
    assert (found["p/and-form-later-skipped"][1] or "").startswith(
        "its script went on after the `&&` of line 2 of the script ended with exit 1: "
        "`python3 nodir/a.py` did not run when `[ -d nodir ]` fails, or failed"
    )
    assert "when its conditions choose a branch that only reports" in (
        found["p/chain-middle"][1] or ""
    )
    out = run_cli("validate", path).stdout
    assert (
        f'{path}:{at(checks, "silent")}: warning[verify-skips-itself] task "silent": verify '
        "`if [ -d nodir ]; then ⏎ python3 nodir/a.py ⏎ fi ⏎ grep -q...`: the `if` of "
        "line 1 of the script skips `python3 nodir/a.py` when `[ -d nodir ]` fails; when it "
        f"does, the task is unverified\n    hint: {fix}"
    ) in out


# A file a script sources by a literal path is read: one that sets no DEBUG trap of its own
# (a virtualenv's activate script) leaves bash's record of the lines it reached.
SOURCED = {
    "ran": (". ./env.sh\nif [ -f f.txt ]; then\n  python3 -c 'import sys'\nfi", "passed"),
    "skipped": (". ./env.sh\nif [ -d nodir ]; then\n  python3 -c 'import sys'\nfi", "unverified"),
    "own-trap": (". ./trap.sh\nif [ -f f.txt ]; then\n  python3 -c 'import sys'\nfi", "unverified"),
    # a file that is not there sources nothing (read again after the run)
    "missing": (
        ". ./nofile.sh || true\nif [ -f f.txt ]; then\n  python3 -c 'import sys'\nfi",
        "passed",
    ),
}


def test_a_sourced_file_without_a_debug_trap_keeps_bashs_record(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "env.sh").write_text('VIRTUAL_ENV=/tmp/venv\nexport PATH="$PATH"\nhash -r\n')
    (tmp_path / "trap.sh").write_text("trap 'echo step' DEBUG\n")
    _, _, found = run_table(write_plan, tmp_path, SOURCED)
    assert (found["p/skipped"][1] or "").startswith(
        "its script did not run `python3 -c 'import sys'` (line 3), which the `if` of line 2"
    )
    assert (found["p/own-trap"][1] or "").startswith("planrun cannot see whether")


@pytest.mark.parametrize(
    ("condition", "skip"),
    [
        ("! docker info >/dev/null 2>&1", True),
        ("! pg_isready -q", True),
        ("! nvidia-smi >/dev/null", True),
        ("! redis-cli ping", True),
        ("[ -f /.dockerenv ]", True),
        ("[ -d /proc/self ]", True),
        ("! node -e \"require('vite')\"", True),
        ('! python3 -c "import numpy as np"', True),
        ("! ruff --version", True),
        ('[ -z "$CI" ]', True),
        # the work, or the script's own values: a check that passed
        ("[ -f dist/app.js ]", False),
        ("[ -d /opt/app/dist ]", False),
        ("! grep -q TODO src", False),
        ("docker build .", False),
        ('python3 -c "import json; print(1)"', False),
    ],
)
def test_which_conditions_ask_the_machine(condition: str, skip: bool) -> None:
    """An ``exit 0`` on the success of a condition is a skip only where the condition asks
    the machine or its environment (read as planrun reads a script, before running it)."""
    script = f"if {condition}; then exit 0; fi\nmake test"
    found = [h for h in reports.hidden(script) if h.shape == "`exit 0`"]
    assert bool(found) == skip


def test_a_variable_the_script_defaults_from_the_environment_is_the_environments() -> None:
    script = 'CI="${CI:-}"\n[ -z "$CI" ] && exit 0\nmake test'
    assert [h.skip for h in reports.hidden(script)] == ['when `[ -z "$CI" ]` succeeds']
    own = 'found=false\ngrep -q x f && found=true\n[ "$found" = true ] && exit 0\nmake test'
    assert [h.skip for h in reports.hidden(own) if h.skip] == []
    # what `read` or bash itself set is the run's, not the environment's
    for script in (
        'read -r answer < f\nX="${answer}"\n[ -z "$X" ] && exit 0\nmake test',
        'X="${PIPESTATUS[0]}"\n[ "$X" = 0 ] && exit 0\nmake test',
    ):
        assert [h.skip for h in reports.hidden(script) if h.skip] == []


# A fake docker on PATH that says what Docker says where its daemon or plugin is missing.
FAKE = (
    "mkdir -p {0} && printf '#!/bin/sh\\necho \"{1}\" >&2\\nexit 1\\n' > {0}/docker"
    ' && chmod +x {0}/docker\nPATH="$PWD/{0}:$PATH" docker {2}'
)
DOCKER = {
    "daemon-down": (
        FAKE.format("a", "Cannot connect to the Docker daemon. Is it running?", "run app pytest"),
        "error",
    ),
    "no-compose": (
        FAKE.format("b", "docker: unknown command: docker compose", "compose version"),
        "error",
    ),
}


def test_a_docker_that_cannot_run_is_an_error_not_a_failure(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, DOCKER)
    assert "the Docker daemon is not running here" in (found["p/daemon-down"][1] or "")
    assert "docker has no `compose` command here" in (found["p/no-compose"][1] or "")


# `set -euo pipefail` first only makes a failure stop the script: the checklist after it is
# watched as without it.
STRICT = {
    "strict-checklist": (
        'set -euo pipefail\ntest -f f.txt && echo "f.txt here"\necho "verified"',
        "passed",
    ),
    "strict-checklist-missing": (
        'set -euo pipefail\ntest -f nofile && echo "nofile here"\necho "verified"',
        "unverified",
    ),
}


def test_a_strict_shell_line_keeps_a_checklist_watched(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, STRICT)
    assert "none of its checks printed what it prints on failure" in (
        found["p/strict-checklist"][1] or ""
    )


def test_a_failure_after_a_strict_shell_line_is_named(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    table = {"strict-failure": ("set -euo pipefail\ntest -f nofile\necho ok", "failed")}
    _, _, found = run_table(write_plan, tmp_path, table)
    assert (found["p/strict-failure"][1] or "").startswith(
        "exit 1: `test -f nofile` (line 2 of the script) in `set -euo pipefail; test -f nofile"
    )
