"""Judging a unit from its commands and checks: its status and the reason shown."""

from __future__ import annotations

from planrun import checkrules, passedover, removals
from planrun.checkrules import Reading
from planrun.errexit import ShellFlags, text_of
from planrun.graph import Unit
from planrun.hiddencheck import Hidden
from planrun.procpool import CANNOT_START, LOST
from planrun.reports import ABSENT, CANNOT_LOOK, UNREAD
from planrun.results import CheckResult, CommandRecord
from planrun.scheduler import Step
from planrun.shellsplit import one_line, parse
from planrun.skips import SKIPS_NOW
from planrun.statuses import ERROR, FAILED, MANUAL, PASSED, TIMEOUT, UNVERIFIED, TaskStatus

ONLY_PRINTS = "only prints its result"  # a weak pass: it prints PASS or FAIL, exits 0


OUTPUT_DISCARDED = "its expected output cannot be judged: the command discards its output"
WENT_ON = "its shell runs without"  # -e or pipefail: it went on after a failure, or may have
INFORMED = "its plan only prints `"  # neither a pass nor a failure (informed)
ONLY_REPORTS = "it only reports:"  # X && echo "INFO: ..." whose X failed: it printed nothing
UNSEEN = checkrules.UNSEEN  # a check no exit status shows (unseen_check, a nested shell)
PRINTED = "its script printed `"  # what a check's failure prints appeared (unseen_check)
UNPRINTED = "its script did not print `"  # what a check's success prints did not appear
ENDED = "its script ended at the `exit 0` of "  # bash never reached the line after a skip
NOT_RUN = "its script did not run `"  # bash never reached the branch of an `if` that checks
# Weak reasons that are evidence against the work: no other command's pass outweighs them.
# `[ -d web ] && (cd web && npm test)` ended failing, and the script went on.
PASSED_OVER = "its script went on after "
# `[ -d web ] && (cd web && npm test) || echo skipping`, run without its report, where web is
# not there: it skipped its check.
SKIPPED = "its script skips "
AGAINST = (WENT_ON, INFORMED, UNSEEN, PRINTED, UNPRINTED, ENDED, NOT_RUN, PASSED_OVER, SKIPPED)


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
        if cmd.error is not None and cmd.error.startswith((CANNOT_START, LOST)):
            return ERROR, f"{cmd.error}: {named(cmd)}"  # planrun could not run or watch it
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
    # for it: no other command's pass outweighs it. Nor does one of a check's own outcomes
    # that its plan calls neither a pass nor a failure (INFO: ...).
    against = [c for c in commands if c.weak and c.weak.startswith(AGAINST)]
    if against:
        return UNVERIFIED, f"{against[0].weak}: {named(against[0])}"
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
    reports = [c for c in commands if c.weak and c.weak.startswith(ONLY_REPORTS)]
    if reports:
        return UNVERIFIED, f"{reports[0].weak}: {named(reports[0])}"
    blind = [
        c
        for c in commands
        if c.weak and (checkrules.STATUS_BLIND in c.weak or c.weak.startswith(removals.UNREAD))
    ]
    if blind:
        return UNVERIFIED, f"{blind[0].weak}: {named(blind[0])}"
    if commands:
        return UNVERIFIED, f"its only checks can never fail: {named(commands[0])}"
    if unit.manual or checks:
        return MANUAL, "needs a human: no automated check"
    return UNVERIFIED, "nothing verifies it: no verify command and no must_haves check"


