"""``planrun hook claude-code``: every exit code, the cap on blocks in a row, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Run
from planrun.cli import app


def hook(stdin: str | None, *args: str) -> Run:
    result = CliRunner().invoke(app, ["hook", *args], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def stop(cwd: Path, session: str = "s1", event: str = "Stop", **extra: object) -> str:
    data = {
        "session_id": session,
        "transcript_path": str(cwd / "t.jsonl"),
        "cwd": str(cwd),
        "hook_event_name": event,
        "stop_hook_active": False,
        **extra,
    }
    return json.dumps(data)


def plans(root: Path, tasks: str, name: str = "plans/p.md") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\nplanrun: 1\ntasks:\n" + textwrap.dedent(tasks).strip("\n") + "\n---\n")
    return path


CLAIMS = """
  - {id: good, claimed: done, verify: "test -d ."}
  - id: bad
    claimed: done
    verify: "test -f fixed || { echo 'assert fixed: no such file'; exit 1; }"
  - {id: open, verify: "false"}
"""


def test_a_true_claim_lets_the_agent_stop(tmp_path: Path) -> None:
    plans(tmp_path, CLAIMS.replace("claimed: done\n", "\n"))
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 0
    assert run.stdout == ""
    assert run.stderr == "planrun: 1 claim checked, all hold\n"
    # The check was recorded like any run; the tasks not claimed done were not run.
    status = json.loads(hook_status(tmp_path))
    assert {t["id"]: t["status"] for t in status["tasks"]} == {
        "p/good": "passed",
        "p/bad": "not_run",
        "p/open": "not_run",
    }


def hook_status(root: Path) -> str:
    result = CliRunner().invoke(app, ["status", str(root / "plans"), "--root", str(root), "--json"])
    return result.stdout


def test_a_false_claim_blocks_with_what_to_do(tmp_path: Path) -> None:
    plans(tmp_path, CLAIMS)
    run = hook(stop(tmp_path, event="SubagentStop"), "claude-code")
    assert run.exit_code == 2
    assert run.stdout == ""
    err = run.stderr
    assert err.startswith("planrun: 1 task claimed done does not pass (block 1 of 3 in a row):")
    assert "FAILED p/bad (plans/p.md:5): exit 1:" in err
    assert "  $ test -f fixed || { echo 'assert fixed: no such file'; exit 1; }" in err
    assert "  | assert fixed: no such file" in err
    assert "full log .planrun/logs/" in err
    assert "`planrun execute plans --task p/bad` passes" in err
    assert "set its status back to in_progress in the plan (un-claim it)" in err
    assert "`planrun next plans --json`" in err
    assert "p/good" not in err and "p/open" not in err
    # Fixed: the same stop goes through, and the count of blocks starts again.
    (tmp_path / "fixed").write_text("")
    assert hook(stop(tmp_path), "claude-code").exit_code == 0
    (tmp_path / "fixed").unlink()
    again = hook(stop(tmp_path), "claude-code")
    assert again.exit_code == 2
    assert "(block 1 of 3 in a row)" in again.stderr


def test_blocks_in_a_row_are_capped_per_session(tmp_path: Path) -> None:
    plans(tmp_path, CLAIMS)
    (tmp_path / "pyproject.toml").write_text("[tool.planrun]\nhook_max_blocks = 2\n")
    first = hook(stop(tmp_path), "claude-code")
    assert "(block 1 of 2 in a row)" in first.stderr
    # Another session has its own count.
    assert "(block 1 of 2 in a row)" in hook(stop(tmp_path, "s2"), "claude-code").stderr
    second = hook(stop(tmp_path, stop_hook_active=True), "claude-code")
    assert (second.exit_code, "(block 2 of 2 in a row)" in second.stderr) == (2, True)
    released = hook(stop(tmp_path, stop_hook_active=True), "claude-code")
    assert released.exit_code == 0
    assert released.stderr == (
        "planrun: warning: letting this stop through: it was blocked 2 times in a row "
        "(hook_max_blocks), and these claims still do not hold: p/bad (failed)\n"
    )
    # The stop went through: the next one may block again.
    assert "(block 1 of 2 in a row)" in hook(stop(tmp_path), "claude-code").stderr
    counts = json.loads((tmp_path / ".planrun" / "hook-blocks.json").read_text())
    assert {k: v["count"] for k, v in counts.items()} == {"s1": 1, "s2": 1}


def test_hook_max_blocks_zero_only_warns(tmp_path: Path) -> None:
    plans(tmp_path, CLAIMS)
    (tmp_path / "planrun.toml").write_text("hook_max_blocks = 0\n")
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 0
    assert run.stderr == (
        "planrun: warning: letting this stop through: hook_max_blocks is 0, so no stop is "
        "refused, and these claims still do not hold: p/bad (failed)\n"
    )


def test_nothing_claimed_done_lets_the_agent_stop(tmp_path: Path) -> None:
    plans(tmp_path, '  - {id: open, verify: "false"}')
    run = hook(stop(tmp_path), "claude-code")
    assert (run.exit_code, run.stderr) == (
        0,
        "planrun: no task is claimed done: nothing to check\n",
    )


def test_a_claim_is_judged_by_its_own_checks(tmp_path: Path) -> None:
    plans(
        tmp_path,
        """
  - {id: base, verify: "false"}
  - {id: top, claimed: done, depends_on: [base], verify: "test -d ."}
