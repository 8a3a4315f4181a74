"""Commands a reader found stated in a plan (a ``## Validation`` section, a shell fence, a
``<verify>``) that would change the work they check: held as manual checks with a warning.

Derived checks are already filtered (checkform.check_form). A command a plan states is run
as written, unless it deletes or rewrites the work: ``git clean -fdx``, ``git reset --hard``,
``rm -rf``, a fixer (``ruff check --fix``, ``prettier --write``) or a snapshot update. Such a
command is not run; the plan keeps it as a truth for a person to check, said why. Test
runners, linters in their check mode and builds run as before. The canonical format's own
``verify:`` is the user's explicit check and is run as written.
"""

from __future__ import annotations

import re

from planrun import lazyre
from planrun.diagnostics import Diagnostics
from planrun.linedata import LineDict
from planrun.model import Plan
from planrun.modelchecks import MustHaves, Truth, VerifyCommand

_COMMENT = lazyre.compile(r"(?:^|\s+)#[^\n]*$", re.MULTILINE)


def hold_destructive(plan: Plan, diags: Diagnostics) -> None:
    """Move each destructive stated command of ``plan`` (not the canonical format's) to its
    owner's manual truths, with a ``destructive-check`` warning."""
    if plan.format == "planrun":
        return
    for task in plan.tasks:
        where = (f'task "{task.id}"', plan.source_of(task), task.line)
        task.verify = _hold(task.verify, task.must_haves, where, diags)
    where = (f'plan "{plan.id}"', plan.source, plan.line)
    plan.verify = _hold(plan.verify, plan.must_haves, where, diags)


def _hold(
    commands: list[VerifyCommand],
    must_haves: MustHaves,
    where: tuple[str, str, int | None],
    diags: Diagnostics,
) -> list[VerifyCommand]:
    # Imported here: the canonical format holds nothing, and these bring the bash parser.
    from planrun.checkform import destroys  # noqa: PLC0415
    from planrun.shellsplit import one_line  # noqa: PLC0415

    owner, source, fallback = where
    kept = []
    for cmd in commands:
        found = None if cmd.derived else destroys(cmd.run)
        if found is None:
            kept.append(cmd)
            continue
        part, what = found
        whole = part == " ".join(_COMMENT.sub("", cmd.run).split())
        why = f"it {what}" if whole else f"`{one_line(part, 60)}` in it {what}"
        line = cmd.line or fallback
        shown = one_line(cmd.run, 60)
        diags.add(
            "destructive-check",
            source,
            line,
            f"{owner}: `{shown}` is not run: {why}; it is a manual check",
            hint="state the check without it (`git status --porcelain`, `ruff check`, "
            "`prettier --check`), and run the clean-up or fix yourself",
        )
        truth = LineDict(truth=f"`{shown}` (not run: {why})", line=line or 0)
        must_haves.truths.append(Truth.model_validate(truth))
    return kept
