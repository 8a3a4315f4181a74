from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planrun.environment import _QUOTING, _WORD
from planrun.markdown import strip_markup
from planrun.prose import is_command
from planrun.shellsplit import _flat, one_line, split_script


def chunks(text: str) -> list[tuple[int, str]]:
    return [(c.line, c.text) for c in split_script(text, 10)]


def test_each_line_is_its_own_check() -> None:
    assert chunks("ruff check .\n\n# a comment\nmypy src/\n") == [
        (10, "ruff check ."),
        (13, "mypy src/"),
    ]


@pytest.mark.parametrize(
    "construct",
    [
        "echo one \\\n  two",
        "make build &&\n  make test",
        "ls |\n  wc -l",
        "if true; then\n  echo a\nfi",
        "for i in 1 2; do\n  echo $i\ndone",
        "while false\ndo\n  :\ndone",
        'case "$x" in\n  a) echo a;;\nesac',
        "{\n  true\n}",
        "cat <<EOF\nif this were code\nEOF",
        "echo 'an open\nquote'",
    ],
)
def test_shell_constructs_stay_whole(construct: str) -> None:
    assert chunks(construct + "\necho after") == [
        (10, construct),
        (10 + construct.count("\n") + 1, "echo after"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("uv run pytest", True),
        ("cd services/orchestrator && python -m pytest -q", True),
        ("PYTHONPATH=/x pytest tests -v", True),
        ("./scripts/check.sh", True),
        ("mytool --strict", True),
        ("Run tests twice to confirm no errors", False),
        ("All database tests pass", False),
        ("backend/tests/conftest.py", False),
        (".env.test", False),
        ("", False),
    ],
)
def test_command_or_prose(text: str, expected: bool) -> None:
    # The one rule (planrun.prose) serves every reader and derived checks alike.
    assert is_command(text) is expected


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("**Milestone 1**", "Milestone 1"),
        ("_italic_ and `code`", "italic and code"),
        ("fix test_feedback_enhanced.py", "fix test_feedback_enhanced.py"),
        ("**Fix `db_session`**", "Fix db_session"),
    ],
)
def test_strip_markup_keeps_underscores_inside_words(text: str, plain: str) -> None:
    assert strip_markup(text) == plain


def test_a_background_line_keeps_the_rest_of_the_block_together() -> None:
    text = "uvicorn app:app &\nsleep 2\ncurl -fsS localhost:8000\n"
    assert chunks("ruff check .\n" + text) == [(10, "ruff check ."), (11, text.strip())]
    assert chunks("cmd 2>&1\nnext") == [(10, "cmd 2>&1"), (11, "next")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The PRP bug: "if" inside an echo used to join the three lines into one script.
        (
            "echo checking if it builds\nfalse\ntrue",
            [(10, "echo checking if it builds"), (11, "false"), (12, "true")],
        ),
        ("if true; then echo a; fi\nfalse", [(10, "if true; then echo a; fi"), (11, "false")]),
        ('echo "<<EOF"\nfalse', [(10, 'echo "<<EOF"'), (11, "false")]),
        ("x=$(echo a\necho b)", [(10, "x=$(echo a\necho b)")]),
        ("echo a # note &&\nfalse", [(10, "echo a # note &&"), (11, "false")]),
        (
            "cat <<EOF | grep x\nif\nEOF\nfalse",
            [(10, "cat <<EOF | grep x\nif\nEOF"), (13, "false")],
        ),
        ("echo one \\\n  two\nfalse", [(10, "echo one \\\n  two"), (12, "false")]),
        ("make build &&\n  make test\nfalse", [(10, "make build &&\n  make test"), (12, "false")]),
        ("cd sub; make test\nfalse", [(10, "cd sub; make test\nfalse")]),
    ],
)
def test_the_bash_parser_finds_top_level_commands(
    text: str, expected: list[tuple[int, str]]
) -> None:
    assert chunks(text) == expected


@pytest.mark.parametrize("first", ["cd sub", "export A=1", "source env.sh", "set +e", "A=1"])
def test_a_line_that_changes_the_shell_keeps_the_rest_of_the_block_together(first: str) -> None:
    assert chunks(f"ruff check .\n{first}\nmake test\nfalse") == [
        (10, "ruff check ."),
        (11, f"{first}\nmake test\nfalse"),
    ]


def test_a_sentence_after_a_joining_line_is_not_joined_to_it() -> None:
    assert chunks("cd backend && pytest\nAll tests pass\nserver &\nThen it works") == [
        (10, "cd backend && pytest"),
        (11, "All tests pass"),
        (12, "server &"),
        (13, "Then it works"),
    ]


# What the running of a check takes as shortcuts, held to the full answer on any text.
_SHELL_TEXT = st.lists(
    st.sampled_from([*"ab $;&|()!{}<>=`'\"\\#\t\r\x0b\xa0-.", "if ", "fi", "&&", "<<E"]),
    max_size=30,
).map("".join)


@given(_SHELL_TEXT)
@settings(max_examples=300, deadline=None)
def test_one_line_is_one_chunk(line: str) -> None:
    # executor.steps asks for the failing line's number only of a script of several chunks.
    assert len(split_script(line, 1)) <= 1


@given(_SHELL_TEXT)
@settings(max_examples=300, deadline=None)
def test_the_program_of_a_line_without_quotes_is_read_as_shlex_reads_it(line: str) -> None:
    stripped = line.strip()
    if not stripped or _QUOTING.search(stripped):
        return
    assert _WORD.findall(stripped) == shlex.split(stripped, comments=True)


@given(
    st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "\r", "\u2028"]), max_size=700),
    st.sampled_from([10, 40, 60, 80]),
)
def test_one_line_of_a_long_script_is_its_start_flattened(script: str, width: int) -> None:
    # one_line flattens only the start of a long script (validate was quadratic on 5,000
    # lines): the same text as flattening all of it.
    flat = _flat(script)
    assert one_line(script, width) == (flat if len(flat) <= width else flat[: width - 3] + "...")
