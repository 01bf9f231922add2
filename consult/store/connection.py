"""Opening ``consult.db``: a read-only snapshot or a writer, waiting on a busy store, migrating,
and one write transaction at a time.

Why SQLite: one file a drafter can copy or back up, transactions that make "one return, all
or nothing" true even under ``kill -9``, and safe concurrent writers (``BEGIN IMMEDIATE``
serialises them; WAL lets readers carry on).

Read commands open the store read-only (``mode=ro``: no WAL switch, no write lock), so a
read-only copy of a workspace on a shared drive still serves the drafter, and in one read
transaction for the whole command: a synthesis, a score or a status run while an ingest
commits returns reads one snapshot, so coverage, scores and annexes of one document always
describe the same returns.

A command that finds the store locked by another (an ingest writing) waits, says so on
stderr every few seconds ("waiting for another consult command (5 s)", through
:mod:`consult.locks`), and after ``CONSULT_LOCK_TIMEOUT`` seconds (default 60) gives up with
a clear error (:mod:`consult.store.faults`); a transaction that fails is rolled back whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from consult.errors import ConsultError
from consult.locks import TIMEOUT_ENV, LockTimeout, Waiting, lock_timeout
from consult.store.faults import StoreError, is_busy, store_fault
from consult.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES, fill_respondent_dates

BUSY_SLICE = 0.5  # seconds SQLite waits for a lock before this module says it is waiting, and waits on

D = TypeVar("D", bound="Database")


class Database:
    """The connection to ``consult.db`` (``conn``), open and migrated; the queries are
    :class:`consult.store.Store`'s, which is this with them.

    ``readonly=True`` opens the file with ``mode=ro`` (no WAL switch, no lock taken for
    writing, nothing created), for the commands that only read; a store that still needs an
    upgrade is then left as it is and ``needs_upgrade`` says so (see
    :func:`consult.workspace.open_store`). A missing file reads as an empty store.
    """

    def __init__(self, path: Path, timeout: float | None = None, readonly: bool = False):
        self.path = path
        self.readonly = readonly
        self.needs_upgrade = False
        self.timeout = lock_timeout() if timeout is None else timeout
        self._snapshot = False
        clock = Waiting(str(path), self.timeout)
        while True:
            try:
                self._open()
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
            except StoreError as exc:
                if exc.kind != "busy":
                    raise
            self._wait(clock)

    def _open(self) -> None:
        path = self.path
        try:
            self.conn = self._connect(BUSY_SLICE)
            self.conn.row_factory = sqlite3.Row
            if self.readonly:
                # one read transaction for the store's whole life: every read of the command
                # sees the same snapshot, however many returns an ingest commits meanwhile
                self.conn.execute("BEGIN")
                self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                self._snapshot = True
                self._check_version()
            else:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA foreign_keys=ON")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
            self._check_tables()
        except sqlite3.Error as exc:
            self._close_quietly()
            if is_busy(exc):
                raise
            fault = store_fault(exc, path)
            if fault is None:
                raise ConsultError(f"{path}: not a usable consult store ({exc}); restore it from a backup") from exc
            raise fault from exc
        except BaseException:
            self._close_quietly()
            raise

    def _wait(self, clock: Waiting) -> None:
        """Another command holds the store: wait (saying so), or give up with a clear error."""
        try:
            clock.tick()
        except LockTimeout as exc:
            raise StoreError(
                f"{self.path} is busy: another consult command has been writing to it for {exc.waited:.0f} s. "
                f"Wait until it finishes, then run this command again ({TIMEOUT_ENV}=SECONDS waits longer).",
                "busy",
            ) from None

    def _connect(self, timeout: float) -> sqlite3.Connection:
        if not self.readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        if not self.path.exists():  # nothing ingested yet: an empty store, in memory
            conn = sqlite3.connect(":memory:", isolation_level=None)
            self.conn = conn
            self._migrate()
            return conn
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            name = getattr(exc, "sqlite_errorname", "") or ""
            if not name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY")):
                conn.close()
                raise  # busy, damaged...: never read around it as immutable
            # a WAL store in a read-only folder: SQLite cannot create the shared-memory file it
            # reads through. With no pending log the file alone is the whole store: read it as
            # immutable (no locks, no side files).
            conn.close()
            wal = self.path.with_name(self.path.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreError(
                    f"{self.path} has changes not yet folded in ({wal.name}) and its folder is read-only: "
                    "open the workspace once where it is writable (any consult command does it), then copy it again.",
                    "readonly",
                ) from None
            conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, timeout=timeout, isolation_level=None)
        return conn

    def _close_quietly(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            with suppress(sqlite3.Error):
                conn.close()

    def close(self) -> None:
        self._rollback()  # ends the read snapshot
        self.conn.close()

    def __enter__(self: D) -> D:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _version(self) -> int:
        version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer consult (schema {version}, this one reads {SCHEMA_VERSION}); "
                "upgrade consult",
                "upgrade",
            )
        return version

    def _check_version(self) -> None:
        self.needs_upgrade = self._version() < SCHEMA_VERSION

    def _check_tables(self) -> None:
        """A store whose tables were dropped is damaged: say so now, not in the middle of a command."""
        if self.needs_upgrade:
            return
        present = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        lost = [t for t in TABLES if t not in present]
        if lost:
            raise StoreError(
                f"{self.path} is missing its table(s) {', '.join(lost)}: it was damaged or edited by hand. "
                "Restore it from a backup, or ingest the returned files again into a fresh workspace.",
                "damaged",
            )

    def _migrate(self) -> None:
        with self.transaction():
            version = self._version()
            if version and version < SCHEMA_VERSION:
                present = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if not set(TABLES) <= present:
                    self._check_tables()  # raises: never upgrade a damaged store
            for target in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={target + 1}")
            if version and version < 3 <= SCHEMA_VERSION:
                fill_respondent_dates(self.conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken eagerly so concurrent writers queue instead of failing.
        A fault anywhere in it (disk full at the last insert or at commit) rolls all of it back
        and becomes a :class:`StoreError`."""
        if self._snapshot:  # a read-only store never writes: let SQLite say so
            self._snapshot = False
            self._rollback()
        clock = Waiting(str(self.path), self.timeout)
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.Error as exc:
                if not is_busy(exc):
                    self._raise_fault(exc)
            self._wait(clock)
        try:
            yield self.conn
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                fault = store_fault(exc, self.path)
                if fault is not None:
                    raise fault from exc
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            self._raise_fault(exc)

    def _raise_fault(self, exc: sqlite3.Error) -> None:
        fault = store_fault(exc, self.path)
        if fault is None:
            raise exc
        raise fault from exc

    def _rollback(self) -> None:
        """Roll back if a transaction is still open (SQLite ends some on its own, e.g. disk full)."""
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):  # the transaction already ended: nothing was committed
                self.conn.execute("ROLLBACK")


def copy_store(db: Path, target: Path) -> None:
    """A consistent copy of the store at ``db`` in ``target`` (SQLite's online backup: safe
    while others read it). A fault of SQLite is a :class:`StoreError` with SQLite's words."""
    try:
        src = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)  # "?", "#", "%" in a path
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        fault = store_fault(exc, db)
        raise StoreError(str(exc), fault.kind if fault is not None else "io") from exc
