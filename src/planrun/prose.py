"""Command or prose: the one place that decides whether text from a plan may be run.

planrun is a referee; running a sentence from a plan as a shell command is one of the worst
things it can do. So a command is taken only from where a plan author puts checks:

- a section whose *heading* (level 2 and below; the level-1 heading is the document's title)
  names validation, tests, checks or gates, and is no record of tests that are not this work's
  checks ("Known test failures", "Tests removed", "Test data") nor steps for a person
  ("Manual testing": ``manual_heading``) (``gate_heading``);
- an explicit verify element (a ``Verify:`` field, GSD's ``<verify>``/``<automated>``);
- a ``bash``/``sh``/``shell``/``console`` fenced block.

Even there, a line is a command only when it reads as one (``is_command``): a bare path or route
(``/dist``, ``/api/cron/x returns 200``) and a numbered English step are prose. A line that
starts like a command but reads as English (``test the login page by hand``) is *unsure*: the
reader reports a manual check with a ``prose-verify`` warning and never runs it; so is a line
that does not parse as shell (``pytest tests/ (all passing)``). Backticked spans in running
prose anywhere else are never commands.

The words around a command say how it should end (``outcome``): a command said to fail
(``raises ImportError``, ``exits non-zero``, ``should no longer work``) or to show an output
(``prints 3``) is held, a manual check with the reason, since a check passes on exit 0;
``exits 1`` sets ``expect_exit``. A search or a count said to print nothing or a number
(```grep -rn X src | wc -l` should be 0``) is judged on what it prints, by the rule GSD's
reader uses (``expectations``). A command the words do not ask to run as a check (``Do not
run `make deploy` ``, ``Rollback: `...` ``: ``unasked``) is never run.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass, field

from planrun import expectations, lazyre, markdown, unasked
from planrun.shellsplit import COMMANDS, parse

GATE = lazyre.compile(
    r"\b(test|tests|testing|validation|validate|gates?|verif\w*|checks?|quality)\b", re.I
)
CRITERIA = lazyre.compile(
    r"success criteria|acceptance criteria|definition of done|must[- ]haves?|quality gates?|"
    r"done when|exit criteria",
    re.I,
)
SHELL_FENCES = frozenset({"bash", "sh", "shell", "zsh", "console", "shell-session"})

_ASSIGNMENT = lazyre.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*$")
_TOOL = lazyre.compile(r"[a-z][a-z0-9_.-]*")
_OPERATORS = ("&&", "||", " | ", ";", " > ", " 2>", " >> ")
_NUMBERED = lazyre.compile(r"^\s*(?:[-*+]\s+)?(?:\d+[.)]|step\s+\d+\s*[:.)-])\s+", re.I)
_SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/opt/")
_SCRIPT = lazyre.compile(r"[\w.-]+(?:/[\w.-]+)+\.(?:sh|bash)")  # scripts/verify.sh
# Words that make a line English rather than shell when they stand on their own (not in quotes,
# not as a flag). Words that shell commands use as arguments (run, test, check, verify, pass,
# all, in, do, build, install, up) are deliberately absent.
_ENGLISH_WORDS = """
    the an and or that this these those is are be been should must will would can could into
    onto from of to with when it its sure not confirm ensure manually works passes succeeds
    returns without using via your our we you they there correctly properly successfully no
    for if any nothing anything everything fine green passing pass cleanly finds starts runs
    raises throws fails crashes exits prints outputs shows
