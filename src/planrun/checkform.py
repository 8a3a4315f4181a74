"""Whether a command a task names is a check: fixers in their check mode, and nothing that
changes the tree it judges or never ends.

Used for commands planrun derives from a task's text, which the plan did not write as a
verify: only commands whose purpose is to check (tests, linters, type checkers, builds,
searches) are run; installers, generators, dev servers and other actions are reported.
"""

from __future__ import annotations

import re

from planrun import lazyre
from planrun.shellsplit import parse

# Fixers that have a check mode: (pattern, replacement) applied to the command.
_FIXERS: list[tuple[re.Pattern[str], str]] = [
    (lazyre.compile(r"^(black)\b(?!.*--check)"), r"\1 --check"),
    (lazyre.compile(r"^(isort)\b(?!.*--check)"), r"\1 --check-only"),
    (lazyre.compile(r"^(ruff\s+format)\b(?!.*--check)"), r"\1 --check"),
    (lazyre.compile(r"^(cargo\s+fmt)\b(?!.*--check)"), r"\1 --check"),
    (lazyre.compile(r"^(rustfmt)\b(?!.*--check)"), r"\1 --check"),
    (lazyre.compile(r"\s--(?:fix|unsafe-fixes)\b"), ""),
    (lazyre.compile(r"\s(?:--write|-w)\b(?=.*)"), " --check"),
]
_FIXER_NAMES = lazyre.compile(r"^(?:black|isort|ruff|cargo\s+fmt|rustfmt|prettier|eslint)\b")
_MUTATES = lazyre.compile(
    r"^(?:mkdir|touch|rm|mv|cp|ln|chmod|chown|sudo|brew|apt|apt-get|curl|wget|source|\.|cd|"
    r"export|echo|cat\s*>|sed\s+-i|gofmt|go\s+fmt|autopep8|"
    r"git\s+(?:add|commit|push|pull|checkout|switch|merge|rebase|reset|init|clone|tag|stash|"
    r"mv|rm|restore|cherry-pick|fetch)|"
    r"(?:npm|pnpm|yarn|bun)\s+(?:install|i|add|init|create|ci|uninstall|remove|update|"
    r"upgrade|publish|link|run\s+(?:format|fix|lint:fix|build|dev|start|serve|watch))|"
    r"(?:npm|pnpm|yarn|bun)\s+(?:dev|start|serve|watch)|"
    r"npx\s+(?:create-|shadcn|prisma\s+(?:migrate|db\s+push|generate)|drizzle-kit\s+(?:push|"
    r"generate|migrate)|next\s+dev|vite\b(?!\s+build)|expo\s+start)|"
    r"(?:pip|pip3)\s+(?:install|uninstall)|uv\s+(?:add|remove|sync|lock|init|pip\s+install)|"
    r"poetry\s+(?:add|install|init|lock|update|remove)|"
    r"cargo\s+(?:add|new|init|install|update|publish|run|tauri\s+dev)|"
    r"go\s+(?:get|install|mod\s+(?:init|tidy))|django-admin|"
    r"python3?\s+manage\.py\s+(?:makemigrations|migrate|startapp|runserver|createsuperuser)|"
    r"alembic\s+(?:upgrade|downgrade|revision)|docker\s+(?:push|rm|run)|"
    r"docker(?:-|\s+)compose\s+up(?!.*\s-d\b)|next\s+dev|vite$|uvicorn\b(?!.*--help)|"
    r"flask\s+run|rails\s+(?:s|server)\b|php\s+artisan\s+serve|hugo\s+server)",
    re.I,
)


