"""Which return of an institution counts: the rule of recency and supersession, and its words.

Which return is current is decided by date, not by arrival: the date the respondent gave (the
answer whose role is ``completion_date``), then the workbook's own saved time, then ingest
order (:func:`compare_returns`). The store applies the rule when a return is recorded; the
listings explain it afterwards from what the store kept (:func:`explain`); the analysis sorts
by it (:data:`NEWNESS`). One rule, one place, so what ``consult returns`` says is what counted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from consult.types import CURRENT_STATUSES, ReturnStatus

if TYPE_CHECKING:
    from consult.store.rows import ReturnRow

CURRENT: tuple[ReturnStatus, ...] = CURRENT_STATUSES


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