"""
_ENGLISH = frozenset(_ENGLISH_WORDS.split())


# Criteria lists that name no gate: their lines are statements, never commands.
_STATEMENTS = lazyre.compile(
    r"success criteria|acceptance criteria|definition of done|must[- ]haves?|done when|"
    r"exit criteria",
    re.I,
)


# A heading that names tests or checks as a record, not as this work's checks ("Known test
# failures (pre-existing)", "Tests removed", "Checks we skipped", "Test data"): its lines are
# statements. Running a known failure fails the plan on what it says it does not fix, and a
# fixture loader is no check at all. A word of state qualifies the tests only beside them
# ("Verify removed endpoints" and "Fix the failing tests" are still gates); a word that puts
# the section outside the work does so anywhere in the heading.
_OUTSIDE = (
    r"\b(?:known\s+(?:test\s+|tests?\s+)?(?:failures?|failing|issues?|flak\w*|broken)|"
    r"^\W*known\s+(?!-?good)\w+|pre-?existing|unrelated|out[\s-]+of[\s-]+scope|quarantined|"
    r"untested|not\s+(?:run|tested|checked|verified|covered)(?!\s+(?:in|by|on|during)\b))\b"
)
_STATE = (
    r"(?:removed|deleted|dropped|skipped|disabled|ignored|excluded|deferred|deprecated|"
    r"obsolete|flaky|future|follow[\s-]?up|postponed)"
)
_QUALIFIED = (
    r"\b" + _STATE + r"\s+(?:\w+\s+)?(?:tests?|checks?|validations?|verifications?|gates?)\b"
    r"|\b(?:tests|checks|validations|verifications|gates)\W+(?:(?:that|which|we|were|was|are|"
    r"have|been|to\s+be)\W+){0,3}" + _STATE + r"\b"
    r"|\btest\s+(?:data|fixtures?|seeds?|mocks?|doubles)\b"
)
# Not "no test failures", "zero failing tests": a gate that asks for none.
_NONE = r"(?<!\bno\s)(?<!\bzero\s)(?<!\b0\s)(?<!without\s)(?<!\bany\s)"
_FAILING = (
    _NONE + r"\b(?:test|check)\s+failures?\b|" + _NONE + r"\bfail(?:ing|ed)\s+(?:tests?|checks?)\b"
)
_NOT_GATES = lazyre.compile(_OUTSIDE + "|" + _QUALIFIED, re.I)
_FAILURES = lazyre.compile(_FAILING, re.I)
_FIXES = lazyre.compile(r"\b(?:fix\w*|resolv\w*|repair\w*)\b", re.I)


# "Manual testing", "Manual QA", "Test manually", "Human verification": steps for a person, whose
# commands are run by a person, in order and with judgement (readers/manualsteps.py).
_MANUAL = lazyre.compile(
    r"(?<!\bno\s)(?<!\bnon-)(?<!\bnon\s)\bmanual(?:ly)?\b|\bby\s+hand\b"
    r"|\bhuman[\s-]+(?:verif\w*|review\w*|checks?|test\w*|qa)\b",
    re.I,
)


def manual_heading(heading: markdown.Heading) -> bool:
    """A section of steps for a person: nothing in it is run (see readers/manualsteps.py)."""
    return heading.level >= 2 and bool(_MANUAL.search(markdown.strip_markup(heading.title)))


def gate_heading(heading: markdown.Heading) -> bool:
    """A section whose commands are the plan's checks: level 2 or below, naming validation,
    tests, checks or gates, and not a list of criteria such as Acceptance Criteria ("Quality
    Gates" is both: its commands are checks, its checkbox items truths) nor a record of tests
    that are not this work's checks ("Known test failures", "Tests removed", "Test data"),
    nor steps for a person ("Manual testing")."""
    title = markdown.strip_markup(heading.title)
    return (
        heading.level >= 2
        and bool(GATE.search(title))
        and not _STATEMENTS.search(title)
        and not _NOT_GATES.search(title)
        and not (_FAILURES.search(title) and not _FIXES.search(title))
        and not manual_heading(heading)
    )


def criteria_heading(heading: markdown.Heading) -> bool:
    """Acceptance Criteria, Definition of Done, Must-Haves, Success Criteria, Quality Gates."""
    return heading.level >= 2 and bool(CRITERIA.search(markdown.strip_markup(heading.title)))


def _words(text: str) -> list[str]:
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        words = text.split()
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]  # FOO=bar cmd
    return words


def _path_or_route(first: str) -> bool:
    """``/dist``, ``/api/cron/x``: a path a sentence names, not a program to run."""
    return first.startswith("/") and not first.startswith(_SYSTEM_DIRS)


def _english(words: list[str]) -> bool:
    """An English word of its own after the program (``grep for TODO finds nothing``); a word
    right after a flag is that flag's argument (``pytest -k pass``)."""
    return any(
        w.lower().rstrip(".,") in _ENGLISH
        for before, w in itertools.pairwise(words)
        if re.fullmatch(r"[A-Za-z]+[.,]?", w) and not re.fullmatch(r"--?[A-Za-z][\w-]*", before)
    )


def starts_like_command(text: str) -> bool:
    """Whether the first word is a program: a known tool, ``./x``, ``~/x``, ``$X`` or a system
    path. Says nothing about the rest of the line."""
    words = _words(text.strip())
    if not words:
        return False
    first = words[0]
    return (
        first in COMMANDS
        or first.startswith(("./", "../", "~/", "$", *_SYSTEM_DIRS))
        or bool(_SCRIPT.fullmatch(first))
    )


def is_command(text: str) -> bool:
    """Whether ``text`` reads as a shell command and nothing else."""
    stripped = text.strip()
    if not stripped or _NUMBERED.match(stripped):
        return False
    words = _words(stripped)
    if not words:
        return False
    first = words[0]
    if _path_or_route(first) or _english(words) or parse(stripped).has_error:
        return False  # `pytest tests/ (all passing)` is no shell
    return _shaped(stripped, words)


def _shaped(text: str, words: list[str]) -> bool:
    """Whether a line is shaped like a command: a known program first, or an unknown tool used
    like one (``mytool --flag``, ``foo | bar``)."""
    if starts_like_command(text):
        return True
    return bool(_TOOL.fullmatch(words[0])) and (
        any(op in text for op in _OPERATORS) or any(w.startswith("-") for w in words[1:])
    )


_RELATIVE_PROGRAM = lazyre.compile(r"[\w.-]+(?:/[\w.-]+)+")


def unknown_program(text: str) -> str | None:
    """Why a span that reads as a command of a program planrun does not know (``rails
    db:reset``, ``bin/rails test``) is not run, or None for one that does not read as a command
    (a path, a name, English)."""
    words = _words(text.strip())
    if len(words) < 2 or is_command(text) or starts_like_command(text):
        return None
    first = words[0]
    shaped = _TOOL.fullmatch(first) or _RELATIVE_PROGRAM.fullmatch(first)
    if not shaped or first.lower() in _ENGLISH or _english(words) or parse(text).has_error:
        return None
    return f"planrun does not know `{first}` as a program"


def unsure(text: str) -> bool:
    """Shaped like a command but not one (``kill -9 stray processes if any``): never run."""
    words = _words(text.strip())
    return bool(words) and not _path_or_route(words[0]) and _shaped(text.strip(), words)


def fence_script(block: markdown.Block) -> str | None:
    """The script a shell fence holds (a ``console`` block: its ``$`` lines), else None."""
    if block.lang in ("console", "shell-session"):
        return "\n".join(
            ln[2:] if ln.startswith("$ ") else "# " + ln for ln in block.text.splitlines()
        )
    return block.text if block.lang in SHELL_FENCES else None


@dataclass(frozen=True)
class Check:
    """A command found in a plan, with the prose around it kept as its description."""

    line: int
    text: str
    description: str | None = None
    expect_exit: int = 0  # "`grep -q x f` exits 1": the exit code the line says it ends with
    expect_output: str | None = None  # "`grep -c x f` should be 0": what it must print


# What the words around a command may say about how it ends (see ``outcome``).
_EXIT_CODE = lazyre.compile(
    r"(?:\b(?:returns?|gives|ends\s+with|with)\s+(?:an?\s+)?)?"
    r"(?:\bexit(?:s|ed|ing)?(?:\s+with)?(?:\s+(?:code|status))?(?:\s+of)?\s*:?\s+(\d+)\b|"
    r"\b(?:exit|return)\s+(?:code|status)(?:\s+(?:of|is|equals?|(?:should|must|will)\s+be))?"
    r"\s*[:=]?=?\s*(\d+)\b)",
    re.I,
)
_FAILS = lazyre.compile(
    r"\b(?:raises?|throws?|fails?|errors?\s+(?:out|with)|crash(?:es)?|"
    r"panics?|aborts?|(?:is|are|be|gets?|get)\s+rejected|rejects|refuses|"
    r"exits?\s+with\s+(?:an?\s+)?error|non[- ]?zero|not\s+found|no\s+such\s+file|denied|"
    r"(?:should|must|will|would|now|then|it)\s+errors?|(?-i:[A-Z]\w*(?:Error|Exception))|"
    r"(?:is|are|be|gets?|get|now)\s+(?:now\s+)?(?:gone|removed|deleted|unavailable|"
    r"disallowed|forbidden))\b",
    re.I,
)
# Success said not to happen: "should no longer work", "must not succeed", "won't compile",
# "can no longer be imported". (A negated failure, "must not fail", is a success.)
_NOT_SUCCEEDS = lazyre.compile(
    r"(?:\bno\s+longer|\bnot|\bnever|n['\u2019]t|\bcannot)\s+(?:be\s+(?:able\s+to\s+)?)?"
    r"(?:work(?:s|ing)?|succeed(?:s|ing)?|pass(?:es|ing)?|compil(?:es?|ing)|"
    r"import(?:s|ed|able)?|load(?:s|ed|able)?|resolve[sd]?|exists?|builds?|valid|available|"
    r"usable|present)\b",
    re.I,
)
# Words right after a command saying it passes: the failure words further on are of
# something else ("`pytest` passes; /old now errors with 404").
_SAYS_PASSES = lazyre.compile(
    r"\W*(?:(?:should|must|still|now|then|also)\s+)?(?:passes|pass|succeeds?|works|is\s+green|"
    r"exits?\s+(?:with\s+)?(?:code\s+|status\s+)?0)\b",
    re.I,
)
_NEGATORS = frozenset({"not", "no", "never", "without", "nothing", "none", "don't", "doesn't"})
# An output exit 0 does not show. ``shows 15 PASSED`` is left alone: a test runner's exit 0 says
# its tests passed.
_OUTPUT = lazyre.compile(
    r"\b(?:prints?|outputs?|echoe?s|returns?|responds?|finds|is\s+empty|shows\s+nothing|"
    r"no\s+(?:matches|results|output|hits))\b",
    re.I,
)


# "if the input is empty, ...": a condition the line puts before what it says of the command.
_CONDITION_PHRASE = lazyre.compile(r"\b(?:if|when|whenever)\s[^,;:]*,", re.I)
# "should not be 0", "must not be empty": an output exit 0 does not show either.
_NOT_SHOWN = lazyre.compile(
    r"(?:\b(?:not|never)|n't)\s+(?:be\s+|equal\s+|return\s+|print\s+|output\s+|give\s+)?"
    r"(?:\d+|zero|empty)\b|!=\s*\d",
    re.I,
)
# "(0 failures)", "= 0 errors", "-> 42 passed": a test runner's or linter's result, which its
# exit 0 shows, as "shows 15 PASSED" does.
_RESULTS = lazyre.compile(
    r"\b(?:\d+|zero|no)\s+(?:tests?|passed|passing|failures?|failed|failing|errors?|warnings?|"
    r"issues?|problems?|skipped|vulnerabilit\w+)\b",
    re.I,
)


def _counted(words: str) -> bool:
    """Whether ``words`` say a command prints a number or nothing (``should be 0``), other than
    a test run's or a linter's result."""
    return expectations.from_prose(words).output is not None and not _RESULTS.search(words)


@dataclass(frozen=True)
class Outcome:
    """How the words around a command say it ends: ``expect_exit`` when they name an exit code,
    else ``held`` says why exit 0 would not show it (the command is then never run)."""

    expect_exit: int = 0
    held: str | None = None


def outcome(words: str) -> Outcome:
    """What ``words`` (a line without its commands) say about how the commands end.

    ``raises ImportError``, ``should exit non-zero``, ``now fails``: the command must fail, and
    a check run expecting exit 0 would pass the wrong way round, so it is held (a manual check).
    ``exits 1`` names the code to expect. ``prints 3``, ``returns 200``, ``finds nothing``:
    an output that exit 0 does not show, held too. ``no tests fail`` says it succeeds."""
    codes = {int(a or b) for a, b in _EXIT_CODE.findall(words)}
    # "Run `a` and if it fails, run `b`": a failure planned for is no failure expected
    rest = unasked.FAILURE_CONDITION.sub(" ", without_exit_code(words))
    said = " ".join(words.split())[:60]
    if _failure(rest):
        return Outcome(held=f"is expected to fail ({said!r}); a check passes only on exit 0")
    # "Verify that if the input is empty, `cli ''` exits 1": what a condition says is of
    # something else than the command's output.
    rest = _CONDITION_PHRASE.sub(" ", rest)
    if _OUTPUT.search(rest) or _NOT_SHOWN.search(rest) or (not codes and _counted(rest)):
        # "prints 3", and "should be 0" of a command whose output is no count (see extract)
        return Outcome(held=f"is expected to show what exit 0 does not ({said!r})")
    if len(codes) > 1:
        return Outcome(held="names more than one exit code")
    return Outcome(expect_exit=codes.pop() if codes else 0)


def denies_success(words: str) -> bool:
    """Whether ``words`` say a command no longer succeeds (``should no longer work``, ``must
    not pass``, ``won't compile``)."""
    return bool(_NOT_SUCCEEDS.search(words))


def without_exit_code(words: str) -> str:
    """``words`` without the exit code they name (``exits 1``)."""
    return _EXIT_CODE.sub(" ", words)


def _failure(words: str) -> bool:
    """Whether ``words`` say a command fails, unless a ``not``/``no``/``never`` just before
    says it does not (``no test should fail``), or say that it no longer succeeds (``should
    no longer work``). Past tenses tell a story, not an expectation (``the test that failed
    before``)."""
    if _SAYS_PASSES.match(words):
        return False  # "`pytest` passes (the endpoint is gone)": what else fails is not it
    if denies_success(words):
        return True
    for match in _FAILS.finditer(words):
        before = re.findall(r"[\w']+", words[: match.start()].lower())[-3:]
        if not _NEGATORS.intersection(before):
            return True
    return False


@dataclass
class Extracted:
    commands: list[Check] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)  # reads partly as a command: never run
    statement: str | None = None  # the line as prose, when it holds no command
    held: str | None = None  # why the line's commands are not run ("says it must fail ...")
    # Commands of the line not run, each with why: the words do not ask to run them ("`make
    # deploy` is not run: the line says not to run it ('Do not run')"), or planrun does not
    # know their program; the line's other commands still run.
    not_asked: list[str] = field(default_factory=list)


