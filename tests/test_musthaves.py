"""must_haves checks: what each finds, and that nothing outside the root is ever read."""

from __future__ import annotations

from pathlib import Path

import pytest

from planrun.modelchecks import Artifact, KeyLink
from planrun.musthaves import check_artifact, check_key_link


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "backend" / "tests").mkdir(parents=True)
    (tmp_path / "backend" / "tests" / "conftest.py").write_text("import pytest\n" + "x = 1\n" * 40)
    (tmp_path / "core.py").write_text("class Base:\n    pass\n\ndef create_all():\n    ...\n")
    return tmp_path


def art(**kw: object) -> Artifact:
    return Artifact.model_validate(kw)


def link(**kw: object) -> KeyLink:
    return KeyLink.model_validate(kw)


def test_min_lines_says_what_was_found(root: Path) -> None:
    result = check_artifact(art(path="backend/tests/conftest.py", min_lines=60), root)
    assert result.ok is False
    assert result.message == "backend/tests/conftest.py has 41 lines, needs at least 60"


def test_artifact_passes_with_what_it_found(root: Path) -> None:
    result = check_artifact(
        art(path="core.py", min_lines=3, contains="class Base", exports=["Base", "create_all"]),
        root,
    )
    assert result.ok is True
    assert result.message == (
        'core.py exists, 5 lines, contains "class Base", defines Base, create_all'
    )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"path": "nope.py"}, "nope.py does not exist"),
        ({"path": "core.py", "contains": "Session"}, 'core.py does not contain "Session"'),
        ({"path": "core.py", "exports": ["Base", "drop"]}, 'core.py does not define "drop"'),
        ({"path": "backend", "min_lines": 1}, "backend is a directory, not a file"),
    ],
)
def test_artifact_failures(root: Path, kw: dict[str, object], message: str) -> None:
    result = check_artifact(art(**kw), root)
    assert (result.ok, result.message) == (False, message)


def test_absolute_and_escaping_paths_fail_unread(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("secret\n")
    absolute = check_artifact(art(path=str(outside)), root)
    assert absolute.ok is False
    assert "is an absolute path" in absolute.message
    climbing = check_artifact(art(path="../" * 8 + "etc/passwd"), root)
    assert climbing.ok is False
    assert "resolves outside the root" in climbing.message
    (root / "sneaky").symlink_to(outside)
    via_link = check_artifact(art(path="sneaky", contains="secret"), root)
    assert via_link.ok is False
    assert "resolves outside the root" in via_link.message


def test_key_link_pattern_in_from_file(root: Path) -> None:
    (root / "backend" / "tests" / "conftest.py").write_text(
        "from core import Base\n\nBase.metadata.create_all(engine, checkfirst=True)\n"
    )
    result = check_key_link(
        link(
            **{
                "from": "backend/tests/conftest.py",
                "to": "core.database.Base",
                "pattern": r"Base\.metadata\.create_all.*checkfirst",
            }
        ),
        root,
    )
    assert result.ok is True
    assert result.message.startswith(
        r"/Base\.metadata\.create_all.*checkfirst/ found in backend/tests/conftest.py:3"
    )


def test_key_link_falls_back_to_the_to_file(root: Path) -> None:
    result = check_key_link(
        link(**{"from": "backend/tests/conftest.py", "to": "core.py", "pattern": "def create_all"}),
        root,
    )
    assert result.ok is True
    assert "found in core.py:4" in result.message
    missing = check_key_link(
        link(**{"from": "backend/tests/conftest.py", "to": "core.py", "pattern": "nowhere"}),
        root,
    )
    assert missing.message == "/nowhere/ not found in backend/tests/conftest.py or core.py"


def test_key_link_without_pattern_looks_for_the_to_text(root: Path) -> None:
    ok = check_key_link(link(**{"from": "core.py", "to": "create_all"}), root)
    assert (ok.ok, ok.message) == (True, 'core.py mentions "create_all"')
    bad = check_key_link(link(**{"from": "core.py", "to": "Session"}), root)
    assert (bad.ok, bad.message) == (False, 'core.py does not mention "Session"')


def test_key_link_with_an_invalid_regex_fails_without_raising(root: Path) -> None:
    result = check_key_link(link(**{"from": "core.py", "to": "x", "pattern": "foo(("}), root)
    assert result.ok is False
    assert result.message == (
        "pattern /foo((/ is not a valid regular expression: missing ), unterminated subpattern"
    )