def informed(reading: Reading, code: int | None) -> str | None:
    """Why a check whose outcome only informs (checkrules.INFO_WORDS) shows nothing: what it
    printed, or, when a search found nothing and printed nothing, that it only reports. None
    when it is judged by its exit status (a pass, or a failure but a search's "no match")."""
    said = reading.informs_ok if code == 0 else reading.informs_failed
    if code not in (0, 1) and reading.informs_failed is None:
        return None  # `X && echo "NOTE: ..."` whose X broke (grep's 2): X's failure decides
    if code == 1 and said is None and not checkrules.finds(reading.run):
        return None  # not a search: its failure is a failure
    if said is not None:
        outcome = "succeeds" if code == 0 else "fails"
        check = one_line(reading.run, 50)
        neither = "neither a pass nor a failure"
        return f"{INFORMED}{one_line(said, 60)}` when `{check}` {outcome}: {neither}"
    if code == 0:
        return None  # its success printed what the plan calls a pass
    return f"{ONLY_REPORTS} `{one_line(reading.informs_ok or '', 60)}` runs when it succeeds"


def failed_before_and(
    hidden: tuple[Hidden, ...], heads: dict[int, int] | None, script: str
) -> tuple[int, str] | None:
    """How and why a script that ended as expected failed after all: a line of it ended with
    a failure before its `&&` (bash's DEBUG trap saw the next line start with that status),
    and the script went on without the rest of that line. (exit status, reason)."""
    where = " of the script" if "\n" in script.strip() else ""
    hidden = tuple(c for c in hidden if c.skip is None)  # a skip's head says it went on
    for check in hidden:
        status = heads.get(check.head) if heads is not None and check.head else None
        line = [c for c in hidden if c.head == check.head]
        if status and all(c.sure for c in line):
            # `A && B && C`: one of the commands before the last `&&` failed (a `cd` too).
            same = [c for c in hidden if c.line == check.line and c.shape == check.shape]
            named = " or ".join(f"`{one_line(c.command, 40)}`" for c in reversed(same))
            return status, (
                f"{named} failed (exit {status}) at line {check.line}{where}, and the script "
                f"went on without what follows its `&&` ({check.remedy})"
            )
    return None


def unseen_check(
    hidden: tuple[Hidden, ...],
    seen: frozenset[bytes] | None,
    script: str,
    heads: dict[int, int] | None = None,
) -> str | None:
    """Why a script that ended as expected shows nothing of a check in it whose failure it went
    on after (reports.py): what that failure prints appeared in its output, or nothing shows
    whether it failed. ``seen``: the watched texts that appeared, None when its output could
    not be watched after all. None when each failure would have printed what did not appear."""
    where = " of the script" if "\n" in script.strip() else ""
    for check in hidden:
        if check.skip is not None:
            skipped = _skipped(check, seen, heads, f"line {check.line}{where}")
            if skipped is not None:
                return skipped
            continue
        if heads is not None and check.head is not None and heads.get(check.head) == 0:
            continue  # its line ended with status 0: the check before `&&` passed
        needle = check.needle if seen is not None else None
        if needle is not None and seen is not None and (needle in seen) == check.success:
            continue  # its failure's message never appeared, or its success's did: it passed
        command = f"`{one_line(check.command, 60)}`"
        at = f"line {check.line}{where}"
        fix = check.remedy
        if needle is not None and check.shape == ABSENT:
            return (
                f"{PRINTED}{one_line(needle.decode(errors='replace'), 60)}`: {command} "
                f"({at}) could not run, and the `!` took that for the refusal it tests ({fix})"
            )
        if needle is not None and check.shape == CANNOT_LOOK and check.message is None:
            return (
                f"{PRINTED}{one_line(needle.decode(errors='replace'), 60)}`: {command} "
                f'({at}) could not run, and the script took that for "not found" and went '
                f"on ({fix})"
            )
        if needle is not None and check.shape == CANNOT_LOOK:
            return (
                f"{PRINTED}{one_line(needle.decode(errors='replace'), 60)}`: {command} "
                f"({at}) could not read `{one_line(check.message or '', 40)}`, and the script "
                f'took that for "not found" and went on ({fix})'
            )
        if needle is not None and check.success:
            said = one_line(check.message or "", 60)
            went = f"prints when {command} succeeds, and went on ({fix})"
            return f"{UNPRINTED}{said}`, which {at} {went}"
        if needle is not None:
            said = one_line(needle.decode(errors="replace"), 60)
            return f"{PRINTED}{said}`, which {at} prints when {command} fails, and went on ({fix})"
        if check.shape == UNREAD:
            return f"{UNSEEN} {at} failed: it cannot read {command}"
        if check.why is not None:
            return f"{UNSEEN} {command} failed ({at}): {check.why}"
        if check.message is not None:
            said = one_line(check.message, 40)
            return (
                f"{UNSEEN} {command} failed ({at}): it cannot watch for `{said}` ({check.remedy})"
            )
        return (
            f"{UNSEEN} {command} failed ({at}): {check.shape} goes on either way ({check.remedy})"
        )
    return None


