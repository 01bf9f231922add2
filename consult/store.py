"""The workspace store: ``consult.db`` (SQLite, WAL) holding returns, answers and respondents.

Why SQLite: one file a drafter can copy or back up, transactions that make "one return, all
or nothing" true even under ``kill -9``, and safe concurrent writers (``BEGIN IMMEDIATE``
serialises them; WAL lets readers carry on). Personal data of respondents lives in its own
table, ``respondents``, which nothing but :meth:`Store.respondent` reads, so no report can
leak it by joining the wrong table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consult.errors import ConsultError

SCHEMA_VERSION = 2

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
]

CURRENT = ("accepted", "incomplete")


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
    status: str
    superseded_by: int | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AnswerRow:
    return_id: int
    item_id: str
    section: str | None
    area: str | None
    component: str | None
    type: str
    value: Any
    raw: str | None
    sheet: str | None
    cell: str | None
    question_id: str | None = None
    role: str | None = None


_RETURN_COLS = (
    "id, file_name, sha256, size, country, institution, questionnaire_id, questionnaire_version, "
    "definition_hash, round, generated_at, received_at, status, superseded_by, errors, warnings, missing"
)


def _return_row(row: sqlite3.Row) -> ReturnRow:
    data = dict(row)
    for key in ("errors", "warnings", "missing"):
        data[key] = json.loads(data[key])
    return ReturnRow(**data)


class Store:
    """All access to ``consult.db``; callers never write SQL."""

    def __init__(self, path: Path, timeout: float = 60.0):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise ConsultError(f"{path}: not a usable consult store ({exc}); restore it from a backup") from exc

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self.transaction():
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConsultError(f"{self.path} was written by a newer consult (schema {version}); upgrade consult")
            for target in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={target + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken eagerly so concurrent writers queue instead of failing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # --- writes --------------------------------------------------------------------------
    def find_sha(self, conn: sqlite3.Connection, sha256: str) -> ReturnRow | None:
        row = conn.execute(
            f"SELECT {_RETURN_COLS} FROM returns WHERE sha256 = ? ORDER BY id DESC LIMIT 1", (sha256,)
        ).fetchone()
        return _return_row(row) if row else None

    def insert_return(
        self,
        conn: sqlite3.Connection,
        fields: dict[str, Any],
        answers: Iterable[dict[str, Any]] = (),
        respondent: dict[str, Any] | None = None,
    ) -> tuple[int, list[int]]:
        """Insert a return with its answers; a current one supersedes earlier current returns
        of the same round, country and institution. Returns (new id, superseded ids)."""
        data = dict(fields)
        for key in ("errors", "warnings", "missing"):
            data[key] = json.dumps(data.get(key) or [], ensure_ascii=False)
        cols = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        cur = conn.execute(f"INSERT INTO returns ({cols}) VALUES ({marks})", tuple(data.values()))
        rid = int(cur.lastrowid or 0)
        superseded: list[int] = []
        if fields["status"] in CURRENT:
            superseded = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM returns WHERE country = ? AND institution = ? AND round = ? "
                    "AND status IN ('accepted', 'incomplete') AND id != ?",
                    (fields["country"], fields["institution"], fields["round"], rid),
                )
            ]
            conn.executemany(
                "UPDATE returns SET status = 'superseded', superseded_by = ? WHERE id = ?",
                [(rid, old) for old in superseded],
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
            for r in rows:
                d = dict(r)
                d["value"] = json.loads(d["value"])
                d["role"] = d["role"] or None  # '' is "no role", stored so that it is not looked up again
                out.append(AnswerRow(**d))
        return out

    def roles_missing(self) -> list[tuple[int, str, str | None, str | None, str | None, str]]:
        """(return id, item id, definition hash, country, institution, question id) of stored
        answers whose role was never filled: those of a store made before roles existed."""
        rows = self.conn.execute(
            "SELECT a.return_id, a.item_id, r.definition_hash, r.country, r.institution, a.question_id "
            "FROM answers a JOIN returns r ON r.id = a.return_id WHERE a.role IS NULL"
        ).fetchall()
        return [tuple(r) for r in rows]

    def fill_roles(self, roles: Iterable[tuple[str, int, str]]) -> int:
        """Set the role of stored answers: ``(role or '', return id, item id)``; one transaction."""
        with self.transaction() as conn:
            cur = conn.executemany("UPDATE answers SET role = ? WHERE return_id = ? AND item_id = ?", list(roles))
            return cur.rowcount

    def respondent(self, return_id: int) -> dict[str, Any] | None:
        """Personal data of one return. Only for follow-up by the organisers; never in outputs."""
        row = self.conn.execute("SELECT data FROM respondents WHERE return_id = ?", (return_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
