"""The plan cache (plancache): a plan read again from the cache gives what reading it gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Run, run_cli
from planrun import plancache
from planrun.readers.canonical import CanonicalReader

PLAN = """\
---
planrun: 1
id: cached
tasks:
  - id: a
    verify: "grep -q 'Base\\.metadata' plan.md"
    verify: "test -e plan.md"
  - id: b
    depends_on: a
    bogus: 1
    verify: "test -e plan.md"
  - id: c
    name: no verify, so a derived check or a warning
---
# Plan
"""


@pytest.fixture
def reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A project folder with a ``.planrun/`` (so the cache is used), its own per-user key,
    and the list of files the canonical reader actually read (a cache hit reads none)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(plancache, "_SECRET", [])
    (tmp_path / ".planrun").mkdir()
    seen: list[str] = []
    real = CanonicalReader.read

    def counting(self: CanonicalReader, doc: object, diags: object) -> object:
        seen.append(doc.display)  # type: ignore[attr-defined]
        return real(self, doc, diags)  # type: ignore[arg-type]

    monkeypatch.setattr(CanonicalReader, "read", counting)
    return seen


def validate(*args: str) -> Run:
    return run_cli("validate", *args, "plan.md")


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / ".planrun" / plancache.FOLDER).glob("*.bin"))


def test_a_hit_gives_the_same_diagnostics_and_json(tmp_path: Path, reads: list[str]) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / ".planrun").rmdir()
    uncached = [validate(), validate("--json")]  # no .planrun/: no cache
    (tmp_path / ".planrun").mkdir()
    validate()
    assert len(reads) == 3
    assert len(entries(tmp_path)) == 1
    cached = [validate(), validate("--json")]
    assert len(reads) == 3  # both read from the cache
    for hit, miss in zip(cached, uncached, strict=True):
        assert (hit.exit_code, hit.stdout, hit.stderr) == (miss.exit_code, miss.stdout, miss.stderr)
    text = cached[0].output
    assert 'warning[duplicate-key] key "verify" is repeated' in text
    assert "warning[yaml-backslash]" in text
    assert 'error[unknown-key] unknown key "bogus" in tasks[1]' in text


def test_next_and_status_read_the_cache_too(tmp_path: Path, reads: list[str]) -> None:
    (tmp_path / "plan.md").write_text(PLAN.replace("    bogus: 1\n", ""))
    first = [run_cli(cmd, "--json", "plan.md").stdout for cmd in ("next", "status")]
    again = [run_cli(cmd, "--json", "plan.md").stdout for cmd in ("next", "status")]
    assert again == first
    assert reads == ["plan.md"]


def test_an_edit_is_read_again(tmp_path: Path, reads: list[str]) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN)
    validate()
    info = plan.stat()
    # Same size and mtime, other content: the content hash still tells them apart.
    plan.write_text(PLAN.replace("bogus", "bogux"))
    os.utime(plan, ns=(info.st_atime_ns, info.st_mtime_ns))
    edited = validate()
    assert reads == ["plan.md", "plan.md"]
    assert 'unknown key "bogux"' in edited.output
    assert 'unknown key "bogus"' not in edited.output
    plan.write_text(PLAN.replace("    bogus: 1\n", ""))
    fixed = validate()
    assert fixed.exit_code == 0
    assert "unknown key" not in fixed.output
    assert len(reads) == 3
    assert len(entries(tmp_path)) == 1  # the entry of a plan is replaced, not added to


def test_another_version_is_never_trusted(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    first = validate()
    monkeypatch.setattr(plancache, "_VERSIONS", ["another planrun"])
    assert validate().output == first.output
    assert reads == ["plan.md", "plan.md"]


def test_how_the_plan_is_named_is_part_of_the_key(tmp_path: Path, reads: list[str]) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    validate()
    by_folder = run_cli("validate", ".")
    forced = validate("--format", "planrun")
    assert len(reads) == 3
    assert "plan.md:10: error[unknown-key]" in by_folder.output
    assert "plan.md:10: error[unknown-key]" in forced.output


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: b"",
        lambda blob: b"not a cache entry",
        lambda blob: blob[:-7],  # cut short
        lambda blob: blob[:40] + bytes([blob[40] ^ 1]) + blob[41:],  # one bit flipped
        lambda blob: bytes(32) + blob[32:],  # not signed with this user's key
    ],
)
def test_a_damaged_or_forged_entry_is_ignored_and_rewritten(
    tmp_path: Path, reads: list[str], damage: object
) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    first = validate()
    (entry,) = entries(tmp_path)
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    again = validate()
    assert (again.exit_code, again.output) == (first.exit_code, first.output)
    assert reads == ["plan.md", "plan.md"]
    validate()
    assert reads == ["plan.md", "plan.md"]  # rewritten, then read from the cache


def test_an_unreadable_cache_folder_is_only_slower(tmp_path: Path, reads: list[str]) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / ".planrun" / plancache.FOLDER).write_text("a file where the folder goes")
    first, again = validate(), validate()
    assert again.output == first.output
    assert 'unknown key "bogus"' in first.output
    assert len(reads) == 2


def test_no_planrun_folder_no_cache(tmp_path: Path, reads: list[str]) -> None:
    (tmp_path / ".planrun").rmdir()
    (tmp_path / "plan.md").write_text(PLAN)
    validate()
    validate()
    assert len(reads) == 2
    assert not (tmp_path / ".planrun").exists()


def test_old_entries_are_pruned(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plancache, "KEEP", 2)
    for name in ("one", "two", "three"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "plan.md").write_text(PLAN)
        run_cli("validate", f"{name}/plan.md")
    assert len(entries(tmp_path)) == 2


def test_the_tests_keep_the_signing_key_out_of_the_users_cache(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Every test that reads a plan beside a .planrun/ makes the per-user key: it must land in
    # a folder of this test session, never in the real ~/.cache of whoever runs the tests.
    user_cache = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser()
    assert user_cache.resolve().is_relative_to(tmp_path_factory.getbasetemp().resolve())


def test_a_planted_symlink_never_sends_the_cache_elsewhere(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A repository may commit .planrun/plan-cache as a symlink to a folder of the user's:
    # pruning it would delete their files, and entries would be written among them.
    monkeypatch.setattr(plancache, "KEEP", 2)
    victim = tmp_path / "victim"
    victim.mkdir()
    for n in range(5):
        (victim / f"note{n}.txt").write_text("keep me")
    (tmp_path / ".planrun" / plancache.FOLDER).symlink_to(victim)
    (tmp_path / "plan.md").write_text(PLAN)
    first, again = validate(), validate()
    assert again.output == first.output
    assert len(reads) == 2  # no cache through the link
    assert sorted(p.name for p in victim.iterdir()) == [f"note{n}.txt" for n in range(5)]


def test_pruning_removes_only_entries(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plancache, "KEEP", 1)
    folder = tmp_path / ".planrun" / plancache.FOLDER
    folder.mkdir()
    (folder / "README").write_text("not an entry")
    (folder / "sub").mkdir()
    for name in ("one", "two", "three"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "plan.md").write_text(PLAN)
        run_cli("validate", f"{name}/plan.md")
    assert len(entries(tmp_path)) == 1
    assert (folder / "README").exists()
    assert (folder / "sub").is_dir()


def test_an_entry_is_read_only_from_a_regular_file_in_the_cache(
    tmp_path: Path, reads: list[str]
) -> None:
    # A committed link (to /dev/zero, /dev/stdin, a huge file) would exhaust memory or hang
    # planrun: a link is not followed, even to a valid entry.
    (tmp_path / "plan.md").write_text(PLAN)
    first = validate()
    (entry,) = entries(tmp_path)
    elsewhere = tmp_path / "elsewhere.bin"
    entry.replace(elsewhere)
    entry.symlink_to(elsewhere)
    again = validate()
    assert (again.exit_code, again.output) == (first.exit_code, first.output)
    assert reads == ["plan.md", "plan.md"]
    assert not entry.is_symlink()  # replaced by an entry of its own


def test_an_entry_larger_than_the_limit_is_not_read(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    first = validate()
    (entry,) = entries(tmp_path)
    monkeypatch.setattr(plancache, "MAX_ENTRY_BYTES", entry.stat().st_size - 1)
    assert validate().output == first.output
    assert reads == ["plan.md", "plan.md"]


def test_planruns_fingerprint_is_taken_when_it_is_imported() -> None:
    # A long-running planrun (mcp, watch) runs the code it imported: were the fingerprint of
    # its modules taken at its first plan read instead, code edited in between would store
    # the old code's results under the new code's key, and every later run would trust them.
    code = "import planrun.loader, planrun.plancache as c; print(c._VERSIONS != [])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "True\n"


def test_planrun_no_cache_turns_it_off(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plan.md").write_text(PLAN)
    monkeypatch.setenv("PLANRUN_NO_CACHE", "1")
    first, again = validate(), validate()
    assert reads == ["plan.md", "plan.md"]  # read both times
    assert entries(tmp_path) == []  # and nothing stored
    assert (first.exit_code, first.output) == (again.exit_code, again.output)
    monkeypatch.setenv("PLANRUN_NO_CACHE", "0")  # "0" (or empty) leaves it on
    validate()
    assert len(entries(tmp_path)) == 1
