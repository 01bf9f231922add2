"""Coverage: which invited institutions have answered, per country. Scoring and the synthesis
report it too, so a score resting on few returns is never read without its base."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consult.analysis.mapped import mapped_institutions
from consult.store import NEWNESS, ReturnRow, Store
from consult.workspace import Workspace

COUNTED = ("accepted", "incomplete", "missing")


def current_returns(store: Store, ws: Workspace, countries: list[str] | None = None) -> list[ReturnRow]:
    """The returns that count: accepted or incomplete, not superseded, of this round."""
    return store.returns(current_only=True, countries=countries or ws.countries, round_id=ws.round)


@dataclass
class InstitutionStatus:
    status: str  # accepted, incomplete or missing
    invited: bool
    return_id: int | None = None
    file: str | None = None
    received_at: str | None = None
    feedback: dict[str, Any] | None = None  # the latest feedback written to it (see consult feedback)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CountryCoverage:
    code: str
    invited: int
    accepted: int
    incomplete: int
    missing: int
    rejected: int
    superseded: int
    latest: str | None
    institutions: dict[str, InstitutionStatus] = field(default_factory=dict)

    @property
    def responded(self) -> int:
        return self.accepted + self.incomplete

    def with_status(self, *statuses: str) -> list[str]:
        return [i for i, s in self.institutions.items() if s.status in statuses]

    def to_dict(self) -> dict[str, Any]:
        return {
            "invited": self.invited,
            "responded": self.responded,
            "accepted": self.accepted,
            "incomplete": self.incomplete,
            "missing": self.missing,
            "rejected": self.rejected,
            "superseded": self.superseded,
            "latest": self.latest,
            "institutions": {i: s.to_dict() for i, s in self.institutions.items()},
        }


@dataclass
class Coverage:
    round: str
    countries: dict[str, CountryCoverage]

    def totals(self) -> dict[str, int]:
        keys = ("invited", "accepted", "incomplete", "missing", "rejected", "superseded")
        return {k: sum(getattr(c, k) for c in self.countries.values()) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "countries": {c: v.to_dict() for c, v in self.countries.items()},
            "totals": self.totals(),
        }


def feedback_state(
    store: Store, rows: list[ReturnRow], countries: list[str] | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """(country, institution) -> the latest feedback written to it, with ``answered``: whether
    a file from it arrived after the feedback (then the new file's status is what counts)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for written in store.feedback(countries):
        latest[(written.country, written.institution)] = written.to_dict()
    for fb in latest.values():
        fb["answered"] = False
    for row in rows:  # one pass over the returns: linear however long the history
        sent = latest.get((row.country or "", row.institution or ""))
        if sent is not None and row.received_at >= sent["written_at"] and row.id > sent["return_id"]:
            sent["answered"] = True
    return latest


def coverage(store: Store, ws: Workspace, countries: list[str] | None = None) -> Coverage:
    rows = store.returns(countries=countries, round_id=ws.round)
    # a return of an earlier definition version counts for its institution's current id
    rows = mapped_institutions(ws, ws.definition, rows)
    sent = feedback_state(store, rows, countries)
    codes = countries or ws.countries
    result = Coverage(ws.round, {})
    by_country: dict[str | None, list[ReturnRow]] = {}
    for row in rows:
        by_country.setdefault(row.country, []).append(row)
    for code in codes:
        invited = ws.invited_for(code)
        mine = by_country.get(code, [])
        current: dict[str, ReturnRow] = {}
        for row in mine:  # the newest, should a mapped return and a new one share an institution
            key = row.institution or ""
            if row.status in ("accepted", "incomplete") and (
                key not in current or NEWNESS(row.recency) > NEWNESS(current[key].recency)
            ):
                current[key] = row
        insts: dict[str, InstitutionStatus] = {}
        for inst in [*invited, *sorted(i for i in current if i not in invited)]:
            r = current.get(inst)
            insts[inst] = InstitutionStatus(
                status=r.status if r else "missing",
                invited=inst in invited,
                return_id=r.id if r else None,
                file=r.file_name if r else None,
                received_at=r.received_at if r else None,
                feedback=sent.get((code, inst)),
            )
        counts = {s: sum(1 for v in insts.values() if v.status == s) for s in COUNTED}
        latest = max((r.received_at for r in current.values()), default=None)
        result.countries[code] = CountryCoverage(
            code=code,
            invited=len(invited),
            **counts,
            rejected=sum(1 for r in mine if r.status == "rejected"),
            superseded=sum(1 for r in mine if r.status == "superseded"),
            latest=latest[:10] if latest else None,
            institutions=insts,
        )
    return result
