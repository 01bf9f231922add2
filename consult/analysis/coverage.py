"""Coverage: which invited institutions have answered, per country. Scoring and the synthesis
report it too, so a score resting on few returns is never read without its base."""

from __future__ import annotations

from typing import Any

from consult.store import ReturnRow, Store
from consult.workspace import Workspace


def current_returns(store: Store, ws: Workspace, countries: list[str] | None = None) -> list[ReturnRow]:
    """The returns that count: accepted or incomplete, not superseded, of this round."""
    return store.returns(current_only=True, countries=countries, round_id=ws.round)


def coverage(store: Store, ws: Workspace, countries: list[str] | None = None) -> dict[str, Any]:
    rows = store.returns(countries=countries, round_id=ws.round)
    codes = countries or ws.countries
    result: dict[str, Any] = {"round": ws.round, "countries": {}}
    totals = dict.fromkeys(("invited", "accepted", "incomplete", "missing", "rejected", "superseded"), 0)
    for code in codes:
        invited = ws.invited_for(code)
        mine = [r for r in rows if r.country == code]
        current = {r.institution or "": r for r in mine if r.status in ("accepted", "incomplete")}
        insts: dict[str, Any] = {}
        for inst in [*invited, *sorted(i for i in current if i not in invited)]:
            r = current.get(inst)
            insts[inst] = {
                "status": r.status if r else "missing",
                "invited": inst in invited,
                "return_id": r.id if r else None,
                "file": r.file_name if r else None,
                "received_at": r.received_at if r else None,
            }
        counts = {s: sum(1 for v in insts.values() if v["status"] == s) for s in ("accepted", "incomplete", "missing")}
        latest = max((r.received_at for r in current.values()), default=None)
        entry: dict[str, Any] = {
            "invited": len(invited),
            "responded": counts["accepted"] + counts["incomplete"],
            **counts,
            "rejected": sum(1 for r in mine if r.status == "rejected"),
            "superseded": sum(1 for r in mine if r.status == "superseded"),
            "latest": latest[:10] if latest else None,
            "institutions": insts,
        }
        result["countries"][code] = entry
        for key in totals:
            totals[key] += entry[key]
    result["totals"] = totals
    return result
