"""What a GSD element says to check: ``<verify>``, ``<automated>``, ``<verification>``,
``<success_criteria>`` and ``<acceptance_criteria>`` content, as commands, expectations and
truths.

HTML entities (``&amp;&amp;``, ``&lt;``) are decoded first: GSD plans are XML-ish and agents
escape. A fenced block is one script (its ``cd``, ``sleep`` and a background ``npm run dev &``
stay with the ``curl`` lines that need them). A prose line yields the commands in its
backticks (``Run `npx tsc --noEmit` to verify...``) with the prose kept as the description;
the words after a command ("returns 0", "should find nothing", "Expected: FAIL") become its
expectation. Prose without a command, and long-running commands, are manual checks.
"""

from __future__ import annotations

import html
import re
import shlex
from dataclasses import dataclass, field

from planrun import expectations, lazyre, markdown, unasked
from planrun.commandlint import long_running
from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.linedata import LineList
from planrun.prose import (
    HELD_HINT,
    NOT_ASKED_HINT,
    is_command,
    outcome,
    starts_like_command,
    unknown_program,
)
from planrun.readers.common import mapping
from planrun.shellsplit import looks_like_command, split_script

_FENCE = lazyre.compile(
    r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S
)
_BULLET = lazyre.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
_TRAILING_PROSE = lazyre.compile(r"\s+\((?=[^)]*\s)[^()]*\)\s*$")
_SUCCEEDS = lazyre.compile(
    r"\b(?:succeeds?|exits?\s+(?:with\s+)?(?:code\s+)?0|passes|pass(?:es)?\s+(?:with|clean)|"
    r"returns?\s+(?:exit\s+)?0\b(?!\s*(?:matches|results))|runs?\s+clean|no\s+errors?)\b",
    re.I,
)
_AC_CONTAINS = lazyre.compile(r"^`([^`]+)`\s+contains\s+`([^`]+)`", re.I)
_AC_EXISTS = lazyre.compile(r"^`([^`]+)`\s+exists\b", re.I)
_AC_COUNT = lazyre.compile(r"grep\s+`([^`]+)`\s+count\s*(==|>=|<=|>|<|=)\s*(\d+)", re.I)


HELD = "held"  # the words around the command say it ends otherwise than a check can show
NOT_ASKED = "not asked"  # the words around the command do not ask to run it (unasked)
_UNJUDGED = "has an expected output planrun cannot check on what this command prints"


def worth_a_warning(text: str, why: str) -> bool:
    """In a plan's own checks (success criteria are mostly statements), whether a manual
    line is worth a warning: a held command, a dev server, or a line that starts like a
    command but reads as English."""
    return why in (HELD, NOT_ASKED) or "long-running" in why or starts_like_command(text)


@dataclass
class Check:
    """One thing an element asks to check."""

    line: int
    run: str | None = None  # a command
    expect_output: str | None = None
    expect_exit: int = 0
    description: str | None = None  # the prose around it
    path: str | None = None  # an artifact (exists / contains)
    contains: str | None = None


@dataclass
class Reading:
    checks: list[Check] = field(default_factory=list)
    manual: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, why)
    truths: list[tuple[int, str]] = field(default_factory=list)


def decode(text: str) -> str:
    return html.unescape(text)


def read_commands(text: str, line: int) -> Reading:
    """Checks in the content of a verify-like element that starts on file line ``line``."""
    out = Reading()
    text = decode(text)
    pos = 0
    for fence in _FENCE.finditer(text):
        _read_lines(text[pos : fence.start()], line + text.count("\n", 0, pos), out)
        body = fence.group(3)
        at = line + text.count("\n", 0, fence.start(3))
        if fence.group(2).lower() in ("", "bash", "sh", "shell", "console", "zsh"):
            _read_fence(body, at, out)
        pos = fence.end()
    _read_lines(text[pos:], line + text.count("\n", 0, pos), out)
    return out


