"""Agent hook adapters: ``planrun hook NAME`` reads an agent's hook input, asks the gate
(gate.py) whether the claimed work holds, and answers in that agent's terms.

An adapter translates only: its input into a GateRequest, a GateOutcome into an exit code and
the text the agent reads. Everything else (which plans, which tasks, the count of blocks in a
row) is the gate's, so another agent's hook (a GSD or spec-kit post-wave hook) is one more
adapter in ADAPTERS.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from planrun import lazyre
from planrun.errors import EXIT_USAGE, UsageError
from planrun.gate import BLOCK, HOLD, NOTHING, RELEASE, GateOutcome, GateRequest, judge
from planrun.plural import agree, pluralize
from planrun.render import console
from planrun.results import UnitResult
from planrun.suggest import closest


@dataclass(frozen=True)
class Reply:
    exit_code: int
    stderr: str = ""
    stdout: str = ""


class HookInputError(Exception):
    """The hook input is not what the adapter expects."""


class Adapter(Protocol):
    name: str
    summary: str

    def request(self, text: str | None) -> GateRequest:
        """The gate request in the hook input (None: there was no input); HookInputError."""
        ...

    def reply(self, outcome: GateOutcome) -> Reply: ...

    def failure(self, message: str) -> Reply:
        """The reply when the input is unusable or planrun failed before the gate answered."""
        ...


def run_hook(adapter: Adapter, read: Callable[[], str | None]) -> Reply:
    """Read the hook input with ``read``, judge, reply; every failure is a reply too."""
    try:
        request = adapter.request(read())
    except HookInputError as exc:
        return adapter.failure(str(exc))
    except (OSError, ValueError) as exc:
        return adapter.failure(f"cannot read the hook input on stdin: {exc}")
    try:
        return adapter.reply(judge(request))
    except Exception as exc:  # noqa: BLE001 - the adapter decides how a crash blocks
        return adapter.failure(f"internal error: {type(exc).__name__}: {exc}")


# -- Claude Code

CLAUDE_BLOCK = 2  # Claude Code's blocking exit code: the stop is refused, stderr goes to Claude
_EVENTS = ("Stop", "SubagentStop")
_TASKS_SHOWN = 5
_TAIL_LINES = 12
_LINE_WIDTH = 200


class ClaudeCode:
    """Claude Code's ``Stop`` and ``SubagentStop`` command hooks: JSON on stdin; exit 0 lets
    the agent stop, exit 2 refuses and feeds stderr to the model as its next instruction."""

    name = "claude-code"
    summary = "Claude Code Stop/SubagentStop hook: exit 2 while a task claimed done fails"

    def request(self, text: str | None) -> GateRequest:
        if text is None or not text.strip():
            raise HookInputError(
                "no hook input on stdin: Claude Code pipes a JSON object to the hook command"
            )
        try:
            data: Any = json.loads(text)
        except ValueError as exc:
            raise HookInputError(f"the hook input on stdin is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise HookInputError("the hook input on stdin must be a JSON object")
        missing = [k for k in ("session_id", "cwd", "hook_event_name") if k not in data]
        if missing:
            raise HookInputError(
                "the hook input lacks " + ", ".join(f'"{k}"' for k in missing) + " "
                "(expected Claude Code's Stop or SubagentStop hook input)"
            )
        for key in ("session_id", "cwd", "hook_event_name"):
            if not isinstance(data[key], str) or not data[key]:
                raise HookInputError(f'"{key}" in the hook input must be a non-empty string')
        if not isinstance(data.get("stop_hook_active", False), bool):
            raise HookInputError('"stop_hook_active" in the hook input must be true or false')
        event = data["hook_event_name"]
        if event not in _EVENTS:
            raise HookInputError(
                f'planrun hook claude-code is for the Stop and SubagentStop hooks, not "{event}"'
            )
        cwd = Path(data["cwd"])
        if not cwd.is_dir():
            raise HookInputError(f'"cwd" in the hook input is not a folder: {cwd}')
        return GateRequest(cwd, session=data["session_id"], argv=("hook", self.name, event))

    def failure(self, message: str) -> Reply:
        return Reply(CLAUDE_BLOCK, f"planrun hook: {_clean(message)}\n")

    def reply(self, outcome: GateOutcome) -> Reply:
        if outcome.verdict == NOTHING:
            return Reply(0, f"planrun: {outcome.note}\n")
        if outcome.verdict == HOLD:
            count = len(outcome.checked)
            return Reply(0, f"planrun: {pluralize(count, 'claim')} checked, all hold\n")
        if outcome.verdict == RELEASE:
            return Reply(0, _release(outcome))
        if outcome.verdict == BLOCK:
            return Reply(CLAUDE_BLOCK, _block(outcome))
        return self.failure(f"internal error: unknown gate verdict {outcome.verdict!r}")


def _release(outcome: GateOutcome) -> str:
    if outcome.max_blocks == 0:
        why = "hook_max_blocks is 0, so no stop is refused"
    else:
        why = f"it was blocked {pluralize(outcome.max_blocks, 'time')} in a row (hook_max_blocks)"
    unresolved = "; ".join(_clean(u) for u in outcome.unresolved)
    return (
        f"planrun: warning: letting this stop through: {why}, "
        f"and these claims still do not hold: {unresolved}\n"
    )


def _block(outcome: GateOutcome) -> str:
    where = " ".join(_shown(p, outcome.cwd) for p in outcome.paths) or "plans"
    count = f"(block {outcome.blocks} of {outcome.max_blocks} in a row)"
    problem = outcome.problem
    out: list[str] = []
    if problem is not None and problem.kind == "invalid":
        out.append(
            f"planrun: the plan is invalid ({problem.message}), so no claim can be checked {count}:"
        )
        out.extend("  " + _clean(line) for line in problem.details[:20])
        if len(problem.details) > 20:
            out.append(f"  ... and {len(problem.details) - 20} more")
        out.append(f"Fix the plan until `planrun validate {where}` reports no errors, then stop.")
    elif problem is not None:
        out.append(f"planrun: could not check the claimed work {count}: {_clean(problem.message)}")
        out.append(
            "The stop is refused so that a failure is not taken for a pass. Fix the cause "
            "(or the hook set-up) and stop again."
        )
    else:
        failing = outcome.failures
        out.append(
            f"planrun: {pluralize(len(failing), 'task')} claimed done "
            f"{agree(len(failing), 'does', 'do')} not pass {count}:"
        )
        for result in failing[:_TASKS_SHOWN]:
            out.extend(_failure(result, outcome.cwd))
        if len(failing) > _TASKS_SHOWN:
            rest = failing[_TASKS_SHOWN:]
            out.append(f"... and {len(rest)} more: " + ", ".join(r.unit.id for r in rest))
        first = failing[0].unit.id
        out.append("")
        out.append(
            f"Before stopping: fix the work until `planrun execute {where} --task {first}` "
            "passes, or, if a task is not done, set its status back to in_progress in the plan "
            f"(un-claim it). `planrun next {where} --json` lists the tasks ready to work on."
        )
    return "\n".join(out) + "\n"


def _failure(result: UnitResult, cwd: Path | None) -> list[str]:
    unit = result.unit
    where = f" ({unit.plan.source}:{unit.line})" if unit.line else f" ({unit.plan.source})"
    out = ["", f"{result.status.upper()} {unit.id}{where}: {_clean(result.reason or '')}"]
    out.extend(f"  $ {_clean(c.run.strip(), _LINE_WIDTH)}" for c in result.commands if not c.ok)
    out.extend(f"  x {c.kind}: {_clean(c.message)}" for c in result.checks if c.ok is False)
    lines = result.tail.strip("\n").splitlines()[-_TAIL_LINES:]
    if lines:
        log = _shown(Path(result.log), cwd) if result.log else "none"
        out.append(f"  output (last lines; full log {log}):")
        out.extend("  | " + _clean(line, _LINE_WIDTH) for line in lines)
    return out


def _shown(path: Path, cwd: Path | None) -> str:
    if cwd is None or not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


_CONTROL = lazyre.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str, width: int | None = None) -> str:
    """Child output and plan text, safe to show: no escape sequences or control characters,
    one line, at most ``width`` characters."""
    text = _CONTROL.sub(lambda m: "" if m.group(0).startswith("\x1b[") else "?", text)
    text = text.replace("\n", " | ")
    if width is not None and len(text) > width:
        text = text[: width - 3] + "..."
    return text


ADAPTERS: dict[str, Adapter] = {a.name: a for a in (ClaudeCode(),)}


def command(adapter: str | None) -> int:
    """``planrun hook ADAPTER``: the adapter's reply to the hook input on stdin; without an
    adapter, the list of them (exit 2)."""
    listing = "\n".join(f"  {a.name:<14} {a.summary}" for a in ADAPTERS.values())
    if adapter is None:
        console.err(
            "usage: planrun hook ADAPTER   (reads the hook input on stdin)\nadapters:\n" + listing
        )
        return EXIT_USAGE
    if adapter not in ADAPTERS:
        guess = closest(adapter, list(ADAPTERS))
        hint = f' (did you mean "{guess}"?)' if guess else ""
        raise UsageError(f'no hook adapter "{adapter}"{hint}; adapters:\n{listing}')
    reply = run_hook(ADAPTERS[adapter], _hook_input)
    sys.stdout.write(reply.stdout)
    sys.stderr.write(reply.stderr)
    return reply.exit_code


def _hook_input() -> str | None:
    """The hook input on stdin; None on a terminal (nobody is piping any)."""
    if sys.stdin is None or sys.stdin.isatty():
        return None
    return sys.stdin.read()
