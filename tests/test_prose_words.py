"""What the words of a verify line ask of its commands: not to run them (``Do not run
`make deploy` ``), a failure (``should no longer work``), an output (``should be 0``); and which
headings that name tests are no place for checks ("Known test failures", "Test data")."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli
from planrun import markdown, prose, unasked
from planrun.validate import validate_paths

# A script that leaves a file behind when it runs, and exits with its second argument.
MARK = 'set -eu\ntouch "RAN_$1"\nexit "${2:-0}"\n'


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def marker_repo(tmp_path: Path) -> None:
    write(tmp_path, "scripts/x.sh", MARK)


def ran(tmp_path: Path) -> list[str]:
    return sorted(p.name.removeprefix("RAN_") for p in tmp_path.glob("RAN_*"))


def statuses(tmp_path: Path, target: Path) -> dict[str, tuple[str, list[str], str | None]]:
    result = run_cli("execute", target, "--root", tmp_path, "--json", "--no-summary")
    return {
        t["id"]: (t["status"], [c["run"] for c in t["commands"]], t["reason"])
        for t in json.loads(result.stdout)["tasks"]
    }


def warnings(plan: Path) -> list[tuple[int, str]]:
    items = validate_paths([plan]).diagnostics.items
    return [(d.line, d.message) for d in items if d.code == "prose-verify"]


# --- commands the words do not ask to run --------------------------------------------------

NOT_RUN = "the line says not to run it"
PAST = "the line says it is no longer used"
OPTION = "the line runs it only on a condition or as an option"
CONDITION = "the line runs it only on a condition or as an option"
SHIPS = "it publishes, pushes, deploys, deletes or rewrites history: no check"
PURPOSE = "the line gives it another purpose than checking the work"
NO_CHECK = "the line says it is no check of this work"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Said not to run, before or after the command.
        ("Do not run `make deploy` here; that deploys to production.", f"{NOT_RUN} ('Do not run')"),
        ("Never use `bash scripts/deploy.sh` before review.", f"{NOT_RUN} ('Never use')"),
        ("Avoid `sh scripts/deploy.sh` (it wipes the cache).", f"{NOT_RUN} ('Avoid')"),
        ("Make sure not to call `make publish`", f"{NOT_RUN} ('not to call')"),
        ("`make old` must not be run", f"{NOT_RUN} ('not be run')"),
        # Spoken of as past.
        ("We no longer need `make old`.", f"{PAST} ('no longer need')"),
        ("Previously this used `make legacy`, now removed.", f"{PAST} ('Previously this used')"),
        ("`make old` was deleted with the legacy module", f"{PAST} ('was deleted')"),
        ("`make old` is no longer needed", f"{PAST} ('no longer needed')"),
        # Only on a condition, or as an option.
        ("If the schema changed, run `make migrate`.", f"{OPTION} ('If')"),
        ("Optionally, `npm run e2e` for a smoke run.", f"{OPTION} ('Optionally')"),
        ("`npm run e2e` (optional)", f"{OPTION} ('optional')"),
        ("`npm run e2e` if you want a smoke run", f"{OPTION} ('if you want')"),
        # Another purpose than a check.
        ("Rollback: `bash scripts/rollback.sh`", f"{PURPOSE} ('Rollback')"),
        ("**Rollback**: `bash scripts/rollback.sh`", f"{PURPOSE} ('Rollback')"),
        ("To roll back, run `bash scripts/rollback.sh`", f"{PURPOSE} ('To roll back')"),
        ("`make seed` loads fixtures into the dev database", f"{PURPOSE} ('loads fixtures')"),
        # Said to be no check of this work.
        ("`pytest tests/test_old.py` is flaky on main", f"{NO_CHECK} ('flaky')"),
        ("`pytest tests/e2e` fails, unrelated to this change", f"{NO_CHECK} ('unrelated to')"),
        # The lines of the attack on these cues (attack 12) stay unrun.
        ("Do not run `make deploy` here", f"{NOT_RUN} ('Do not run')"),
        ("Never use `bash scripts/deploy.sh` before review", f"{NOT_RUN} ('Never use')"),
        ("Avoid `sh scripts/deploy.sh`", f"{NOT_RUN} ('Avoid')"),
        ("Never run `make deploy` without review", f"{NOT_RUN} ('Never run')"),
        ("Rollback: `./rollback.sh`", f"{PURPOSE} ('Rollback')"),
        ("Rollback: `./rollback.sh` exits 0", f"{PURPOSE} ('Rollback')"),
        ("Production deploy: `make deploy`", f"{PURPOSE} ('Production deploy')"),
        # "Once" orders; what the command does says it is no check.
        ("Once merged, `npm run release` publishes the package", f"{CONDITION} ('Once merged')"),
        ("`npm run release` publishes the package and exits 0", f"{PURPOSE} ('publishes')"),
        ("We no longer need `make old`", f"{PAST} ('no longer need')"),
        ("Previously this used `make legacy`, now removed", f"{PAST} ('Previously this used')"),
        ("Optionally, `npm run e2e`", f"{OPTION} ('Optionally')"),
        ("if you changed the parser, run `make gen`", f"{OPTION} ('if')"),
        (
            "`bash scripts/x.sh known 1` is flaky on main and unrelated to this change",
            f"{NO_CHECK} ('flaky')",
        ),
        ("`npm run seed` loads fixtures into the dev database", f"{PURPOSE} ('loads fixtures')"),
        ("`make reset` wipes the dev database", f"{PURPOSE} ('wipes')"),
        ("Reset test DB: `make reset`", f"{PURPOSE} ('Reset test DB')"),
        ("`npm run seed` loads fixtures for the e2e tests", f"{PURPOSE} ('loads fixtures')"),
        # The weaker no-check words where they describe the command.
        ("`pytest tests/e2e` (flaky)", f"{NO_CHECK} ('flaky')"),
        ("`pytest tests/e2e` is a known issue", f"{NO_CHECK} ('known issue')"),
        ("`pytest tests/e2e` is still flaky, tracked in #5", f"{NO_CHECK} ('flaky')"),
        ("Flaky: `pytest tests/e2e`", f"{NO_CHECK} ('Flaky')"),
        ("Pre-existing failures: `pytest tests/old`", f"{NO_CHECK} ('Pre-existing')"),
        ("Skip the flaky `pytest tests/e2e`", "the line says not to run it ('Skip')"),
        # Asked for: these run.
        ("Run `npx tsc --noEmit` to verify no type errors.", None),
        ("Never forget to run `pytest -q`", None),
        ("Do not skip `ruff check .`", None),
        ("Check if the build works: `npm run build`", None),
        ("Confirm the crash no longer happens: `pytest tests/test_crash.py`", None),
        ("Before release: `npm test`", None),
        ("Lint: `ruff check .`", None),
        ("After the changes, run `npm test`", None),
        ("`pytest -q` passes now that the old flag was removed", None),
        ("`pytest -q` passes and its report lists the flaky tests", None),
        # Asked for, though a cue word is in the clause (attack 13): orderings, a prohibition
        # "without running" turns round, an "if" a check is asked of, no-check words that
        # describe something else, purposes the line checks or says the command checks too.
        ("Once the implementation is complete, run `pytest tests/`.", None),
        ("Once done, run `npm test` and confirm all tests pass.", None),
        # after the work is merged or shipped: no check of it as it is claimed done
        ("After merging the branch locally, run `pytest`.", f"{CONDITION} ('After merging')"),
        ("Never merge without running `pytest`.", None),
        ("Never commit without running `npm run lint`.", None),
        ("Run `pytest -k retry --count 10` to confirm the flaky test is fixed.", None),
        ("`pytest` passes, including the pre-existing tests.", None),
        ("No regressions in pre-existing tests: `pytest tests/`", None),
        ("Run the full suite with `pytest` — the failures tracked in #88 are now fixed.", None),
        ("Verify the release build: `cargo build --release`", None),
        ("Release build: `cargo build --release` succeeds.", None),
        ("Deployment check: `docker build -t app .` succeeds.", None),
        ("Test the rollback script: `bash scripts/rollback.sh --dry-run` exits 0.", None),
        ("`make test` resets the test database and runs the suite.", None),
        ("`./scripts/test.sh` installs dependencies and runs the tests.", None),
        ("`pytest tests/test_seed.py` seeds a temp DB and checks the counts.", None),
        ("Verify that if the input is empty, `python3 cli.py ''` exits 1.", None),
        ("Make sure that if the flag is missing, `cli run` exits 2", None),
        # a command that ships the work is no check, whatever the words say
        (
            "Once merged, run `npm publish`.",
            f"{CONDITION} ('Once merged')",
        ),
        ("Then `git push origin main`", f"{SHIPS} ('push')"),
        ("`cd infra && terraform destroy -auto-approve`", f"{SHIPS} ('terraform destroy')"),
        ("`bash scripts/deploy-prod.sh`", f"{SHIPS} ('deploy')"),
        ("`npx semantic-release`", f"{SHIPS} ('release')"),
        ("`git add -A && git commit -m 'test: x'`", f"{SHIPS} ('git commit')"),
        ("`rsync -a --delete dist/ host:/srv`", f"{SHIPS} ('rsync -a --delete')"),
        ("`pytest tests/test_deploy.py`", None),
        # a program that only reads: its words are what it looks for
        ("`grep -q 'DROP TABLE' migrations/0001.sql`", None),
        ("`test -f scripts/deploy.sh`", None),
        ("`grep -q ok f && git push`", f"{SHIPS} ('push')"),
        ("`cargo build --release`", None),
        ("Then deploy with `./scripts/deploy.sh`", f"{CONDITION} ('Then deploy')"),
        ("`psql -c 'DROP TABLE users'`", f"{SHIPS} ('DROP TABLE')"),
        ("Then `supabase db reset`", f"{SHIPS} ('reset')"),
        ("`bin/rails db:drop`", f"{SHIPS} ('db:drop')"),
        ("`npm version patch`", f"{SHIPS} ('npm version')"),
        ("`gh pr merge 12`", f"{SHIPS} ('gh pr merge')"),
        ("`make prod`", f"{SHIPS} ('prod')"),
        ("`NODE_ENV=production npm run build`", None),
        # a name holding a word of shipping is held, a build of it too
        ("`npm run build:prod`", f"{SHIPS} ('prod')"),
        ("Verify the release build: `cargo build --release`", None),
        ("Check `kubectl rollout status deploy/app`", None),
        ("`make migrate` is not to be run", "the line says not to run it ('not to be run')"),
        (
            "**Deploy** — `make ship` (prod only, manual)",
            "the line says not to run it ('prod only')",
        ),
        ("Do not skip `ruff check .`", None),
        # a remark in parentheses is of something else
        ("Run `pytest` (e2e is out of scope)", None),
        ("Run `pytest` (warnings can be ignored, errors cannot)", None),
        ("Check the package with `npm publish --dry-run`", None),
    ],
)
def test_the_words_around_a_command_say_whether_it_is_asked_for(
    line: str, expected: str | None
) -> None:
    assert unasked.whys(line) == [expected]


def test_each_command_of_a_line_is_judged_by_its_own_clause() -> None:
    line = "Don't run `bash scripts/x.sh e2e`; CI runs it. Use `bash scripts/x.sh unit` instead."
    assert unasked.whys(line) == [f'{NOT_RUN} ("Don\'t run")', None]
    assert unasked.whys("Run `pytest -q`, not `npm test`") == [None, f"{NOT_RUN} ('not')"]
    assert unasked.whys("Don't run `x e2e`; CI runs it. Use `x unit` instead.") == [
        f'{NOT_RUN} ("Don\'t run")',
        None,
    ]
    found = prose.extract(f"- {line}", 3)
    assert [c.text for c in found.commands] == ["bash scripts/x.sh unit"]
    assert found.not_asked == [f'`bash scripts/x.sh e2e` is not run: {NOT_RUN} ("Don\'t run")']


def test_a_gate_section_runs_only_what_it_asks_for(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Feature X

        ## Tasks
        - [ ] T001 Add the flag parser

        ## Validation
        - Do not run `bash scripts/x.sh deploy` here; that deploys to production.
        - Never use `bash scripts/x.sh never` before review.
        - Avoid `sh scripts/x.sh avoid` (it wipes the cache).
        - Rollback: `bash scripts/x.sh rollback`
        - Once merged, `bash scripts/x.sh release` publishes the package.
        - We no longer need `bash scripts/x.sh old`.
        - Optionally, `bash scripts/x.sh optional` for a smoke run.
        - `bash scripts/x.sh check` should report no problems
        """,
    )
    checks = statuses(tmp_path, plan)["tasks/@checks"]
    assert checks[1] == ["bash scripts/x.sh check"]
    assert ran(tmp_path) == ["check"]
    assert warnings(plan) == [
        (7, f"`bash scripts/x.sh deploy` is not run: {NOT_RUN} ('Do not run')"),
        (8, f"`bash scripts/x.sh never` is not run: {NOT_RUN} ('Never use')"),
        (9, f"`sh scripts/x.sh avoid` is not run: {NOT_RUN} ('Avoid')"),
        (10, f"`bash scripts/x.sh rollback` is not run: {PURPOSE} ('Rollback')"),
        (11, f"`bash scripts/x.sh release` is not run: {CONDITION} ('Once merged')"),
        (12, f"`bash scripts/x.sh old` is not run: {PAST} ('no longer need')"),
        (13, f"`bash scripts/x.sh optional` is not run: {OPTION} ('Optionally')"),
    ]
    [loaded] = validate_paths([plan]).plans
    # The lines are statements: the plan's manual truths, never its checks.
    assert [t.truth for t in loaded.must_haves.truths][:2] == [
        "Do not run bash scripts/x.sh deploy here; that deploys to production.",
        "Never use bash scripts/x.sh never before review.",
    ]
    [diag] = [d for d in validate_paths([plan]).diagnostics.items if d.code == "prose-verify"][:1]
    assert diag.hint == prose.NOT_ASKED_HINT


