"""What a task prints: the bounded tails stay the same whatever sizes the output is read in,
and a loud task's log holds every byte."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from planrun import tasklog
from planrun.procpool import Outcome, ProcessPool, Spec
from planrun.tasklog import TAIL_BYTES, LogSink


def keep_last_as_before(buf: bytearray, data: bytes) -> None:
    buf += data
    if len(buf) > 2 * TAIL_BYTES:
        del buf[:-TAIL_BYTES]


SIZES = st.lists(
    st.sampled_from([0, 1, 100, TAIL_BYTES - 1, TAIL_BYTES, TAIL_BYTES + 1, 2 * TAIL_BYTES, 10**6]),
    max_size=12,
)


@given(SIZES)
def test_the_tail_is_kept_as_before(sizes: list[int]) -> None:
    ours, before = bytearray(), bytearray()
    for n, size in enumerate(sizes):
        data = bytes([65 + n % 26]) * size
        tasklog._keep_last(ours, data)
        keep_last_as_before(before, data)
        assert ours == before


def test_a_loud_task_is_logged_whole(tmp_path: Path) -> None:
    size = 4_000_000  # fills the pipe many times over, and grows it
    script = f"head -c {size} /dev/zero | tr '\\0' x; echo end"
    sink = LogSink(tmp_path / "loud.log")
    pool = ProcessPool()
    try:
        pool.start("loud", Spec(script, tmp_path, dict(os.environ), 60.0, sink))
        done: list[tuple[object, Outcome]] = []
        while not done:
            done = list(pool.wait())
    finally:
        pool.close()
    sink.close()
    ((token, outcome),) = done
    assert (token, outcome.exit_code) == ("loud", 0)
    output = b"x" * size + b"end\n"
    assert (tmp_path / "loud.log").read_bytes() == f"$ {script}\n".encode() + output
    assert sink.command_output() == output[-TAIL_BYTES:]
