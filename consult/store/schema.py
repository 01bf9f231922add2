"""What ``consult.db`` holds on disk: its tables, as the migrations that made them, step by step.

The schema is never written whole: a store of any earlier release is brought up to date by the
steps it has not run yet (``PRAGMA user_version`` counts them), so a new store and an upgraded
one are the same by construction. A change of the on-disk format is one more step appended to
:data:`MIGRATIONS` and a higher :data:`SCHEMA_VERSION`; the steps already here never change
(``tests/test_store_migration.py`` upgrades a store of release 0.1.0, schema 1).
"""

from __future__ import annotations

import sqlite3

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


def fill_respondent_dates(conn: sqlite3.Connection) -> int:
    """Set the respondent's date of returns stored before schema 3 kept it (from their answer
    whose role is ``completion_date``), inside the caller's transaction; how many were set."""
    cur = conn.execute(
        "UPDATE returns SET respondent_date = (SELECT json_extract(a.value, '$') FROM answers a "
        "WHERE a.return_id = returns.id AND a.role = 'completion_date' LIMIT 1) "
        "WHERE respondent_date IS NULL AND EXISTS (SELECT 1 FROM answers a WHERE a.return_id = returns.id "
        "AND a.role = 'completion_date')"
    )
    return cur.rowcount