def test_a_gate_section_runs_the_checks_it_asks_for_around_cue_words(tmp_path: Path) -> None:
    # attack 13 (prose3): an ordering, "without running", "flaky" and a purpose the line checks
    # lost these checks; a failing one must fail the plan, not leave it a manual truth.
    marker_repo(tmp_path)
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Plan: stabilize login tests

        ## Tasks
        - [ ] T001 Fix the retry

        ## Validation
        - Once the implementation is complete, run `bash scripts/x.sh once`.
        - Never merge without running `bash scripts/x.sh merge`.
        - Run `bash scripts/x.sh flaky` to confirm the flaky test is fixed.
        - No regressions in pre-existing tests: `bash scripts/x.sh regress`
        - Release build: `bash scripts/x.sh build` succeeds.
        - `bash scripts/x.sh suite` resets the test database and runs the suite.
        - Verify that if the input is empty, `bash scripts/x.sh empty 1` exits 1.
        - `bash scripts/x.sh failing 1`
        """,
    )
    checks = statuses(tmp_path, plan)["tasks/@checks"]
    assert checks[0] == "failed"
    assert "bash scripts/x.sh empty 1" in checks[1]
    assert ran(tmp_path) == [
        "build",
        "empty",
        "failing",
        "flaky",
        "merge",
        "once",
        "regress",
        "suite",
    ]
    assert warnings(plan) == []
    # The condition a check is asked of says nothing of the command's output.
    said = prose.outcome("Verify that if the input is empty, exits 1.")
    assert said == prose.Outcome(expect_exit=1)
    assert prose.outcome("If the cache is empty, prints nothing").held is not None


def test_a_verify_field_runs_only_what_it_asks_for(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    verify = "Don't run `bash scripts/x.sh e2e`; CI runs it. Use `bash scripts/x.sh unit` instead."
    plan = write(
        tmp_path,
        "plans/TASKS.md",
        f"""
        # Task Breakdown

        ### Task 1: Add parser
        - **Verify**: {verify}

        ### Task 2: Deploy docs
        - **Verify**: Never use `bash scripts/x.sh deploy` before review
        """,
    )
    found = statuses(tmp_path, plan)
    assert found["TASKS/task-1"][1] == ["bash scripts/x.sh unit"]
    assert found["TASKS/task-2"][:2] == ("manual", [])
    assert ran(tmp_path) == ["unit"]
    assert warnings(plan) == [
        (4, f'`bash scripts/x.sh e2e` is not run: {NOT_RUN} ("Don\'t run")'),
        (7, f"`bash scripts/x.sh deploy` is not run: {NOT_RUN} ('Never use')"),
    ]


def test_a_kiro_verification_said_not_to_run_is_manual(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Implementation Plan

        - [x] 1. Update deploy docs
          - Verification: do not run `bash scripts/x.sh deploy` here
        - [x] 2. Check the docs
          - Verification: `bash scripts/x.sh docs`
        """,
    )
    found = statuses(tmp_path, plan)
    assert found["tasks/1"][:2] == ("manual", [])
    assert found["tasks/2"][1] == ["bash scripts/x.sh docs"]
    assert ran(tmp_path) == ["docs"]
    assert warnings(plan) == [
        (4, f"`bash scripts/x.sh deploy` is not run: {NOT_RUN} ('do not run')")
    ]


