"""Start-up stays lean: the everyday commands do not import what they do not use.

jinja2 is for SUMMARY.md, networkx for cycle paths, the MCP SDK for `planrun mcp`, watchfiles
for `execute --watch`, rich for a live terminal display. Each command runs in a fresh
interpreter, which then lists the modules it loaded (an import at module level anywhere on the
path would show up here).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("jinja2", "networkx", "mcp", "watchfiles", "rich")

CHILD = """
import json, sys
from planrun.cli import main

sys.argv = ["planrun", *sys.argv[1:]]
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
print("\\nIMPORTS " + json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

PLAN = """\
---
planrun: 1
id: lean
tasks:
  - id: a
    verify: "test -f plan.md"
  - id: b
    depends_on: [a]
    verify: "test -f plan.md"
---
"""


def loaded(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    line = proc.stderr.rsplit("\nIMPORTS ", 1)[1]
    found = json.loads(line)
    return found["code"], set(found["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ("next", "--json", "plan.md"),
        ("validate", "plan.md"),
        ("status", "plan.md"),
        ("execute", "plan.md", "-q", "--no-summary"),
    ],
)
def test_everyday_commands_skip_heavy_imports(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    code, modules = loaded(tmp_path, *args)
    assert code == 0
    assert "planrun.validate" in modules  # the command really loaded the plan
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


def test_validate_does_not_load_the_state(tmp_path: Path) -> None:
    # Only commands that read or record results need the state database (sqlite3).
    (tmp_path / "plan.md").write_text(PLAN)
    code, modules = loaded(tmp_path, "validate", "plan.md")
    assert code == 0
    assert {"planrun.state", "sqlite3"} & modules == set()


def test_a_cycle_still_gets_its_path(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text(
        PLAN.replace("  - id: a\n", "  - id: a\n    depends_on: [b]\n")
    )
    code, modules = loaded(tmp_path, "validate", "plan.md")
    assert code == 1
    assert "networkx" in modules  # imported where it is needed: the path of the cycle


def test_every_reader_is_registered_under_its_own_name() -> None:
    from planrun.readers import READERS

    assert [READERS[name].name for name in READERS] == list(READERS)


@pytest.mark.parametrize("args", [("next", "--json", "plan.md"), ("status", "plan.md")])
def test_a_canonical_plan_named_alone_loads_only_its_reader(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    # The other formats' parsers (and what only they use) are imported when a file needs them.
    (tmp_path / "plan.md").write_text(PLAN)
    code, modules = loaded(tmp_path, *args)
    assert code == 0
    readers = {m for m in modules if m.startswith("planrun.readers.")}
    assert readers <= {"planrun.readers.canonical", "planrun.readers.common"}
    # Nor do they import what only running commands needs.
    running = {"planrun.executor", "planrun.procpool", "planrun.evidence", "planrun.scheduler"}
    assert running & modules == set()


def test_a_folder_scan_still_knows_every_format(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "plan.md").write_text(PLAN)
    (tmp_path / "plans" / "notes.md").write_text("# Notes\n\n- [ ] `pytest -q` passes\n")
    code, modules = loaded(tmp_path, "validate", "plans")
    assert code == 0
    assert "planrun.readers.checklist" in modules


@pytest.mark.parametrize("args", [("next", "--json", "plan.md"), ("status", "plan.md")])
def test_a_cached_canonical_plan_is_neither_parsed_nor_derived(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    # From the plan cache nothing parses YAML or markdown, and a canonical plan derives and
    # holds nothing: PyYAML, the prose rules and the bash parser stay unloaded.
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / ".planrun").mkdir()
    first, modules = loaded(tmp_path, *args)
    assert first == 0
    assert "yaml" in modules  # the first read parses the plan (and fills the cache)
    code, modules = loaded(tmp_path, *args)
    assert code == 0
    assert "planrun.validate" in modules
    skipped = {
        "yaml",
        "frontmatter",
        "tree_sitter",
        "planrun.yamlio",
        "planrun.markdown",
        "planrun.prose",
        "planrun.unasked",
        "planrun.checkform",
        "planrun.shellsplit",
    }
    assert skipped & modules == set()
