"""Checks whose exit 0 hides that nothing was checked: a retry loop that gave up, a guard
before `&&` whose path is not there (`|| echo skipping` after), a failure inside a `<(...)`,
a loop over named folders none of which is there. Real child processes; plans in tmp_path."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import PlanWriter, run_cli
from planrun import checkoutput, retryloops
from test_evidence_gaps import at, run_table

WAITS = {
    "gives-up-break": (
        "for i in 1 2 3; do test -f nofile && break; sleep 0.01; done",
        "unverified",
    ),
    "gives-up-exit-0": (
        'for i in 1 2; do test -f nofile && exit 0; sleep 0.01; done\necho "gave up"',
        "unverified",
    ),
    "gives-up-on-a-count": (
        "n=0\nuntil test -f nofile; do\n  n=$((n+1))\n  [ $n -ge 2 ] && break\n  sleep 0.01\ndone",
        "unverified",
    ),
    # A check after the loop decides; so does `exit 1` after it, or the probe last in it.
    "checked-after": (
        "for i in 1 2; do test -f f.txt && break; sleep 0.01; done\ntest -f f.txt",
        "passed",
    ),
    "exit-1-after": (
        "for i in 1 2; do test -f nofile && exit 0; sleep 0.01; done\nexit 1",
        "failed",
    ),
    "probe-last": ("for i in 1 2; do sleep 0.01; test -f nofile && break; done", "failed"),
    "until-it-comes": ("until test -f f.txt; do sleep 0.01; done", "passed"),
    # it gives up with exit 1
    "gives-up-failing": (
        "for i in 1 2 3; do test -f nofile && break; [ $i -eq 3 ] && exit 1; sleep 0.01; done",
        "failed",
    ),
}


def test_a_retry_loop_that_gives_up_with_exit_0_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, path, found = run_table(write_plan, tmp_path, WAITS)
    fix = retryloops.FIX
    assert found["p/gives-up-break"][1] == (
        "planrun cannot see whether `test -f nofile` succeeded: the loop around it ends with "
        f"exit 0 when it never does ({fix}): `for i in 1 2 3; do test -f nofile && break; "
        f"sleep 0.01; done` (line {at(checks, 'gives-up-break')})"
    )
    assert "whether `test -f nofile` succeeded" in (found["p/gives-up-on-a-count"][1] or "")
    out = run_cli("validate", path).stdout
    assert (
        f"{path}:{at(checks, 'gives-up-break')}: warning[verify-failure-ignored] task "
        '"gives-up-break": verify `for i in 1 2 3; do test -f nofile && break; sleep 0.01; '
        "done`: a failure of `test -f nofile` does not fail it: the loop around it ends with "
        f"exit 0 when it never succeeds\n    hint: {fix}"
    ) in out
    assert '"checked-after"' not in out


@pytest.mark.parametrize(
    ("script", "waited"),
    [
        (
            "for i in 1 2 3; do curl -fs http://x && break; sleep 1; done; echo up",
            "curl -fs http://x",
        ),
        (
            "for i in 1 2 3; do sleep 1; if curl -fs http://x; then break; fi; done",
            "curl -fs http://x",
        ),
        ("while ! test -f r; do sleep 1; [ $((i+=1)) -gt 3 ] && break; done", "test -f r"),
        ("while true; do curl -fs x && break; (( n++ > 5 )) && break; sleep 1; done", "curl -fs x"),
        (
            "i=0; while [ $i -lt 30 ]; do pg_isready && break; i=$((i+1)); sleep 1; done",
            "pg_isready",
        ),
        ("set -e\nfor i in 1 2 3; do pg_isready && exit 0; echo waiting; done", "pg_isready"),
        ("for i in 1 2 3; do curl -fs x && break || sleep 1; done", "curl -fs x"),
        ("w() { for i in 1 2; do curl -fs x && return 0; sleep 1; done; }\nw", "curl -fs x"),
        ("( for i in 1 2 3; do curl -fs x && break; sleep 1; done )", "curl -fs x"),
        ("w() { for i in 1 2; do curl -fs x && return 0; sleep 1; done; return 1; }\nw", None),
        ("n=0; until curl -fs x || [ $n -ge 3 ]; do n=$((n+1)); sleep 1; done", "curl -fs x"),
        ("n=0; while ! curl -fs x && [ $n -lt 3 ]; do n=$((n+1)); sleep 1; done", "curl -fs x"),
        ("while read -r line; do echo $line; done < f.txt", None),
        # it waits as long as it takes, or ends with the probe's status, or is no wait
        ("while true; do curl -fs x && break; sleep 1; done", None),
        ("until test -f r; do sleep 1; done", None),
        ("for f in src/*.py; do python -m py_compile $f || exit 1; done", None),
        ("for f in *.md; do grep -q TODO $f && exit 1; done", None),
        ("for i in 1 2 3; do curl -fs http://x && break; sleep 1; done; curl -fs http://x", None),
    ],
)
def test_which_loops_give_up_quietly(script: str, waited: str | None) -> None:
    assert retryloops.gives_up(script) == waited


GUARDS = {
    "absent": (
        '[ -d nodir ] && (cd nodir && python3 -c "import sys") || echo "no nodir, skipping"',
        "unverified",
    ),
    "absent-after-set": (
        "set -euo pipefail\n[ -f nofile ] && grep -q x nofile || true",
        "unverified",
    ),
    # the report names a failure: the guarded path is the work itself
    "fail-report": ('[ -f nofile.js ] && node nofile.js || echo "FAIL: build missing"', "failed"),
    # the path is there: the check ran, and its failure is one
    "present-fails": ('[ -f f.txt ] && grep -q x f.txt || echo "skipping"', "failed"),
}


def test_a_guard_before_and_whose_path_is_not_there_skipped_the_check(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, GUARDS)
    assert (found["p/absent"][1] or "").startswith(
        'its script skips `(cd nodir && python3 -c "import sys")` when `[ -d nodir ]` fails, '
        "and it failed here (let the check fail where what it tests is not there"
    )


SUBSTITUTIONS = {
    "missing-input": ("diff <(sort nofile) <(sort nofile)", "unverified"),
    "redirected": ("cmp <(sort nofile 2>/dev/null) <(sort nofile 2>/dev/null)", "unverified"),
    "same": ("diff <(sort f.txt) <(sort f.txt)", "passed"),
    "differs": ("diff <(echo a) <(echo b)", "failed"),
    # grep's exit 1 is "none found", which it printed (a count of 0)
    "count-none": ("diff <(grep -c x f.txt) <(echo 0)", "passed"),
}


def test_a_failure_inside_a_process_substitution_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, SUBSTITUTIONS)
    assert (found["p/missing-input"][1] or "").startswith(
        "its script went on after `sort nofile` failed in a `<(...)`: nothing reads its status"
    )


FOLDERS = {
    "none-there": (
        (
            'for d in nodir1 nodir2; do if [ -f "$d/package.json" ]; then (cd "$d" && npm test); '
            "fi; done"
        ),
        "unverified",
    ),
    "continue-form": (
        'for d in nodir1 nodir2; do\n  [ -d "$d" ] || continue\n  python3 "$d/a.py"\ndone',
        "unverified",
    ),
    "one-there": (
        (
            'mkdir -p d1 && echo "print(1)" > d1/a.py\n'
            'for d in d1 nodir; do [ -d "$d" ] || continue; python3 "$d/a.py"; done'
        ),
        "passed",
    ),
    # the loop takes each folder away after its check: what is there after the run says nothing
    "removes": (
        (
            "mkdir -p d2 && echo match > d2/t.txt\n"
            'for d in d2 nodir; do [ -d "$d" ] || continue; grep -q match "$d/t.txt"; rm -r "$d"; '
            "done"
        ),
        "passed",
    ),
}


def test_a_loop_over_folders_none_of_which_is_there_checked_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, FOLDERS)
    assert (found["p/none-there"][1] or "").startswith(
        'its script skips `(cd "$d" && npm test)` where `[ -f "$d/package.json" ]` fails, and '
        "it failed for each of nodir1, nodir2 here"
    )


SAID = {
    "printed-fail": ("python3 -c \"print('FAIL: f.txt wrong')\"", "unverified"),
    "case-reports": (
        'case $(cat f.txt) in ok) echo ok;; *) echo "unexpected";; esac',
        "unverified",
    ),
    "printed-ok": ("python3 -c \"print('all good')\"", "passed"),
    "counted-none": ("grep -q match f.txt\nprintf 'PASSED: 2\\nFAILED: 0\\n'", "passed"),
    # a program's FAIL the check expects (`!`, `if X; then exit 1; fi`)
    "expected-fail": ("! python3 -c \"print('FAIL: x'); raise SystemExit(1)\"", "passed"),
    "found-in-a-log": ("echo 'FAIL: x' > log.txt\ngrep 'FAIL: x' log.txt", "passed"),
}


def test_a_check_that_says_it_failed_and_exits_0_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    table = dict(SAID)
    xfail = "import pytest\n\n@pytest.mark.xfail\ndef test_x():\n    assert 0\n"
    (tmp_path / "xf_test.py").write_text(xfail)
    table["all-xfailed"] = (
        f'"{sys.executable}" -m pytest -q -p no:cacheprovider xf_test.py',
        "unverified",
    )
    _, _, found = run_table(write_plan, tmp_path, table)
    assert (found["p/printed-fail"][1] or "").startswith(
        "its script printed `FAIL: f.txt wrong` yet exited 0 (let it exit 1 when it fails)"
    )
    assert (found["p/all-xfailed"][1] or "").startswith("ran no tests: ")


CAUGHT = {
    "caught": (
        (
            'python3 -c "\ntry:\n    import nope_module\nexcept Exception as e:\n'
            "    print('ERROR', e)\n\""
        ),
        "unverified",
    ),
    # it lets the error through: its exit status decides
    "raised": (
        (
            'python3 -c "\ntry:\n    import json\nexcept ImportError as e:\n'
            "    print('ERROR', e)\n    raise SystemExit(1)\n\""
        ),
        "passed",
    ),
}


def test_a_check_that_catches_its_own_error_and_exits_0_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, CAUGHT)
    assert (found["p/caught"][1] or "").startswith(
        "its script printed `ERROR No module named 'nope_module'` yet exited 0: it caught the "
        "error itself (let it exit 1 there, or let the error through)"
    )


@pytest.mark.parametrize(
    ("run", "output", "caught"),
    [
        (
            "python3 -c 'try: ...\nexcept Exception as e: print(e)'",
            "x\nError: boom\n",
            "Error: boom",
        ),
        (
            "python3 - <<EOF\ntry: ...\nexcept: traceback.print_exc()\nEOF",
            "ValueError: bad",
            "ValueError: bad",
        ),
        ("node -e 'try{f()}catch(e){console.log(\"ERROR\", e)}'", "ERROR x", "ERROR x"),
        (
            "python3 -c 'try: ...\nexcept Exception as e: print(\"Could not import app:\", e)'",
            "Could not import app: No module named 'app'",
            "Could not import app: No module named 'app'",
        ),
        # a negative test: what it tries must raise (it exits 1 otherwise), or it says so
        (
            "python3 -c 'try: int(x)\n raise SystemExit(1)\nexcept ValueError: print(\"ok\")'",
            "ValueError: bad",
            None,
        ),
        (
            "node -e 'try{f()}catch(e){console.log(\"Error thrown as expected\")}'",
            "Error thrown as expected",
            None,
        ),
        # nothing caught by the check itself, a count of none, a search's own line
        ("python3 app.py", "Error: boom", None),
        ("python3 -c 'try: ...\nexcept: pass'", "Errors: 0", None),
        ("python3 -c 'try: ...\nexcept: pass'; grep Error log", "Error: in log", None),
    ],
)
def test_which_last_lines_say_an_error_was_caught(
    run: str, output: str, caught: str | None
) -> None:
    assert checkoutput.caught_error(run, output) == caught


VALUES = {
    "says-false": ("python3 -c \"print(open('f.txt').read() == 'bye\\n')\"", "failed"),
    "says-true": ("python3 -c \"print(open('f.txt').read() == 'no match here\\n')\"", "passed"),
    "jq-false": ("jq -n '1 == 2'", "failed"),
    # names imported or bound first, a variable of the environment, output merged
    "imports-first": ("python3 -c \"import os; print(os.path.exists('src/b.py'))\"", "failed"),
    "env-first": ('PYTHONPATH=src python3 -c "print(1 == 2)" 2>&1', "failed"),
    "bound-first": ("python3 -c \"import os; p = 'f.txt'; print(os.path.isfile(p))\"", "passed"),
    # what it printed before counts too: a False fails, anything else is no answer
    "prints-first": ("python3 -c \"print('checking'); print(1 == 2)\"", "failed"),
    "prints-then-true": ("python3 -c \"print('checking'); print(1 == 1)\"", "unverified"),
    "calls-first": ('python3 -c "import os; os.getcwd(); print(1 == 2)"', "failed"),
    # a result word: a failure's fails, anything else is no answer
    "says-missing": (
        "python3 -c \"import os; print('OK' if os.path.exists('src/b.py') else 'MISSING')\"",
        "failed",
    ),
    "says-fail-why": (
        "python3 -c \"print('PASS' if 'x' in open('f.txt').read() else 'FAIL: x missing')\"",
        "failed",
    ),
    "says-ok": (
        "python3 -c \"import os; print('OK' if os.path.exists('f.txt') else 'MISSING')\"",
        "unverified",
    ),
}


LOOKUPS = {
    "prints-null": ("jq .scripts.test package.json", "failed"),
    # false may be the value it wants: no answer either way
    "prints-false": ("jq -r .private package.json", "unverified"),
    "each": ("jq '.[] | .done' tasks.json", "unverified"),
    # a structure printed whole: its false is one value of it
    "whole": ("jq .flags package.json", "passed"),
    "found": ("jq -r .name package.json", "passed"),
    "exit-status": ("jq -e .name package.json", "passed"),
}


def test_a_lookup_that_printed_null_or_false_found_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    package = '{"name": "app", "private": false, "scripts": {}, "flags": [true, false]}'
    (tmp_path / "package.json").write_text(package)
    (tmp_path / "tasks.json").write_text('[{"done": true}, {"done": false}]')
    _, _, found = run_table(write_plan, tmp_path, LOOKUPS)
    assert (found["p/prints-null"][1] or "").startswith(
        "exit 0 (it printed `null`: what it looks up is not there): `jq .scripts.test package.json`"
    )
    assert (found["p/prints-false"][1] or "").startswith(
        "its script printed `false` and exits 0 whatever it prints (`jq -e` exits 1 on false or "
        "null; compare with what you expect: `jq -e '.x == 1'`)"
    )
    assert checkoutput.looked_up_nothing("node -p \"require('./p.json').x\"", "undefined\n")


def test_a_check_that_only_prints_whether_it_holds_is_judged_by_what_it_printed(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    table = (
        dict(VALUES) if shutil.which("jq") else {k: v for k, v in VALUES.items() if "jq" not in k}
    )
    if shutil.which("node"):
        table["node-assert"] = ("node -e \"console.assert(1 === 2, 'mismatch')\"", "failed")
        table["node-assert-holds"] = ('node -e "console.assert(1 === 1)"', "passed")
        table["node-p"] = ('node -p "1 === 2"', "failed")
    _, path, found = run_table(write_plan, tmp_path, table)
    assert (found["p/says-false"][1] or "").startswith(
        "exit 0 (it printed `False`: what it checks does not hold)"
    )
    out = run_cli("validate", path).stdout
    assert "it only prints whether what it checks holds (true or false)" in out


# In a task that takes something away (its id is its name here), a printed False may be the
# answer it wants (what was removed is gone) and a printed True may not be (it is still there).
REMOVALS = {
    "remove-old-cfg": ("python3 -c \"import os; print(os.path.exists('old.cfg'))\"", "unverified"),
    "drop-f-txt": ("python3 -c \"import os; print(os.path.exists('f.txt'))\"", "unverified"),
    # a check that fails when it does not hold is judged by its status as ever
    "remove-old-cfg-exits": (
        "python3 -c \"import os; raise SystemExit(os.path.exists('old.cfg'))\"",
        "passed",
    ),
    "remove-old-cfg-still-there": (
        "python3 -c \"import os; raise SystemExit(os.path.exists('f.txt'))\"",
        "failed",
    ),
    # a task that removes nothing: False is a failure, True a pass
    "add-new-cfg": ("python3 -c \"import os; print(os.path.exists('new.cfg'))\"", "failed"),
    "keep-f-txt": ("python3 -c \"import os; print(os.path.exists('f.txt'))\"", "passed"),
}


def test_a_printed_truth_value_in_a_task_that_removes_something_is_no_answer(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    checks, _, found = run_table(write_plan, tmp_path, REMOVALS)
    assert found["p/remove-old-cfg"][1] == (
        "it only prints whether what it checks holds, and the task says `remove`: planrun "
        "cannot tell whether it expects True (what is left) or False (what is gone) (exit "
        "non-zero when it does not hold: `assert not os.path.exists(...)`): `python3 -c "
        f"\"import os; print(os.path.exists('old.cfg'))\"` (line {at(checks, 'remove-old-cfg')})"
    )
    assert (found["p/add-new-cfg"][1] or "").startswith(
        "exit 0 (it printed `False`: what it checks does not hold)"
    )


GATED = {
    "gated-off": ('if [ -n "${PLANRUN_TEST_GATE:-}" ]; then grep -q x f.txt; fi', "unverified"),
    "and-off": ('[ "${PLANRUN_TEST_GATE:-0}" = 1 ] && grep -q x f.txt', "unverified"),
    "gated-on": ('if [ -z "${PLANRUN_TEST_GATE:-}" ]; then grep -q match f.txt; fi', "passed"),
    "on-and-fails": ('[ -z "${PLANRUN_TEST_GATE:-}" ] && grep -q x f.txt', "failed"),
    # the script sets it: not the environment's to decide
    "set-by-script": (
        'PLANRUN_TEST_GATE=1\nif [ -n "$PLANRUN_TEST_GATE" ]; then grep -q match f.txt; fi',
        "passed",
    ),
}


def test_a_one_line_check_gated_on_the_environment_that_did_not_run_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANRUN_TEST_GATE", raising=False)
    _, _, found = run_table(write_plan, tmp_path, GATED)
    assert (found["p/gated-off"][1] or "").startswith(
        'its script skips `grep -q x f.txt` when `[ -n "${PLANRUN_TEST_GATE:-}" ]` fails, and it '
        "failed in the environment planrun gave it"
    )


@pytest.mark.parametrize(
    ("run", "output", "runner"),
    [
        ("python3 -m unittest 2>&1 | tail -1", "OK\n", "unittest"),
        ("python -m unittest discover -s tests > log.txt 2>&1", "", "unittest"),
        ("python3 -m unittest -v", "test_a ... ok\n\nRan 1 test in 0.001s\n\nOK\n", None),
        ("python3 -m pytest -q 2>&1 | tail -1", "1 passed in 0.01s\n", None),
    ],
)
def test_a_unittest_run_whose_output_shows_no_count_shows_nothing(
    run: str, output: str, runner: str | None
) -> None:
    found = checkoutput.ran_no_tests(run, 0, output)
    assert (found.split(",")[0] if found else None) == runner
