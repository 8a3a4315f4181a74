"""A check that runs a shell script file of the project (`bash check.sh`, `./verify.sh`) is read
from the file's text with the flags its shell runs it with: a failure it goes on after, a mask
or a file that can never fail shows nothing. Real child processes; plans in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import PlanWriter
from planrun import scriptfiles
from planrun.errexit import ShellFlags
from test_evidence_gaps import run_table

FILES = {
    "goes-on.sh": 'grep -q x f.txt\necho "checks done"\n',
    "strict.sh": "set -euo pipefail\ngrep -q match f.txt\necho ok\n",
    "masked.sh": "#!/bin/bash\ngrep -q x f.txt || true\n",
    "plain.sh": "#!/usr/bin/env bash\ngrep -q match f.txt\n",
    "reports.sh": "echo running\necho done\n",
    "fails.sh": "#!/bin/sh\nset -e\ngrep -q x f.txt\necho ok\n",
    # no -e, but every check stops it, or its status is read or counted
    "exits.sh": "#!/bin/bash\ngrep -q match f.txt || exit 1\ntest -f f.txt || exit 1\necho OK\n",
    "exits-failing.sh": "#!/bin/bash\ngrep -q x f.txt || exit 1\necho OK\n",
    "if-exits.sh": "if ! grep -q match f.txt; then echo FAIL; exit 1; fi\necho OK\n",
    "tally.sh": "s=0\ngrep -q match f.txt || s=1\ntest -f f.txt || s=1\nexit $s",
    "helper.sh": 'fail() { echo "$1"; exit 1; }\ngrep -q match f.txt || fail "no match"\necho ok\n',
    "pipestatus.sh": "grep match f.txt | tee log.txt; exit ${PIPESTATUS[0]}\n",
    "err-trap.sh": "trap 'exit 1' ERR\ngrep -q match f.txt\necho ok\n",
    "own-folder.sh": 'cd "$(dirname "$0")"\ngrep -q match f.txt\n',
    "no-shebang.sh": 'grep -q x f.txt\necho "checks done"\n',
    # its own `set -e` counts: a function called in an `if` still hides a failure
    "own-e.sh": (
        "#!/usr/bin/env bash\nset -euo pipefail\nrun() { grep -q x f.txt; echo checked; }\n"
        "if run; then echo ok; else echo failed; exit 1; fi\n"
    ),
    "must-fail.sh": 'grep -q match f.txt && echo "still present" || echo clean\n',
    "status-unused.sh": 'grep -q x f.txt\nrc=$?\necho "grep returned $rc"\ntest -f f.txt\n',
    "trap-no-errtrace.sh": "trap 'exit 1' ERR\ncheck() { grep -q x f.txt; echo checked; }\ncheck\n",
    "ends-exit-0.sh": "set -euo pipefail\ngrep -q match f.txt\necho good\nexit 0\n",
    "exits-then-exit-0.sh": "grep -q match f.txt || exit 1\necho good\nexit 0\n",
    "server.sh": "set -euo pipefail\nsleep 5 &\nPID=$!\ngrep -q match f.txt\nkill $PID\n",
    "errors.sh": "errors=()\ngrep -q match f.txt || errors+=(x)\n[ ${#errors[@]} -eq 0 ]\n",
    "sh-err-trap.sh": "#!/bin/sh\ntrap 'exit 1' ERR\ngrep -q x f.txt\necho ok\n",
    "main-set-e.sh": 'main() { set -euo pipefail; grep -q match f.txt; echo ok; }\nmain "$@"\n',
    "lib.sh": "set -euo pipefail\n",
    "sources-set-e.sh": "source ./lib.sh\ngrep -q match f.txt\necho ok\n",
    "status-echoed.sh": 'grep -q x f.txt\necho "grep exit: $?"\ntest -f f.txt\n',
}
TABLE = {
    "goes-on": ("bash goes-on.sh", "unverified"),
    "strict": ("bash strict.sh", "passed"),
    "masked": ("./masked.sh", "unverified"),
    "plain": ("./plain.sh", "passed"),
    "reports": ("bash reports.sh", "unverified"),
    "fails": ("sh fails.sh", "failed"),
    # `bash -e` runs it with -e: its failure stops it
    "flag-e": ("timeout 60 bash -e goes-on.sh", "failed"),
    "exits": ("bash exits.sh", "passed"),
    "exits-failing": ("bash exits-failing.sh", "failed"),
    "if-exits": ("bash if-exits.sh", "passed"),
    "tally": ("bash tally.sh", "passed"),
    "helper": ("bash helper.sh", "passed"),
    "pipestatus": ("bash pipestatus.sh", "passed"),
    "err-trap": ("bash err-trap.sh", "passed"),
    "own-folder": ("bash own-folder.sh", "passed"),
    "no-shebang": ("./no-shebang.sh", "unverified"),
    "inline": ("bash -c 'grep -q match f.txt || exit 1; echo OK'", "passed"),
    "own-e": ("./own-e.sh", "unverified"),
    "must-fail": ("bash must-fail.sh", "unverified"),
    "status-unused": ("bash status-unused.sh", "unverified"),
    "trap-no-errtrace": ("bash trap-no-errtrace.sh", "unverified"),
    "ends-exit-0": ("bash ends-exit-0.sh", "passed"),
    "exits-then-exit-0": ("bash exits-then-exit-0.sh", "passed"),
    "server": ("bash server.sh", "passed"),
    "errors": ("bash errors.sh", "passed"),
    # what only reports after it, or passes its output on, decides nothing
    "and-echo": ("bash goes-on.sh && echo OK", "unverified"),
    "piped": ("./goes-on.sh 2>&1 | tail -5", "unverified"),
    # dash has no ERR trap: it rejects it and goes on
    "sh-err-trap": ("sh sh-err-trap.sh", "unverified"),
    "main-set-e": ("bash main-set-e.sh", "passed"),
    "sources-set-e": ("bash sources-set-e.sh", "passed"),
    "status-echoed": ("bash status-echoed.sh", "unverified"),
}


def test_a_script_file_is_read_with_its_own_shells_flags(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    _, _, found = run_table(write_plan, tmp_path, TABLE)
    assert (found["p/goes-on"][1] or "").startswith(
        "planrun cannot see whether `grep -q x f.txt` failed: inside goes-on.sh, the shell runs "
        "without -e, and a failure of `grep -q x f.txt` does not stop it (add `set -euo "
        "pipefail` at the top of goes-on.sh)"
    )
    assert (found["p/masked"][1] or "").startswith(
        "planrun cannot see whether `grep -q x f.txt` failed: the `|| true` would hide its "
        "failure inside ./masked.sh"
    )
    assert "reports.sh can never fail)" in (found["p/reports"][1] or "")


@pytest.mark.parametrize(
    ("run", "found"),
    [
        ("bash check.sh", ("check.sh", False)),
        ("bash -eo pipefail check.sh arg", ("check.sh", True)),
        ("timeout 9 sh check.sh", ("check.sh", False)),
        ("./check.sh", ("./check.sh", False)),
        ("bash -c 'grep x f'", None),  # checkrules.nested reads it
        ("bash $SCRIPT", None),  # not a literal path
        ("bash nofile.sh", None),
        ("python3 check.sh", None),
        ("bash check.sh && echo ok", ("check.sh", False)),
        ("bash check.sh && make", None),
    ],
)
def test_which_checks_run_a_script_file(
    tmp_path: Path, run: str, found: tuple[str, bool] | None
) -> None:
    (tmp_path / "check.sh").write_text("#!/bin/bash\ntest -f x\n")
    got = scriptfiles.script_file(run, tmp_path)
    if found is None:
        assert got is None
        return
    assert got is not None
    assert (got[0], got[2]) == (found[0], ShellFlags(errexit=found[1], pipefail=found[1]))


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed here")
def test_a_package_json_script_is_read_as_npm_runs_it(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    scripts = {
        "precheck2": "grep -q x f.txt",  # npm runs it first: judged by the exit status
        "check2": "echo none",
        "empty": "",
        "test": "echo no tests yet",
        "lint": "grep -q x f.txt || exit 0",
        "check": "grep -q match f.txt",
    }
    (tmp_path / "package.json").write_text(json.dumps({"name": "p", "scripts": scripts}))
    table = {
        "placeholder": ("npm test", "unverified"),
        "masked": ("npm run lint", "unverified"),
        "absent": ("npm run typecheck --if-present", "unverified"),
        "real": ("npm run check", "passed"),
        "pre-script": ("npm run check2", "failed"),
        "empty": ("npm run empty", "unverified"),
    }
    _, _, found = run_table(write_plan, tmp_path, table)
    assert "the `test` script of package.json can never fail" in (found["p/placeholder"][1] or "")
    assert "package.json has no `typecheck` script" in (found["p/absent"][1] or "")
    assert (found["p/masked"][1] or "").startswith(
        "planrun cannot see whether `grep -q x f.txt` failed:"
    )


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed here")
def test_if_present_without_any_scripts_runs_nothing(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"name": "p"}))
    table = {"no-scripts": ("npm run lint --if-present", "unverified")}
    _, _, found = run_table(write_plan, tmp_path, table)
    assert "package.json has no `lint` script" in (found["p/no-scripts"][1] or "")


@pytest.mark.parametrize(
    ("run", "found"),
    [
        ("npm test", ("test", "package.json")),
        ("cd web && npm test", ("test", "web/package.json")),
        ("(cd web && npm test)", ("test", "web/package.json")),
        ("cd web && npm ci && npm test", ("test", "web/package.json")),
        ("npm --prefix web test", ("test", "web/package.json")),
        ("npm test --prefix=web", ("test", "web/package.json")),
        ("npm -C web run lint", ("lint", "web/package.json")),
        ("cd web && npm --prefix ../api test", ("test", "web/../api/package.json")),
        ("timeout 60 npm run lint", ("lint", "package.json")),
        ("npm run lint 2>&1 | tail -20", ("lint", "package.json")),
        ("npm test && echo OK", ("test", "package.json")),
        # another check before it, a folder only the shell knows, another package manager
        ("cd web && make build && npm test", None),
        ('cd "$APP" && npm test', None),
        ("npm --prefix $APP test", None),
        ("cd web; npm test", ("test", "web/package.json")),
        ("cd web || npm test", None),
        ("npm test --workspace web", None),
        ("yarn --cwd web test", None),
    ],
)
def test_which_checks_run_a_package_json_script(
    tmp_path: Path, run: str, found: tuple[str, str] | None
) -> None:
    package = json.dumps({"scripts": {"test": "echo none", "lint": "eslint ."}})
    for folder in (tmp_path, tmp_path / "web", tmp_path / "api"):
        folder.mkdir(exist_ok=True)
        (folder / "package.json").write_text(package)
    got = scriptfiles.npm_scripts(run, tmp_path)
    assert (got if got is None else [(name, package) for name, _, package in got]) == (
        found if found is None else [found]
    )


def test_a_check_of_several_package_json_scripts_reads_each(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    for folder in (tmp_path, tmp_path / "web"):
        (folder / "package.json").write_text(json.dumps({"scripts": {"test": "x", "lint": "y"}}))
    got = scriptfiles.npm_scripts("npm run lint && npm test\ncd web\nnpm test", tmp_path)
    assert [(name, package) for name, _, package in got or []] == [
        ("lint", "package.json"),
        ("test", "package.json"),
        ("test", "web/package.json"),
    ]
    assert scriptfiles.npm_scripts("npm ci", tmp_path) is None  # nothing it runs checks


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed here")
def test_a_package_json_script_in_another_folder_is_read_too(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    (tmp_path / "web").mkdir()
    scripts = {
        "test": "echo no tests yet",
        "lint": "grep -q x ../f.txt || exit 0",
        "verify": "npm run lint && npm test",
    }
    (tmp_path / "web" / "package.json").write_text(json.dumps({"scripts": scripts}))
    table = {
        "cd": ("cd web && npm test", "unverified"),
        "subshell": ("(cd web && npm test)", "unverified"),
        "prefix": ("npm --prefix web test", "unverified"),
        "masked": ("cd web && npm run lint", "unverified"),
        "no-folder": ("cd app && npm test", "failed"),
        "several": ("cd web && npm run lint && npm test", "unverified"),
        "lines": ("cd web\nnpm run lint\nnpm test", "unverified"),
        "aggregate": ("cd web && npm run verify", "unverified"),
        "wrapped": ("cd web && timeout 60 npm run lint 2>&1 | tail -5", "unverified"),
    }
    _, _, found = run_table(write_plan, tmp_path, table)
    assert "the `test` script of web/package.json can never fail" in (found["p/cd"][1] or "")
    assert "inside the `lint` script of web/package.json" in (found["p/masked"][1] or "")


def test_a_fifo_or_a_nested_package_json_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.sh")  # opening it to read would block planrun
    assert scriptfiles.script_file("bash fifo.sh", tmp_path) is None
    deep = '{"scripts": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (tmp_path / "package.json").write_text(deep)
    assert scriptfiles.npm_scripts("npm test", tmp_path) is None


MAKEFILE = """.PHONY: lint check real npm-test
lint:
\tgrep -q x f.txt || true
test:
\t@echo "no tests yet"
check:
\t-grep -q x f.txt
\t@echo done
real:
\tgrep -q match f.txt
npm-test:
\tnpm test
after-real: real
tidy-then-check:
\t-rm -rf .pytest_cache
\t-docker compose down
\t-mkdir -p reports
\tgrep -q match f.txt
empty:
vars:
\tgrep -q x $(FILE)
"""


@pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("npm") is None,
    reason="make and npm are needed here",
)
def test_a_make_recipe_is_read_as_make_runs_it(write_plan: PlanWriter, tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text(MAKEFILE)
    (tmp_path / "test").mkdir()  # and `test` is not .PHONY: make finds it up to date
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": "echo none"}}))
    table = {
        "masked": ("make lint", "unverified"),
        "up-to-date": ("make test", "unverified"),
        "ignored": ("make check", "unverified"),
        "real": ("make real", "passed"),
        # a cleanup whose failure make ignores checks nothing either way
        "cleanup-first": ("make tidy-then-check", "passed"),
        "nested": ("make npm-test", "unverified"),
        # prerequisites, make's own variables: judged by the exit status
        "prerequisites": ("make after-real", "passed"),
        "variables": ("make vars FILE=f.txt", "failed"),
        "no-recipe": ("make empty", "unverified"),
    }
    _, _, found = run_table(write_plan, tmp_path, table)
    assert (
        "`test` is there and not .PHONY in Makefile: make finds it up to date and runs nothing"
        in (found["p/up-to-date"][1] or "")
    )
    assert (found["p/ignored"][1] or "").startswith(
        "planrun cannot see whether `grep -q x f.txt` failed: make ignores its failure (the `-` "
        "before it in the `check` recipe of Makefile)"
    )
    assert "Makefile has no recipe for `empty`" in (found["p/no-recipe"][1] or "")


@pytest.mark.parametrize(
    ("makefile", "up_to_date"),
    [
        ("t:\n\techo a\n", True),
        (".PHONY: t\nt:\n\techo a\n", False),
        (".PHONY : t\nt:\n\techo a\n", False),
        (".PHONY: a \\\n\tt\nt:\n\techo a\n", False),
        ("P = t\n.PHONY: $(P)\nt:\n\techo a\n", False),
    ],
)
def test_a_target_named_like_a_folder_is_up_to_date_unless_phony(
    tmp_path: Path, makefile: str, up_to_date: bool
) -> None:
    (tmp_path / "Makefile").write_text(makefile)
    (tmp_path / "t").mkdir()
    found = scriptfiles.make_recipe("make t", tmp_path)
    assert found is not None
    assert found[3] is up_to_date


@pytest.mark.parametrize(
    ("makefile", "run", "read"),
    [
        ("t:\n\techo a\n", "make t", True),
        ("t:\n\techo a\n", "make -C sub t", False),  # no sub/Makefile
        ("include x.mk\nt:\n\techo a\n", "make t", False),
        (".ONESHELL:\nt:\n\techo a\n", "make t", False),
        ("t: ; echo a\n", "make t", False),
        ("t:\n\techo a \\\n\tb\n", "make t", False),
        ("t:\n\techo a\nt:\n\techo b\n", "make t", False),
        ("t:\n\techo a\n", "make t u", False),
        ("t:\n\techo a\n", "make X=1 t", False),
        ("t:\nifeq ($(CI),true)\n\techo a\nendif\n", "make t", False),
    ],
)
def test_which_make_checks_are_read(tmp_path: Path, makefile: str, run: str, read: bool) -> None:
    (tmp_path / "Makefile").write_text(makefile)
    assert (scriptfiles.make_recipe(run, tmp_path) is not None) == read


FED = {
    "goes-on": ("bash <<'EOF'\ngrep -q x f.txt\necho done\nEOF", "unverified"),
    "masked": ("bash <<'EOF'\ngrep -q x f.txt || true\nEOF", "unverified"),
    "reports": ("bash <<'EOF'\necho checking\nEOF", "unverified"),
    "with-e": ("bash -e <<'EOF'\ngrep -q x f.txt\necho done\nEOF", "failed"),
    "decides": ("bash <<'EOF'\ngrep -q match f.txt\nEOF", "passed"),
}


def test_a_shell_reading_its_script_from_a_here_document_is_read_with_its_flags(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    _, _, found = run_table(write_plan, tmp_path, FED)
    assert (found["p/goes-on"][1] or "").startswith(
        "planrun cannot see whether `grep -q x f.txt` failed: inside the script `bash` reads "
        "from its input, the shell runs without -e"
    )
