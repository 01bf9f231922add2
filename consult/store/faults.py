"""What goes wrong with ``consult.db`` that is not a bug, said so that a drafter can act on it.

Every SQLite fault of the machine or of the file (disk full, read-only file, damaged page,
dropped table, another command holding the lock) becomes a :class:`StoreError` that says what
happened and what to do, with a ``kind`` callers and tests can tell apart. An SQLite error of
our own making (bad SQL) is left as it is: a bug must stay a bug, never be dressed as advice.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from consult.errors import ConsultError


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


def is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds a lock this one needs (SQLite waited its busy timeout already)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(exc)


class _OnFile(Protocol):
    """What :func:`guarded` needs of the object whose method it guards: the store's file."""

    path: Path


F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """Turn SQLite faults of a store method into a :class:`StoreError` naming the store's file."""

    @functools.wraps(method)
    def wrapper(self: _OnFile, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            fault = store_fault(exc, self.path)
            if fault is None:
                raise
            raise fault from exc

    return wrapper  # type: ignore[return-value]
