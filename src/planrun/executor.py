"""Turning a unit into commands and in-process checks for the scheduler, and its result."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path

from planrun import (
    checkoutput,
    checkrules,
    envguard,
    falsestops,
    fingerprint,
    loopskips,
    passedover,
    proc,
    procpool,
    removals,
    reports,
    skips,
    tasklog,
)
from planrun import musthaves as must
from planrun.environment import program
from planrun.errexit import ShellFlags, shell_flags
from planrun.evidence import Evidence, UnitEvidence
from planrun.expectations import discards_output, judge_output
from planrun.freshness import Now, changed_checks, why_stale
from planrun.graph import Unit
from planrun.judge import (
    AGAINST,
    ONLY_PRINTS,
    OUTPUT_DISCARDED,
    PASSED_OVER,
    PRINTED,
    SKIPPED,
    failed_before_and,
    informed,
    judge,
    only_derived,
    stopped_at,
    stopped_early,
    unseen_check,
    went_on,
)
from planrun.modelchecks import VerifyCommand
from planrun.musthaves import check_artifact, check_key_link
from planrun.results import CheckResult, CommandRecord, UnitResult
from planrun.rootfiles import Budget
from planrun.roots import plan_root
from planrun.scheduler import Step
from planrun.selection import ExecuteOptions, paths_text
from planrun.shellnames import shell_of
from planrun.shellsplit import one_line, parse
from planrun.sideeffects import WorkTreeWatch
from planrun.state import Record
from planrun.statuses import (
    BLOCKED,
    FAILED,
    NOT_RUN,
    PASSED,
    SATISFIES_DEPENDENTS,
    TIMEOUT,
    UNVERIFIED,
)

DEFAULT_TIMEOUT = 600.0
NEVER_FAILS = "can never fail"
LOOKUP_FIX = "`jq -e` exits 1 on false or null; compare with what you expect: `jq -e '.x == 1'`"
WATCHED = "its exit status shows nothing, but none of its checks printed what it prints on failure"
TRAPPED = "its exit status shows nothing, but planrun's ERR trap saw none of its commands fail"


class Executor:
    """Turns units into commands and in-process checks, for the scheduler."""

    def __init__(
        self,
        opts: ExecuteOptions,
        run_id: str,
        logs: Path | None,
        records: dict[str, Record],
        keys: list[str | None] | None = None,
        *,
        evidence: Evidence | None = None,
        relocate: Callable[[Unit], Path | None] | None = None,
        now: Now | None = None,
    ) -> None:
        self.opts = opts
        self.run_id = run_id
        self.logs = logs
        self.records = records
        self.evidence = evidence
        # The user's work tree is watched; a temporary base tree (relocate) is not.
        self.watch = WorkTreeWatch() if evidence is not None and relocate is None else None
        self._relocate = relocate
        self.keys = keys or []
        # What a recorded result outside the selection is held to (freshness.py).
        self.now = now or Now(self.keys)
        self._roots: dict[str, Path] = {}
        self._sinks: dict[int, tasklog.LogSink] = {}
        self._envs: dict[str, dict[str, str]] = {}
        self._log_dirs: dict[str, Path] = {}
        self.stopped: Callable[[], bool] = lambda: False
        self.warn: Callable[[str], None] = lambda _message: None
        self.tend: Callable[[], AbstractContextManager[None]] = nullcontext
        """Keeps the running commands tended while this task's checks run (the pool's)."""
        self.programs: list[tuple[str, str | None]] = []  # (program, PATH) of each command
        self.shells: dict[str, tuple[str, ...]] = {}  # plan id -> the plan's own shell
        self._shell_flags: dict[tuple[str, ...], ShellFlags] = {}
        self._shell_names: dict[tuple[str, ...], str | None] = {}

    def root(self, unit: Unit) -> Path:
        if self._relocate is not None:
            moved = self._relocate(unit)
            if moved is None:
                raise ValueError(f"{unit.id} has no base tree")
            return moved
        plan = unit.plan
        if plan.id not in self._roots:
            self._roots[plan.id] = plan_root(plan, self.opts.root)
        return self._roots[plan.id]

    def _base_env(self, unit: Unit) -> dict[str, str]:
        """planrun's environment plus the plan's ``env``, built once per plan."""
        env = self._envs.get(unit.plan.id)
        if env is None:
            env = {**os.environ, **unit.plan.env}
            self._envs[unit.plan.id] = env
        return env

    def commands(self, unit: Unit) -> list[VerifyCommand]:
        if unit.manual:
            return []
        out = list(unit.verify)
        for truth in unit.must_haves.truths:
            out.extend(truth.verify)
        return out

    def log_path(self, unit: Unit) -> Path | None:
        if self.logs is None:
            return None
        folder = self._log_dirs.get(unit.plan.id)
        if folder is None:
            folder = self._log_dirs[unit.plan.id] = self.logs / _file_name(unit.plan.id)
        return folder / f"{_file_name(unit.bare_id)}.log"

    def steps(self, unit: Unit) -> list[Step]:
        cmds = self.commands(unit)
        path = self.log_path(unit)
        if not cmds or path is None:
            return []
        log = tasklog.LogSink(path)
        self._sinks[unit.index] = log
        root = self.root(unit)
        env = dict(self._base_env(unit))
        env.update(
            PLANRUN_PLAN=unit.plan.id,
            PLANRUN_TASK=unit.bare_id,
            PLANRUN_WAVE=str(unit.wave),
            PLANRUN_ROOT=str(root),
            PLANRUN_RUN_ID=self.run_id,
            PLANRUN_PYTHON=sys.executable,
        )
        if self._relocate is not None and self.evidence is not None:
            base = self.evidence.base_of(unit)
            env["PLANRUN_BASE"] = base.commit if base else ""
        steps = []
        for cmd in cmds:
            name = program(cmd.run)
            if name is not None:
                self.programs.append((name, env.get("PATH")))
            timeout = cmd.timeout or self.timeout(unit)
            problem = _bad_cwd(root, cmd.cwd)
            if problem is not None:
                steps.append(Step(cmd.run, cmd.expect_exit, None, error=problem, line=cmd.line))
                continue
            cwd = (root / cmd.cwd).resolve() if cmd.cwd else root
            # A check with an expected failure or output is run as written: the evidence
            # rules read plain exit-0 checks, and the output decides the others.
            plain = cmd.expect_exit != 0 or cmd.expect_output is not None
            shell = self.shells.get(unit.plan.id)
            flags = self._flags(shell)
            reading = checkrules.Reading(cmd.run) if plain else checkrules.read(cmd.run, flags)
            if not plain and reading.run == cmd.run and reading == checkrules.Reading(cmd.run):
                reading = checkrules.in_file(cmd.run, cwd) or reading  # `bash verify.sh`
            gone = removals.removes(unit.task.name) if unit.task and reading.prints_value else None
            if gone is not None:
                # Its printed True or False may each be the answer the task wants.
                unread = removals.printed_value_unread(gone)
                reading = replace(reading, prints_value=False, status_blind=unread)
            # One line is one chunk whatever it holds: no syntax tree needed to say so. An
            # expected output or exit needs to know too whether the last command ran
            # (judge.stopped_early).
            locate = "\n" in reading.run and (plain or _statements(reading.run) > 1)
            # Without -e a failure before the last command does not stop the script: the ERR
            # trap tells planrun it happened (went_on), on one line or in a loop too.
            locate = locate or (not flags.errexit and any(c in reading.run for c in ";\n"))
            # Nothing reads the status of a process substitution's commands, -e or not; nor
            # of a `$(...)` a test reads; -e stops a script at an assignment from grep that
            # found nothing and at `((n++))` from 0 (falsestops): the trap says which.
            locate = locate or any(c in reading.run for c in ("<(", ">(", "$(", "((", "let "))
            # Checks whose failure the script goes on after, with no exit status to show it:
            # planrun watches the output for what their failure prints (reports.py).
            name = self._shell_name(shell)
            # Files a one-line `if` tests are looked at now only before the task's first
            # check: an earlier one may make or remove them.
            first = not any(s.spec is not None for s in steps)
            hidden = (
                reports.hidden(reading.run, cwd, bash=name == "bash", look=first) if name else ()
            )
            watch = tuple({n: None for h in hidden for n in (h.needle, h.whole) if n is not None})
            # Only under -e and pipefail (without them the command after `&&`, or a pipe
            # before it, may have failed and gone on), and not under the shell's own -x.
            heads = tuple(
                sorted({h.head for h in hidden if h.head} | {n for h in hidden for n in h.reach})
            )
            if heads and not (flags.errexit and flags.pipefail and not self._traces(shell)):
                heads = ()
            locate = locate or bool(heads)
            spec = procpool.Spec(reading.run, cwd, env, timeout, log, shell, locate, watch, heads)
            steps.append(
                Step(
                    reading.run,
                    cmd.expect_exit,
                    spec,
                    line=cmd.line,
                    reading=reading,
                    expect_output=cmd.expect_output,
                    derived=cmd.derived,
                    hidden=hidden,
                )
            )
        if self.watch is not None:
            self.watch.started(unit, root)
        return steps

    def _shell_name(self, shell: tuple[str, ...] | None) -> str | None:
        """The shell planrun reads scripts as (``sh``, ``bash``, ``dash``…), or None for a
        plan's ``shell: node -e`` or ``python -c``."""
        key = shell or ("",)
        if key not in self._shell_names:
            self._shell_names[key] = shell_of(shell or proc.shell_argv(self.opts.shell))
        return self._shell_names[key]

    def _traces(self, shell: tuple[str, ...] | None) -> bool:
        """Whether the shell command line prints each command it runs (``bash -ex -c``): a
        DEBUG trap's own commands would be printed too, into the output judged."""
        argv = shell or proc.shell_argv(self.opts.shell)
        flags = [w for w in argv[1:] if w.startswith("-") and not w.startswith("--")]
        return "xtrace" in argv or any("x" in w for w in flags)

    def _flags(self, shell: tuple[str, ...] | None) -> ShellFlags:
        """The ``-e`` and pipefail a script starts with: the plan's own shell's, else the
        run's (the configuration's ``shell``, or the default ``bash -eo pipefail``)."""
        key = shell or ("",)
        flags = self._shell_flags.get(key)
        if flags is None:
            flags = shell_flags(shell or proc.shell_argv(self.opts.shell))
            self._shell_flags[key] = flags
        return flags

    def timeout(self, unit: Unit) -> float:
        """The task's own timeout (also the time its must_haves checks may take together)."""
        task = unit.task
        return (
            (task.timeout if task else None)
            or unit.plan.timeout
            or self.opts.timeout
            or DEFAULT_TIMEOUT
        )

    def close_log(self, unit: Unit) -> None:
        sink = self._sinks.pop(unit.index, None)
        if sink is not None:
            sink.close()

    def record(self, step: Step, outcome: procpool.Outcome) -> CommandRecord:
        """What a finished command shows, by the evidence rules (checkrules.py); a pass shows
        nothing when a check in it failed, or may have, with no exit status to say so."""
        record = self._record(step, outcome)
        against = record.weak is not None and record.weak.startswith(AGAINST)
        if not record.ok or against or step.spec is None:
            return record
        seen: frozenset[bytes] | None = frozenset()
        if step.hidden:
            # What the DEBUG trap recorded, when planrun asked it (not {}: nothing asked).
            heads = outcome.heads if step.spec.heads else None
            if heads is not None and not reports.still_traced(step.run, step.spec.cwd):
                heads = None  # a file it sources may have set a DEBUG trap of its own
            failed = failed_before_and(step.hidden, heads, step.run)
            if failed is not None:
                status, why = failed
                # A program not found or not executable there: as for a check's own status,
                # an error when the shell says so of a program looked up on PATH.
                output = step.spec.log.command_tail()
                missing = checkoutput.missing_program(step.run, status, output, step.spec.cwd)
                if missing is not None:
                    return replace(record, missing=f"{missing} ({why})")
                return replace(record, failure=why)
            seen = step.spec.log.seen() if reports.still_watched(step.run, step.spec.cwd) else None
            unseen = unseen_check(step.hidden, seen, step.run, heads)
            if unseen is not None:
                return replace(record, weak=unseen)
        if record.weak != NEVER_FAILS or seen is None:
            return record
        trapped = self._trap_saw_all(step, outcome)
        if not reports.all_watched(step.run, step.hidden, trapped=trapped):
            return record
        # A checklist (`X && echo ✓ || echo "✗ ..."` lines, then `echo Done`), or under a
        # shell without -e commands whose failures planrun's ERR trap records: its exit status
        # shows nothing, but nothing it watched failed.
        return replace(record, weak=None, note=TRAPPED if trapped and not step.hidden else WATCHED)

    def _stopped_without_failing(
        self, step: Step, outcome: procpool.Outcome, code: int
    ) -> str | None:
        """Why -e stopped the script at a line that checks nothing (falsestops), or None;
        only where -e is on throughout (no `set +e` of the script's own)."""
        if step.spec is None or not outcome.failures or not self._flags(step.spec.shell).errexit:
            return None
        if "+e" in step.run or "+o" in step.run:
            return None
        return falsestops.stopped_without_failing(
            parse(step.run), outcome.failures, outcome.statuses, code
        )

    def _trap_saw_all(self, step: Step, outcome: procpool.Outcome) -> bool:
        """Whether planrun's ERR trap ran in a shell without -e, saw every failure of the
        script (passedover.seen) and recorded none."""
        if step.spec is None or outcome.failures != () or self._flags(step.spec.shell).errexit:
            return False
        return passedover.seen(parse(step.run), step.spec.cwd)

    def _record(self, step: Step, outcome: procpool.Outcome) -> CommandRecord:
        output = step.spec.log.command_tail() if step.spec else ""
        code = outcome.exit_code
        reading = step.reading or checkrules.Reading(step.run)
        missing = weak = failure = None
        note = reading.note
        if not outcome.timed_out and outcome.error is None:
            cwd = step.spec.cwd if step.spec else None
            missing = checkoutput.missing_program(step.run, code, output, cwd, step.expect_exit)
            if missing and reading.must_fail and missing.startswith(checkoutput.NOTHING_ANSWERED):
                missing = None  # `curl -s URL && exit 1 || echo "down"`: down is the pass
            if not missing and code != step.expect_exit and not reading.must_fail:
                foreign = checkoutput.foreign_path(step.run)
                if foreign is not None:
                    missing = f"`{foreign}` is a path of another machine, not found here"
                path = step.spec.env.get("PATH") if step.spec else None
                tool = None if missing else checkoutput.probed_missing(step.run, path, code)
                if tool is not None:
                    missing = f"`{tool}` was not found on PATH (the check looks for it first)"
            if not missing and code == 0 and step.expect_exit == 0 and step.spec is not None:
                tool = checkoutput.probe_skipped(step.run, step.spec.env.get("PATH"))
                if tool is not None:
                    missing = f"`{tool}` was not found on PATH (the check runs it only if found)"
                tested = _tested_failure(step, outcome)
                if not missing and tested is not None and tested[1] == 127:
                    name = tested[0].split(" ", 1)[0]
                    missing = f"`{name}` was not found on PATH (a test reads what it prints)"
            if not missing and code not in (0, None) and code != step.expect_exit and step.spec:
                missing = self._stopped_without_failing(step, outcome, code)
            runner = checkoutput.ran_no_tests(step.run, code, output)
            ended = code == step.expect_exit
            skipped = None
            if not (missing or ended or reading.must_fail) and step.spec is not None:
                # `[ -d web ] && (cd web && npm test) || echo skipping` run without its report,
                # `[ "${RUN_E2E:-0}" = 1 ] && npm run e2e`: the guard failed, the check never ran
                skipped = (
                    skips.guard_failed(step.run, cwd)
                    if reading.original and not checkrules.FAILURE_WORDS.search(reading.original)
                    else None
                )
                skipped = skipped or envguard.skipped_by_environment(step.run, step.spec.env)
            if missing:
                pass
            elif skipped is not None:
                guard, rest = skipped
                why = f"when `{guard}` fails, and it failed here"
                weak = f"{SKIPPED}`{rest}` {why} ({skips.BRANCH_FIX})"
            elif reading.must_fail:
                failure = checkoutput.could_not_look(step.run, code, output, cwd)
            elif runner:
                weak = f"ran no tests ({runner})"
            elif reading.informs_ok is not None or reading.informs_failed is not None:
                weak = informed(reading, code)
            elif reading.never_fails and ended and not step.expect_output:
                weak = NEVER_FAILS
            elif reading.status_blind and ended and not step.expect_output:
                weak = reading.status_blind
            elif reading.prints_value and ended and not step.expect_output:
                holds, last = checkoutput.value_printed(step.run, output)
                # `print("OK" if ok else "MISSING")`: a result word, not a truth value
                printed = checkoutput.printed_failure(output) if holds is None else None
                weak = ONLY_PRINTS if holds is None and not printed else None
                failure = (
                    f"it printed `{one_line(last, 80)}`: what it checks does not hold"
                    if holds is False
                    else None
                )
                failure = (
                    f"it printed `{one_line(printed, 80)}` as its result" if printed else failure
                )
            elif reading.prints_result and ended and not step.expect_output:
                printed = checkoutput.printed_failure(output)
                weak = None if printed else ONLY_PRINTS
                failure = f"it printed `{one_line(printed, 80)}` as its result" if printed else None
            elif code == 0 == step.expect_exit and not step.expect_output:
                nothing = checkoutput.looked_up_nothing(step.run, output)
                if nothing == "false":  # a value it may want (`jq .private package.json`)
                    weak = f"{PRINTED}false` and exits 0 whatever it prints ({LOOKUP_FIX})"
                elif nothing is not None:
                    failure = f"it printed `{nothing}`: what it looks up is not there"
            if not missing and not reading.must_fail and step.spec is not None:
                shell = self._flags(step.spec.shell)
                passed_over = went_on(step, outcome.failures, shell, code)
                if passed_over is not None:
                    # It says what the shape's note would (a failure the shell goes on after).
                    weak, note = passed_over, None
                if ended and not weak and failure is None:
                    quiet = _shows_nothing(step, outcome, output, code)
                    if quiet is not None:
                        weak, note = quiet, None
        record = CommandRecord(
            step.run,
            code,
            step.expect_exit,
            outcome.duration,
            timed_out=outcome.timed_out,
            error=outcome.error,
            limit=step.spec.timeout if step.spec else None,
            line=step.line,
            original=reading.original,
            must_fail=reading.must_fail,
            note=note,
            weak=weak,
            missing=missing,
            failure=failure,
            at=stopped_at(step, outcome.failures) if code not in (0, None) else None,
            derived=step.derived,
        )
        if step.expect_output is None and step.expect_exit != 0 and code == step.expect_exit:
            # The expected failure must be the last command's: -e stopping the script before
            # it with the same code shows nothing about what the last command checks.
            early = stopped_early(step, outcome.failures, code)
            return record if early is None else replace(record, failure=early)
        if step.expect_output is None or step.spec is None or missing:
            return record
        if discards_output(step.run):
            # "expect empty" on `grep -q TODO a.py` or `... >/dev/null` is met whatever it finds.
            return replace(record, expect_output=step.expect_output, weak=OUTPUT_DISCARDED)
        # What the plan said the command prints decides, not its exit code (grep's 1 is
        # "no match", which "returns 0" expects).
        early = stopped_early(step, outcome.failures, code)
        ok, found = judge_output(step.expect_output, code, step.spec.log.command_output())
        if early is not None:
            ok, found = False, f"exit {code}, {early}"
        return replace(record, expect_output=step.expect_output, output_found=found, output_ok=ok)

    def checks(self, unit: Unit) -> list[CheckResult]:
        if unit.manual:
            return []
        must_haves = unit.must_haves
        root = self.root(unit)
        budget = Budget.of(self.timeout(unit), self.stopped)
        out = [check_artifact(a, root, budget) for a in must_haves.artifacts]
        if must_haves.key_links:
            declared = unit.searched_files
            out.extend(check_key_link(k, root, budget, declared) for k in must_haves.key_links)
        out.extend(
            CheckResult("truth", t.truth, ok=None, message="manual: no verify command")
            for t in must_haves.truths
            if not t.verify
        )
        return out

    def finish(self, unit: Unit, commands: list[CommandRecord], started: float) -> UnitResult:
        # Only artifacts and key_links take time (planrun reads files); the running commands
        # are tended meanwhile, and need no tending (a thread) for a unit without them.
        must_haves = unit.must_haves
        reads = not unit.manual and bool(must_haves.artifacts or must_haves.key_links)
        try:
            with self.tend() if reads else nullcontext():
                checks = self.checks(unit)
        except must.Interrupted:
            sink = self._sinks.pop(unit.index, None)
            if sink is not None:
                sink.close()
            return UnitResult(unit, NOT_RUN, reason="interrupted while running")
        finished = time.time()
        sink = self._sinks.pop(unit.index, None)
        log = tail = None
        if sink is not None:
            sink.close()
            log = str(sink.path) if sink.exists and sink.error is None else None
            tail = sink.tail()
            if sink.error is not None:
                self.warn(f"{unit.id}: {sink.error}; its verdict and output tail are kept")
        exit_code = commands[-1].exit_code if commands else None
        status, reason = judge(unit, commands, checks)
        changed_tree: list[str] = []
        if self.watch is not None:
            changed_tree, why = self.watch.finished(unit)
            if why is not None and status == PASSED:
                status, reason = UNVERIFIED, why
        found, claim = self._against_diff(unit)
        if claim and status not in (FAILED, TIMEOUT):
            # The diff contradicts the plan: a failure of the claim, whatever the checks say.
            status, reason = FAILED, claim
        if status == PASSED and only_derived(commands, checks) and not (found and found.changed):
            # "src/app.py exists" or "contains rate_limit" holds before the work too: a check
            # planrun derived is evidence only together with a change to the task's files.
            since = (
                f"none of its files changed since {found.base.label}"
                if found
                else "no base shows its files changed (commit the plan, or pass --base)"
            )
            status, reason = UNVERIFIED, f"its only checks are derived from its text, and {since}"
        if status == PASSED:
            tail = None  # only a failure's output is shown; the log keeps everything
        recorded = unit.index < len(self.keys)  # this executor's results are recorded
        key = self.keys[unit.index] if recorded else None
        keyless = recorded and key is None and not unit.manual
        return UnitResult(
            unit,
            status,
            reason=reason,
            exit_code=exit_code,
            duration=finished - started,
            started=started,
            finished=finished,
            log=log,
            tail=tail or "",
            commands=commands,
            checks=checks,
            run_id=self.run_id,
            evidence=found.to_json() if found else None,
            false_claim=claim,
            tree_changes=changed_tree,
            key=key,
            tree=self.evidence.tree if self.evidence else None,
            # Without a key, what else holds it: the files planrun can name for it.
            reads=fingerprint.reads(unit, self.root(unit)) if keyless else None,
        )

    def _against_diff(self, unit: Unit) -> tuple[UnitEvidence | None, str | None]:
        """The unit's declared files against its base, and the false claim they show."""
        found = self.evidence.unit(unit, self.root(unit)) if self.evidence else None
        claimed = unit.task is not None and unit.task.claimed == "done"
        return found, (found.false_claim() if found and claimed else None)

    def blocked(self, unit: Unit, reason: str) -> UnitResult:
        """Not run, since a dependency did not pass; its claim is still held against the
        diff: a false claim is a failure whatever kept its checks from running."""
        found, claim = self._against_diff(unit)
        return UnitResult(
            unit,
            FAILED if claim else BLOCKED,
            reason=claim or reason,
            evidence=found.to_json() if found else None,
            false_claim=claim,
        )

    def hold_cached(self, cached: dict[int, UnitResult]) -> dict[int, UnitResult]:
        """Reused passes, with their evidence against this run's diff; a false claim is not
        reused, so it runs and is judged like any other."""
        out = {}
        for index, result in cached.items():
            found, claim = self._against_diff(result.unit)
            if claim is None:
                result.evidence = found.to_json() if found else None
                out[index] = result
        return out

    def outside(self, unit: Unit) -> tuple[bool, str | None]:
        if self.opts.force:
            return True, None
        rec = self.records.get(unit.id)
        hint = f"run: planrun execute {paths_text(self.opts)} --wave {unit.wave}"
        if rec is None and unit.plan.context and unit.claimed_done:
            return True, None  # a sibling loaded as context: its claim counts until it is run
        if rec is None:
            return False, f"{unit.id} has not run yet; {hint}"
        if rec.status not in SATISFIES_DEPENDENTS:
            return False, f"{unit.id} last {rec.status.replace('_', ' ')}; {hint}"
        if changed_checks(unit, rec):
            return False, f"{unit.id} changed since it passed; {hint}"
        why = why_stale(unit, rec, self.now)
        if why is not None:
            return False, f"{unit.id} is stale: {why}; {hint}"
        return True, None


