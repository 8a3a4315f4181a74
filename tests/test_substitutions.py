"""What a `$(...)` hides: a test reading the output of a command that failed decided on nothing
(`test -z "$(grep -rn TODO src/)"` with no src/), and -e stopping a script at an assignment from
a search that found nothing (`n=$(grep -c x f)`) or at `((n++))` from 0 stopped it before its
check: neither is the work failing. Real child processes; plans in tmp_path."""

from __future__ import annotations

from pathlib import Path

from conftest import PlanWriter
from test_evidence_gaps import run_table

# f.txt holds "no match here"; there is no src/, no a.json, no missing-tool on PATH.
TESTED = {
    "no-files": ('[ "$(jq -r .v a.json)" = "$(jq -r .v b.json)" ]', "unverified"),
    "loop": ('for t in $(ls tests/*.sh 2>/dev/null); do bash "$t"; done', "unverified"),
    "no-tool": ('test -z "$(missing-tool check .)"', "error"),
    # an emptiness test: nothing there is its answer, a folder that is not there too
    "no-folder": ('test -z "$(grep -rn TODO src/)"', "passed"),
    "absent": ('[ -z "$(ls build/*.o 2>/dev/null)" ]', "passed"),
    "find": ("[ -z \"$(find nodir -name '*.py')\" ]", "passed"),
    # a loop that fails on any item it finds looks for absence
    "none-left": ('for f in $(ls *.bak 2>/dev/null); do echo "$f left"; exit 1; done', "passed"),
    # exit 1 is grep's answer: nothing found, which the test asks for
    "none-found": ('[ -z "$(grep -n TODO f.txt)" ]', "passed"),
    "counted": ('[ "$(grep TODO f.txt | wc -l)" -eq 0 ]', "passed"),
    "probe": ('[ -z "$(command -v missing-tool)" ]', "passed"),
    "found": ('[ -z "$(grep -n match f.txt)" ]', "failed"),
    "same": ('[ "$(grep -c match f.txt)" = "$(grep -c here f.txt)" ]', "passed"),
    # the failure makes the test fail: judged by its exit status
    "compared": ('[ "$(cat nofile)" = "hello" ]', "failed"),
}


def test_a_failed_command_a_test_reads_the_output_of_shows_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, TESTED)
    assert (found["p/no-files"][1] or "").startswith(
        "its script went on after `jq -r .v a.json` failed (exit 2) in a `$(...)` a test "
        "or loop reads: the script took what it printed for an answer (let a failure there "
        "fail the check: run it on a line of its own first)"
    )
    assert (found["p/no-tool"][1] or "").startswith(
        "could not run: `missing-tool` was not found on PATH (a test reads what it prints)"
    )


STOPS = {
    "count": ('n=$(grep -c TODO f.txt)\n[ "$n" -eq 0 ]', "error"),
    "piped": ('count=$(grep -r TODO f.txt | wc -l)\n[ "$count" -eq 0 ]', "error"),
    "matches": ('M=$(grep -n TODO f.txt)\nif [ -n "$M" ]; then exit 1; fi', "error"),
    "counter": (
        (
            'PASS=0\ncheck() { if "$@"; then ((PASS++)); fi; }\ncheck test -f f.txt\n'
            '[ "$PASS" -eq 1 ]'
        ),
        "error",
    ),
    "let": ("n=0\nlet n++\n[ $n -eq 1 ]", "error"),
    # a counter of failures stops the script where a check failed: its failure
    "fail-counter": ("FAIL=0\ngrep -q x f.txt || ((FAIL++))\n[ $FAIL -eq 0 ]", "failed"),
    "after-or": ("n=0\ngrep -q x f.txt || ((n++))\n[ $n -eq 0 ]", "failed"),
    # what it goes on to test needs a match: the script fails either way
    "needs-a-match": ('n=$(grep -c TODO f.txt)\n[ "$n" -gt 0 ]', "failed"),
    "then-prints": ('v=$(grep -o "v=[0-9]*" f.txt)\necho "$v"', "failed"),
    # a test in (( )), not a counter: it fails the script as it should
    "arithmetic-test": ("n=$(wc -l < f.txt)\n(( n >= 5 ))", "failed"),
    "arithmetic-zero": ("n=$(grep -c TODO f.txt)\n(( n == 0 ))", "error"),
    # a count that found something goes on to its test; a grep that could not look fails
    "found": ('n=$(grep -c match f.txt)\n[ "$n" -eq 0 ]', "failed"),
    "no-file": ('n=$(grep -c TODO nofile)\n[ "$n" -eq 0 ]', "failed"),
    "written-well": ('n=$(grep -c TODO f.txt || true)\n[ "$n" -eq 0 ]', "passed"),
    # with the script's own `set +e` nothing stops there: the test decides
    "own-plus-e": ('set +e\nn=$(grep -c TODO f.txt)\n[ "$n" -eq 0 ]', "passed"),
    # quoted, the assignment's status is still the substitution's
    "quoted": ('set -e\nn="$(grep -c TODO f.txt)"\n[ "$n" -eq 0 ]', "error"),
    "quoted-needs-a-match": ('set -e\nn="$(grep -c TODO f.txt)"\n[ "$n" -gt 0 ]', "failed"),
    "quoted-found": ('n="$(grep -c match f.txt)"\n[ "$n" -eq 1 ]', "passed"),
    # text around the substitution: what it holds is not the count, so nothing is worked out
    "quoted-with-text": ('n="x$(grep -c TODO f.txt)"\n[ "$n" = x0 ]', "failed"),
}


def test_a_script_stopped_by_e_at_a_line_that_checks_nothing_is_an_error(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, STOPS)
    assert (found["p/count"][1] or "").startswith(
        "could not run: `n=$(grep -c TODO f.txt)` stopped the script at line 1: `grep -c TODO "
        "f.txt` found no match (exit 1), the assignment failed with it, and -e (planrun runs a "
        "check with `bash -eo pipefail`, as GitHub Actions does) ends it there (write "
        "`n=$(grep -c TODO f.txt || true)`)"
    )
    assert (found["p/counter"][1] or "").startswith(
        "could not run: `((PASS++))` stopped the script at line 3: an arithmetic command whose "
        "value is 0 exits 1, and -e (planrun runs a check with `bash -eo pipefail`, as GitHub "
        "Actions does) ends it there (write `: $((PASS++))`)"
    )
    assert "write `count=$(grep -r TODO f.txt | wc -l || true)`" in (found["p/piped"][1] or "")
    assert (found["p/quoted"][1] or "").startswith(
        'could not run: `n="$(grep -c TODO f.txt)"` stopped the script at line 2: `grep -c '
        "TODO f.txt` found no match (exit 1), the assignment failed with it, and -e (planrun "
        "runs a check with `bash -eo pipefail`, as GitHub Actions does) ends it there (write "
        '`n="$(grep -c TODO f.txt || true)"`)'
    )