def test_a_gsd_verify_line_said_not_to_run_is_manual(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    plan = write(
        tmp_path,
        "plans/01-01-PLAN.md",
        """
        ---
        phase: 01-x
        plan: 01
        ---
        <task type="auto">
          <name>Docs</name>
          <verify>Do not run `bash scripts/x.sh deploy` here. Run `bash scripts/x.sh docs`.</verify>
        </task>
        """,
    )
    assert statuses(tmp_path, plan)["01-01/task-1"][1] == ["bash scripts/x.sh docs"]
    assert ran(tmp_path) == ["docs"]
    assert warnings(plan) == [
        (7, f"`bash scripts/x.sh deploy` is not run: {NOT_RUN} ('Do not run')")
    ]


def test_a_criterion_said_not_to_run_stays_a_truth(tmp_path: Path) -> None:
    write(
        tmp_path,
        "backlog/tasks/task-1 - Docs.md",
        """
        ---
        id: task-1
        title: Docs
        status: Done
        ---

        ## Acceptance Criteria
        <!-- AC:BEGIN -->
        - [x] #1 Never use `npm run deploy` from a laptop
        <!-- AC:END -->
        """,
    )
    [loaded] = validate_paths([tmp_path / "backlog"]).plans
    [truth] = loaded.tasks[0].must_haves.truths
    assert (truth.truth, truth.verify) == ("Never use npm run deploy from a laptop", [])


# --- gate headings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "gate"),
    [
        ("Tests", True),
        ("Testing", True),
        ("Checks", True),
        ("Verification", True),
        ("Validation", True),
        ("How to test", True),
        ("Test plan", True),
        ("Test / Validation", True),
        ("PR Gates", True),
        # failures asked to be none, known-good commands, a note on where they run
        ("Validation: no test failures", True),
        ("Tests (must pass with no failing tests)", True),
        ("Regression tests for known bugs", True),
        ("Validation (not run in CI)", True),
        ("Known-good validation commands", True),
        ("Known flaky tests", False),
        ("Tests not run", False),
        ("Unit tests", True),
        ("Existing tests", True),
        ("Verify removed endpoints", True),
        ("Fix the failing tests", True),
        ("Data validation", True),
        # A record of tests that are not this work's checks, or what tests use.
        ("Known test failures (pre-existing, out of scope)", False),
        ("Pre-existing failures", False),
        ("Tests removed", False),
        ("Removed tests", False),
        ("Checks we skipped", False),
        ("Skipped tests", False),
        ("Flaky tests", False),
        ("Failing tests", False),
        ("Test failures", False),
        ("Test data", False),
        ("Test fixtures", False),
        ("Checks not run", False),
        ("Acceptance Criteria", False),
        # Steps for a person: their commands are a person's to run.
        ("Manual testing", False),
        ("Manual verification", False),
        ("Manual QA", False),
        ("Manual", False),
        ("Test manually", False),
        ("Verify by hand", False),
        ("Human verification", False),
        ("Automated and manual tests", False),
        ("Tests (no manual steps)", True),
        ("Automated tests", True),
    ],
)
def test_which_headings_hold_the_plans_checks(title: str, gate: bool) -> None:
    [heading] = markdown.parse(f"## {title}\n", 1).headings
    assert prose.gate_heading(heading) is gate


