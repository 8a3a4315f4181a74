"""Judging a unit from its commands and checks: its status and the reason shown."""

from __future__ import annotations

import re

from tree_sitter import Node

from planrun import checkrules, proc
from planrun.errexit import ShellFlags, passed_over, unseen
from planrun.graph import Unit
from planrun.results import CheckResult, CommandRecord
from planrun.scheduler import Step
from planrun.shellsplit import one_line, parse, split_script
from planrun.statuses import ERROR, FAILED, MANUAL, PASSED, TIMEOUT, UNVERIFIED, TaskStatus

ONLY_PRINTS = "only prints its result"  # a weak pass: it prints PASS or FAIL, exits 0


OUTPUT_DISCARDED = "its expected output cannot be judged: the command discards its output"
WENT_ON = "its shell runs without -e"  # it went on after a failure, or may have


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


def went_on(
    step: Step, output: str, flags: ShellFlags, code: int | None, *, bash: bool
) -> str | None:
    """Why a script that ended as expected shows nothing: its shell, started without -e, went
    on after a command failed (planrun's traps named it), or, where planrun cannot see its
    failures (a shell other than bash, a script with traps of its own or ``exec``), could
    have; None when no failure was passed over, or the script chose to (a ``set`` of -e or
    +e of its own, a ``$?`` it reads). ``code`` 1 counts for an expected output (grep's "no
    match") unless the last command gave it."""
    if step.spec is None or flags.errexit or step.expect_exit != 0:
        return None
    if code != 0 and not (code == 1 and step.expect_output is not None):
        return None
    seen = _first_failure(output) if bash and step.spec.locate else None
    if seen is not None:
        line, command = seen
        statements = [c for c in parse(step.run).named_children if c.type != "comment"]
        if code != 0 and _by_last(statements, line, command):
            return None  # the last command's own exit 1
        if passed_over(step.run, flags, line) is None:
            return None
        return f"{WENT_ON} and went on after {_failed_command(step.run, line, command)} ({_FIX})"
    if bash and step.spec.locate and not _OWN_TRAPS.search(step.run):
        return None  # the traps saw every failure, and there was none
    hidden = unseen(step.run, flags)
    if hidden is None:
        return None
    line, text = hidden
    where = f"`{one_line(text, 60)}` (line {line} of the script)"
    return f"{WENT_ON}, and planrun cannot see whether {where} failed ({_FIX})"


_FIX = "add `set -e` first, or `|| true` where a failure does not matter"
# Traps of a script's own replace planrun's, and `exec` can end the script before its EXIT
# trap or send the traps' lines elsewhere.
_OWN_TRAPS = re.compile(r"\b(?:trap|exec)\b")


def _by_last(statements: list[Node], line: int, command: str | None) -> bool:
    """Whether the first failure (at ``line``, running ``command``) was the last statement's:
    on its line, and the command it ran when the EXIT trap said (``test -f a; grep x b`` is
    one line)."""
    if not statements or line < statements[-1].start_point.row + 1:
        return False
    last = " ".join((statements[-1].text or b"").decode().split())
    return command is None or " ".join(command.split()) in last


def _first_failure(output: str) -> tuple[int, str | None] | None:
    """Where the first failure was, and what it ran: the EXIT trap's line, else (a trap of
    the script's own replaced it, a subshell failed) the first ERR trap line in the tail."""
    found = proc.FIRST_FAILURE.findall(output)
    if found:
        return int(found[-1][0]), found[-1][1]
    lines = proc.FAILED_AT.findall(output)
    return (int(lines[0]), None) if lines else None


def _failed_command(script: str, line: int, command: str | None) -> str:
    many = "\n" in script.strip()
    if command:
        return f"`{one_line(command, 60)}` failed" + (
            f" at line {line} of the script" if many else ""
        )
    chunks = split_script(script, 1)
    at = [c for c in chunks if c.line <= line]
    if len(chunks) > 1 and at and "\n" not in at[-1].text.strip():
        return f"`{one_line(at[-1].text, 60)}` failed at line {line} of the script"
    return f"a command failed at line {line} of the script" if many else "a command failed"


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
    return proc.without_trap_lines(text).encode(), early


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