# Commands whose purpose is to check: tests, linters, type checkers, builds, searches. A
# command a task names for any other purpose is an action, not evidence.
_RUNNERS = (
    r"pytest|py\.test|tox|nox|mypy|pyright|ruff|flake8|pylint|black|isort|bandit|"
    r"eslint|tsc|vitest|jest|mocha|playwright\s+test|cypress\s+run|biome\s+(?:check|lint)|"
    r"prettier|stylelint|shellcheck|hadolint|actionlint|yamllint|markdownlint|"
    r"rspec|phpunit|phpstan|golangci-lint|swiftlint|ktlint|"
    r"test|\[|grep|egrep|rg|ls|wc|diff|cmp|"
    r"cargo\s+(?:test|check|clippy|build|fmt|nextest)|go\s+(?:test|vet|build)|"
    r"make\s+(?:test|check|lint|build|ci|verify|typecheck)\b|just\s+(?:test|check|lint)|"
    r"(?:npm|pnpm|yarn|bun)\s+(?:test|run\s+(?:test|lint|typecheck|type-check|check|build|"
    r"verify|ci)[\w:-]*)|"
    r"npx\s+(?:tsc|eslint|vitest|jest|prettier|playwright\s+test|biome\s+check|stylelint)|"
    r"python3?\s+-m\s+(?:pytest|mypy|unittest|compileall|ruff|black|pyright)|"
    r"node\s+--test|deno\s+(?:test|check|lint)|dotnet\s+(?:test|build)|"
    r"mvn\s+(?:test|verify|compile)|\./mvnw\s+(?:test|verify)|"
    r"(?:gradle|\./gradlew)\s+(?:test|check|build)|swift\s+(?:test|build)|"
    r"xcodebuild\b.*\b(?:test|build)\b|bundle\s+exec\s+(?:rspec|rake\s+test|rubocop)|"
    r"terraform\s+(?:validate|fmt\s+-check)|helm\s+lint|pre-commit\s+run|git\s+diff\s+"
    r"--(?:exit-code|check)"
)
_CHECKS = lazyre.compile(rf"^(?:(?:uv|poetry|pipenv|pdm|hatch)\s+run\s+)?(?:{_RUNNERS})(?:\s|$)")


# Flags that make a test runner rewrite its expected output until it passes.
_UPDATES = lazyre.compile(
    r"(?:^|\s)(?:--update-?snapshots?|--updateSnapshot|--snapshot-update|--update-goldens?|"
    r"--accept|--bless)\b"
)
_SNAPSHOT_RUNNERS = lazyre.compile(
    r"^(?:npx\s+)?(?:jest|vitest)\b|^(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test\b"
)
# Commands that only filter what a check prints, allowed inside a list or pipeline.
_FILTERS = lazyre.compile(r"^(?:tail|head|sort|uniq|cut|tr|cat|jq|awk|sed|true|echo|printf)\b")
_WRITES = lazyre.compile(r"\s-i\b|\s--in-place\b|>|\bsystem\s*\(")
# A fix flag on a command that is not a known fixer (``npm run lint -- --fix``, ``cargo
# clippy --fix``): it rewrites what it judges, and planrun knows no check mode for it.
_FIX_FLAG = lazyre.compile(
    r"(?:^|\s)--(?:fix|fix-only|unsafe-fixes|write|allow-dirty)\b|^cargo\s+fix\b"
)
_REWRITES_CODE = "it would rewrite the code it judges"
_REWRITES_EXPECTED = "it would rewrite the expected output it judges against"
# Commands that delete, discard or rewrite the work a check would judge: (pattern, what).
_DESTROYS: tuple[tuple[re.Pattern[str], str], ...] = (
    (lazyre.compile(r"^git\s+clean\b"), "deletes untracked files"),
    (lazyre.compile(r"^git\s+reset\b.*\s--(?:hard|merge|keep)\b"), "discards changes"),
    (lazyre.compile(r"^git\s+(?:checkout|restore|switch|stash)\b"), "discards or moves changes"),
    (lazyre.compile(r"^(?:sudo\s+)?(?:xargs\s+(?:-\S+\s+)*)?rm\s"), "deletes files"),
    (lazyre.compile(r"^find\b.*\s(?:-delete\b|-exec(?:dir)?\s+rm\b)"), "deletes files"),
    (lazyre.compile(r"^sed\b.*\s(?:-i\S*|--in-place)(?:\s|$)"), "rewrites files in place"),
    (lazyre.compile(r"^gofmt\b.*\s-w\b|^go\s+fmt\b"), "rewrites the code it judges"),
)
_LAUNCHER = lazyre.compile(r"^(?:(?:uv|poetry|pipenv|pdm|hatch)\s+run|npx|bunx|pnpm\s+exec)\s+")
_CHECK_MODE = lazyre.compile(r"\s--(?:check|check-only|diff)\b|^(?:prettier|eslint)\b")


