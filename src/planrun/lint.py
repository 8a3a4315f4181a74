"""Lints: on a single plan (verify commands, must_haves, claims), and across plans on the built
graph (milestones naming unknown tasks, wave mismatches, file conflicts)."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from planrun import escape, lazyre, reports, retryloops, skips
from planrun.checkrules import Reading, ignored_in, nested, nested_unseen, read, status_blind
from planrun.commandlint import findings, says_must_fail
from planrun.diagnostics import Diagnostics
from planrun.environment import machine_paths
from planrun.errexit import (
    DEFAULT_FLAGS,
    ShellFlags,
    always_succeeds,
    declared_flags,
    ignored_failures,
    shell_script,
    unwrapped,
    walk,
)
from planrun.model import Plan, Task
from planrun.modelchecks import MustHaves, VerifyCommand
from planrun.musthaves import PatternError, compile_pattern
from planrun.shellsplit import one_line, parse

_REMOVE_TRUE = 'remove "|| true"'
# Each pattern is a way a shell command reports success whatever happened before it.
_NEVER_FAILS: list[tuple[re.Pattern[str], str, str]] = [
    (
        lazyre.compile(r"\|\|\s*(?:true|:)\s*(?:$|[;)#])", re.MULTILINE),
        '"|| true" turns every failure into success',
        _REMOVE_TRUE,
    ),
    (
        lazyre.compile(r"\|\|\s*echo\b"),
        '"|| echo ..." prints a message and succeeds when the command fails',
        "let the command's own exit code decide; print with >&2 and then exit 1",
    ),
    (
        lazyre.compile(r"(?:^|[;&|]\s*)exit\s+0\s*(?:$|#)|\|\|\s*exit\s+0\b", re.MULTILINE),
        '"exit 0" makes the script succeed whatever ran before it',
        'remove "exit 0"',
    ),
]
_PIPE_TAIL = lazyre.compile(r"\|\s*(?:tail|head|wc|sort|cat|tee)\b[^|;&\n]*$", re.MULTILINE)
# Launchers that exist only on Windows: a check that uses one cannot run elsewhere.
_LAUNCHERS = {"py": "py", "cmd": "cmd", "cmd.exe": "cmd", "powershell": "powershell"}
# A launcher's name as a whole word or after a / or \ (the command's base name), or a *.exe:
# a script without one starts no launcher, and needs no syntax tree to say so. (A word never
# starts right after a letter, digit, "." or "-": the parser reads those as one word.)
_MAYBE_LAUNCHER = lazyre.compile(r"(?<![\w.-])(?:py|cmd|powershell)(?![\w.-])|\.exe", re.IGNORECASE)
# What any lint of a script's text needs, each prefilter above and in errexit and commandlint
# put together (a quote for a printed PASS, `>` for a redirect, `$?`, `|`, `&`, `!`, `exit`,
# `set`, `trap`, grep, a server's name, a machine path, a Windows launcher): a script with
# none of it, such as `pytest tests/test_x.py -q`, has no finding and is not looked at further.
_MAY_FIND = lazyre.compile(
    r"[|&!>\"'`✅✓]|\$\?|exit|set|trap|grep|rg|dev|serve|watch|vite|uvicorn|flask|rails"
    r"|docker|/Users/|/home/|(?i:(?<![\w.-])(?:py|cmd|powershell)(?![\w.-])|\.exe)"
)


def never_fails(script: str, flags: ShellFlags = DEFAULT_FLAGS) -> tuple[str, str] | None:
    """Why ``script`` can never fail, and how to fix it; None when it can fail."""
    if "||" in script or "exit" in script:  # each of _NEVER_FAILS needs one
        outside = _without_substitutions(script) if "$(" in script or "`" in script else script
        for pattern, why, fix in _NEVER_FAILS:
            if pattern.search(outside):
                return why, fix
    # A shell without pipefail (a plan's `shell: bash`): verify-failure-ignored says it.
    if "|" in script and "pipefail" not in script and flags.pipefail:
        for line in script.splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):
                continue
            match = _PIPE_TAIL.search(stripped)
            if match:
                tool = match.group(0).lstrip("| ").split()[0]
                return (
                    (
                        f'the pipeline ends in "| {tool}", whose exit code (0) hides the '
                        "command's where it runs without pipefail (planrun itself runs it "
                        "with pipefail; agents and other runners often do not)"
                    ),
                    "add `set -o pipefail` before it, or drop the pipe",
                )
    return None


def _without_substitutions(script: str) -> str:
    """``script`` with what its command substitutions run blanked out: ``ok=$(grep -c x f ||
    true)`` masks grep's status inside the substitution, not the script's."""
    data = bytearray(script.encode())
    for node in walk(parse(script)):
        if node.type in ("command_substitution", "process_substitution"):
            data[node.start_byte : node.end_byte] = b" " * (node.end_byte - node.start_byte)
    return data.decode(errors="replace")


def launchers(script: str) -> list[str]:
    """Windows-only programs a script starts (``py -3.14``, ``cmd /c``, ``powershell``,
    ``*.exe``), as written, found by the bash parser."""
    found: list[str] = []
    if not _MAYBE_LAUNCHER.search(script):
        return found
    stack = [parse(script)]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.children))
        if node.type != "command":
            continue
        name = node.child_by_field_name("name")
        word = (name.text or b"").decode() if name is not None else ""
        base = word.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if base in _LAUNCHERS or base.endswith(".exe"):
            args = [c for c in node.named_children if c.type != "command_name"]
            first = (args[0].text or b"").decode() if args else ""
            found.append(f"{word} {first}".strip() if base in _LAUNCHERS else word)
    return found


def escapes_root(path: str) -> bool:
    """Whether ``path`` is absolute or climbs out of the root with '..'."""
    if path.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:[\\/]", path):
        return True
    depth = 0
    for part in PurePosixPath(path.replace("\\", "/")).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in (".", ""):
            depth += 1
    return False


def lint_plan(plan: Plan, diags: Diagnostics, *, shell: str | None = None) -> None:
    """Lint one plan; ``shell``: the configured one, which runs it unless it has its own."""
    src = plan.source
    root = Path(src).parent / plan.root if plan.root else None
    if root is not None and not root.is_dir():
        diags.add(
            "root-missing",
            src,
            plan.line,
            f"root {plan.root!r} is not a folder ({escape.path(str(root))})",
            hint="fix the plan's root:, or remove it and pass --root",
        )
    runnable = plan.has_checks and (plan.verify or plan.must_haves.check_count() > 0)
    if (
        not runnable
        and not plan.skipped
        and not any(t.has_checks and t.kind == "auto" for t in plan.tasks)
    ):
        diags.add(
            "no-runnable-checks",
            src,
            plan.line,
            f'plan "{plan.id}" has nothing planrun can run: no verify command and no '
            "must_haves artifact or key_link",
            hint="executing it verifies nothing; add verify commands to its tasks",
        )
    skipped = plan.skipped
    flags = declared_flags(plan.shell or shell)
    for task in plan.tasks:
        if task.id in skipped:
            continue  # its schema errors are reported; lints on what is left would mislead
        where = f'task "{task.id}"'
        task_src = task.source or src  # plan.source_of(task), without its lookups per task
        for cmd in task.verify:
            _lint_command(cmd, where, task.line, task_src, diags, context=task.name, flags=flags)
        _lint_must_haves(task.must_haves, where, task.line, task_src, diags, flags=flags)
        for file in task.files:
            _machine_path(file, f"{where}: files entry", task.line, task_src, diags)
        _lint_claims(task, task_src, diags)
    for cmd in plan.verify:
        _lint_command(
            cmd, f'plan "{plan.id}"', plan.line, src, diags, context=plan.title, flags=flags
        )
    _lint_must_haves(plan.must_haves, f'plan "{plan.id}"', plan.line, src, diags, flags=flags)


def _lint_command(
    cmd: VerifyCommand,
    where: str,
    fallback: int | None,
    src: str,
    diags: Diagnostics,
    *,
    context: str = "",
    flags: ShellFlags = DEFAULT_FLAGS,
) -> None:
    """Lint one verify command; ``context`` is what the plan says of it (the task's name);
    ``flags``: its plan's shell's (a shell without -e or pipefail is linted in full)."""
    line = cmd.line or fallback
    if flags != DEFAULT_FLAGS or _MAY_FIND.search(cmd.run):
        _lint_script(cmd.run, where, line, src, diags, context=context, flags=flags)
    said = diags.said("verify-never-fails", src, line)
    if cmd.expect_exit == 0 and cmd.expect_output is None and not said and _always_passes(cmd.run):
        diags.add(
            "verify-never-fails",
            src,
            line,
            f"{where}: verify `{one_line(cmd.run, 60)}` can never fail: every command of it "
            "succeeds wherever it runs, so it is no evidence (alone, the task is unverified)",
            hint="check what the task made: run its tests, `test -f FILE`, `grep -q TEXT FILE`",
        )
    plain = cmd.expect_exit == 0 and cmd.expect_output is None
    inside = ignored_in(cmd.run, flags) if plain else None  # a block where bash ignores -e
    if inside is not None:
        diags.add(
            "verify-failure-ignored",
            src,
            line,
            f"{where}: verify `{one_line(cmd.run, 60)}`: a failure of `{inside[0]}` does not "
            f"stop it ({inside[1]}), so it does not fail the check",
            hint=f"put `{inside[0]}` last in it, or call it outside the `&&`, `||` or `if`",
        )
    if plain:  # `sh -c`, `bash -lc`: a shell started on a script of its own
        _lint_nested(cmd.run, where, line, src, diags)
    if plain and "curl" in cmd.run and (why := status_blind(unwrapped(cmd.run))) is not None:
        diags.add(
            "verify-status-blind",
            src,
            line,
            f"{where}: verify `{one_line(cmd.run, 60)}`: {why}; when it exits 0 the task is "
            "unverified",
            hint="write `curl -sf URL`, or pipe what it prints into a check (`| grep -q ok`)",
        )
    waited = retryloops.gives_up(unwrapped(cmd.run)) if plain else None
    if waited is not None:
        diags.add(
            "verify-failure-ignored",
            src,
            line,
            f"{where}: verify `{one_line(cmd.run, 60)}`: a failure of `{waited}` does not fail "
            "it: the loop around it ends with exit 0 when it never succeeds",
            hint=retryloops.FIX,
        )
    if plain and re.search(r"\b(?:exit|return|if|case)\b", cmd.run):
        _lint_skips(cmd.run, where, line, src, diags, flags=flags)
    if cmd.cwd:
        _machine_path(cmd.cwd, f"{where}: verify cwd", line, src, diags)


def _lint_skips(
    run: str, where: str, line: int | None, src: str, diags: Diagnostics, *, flags: ShellFlags
) -> None:
    """An ``exit 0`` that ends the check before the rest of it ran (skips.skip)."""
    for skip in reports.hidden(read(run, flags).run):
        if skip.skip is None:
            continue
        if skip.instead is not None:
            diags.add(
                "verify-skips-itself",
                src,
                line,
                f"{where}: verify `{one_line(run, 60)}`: {skip.shape} of line {skip.line} of the "
                f"script skips `{one_line(skip.instead, 40)}` {skip.skip}; when it does, the "
                "task is unverified",
                hint=skip.fix or "",
            )
            continue
        diags.add(
            "verify-skips-itself",
            src,
            line,
            f"{where}: verify `{one_line(run, 60)}`: line {skip.line} of the script ends it "
            f"with {skip.shape} {skip.skip}, before the rest of the check; when it does, the task "
            "is unverified",
            hint=skip.fix or skips.SKIP_FIX,
        )


def _lint_nested(run: str, where: str, line: int | None, src: str, diags: Diagnostics) -> None:
    """What the flags of a shell the check starts itself hide (checkrules.nested)."""
    reading = nested(run)
    found = shell_script(run)
    if reading is None or found is None:
        return
    shell = found[2]
    unseen = nested_unseen(run)
    if unseen is not None:
        _, why, fix = unseen
        diags.add(
            "verify-failure-ignored",
            src,
            line,
            f"{where}: verify `{one_line(run, 60)}`: {why}, so it does not fail the check",
            hint=fix,
        )
    elif (reading.never_fails or _masks(reading, run)) and not diags.said(
        "verify-never-fails", src, line
    ):
        why = reading.note or "every command of its script succeeds wherever it runs"
        diags.add(
            "verify-never-fails",
            src,
            line,
            f"{where}: verify `{one_line(run, 60)}` can never fail: inside `{shell} -c`, {why}",
            hint="let the command's own exit status decide (drop what hides it)",
        )


def _masks(reading: Reading, run: str) -> bool:
    """Whether a nested shell's reading judges it by a command its script masks (not by one
    it reads the status of itself: ``! grep``, ``grep && echo NOTE`` can fail)."""
    reads_itself = reading.informs_ok is not None or reading.informs_failed is not None
    return reading.run != run and not reading.must_fail and not reads_itself


# The first word of a script every command of which may always succeed (``true``, ``echo
# done``, ``test -d .``, ``sleep 1``): other scripts need no syntax tree to say they can fail.
_ALWAYS_FIRST = frozenset(
    {"true", "/bin/true", ":", "echo", "printf", "test", "[", "[[", "pwd", "cd", "sleep", "exit"}
)


def _always_passes(run: str) -> bool:
    """Whether every command of ``run`` succeeds wherever it runs (errexit.always_succeeds)."""
    first = re.split(r"[\s;&|()]", run.strip(), maxsplit=1)[0]
    if first not in _ALWAYS_FIRST:
        return False
    root = parse(run)
    statements = [c for c in root.named_children if c.type != "comment"]
    return not root.has_error and bool(statements) and all(map(always_succeeds, statements))


def _lint_script(
    run: str,
    where: str,
    line: int | None,
    src: str,
    diags: Diagnostics,
    *,
    context: str,
    flags: ShellFlags,
) -> None:
    problem = never_fails(run, flags)
    if problem:
        why, fix = problem
        if fix == _REMOVE_TRUE and says_must_fail(f"{context}\n{run}"):
            fix = (
                'this step must fail first (a TDD red step): drop "|| true" and write '
                "expect_exit: 1, so the check passes only while the test fails"
            )
        diags.add(
            "verify-never-fails",
            src,
            line,
            f"{where}: verify `{one_line(run, 60)}` can never fail: {why}",
            hint=fix,
        )
    for finding in findings(run, flags.errexit):
        diags.add(
            finding.code,
            src,
            line,
            f"{where}: verify `{one_line(run, 60)}` is not a real check: {finding.why}",
            hint=finding.hint,
        )
    for row, why, fix in ignored_failures(run, flags):
        # What the shell goes on after makes the check unverified when it fails (went_on).
        unverified = why.startswith("the shell runs without -e")
        then = (
            ": if it fails, the check is unverified"
            if unverified
            else (", so it does not fail the check")
        )
        diags.add(
            "verify-failure-ignored",
            src,
            line,
            f"{where}: verify `{one_line(run, 60)}`: {why} (line {row} of the script){then}",
            hint=fix,
        )
    if flags.errexit and "&&" in run:
        for check in reports.hidden(run):
            if check.shape != reports.SKIPPED or check.needle is not None or check.head:
                continue  # bash's cd error, or the status the next line starts with, tells
            failing = f"a failure of `{one_line(check.command, 40)}` before `&&`"
            diags.add(
                "verify-failure-ignored",
                src,
                line,
                f"{where}: verify `{one_line(run, 60)}`: {failing} does not stop the script "
                f"(line {check.line} of the script): "
                "whether it passes or not, the check is unverified",
                hint=check.remedy,
            )
    _machine_path(run, f"{where}: verify", line, src, diags)
    for launcher in launchers(run):
        diags.add(
            "machine-path",
            src,
            line,
            f'{where}: verify starts "{launcher}", which exists only on Windows; on other '
            "machines the check cannot run (error)",
            hint="commands run with bash: use python3 (or $PLANRUN_PYTHON) and portable tools",
        )


def _machine_path(text: str, where: str, line: int | None, src: str, diags: Diagnostics) -> None:
    for path in machine_paths(text):
        diags.add(
            "machine-path",
            src,
            line,
            f'{where} uses the machine-specific path "{path}"',
            hint="use a path relative to the root; commands run in the root directory",
        )


def _lint_must_haves(
    must: MustHaves,
    where: str,
    fallback: int | None,
    src: str,
    diags: Diagnostics,
    *,
    flags: ShellFlags = DEFAULT_FLAGS,
) -> None:
    for truth in must.truths:
        for cmd in truth.verify:
            line = truth.line or fallback
            _lint_command(
                cmd, f"{where}: truth", line, src, diags, context=truth.truth, flags=flags
            )
    for art in must.artifacts:
        if escapes_root(art.path):
            diags.add(
                "path-outside-root",
                src,
                art.line or fallback,
                f'{where}: artifact path "{art.path}" is outside the root',
                hint="must_haves paths are relative to the root and stay inside it",
            )
    for link in must.key_links:
        line = link.line or fallback
        if escapes_root(link.from_):
            diags.add(
                "path-outside-root",
                src,
                line,
                f'{where}: key_links from "{link.from_}" is outside the root',
                hint="must_haves paths are relative to the root and stay inside it",
            )
        why = _not_a_pattern(link.pattern) if link.pattern is not None else None
        if link.pattern is not None and why:
            diags.add(
                "key-link-pattern",
                src,
                line,
                f'{where}: key_links pattern "{link.pattern[:60]}" is {why}, not a regular '
                "expression found in the code",
                hint="write the text the code contains, e.g. pattern: 'fetch\\(.*/api/chat'",
            )
        if link.pattern is not None:
            try:
                compile_pattern(link.pattern)
            except PatternError as exc:
                at = f" at position {exc.pos}" if exc.pos is not None else ""
                diags.add(
                    "invalid-regex",
                    src,
                    line,
                    f'{where}: key_links pattern "{link.pattern}" is not a valid regular '
                    f"expression: {exc.msg}{at}",
                    hint="patterns are Python regular expressions; escape ( [ . with a backslash",
                )


def _not_a_pattern(pattern: str) -> str | None:
    """Why a key_links pattern is not one: prose (``A -> B``) or a shell command."""
    if re.search(r"\s(?:->|→)\s|\s→|→\s", pattern):
        return "prose (A -> B)"
    if re.match(r"(?:grep|rg|egrep|ag|git\s+grep)\s", pattern):
        return "a shell command"
    return None


def _lint_claims(task: Task, src: str, diags: Diagnostics) -> None:
    if task.kind == "manual" or task.has_checks:
        return
    if task.claimed == "done":
        diags.add(
            "claimed-done-unverified",
            src,
            task.line,
            f'task "{task.id}" is claimed done but has nothing to verify it',
            hint="add a verify command or must_haves so the claim can be checked",
        )
    else:
        diags.add(
            "no-verify",
            src,
            task.line,
            f'task "{task.id}" has no runnable verify command and no must_haves check',
            hint="add verify: (a command that exits 0 when the work is done), or kind: manual",
        )
