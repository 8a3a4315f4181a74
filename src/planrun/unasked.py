"""Commands a line names without asking to run them as checks.

Lines in a verify area (a gate section, a ``Verify:`` field, a ``<verify>`` element) also
speak of commands that are not checks: "Do not run `make deploy` here", "Rollback:
`./rollback.sh`", "Once merged, `npm publish` releases it", "We no longer need `make old`",
"Optionally, `npm run e2e`". Run, such a command deploys, publishes or rolls back, and its
exit 0 counts as evidence. So the words around a command decide whether it is asked for: a
command is not run when its own clause (a sentence, or the part of one up to a ``;``) says
not to run it, speaks of it as no longer used, runs it only if something fails (a remedy:
"Run `pytest` and if it fails, run `make reset`"), runs it only on a condition or as an
option, gives it another purpose than a check, or says it is no check of this work. Each
command of a line is judged by its own clause: in "Don't run `e2e`; CI runs it. Use `unit`
instead." only `unit` is asked for.

These are cues in words, not a grammar. A cue found is enough to keep a command from running
(a sentence run can deploy), so each cue is held to what it says of the command itself, or a
line that asks for a check loses it (a check lost is a manual check, and a lost verdict):

- An ordering is a request, not a condition: "Once the implementation is complete, run
  `pytest`", "After merging the branch locally, run `pytest`". A prohibition the words
  "without running" turn round asks for the command: "Never merge without running `pytest`".
- *if* is a condition of the command only where it is not what a check is asked of: "If the
  schema changed, run `make migrate`" is one; "Verify that if the input is empty, `cli ''`
  exits 1" asks for the command.
- A failure of the command itself is what is checked, no condition of running it: "If
  `pytest` fails, run `make reset`" asks for `pytest` (the remedy after it is no check).
- *flaky*, *pre-existing*, *tracked in* and *known issue* say the command is no check only
  where they describe it ("`x` is flaky", "`x` (pre-existing)", "Flaky: `x`"), not anywhere in
  the clause ("Run `pytest` to confirm the flaky test is fixed", "No regressions in
  pre-existing tests: `pytest`"); the plainer words (*unrelated to*, *out of scope*, *known
  failures*) anywhere.
- A purpose (release, deploy, rollback, reset, seed, ...) is another than a check only where
  it is what the command is for: a label the clause starts with that names no check
  ("Rollback: `x`", but not "Verify the release build: `x`", "Release build: `x` succeeds",
  "Deployment check: `x`", "Test the rollback script: `x`"), or what the command is said to
  do when it is not also said to check ("`make seed` loads fixtures", but not "`make test`
  resets the test database and runs the suite").
"""

from __future__ import annotations

import itertools
import re

from planrun import lazyre, markdown

_SPAN = lazyre.compile(r"(`+)(.+?)\1")
_MARK = lazyre.compile(r"\ue010(\d+)\ue011")
_CLAUSE_END = lazyre.compile(r"(?<=[.;!?])\s+|\s+(?:\u2014|--)\s+")  # also "A — use B"
_I = re.I

# Up to three words between a command and what its clause says of it ("`X` should no longer
# be run", "`A` and `B` must not be run"); further off, the words speak of something else.
_NEAR = r"^\W*(?:[\w']+\W+){0,3}?"

# "Do not run", "never use", "make sure not to call"; "never forget to run", "do not skip" and
# "never merge without running" ask for the command, so those words may not stand between.
_DO_NOT = (
    r"\b(?:do\s+not|don'?t|never|must\s+not|mustn't|should\s+not|shouldn't|"
    r"no\s+need\s+to|not\s+to)\s+"
    r"(?:(?!(?:forget|skip|omit|neglect|fail|miss|without)\w*\b)[\w']+\s+)"
    r"{0,2}?(?:run|use|call|execute|invoke|trigger|type|start|try|launch)\w*\b"
)
_PROHIBITED = lazyre.compile(
    _DO_NOT + r"|\b(?:avoid\w*|refrain\s+from|ask\s+before)\b"
    r"|\b(?:instead\s+of|rather\s+than)\W*$"  # of this command: "Instead of `A`, run `B`"
    r"|(?<!not\s)(?<!n't\s)(?<!never\s)\b(?:skip|leave)\b"  # "Skip `x` for now"; not "do not skip"
    r"|\b(?:never|do\s+not|don'?t|not)\W*$",
    _I,
)
_PROHIBITED_AFTER = lazyre.compile(
    _NEAR
    + r"(?P<cue>(?:\b(?:not|never)|n't)\s+(?:to\s+)?(?:be\s+)?(?:run|executed|called|invoked|used)"
    r"|(?:prod(?:uction)?\s+only|manual(?:ly)?|by\s+hand))\b",
    _I,
)