def _read_fence(body: str, at: int, out: Reading) -> None:
    """A fenced block is one script; an expectation comment applies when it holds one
    command."""
    script = re.sub(r"^\s*\$ ", "", body, flags=re.M).strip()
    if not script:
        return
    expect = expectations.Expectation()
    for raw in script.splitlines():
        found = expectations.from_comment(raw) if "#" in raw else expectations.Expectation()
        expect = found if found.any else expect
    if expect.any and len(split_script(script, 0)) == 1:
        command = "\n".join(
            ln for ln in script.splitlines() if not ln.strip().startswith("#")
        ).strip()
        command = re.sub(r"\s+#.*$", "", command) if "\n" not in command else command
        expect = expectations.for_command(command, expect, stated=True)
        if expect.unjudged:
            out.manual.append((at, f"`{command}` {_UNJUDGED} ({expect.unjudged})", HELD))
            return
        out.checks.append(
            Check(at, run=command, expect_output=expect.output, expect_exit=int(expect.fails))
        )
        return
    out.checks.append(Check(at, run=script))


def _read_lines(text: str, line: int, out: Reading) -> None:
    """Plain lines: a line of prose with commands in backticks is read on its own (backticks
    are not shell there); the other lines are split into shell constructs (so ``if``/``fi``
    stay together), each chunk a command or prose (manual)."""
    notes: dict[int, str] = {}  # line offset -> an expectation comment after the command
    last = None
    plain: list[str] = []
    prose: dict[int, str] = {}  # line offset -> a prose line with commands in backticks
    for offset, raw in enumerate(text.splitlines()):
        stripped = raw.strip()
        if stripped.startswith("#"):
            if last is not None and expectations.from_comment(stripped).any:
                notes[last] = stripped
            plain.append("")
            continue
        if stripped:
            last = offset
        item = _BULLET.sub("", raw) if _BULLET.match(raw) else raw
        if _prose_with_spans(item):
            prose[offset] = item.strip()
            item = ""
        plain.append(item)
    chunks = {c.line: c for c in split_script("\n".join(plain), 0)}
    for offset in sorted([*prose, *chunks]):  # in the order the plan writes them
        at = line + offset
        if offset in prose:
            _read_spans(prose[offset], at, out)
            continue
        chunk = chunks[offset]
        first = chunk.text.splitlines()[0]
        command, note = (chunk.text, "") if "\n" in chunk.text else _split_note(chunk.text)
        lines = command.splitlines()
        # One line is judged whole by the prose rule; a shell construct by its first line.
        if is_command(lines[0]) if len(lines) == 1 else looks_like_command(lines[0]):
            end = chunk.line + chunk.text.count("\n")
            note = next((notes[o] for o in range(chunk.line, end + 1) if o in notes), note)
            # Written as a command, a dev server is still run (validate warns that only the
            # timeout ends it); with a note in words ("(app launches)") it is a thing to watch.
            _add(out, at, command, note, description=None, by_hand=bool(note))
        else:
            out.manual.append((at, first.strip(), "prose, not a command"))


def _prose_with_spans(item: str) -> bool:
    """A line that names commands in backticks rather than being one (``Run `x` to verify``,
    ```grep -c X src` returns 0``)."""
    stripped = item.strip()
    if not markdown.backticked(stripped):
        return False
    return stripped.startswith("`") or not is_command(stripped)


def _read_spans(text: str, at: int, out: Reading) -> None:
    spans = markdown.backticked_with_rest(text)
    if any(long_running(s) for s, _ in spans):
        # The other commands of the line need the server it starts: all by hand.
        why = "a line that starts a long-running command (a dev server): run it by hand"
        out.manual.append((at, text, why))
        return
    found = skipped = False
    unknown: list[tuple[int, str, str]] = []  # said only beside a check (see prose.extract)
    for (span, after), unasked_why in zip(spans, unasked.whys(text), strict=True):
        if is_command(span) and unasked_why is not None:
            out.manual.append((at, f"`{span}` is not run: {unasked_why}", NOT_ASKED))
            skipped = True
        elif is_command(span):
            _add(out, at, span, after, description=text)
            found = True
        elif (strange := unknown_program(span)) is not None:
            note = (at, f"`{span}` is not run: {unasked_why or strange}", NOT_ASKED)
            (out.manual if unasked_why else unknown).append(note)
            skipped = skipped or unasked_why is not None
    if found:
        out.manual += unknown
    if skipped and not found:
        out.truths.append((at, markdown.strip_markup(text)))  # said why above
    elif not found:
        out.manual.append((at, text, "prose, not a command"))