def test_sections_of_known_removed_skipped_tests_and_test_data_are_not_run(
    tmp_path: Path,
) -> None:
    marker_repo(tmp_path)
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Feature Y

        ## Tasks
        - [x] T001 Add the flag parser

        ## Known test failures (pre-existing, out of scope)
        - `bash scripts/x.sh known 1` fails on main too

        ## Tests removed
        - `bash scripts/x.sh removed 1` went with the legacy module

        ## Checks we skipped
        - `bash scripts/x.sh skipped 1` (needs staging credentials)

        ## Test data
        - `bash scripts/x.sh seed`

        ## Tests
        - `bash scripts/x.sh tests`
        """,
    )
    assert statuses(tmp_path, plan)["tasks/@checks"][:2] == ("passed", ["bash scripts/x.sh tests"])
    assert ran(tmp_path) == ["tests"]


# --- what a command must print ------------------------------------------------------------

COUNTS = [
    "should be 0",
    "equals 0",
    "is 0",
    "== 0",
    "= 0",
    "-> 0",
    "count is 0",
    "gives 0",
    "outputs 0",
    "should equal zero",
    "is zero",
    "(should be 0)",
]
GREP = "grep -rn console.log src/ | wc -l"


def _count_tasks() -> str:
    return "# Task Breakdown\n" + "".join(
        f"\n### Task {n}: Remove console.log\n- **Status**: ✅ Completed\n"
        f"- **Verify**: `{GREP}` {words}\n"
        for n, words in enumerate(COUNTS, 1)
    )


def test_a_count_said_in_a_verify_field_is_judged_on_what_it_prints(tmp_path: Path) -> None:
    write(tmp_path, "src/app.ts", "console.log(1);\nconsole.log(2);\nconsole.log(3);\n")
    plan = write(tmp_path, "plans/TASKS.md", _count_tasks())
    found = statuses(tmp_path, plan)
    assert {status for status, _, _ in found.values()} == {"failed"}
    line = 5 + 4 * (len(COUNTS) - 1)
    assert found[f"TASKS/task-{len(COUNTS)}"][2] == (
        f"count 3 (expected output: count == 0): `{GREP}` (line {line})"
    )
    [loaded] = validate_paths([plan]).plans
    assert {t.verify[0].expect_output for t in loaded.tasks} == {"count == 0"}


def test_a_count_of_nothing_passes_though_grep_exits_1(tmp_path: Path) -> None:
    # Under pipefail, `grep ... | wc -l` exits 1 when grep finds nothing: the output decides.
    write(tmp_path, "src/app.ts", "const a = 1;\n")
    plan = write(tmp_path, "plans/TASKS.md", _count_tasks())
    found = statuses(tmp_path, plan)
    assert {status for status, _, _ in found.values()} == {"passed"}


def test_a_gate_line_said_to_print_nothing_is_judged_on_its_output(tmp_path: Path) -> None:
    write(tmp_path, "src/app.ts", "console.log(1);\n")
    plan = write(
        tmp_path,
        "plans/tasks.md",
        f"""
        # Cleanup

        - [x] T001 Strip console.log calls

        ## Validation
        - `{GREP}` must be empty
        - `grep -rn console.log src/` should print nothing
        """,
    )
    [loaded] = validate_paths([plan]).plans
    assert [(v.run, v.expect_output) for v in loaded.verify] == [
        (GREP, "empty"),
        ("grep -rn console.log src/", "empty"),
    ]
    assert statuses(tmp_path, plan)["tasks/@checks"][2] == (
        f"output '1' (expected output: empty): `{GREP}` (line 6); depends on unverified tasks/T001"
    )


@pytest.mark.parametrize(
    ("line", "held"),
    [
        # A number said of a command that prints no count: exit 0 does not show it.
        (
            "- `python3 count.py` should be 0",
            "`python3 count.py` is expected to show what exit 0 does not ('should be 0')",
        ),
        (
            "- `grep -c TODO src/a.py` should not be 0",
            (
                "`grep -c TODO src/a.py` is expected to show what exit 0 does not "
                "('should not be 0')"
            ),
        ),
    ],
)
def test_an_output_a_check_cannot_judge_is_held(line: str, held: str) -> None:
    found = prose.extract(line, 4)
    assert (found.commands, found.held) == ([], held)


def test_a_test_runs_result_or_an_exit_code_is_no_output_to_judge() -> None:
    assert prose.extract("- `pytest -q` (should be 0 failures)", 4).commands == [
        prose.Check(4, "pytest -q", "pytest -q (should be 0 failures)")
    ]
    assert prose.extract("- `pytest -q` exit code should be 0", 4).commands == [
        prose.Check(4, "pytest -q", "pytest -q exit code should be 0")
    ]


# --- commands said to fail ----------------------------------------------------------------

NEGATED = [
    "should no longer work",
    "must not succeed",
    "is gone",
    "should not pass",
    "no longer succeeds",
    "should error",
    "now errors",
    "won't work",
    "can no longer be imported",
    "is unavailable",
    "gives an ImportError",
]


@pytest.mark.parametrize("words", NEGATED)
def test_success_said_not_to_happen_is_a_failure(words: str) -> None:
    assert prose.outcome(words) == prose.Outcome(
        held=f"is expected to fail ({words!r}); a check passes only on exit 0"
    )


def test_a_verify_field_said_to_stop_working_is_never_a_pass(tmp_path: Path) -> None:
    write(tmp_path, "legacy_exporter.py", "")
    plan = write(
        tmp_path,
        "plans/TASKS.md",
        "# Task Breakdown\n"
        + "".join(
            f"\n### Task {n}: Remove the legacy exporter\n- **Status**: ✅ Completed\n"
            f'- **Verify**: `python3 -c "import legacy_exporter"` {words}\n'
            for n, words in enumerate(NEGATED, 1)
        ),
    )
    found = statuses(tmp_path, plan)
    assert {status for status, _, _ in found.values()} == {"manual"}
    assert warnings(plan)[0] == (
        5,
        (
            '`python3 -c "import legacy_exporter"` is expected to fail '
            "('should no longer work'); a check passes only on exit 0: "
            "it is a manual check, not run"
        ),
    )


def test_gate_kiro_and_gsd_lines_said_to_stop_working_are_manual(tmp_path: Path) -> None:
    write(tmp_path, "legacy_exporter.py", "")
    write(tmp_path, "legacy.py", "")
    checklist = write(
        tmp_path,
        "plans/ck/tasks.md",
        """
        # Cleanup

        - [x] T001 Remove `legacy_exporter.py`
          - Verification: `python3 -c "import legacy_exporter"` must not succeed

        ## Validation
        - `python3 -c "import legacy_exporter"` should no longer work
        """,
    )
    gsd = write(
        tmp_path,
        "plans/gsd/05-01-PLAN.md",
        """
        ---
        phase: 05-cleanup
        plan: 01
        ---
        <task type="auto">
          <name>Remove the legacy exporter</name>
          <verify>Run `python3 -c "import legacy"` and confirm it no longer works</verify>
        </task>
        """,
    )
    assert statuses(tmp_path, checklist) == {
        "tasks/T001": ("manual", [], "needs a human: no automated check"),
        "tasks/@checks": ("manual", [], "needs a human: no automated check"),
    }
    assert statuses(tmp_path, gsd)["05-01/task-1"][:2] == ("manual", [])
    assert [line for line, _ in warnings(checklist)] == [4, 7]
    assert warnings(gsd) == [
        (
            7,
            (
                '`python3 -c "import legacy"` is expected to fail '
                "('and confirm it no longer works'); a check passes only on exit 0: "
                "it is a manual check, not run"
            ),
        )
    ]


@pytest.mark.parametrize(
    "line",
    [
        "`pytest tests/test_api.py` passes (the endpoint is gone from the old router)",
        "`pytest` passes; /old route now errors with 404",
        "`pytest` passes even when `.env` is not present",
        "`npm run build` succeeds and the old module is not imported anywhere",
    ],
)
def test_a_command_said_to_pass_runs_whatever_else_the_line_says_fails(line: str) -> None:
    found = prose.extract(line, 1)
    assert (len(found.commands), found.held) == (1, None)


@pytest.mark.parametrize(
    ("line", "asked"),
    [
        ("Instead of `npm run old`, run `npm test`", [False, True]),
        ("Never call `make deploy` directly \u2014 use `make check`", [False, True]),
    ],
)
def test_the_command_a_line_says_to_use_instead_runs(line: str, asked: list[bool]) -> None:
    assert [why is None for why in unasked.whys(line)] == asked


# --- a remedy for a failure ---------------------------------------------------------------

REMEDY = "the line runs it only if something fails: a remedy, no check"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Run `pytest` and if it fails, run `make reset`", [None, f"{REMEDY} ('if it fails')"]),
        ("If `pytest` fails, run `make reset` to reset", [None, f"{REMEDY} ('If \u2026 fails')"]),
        ("Run `pytest`; on failure run `make reset`", [None, f"{REMEDY} ('on failure')"]),
        ("Run `make clean` if `pytest` fails", [f"{REMEDY} ('if \u2026 fails')", None]),
        ("Run `pytest`, otherwise run `make reset`", [None, f"{REMEDY} ('otherwise')"]),
        ("Should `pytest` fail, run `make reset`", [None, f"{REMEDY} ('Should \u2026 fail')"]),
        ("Run `pytest` (if it fails, run `make reset`)", [None, f"{REMEDY} ('if it fails')"]),
        (
            "When `pytest` errors, re-run with `pytest -x`",
            [None, f"{REMEDY} ('When \u2026 errors')"],
        ),
        # still asked for: the line asks for the command, or a check of a failure
        ("Run `pytest` to confirm", [None]),
        ("Once the implementation is complete, run `pytest`", [None]),
        ("Instead of `npm run old`, run `npm test`", [f"{NOT_RUN} ('Instead of')", None]),
        ("Run `pytest` and if it passes, run `ruff check .`", [None, None]),
        ("Verify that if the parse fails, `python3 cli.py x` exits 1", [None]),
        ("`pytest` passes even if the network fails", [None]),
        ("`pytest tests/e2e` fails, unrelated to this change", [f"{NO_CHECK} ('unrelated to')"]),
    ],
)
def test_a_command_run_only_if_another_fails_is_no_check(
    line: str, expected: list[str | None]
) -> None:
    assert unasked.whys(line) == expected


@pytest.mark.parametrize(
    "words",
    ["Run and if it fails, run", "If fails, run to reset", "Run ; on failure run"],
)
def test_a_failure_a_line_plans_for_is_no_failure_expected(words: str) -> None:
    assert prose.outcome(words) == prose.Outcome()
    assert prose.outcome("Run and confirm it fails").held is not None


def test_a_remedy_runs_nowhere_and_the_check_before_it_still_does(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Feature

        - [x] T001 Add the parser
          Verify: run `bash scripts/x.sh a` and if it fails, run `bash scripts/x.sh fix-a`
        - [x] T002 Add the flag
          Verify: If `bash scripts/x.sh b` fails, run `bash scripts/x.sh fix-b` to reset
        - [x] T003 Add the docs
          Verify: Run `bash scripts/x.sh c`; on failure run `bash scripts/x.sh fix-c`

        ## Validation
        - Run `bash scripts/x.sh gate` and if it fails, run `bash scripts/x.sh fix-gate`
        - Once the implementation is complete, run `bash scripts/x.sh once`
        """,
    )
    found = statuses(tmp_path, plan)
    assert [found[f"tasks/T00{n}"][:2] for n in (1, 2, 3)] == [
        ("passed", ["bash scripts/x.sh a"]),
        ("passed", ["bash scripts/x.sh b"]),
        ("passed", ["bash scripts/x.sh c"]),
    ]
    assert found["tasks/@checks"][:2] == (
        "passed",
        ["bash scripts/x.sh gate", "bash scripts/x.sh once"],
    )
    assert ran(tmp_path) == ["a", "b", "c", "gate", "once"]
    assert warnings(plan) == [
        (4, f"`bash scripts/x.sh fix-a` is not run: {REMEDY} ('if it fails')"),
        (6, f"`bash scripts/x.sh fix-b` is not run: {REMEDY} ('If \u2026 fails')"),
        (8, f"`bash scripts/x.sh fix-c` is not run: {REMEDY} ('on failure')"),
        (11, f"`bash scripts/x.sh fix-gate` is not run: {REMEDY} ('if it fails')"),
    ]