_PAST = lazyre.compile(
    r"\bno\s+longer\s+(?:need|use|run|call|require|invoke)\w*"
    r"|\b(?:we|i|it|this|they|you)\s+used\s+to\b"
    r"|\b(?:previously|formerly|originally|in\s+the\s+past)\b(?:\s+[\w']+){0,3}?\s+"
    r"(?:used|ran|run|called|invoked|needed|required|was|were|did|had)\b",
    _I,
)
_PAST_AFTER = lazyre.compile(
    _NEAR + r"(?P<cue>no\s+longer\s+(?:be\s+)?(?:needed|used|run|required|necessary|called)"
    r"|(?:is|are)\s+(?:now\s+)?(?:unnecessary|unneeded|deprecated|obsolete|retired|unused)"
    r"|(?:was|were|has\s+been|have\s+been)\s+(?:deleted|removed|dropped|retired|replaced)"
    r"|(?:is|are)\s+not\s+(?:needed|required|necessary)(?:\s+any\s*more)?)\b",
    _I,
)

# "If the schema changed, run ..." is a condition; "check if ..." and "verify that if the input
# is empty, `X` exits 1" are what a check is asked, not one. "Once ...", "after ..." only order
# the work ("Once done, run `npm test`"): no condition.
_WHETHER_VERBS = ("check", "verify", "see", "confirm", "test", "ensure", "assert", "sure")


def _not_after(verbs: tuple[str, ...]) -> str:
    return "".join(
        rf"(?<!\b{verb}{tail})" for verb in verbs for tail in (r"\s", r"\sthat\s", r"\sthat,\s")
    )


_ASKED_WHETHER = _not_after((*_WHETHER_VERBS, "and"))
# After the work is merged, approved or shipped: no check of the work as it is claimed done
# ("Once merged, …", "After deploy, …", "When ready, …"); "Once done, run `x`" is an ordering.
_LATER = (
    r"\b(?:once|after|when)\s+(?:it\s+is\s+|it's\s+|this\s+is\s+|the\s+\w+\s+(?:is|has\s+been)\s+)?"
    r"(?:merg\w*|approv\w*|deploy\w*|releas\w*|publish\w*|shipp?\w*|live|ready|in\s+production)\b"
    r"|\bthen\s+(?:deploy|release|publish|ship)\b"
)
_CONDITION = lazyre.compile(
    r"\b(?:unless|in\s+case|optional(?:ly)?|whenever|as\s+needed)\b|"
    + _LATER
    + "|"
    + _ASKED_WHETHER
    + r"\bif\b",
    _I,
)
# "Run `a` and if it fails, run `b`", "If `a` fails, run `b` to reset", "Run `a`; on failure run
# `b`", "Run `b` if `a` fails": `b` is a remedy for a failure, run only after one, and its exit
# 0 says nothing of the work. Not "verify that if the parse fails, `cli` exits 1", what a
# check is asked; "and if it fails" is a fallback though "and if the input is empty" is not.
_FAILURE = (
    r"(?:fails?|failed|failing|errors?(?:\s+out)?|breaks|crash(?:es)?|is\s+red|"
    r"(?:does\s*n'?t|did\s*n'?t|does\s+not|did\s+not)\s+(?:pass|work|succeed))\b"
)
_IF_FAILS = r"\b(?:if|when|whenever|in\s+case)\s+(?:[\w'-]+\s+){0,3}?" + _FAILURE
_ON_FAILURE = r"\b(?:on|upon|after|in\s+case\s+of)\s+(?:a\s+|an\s+)?(?:failure|error)s?\b"
_FALLBACK = lazyre.compile(
    _not_after(_WHETHER_VERBS)
    + _IF_FAILS
    + "|"
    + _ON_FAILURE
    + r"|\bshould\s+(?:it|this|that|they|CMD|(?:the|any)\s+[\w-]+)\s+"
    + _FAILURE
    + r"|\b(?:otherwise|failing\s+that|if\s+not|else)\b",
    _I,
)
# A failure a line plans for ("if it fails, run ..."), not one it says a command ends with: the
# words prose.outcome leaves out.
FAILURE_CONDITION = lazyre.compile(_IF_FAILS + "|" + _ON_FAILURE, _I)
# "Run `b` if the build fails"; not "Run `a` (if it fails, run `b`)", whose condition leads
# what follows it.
_FALLBACK_AFTER = lazyre.compile(
    r"^\W*(?P<cue>(?:only\s+)?" + _IF_FAILS.removeprefix(r"\b") + r")(?!\s*,)", _I
)
# "If `a` fails, ...": a condition on the command's own result asks for it, no condition on
# running it.
_OWN_RESULT = lazyre.compile(r"^\W*" + _FAILURE, _I)
_IF_AT_END = lazyre.compile(r"\b(?:if|when|whenever|in\s+case)\W*$", _I)