def _file_name(name: str) -> str:
    """``name`` as a file name: ids have no length limit, file names do (255 bytes)."""
    if len(name.encode()) <= 200:
        return name
    return f"{name[:100]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def _bad_cwd(root: Path, cwd: str | None) -> str | None:
    """Why a command's ``cwd`` cannot be used (None when it can)."""
    if not cwd:
        return None
    try:
        ok = (root / cwd).resolve().is_dir()
    except (OSError, RuntimeError, ValueError) as exc:
        return f'cwd "{cwd}" cannot be used: {getattr(exc, "strerror", None) or exc}'
    return None if ok else f'cwd "{cwd}" does not exist'


def _statements(script: str) -> int:
    """How many top-level statements ``script`` has (a `set -e` line is one of them)."""
    return sum(1 for c in parse(script).named_children if c.type != "comment")


def _shows_nothing(
    step: Step, outcome: procpool.Outcome, output: str, code: int | None
) -> str | None:
    """Why a check that ended as expected shows nothing, from what the run left: a failure
    inside a ``<(...)`` or in a ``$(...)`` a test reads, a loop over folders none of which is
    there, or a last line saying it failed; None when nothing says so."""
    inside = _substituted(step, outcome.failures)
    if inside is not None:
        why = "nothing reads its status, and what it printed was read as if it worked"
        fix = "run it first on a line of its own, its output to a file"
        return f"{PASSED_OVER}`{inside}` failed in a `<(...)`: {why} ({fix})"
    if code != 0:
        return None
    tested = _tested_failure(step, outcome)
    if tested is not None:
        command, status = tested
        why = "the script took what it printed for an answer"
        fix = "let a failure there fail the check: run it on a line of its own first"
        where = f"`{command}` failed (exit {status}) in a `$(...)` a test or loop reads"
        return f"{PASSED_OVER}{where}: {why} ({fix})"
    said = checkoutput.said_failed(step.run, output)
    if said is not None:
        return f"{PRINTED}{one_line(said, 80)}` yet exited 0 (let it exit 1 when it fails)"
    caught = checkoutput.caught_error(step.run, output)
    if caught is not None:
        fix = "let it exit 1 there, or let the error through"
        return f"{PRINTED}{one_line(caught, 80)}` yet exited 0: it caught the error itself ({fix})"
    return _skipped_each(step) or _skipped_here(step)


