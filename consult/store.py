"""The workspace store: ``consult.db`` (SQLite, WAL) holding returns, answers and respondents.

Why SQLite: one file a drafter can copy or back up, transactions that make "one return, all
or nothing" true even under ``kill -9``, and safe concurrent writers (``BEGIN IMMEDIATE``
serialises them; WAL lets readers carry on). Personal data of respondents lives in its own
table, ``respondents``, which nothing but :meth:`Store.respondent` reads, so no report can
leak it by joining the wrong table.

Read commands open the store read-only (``mode=ro``: no WAL switch, no write lock), so a
read-only copy of a workspace on a shared drive still serves the drafter, and in one read
transaction for the whole command: a synthesis, a score or a status run while an ingest
commits returns reads one snapshot, so coverage, scores and annexes of one document always
describe the same returns.

A command that finds the store locked by another (an ingest writing) waits, says so on
stderr every few seconds ("waiting for another consult command (5 s)", through
:mod:`consult.locks`), and after ``CONSULT_LOCK_TIMEOUT`` seconds (default 60) gives up with
a clear error. Every SQLite fault
(disk full, read-only file, damaged page, dropped table, busy) becomes a :class:`StoreError`
that says what happened and what to do; a transaction that fails is rolled back whole.

Which return of an institution is current is decided by date, not by arrival: the date the
respondent gave (the answer whose role is ``completion_date``), then the workbook's own saved
time, then ingest order (:func:`compare_returns`).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from consult.errors import ConsultError, Finding
from consult.locks import TIMEOUT_ENV, LockTimeout, Waiting, lock_timeout
from consult.types import CURRENT_STATUSES, Channel, QuestionType, ReturnStatus

SCHEMA_VERSION = 5
TABLES = ("returns", "answers", "respondents")

MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema
    """
    CREATE TABLE returns (
        id INTEGER PRIMARY KEY,
        file_name TEXT NOT NULL,
        source_path TEXT,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        country TEXT,
        institution TEXT,
        questionnaire_id TEXT,
        questionnaire_version TEXT,
        definition_hash TEXT,
        round TEXT,
        generated_at TEXT,
        received_at TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('accepted', 'incomplete', 'rejected', 'superseded')),
        superseded_by INTEGER REFERENCES returns(id),
        errors TEXT NOT NULL DEFAULT '[]',
        warnings TEXT NOT NULL DEFAULT '[]',
        missing TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX returns_sha256 ON returns(sha256);
    CREATE INDEX returns_current ON returns(country, institution, status);
    CREATE TABLE answers (
        return_id INTEGER NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,
        section TEXT,
        area TEXT,
        component TEXT,
        type TEXT NOT NULL,
        value TEXT NOT NULL,
        raw TEXT,
        sheet TEXT,
        cell TEXT,
        PRIMARY KEY (return_id, item_id)
    );
    CREATE TABLE respondents (
        return_id INTEGER PRIMARY KEY REFERENCES returns(id) ON DELETE CASCADE,
        data TEXT NOT NULL
    );
    """,
    # 1 -> 2: answers carry their question id and role (roles are declared in the YAML); the
    # question id of an existing answer is its item id without the area prefix and component
    # suffix; roles of existing answers are filled by Store.fill_roles from the definitions
    """
    ALTER TABLE answers ADD COLUMN question_id TEXT;
    ALTER TABLE answers ADD COLUMN role TEXT;
    UPDATE answers SET question_id = CASE
        WHEN area IS NULL THEN item_id
        WHEN component IS NULL THEN substr(item_id, length(area) + 2)
        ELSE substr(item_id, length(area) + 2, length(item_id) - length(component) - 1)
    END;
    CREATE INDEX answers_role ON answers(role);
    """,
    # 2 -> 3: what decides which return is current: the respondent's date (from the answer
    # whose role is completion_date; Store.fill_respondent_dates fills it for older returns)
    # and the workbook's saved time (unknown for returns stored before: ingest order decides)
    """
    ALTER TABLE returns ADD COLUMN respondent_date TEXT;
    ALTER TABLE returns ADD COLUMN saved_at TEXT;
    """,
    # 3 -> 4: what ``consult feedback`` wrote for an institution (the workbook sent back with its
    # problems marked), so that status and the history of returns can say "feedback sent"
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        written_at TEXT NOT NULL,
        return_id INTEGER NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
        country TEXT NOT NULL,
        institution TEXT NOT NULL,
        path TEXT NOT NULL,
        problems INTEGER NOT NULL
    );
    CREATE INDEX feedback_return ON feedback(return_id);
    """,
    # 4 -> 5: the channel a return came by as a column of its own; before, it was only folded into
    # the stored name of a web submission (``kobo:<id>``, ``odk:<id>``), which stays as it is
    """
    ALTER TABLE returns ADD COLUMN channel TEXT NOT NULL DEFAULT 'excel';
    UPDATE returns SET channel = CASE
        WHEN file_name LIKE 'kobo:%' THEN 'kobo'
        WHEN file_name LIKE 'odk:%' THEN 'odk'
        ELSE 'excel'
    END;
    """,
]