_OPTIONAL_AFTER = lazyre.compile(
    r"(?P<paren>\(\s*optional\s*\))|"
    + _NEAR
    + r"(?P<cue>optional(?:ly)?|as\s+needed|if\s+(?:needed|necessary|desired|wanted|available|"
    r"time\s+permits|you\s+(?:like|want|wish|prefer)))\b",
    _I,
)

_PURPOSES = (
    r"roll[\s-]?back|revert|undo|deploy(?:ment)?|release|publish(?:ing)?|roll[\s-]?out|"
    r"tear[\s-]?down|clean[\s-]?up|reset|seed(?:ing)?"
)
# A label that names a check is a check of that purpose: one that starts with a check's verb
# ("Verify the release build:", "Test the rollback script:") or ends with a check's noun
# ("Release build:", "Deployment check:"). "Reset test DB:" names none.
_CHECK_LABEL = (
    r"(?!\W*(?:verify|test|check|confirm|ensure|validate|make\s+sure)\b)"
    r"(?![^:]*\b(?:checks?|tests?|builds?|verification|validation|lint|smoke|dry[\s-]?run)\W*:)"
)
# "Rollback: `x`", "To deploy, run `x`", "For rollback, `x`": a label or a purpose the clause
# starts with ("Before release: `npm test`" is a check before it).
_PURPOSE = lazyre.compile(
    r"^"
    + _CHECK_LABEL
    + r"\W*(?:(?!before\b|prior\b|pre\b)[\w'-]+\s+){0,2}?(?:"
    + _PURPOSES
    + r")\b[^:]{0,20}:"
    r"|^\W*(?:in\s+order\s+)?to\s+(?:" + _PURPOSES + r")\b"
    r"|^\W*for\s+(?:a\s+|the\s+)?(?:" + _PURPOSES + r"|deploys?)\b",
    _I,
)
# "`make seed` loads fixtures": what the command does, unless the clause says it checks too
# ("`make test` resets the test database and runs the suite", "... seeds a DB and checks the
# counts"): then that purpose is how it checks.
_ALSO_CHECKS = (
    r"(?!.*(?:\band|\bthen|,)\s+(?:also\s+)?(?:runs\s+(?:the\s+|all\s+|its\s+)?(?:\w+\s+)?"
    r"(?:tests?|suites?|checks?|specs?)|checks|verifies|asserts|tests)\b)"
)
# `^` first: the look-ahead scans to the end of the clause, once (before the anchor, search
# tried it at every position of a long line: quadratic).
_PURPOSE_AFTER = lazyre.compile(
    "^"
    + _ALSO_CHECKS
    + _NEAR.removeprefix("^")
    + r"(?P<cue>publishes|deploys|releases|rolls\s+back|reverts|resets|wipes|seeds|pushes|"
    r"uploads|migrates|truncates|installs|loads\s+(?:the\s+)?(?:fixtures|seeds?|"
    r"(?:test\s+|sample\s+)?data)|(?:will|would|can|to)\s+(?:publish|deploy|release|"
    r"roll\s+back|revert|reset|wipe|seed|push|upload|truncate))\b",
    _I,
)

