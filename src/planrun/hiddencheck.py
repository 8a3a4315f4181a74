"""A check inside a script whose failure (or skip) no exit status shows, as reports.py and
skips.py find it: where it is, how planrun watches it (what it prints, which lines bash
reaches), and how to write it so that its exit status shows it."""

from __future__ import annotations

from dataclasses import dataclass

from planrun.shellsplit import one_line


@dataclass(frozen=True)
class Hidden:
    """A check whose failure the script goes on after, with no exit status to show it."""

    line: int  # of the script
    command: str  # the check, flattened
    shape: str  # "the `|| echo`", "the `&& echo`", "the `!`", or UNREAD
    message: str | None = None  # what it prints, as written: on failure (`|| echo`), or success
    needle: bytes | None = None  # the fixed text of it planrun looks for, when it can
    why: str | None = None  # why it is not watched, when that is not its shape's doing
    success: bool = False  # the needle is what its success prints (`&& echo ok`), a whole line
    fix: str | None = None  # how to write it so that its failure fails the script
    # The line after it whose first command bash's DEBUG trap reports the status it starts
    # with, the status the check's line ended with (proc.record_failures); None: not asked.
    head: int | None = None
    sure: bool = False  # a failed status there can only be a check's (not a condition's)
    # An `exit 0` that skips the rest of the script (earlyexit.py): when it runs ("`X` fails").
    # Its line ran when its message appeared; it did not when bash reached a line of ``reach``
    # (the statement after it: bash's DEBUG trap may report a later line of it than its first).
    skip: str | None = None
    reach: tuple[int, ...] = ()
    # A branch of an `if` that does the checking, skipped on the other path (skips.branch_skip):
    # its first statement, which did not run when its other branch printed or when bash never
    # reached a line of ``reach`` (then ``skip`` says when it is skipped).
    instead: str | None = None
    # The whole line a skip's report prints, when all of it is fixed ("\nskipped\n"): its
    # needle alone may be part of another line (pytest's "1 skipped"), which shows nothing.
    whole: bytes | None = None

    @property
    def remedy(self) -> str:
        return self.fix or f"put `{one_line(self.command, 60)}` on a line of its own"
