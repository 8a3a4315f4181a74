"""Recorded results under ``ROOT/.planrun/``: an SQLite database (WAL) and per-run logs.

One transaction per finished task, so a crash, ``kill -9`` or a second planrun process loses
nothing already recorded and never sees half a result. A database that cannot be read is moved
aside with a warning and a new one is started.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planrun.errors import PlanError

SCHEMA_VERSION = 2
# Results are keyed by the plan file (relative to the root) and the task's own id, so two plans
# never read each other's results, even when they share a plan id or the id changes.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    status TEXT,
    argv TEXT NOT NULL DEFAULT '[]',
    evidence TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS results (
    source TEXT NOT NULL,
    unit TEXT NOT NULL,
    task TEXT NOT NULL,
    plan TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code INTEGER,
    duration REAL,
    started REAL,
    finished REAL NOT NULL,
    digest TEXT NOT NULL,
    log TEXT,
    reason TEXT,
    run_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, unit)
);
"""


@dataclass(frozen=True)
class Record:
    task: str
    plan: str
    status: str
    exit_code: int | None
    duration: float | None
    started: float | None
    finished: float
    digest: str
    log: str | None
    reason: str | None
    run_id: str
    detail: dict[str, Any]
    source: str = ""  # the plan file (absolute when recorded; as stored when read back)
    unit: str = ""  # the task's id within its plan


@dataclass(frozen=True)
class RunRow:
    id: str
    started: float
    finished: float | None
    status: str | None
    evidence: dict[str, Any] = field(default_factory=dict)  # base, tree, environment, ...


class StateError(PlanError):
    """The state database cannot be used (not corruption: that is moved aside)."""


class _Corrupt(sqlite3.DatabaseError):
    pass


# What SQLite says of a file that is not (or no longer) a database. Anything else, such as
# SQLITE_BUSY from another planrun holding the lock, is not a reason to move a file aside.
_CORRUPT = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})


def _is_corrupt(exc: sqlite3.Error) -> bool:
    return isinstance(exc, _Corrupt) or getattr(exc, "sqlite_errorname", "") in _CORRUPT


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def state_dir(root: Path) -> Path:
    return root / ".planrun"