def _skipped(
    check: Hidden, seen: frozenset[bytes] | None, heads: dict[int, int] | None, at: str
) -> str | None:
    """Why a script that exited 0 may have skipped itself (skips.skip): what its skip
    prints appeared, or nothing shows whether its ``exit 0`` ran. None when the statement
    after it ran, or its message never appeared."""
    if check.instead is not None:
        return _branch_skipped(check, seen, heads, at)
    rest = f"skipping the rest of the check ({check.remedy})"
    watched = _watched(check, seen)
    # What it printed is read before the DEBUG trap's lines: one may hold another command too.
    if (said := _seen(check, seen)) is not None:
        return f"{PRINTED}{said}`, which {at} prints before its {check.shape} {check.skip}, {rest}"
    if heads is not None and any(line in heads for line in check.reach):
        return None  # bash reached the statement after it: the `exit 0` did not run
    if heads is not None and check.reach:
        return f"{ENDED}{at} ({check.skip}): bash never reached line {check.reach[0]}, {rest}"
    if watched:
        return None  # what it prints before it exits never appeared
    return f"{UNSEEN} the script ended at the {check.shape} of {at} ({check.skip}), {rest}"


def _seen(check: Hidden, seen: frozenset[bytes] | None) -> str | None:
    """The watched text of ``check``, shown in a reason, when it appeared in the output (as
    the whole line it prints, where that is known)."""
    if check.needle is None or seen is None or (check.whole or check.needle) not in seen:
        return None
    return one_line(check.needle.decode(errors="replace"), 60)


def _watched(check: Hidden, seen: frozenset[bytes] | None) -> bool:
    """Whether what a skip prints is watched and tells: its text never appeared, or appeared
    as its whole line. Its text inside another line ("1 skipped") tells nothing."""
    if check.needle is None or seen is None:
        return False
    return check.needle not in seen or check.whole is None or check.whole in seen


def _branch_skipped(
    check: Hidden, seen: frozenset[bytes] | None, heads: dict[int, int] | None, at: str
) -> str | None:
    """Why a script whose checking branch of an ``if`` may not have run shows nothing."""
    instead = f"`{one_line(check.instead or '', 50)}`"
    fix = f"({check.remedy})"
    watched = _watched(check, seen)
    if (said := _seen(check, seen)) is not None:
        return f"{PRINTED}{said}`, which {at} prints {check.skip}, instead of {instead} {fix}"
    if heads is not None and any(line in heads for line in check.reach):
        return None  # bash reached the checking branch
    status = heads.get(check.head) if heads is not None and check.head else None
    if status == 0:
        return None  # `[ -d web ] && (cd web && npm test)` ended with 0: all of it ran
    if status is not None:
        return (
            f"{PASSED_OVER}{check.shape} of {at} ended with exit {status}: "
            f"{instead} did not run {check.skip}, or failed {fix}"
        )
    if check.why == SKIPS_NOW:  # known before the script ran
        return f"{NOT_RUN}{instead[1:]}, which {check.shape} of {at} skips {check.skip} {fix}"
    if heads is not None and check.reach:
        line = f"line {check.reach[0]}"
        return (
            f"{NOT_RUN}{instead[1:]} ({line}), which {check.shape} of {at} skips {check.skip} {fix}"
        )
    if watched:
        return None  # what it prints instead never appeared
    return f"{UNSEEN} {instead} ran: {check.shape} of {at} skips it {check.skip} {fix}"


