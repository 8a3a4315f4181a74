"""Every bad input of the foundation issue: a clear message, the right exit code, no traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import PlanWriter, assert_no_traceback, run_cli


def _validate(path: Path) -> tuple[int, str]:
    run = run_cli("validate", path)
    assert_no_traceback(run)
    return run.exit_code, run.stdout


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("")
    code, out = _validate(path)
    assert code == 1
    assert f"{path}: error[empty-file] the file is empty" in out


def test_no_frontmatter(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Just notes\n\n- a list\n")
    code, out = _validate(path)
    assert code == 1
    assert (
        f"{path}:1: error[no-frontmatter] no YAML frontmatter: a plan starts with a '---' line, "
        "its YAML, and '---'" in out
    )


def test_frontmatter_is_a_list(tmp_path: Path) -> None:
    path = tmp_path / "list.md"
    path.write_text("---\n- planrun: 1\n- tasks: []\n---\n")
    code, out = _validate(path)
    assert code == 1
    assert (
        f"{path}:2: error[frontmatter-not-mapping] the frontmatter is a list, not a mapping "
        "of keys to values" in out
    )


def test_yaml_syntax_error_gives_the_line_in_the_plan_file(write_plan: PlanWriter) -> None:
    path = write_plan(
        "bad.md",
        """
        planrun: 1
        tasks:
          - id: a
            verify: [unclosed
          - id: b
        """,
    )
    code, out = _validate(path)
    assert code == 1
    # The broken flow list opens on line 5 of the file; PyYAML finds it unclosed on line 6.
    assert out.splitlines()[:2] == [
        (
            f"{path}:6: error[yaml-syntax] the YAML frontmatter does not parse: did not find "
            "expected ',' or ']', in a flow sequence that starts on line 5"
        ),
        "    hint: close the '[' of line 5 with ']', or quote its text",
    ]


def test_task_that_is_a_string(write_plan: PlanWriter) -> None:
    path = write_plan("p.md", 'planrun: 1\ntasks:\n  - "build stuff"\n')
    code, out = _validate(path)
    assert code == 1
    assert (
        f"{path}:4: error[invalid-value] tasks[0]: a task must be a mapping with at least an id, "
        'got the string "build stuff"' in out
    )


def test_depends_on_string_is_one_id_with_an_info(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: build, verify: "true"}
          - id: test
            depends_on: build
            verify: "true"
        """,
    )
    run = run_cli("validate", "--verbose", path)
    assert run.exit_code == 0
    assert (
        f'{path}:6: info[depends-on-string] task "test": depends_on is the string "build"; '
        'read as the list ["build"]' in run.stdout
    )
    waves = run_cli("waves", "--json", path)
    assert '"p/test"' in waves.stdout.split('"wave": 2')[1]