# --- a command of a line that is not run is said so -----------------------------------------

UNKNOWN = "planrun does not know `{}` as a program"


@pytest.mark.parametrize(
    ("line", "commands", "not_run"),
    [
        # a command planrun never runs from prose, beside one it runs: reported, not dropped
        (
            "`rails db:reset` and `bundle exec rails test` both pass",
            ["bundle exec rails test"],
            [f"`rails db:reset` is not run: {SHIPS} ('db:reset')"],
        ),
        ("`bin/rails db:drop`", [], [f"`bin/rails db:drop` is not run: {SHIPS} ('db:drop')"]),
        (
            "`rails test` and `pytest -q` both pass",
            ["pytest -q"],
            [f"`rails test` is not run: {UNKNOWN.format('rails')}"],
        ),
        (
            "`bin/rails test` and `pytest -q` both pass",
            ["pytest -q"],
            [f"`bin/rails test` is not run: {UNKNOWN.format('bin/rails')}"],
        ),
        # alone, such a span leaves the line a manual truth ("is prose" where a field says so)
        ("`bin/rails test` passes", [], []),
        # names, paths, English and flags are no commands
        ("`src/p.py` defines `parse_args`; `pytest -q` passes", ["pytest -q"], []),
        ("Run `pytest` with `--cov src`", ["pytest"], []),
        ("Check `the login page` and run `pytest`", ["pytest"], []),
        ("`GET /api/users` is documented and `pytest` passes", ["pytest"], []),
        # still asked for
        ("Run `pytest` to confirm", ["pytest"], []),
        ("Once the implementation is complete, run `pytest`", ["pytest"], []),
        (
            "Instead of `npm run old`, run `npm test`",
            ["npm test"],
            [f"`npm run old` is not run: {NOT_RUN} ('Instead of')"],
        ),
    ],
)
def test_a_command_of_a_line_that_is_not_run_is_said_so(
    line: str, commands: list[str], not_run: list[str]
) -> None:
    found = prose.extract(line, 1)
    assert ([c.text for c in found.commands], found.not_asked) == (commands, not_run)