CURRENT: tuple[ReturnStatus, ...] = CURRENT_STATUSES
BUSY_SLICE = 0.5  # seconds SQLite waits for a lock before this module says it is waiting, and waits on


class StoreError(ConsultError):
    """``consult.db`` cannot be used as asked; the message says what happened and what to do.
    ``kind`` names the fault (full, readonly, damaged, busy, io, upgrade) for callers and tests."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def store_fault(exc: sqlite3.Error, path: Path | str) -> StoreError | None:
    """The clear error for an SQLite fault of the environment or the file, or None when the
    error is ours (bad SQL: a bug, which must stay a bug)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return StoreError(
            f"the disk holding {path} is full (or the store reached its size limit): nothing of this "
            "step was stored. Free some disk space, then run the command again.",
            "full",
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM")) or "readonly database" in text:
        return StoreError(
            f"{path} is read-only: nothing was stored. Make the file and its folder writable "
            "(e.g. chmod u+w), or work in a writable copy of the workspace.",
            "readonly",
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return StoreError(
            f"{path} is damaged ({text}): nothing was changed. Restore it from a backup, or ingest "
            "the returned files again into a fresh workspace.",
            "damaged",
        )
    if text.startswith(("no such table", "no such column")):
        return StoreError(
            f"{path} is missing part of its structure ({text}): it was damaged or edited by hand. "
            "Restore it from a backup, or ingest the returned files again into a fresh workspace.",
            "damaged",
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return StoreError(
            f"{path} is busy: another consult command is writing to it. Wait until it finishes, then run "
            "this command again.",
            "busy",
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return StoreError(
            f"{path} cannot be opened ({text}): check that the file and its folder exist and that you may "
            "read them (and write them, for ingest).",
            "readonly",
        )
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return StoreError(
            f"reading or writing {path} failed ({text}): nothing of this step was stored. Check the disk "
            "(space, permissions, a removed drive), then run the command again.",
            "io",
        )
    return None


def _busy(exc: sqlite3.Error) -> bool:
    """Another connection holds a lock this one needs (SQLite waited BUSY_SLICE already)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(exc)


F = TypeVar("F", bound=Callable[..., Any])


def _faults(method: F) -> F:
    """Turn SQLite faults of a :class:`Store` method into a :class:`StoreError`."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            fault = store_fault(exc, self.path)
            if fault is None:
                raise
            raise fault from exc

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Recency:
    """What says how new a return is: the respondent's date, the workbook's saved time (ISO,
    UTC) and the store id (ingest order)."""

    id: int
    respondent_date: str | None = None
    saved_at: str | None = None


def compare_returns(a: Recency, b: Recency) -> tuple[int, str]:
    """(1 if ``a`` is newer than ``b`` else -1, why in words). The respondent's date decides when
    both have one and they differ; then the saved time when both have one; then ingest order."""
    if a.respondent_date and b.respondent_date and a.respondent_date != b.respondent_date:
        sign = 1 if a.respondent_date > b.respondent_date else -1
        return sign, f"completed {a.respondent_date} {'after' if sign > 0 else 'before'} {b.respondent_date}"
    if a.saved_at and b.saved_at and a.saved_at != b.saved_at:
        sign = 1 if a.saved_at > b.saved_at else -1
        return sign, f"saved {_short(a.saved_at)} {'after' if sign > 0 else 'before'} {_short(b.saved_at)}"
    sign = 1 if a.id > b.id else -1
    same = "same completion date" if a.respondent_date and a.respondent_date == b.respondent_date else "no dates"
    return sign, f"{same}: received {'after' if sign > 0 else 'before'} #{b.id}"


def _newer(a: Recency, b: Recency) -> int:
    return compare_returns(a, b)[0]


NEWNESS = functools.cmp_to_key(_newer)  # sort key: the newest return is the largest


def explain(rows: Iterable[ReturnRow], lang: str = "en") -> dict[int, str]:
    """Why each return counts or not, in words, from what the store keeps: a superseded one
    names the newer return and the date that decided; a current one that replaced others
    says why it is the newest; a rejected one gives its first error (in ``lang``)."""
    by_id = {r.id: r for r in rows}
    replaced: dict[int, list[ReturnRow]] = {}  # current id -> the returns it superseded (one pass: linear)
    for r in by_id.values():
        if r.superseded_by is not None:
            replaced.setdefault(r.superseded_by, []).append(r)
    why: dict[int, str] = {}
    for r in by_id.values():
        newer = by_id.get(r.superseded_by or 0)
        if r.status == "superseded" and newer is not None:
            why[r.id] = f"#{newer.id} is newer: {compare_returns(newer.recency, r.recency)[1]}"
        elif r.status == "rejected" and r.errors:
            why[r.id] = r.errors[0].message_in(lang)
    for r in by_id.values():
        restored = next((w for w in r.warnings if w.code == "restored"), None)
        if r.status in CURRENT and restored is not None:
            why[r.id] = restored.message_in(lang) or "restored by hand"
            continue
        older = replaced.get(r.id, [])
        if r.status in CURRENT and older:
            latest = max(older, key=lambda o: NEWNESS(o.recency))
            why[r.id] = f"newest of {len(older) + 1}: {compare_returns(r.recency, latest.recency)[1]}"
    return why


def _short(saved_at: str) -> str:
    return saved_at.replace("T", " ")[:16] + " UTC"


@dataclass
class ReturnRow:
    """A return as stored (never with personal data)."""

    id: int
    file_name: str
    sha256: str
    size: int
    country: str | None
    institution: str | None
    questionnaire_id: str | None
    questionnaire_version: str | None
    definition_hash: str | None
    round: str | None
    generated_at: str | None
    received_at: str
    status: ReturnStatus
    superseded_by: int | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)
    respondent_date: str | None = None
    saved_at: str | None = None
    channel: Channel = "excel"

    @property
    def recency(self) -> Recency:
        return Recency(self.id, self.respondent_date, self.saved_at)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """As JSON data: the findings as :meth:`Finding.to_dict` writes them (as stored: in English;
        with ``lang``, their words in that language)."""
        data = dict(self.__dict__)
        for key in ("errors", "warnings", "missing"):
            data[key] = [f.to_dict(lang) for f in data[key]]
        return data


@dataclass
class FeedbackRow:
    """One feedback workbook written for an institution about one of its returns."""

    id: int
    written_at: str
    return_id: int
    country: str
    institution: str
    path: str
    problems: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AnswerRow:
    return_id: int
    item_id: str
    section: str | None
    area: str | None
    component: str | None
    type: QuestionType
    value: Any
    raw: str | None
    sheet: str | None
    cell: str | None
    question_id: str | None = None
    role: str | None = None


def _json_value(text: str) -> Any:
    """A stored answer value: JSON text. Most are short strings without escapes ("5", "na"),
    read without the JSON parser; the rest (lists, numbers, escaped text) by it."""
    if len(text) > 1 and text[0] == '"' and text[-1] == '"' and "\\" not in text and '"' not in text[1:-1]:
        return text[1:-1]
    return json.loads(text)


_RETURN_COLS = (
    "id, file_name, sha256, size, country, institution, questionnaire_id, questionnaire_version, "
    "definition_hash, round, generated_at, received_at, status, superseded_by, errors, warnings, missing, "
    "respondent_date, saved_at, channel"
)


def _return_row(row: sqlite3.Row) -> ReturnRow:
    data = dict(row)
    for key in ("errors", "warnings", "missing"):
        data[key] = [Finding.from_dict(f) for f in json.loads(data[key])]
    return ReturnRow(**data)


def _findings_json(findings: Iterable[Finding]) -> str:
    """Findings as stored in a return's errors, warnings or missing column."""
    return json.dumps([f.to_dict() for f in findings], ensure_ascii=False)


class Store:
    """All access to ``consult.db``; callers never write SQL.

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
                if not _busy(exc):
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
            if _busy(exc):
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

    def __enter__(self) -> Store:
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
                self._fill_respondent_dates(self.conn)

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
                if not _busy(exc):
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

    # --- writes --------------------------------------------------------------------------
    @_faults
    def find_sha(self, conn: sqlite3.Connection, sha256: str) -> ReturnRow | None:
        row = conn.execute(
            f"SELECT {_RETURN_COLS} FROM returns WHERE sha256 = ? ORDER BY id DESC LIMIT 1", (sha256,)
        ).fetchone()
        return _return_row(row) if row else None

    @_faults
    def insert_return(
        self,
        conn: sqlite3.Connection,
        fields: dict[str, Any],
        answers: Iterable[dict[str, Any]] = (),
        respondent: dict[str, Any] | None = None,
    ) -> tuple[int, list[int]]:
        """Insert a return with its answers. A current one (accepted or incomplete) supersedes the
        current return of the same round, country and institution when it is newer by
        :func:`compare_returns`; when it is older it is stored as superseded by that one (kept,
        never counted). Returns (new id, superseded ids); :meth:`get` tells the new status.
        ``fields`` hold the errors, warnings and missing answers as :class:`Finding` objects
        (or their :meth:`Finding.to_dict` data); ``channel`` defaults to "excel"."""
        data = dict(fields)
        for key in ("errors", "warnings", "missing"):
            data[key] = json.dumps(
                [f.to_dict() if isinstance(f, Finding) else f for f in data.get(key) or []], ensure_ascii=False
            )
        cols = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        cur = conn.execute(f"INSERT INTO returns ({cols}) VALUES ({marks})", tuple(data.values()))
        rid = int(cur.lastrowid or 0)
        superseded: list[int] = []
        if fields["status"] in CURRENT:
            mine = Recency(rid, fields.get("respondent_date"), fields.get("saved_at"))
            others = [
                Recency(r[0], r[1], r[2])
                for r in conn.execute(
                    "SELECT id, respondent_date, saved_at FROM returns WHERE country = ? AND institution = ? "
                    "AND round = ? AND status IN ('accepted', 'incomplete') AND id != ?",
                    (fields["country"], fields["institution"], fields["round"], rid),
                )
            ]
            newest = max(others, key=NEWNESS, default=None)
            if newest is not None and compare_returns(mine, newest)[0] < 0:
                # an older file arriving later: kept, but the newer one stays current
                conn.execute(
                    "UPDATE returns SET status = 'superseded', superseded_by = ? WHERE id = ?", (newest.id, rid)
                )
                others = [o for o in others if o.id != newest.id]
                current = newest.id
            else:
                current = rid
            superseded = [o.id for o in others]
            conn.executemany(
                "UPDATE returns SET status = 'superseded', superseded_by = ? WHERE id = ?",
                [(current, old) for old in superseded],
            )
            conn.executemany(
                "INSERT INTO answers (return_id, item_id, section, area, component, type, value, raw, "
                "sheet, cell, question_id, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        rid,
                        a["item_id"],
                        a.get("section"),
                        a.get("area"),
                        a.get("component"),
                        a["type"],
                        json.dumps(a["value"], ensure_ascii=False),
                        a.get("raw"),
                        a.get("sheet"),
                        a.get("cell"),
                        a.get("question_id"),
                        a.get("role"),
                    )
                    for a in answers
                ],
            )
            if respondent:
                conn.execute(
                    "INSERT INTO respondents (return_id, data) VALUES (?, ?)",
                    (rid, json.dumps(respondent, ensure_ascii=False)),
                )
        return rid, superseded

    # --- reads ---------------------------------------------------------------------------
    def answer_counts(self, conn: sqlite3.Connection, return_ids: Iterable[int]) -> dict[int, int]:
        """How many answers each return holds (to notice a resent return with fewer answers)."""
        ids = list(return_ids)
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = conn.execute(
            f"SELECT return_id, COUNT(*) FROM answers WHERE return_id IN ({marks}) GROUP BY return_id", ids
        )
        counts = dict.fromkeys(ids, 0)
        counts.update({int(r[0]): int(r[1]) for r in rows})
        return counts

    @_faults
    def restore(self, return_id: int, note: Finding) -> list[int]:
        """Make an earlier version current again (a resent return that lost answers, say); the
        return that was current is kept, superseded by it. ``note`` (a finding) is added to
        its warnings so that ``consult returns`` says why it counts. Returns the ids it replaced."""
        with self.transaction() as conn:
            row = self.find_id(conn, return_id)
            if row is None:
                raise ConsultError(f"there is no return #{return_id}; 'consult returns' lists them")
            if row.status != "superseded":
                raise ConsultError(f"return #{return_id} is {row.status}: only a superseded version can be restored")
            status = "incomplete" if row.missing else "accepted"
            replaced = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM returns WHERE country = ? AND institution = ? AND round = ? "
                    "AND status IN ('accepted', 'incomplete')",
                    (row.country, row.institution, row.round),
                )
            ]
            conn.executemany(
                "UPDATE returns SET status = 'superseded', superseded_by = ? WHERE id = ?",
                [(return_id, old) for old in replaced],
            )
            warnings = [w for w in row.warnings if w.code != "restored"] + [note]
            conn.execute(
                "UPDATE returns SET status = ?, superseded_by = NULL, warnings = ? WHERE id = ?",
                (status, _findings_json(warnings), return_id),
            )
            return replaced

    def set_warnings(self, conn: sqlite3.Connection, return_id: int, warnings: Iterable[Finding]) -> None:
        """Replace the warnings of a return (inside the caller's transaction)."""
        conn.execute("UPDATE returns SET warnings = ? WHERE id = ?", (_findings_json(warnings), return_id))

    def current_by_name(self, conn: sqlite3.Connection, file_name: str) -> tuple[int, str | None] | None:
        """(id, saved time) of the newest current return stored under ``file_name`` (a web
        submission keeps its name, ``kobo:<id>``, across edits), or None."""
        row = conn.execute(
            "SELECT id, saved_at FROM returns WHERE file_name = ? AND status IN ('accepted', 'incomplete') "
            "ORDER BY id DESC LIMIT 1",
            (file_name,),
        ).fetchone()
        return (int(row[0]), row[1]) if row else None

    def withdraw(self, conn: sqlite3.Connection, file_name: str, rid: int, saved_at: str | None) -> list[int]:
        """Supersede by ``rid`` the other current returns stored under ``file_name`` (earlier
        versions of one web submission), except those saved after ``saved_at`` (a later edit
        stands). Returns their ids."""
        older = [
            int(r[0])
            for r in conn.execute(
                "SELECT id, saved_at FROM returns WHERE file_name = ? AND status IN ('accepted', 'incomplete') "
                "AND id != ?",
                (file_name, rid),
            )
            if not (r[1] and saved_at and r[1] > saved_at)
        ]
        conn.executemany(
            "UPDATE returns SET status = 'superseded', superseded_by = ? WHERE id = ?", [(rid, o) for o in older]
        )
        return older

    @_faults
    def stored_sha256(self) -> set[str]:
        """The sha256 of every file stored with a verdict other than rejected."""
        return {sha for (sha,) in self.conn.execute("SELECT sha256 FROM returns WHERE status != 'rejected'")}

    def find_id(self, conn: sqlite3.Connection, return_id: int) -> ReturnRow | None:
        row = conn.execute(f"SELECT {_RETURN_COLS} FROM returns WHERE id = ?", (return_id,)).fetchone()
        return _return_row(row) if row else None

    @_faults
    def get(self, return_id: int) -> ReturnRow | None:
        row = self.conn.execute(f"SELECT {_RETURN_COLS} FROM returns WHERE id = ?", (return_id,)).fetchone()
        return _return_row(row) if row else None

    @_faults
    def returns(
        self, current_only: bool = False, countries: Iterable[str] | None = None, round_id: str | None = None
    ) -> list[ReturnRow]:
        sql = f"SELECT {_RETURN_COLS} FROM returns WHERE 1=1"
        args: list[Any] = []
        if current_only:
            sql += " AND status IN ('accepted', 'incomplete')"
        if round_id is not None:
            sql += " AND round = ?"
            args.append(round_id)
        codes = list(countries or [])
        if codes:
            sql += f" AND country IN ({', '.join('?' for _ in codes)})"
            args += codes
        sql += " ORDER BY id"
        return [_return_row(r) for r in self.conn.execute(sql, args)]

    @_faults
    def answers(self, return_ids: Iterable[int]) -> list[AnswerRow]:
        ids = list(return_ids)
        out: list[AnswerRow] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.conn.execute(
                "SELECT return_id, item_id, section, area, component, type, value, raw, sheet, cell, question_id, role "
                f"FROM answers WHERE return_id IN ({', '.join('?' for _ in chunk)}) "
                "ORDER BY return_id, rowid",
                chunk,
            )
            # positional, not by name: a round's answers are tens of thousands of rows, loaded
            # by every score and synthesis; '' as role is "no role", stored so that it is not
            # looked up again
            out += [
                AnswerRow(r[0], r[1], r[2], r[3], r[4], r[5], _json_value(r[6]), r[7], r[8], r[9], r[10], r[11] or None)
                for r in rows
            ]
        return out

    @_faults
    def roles_missing(self) -> list[tuple[int, str, str | None, str | None, str | None, str]]:
        """(return id, item id, definition hash, country, institution, question id) of stored
        answers whose role was never filled: those of a store made before roles existed."""
        rows = self.conn.execute(
            "SELECT a.return_id, a.item_id, r.definition_hash, r.country, r.institution, a.question_id "
            "FROM answers a JOIN returns r ON r.id = a.return_id WHERE a.role IS NULL"
        ).fetchall()
        return [tuple(r) for r in rows]

    @_faults
    def fill_roles(self, roles: Iterable[tuple[str, int, str]]) -> int:
        """Set the role of stored answers: ``(role or '', return id, item id)``; one transaction."""
        with self.transaction() as conn:
            cur = conn.executemany("UPDATE answers SET role = ? WHERE return_id = ? AND item_id = ?", list(roles))
            return cur.rowcount

    @_faults
    def fill_respondent_dates(self) -> int:
        """Set the respondent's date of returns stored before it was kept (from their answer
        whose role is ``completion_date``); one transaction."""
        with self.transaction() as conn:
            return self._fill_respondent_dates(conn)

    @staticmethod
    def _fill_respondent_dates(conn: sqlite3.Connection) -> int:
        cur = conn.execute(
            "UPDATE returns SET respondent_date = (SELECT json_extract(a.value, '$') FROM answers a "
            "WHERE a.return_id = returns.id AND a.role = 'completion_date' LIMIT 1) "
            "WHERE respondent_date IS NULL AND EXISTS (SELECT 1 FROM answers a WHERE a.return_id = returns.id "
            "AND a.role = 'completion_date')"
        )
        return cur.rowcount

    @_faults
    def source_path(self, return_id: int) -> str | None:
        """Where the file of a return was read from at ingest (as it was named then)."""
        row = self.conn.execute("SELECT source_path FROM returns WHERE id = ?", (return_id,)).fetchone()
        return row[0] if row else None

    @_faults
    def record_feedback(
        self, written_at: str, return_id: int, country: str, institution: str, path: str, problems: int
    ) -> int:
        """Remember that a feedback workbook was written; one transaction."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO feedback (written_at, return_id, country, institution, path, problems) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (written_at, return_id, country, institution, path, problems),
            )
            return int(cur.lastrowid or 0)

    @_faults
    def feedback(self, countries: Iterable[str] | None = None) -> list[FeedbackRow]:
        """Every feedback written, oldest first."""
        sql = "SELECT id, written_at, return_id, country, institution, path, problems FROM feedback"
        codes = list(countries or [])
        if codes:
            sql += f" WHERE country IN ({', '.join('?' for _ in codes)})"
        return [FeedbackRow(**dict(r)) for r in self.conn.execute(sql + " ORDER BY id", codes)]

    @_faults
    def respondent(self, return_id: int) -> dict[str, Any] | None:
        """Personal data of one return. Only for follow-up by the organisers; never in outputs."""
        row = self.conn.execute("SELECT data FROM respondents WHERE return_id = ?", (return_id,)).fetchone()
        return json.loads(row[0]) if row else None

    @_faults
    def integrity_ok(self) -> bool:
        return bool(self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