@contextlib.contextmanager
def locked(folder: Path, name: str) -> Iterator[None]:
    """Hold the lock file ``name`` in planrun's ``folder`` (made, with a ``.gitignore`` that
    keeps all of it out of git, if missing) exclusively while the body runs."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    with (folder / name).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class State:
    def __init__(self, root: Path, warn: Callable[[str], None]) -> None:
        self.root = root.absolute()
        self.dir = state_dir(root)
        self.path = self.dir / "state.db"
        self._warn = warn
        self._keys: dict[str, str] = {}  # source -> source_key: one per plan file, per task
        try:
            # Opening includes switching a new file to WAL and creating tables; SQLite answers
            # a second process doing the same at that moment with SQLITE_BUSY at once, without
            # waiting, so opening is serialized with a lock file. Once open, busy_timeout rules.
            with locked(self.dir, "state.lock"):
                self.conn = self._open()
        except OSError as exc:
            raise StateError(
                f"cannot create the state folder {self.dir}: {exc.strerror or exc}",
                hint="run where planrun may write, or choose another root with --root",
            ) from None

    @classmethod
    def reader(cls, root: Path) -> State | None:
        """The recorded state opened read-only (nothing created, nothing written), so
        ``status``, ``next`` and ``summary`` work on a read-only disk; None when there is no
        database, or when it cannot be read that way (then open it normally)."""
        path = state_dir(root) / "state.db"
        if not path.is_file():
            return None
        state = cls.__new__(cls)
        state.root = root.absolute()
        state.dir = path.parent
        state.path = path
        state._warn = lambda _msg: None
        state._keys = {}
        # A WAL database needs its -shm file; on a read-only folder that cannot be created,
        # so read the file as immutable (nobody can be writing to a read-only disk).
        for query in ("mode=ro", "immutable=1"):
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)
                # Results not keyed by plan file need the normal open, which sets them aside.
                conn.execute("SELECT source, unit FROM results LIMIT 1").fetchone()
                conn.execute("SELECT count(*) FROM runs").fetchone()
                newer = conn.execute("PRAGMA user_version").fetchone()[0] > SCHEMA_VERSION
                # A damaged page deeper in the file: the normal open moves it aside.
                if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                    raise _Corrupt("integrity check failed")
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
                continue
            if newer:  # the normal open says so, with its advice
                conn.close()
                return None
            state.conn = conn
            return state
        return None

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.Error as exc:
            if not _is_corrupt(exc):
                raise StateError(f"cannot open the state database {self.path}: {exc}") from None
            aside = self._aside_name()
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    src.replace(Path(str(aside) + suffix))
            self._warn(
                f"the state database {self.path} could not be read ({exc}); "
                f"moved it to {aside.name} and started a new one"
            )
            try:
                return self._connect()
            except sqlite3.Error as again:
                raise StateError(f"cannot create the state database {self.path}: {again}") from None

    def _aside_name(self) -> Path:
        """A name no earlier moved-aside database has (the lock is held: no race)."""
        stem = f"state.db.unreadable-{time.strftime('%Y%m%d-%H%M%S')}"
        for n in range(1, 10_000):
            aside = self.path.with_name(stem if n == 1 else f"{stem}-{n}")
            if not any(Path(f"{aside}{suffix}").exists() for suffix in ("", "-wal", "-shm")):
                return aside
        raise StateError(f"too many unreadable state databases beside {self.path}; remove some")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            _check_readable(conn)
            self._set_aside_unkeyed(conn)
            conn.executescript(_SCHEMA)
            _migrate(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (sqlite3.Error, StateError):
            conn.close()
            raise
        return conn

    def _set_aside_unkeyed(self, conn: sqlite3.Connection) -> None:
        """Results written before they were keyed by plan file cannot be given to a plan
        safely: keep them in a table of their own and start the results afresh."""
        columns = {row[1] for row in conn.execute("PRAGMA table_info(results)")}
        if not columns or "source" in columns:
            return
        aside = "results_v1"
        taken = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        n = 2
        while aside in taken:
            aside, n = f"results_v1_{n}", n + 1
        conn.execute(f"ALTER TABLE results RENAME TO {aside}")
        self._warn(
            f"the state database {self.path} holds results from an older planrun that do not "
            f"say which plan file they belong to; they were kept in the table {aside} and are "
            "not shown: every task is not run until it runs again"
        )

    def source_key(self, source: str) -> str:
        """A plan file as results are keyed: relative to the root when inside it."""
        key = self._keys.get(source)
        if key is None:
            path = Path(source)
            try:
                key = path.relative_to(self.root).as_posix()
            except ValueError:
                key = path.as_posix()
            self._keys[source] = key
        return key

    def close(self) -> None:
        self.conn.close()

    def start_run(self, run_id: str, argv: list[str], started: float) -> None:
        with self._tx():
            self.conn.execute(
                "INSERT INTO runs (id, started, argv) VALUES (?, ?, ?)",
                (run_id, started, json.dumps(argv)),
            )

    def finish_run(
        self, run_id: str, status: str, finished: float, evidence: dict[str, Any] | None = None
    ) -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE runs SET finished = ?, status = ?, evidence = ? WHERE id = ?",
                (finished, status, json.dumps(evidence or {}, default=str), run_id),
            )

    def record(self, rec: Record) -> None:
        """Store the latest result of one task: one small transaction."""
        with self._tx():
            self.conn.execute(
                "INSERT OR REPLACE INTO results (source, unit, task, plan, status, exit_code, "
                "duration, started, finished, digest, log, reason, run_id, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.source_key(rec.source),
                    rec.unit or rec.task,
                    rec.task,
                    rec.plan,
                    rec.status,
                    rec.exit_code,
                    rec.duration,
                    rec.started,
                    rec.finished,
                    rec.digest,
                    rec.log,
                    rec.reason,
                    rec.run_id,
                    json.dumps(rec.detail, default=str),
                ),
            )

    def results(self, wanted: dict[tuple[str, str], str]) -> dict[str, Record]:
        """The last recorded result of each unit in ``wanted``, which maps (plan file, task id
        within the plan) to the unit's full id in this run; the result is keyed by full id."""
        keys = {(self.source_key(src), unit): full for (src, unit), full in wanted.items()}
        rows = self.conn.execute(
            "SELECT task, plan, status, exit_code, duration, started, finished, digest, log, "
            "reason, run_id, detail, source, unit FROM results"
        ).fetchall()
        out: dict[str, Record] = {}
        for row in rows:
            full = keys.get((row[12], row[13]))
            if full is None:
                continue
            out[full] = Record(
                task=full,
                plan=row[1],
                status=row[2],
                exit_code=row[3],
                duration=row[4],
                started=row[5],
                finished=row[6],
                digest=row[7],
                log=row[8],
                reason=row[9],
                run_id=row[10],
                detail=json.loads(row[11]),
                source=row[12],
                unit=row[13],
            )
        return out

    def logs(self) -> list[Path]:
        """Files the output of earlier runs was redirected to (``execute > run.log``), as each
        run recorded them in its evidence (``logs``): planrun's own, never the work tested."""
        out: dict[str, None] = {}
        rows = self.conn.execute("SELECT evidence FROM runs WHERE evidence LIKE '%\"logs\"%'")
        for (text,) in rows.fetchall():
            try:
                doc = json.loads(text or "{}")
            except ValueError:
                continue
            found = doc.get("logs") if isinstance(doc, dict) else None
            if isinstance(found, list):
                out.update(dict.fromkeys(p for p in found if isinstance(p, str)))
        return [Path(p) for p in out]

    def trees_after(self, run_ids: Iterable[str]) -> dict[str, str]:
        """The work tree each of ``run_ids`` left behind (its evidence's ``tree_after``: the
        tree once its checks ended, what they wrote in it included), by run."""
        wanted = sorted(set(run_ids))
        out: dict[str, str] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on parameters
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT id, evidence FROM runs WHERE id IN ({marks})",  # noqa: S608 -- marks only
                chunk,
            )
            for run_id, text in rows.fetchall():
                try:
                    doc = json.loads(text or "{}")
                except ValueError:
                    continue
                tree = doc.get("tree_after") if isinstance(doc, dict) else None
                if isinstance(tree, str):
                    out[run_id] = tree
        return out

    def run(self, run_id: str) -> RunRow | None:
        row = self.conn.execute(
            "SELECT id, started, finished, status, evidence FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if not row:
            return None
        try:
            evidence = json.loads(row[4] or "{}")
        except ValueError:
            evidence = {}
        return RunRow(
            row[0], row[1], row[2], row[3], evidence if isinstance(evidence, dict) else {}
        )

    def _tx(self) -> _Transaction:
        return _Transaction(self.conn)


def _migrate(conn: sqlite3.Connection) -> None:
    """Add what newer planruns store to a database an older one created (old rows get the
    column's default; an older planrun ignores the column)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    if "evidence" not in columns:
        conn.execute("ALTER TABLE runs ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}'")


def _check_readable(conn: sqlite3.Connection) -> None:
    check = conn.execute("PRAGMA quick_check").fetchone()
    if check is None or check[0] != "ok":
        raise _Corrupt(f"integrity check failed: {check}")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StateError(
            f"the state database was written by a newer planrun (schema {version}); upgrade planrun"
        )


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front, so two processes queue on
    busy_timeout instead of failing with 'database is locked' halfway through."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateError(f"cannot write the state database: {exc}") from None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        except sqlite3.Error as err:
            raise StateError(f"cannot write the state database: {err}") from None
