"""Every diagnostic code has a test: a minimal input that produces it, with its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from planrun.diagnostics import CODES
from planrun.validate import validate_paths

# code -> (files to write {name: text}, path to validate, expected message fragment)
FM = "---\n{}\n---\n"
CASES: dict[str, tuple[dict[str, bytes | str], str, str]] = {
    "empty-file": ({"p.md": ""}, "p.md", "the file is empty"),
    "binary-file": ({"p.md": b"\x00\x01"}, "p.md", "binary file"),
    "not-utf8": ({"p.md": b"---\ntitle: caf\xe9\n"}, "p.md", "not UTF-8 text"),
    "special-file": ({}, "/dev/null", "a device, not a regular file"),
    "file-too-large": ({}, "big.md", "planrun reads plans of at most 32 MiB"),
    "no-frontmatter": ({"p.md": "# hi\n"}, "p.md", "no YAML frontmatter"),
    "not-a-plan": ({"d/readme.md": "# hi\n"}, "d", "skipped: not a plan"),
    "unrecognized-plan": ({"p.md": FM.format("title: x")}, "p.md", "no 'planrun:' key"),
    "yaml-syntax": ({"p.md": FM.format("planrun: [1")}, "p.md", "does not parse"),
    "frontmatter-not-mapping": ({"p.md": FM.format("- 1")}, "p.md", "is a list"),
    "duplicate-key": (
        {"p.md": FM.format("planrun: 1\ntitle: a\ntitle: b")},
        "p.md",
        'key "title" is repeated',
    ),
    "unknown-key": ({"p.md": FM.format("planrun: 1\ntittle: x")}, "p.md", 'did you mean "title"'),
    "missing-key": ({"p.md": FM.format("planrun: 1\ntasks:\n  - name: x")}, "p.md", '"id"'),
    "invalid-value": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a, claimed: finished}")},
        "p.md",
        "tasks[0].claimed: expected 'todo', 'in_progress', 'done' or 'blocked'",
    ),
    "depends-on-string": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - {id: a, verify: x}\n  - {id: b, depends_on: a, verify: x}"
            )
        },
        "p.md",
        'read as the list ["a"]',
    ),
    "duplicate-id": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a, verify: x}\n  - {id: a, verify: x}")},
        "p.md",
        "used twice",
    ),
    "unknown-dependency": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a, depends_on: [zz], verify: x}")},
        "p.md",
        'depends on "zz", which does not exist',
    ),
    "self-dependency": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a, depends_on: [a], verify: x}")},
        "p.md",
        "depends on itself",
    ),
    "cycle": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - {id: a, depends_on: [b], verify: x}\n"
                "  - {id: b, depends_on: [a], verify: x}"
            )
        },
        "p.md",
        "dependency cycle: a -> b -> a",
    ),
    "wave-mismatch": (
        {
            "d/a.md": FM.format("planrun: 1\ntasks:\n  - {id: t, verify: x}"),
            "d/b.md": FM.format(
                "planrun: 1\nwave: 1\ndepends_on: [a]\ntasks:\n  - {id: t, verify: x}"
            ),
        },
        "d",
        "declares wave 1, but its dependencies put it in wave 2",
    ),
    "file-conflict": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - {id: a, files: [x.py], verify: x}\n"
                "  - {id: b, files: [./x.py], verify: x}"
            )
        },
        "p.md",
        'task "b" and task "a" both touch "x.py" in wave 1',
    ),
    "unknown-milestone-task": (
        {
            "p.md": FM.format(
                "planrun: 1\nmilestones:\n  - {id: m, tasks: [b]}\ntasks:\n  - {id: a, verify: x}"
            )
        },
        "p.md",
        'milestone "m" names task "b", which does not exist',
    ),
    "invalid-regex": (
        {
            "p.md": FM.format(
                "planrun: 1\nmust_haves:\n  key_links:\n    - {from: a.py, to: b, pattern: 'foo(('}"
            )
        },
        "p.md",
        "is not a valid regular expression: missing ), unterminated subpattern",
    ),
    "path-outside-root": (
        {"p.md": FM.format("planrun: 1\nmust_haves:\n  artifacts:\n    - path: ../../etc/x")},
        "p.md",
        'artifact path "../../etc/x" is outside the root',
    ),
    "no-verify": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a}")},
        "p.md",
        "no runnable verify command",
    ),
    "root-missing": (
        {"p.md": FM.format("planrun: 1\nroot: nope\ntasks:\n  - {id: a, verify: 'make test'}")},
        "p.md",
        "root 'nope' is not a folder",
    ),
    "verify-never-fails": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a, verify: 'pytest || true'}")},
        "p.md",
        '"|| true" turns every failure into success',
    ),
    "machine-path": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a, verify: 'cd /Users/ann/x && make'}")},
        "p.md",
        'machine-specific path "/Users/ann/x"',
    ),
    "yaml-backslash": (
        {
            "p.md": FM.format(
                'planrun: 1\nmust_haves:\n  key_links:\n    - {from: a, to: b, pattern: "a\\.b"}'
            )
        },
        "p.md",
        "read as a literal backslash",
    ),
    "format": ({"p.md": FM.format("planrun: 1")}, "p.md", "read as a planrun plan"),
    "trailing-chatter": (
        {"p.md": "- [ ] a\n</content>\nAssistant: done\n"},
        "p.md",
        "looks like an agent's transcript",
    ),
    "ignored-content": (
        {"p.md": "### Task 1: a\n- **Colour**: blue\n"},
        "p.md",
        'field "colour" is not one planrun reads',
    ),
    "unread-element": (
        {"01-01-PLAN.md": '<task type="auto"><name>a</name><notes>x</notes></task>\n'},
        "01-01-PLAN.md",
        "<notes> in a task is not something planrun checks",
    ),
    "unknown-element": (
        {"01-01-PLAN.md": '<task type="auto"><verify><manual>x</manual></verify></task>\n'},
        "01-01-PLAN.md",
        "<manual> inside <verify> is not a check planrun can run",
    ),
    "malformed-task": (
        {"01-01-PLAN.md": '<task type="auto"><name>a</name>\n'},
        "01-01-PLAN.md",
        "is never closed with </task>",
    ),
    "gsd-missing-key": (
        {"p.md": FM.format("phase: 01-x\nplan: 01")},
        "p.md",
        'GSD frontmatter has no "wave"',
    ),
    "prose-verify": (
        {"01-01-PLAN.md": '<task type="auto"><verify>Check the page looks right</verify></task>\n'},
        "01-01-PLAN.md",
        "is prose, not a command",
    ),
    "unknown-status": (
        {"p.md": "### Task 1: a\n- **Status**: shipped-ish\n"},
        "p.md",
        "status 'shipped-ish' is not one planrun knows",
    ),
    "no-runnable-checks": (
        {"p.md": "- [x] one\n- [ ] two\n"},
        "p.md",
        "has nothing planrun can run",
    ),
    "claimed-done-unverified": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - {id: a, claimed: done}")},
        "p.md",
        "claimed done but has nothing to verify it",
    ),
    "verify-failure-ignored": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - id: a\n    verify: |\n"
                "      ! grep -q fail log.txt\n      echo done"
            )
        },
        "p.md",
        "bash -e ignores a failure of `! grep -q fail log.txt`",
    ),
    "key-link-pattern": (
        {
            "p.md": FM.format(
                "planrun: 1\nmust_haves:\n  key_links:\n"
                "    - {from: a.py, to: b, pattern: 'Form -> onSubmit'}"
            )
        },
        "p.md",
        'pattern "Form -> onSubmit" is prose (A -> B), not a regular expression',
    ),
    "superseded-plan": (
        {"01-01-PLAN.md": FM.format("phase: 01-x\nplan: 01\nstatus: superseded")},
        "01-01-PLAN.md",
        "status: superseded: this plan was replaced",
    ),
    "derived-checks": (
        {"p.md": "- [x] T001 Create the model in src/models/task.py\n"},
        "p.md",
        "derived 1 check from its text: src/models/task.py exists",
    ),
    "not-a-check": (
        {"p.md": "- [x] T001 Install the tools: `npm install`\n"},
        "p.md",
        "`npm install` is not used as a check: it changes the tree",
    ),
    "destructive-check": (
        {"p.md": "# Plan\n\n- [ ] T001 Tidy\n\n## Validation\n\n```bash\ngit clean -fdx\n```\n"},
        "p.md",
        "`git clean -fdx` is not run: it deletes untracked files",
    ),
    "inputs-match-nothing": (
        {
            "p.md": FM.format(
                "planrun: 1\nroot: .\ntasks:\n  - id: a\n    inputs: [nothere/*.py]\n"
                "    verify: pytest"
            )
        },
        "p.md",
        "inputs glob 'nothere/*.py' matches no file",
    ),
    "verify-grep-failure": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - id: a\n    verify: make | grep -E 'OK|FAILED'"
            )
        },
        "p.md",
        'also matches a failure ("FAILED")',
    ),
    "verify-prints-result": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - id: a\n    verify: echo \"$(f && echo 'PASS')FAIL\""
            )
        },
        "p.md",
        "prints PASS or FAIL but exits 0 either way",
    ),
    "verify-redirect-creates": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - id: a\n    verify: make > out.txt; test -f out.txt"
            )
        },
        "p.md",
        '"> out.txt" creates the file before the command runs',
    ),
    "verify-exit-status-lost": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - id: a\n    verify: '[ $? -eq 0 ]'")},
        "p.md",
        "reads $? before running anything",
    ),
    "verify-long-running": (
        {"p.md": FM.format("planrun: 1\ntasks:\n  - id: a\n    verify: npm run dev")},
        "p.md",
        '"npm run dev" starts a server or watcher that does not exit',
    ),
    "verify-status-blind": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - id: a\n    verify: curl -s localhost:8000/health"
            )
        },
        "p.md",
        "exits 0 whatever HTTP status the server answers (add `--fail`",
    ),
    "verify-skips-itself": (
        {
            "p.md": FM.format(
                "planrun: 1\ntasks:\n  - id: a\n    verify: command -v ruff || exit 0; ruff ."
            )
        },
        "p.md",
        (
            "line 1 of the script ends it with `exit 0` when `command -v ruff` fails, before "
            "the rest of the check; when it does, the task is unverified"
        ),
    ),
    "json-syntax": (
        {".taskmaster/tasks/tasks.json": '{"tasks": [\n  {"id": 1,}\n]}\n'},
        ".taskmaster/tasks/tasks.json",
        "the JSON does not parse",
    ),
    "external-dependency": (
        {
            "backlog/tasks/task-1 - A.md": FM.format("id: task-1\ntitle: A\nstatus: Done"),
            "backlog/tasks/task-2 - B.md": FM.format(
                "id: task-2\ntitle: B\nstatus: To Do\ndependencies: [task-1]"
            ),
        },
        "backlog/tasks/task-2 - B.md",
        'depends on "task-1", whose file was not loaded',
    ),
}


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_code(code: str, tmp_path: Path) -> None:
    files, target, fragment = CASES[code]
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if code == "file-too-large":
        with (tmp_path / target).open("wb") as fh:
            fh.truncate(33 * 1024 * 1024)  # sparse: nothing is written
    result = validate_paths([tmp_path / target])
    found = [d for d in result.diagnostics.items if d.code == code]
    assert found, [d.format() for d in result.diagnostics.items]
    assert any(fragment in d.message for d in found), [d.message for d in found]
    assert all(d.severity == CODES[code][0] for d in found)