def _skipped_here(step: Step) -> str | None:
    """Why a one-line check gated on a variable of the environment checked nothing
    (envguard.skipped_by_environment), or None."""
    found = envguard.skipped_by_environment(step.run, step.spec.env if step.spec else {})
    if found is None:
        return None
    test, checks = found
    why = f"when `{test}` fails, and it failed in the environment planrun gave it"
    return f"{SKIPPED}`{checks}` {why} (let the check run wherever planrun runs it)"


def _tested_failure(step: Step, outcome: procpool.Outcome) -> tuple[str, int] | None:
    """A command of a ``$(...)`` a test reads that failed (passedover.tested_failure)."""
    if not outcome.failures or ("$(" not in step.run and "`" not in step.run):
        return None
    return passedover.tested_failure(parse(step.run), outcome.failures, outcome.statuses)


def _substituted(step: Step, failures: tuple[tuple[int, str], ...] | None) -> str | None:
    """A command of a process substitution that failed (passedover.substituted)."""
    if not failures or ("<(" not in step.run and ">(" not in step.run):
        return None
    return passedover.substituted(parse(step.run), failures)


def _skipped_each(step: Step) -> str | None:
    """Why a loop over named folders that checks only those present checked nothing
    (loopskips.none_present), or None."""
    found = loopskips.none_present(step.run, step.spec.cwd if step.spec else None)
    if found is None:
        return None
    test, checks, names = found
    each = ", ".join(names)
    return f"{SKIPPED}`{checks}` where `{test}` fails, and it failed for each of {each} here"