def _add(
    out: Reading,
    at: int,
    command: str,
    after: str,
    *,
    description: str | None,
    by_hand: bool = True,
) -> None:
    command = command.strip()
    if by_hand and long_running(command):
        out.manual.append(
            (at, command, "a long-running command (a dev server) is not a check; run it by hand")
        )
        return
    comment = ""
    if " #" in command and "\n" not in command:
        command, _, comment = command.partition(" #")
        command = command.strip()
    expect = expectations.from_comment("#" + comment) if comment else expectations.Expectation()
    if not expect.any and after.lstrip().startswith("#"):
        expect = expectations.from_comment(after)
    if not expect.any and re.match(r"(?i)expect\b", after.strip()):
        expect = expectations.from_comment("# " + after.strip())  # split off by _split_note
    stated = expect.any
    if not expect.any:
        expect = expectations.from_prose(after)
    exit_code = 1 if expect.fails else 0
    if not expect.any:
        # The prose rule's reading of the words: "raises ImportError" holds the command (a
        # check passes only on its expected exit), "exits 2" names the code to expect.
        said = outcome(after)
        if said.held:
            out.manual.append((at, f"`{command}` {said.held}", HELD))
            return
        exit_code = said.expect_exit
    expect = expectations.for_command(command, expect, stated=stated)
    if expect.unjudged:
        out.manual.append((at, f"`{command}` {_UNJUDGED} ({expect.unjudged})", HELD))
        return
    out.checks.append(
        Check(
            at,
            run=command,
            expect_output=expect.output,
            expect_exit=1 if expect.fails else exit_code,
            description=description,
        )
    )


def words_after(reading: Reading, words: str, line: int) -> None:
    """Words after an element on its line (``<automated>grep -c X f</automated> equals 0``)
    say what its one command must show or how it ends, as words after a backticked command
    do. Said of several commands, such words hold them all (which one they mean is not
    said); a command in them is not one of the element's: never run, each said so."""
    spans = markdown.backticked_with_rest(words)
    for (span, _), why in zip(spans, unasked.whys(words), strict=True):
        if not (is_command(span) or starts_like_command(span) or unknown_program(span)):
            continue
        if why is not None:
            reading.manual.append((line, f"`{span}` is not run: {why}", NOT_ASKED))
        else:
            reading.manual.append((line, f"`{span}` is written after <automated>, not in it", HELD))
    plain = re.sub(r"(`+)(.+?)\1", " ", words)
    runs = [c for c in reading.checks if c.run is not None]
    if not plain.strip() or not runs:
        return
    if len(runs) > 1 or len(reading.checks) > 1:
        said = outcome(plain)
        if said.held or said.expect_exit or expectations.from_prose(plain).any:
            shown = " ".join(plain.split())[:60]
            held = said.held or f"is said to end otherwise than exit 0 ({shown!r})"
            reading.manual += [(c.line, f"`{c.run}` {held}", HELD) for c in runs]
            reading.checks = [c for c in reading.checks if c.run is None]
        return
    only = runs[0]
    if only.expect_output is not None or only.expect_exit:
        return
    reading.checks = []
    _add(reading, only.line, str(only.run), plain, description=only.description, by_hand=False)


def _split_note(text: str) -> tuple[str, str]:
    """A command line and the prose note after it: ``cargo tauri dev (app launches)``,
    ``grep -c X src → 0``."""
    for marker in (" → ", " -> ", " — ", " -- expect", " # expect", " # EXPECT"):
        if marker in text:
            head, _, tail = text.partition(marker)
            return head.strip(), marker.strip(" #-") + " " + tail
    match = _TRAILING_PROSE.search(text)
    if match:
        return text[: match.start()].strip(), match.group(0)
    return text, ""


