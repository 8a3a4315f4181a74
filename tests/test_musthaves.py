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


@pytest.mark.parametrize(
    "source", ["Makefile", "Dockerfile", "Procfile", "schema.prisma", "App.svelte", ".gitignore"]
)
def test_a_key_link_from_a_missing_file_without_a_folder_fails(root: Path, source: str) -> None:
    # The declared file has the pattern: searched as if `from` were a symbol, it would pass.
    (root / "build.sh").write_text("build:\n\techo build\n")
    found = link(**{"from": source, "to": "build.sh", "pattern": "build:"})
    result = check_key_link(found, root, declared=["build.sh"])
    assert (result.ok, result.message) == (False, f"{source} does not exist")


def test_a_key_link_from_a_file_without_a_folder_reads_that_file(root: Path) -> None:
    (root / "Makefile").write_text("build:\n\tsh build.sh\n")
    (root / "schema.prisma").write_text("model User {\n  id Int @id\n}\n")
    make = check_key_link(link(**{"from": "Makefile", "to": "build.sh", "pattern": "build:"}), root)
    assert (make.ok, make.message) == (True, "/build:/ found in Makefile:1: build:")
    prisma = link(**{"from": "schema.prisma", "to": "User", "pattern": r"model User \{"})
    assert check_key_link(prisma, root).message == (
        r"/model User \{/ found in schema.prisma:1: model User {"
    )


@pytest.mark.parametrize(
    "symbol", ["useAuth", "AuthService", "StreamingExporter.open()", "Store.getUser"]
)
def test_a_key_link_from_a_symbol_still_searches_the_declared_files(
    root: Path, symbol: str
) -> None:
    result = check_key_link(
        link(**{"from": symbol, "to": "Base", "pattern": "def create_all"}),
        root,
        declared=["core.py"],
    )
    assert (result.ok, result.message) == (
        True,
        "/def create_all/ found in core.py:4: def create_all",
    )


def test_exports_with_edges_that_are_not_word_characters(root: Path) -> None:
    (root / "auth.ts").write_text(
        "export function useAuth(token: string) {}\nexport const $store = 1;\n"
        "export const useSession = () => null;\n"
    )
    names = ["useAuth()", "$store", "useSession()"]
    found = check_artifact(art(path="auth.ts", exports=names), root)
    assert (found.ok, found.message) == (
        True,
        "auth.ts exists, defines useAuth(), $store, useSession()",
    )
    # A whole name still: not inside a longer one.
    (root / "other.ts").write_text("export const $stores = [];\nuseAuthority();\n")
    missing = check_artifact(art(path="other.ts", exports=["$store", "useAuth()"]), root)
    assert missing.message == 'other.ts does not define "$store", "useAuth()"'


def test_a_byte_order_mark_is_not_part_of_the_text(root: Path) -> None:
    (root / "bom.ts").write_bytes(b"\xef\xbb\xbfexport function bom() {}\n")
    result = check_key_link(
        link(**{"from": "bom.ts", "to": "x", "pattern": "^export function bom"}), root
    )
    assert (result.ok, result.message) == (
        True,
        "/^export function bom/ found in bom.ts:1: export function bom",
    )
    found = check_artifact(art(path="bom.ts", contains="export", exports=["bom"]), root)
    assert (found.ok, found.message) == (True, 'bom.ts exists, contains "export", defines bom')


def test_contains_over_lines_is_found_in_a_crlf_file(root: Path) -> None:
    (root / "crlf.ts").write_bytes(b"export function login() {}\r\nexport function logout() {}\r\n")
    wanted = "login() {}\nexport function logout"
    found = check_artifact(art(path="crlf.ts", contains=wanted), root)
    assert (found.ok, found.message) == (True, f'crlf.ts exists, contains "{wanted}"')
    other = check_artifact(art(path="crlf.ts", contains="logout() {}\nexport"), root)
    assert (other.ok, other.message) == (False, 'crlf.ts does not contain "logout() {}\nexport"')