# Anywhere in the clause; the weaker words only where they describe the command: just after
# it, with at most a verb of being between ("`x` is flaky", "`x` (pre-existing)", "`x` is a
# known issue"), or as the label or the word just before it ("Flaky: `x`", "the flaky `x`").
# "Run `pytest` to confirm the flaky test is fixed", "`pytest` passes, including the
# pre-existing tests", "the failures tracked in #88 are now fixed" ask for the command.
_EXCLUDED_ANYWHERE = (
    r"unrelated\s+to|out\s+of\s+scope|known\s+(?:failures?|to\s+fail|flak\w*)|broken\s+since|"
    r"can\s+be\s+ignored|ignore\s+(?:it|this|that|them)|not\s+(?:part\s+of|related\s+to)\s+this"
)
_EXCLUDED_NEAR = r"flaky|pre-?existing|known\s+issues?|tracked\s+in"
_BEING = (
    r"^\W*(?:(?:is|are|was|were|has\s+been|have\s+been|seems?|remains?|still|currently|also|"
    r"always|often|sometimes|now|a|an|known|to\s+be)\W+){0,3}?"
)
_EXCLUDED = lazyre.compile(
    r"\b(?:" + _EXCLUDED_ANYWHERE + r")\b"
    r"|^\W*(?:known\s+)?(?P<cue>" + _EXCLUDED_NEAR + r")\b[^:]{0,30}:\W*$"
    r"|\b(?P<adj>flaky|pre-?existing)\W*$",
    _I,
)
_EXCLUDED_AFTER = lazyre.compile(
    r"\b(?P<far>" + _EXCLUDED_ANYWHERE + r")\b|" + _BEING + r"(?P<cue>" + _EXCLUDED_NEAR + r")\b",
    _I,
)

_EXCLUDED_NEAR_AFTER = lazyre.compile(_BEING + r"(?P<cue>" + _EXCLUDED_NEAR + r")\b", _I)
_PARENTHESES = lazyre.compile(r"\([^()]*\)")

# The groups of a cue that name its words (else the whole match does).
_NAMED = ("cue", "paren", "far", "adj")

# (what the line does with the command, the cue before it, the cue after it)
_FAMILIES: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    ("says not to run it", _PROHIBITED, _PROHIBITED_AFTER),
    ("says it is no longer used", _PAST, _PAST_AFTER),
    ("runs it only if something fails: a remedy, no check", _FALLBACK, _FALLBACK_AFTER),
    ("runs it only on a condition or as an option", _CONDITION, _OPTIONAL_AFTER),
    ("gives it another purpose than checking the work", _PURPOSE, _PURPOSE_AFTER),
    ("says it is no check of this work", _EXCLUDED, _EXCLUDED_AFTER),
)


def whys(text: str) -> list[str | None]:
    """For each code span of ``text`` in order (as ``markdown.backticked`` lists them), why
    the words around it say it is not to be run as a check (``the line says not to run it
    ('Do not run')``), or None when they ask for it or say nothing."""
    number = itertools.count()
    spans = [m.group(2) for m in _SPAN.finditer(text)]
    marked = _SPAN.sub(lambda _: f"\ue010{next(number)}\ue011", text).replace("\u2019", "'")
    out: list[str | None] = [None] * next(number)
    marked = markdown.strip_markup(marked)  # "**Rollback**:" is a label too
    for clause in _CLAUSE_END.split(marked):
        for mark in _MARK.finditer(clause):
            before = _MARK.sub(" CMD ", clause[: mark.start()])
            after = _MARK.sub(" CMD ", clause[mark.end() :])
            if _OWN_RESULT.match(after) and _IF_AT_END.search(before):
                # what follows is what to do on that failure, not said of this command
                before, after = _IF_AT_END.sub(" ", before), ""
            index = int(mark.group(1))
            ships = _ships(spans[index]) if index < len(spans) else None
            out[index] = _why(before, after) or (f"it {_SHIPS_WHY} ({ships!r})" if ships else None)
    return out


