"""The plan cache: a canonical plan file's parse and validation, kept under ``.planrun/``.

Reading a canonical plan (YAML with line numbers, then the pydantic models) is a pure function
of the file's text, where it is and how it was named. Once a ``.planrun/`` folder exists (the
first ``execute`` makes it) beside the plan's default ROOT (its git work tree, else the current
directory), that result is stored in ``.planrun/plan-cache/`` and reused while nothing it
depends on changed: the file's path, size, mtime and content hash, how it was named (display,
explicit, ``--format``), the current directory, and planrun's version *and* source files
(size and mtime of every module), Python's, PyYAML's and pydantic's versions.

Only what is pure is stored: the diagnostics the frontmatter and the reader produced and the
plan before derivation. What depends on anything else (a reader's skip rules, derived checks,
lints, the graph) still runs every time. An entry is signed with a per-user key kept outside
the project (``$XDG_CACHE_HOME/planrun/cache.key``): a ``.planrun/`` committed to a repository
cannot make planrun load a plan it did not parse (or run code: entries are pickles). A missing,
unreadable, unsigned, corrupt or stale entry is ignored and rewritten; the cache never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import pickle
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import pydantic

from planrun import __version__
from planrun.diagnostics import Diagnostic
from planrun.document import MAX_PLAN_BYTES, Document, read_regular
from planrun.model import Plan
from planrun.roots import git_work_tree

FOLDER = "plan-cache"
KEEP = 256
MAX_ENTRY_BYTES = 8 * MAX_PLAN_BYTES
_FORMAT = b"planrun-plan-cache-1\n"
_DIGEST = hashlib.sha256().digest_size


@dataclass
class Entry:
    """What reading one canonical file produced, in the order the loader produced it."""

    head: list[Diagnostic]  # duplicate keys, literal backslashes (before the skip rules)
    tail: list[Diagnostic]  # the format line, then what the reader reported
    plan: Plan | None  # before derivation; None when the reader found errors


class Slot:
    """Where the entry of one document is (one file for each place a plan is read from, so
    an edited plan replaces its entry), and the key it must carry to be trusted."""

    def __init__(self, path: Path, key: bytes, secret: bytes) -> None:
        self.path = path
        self._key = key
        self._secret = secret

    def get(self) -> Entry | None:
        blob = _read_entry(self.path)
        if blob is None:
            return None
        sig, payload = blob[:_DIGEST], blob[_DIGEST:]
        if not hmac.compare_digest(sig, _sign(self._secret, payload)):
            return None
        if not payload.startswith(_FORMAT + self._key + b"\n"):
            return None
        try:
            entry = pickle.loads(payload[len(_FORMAT) + len(self._key) + 1 :])  # noqa: S301
        except Exception:  # noqa: BLE001 - a cache that does not load is a miss
            return None
        if not isinstance(entry, Entry) or not isinstance(entry.plan, Plan | None):
            return None
        return entry

    def put(self, entry: Entry) -> None:
        """Store ``entry`` (pickled now: the loader goes on to change the plan)."""
        try:
            payload = _FORMAT + self._key + b"\n" + pickle.dumps(entry, protocol=5)
            folder = self.path.parent
            folder.mkdir(exist_ok=True)
            tmp = folder / f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(_sign(self._secret, payload) + payload)
                tmp.replace(self.path)
            except BaseException:
                tmp.unlink()
                raise
            _prune(folder)
        except Exception:  # noqa: BLE001 - a cache that cannot be written is only slower
            return


def slot(doc: Document, *, explicit: bool, forced: str | None) -> Slot | None:
    """The cache slot of ``doc``, or None when there is no cache to use (no ``.planrun/``
    folder yet, no per-user key, a file that cannot be looked at, or ``PLANRUN_NO_CACHE``
    set to anything but ``0`` or nothing)."""
    if os.environ.get("PLANRUN_NO_CACHE", "0") not in ("", "0"):
        return None
    try:
        folder = (git_work_tree(doc.path.absolute().parent) or Path.cwd()) / ".planrun"
        if not folder.is_dir() or (folder / FOLDER).is_symlink():
            return None  # a linked plan-cache (planted by a repository) would write elsewhere
        secret = _secret()
        if secret is None:
            return None
        info = doc.path.stat()
        place = repr((str(doc.path.absolute()), doc.display, explicit, forced, str(Path.cwd())))
        content = hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).hexdigest()
        versions = _versions()
        if not versions:
            return None  # planrun's own modules could not be looked at
        key = repr((versions, place, info.st_size, info.st_mtime_ns, content))
    except (OSError, ValueError):
        return None
    name = hashlib.sha256(place.encode("utf-8", "backslashreplace")).hexdigest()[:40]
    return Slot(folder / FOLDER / f"{name}.bin", key.encode("utf-8", "backslashreplace"), secret)


def _read_entry(path: Path) -> bytes | None:
    """The bytes of an entry: a regular file, not a link (a repository may commit one to
    /dev/zero or a FIFO, which would exhaust memory or hang), at most MAX_ENTRY_BYTES."""
    return read_regular(path, MAX_ENTRY_BYTES, follow_links=False)


def _prune(folder: Path) -> None:
    """Keep the newest KEEP entries (plans read from many places, such as temporary folders,
    would otherwise pile up). Only entries: never another file or a link."""
    with os.scandir(folder) as found:
        entries = [e for e in found if e.name.endswith(".bin") and e.is_file(follow_symlinks=False)]
    if len(entries) <= KEEP:
        return
    entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns)
    for old in entries[: len(entries) - KEEP]:
        Path(old.path).unlink(missing_ok=True)


def _sign(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


_SECRET: list[bytes | None] = []


def _secret() -> bytes | None:
    """This user's signing key, made once (mode 0600) in planrun's user cache folder."""
    if _SECRET:
        return _SECRET[0]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~").expanduser() / ".cache")
    path = Path(base) / "planrun" / "cache.key"
    secret: bytes | None = None
    try:
        secret = path.read_bytes()
    except OSError:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(os.urandom(32))
            secret = path.read_bytes()
        except OSError:
            secret = None
    if secret is not None and len(secret) < 32:
        secret = None
    _SECRET.append(secret)
    return secret


_VERSIONS: list[str] = []


def _versions() -> str:
    """planrun's version and the size and mtime of each of its modules (an edited checkout
    is another version), and the versions of what parses and validates a plan; "" when the
    modules cannot be looked at. Taken once, when this module is imported (below): a
    long-running planrun (mcp, watch) runs the code it imported, not what is on disk later."""
    if not _VERSIONS:
        try:
            _VERSIONS.append(_fingerprint())
        except OSError:
            _VERSIONS.append("")
    return _VERSIONS[0]


def _fingerprint() -> str:
    files = []
    folders = [str(Path(__file__).parent)]
    while folders:
        with os.scandir(folders.pop()) as found:
            for entry in found:
                if entry.name.endswith(".py"):
                    info = entry.stat()
                    files.append(f"{entry.path}:{info.st_size}:{info.st_mtime_ns}")
                elif entry.is_dir() and not entry.name.startswith((".", "__")):
                    folders.append(entry.path)
    files.sort()
    text = "|".join((__version__, sys.version, _pyyaml(), pydantic.VERSION, *files))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _pyyaml() -> str:
    """Where PyYAML is and the size and mtime of its files, which change with its version:
    looked at, not imported (a plan from the cache is never parsed, so `next` and `status`
    on one skip importing PyYAML)."""
    spec = importlib.util.find_spec("yaml")
    if spec is None or not spec.submodule_search_locations:
        raise OSError("PyYAML is not importable")
    parts = []
    for folder in spec.submodule_search_locations:
        with os.scandir(folder) as found:
            for entry in found:
                if entry.is_file():
                    info = entry.stat()
                    parts.append(f"{entry.path}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(sorted(parts))


_versions()