Failures = tuple[tuple[int, str], ...]
"""What a script's ERR trap recorded: (line of the script, command) of each failure."""


def went_on(
    step: Step, failures: Failures | None, flags: ShellFlags, code: int | None
) -> str | None:
    """Why a script that ended as expected shows nothing: its shell, started without -e, went
    on after a command failed (planrun's ERR trap recorded it), or, where planrun cannot see
    its failures (a shell other than bash, an ERR trap of the script's own), could have; or,
    without pipefail, a pipeline hid a failure. None when no failure was passed over, or the
    script chose to go on (passedover.chose_to_go_on). ``code`` 1 counts for an expected
    output (grep's "no match") when only the last command's failures led to it."""
    if step.spec is None or (flags.errexit and flags.pipefail):
        return None
    if code != step.expect_exit and not (code == 1 and step.expect_output is not None):
        return None
    root = parse(step.run)
    statements = [c for c in root.named_children if c.type != "comment"]
    if not flags.errexit and failures:
        own = passedover.significant(root, failures)
        went = passedover.not_the_last(statements, own) if code != 0 else own
        went = [f for f in went if not passedover.chose_to_go_on(root, f)]
        if went:
            failed = _failed_command(step.run, *went[0])
            return f"{WENT_ON} -e and went on after {failed} ({_FIX})"
    piped = passedover.piped_over(root, flags)
    if piped is not None:
        line, tail, before = piped
        return (
            f"{WENT_ON} pipefail, and planrun cannot see whether `{before}` failed: the "
            f"`| {tail}` hides it (line {line} of the script; add `set -o pipefail` first)"
        )
    if flags.errexit or (failures is not None and passedover.seen(root, step.spec.cwd)):
        return None  # the trap saw every failure: none was passed over
    hidden = passedover.unseen(root, flags)
    if hidden is None:
        return None
    line, text = hidden
    where = f"`{one_line(text, 60)}` (line {line} of the script)"
    return f"{WENT_ON} -e, and planrun cannot see whether {where} failed ({_FIX})"


_FIX = "add `set -e` first, or `|| true` where a failure does not matter"


def _failed_command(script: str, line: int, command: str) -> str:
    where = f" at line {line} of the script" if "\n" in script.strip() else ""
    return f"`{one_line(command, 60)}` failed{where}"


def stopped_at(step: Step, failures: Failures | None) -> str | None:
    """The top-level command of a multi-line script that stopped it, from the line of its
    last failure."""
    if not failures:
        return None
    line = failures[-1][0]
    # Each top-level statement, not split_script's chunks, which join the lines after a
    # `set -euo pipefail` or `cd` (one check there) into one.
    statements = [c for c in parse(step.run).named_children if c.type != "comment"]
    for statement in reversed(statements):
        if statement.start_point.row + 1 <= line:
            return f"`{one_line(text_of(statement), 60)}` (line {line} of the script)"
    return None


def stopped_early(step: Step, failures: Failures | None, code: int | None) -> str | None:
    """Why a script with an expected output or exit failed whatever it printed or exited
    with: under -e a command before its last stopped it (``cd nothere`` then ``grep -c x``:
    bash's error is no count, its exit 1 no "no match"). Without -e, see went_on."""
    if not failures or code in (0, None):
        return None
    root = parse(step.run)
    statements = [c for c in root.named_children if c.type != "comment"]
    stop = passedover.stopper(statements, passedover.significant(root, failures))
    if stop is None:
        return None
    return f"stopped at line {stop[0]} of the script, before its last command"


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
