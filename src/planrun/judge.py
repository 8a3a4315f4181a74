"""Judging a unit from its commands and checks: its status and the reason shown."""

from __future__ import annotations

from planrun import checkrules, proc
from planrun.errexit import ShellFlags, passed_over
from planrun.graph import Unit
from planrun.results import CheckResult, CommandRecord
from planrun.scheduler import Step
from planrun.shellsplit import one_line, parse, split_script
from planrun.statuses import ERROR, FAILED, MANUAL, PASSED, TIMEOUT, UNVERIFIED, TaskStatus

ONLY_PRINTS = "only prints its result"  # a weak pass: it prints PASS or FAIL, exits 0


OUTPUT_DISCARDED = "its expected output cannot be judged: the command discards its output"
WENT_ON = "its shell runs without -e and went on after"  # a failure it passed over


def only_derived(commands: list[CommandRecord], checks: list[CheckResult]) -> bool:
    """Whether everything that passed was derived by planrun from the task's text."""
    shown = [c.derived for c in commands if not c.weak] + [c.derived for c in checks if c.ok]
    return bool(shown) and all(shown)


def judge(
    unit: Unit, commands: list[CommandRecord], checks: list[CheckResult]
) -> tuple[TaskStatus, str | None]:
    for cmd in commands:
        if cmd.missing:
            return ERROR, f"could not run: {cmd.missing}: {named(cmd)}"
        if not cmd.ok:
            status = TIMEOUT if cmd.timed_out else FAILED
            return status, f"{cmd.outcome}: {named(cmd)}"
    failed = [c for c in checks if c.ok is False]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return FAILED, failed[0].message + more
    notes = [
        checkrules.judged(cmd.run, cmd.note, must_fail=cmd.must_fail)
        for cmd in commands
        if cmd.note and not cmd.weak
    ]
    notes += [
        f"`{one_line(cmd.original or cmd.run, 60)}` {cmd.weak}" for cmd in commands if cmd.weak
    ]
    # A failure the shell passed over is evidence against the work, not merely no evidence
    # for it: no other command's pass outweighs it.
    went_on = [c for c in commands if c.weak and c.weak.startswith(WENT_ON)]
    if went_on:
        return UNVERIFIED, f"{went_on[0].weak}: {named(went_on[0])}"
    shown = sum(1 for c in commands if not c.weak) + sum(1 for c in checks if c.ok is True)
    if shown:
        return PASSED, "; ".join(notes) or None
    zero = [c for c in commands if c.weak and c.weak.startswith("ran no tests")]
    if zero:
        return UNVERIFIED, f"ran no tests: {named(zero[0])}"
    hidden = [c for c in commands if c.weak == OUTPUT_DISCARDED]
    if hidden:
        return UNVERIFIED, f"{OUTPUT_DISCARDED}: {named(hidden[0])}"
    printed = [c for c in commands if c.weak == ONLY_PRINTS]
    if printed:
        why = "it only prints its result, and exits 0 whether it printed PASS or FAIL"
        return UNVERIFIED, f"{why}: {named(printed[0])}"
    if commands:
        return UNVERIFIED, f"its only checks can never fail: {named(commands[0])}"
    if unit.manual or checks:
        return MANUAL, "needs a human: no automated check"
    return UNVERIFIED, "nothing verifies it: no verify command and no must_haves check"


def _failed_line(step: Step, output: str) -> int | None:
    """The line of its script at which planrun's ERR trap saw a script with it stop."""
    if step.spec is None or not step.spec.locate:
        return None
    found = proc.FAILED_AT.findall(output)
    return int(found[-1]) if found else None


def went_on(step: Step, output: str, flags: ShellFlags) -> str | None:
    """Why a script that exited 0 shows nothing: its shell, started without -e, went on after
    a command failed (planrun's ERR trap named the line); None when no failure was passed
    over, or the script chose to (a ``set +e`` of its own, a ``$?`` it reads)."""
    if step.spec is None or not step.spec.locate:
        return None
    found = proc.WENT_ON_AT.findall(output)
    line = passed_over(step.run, flags, int(found[-1])) if found else None
    if line is None:
        return None
    chunks = split_script(step.run, 1)
    at = [c for c in chunks if c.line <= line]
    what = "one of its commands failed"
    if len(chunks) > 1 and at and "\n" not in at[-1].text.strip():
        what = f"`{one_line(at[-1].text, 60)}` failed at line {line} of the script"
    elif "\n" in step.run.strip():
        what = f"a command failed at line {line} of the script"
    fix = "add `set -e` first, or `|| true` where a failure does not matter"
    return f"{WENT_ON} {what} ({fix})"


def stopped_at(step: Step, output: str) -> str | None:
    """The top-level command of a multi-line script that stopped it, from the line bash named."""
    line = _failed_line(step, output)
    if line is None:
        return None
    for chunk in reversed(split_script(step.run, 1)):
        if chunk.line <= line:
            return f"`{one_line(chunk.text, 60)}` (line {line} of the script)"
    return None


def judged_output(step: Step, output: bytes, code: int | None) -> tuple[bytes, str | None]:
    """What a multi-line script printed, as its ``expect_output`` reads it: without the line
    planrun's ERR trap added (``planrun: failed at line N``, not the script's output); and why
    its exit code is a failure whatever it printed, when a command before the last stopped it
    (``cd nothere`` then ``grep -c x``: bash's error is no count, its exit 1 no "no match").
    A script that exited 0 was not stopped: without -e the trap also names a failure the
    script went on after (went_on)."""
    text = output.decode("utf-8", errors="replace")
    line = _failed_line(step, text)
    if line is None:
        return output, None
    statements = [c for c in parse(step.run).named_children if c.type != "comment"]
    early = None
    if code not in (0, None) and statements and line < statements[-1].start_point.row + 1:
        early = f"stopped at line {line} of the script, before its last command"
    return proc.WENT_ON_AT.sub("", proc.FAILED_AT.sub("", text)).encode(), early


def named(cmd: CommandRecord) -> str:
    """The command as a report names it: its text, its line in the plan, how it was judged."""
    where = [f"line {cmd.line}"] if cmd.line else []
    if cmd.note:
        where.append(f"it must fail: {cmd.note}" if cmd.must_fail else cmd.note)
    named = f"`{one_line(cmd.run, 80)}`"
    if cmd.at:
        script = "; ".join(line.strip() for line in cmd.run.splitlines() if line.strip())
        named = f"{cmd.at} in `{one_line(script, 50)}`"
    return named + (f" ({'; '.join(where)})" if where else "")