def test_a_command_never_run_from_prose_beside_one_that_is_is_reported(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    both = "both pass"
    checklist = write(
        tmp_path,
        "plans/ck/tasks.md",
        f"""
        # Feature

        - [x] T001 Reset flow
          Verify: `rails db:reset` and `bash scripts/x.sh a` {both}

        ## Validation
        - `rails test` and `bash scripts/x.sh gate` {both}
        """,
    )
    fields = write(
        tmp_path,
        "plans/tb/TASKS.md",
        f"""
        # Task Breakdown

        ### Task 1: Reset flow
        - **Verify**: `rails db:reset` and `bash scripts/x.sh b` {both}
        """,
    )
    gsd = write(
        tmp_path,
        "plans/gsd/01-01-PLAN.md",
        f"""
        ---
        phase: 01-x
        plan: 01
        ---
        <task type="auto">
          <name>Reset flow</name>
          <verify>`rails db:reset` and `bash scripts/x.sh c` {both}</verify>
        </task>
        """,
    )
    reset = f"`rails db:reset` is not run: {SHIPS} ('db:reset')"
    assert statuses(tmp_path, checklist) == {
        "tasks/T001": ("passed", ["bash scripts/x.sh a"], None),
        "tasks/@checks": ("passed", ["bash scripts/x.sh gate"], None),
    }
    assert statuses(tmp_path, fields)["TASKS/task-1"][:2] == ("passed", ["bash scripts/x.sh b"])
    assert statuses(tmp_path, gsd)["01-01/task-1"][:2] == ("passed", ["bash scripts/x.sh c"])
    assert ran(tmp_path) == ["a", "b", "c", "gate"]
    assert warnings(checklist) == [
        (4, reset),
        (7, f"`rails test` is not run: {UNKNOWN.format('rails')}"),
    ]
    assert warnings(fields) == [(4, reset)]
    assert warnings(gsd) == [(7, reset)]


# --- sections for a person ------------------------------------------------------------------

PERSON = "it is a step under {!r}, a section for a person"


def test_a_section_for_a_person_runs_nothing_and_its_steps_are_manual(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    plan = write(
        tmp_path,
        "plans/tasks.md",
        """
        # Feature

        - [x] T001 Add the banner
          Verify: `bash scripts/x.sh item`

        ## Manual testing
        - `bash scripts/x.sh manual`
        - Run `bash scripts/x.sh asked` and open the page
        - Log in and check the banner

        ## Testing
        - Run `bash scripts/x.sh verify` to confirm
        - Once the implementation is complete, run `bash scripts/x.sh once`

        ### Manual QA
        ```bash
        bash scripts/x.sh fence
        ```
        """,
    )
    found = statuses(tmp_path, plan)
    assert found["tasks/T001"][:2] == ("passed", ["bash scripts/x.sh item"])
    assert found["tasks/@checks"][:2] == (
        "passed",
        ["bash scripts/x.sh verify", "bash scripts/x.sh once"],
    )
    assert ran(tmp_path) == ["item", "once", "verify"]
    assert warnings(plan) == [
        (7, f"`bash scripts/x.sh manual` is not run: {PERSON.format('Manual testing')}"),
        (8, f"`bash scripts/x.sh asked` is not run: {PERSON.format('Manual testing')}"),
        (16, f"the shell block is not run: {PERSON.format('Manual QA')}"),
    ]
    [loaded] = validate_paths([plan]).plans
    assert [t.truth for t in loaded.must_haves.truths] == [
        "bash scripts/x.sh manual",
        "Run bash scripts/x.sh asked and open the page",
        "Log in and check the banner",
    ]


# --- words after a GSD <automated> ----------------------------------------------------------


def test_words_after_several_automated_commands_and_the_commands_in_them(tmp_path: Path) -> None:
    marker_repo(tmp_path)
    remedy = "and if it fails run `bash scripts/x.sh fix`"
    after = "and `bash scripts/x.sh after` passes"
    plan = write(
        tmp_path,
        "plans/01-01-PLAN.md",
        f"""
        ---
        phase: 01-x
        plan: 01
        ---
        <task type="auto">
          <name>Chained</name>
          <verify><automated>bash scripts/x.sh a && bash scripts/x.sh b</automated></verify>
        </task>
        <task type="auto">
          <name>Two lines</name>
          <verify><automated>bash scripts/x.sh c
        bash scripts/x.sh d</automated> both pass</verify>
        </task>
        <task type="auto">
          <name>Said to fail</name>
          <verify><automated>bash scripts/x.sh e
        bash scripts/x.sh f</automated> both should fail</verify>
        </task>
        <task type="auto">
          <name>No test yet</name>
          <verify><automated>MISSING — no test yet</automated></verify>
        </task>
        <task type="auto">
          <name>Remedy</name>
          <verify><automated>bash scripts/x.sh g</automated> {remedy}</verify>
        </task>
        <task type="auto">
          <name>Asked after</name>
          <verify><automated>bash scripts/x.sh h</automated> {after}</verify>
        </task>
        """,
    )
    found = statuses(tmp_path, plan)
    assert {k.removeprefix("01-01/"): v[:2] for k, v in found.items()} == {
        "task-1": ("passed", ["bash scripts/x.sh a && bash scripts/x.sh b"]),
        "task-2": ("passed", ["bash scripts/x.sh c", "bash scripts/x.sh d"]),
        "task-3": ("manual", []),
        "task-4": ("manual", []),
        "task-5": ("passed", ["bash scripts/x.sh g"]),
        "task-6": ("passed", ["bash scripts/x.sh h"]),
    }
    assert ran(tmp_path) == ["a", "b", "c", "d", "g", "h"]
    failing = "is expected to fail ('both should fail'); a check passes only on exit 0"
    assert warnings(plan) == [
        (16, f"`bash scripts/x.sh e` {failing}: it is a manual check, not run"),
        (17, f"`bash scripts/x.sh f` {failing}: it is a manual check, not run"),
        (
            21,
            "verify line 'MISSING — no test yet' is prose, not a command: it is a manual check",
        ),
        (25, f"`bash scripts/x.sh fix` is not run: {REMEDY} ('if it fails')"),
        (
            29,
            (
                "`bash scripts/x.sh after` is written after <automated>, not in it: "
                "it is a manual check, not run"
            ),
        ),
    ]
