"""A task's output: its log file, created on the first byte, and bounded tails in memory.

What a child prints is streamed to its task's log file, which is created on the first byte (a
silent task costs no file: creating one is the dearest step of a small task), and only the last
64 KiB stay in memory: the task's tail for reports, and the current command's output for the
rules that judge it. A log that cannot be written loses the full output, never the run.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import BinaryIO

TAIL_BYTES = 64 * 1024
TAIL_LINES = 200


def _keep_last(buf: bytearray, data: bytes) -> None:
    """``buf += data``, then over 2 * TAIL_BYTES keep the last TAIL_BYTES: without copying
    all of a large ``data`` into ``buf`` first."""
    if len(buf) + len(data) <= 2 * TAIL_BYTES:
        buf += data
    elif len(data) >= TAIL_BYTES:
        buf[:] = data[-TAIL_BYTES:]
    else:
        del buf[: len(buf) + len(data) - TAIL_BYTES]
        buf += data


class LogSink:
    """A task's output: the log file (created on first output) and a bounded in-memory tail.
    All commands of a task write to one sink, each announced by a ``$ command`` line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._header = b""
        self._tail = bytearray()
        self._command = bytearray()  # the current command's output, bounded like the tail
        self._watch: tuple[bytes, ...] = ()
        self._seen: set[bytes] = set()
        self._carry = b""
        self._overlap = 0
        self.written = 0
        self.error: str | None = None
        """Why the log file could not be written (a full disk, a folder that cannot be made):
        the task goes on, its tail is kept in memory and says so."""

    def begin(self, script: str, watch: tuple[bytes, ...] = ()) -> None:
        """A command begins; ``watch``: texts to look for in all it prints (see :meth:`seen`)."""
        self._header = f"$ {script}\n".encode()
        self._command = bytearray()
        self._watch = watch
        self._seen = set()
        # The output starts a line: a watched whole line ("\nok\n") may be its first.
        self._carry = b"\n" if watch else b""
        self._overlap = max((len(w) for w in watch), default=1) - 1

    def seen(self) -> frozenset[bytes]:
        """The watched texts the command begun last printed (anywhere, not only in its tail)."""
        return frozenset(self._seen)

    def _look(self, data: bytes) -> None:
        # A text may straddle two reads: the end of the last one is searched again. A text
        # found is looked for no more, and nothing once all are found.
        window = self._carry + data if self._carry else data
        found = [w for w in self._watch if w in window]
        if found:
            self._seen.update(found)
            self._watch = tuple(w for w in self._watch if w not in self._seen)
        self._carry = window[-self._overlap :] if self._overlap and self._watch else b""

    def write(self, data: bytes) -> None:
        if self._watch:
            self._look(data)
        _keep_last(self._command, data)
        if self._header:
            data, self._header = self._header + data, b""
        _keep_last(self._tail, data)
        if self.error is not None:
            return
        # A log that cannot be written (disk full, a name too long) loses the full output,
        # not the run: the command's verdict and output tail stand.
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("ab")
            self._file.write(data)
            self.written += len(data)
        except (OSError, ValueError) as exc:
            self.error = (
                f"cannot write the log {self.path}: {getattr(exc, 'strerror', None) or exc}"
            )
            self._close_quietly()

    def _close_quietly(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self.error = self.error or f"cannot write the log {self.path}: {exc.strerror}"
            self._file = None

    @property
    def exists(self) -> bool:
        return self.written > 0

    def tail(self) -> str:
        text = _bounded_tail(bytes(self._tail[-TAIL_BYTES:]), cut=len(self._tail) > TAIL_BYTES)
        return f"[planrun: {self.error}]\n{text}" if self.error else text

    def command_output(self) -> bytes:
        """The output of the command begun last, as bytes, bounded like the tail (what an
        ``expect_output`` judges)."""
        return bytes(self._command[-TAIL_BYTES:])

    def command_tail(self) -> str:
        """The last output of the command begun last (what evidence rules read)."""
        data = self._command
        return _bounded_tail(bytes(data[-TAIL_BYTES:]), cut=len(data) > TAIL_BYTES)


def _bounded_tail(data: bytes, *, cut: bool) -> str:
    text = data.decode("utf-8", errors="replace")
    if cut:
        text = text.split("\n", 1)[-1]  # drop the partial first line
    return "\n".join(text.splitlines()[-TAIL_LINES:])
