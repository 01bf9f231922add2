"""The queries of ``consult.db``: every read and write of returns, answers, respondents and
feedback is a :class:`Store` method, so that no other module writes SQL.

Personal data of respondents lives in its own table, ``respondents``, which nothing but
:meth:`Store.respondent` reads, so no report can leak it by joining the wrong table. Recording
a return applies the recency rule (:mod:`consult.store.recency`) in the same transaction: a
return is stored current or superseded, never both for a moment.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from consult.errors import ConsultError, Finding
from consult.store.connection import Database
from consult.store.faults import guarded
from consult.store.recency import CURRENT, NEWNESS, Recency, compare_returns
from consult.store.rows import (
    ANSWER_COLUMNS,
    RETURN_COLUMNS,
    AnswerRow,
    FeedbackRow,
    Inserted,
    MissingRole,
    NewAnswer,
    NewReturn,
    Respondent,
    ReturnRow,
    Version,
    findings_json,
    stored_value,
)
from consult.store.schema import fill_respondent_dates

_RETURN_COLS = ", ".join(RETURN_COLUMNS)
_INSERT_ANSWER = f"INSERT INTO answers ({', '.join(ANSWER_COLUMNS)}) VALUES ({', '.join('?' for _ in ANSWER_COLUMNS)})"


class Store(Database):
    """All access to ``consult.db``; callers never write SQL. Opening, read-only snapshots,
    waiting and transactions: :class:`consult.store.connection.Database`."""

    # --- writes --------------------------------------------------------------------------
    @guarded
    def find_sha(self, conn: sqlite3.Connection, sha256: str) -> ReturnRow | None:
        row = conn.execute(
            f"SELECT {_RETURN_COLS} FROM returns WHERE sha256 = ? ORDER BY id DESC LIMIT 1", (sha256,)
        ).fetchone()
        return ReturnRow.from_columns(row) if row else None

    @guarded
    def insert_return(
        self,
        conn: sqlite3.Connection,
        new: NewReturn,
        answers: Iterable[NewAnswer] = (),
        respondent: Respondent | None = None,
    ) -> Inserted:
        """Insert a return with its answers and its respondent's personal data (inside the
        caller's transaction). A current one (accepted or incomplete) supersedes the current
        return of the same round, country and institution when it is newer by
        :func:`compare_returns`; when it is older it is stored as superseded by that one (kept,
        never counted). Returns its id and the ids it superseded; :meth:`get` tells the new
        status. The answers and the respondent of a rejected return are not stored."""
        data = new.columns()
        cols = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        cur = conn.execute(f"INSERT INTO returns ({cols}) VALUES ({marks})", tuple(data.values()))
        rid = int(cur.lastrowid or 0)
        superseded: list[int] = []
        if new.status in CURRENT:
            mine = Recency(rid, new.respondent_date, new.saved_at)
            others = [
                Recency(r[0], r[1], r[2])
                for r in conn.execute(
                    "SELECT id, respondent_date, saved_at FROM returns WHERE country = ? AND institution = ? "
                    "AND round = ? AND status IN ('accepted', 'incomplete') AND id != ?",
                    (new.country, new.institution, new.round, rid),
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
            conn.executemany(_INSERT_ANSWER, [a.columns(rid) for a in answers])
            if respondent is not None and respondent.answers:
                conn.execute("INSERT INTO respondents (return_id, data) VALUES (?, ?)", (rid, respondent.to_json()))
        return Inserted(rid, superseded)

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

    @guarded
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
                (status, findings_json(warnings), return_id),
            )
            return replaced

    def set_warnings(self, conn: sqlite3.Connection, return_id: int, warnings: Iterable[Finding]) -> None:
        """Replace the warnings of a return (inside the caller's transaction)."""
        conn.execute("UPDATE returns SET warnings = ? WHERE id = ?", (findings_json(warnings), return_id))

    def current_by_name(self, conn: sqlite3.Connection, file_name: str) -> Version | None:
        """The id and saved time of the newest current return stored under ``file_name`` (a web
        submission keeps its name, ``kobo:<id>``, across edits), or None."""
        row = conn.execute(
            "SELECT id, saved_at FROM returns WHERE file_name = ? AND status IN ('accepted', 'incomplete') "
            "ORDER BY id DESC LIMIT 1",
            (file_name,),
        ).fetchone()
        return Version(int(row[0]), row[1]) if row else None

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

    @guarded
    def stored_sha256(self) -> set[str]:
        """The sha256 of every file stored with a verdict other than rejected."""
        return {sha for (sha,) in self.conn.execute("SELECT sha256 FROM returns WHERE status != 'rejected'")}

    def find_id(self, conn: sqlite3.Connection, return_id: int) -> ReturnRow | None:
        row = conn.execute(f"SELECT {_RETURN_COLS} FROM returns WHERE id = ?", (return_id,)).fetchone()
        return ReturnRow.from_columns(row) if row else None

    @guarded
    def get(self, return_id: int) -> ReturnRow | None:
        row = self.conn.execute(f"SELECT {_RETURN_COLS} FROM returns WHERE id = ?", (return_id,)).fetchone()
        return ReturnRow.from_columns(row) if row else None

    @guarded
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
        return [ReturnRow.from_columns(r) for r in self.conn.execute(sql, args)]

    @guarded
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
                AnswerRow(
                    r[0], r[1], r[2], r[3], r[4], r[5], stored_value(r[6]), r[7], r[8], r[9], r[10], r[11] or None
                )
                for r in rows
            ]
        return out

    @guarded
    def roles_missing(self) -> list[MissingRole]:
        """The stored answers whose role was never filled: those of a store made before roles existed."""
        rows = self.conn.execute(
            "SELECT a.return_id, a.item_id, r.definition_hash, r.country, r.institution, a.question_id "
            "FROM answers a JOIN returns r ON r.id = a.return_id WHERE a.role IS NULL"
        ).fetchall()
        return [MissingRole(*r) for r in rows]

    @guarded
    def fill_roles(self, roles: Iterable[tuple[str, int, str]]) -> int:
        """Set the role of stored answers: ``(role or '', return id, item id)``; one transaction."""
        with self.transaction() as conn:
            cur = conn.executemany("UPDATE answers SET role = ? WHERE return_id = ? AND item_id = ?", list(roles))
            return cur.rowcount

    @guarded
    def fill_respondent_dates(self) -> int:
        """Set the respondent's date of returns stored before it was kept (from their answer
        whose role is ``completion_date``); one transaction."""
        with self.transaction() as conn:
            return fill_respondent_dates(conn)

    @guarded
    def source_path(self, return_id: int) -> str | None:
        """Where the file of a return was read from at ingest (as it was named then)."""
        row = self.conn.execute("SELECT source_path FROM returns WHERE id = ?", (return_id,)).fetchone()
        return row[0] if row else None

    @guarded
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

    @guarded
    def feedback(self, countries: Iterable[str] | None = None) -> list[FeedbackRow]:
        """Every feedback written, oldest first."""
        sql = "SELECT id, written_at, return_id, country, institution, path, problems FROM feedback"
        codes = list(countries or [])
        if codes:
            sql += f" WHERE country IN ({', '.join('?' for _ in codes)})"
        return [FeedbackRow(**dict(r)) for r in self.conn.execute(sql + " ORDER BY id", codes)]

    @guarded
    def respondent(self, return_id: int) -> dict[str, Any] | None:
        """Personal data of one return. Only for follow-up by the organisers; never in outputs."""
        row = self.conn.execute("SELECT data FROM respondents WHERE return_id = ?", (return_id,)).fetchone()
        return json.loads(row[0]) if row else None

    @guarded
    def integrity_ok(self) -> bool:
        return bool(self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
