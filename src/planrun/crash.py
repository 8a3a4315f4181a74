"""The last resort: an exception nobody expected becomes one line and a crash log (exit 3).

Like pre-commit's error handler: the user sees one sentence saying where the details are, the
details (traceback, versions, command line) go to ``.planrun/crash.log`` under ROOT or the
current directory, or to a temporary file when that cannot be written. ``PLANRUN_DEBUG=1``
lets the exception through instead, for tests and debugging.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

from planrun import __version__

DEBUG_VARIABLE = "PLANRUN_DEBUG"


def debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def _details(exc: BaseException) -> str:
    lines = [
        f"planrun {__version__} crashed at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        f"python {sys.version.split()[0]} ({sys.executable}) on {platform.platform()}",
        f"command: {' '.join(sys.argv)}",
        f"cwd: {Path.cwd() if Path().is_dir() else '(gone)'}",
        "",
        *traceback.format_exception(exc),
    ]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def _write_log(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    path = folder / "crash.log"
    path.write_text(text, encoding="utf-8")
    return path


def report(exc: BaseException, root: Path | None = None) -> str:
    """Write the crash log; return the one line to show the user."""
    text = _details(exc)
    where: Path | None = None
    for folder in (root / ".planrun" if root else None, Path(".planrun")):
        if folder is None:
            continue
        try:
            where = _write_log(folder, text)
            break
        except OSError:
            continue
    if where is None:
        try:
            fd, name = tempfile.mkstemp(prefix="planrun-crash-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            where = Path(name)
        except OSError:
            sys.stderr.write(text)
            return "planrun hit an internal error (details above) — please report it"
    return f"planrun hit an internal error; details in {where} — please report it"