# Whatever the words say, a command that ships, changes or tears down something outside the
# work is no check: run, it publishes, pushes, deploys, deletes or rewrites history ("Once
# merged, run `npm publish`", "`cd infra && terraform destroy`", "`psql -c 'DROP TABLE t'`",
# "`git commit -m ...` succeeds"). Two ways: a word of its names (`deploy` in
# `scripts/deploy-prod.sh`, `make deploy-all`, `npx semantic-release`), not a flag
# (`cargo build --release`) nor a variable (`NODE_ENV=production`), and not in a command that
# also says it checks (`test_deploy.py`, `make deploy-check`, `kubectl rollout status`); or a
# known command of a tool. Never a dry run.
_SHIP_WORDS = frozenset(
    {
        "publish", "unpublish", "deploy", "release", "rollout", "rollback", "revert", "push",
        "destroy", "teardown", "apply", "delete", "truncate", "upload", "reset", "ship", "prod",
        "production", "dropdb", "downgrade", "flush", "flushall", "prune",
    }
)  # fmt: skip
_CHECK_WORDS = frozenset(
    {
        "check", "checks", "test", "tests", "lint", "status", "plan", "verify", "validate",
        "diff", "preview", "history", "list", "show", "describe", "logs",
    }
)  # fmt: skip
_SHIPS = lazyre.compile(
    r"\bgit\s+(?:-C\s+\S+\s+)?(?:commit|merge|rebase|cherry-pick|am|reset|clean|checkout|"
    r"switch|stash|branch\s+-[dDmM]|tag\s+(?!-l\b|--list\b)\S)"
    r"|\b(?:npm|yarn|pnpm)\s+version\b|\bgh\s+(?:pr\s+merge|release\s+create|repo\s+delete)\b"
    r"|\bdb:(?:drop|reset|seed|rollback|migrate)\b|\bdrop\s+(?:table|database|schema|index)\b"
    r"|\brm\s+-\w*[rR]\w*\s+/|\brsync\b.*\s--delete|\baws\s+s3\s+(?:rm|sync)\b"
    r"|\bdocker(?:-|\s+)compose\s+down\b.*\s-v\b|\bdocker\s+(?:system|volume|image)\s+prune\b"
    r"|\bpulumi\s+(?:up|destroy)\b|\bhelm\s+(?:upgrade|install|uninstall)\b|\bvercel\b"
    r"|\bmanage\.py\s+flush\b|\bflyway\s+clean\b|\bargocd\s+app\s+sync\b"
    r"|\bkubectl\s+(?:apply|delete|scale|drain|cordon|rollout\s+(?:restart|undo))\b"
    r"|\bterraform\s+(?:apply|destroy|import|taint)\b",
    _I,
)
_READERS = frozenset(
    {"grep", "egrep", "fgrep", "rg", "ag", "test", "[", "cat", "ls", "head", "tail", "wc", "jq",
     "yq", "find", "diff", "cmp", "stat", "file", "echo", "printf"}
)  # fmt: skip
_DRY = lazyre.compile(r"--dry-?run\b|\bdry[-_]run\b|\s--(?:check|diff)\b", _I)


def _ships(command: str) -> str | None:
    """The word or command of ``command`` that ships or tears down (:data:`_SHIPS`), or None."""
    if _DRY.search(command):
        return None
    words = command.split()
    if words and words[0].rsplit("/", 1)[-1] in _READERS and not re.search(r"[;&|`]|\$\(", command):
        return None  # `grep -q "DROP TABLE" migrations/1.sql`: its words are what it reads
    known = _SHIPS.search(command)
    if known is not None:
        return " ".join(known.group(0).split())
    words = [w.strip("'\"") for w in command.split()]
    tokens = [
        t.lower()
        for w in words
        if w and not w.startswith("-") and "=" not in w
        for t in re.split(r"[^A-Za-z0-9]+", w)
    ]
    if _CHECK_WORDS.intersection(tokens):
        return None
    return next((t for t in tokens if t in _SHIP_WORDS), None)


_SHIPS_WHY = "publishes, pushes, deploys, deletes or rewrites history: no check"


def _why(before: str, after: str) -> str | None:
    for does, before_cue, after_cue in _FAMILIES:
        if after_cue is _EXCLUDED_AFTER:
            # "Run `x` (e2e is out of scope)": a remark in parentheses is of something else,
            # unless it describes the command ("`x` (flaky)")
            found = (
                before_cue.search(before)
                or after_cue.search(_PARENTHESES.sub(" ", after))
                or _EXCLUDED_NEAR_AFTER.search(after)
            )
        else:
            found = before_cue.search(before) or after_cue.search(after)
        if found is not None:
            named = [v for k, v in found.groupdict().items() if v and k in _NAMED]
            cue = " ".join((named[0] if named else found.group(0)).strip(" \t(),.;:").split())
            cue = re.sub(r"\bCMD\b", "\u2026", cue)  # "If CMD fails": the command's place
            return f"the line {does} ({cue[:40]!r})"
    return None