def read_acceptance(text: str, line: int) -> Reading:
    """``<acceptance_criteria>``: commands said to succeed, files said to exist or contain a
    text, grep counts; every other line a truth."""
    out = Reading()
    text = decode(text)
    for offset, raw in enumerate(text.splitlines()):
        at = line + offset
        item = _BULLET.sub("", raw.strip())
        if not item:
            continue
        contains = _AC_CONTAINS.match(item)
        exists = _AC_EXISTS.match(item)
        count = _AC_COUNT.search(item)
        spans = [s for s, _ in markdown.backticked_with_rest(item)]
        if contains and not is_command(contains.group(1)):
            out.checks.append(
                Check(at, path=contains.group(1), contains=contains.group(2), description=item)
            )
        elif exists and not is_command(exists.group(1)):
            out.checks.append(Check(at, path=exists.group(1), description=item))
        elif count and (target := _count_target(item, spans, count.group(1))):
            op = "==" if count.group(2) == "=" else count.group(2)
            cmd = f"grep -c -- {shlex.quote(count.group(1))} {shlex.quote(target)}"
            out.checks.append(
                Check(at, run=cmd, expect_output=f"count {op} {count.group(3)}", description=item)
            )
        elif (
            spans
            and is_command(spans[0])
            and (_SUCCEEDS.search(item) or expectations.from_prose(item).any)
        ):
            before = len(out.checks)
            _add(out, at, spans[0], item[item.find(spans[0]) + len(spans[0]) :], description=item)
            if len(out.checks) == before:
                continue
        else:
            out.truths.append((at, item))
    return out


def _count_target(item: str, spans: list[str], pattern: str) -> str | None:
    """The file a "grep `pattern` count == N" criterion counts in: a backticked path, else
    the path the line starts with."""
    for span in spans:
        if span != pattern and re.fullmatch(r"[\w./@-]+\.\w+", span):
            return span
    first = re.match(r"([\w@-][\w./@-]*/[\w.@-]+\.\w+)\b", item)
    return first.group(1) if first else None


def add_reading(
    reading: Reading,
    verify: LineList,
    must: dict[str, LineList],
    doc: Document,
    diags: Diagnostics,
    *,
    derived: bool = False,
) -> None:
    """Put what an element asks to check into a task's (or plan's) verify and must_haves."""
    for check in reading.checks:
        if check.run is not None:
            entry = mapping(
                check.line,
                run=check.run,
                expect_output=check.expect_output,
                expect_exit=check.expect_exit or None,
                description=check.description,
                derived=derived or None,
            )
            verify.append(entry)
            verify.item_lines.append(check.line)
        elif check.path is not None:
            art = mapping(check.line, path=check.path, contains=check.contains, derived=True)
            must.setdefault("artifacts", LineList(line=check.line)).append(art)
    for at, text, why in reading.manual:
        if why == NOT_ASKED:
            # Only a warning: the line it is on is a truth, or holds the check it asks for.
            diags.add("prose-verify", doc.display, at, text[:160], hint=NOT_ASKED_HINT)
            continue
        if why == HELD:
            diags.add(
                "prose-verify",
                doc.display,
                at,
                f"{text[:120]}: it is a manual check, not run",
                hint=HELD_HINT,
            )
        else:
            diags.add(
                "prose-verify",
                doc.display,
                at,
                f"verify line {text[:60]!r} is {why}: it is a manual check",
                hint="write the command that proves it, e.g. in <automated>",
            )
        truths = must.setdefault("truths", LineList(line=at))
        truths.append(text)
        truths.item_lines.append(at)
    for at, text in reading.truths:
        truths = must.setdefault("truths", LineList(line=at))
        truths.append(text)
        truths.item_lines.append(at)
