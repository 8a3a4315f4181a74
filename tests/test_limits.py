"""validate refuses what cannot run: NUL characters, non-finite or absurd numbers, exit codes
outside 0-255, regex repeat counts beyond the engines, over-long path components."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PlanWriter, assert_no_traceback, run_cli

LONG = "x" * 300


@pytest.mark.parametrize(
    ("frontmatter", "message"),
    [
        (
            "timeout: .inf\ntasks: [{id: a, verify: 'true'}]",
            (
                "p.md:3: error[invalid-value] timeout: a timeout is a number of seconds greater "
                "than 0 and at most 1000000, got infinity"
            ),
        ),
        (
            "tasks: [{id: a, verify: [{run: 'true', timeout: 1e400}]}]",
            (
                "p.md:3: error[invalid-value] tasks[0].verify[0].timeout: a timeout is a number of "
                "seconds greater than 0 and at most 1000000, got infinity"
            ),
        ),
        (
            "tasks: [{id: a, timeout: .nan, verify: 'true'}]",
            (
                "p.md:3: error[invalid-value] tasks[0].timeout: a timeout is a number of seconds "
                "greater than 0 and at most 1000000, got nan"
            ),
        ),
        (
            "tasks: [{id: a, verify: [{run: 'true', timeout: 100000000000000000000000}]}]",
            (
                "p.md:3: error[invalid-value] tasks[0].verify[0].timeout: a timeout is a number of "
                "seconds greater than 0 and at most 1000000, got 1e+23"
            ),
        ),
        (
            "tasks: [{id: a, verify: [{run: 'true', expect_exit: 256}]}]",
            (
                "p.md:3: error[invalid-value] tasks[0].verify[0].expect_exit: an exit code is "
                "from 0 to 255, got 256"
            ),
        ),
        (
            "tasks: [{id: a, verify: [{run: 'true', expect_exit: -1}]}]",
            (
                "p.md:3: error[invalid-value] tasks[0].verify[0].expect_exit: an exit code is "
                "from 0 to 255, got -1"
            ),
        ),
        (
            'tasks: [{id: a, verify: "echo \\0 done"}]',
            (
                'p.md:3: error[invalid-value] tasks[0].verify[0].run: "echo \\0 done" contains a '
                "NUL character (\\0), which no command, path or environment variable can hold"
            ),
        ),
        (
            'env: {A: "x\\0y"}\ntasks: [{id: a, verify: "true"}]',
            (
                "p.md:3: error[invalid-value] env: the value of A contains a NUL character (\\0), "
                "which no environment variable can hold"
            ),
        ),
        (
            'env: {"A=B": x}\ntasks: [{id: a, verify: "true"}]',
            (
                'p.md:3: error[invalid-value] env: "A=B" is not an environment variable name '
                '(empty, or holds "=" or NUL)'
            ),
        ),
        (
            'shell: "ba\\0sh"\ntasks: [{id: a, verify: "true"}]',
            (
                'p.md:3: error[invalid-value] shell: "ba\\0sh" contains a NUL character (\\0), '
                "which no command, path or environment variable can hold"
            ),
        ),
        (
            'tasks: [{id: a, must_haves: {artifacts: [{path: "a\\0b"}]}}]',
            (
                'p.md:3: error[invalid-value] tasks[0].must_haves.artifacts[0].path: "a\\0b" '
                "contains a NUL character (\\0), which no command, path or environment variable "
                "can hold"
            ),
        ),
        (
            f"tasks: [{{id: a, must_haves: {{artifacts: [{{path: src/{LONG}.py}}]}}}}]",
            (
                "p.md:3: error[invalid-value] tasks[0].must_haves.artifacts[0].path: the path "
                'component "xxxxxxxxxxxxxxxxxxxx..." is 303 bytes long; a file name can be at most '
                "255"
            ),
        ),
        (
            (
                "tasks: [{id: a, must_haves: {key_links: [{from: a.py, to: b, pattern: "
                "'a{4294967296}'}]}}]"
            ),
            (
                'p.md:3: error[invalid-regex] task "a": key_links pattern "a{4294967296}" is not a '
                "valid regular expression: a repeat count or nesting is larger than the regular "
                "expression engine accepts"
            ),
        ),
    ],
)
def test_validate_refuses_what_cannot_run(
    write_plan: PlanWriter, tmp_path: Path, frontmatter: str, message: str
) -> None:
    plan = write_plan("p.md", "planrun: 1\n" + frontmatter)
    run = run_cli("validate", plan)
    assert run.exit_code == 1, run.output
    assert message in run.output.replace(str(tmp_path) + "/", "")
    assert_no_traceback(run)
    executed = run_cli("execute", plan, "--root", tmp_path, "--no-summary")
    # an invalid pattern concerns one check: execute runs the plan and that check fails
    assert executed.exit_code == (1 if "invalid-regex" in message else 2)
    assert_no_traceback(executed)


@pytest.mark.parametrize("command", ["validate", "waves", "graph", "status", "next", "convert"])
def test_a_huge_repeat_count_is_a_diagnostic_in_every_command(
    write_plan: PlanWriter, command: str
) -> None:
    plan = write_plan(
        "p.md",
        "planrun: 1\ntasks: [{id: a, verify: 'true', must_haves: {key_links: "
        "[{from: a.py, to: b, pattern: 'a{4294967296}'}]}}]",
    )
    run = run_cli(command, plan)
    assert_no_traceback(run)
    # status and next read plans whose checks may fail; an invalid pattern fails its check
    if command in ("validate", "waves", "graph"):
        assert run.exit_code == 1
        assert "invalid-regex" in run.output


@pytest.mark.parametrize(
    ("setting", "shown"), [("nan", "nan"), ("inf", "infinity"), ("1e30", "1e+30")]
)
def test_a_non_finite_timeout_in_planrun_toml_is_a_usage_error(
    tmp_path: Path,
    write_plan: PlanWriter,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    shown: str,
) -> None:
    (tmp_path / "planrun.toml").write_text(f"timeout = {setting}\n")
    plan = write_plan("p.md", "planrun: 1\ntasks: [{id: a, verify: 'true'}]")
    monkeypatch.chdir(tmp_path)
    run = run_cli("execute", plan, "--no-summary")
    assert run.exit_code == 2
    assert (
        f'planrun.toml: setting "timeout": a timeout is a number of seconds greater than 0 and '
        f"at most 1000000, got {shown}"
    ) in run.output
    assert_no_traceback(run)


def test_an_infinite_timeout_option_is_a_usage_error(
    tmp_path: Path, write_plan: PlanWriter
) -> None:
    plan = write_plan("p.md", "planrun: 1\ntasks: [{id: a, verify: 'true'}]")
    run = run_cli("execute", plan, "--root", tmp_path, "--timeout", "inf", "--no-summary")
    assert run.exit_code == 2
    assert (
        "--timeout: a timeout is a number of seconds greater than 0 and at most 1000000, "
        "got infinity"
    ) in run.output