def check_form(command: str) -> tuple[str | None, str]:
    """``command`` as a check: a fixer in its check mode; None (and why) for a command that
    would change the work it judges or never end. A list or pipeline is a check only when
    every command in it is one as written (``pytest && rm -rf x`` is not), judged on the bash
    syntax tree, command substitutions included."""
    command = " ".join(command.split())
    if re.search(r">(?!\s*/dev/null|&)", command.replace("2>&1", "")):
        return None, "it writes a file"
    parts = _simple_commands(command)
    if len(parts) <= 1:
        return _one(command)
    for part in parts:
        if _FILTERS.match(part) and not _WRITES.search(part):
            continue  # reads a pipe: ``pytest -q | tail -5``
        form, why = _one(part)
        if form is None:
            return None, f"`{part}` in it is not a check: {why}"
        if form != " ".join(part.split()):
            return None, _REWRITES_CODE
    return command, ""


def _one(command: str) -> tuple[str | None, str]:
    """One simple command as a check (its arguments may hold others: see check_form)."""
    command = " ".join(command.split())
    if _UPDATES.search(command) or (
        _SNAPSHOT_RUNNERS.match(command) and re.search(r"\s-u\b", command)
    ):
        return None, _REWRITES_EXPECTED
    words = command.split()
    first = words[0] if words else ""
    if any(op in command for op in (" > ", " >> ")) and "/dev/null" not in command:
        return None, "it writes a file"
    if _MUTATES.match(command) or first in ("mkdir", "touch"):
        return None, "it changes the tree or keeps running (not a check)"
    if _FIXER_NAMES.match(command):
        if any(op in command for op in ("&&", "||", ";", "|")):
            return None, _REWRITES_CODE
        fixed = command
        for pattern, replacement in _FIXERS:
            fixed = pattern.sub(replacement, fixed, count=1)
        if re.search(r"\s--check\b.*\s--check\b", fixed):
            fixed = re.sub(r"\s--check\b", "", fixed, count=1)
        if fixed.startswith("prettier") and "--check" not in fixed:
            fixed = fixed.replace("prettier", "prettier --check", 1)
        return fixed, ""
    if _FIX_FLAG.search(command):
        return None, _REWRITES_CODE
    if not _CHECKS.match(command):
        return None, "not recognisably a check (it may change the tree); write it as a verify"
    return command, ""


def destroys(script: str) -> tuple[str, str] | None:
    """The command in ``script`` that deletes or rewrites the work a check would judge
    (``git clean -fdx``, ``rm -rf build``, ``ruff check --fix``, ``black .``, ``jest -u``), and
    what it does; None for a check, or an action that leaves the work alone. Judged per simple
    command on the bash syntax tree."""
    for raw in _simple_commands(script):
        part = " ".join(raw.split())
        for pattern, what in _DESTROYS:
            if pattern.search(part) and not _scratch(part):
                return part, what
        if _UPDATES.search(part) or (_SNAPSHOT_RUNNERS.match(part) and re.search(r"\s-u\b", part)):
            return part, _REWRITES_EXPECTED.removeprefix("it ")
        if _FIX_FLAG.search(part):
            return part, _REWRITES_CODE.removeprefix("it ")
        bare = _LAUNCHER.sub("", part)
        if _FIXER_NAMES.match(bare) and not _CHECK_MODE.search(bare):
            form, _ = _one(bare)
            if form is not None and form != bare:
                return part, f"{_REWRITES_CODE.removeprefix('it ')} (its check mode is `{form}`)"
    return None


# A variable (``mktemp``'s), or the system's scratch folder (named, nothing is created there).
_SCRATCH = ("$", "/tmp/")  # noqa: S108


def _scratch(command: str) -> bool:
    """``rm -rf "$tmp"``, ``rm -f /tmp/out.json``: a check cleaning up its own scratch files
    (every operand a variable or under /tmp), not the work."""
    words = command.split()
    if not words or words[0] != "rm":
        return False
    operands = [w.strip("'\"") for w in words[1:] if not w.startswith("-")]
    return bool(operands) and all(w.startswith(_SCRATCH) for w in operands)


def _simple_commands(script: str) -> list[str]:
    """Every simple command in ``script`` (``a && b | c $(d)`` -> a, b, c, d), in order."""
    data = script.encode()
    out: list[str] = []
    stack = [parse(script)]
    while stack:
        node = stack.pop()
        if node.type == "command":
            out.append(data[node.start_byte : node.end_byte].decode(errors="replace"))
        stack.extend(reversed(node.children))
    return out