def extract(line_text: str, line: int) -> Extracted:
    """The commands in one line of a verify area (a gate section or a verify element).

    ``Run `npx tsc --noEmit` to verify no type errors`` gives the command ``npx tsc --noEmit``
    described by the sentence; a line without backticks is a command only if all of it is one.
    Words that say the command fails or prints something (``outcome``) hold it: not run; a
    search or count said to print nothing or a number is judged on its output (``grep -rn X
    src | wc -l` should be 0``); words that do not ask for a command (``Do not run``,
    ``Rollback:``) leave that one out."""
    text = markdown.bullet(line_text)
    text = (text if text is not None else line_text).strip()
    out = Extracted()
    if not text:
        return out
    spans = markdown.backticked_with_rest(text)
    plain = markdown.strip_markup(text)
    # "1. Start the server with `npm run dev`": a step of a procedure a person follows, whose
    # commands only make sense together and in order. Never run; said so when it holds one.
    step = bool(_NUMBERED.match(line_text))
    if spans:
        prose = _without_spans(text)
        description = plain if prose else None
        words = re.sub(r"(`+)(.+?)\1", " ", text)
        said = outcome(words) if prose else Outcome()
        unknown_spans: list[str] = []
        for (span, after), why in zip(spans, unasked.whys(text), strict=True):
            if not is_command(span) or (step and prose):
                if starts_like_command(span):
                    out.unsure.append(span)
                elif not step and (unknown := unknown_program(span)) is not None:
                    (out.not_asked if why else unknown_spans).append(
                        f"`{span}` is not run: {why or unknown}"
                    )
            elif why is not None:
                out.not_asked.append(f"`{span}` is not run: {why}")
            elif (shown := _output_expected(span, after, words)) is not None:
                out.commands.append(Check(line, span, description, expect_output=shown))
            elif said.held:
                out.held = f"`{span}` {said.held}"
            else:
                out.commands.append(Check(line, span, description, said.expect_exit))
        if out.held:
            out.commands = []  # what the line says applies to all of its commands
        elif out.commands:
            # "`rails test` and `pytest` pass" would pass on `pytest` alone: said, not silent
            out.not_asked += unknown_spans
    elif is_command(text):
        out.commands.append(Check(line, text))
    elif unsure(text) and not step:
        out.unsure.append(text)
    if not out.commands:
        out.statement = plain
    return out


def _output_expected(command: str, after: str, words: str) -> str | None:
    """What a search or count must print, from the words after it (``should be 0``, ``must
    be empty``), as GSD's reader reads them; None for another command, when the line names an
    exit code, or when it says something fails (held)."""
    if _EXIT_CODE.search(words) or _failure(without_exit_code(words)):
        return None
    return expectations.for_command(command, expectations.from_prose(after)).output


HELD_HINT = (
    "a check must exit 0; write the exit code it ends with (`cmd` exits 1) "
    "or a command that tests the output"
)
NOT_ASKED_HINT = (
    "planrun runs only the commands a line asks to run as checks; "
    "if this is one, write it on a line of its own: - `cmd`"
)


def _without_spans(text: str) -> str:
    """What is left of a line once its code spans and punctuation are removed."""
    rest = re.sub(r"(`+)(.+?)\1", " ", text)
    return re.sub(r"[\W_]+", " ", rest).strip()
