"""The workspace store: ``consult.db`` (SQLite, WAL) holding returns, answers, respondents and
the feedback sent; the one package that writes SQL.

It is cut by responsibility; every name is importable from ``consult.store`` itself:

* :mod:`~consult.store.schema`: the tables, as the migrations that made them;
* :mod:`~consult.store.faults`: every SQLite fault as a :class:`StoreError` that says what to do;
* :mod:`~consult.store.recency`: which return of an institution counts (:func:`compare_returns`)
  and why, in words (:func:`explain`);
* :mod:`~consult.store.rows`: the typed hand-offs, in (:class:`NewReturn`, :class:`NewAnswer`,
  :class:`Respondent`) and out (:class:`ReturnRow`, :class:`AnswerRow`, :class:`FeedbackRow`);
* :mod:`~consult.store.connection`: opening (a read-only snapshot or a writer), waiting on a
  busy store, migrating, transactions;
* :mod:`~consult.store.queries`: :class:`Store`, every query.
"""

from __future__ import annotations

from consult.store.connection import BUSY_SLICE, Database, copy_store
from consult.store.faults import StoreError, store_fault
from consult.store.queries import Store
from consult.store.recency import CURRENT, NEWNESS, Recency, compare_returns, explain
from consult.store.rows import (
    AnswerRow,
    FeedbackRow,
    Inserted,
    MissingRole,
    NewAnswer,
    NewReturn,
    Respondent,
    ReturnRow,
    Version,
)
from consult.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES

__all__ = [
    "BUSY_SLICE",
    "CURRENT",
    "MIGRATIONS",
    "NEWNESS",
    "SCHEMA_VERSION",
    "TABLES",
    "AnswerRow",
    "Database",
    "FeedbackRow",
    "Inserted",
    "MissingRole",
    "NewAnswer",
    "NewReturn",
    "Recency",
    "Respondent",
    "ReturnRow",
    "Store",
    "StoreError",
    "Version",
    "compare_returns",
    "copy_store",
    "explain",
    "store_fault",
]