def test_duplicate_task_ids(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: a, verify: "true"}
          - {id: a, verify: "false"}
        """,
    )
    code, out = _validate(path)
    assert code == 1
    assert (
        f'{path}:5: error[duplicate-id] task id "a" is used twice in this plan (first on line 4)'
        in out
    )


def test_unknown_dependency_with_did_you_mean(write_plan: PlanWriter) -> None:
    path = write_plan(
        "fix.md",
        """
        planrun: 1
        tasks:
          - {id: build, verify: make}
          - {id: test, depends_on: [buidl], verify: make test}
        """,
    )
    code, out = _validate(path)
    assert code == 1
    assert (
        f'{path}:5: error[unknown-dependency] task "test" depends on "buidl", which does not '
        'exist (did you mean "build"?)' in out
    )


def test_self_dependency(write_plan: PlanWriter) -> None:
    path = write_plan("p.md", 'planrun: 1\ntasks:\n  - {id: a, depends_on: [a], verify: "true"}\n')
    code, out = _validate(path)
    assert code == 1
    assert f'{path}:4: error[self-dependency] task "a" depends on itself' in out


def test_three_cycle_names_the_path(write_plan: PlanWriter) -> None:
    path = write_plan(
        "p.md",
        """
        planrun: 1
        tasks:
          - {id: a, depends_on: [c], verify: "true"}
          - {id: b, depends_on: [a], verify: "true"}
          - {id: c, depends_on: [b], verify: "true"}
        """,
    )
    code, out = _validate(path)
    assert code == 1
    assert f"{path}:4: error[cycle] dependency cycle: a -> b -> c -> a" in out
    waves = run_cli("waves", path)
    assert waves.exit_code == 1
    assert "dependency cycle: a -> b -> c -> a" in waves.stderr


def test_unknown_key_with_did_you_mean(write_plan: PlanWriter) -> None:
    path = write_plan("p.md", "planrun: 1\ntasks:\n  - id: a\n    verifyy: make\n")
    code, out = _validate(path)
    assert code == 1
    assert (
        f'{path}:5: error[unknown-key] unknown key "verifyy" in tasks[0] (did you mean "verify"?)'
        in out
    )


def test_unknown_top_level_key(write_plan: PlanWriter) -> None:
    path = write_plan("p.md", "planrun: 1\ntask: []\n")
    code, out = _validate(path)
    assert code == 1
    assert f'{path}:3: error[unknown-key] unknown key "task" (did you mean "tasks"?)' in out


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    code, out = _validate(path)
    assert code == 1
    assert f"{path}: error[binary-file] binary file (it contains NUL bytes), not a plan" in out


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("---\nplanrun: 1\ntitle: caf\xe9\n---\n".encode("latin-1"))
    code, out = _validate(path)
    assert code == 1
    assert (
        f"{path}:3: error[not-utf8] not UTF-8 text: byte 0xe9 at offset 25 cannot be decoded" in out
    )


def test_missing_path_exits_2(tmp_path: Path) -> None:
    run = run_cli("validate", tmp_path / "nope")
    assert_no_traceback(run)
    assert run.exit_code == 2
    assert run.stderr == f"planrun: error: {tmp_path / 'nope'}: no such file or directory\n"


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("---\nplanrun: 1\n---\n")
    path.chmod(0)
    try:
        if _readable(path):
            pytest.skip("running as root (as CI does): chmod 0 does not stop root from reading")
        run = run_cli("validate", path)
        assert_no_traceback(run)
        assert run.exit_code == 2
        assert "cannot read" in run.stderr
    finally:
        path.chmod(0o644)


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except OSError:
        return False
    return True


def test_twenty_thousand_tasks_validate_in_seconds(tmp_path: Path) -> None:
    # Not a timing assertion (benchmarks/ measures speed): a quadratic step would take many
    # minutes here and be stopped by CI, so this guards the near-linear design. Every task
    # has a misspelled dependency, exercising the did-you-mean index on 20,000 lookups.
    lines = ["---", "planrun: 1", "tasks:"]
    for i in range(20_000):
        lines.append(f"  - id: t{i}")
        lines.append(f"    files: [src/f{i % 500}.py]")
        lines.append('    verify: "true"')
        if i:
            lines.append(f"    depends_on: [t{i - 1}, t{(i * 7) % i}x]")
    lines.append("---")
    path = tmp_path / "big.md"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    code, out = _validate(path)
    elapsed = time.perf_counter() - start
    assert code == 1
    assert out.count("error[unknown-dependency]") == 19_999
    assert 'depends on "t0x", which does not exist (did you mean "t0"?)' in out
    assert elapsed < 120, f"validate of 20k tasks took {elapsed:.0f}s: something is quadratic"


def test_a_root_that_is_not_a_folder_is_refused_before_anything_runs(
    write_plan: PlanWriter, tmp_path: Path
) -> None:
    plan = write_plan("p.md", 'planrun: 1\nid: p\ntasks:\n  - {id: a, verify: "touch ran"}\n')
    run = run_cli("execute", plan, "--root", tmp_path / "typo")
    assert run.exit_code == 2
    assert run.stderr == (
        f"planrun: error: --root {tmp_path / 'typo'}: no such folder\n"
        "    hint: give an existing folder\n"
    )
    assert not (tmp_path / "typo").exists()
    plan.write_text(plan.read_text().replace("id: p\n", "id: p\nroot: nope\n"))
    run = run_cli("execute", plan)
    assert run.exit_code == 2
    assert f"planrun: error: {plan}: root 'nope' is not a folder ({tmp_path / 'nope'})" in (
        run.stderr
    )
    assert not (tmp_path / "nope").exists()
    assert not (tmp_path / "ran").exists()


def test_a_root_named_with_a_newline_cannot_forge_a_line(write_plan: PlanWriter) -> None:
    plan = write_plan(
        "p.md", 'planrun: 1\nid: p\nroot: "x\\nPASSED: all"\ntasks:\n  - {id: a, verify: make}\n'
    )
    run = run_cli("execute", plan)
    assert run.exit_code == 2
    assert "\nPASSED" not in run.stderr
    assert f'is not a folder ("{plan.parent}/x\\nPASSED: all")' in run.stderr