""",
    )
    assert hook(stop(tmp_path), "claude-code").exit_code == 0


def test_a_claim_blocked_behind_a_failing_claim_is_named(tmp_path: Path) -> None:
    plans(
        tmp_path,
        """
  - {id: base, claimed: done, verify: "exit 3"}
  - {id: top, claimed: done, depends_on: [base], verify: "test -d ."}
""",
    )
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 2
    assert "2 tasks claimed done do not pass" in run.stderr
    assert "BLOCKED p/top (plans/p.md:5): dependency p/base did not pass" in run.stderr


def test_no_plans_folder_is_nothing_to_check(tmp_path: Path) -> None:
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 0
    assert run.stderr == (
        f"planrun: no plans/ folder in {tmp_path.resolve()} and no [tool.planrun] path: "
        "nothing to check\n"
    )


def test_a_configured_plan_path_that_is_missing_blocks(tmp_path: Path) -> None:
    (tmp_path / "planrun.toml").write_text('path = "work/plans"\n')
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 2
    assert run.stderr.startswith(
        "planrun: could not check the claimed work (block 1 of 3 in a row): the configured "
        f"plan path {tmp_path.resolve() / 'work' / 'plans'} does not exist"
    )


def test_configured_plans_are_found_from_cwd(tmp_path: Path) -> None:
    plans(tmp_path, CLAIMS, name="work/todo.md")
    (tmp_path / "pyproject.toml").write_text('[tool.planrun]\npath = "work"\n')
    sub = tmp_path / "src"
    sub.mkdir()
    run = hook(stop(sub), "claude-code")
    assert run.exit_code == 2
    assert "FAILED todo/bad" in run.stderr
    # Outside git, the count of blocks is kept beside the configuration.
    assert (tmp_path / ".planrun" / "hook-blocks.json").is_file()
    assert not (sub / ".planrun" / "hook-blocks.json").exists()


def test_an_invalid_plan_blocks_with_the_validate_output(tmp_path: Path) -> None:
    plans(tmp_path, '  - {id: a, claimed: done, depends_on: [nope], verify: "test -d ."}')
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 2
    err = run.stderr.splitlines()
    assert err[0] == (
        "planrun: the plan is invalid (the plan has 1 error), so no claim can be checked "
        "(block 1 of 3 in a row):"
    )
    assert err[1].startswith('  plans/p.md:4: error[unknown-dependency] task "a" depends on "nope"')
    assert err[-1] == "Fix the plan until `planrun validate plans` reports no errors, then stop."


def test_an_internal_failure_blocks_rather_than_passing(tmp_path: Path) -> None:
    plans(tmp_path, CLAIMS)
    (tmp_path / ".planrun").write_text("a file where planrun keeps its state folder")
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 2
    assert run.stderr.startswith("planrun hook: internal error: FileExistsError:")


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (None, "no hook input on stdin: Claude Code pipes a JSON object to the hook command"),
        ("{not json", "the hook input on stdin is not JSON (Expecting property name"),
        ("[1, 2]", "the hook input on stdin must be a JSON object"),
        (
            '{"cwd": "/"}',
            (
                'the hook input lacks "session_id", "hook_event_name" (expected Claude Code\'s '
                "Stop or SubagentStop hook input)"
            ),
        ),
        (
            '{"session_id": 3, "cwd": "/", "hook_event_name": "Stop"}',
            '"session_id" in the hook input must be a non-empty string',
        ),
        (
            '{"session_id": "s", "cwd": "/", "hook_event_name": "Stop", "stop_hook_active": 1}',
            '"stop_hook_active" in the hook input must be true or false',
        ),
        (
            '{"session_id": "s", "cwd": "/", "hook_event_name": "PreToolUse"}',
            'planrun hook claude-code is for the Stop and SubagentStop hooks, not "PreToolUse"',
        ),
        (
            '{"session_id": "s", "cwd": "/no/such/dir", "hook_event_name": "Stop"}',
            '"cwd" in the hook input is not a folder: /no/such/dir',
        ),
    ],
)
def test_bad_hook_input_is_a_clear_message_and_exit_2(stdin: str | None, message: str) -> None:
    run = hook(stdin, "claude-code")
    assert run.exit_code == 2
    assert run.stderr.startswith("planrun hook: " + message)
    assert len(run.stderr.splitlines()) == 1


def test_hook_without_an_adapter_lists_them() -> None:
    run = hook(None)
    assert run.exit_code == 2
    assert "claude-code    Claude Code Stop/SubagentStop hook" in run.stderr
    wrong = hook(None, "claude")
    assert wrong.exit_code == 2
    assert 'no hook adapter "claude" (did you mean "claude-code"?)' in wrong.stderr


def test_control_characters_in_child_output_are_not_passed_on(tmp_path: Path) -> None:
    plans(tmp_path, r"""  - {id: x, claimed: done, verify: 'printf "\033[31mred\007\n"; exit 1'}""")
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 2
    assert "  | red?" in run.stderr
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr


def test_hook_max_blocks_must_not_be_negative(tmp_path: Path) -> None:
    plans(tmp_path, CLAIMS)
    (tmp_path / "planrun.toml").write_text("hook_max_blocks = -1\n")
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 2
    assert 'setting "hook_max_blocks" must be 0 or more, got -1' in run.stderr


def test_a_plan_claimed_done_as_a_whole_has_its_own_checks_run(tmp_path: Path) -> None:
    path = plans(tmp_path, '  - {id: a, claimed: done, verify: "test -d ."}')
    path.write_text(path.read_text().replace("tasks:", 'verify: ["test -f built"]\ntasks:'))
    run = hook(stop(tmp_path), "claude-code")
    assert run.exit_code == 2
    assert "FAILED p/@checks" in run.stderr
    (tmp_path / "built").write_text("")
    assert hook(stop(tmp_path), "claude-code").stderr == "planrun: 2 claims checked, all hold\n"
    # With a task not claimed done, the plan is not claimed as a whole: its checks wait.
    (tmp_path / "built").unlink()
    path.write_text(path.read_text().replace("tasks:", 'tasks:\n- {id: b, verify: "test -d ."}'))
    assert hook(stop(tmp_path), "claude-code").stderr == "planrun: 1 claim checked, all hold\n"


def test_a_pass_under_the_same_inputs_is_not_run_again(tmp_path: Path) -> None:
    plans(
        tmp_path,
        '  - {id: a, claimed: done, inputs: [a.txt], verify: "echo ran >> ran && test -f a.txt"}',
    )
    (tmp_path / "a.txt").write_text("one")
    for _ in range(2):
        assert hook(stop(tmp_path), "claude-code").exit_code == 0
    assert (tmp_path / "ran").read_text() == "ran\n"
    (tmp_path / "a.txt").write_text("two")
    assert hook(stop(tmp_path), "claude-code").exit_code == 0
    assert (tmp_path / "ran").read_text() == "ran\nran\n"


def test_as_claude_code_runs_it_a_process_reading_a_pipe(tmp_path: Path) -> None:
    """Claude Code starts the command in its own folder, pipes the JSON, reads the exit code."""
    plans(tmp_path, CLAIMS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "planrun", "hook", "claude-code"],
        input=stop(tmp_path),
        capture_output=True,
        text=True,
        cwd=elsewhere,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert "FAILED p/bad (plans/p.md:5)" in run.stderr
    assert not (elsewhere / ".planrun").exists()
