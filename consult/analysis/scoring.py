"""Scoring: priorities per country against the programme areas, by a documented method.

The method (docs/methodology.md states it for readers of the programme document):

* a rating r in 1..5 becomes (r - 1) / 4 * 100; "not applicable" and blanks are left out;
* area score = weighted mean over the country's current returns of their area-priority
  ratings, the weight being the institution's weight for that area (framework.yaml);
* component score = the same over component ratings, with component weights;
* n, agreement (weighted share of ratings >= 4), spread (population standard deviation of the
  0-100 values), ``low_evidence`` when n < 3;
* Borda points from the top-5 rank question (rank 1 = 5 points ... rank 5 = 1), per
  component and summed per area; unweighted, since a ranking is a vote;
* mentions: text answers matched by the keyword taxonomy, counted per answer, never folded
  into scores;
* areas ranked by score, ties broken by Borda points, then n, then framework order.

Values keep full precision; rounding is for display only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from consult.analysis.coverage import coverage, current_returns
from consult.definitions import Definition
from consult.definitions.framework import Framework
from consult.definitions.taxonomy import Taxonomy, excerpt
from consult.store import AnswerRow, ReturnRow, Store
from consult.workspace import Workspace

LOW_EVIDENCE_N = 3
HIGH_RATING = 4
OUTLIER_POINTS = 25.0


def rating_value(code: Any) -> float | None:
    """0-100 value of a stored rating code; None for "not applicable" or anything else."""
    try:
        r = int(code)
    except (TypeError, ValueError):
        return None
    return (r - 1) / 4 * 100 if 1 <= r <= 5 else None


@dataclass
class Stat:
    """Weighted summary of a set of ratings (the heart of the method)."""

    values: list[tuple[float, float, int, str]] = field(default_factory=list)  # (value, weight, rating, inst)

    def add(self, value: float, weight: float, rating: int, institution: str) -> None:
        self.values.append((value, weight, rating, institution))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def weight_sum(self) -> float:
        return sum(w for _, w, _, _ in self.values)

    @property
    def score(self) -> float | None:
        total = self.weight_sum
        return sum(v * w for v, w, _, _ in self.values) / total if total else None

    @property
    def agreement(self) -> float | None:
        total = self.weight_sum
        return sum(w for _, w, r, _ in self.values if r >= HIGH_RATING) / total if total else None

    @property
    def spread(self) -> float | None:
        if not self.values:
            return None
        mean = sum(v for v, _, _, _ in self.values) / self.n
        return math.sqrt(sum((v - mean) ** 2 for v, _, _, _ in self.values) / self.n)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "n": self.n,
            "weight_sum": self.weight_sum,
            "agreement": self.agreement,
            "spread": self.spread,
            "low_evidence": self.n < LOW_EVIDENCE_N,
            "ratings": [
                {"institution": i, "rating": r, "value": v, "weight": w}
                for v, w, r, i in sorted(self.values, key=lambda x: (-x[2], x[3]))
            ],
        }


def _rank_key(entry: dict[str, Any], order: int) -> tuple:
    score = entry["score"]
    return (score is None, -(score or 0.0), -entry["borda"], -entry["n"], order)


def score_country(
    fw: Framework,
    returns: list[ReturnRow],
    answers: list[AnswerRow],
    taxonomy: Taxonomy,
    rank_size: int = 5,
) -> dict[str, Any]:
    """Scores of one country from its current returns and their answers."""
    inst_of = {r.id: r.institution or "" for r in returns}
    area_stats = {a.id: Stat() for a in fw.areas}
    comp_stats = {c.id: Stat() for a in fw.areas for c in a.components}
    borda = {c.id: 0 for a in fw.areas for c in a.components}
    votes = {c.id: 0 for a in fw.areas for c in a.components}
    area_mentions: dict[str, list[dict[str, Any]]] = {a.id: [] for a in fw.areas}
    comp_mentions: dict[str, list[dict[str, Any]]] = {c: [] for c in comp_stats}
    for a in answers:
        inst = inst_of.get(a.return_id, "")
        if a.type == "rating" and a.area in area_stats:
            value = rating_value(a.value)
            if value is None:
                continue
            if a.component is None:
                area_stats[a.area].add(value, fw.weight(inst, a.area), int(a.value), inst)
            elif a.component in comp_stats:
                comp_stats[a.component].add(value, fw.weight(inst, a.area, a.component), int(a.value), inst)
        elif a.type == "rank" and isinstance(a.value, list):
            for pos, comp in enumerate(a.value[:rank_size], start=1):
                if comp in borda:
                    borda[comp] += rank_size + 1 - pos
                    votes[comp] += 1
        elif a.type == "text" and isinstance(a.value, str):
            qid = a.item_id.split(".")[-1] if a.area else a.item_id
            if not taxonomy.applies_to(qid):
                continue
            seen_areas: set[str] = set()
            seen_comps: set[str] = set()
            for m in taxonomy.matches(a.value):
                quote = {
                    "institution": inst,
                    "question": a.item_id,
                    "term": m.term,
                    "excerpt": excerpt(a.value, m.start, m.end),
                }
                if m.area in area_mentions and m.area not in seen_areas:
                    seen_areas.add(m.area)
                    area_mentions[m.area].append(quote)
                if m.component in comp_mentions and m.component not in seen_comps:
                    seen_comps.add(m.component)
                    comp_mentions[m.component].append(quote)
    components = []
    for order, (cid, stat) in enumerate(comp_stats.items()):
        comp = fw.component_by_id[cid]
        entry = {
            "id": cid,
            "area": comp.area,
            "name": comp.name,
            **stat.to_dict(),
            "borda": borda[cid],
            "votes": votes[cid],
            "mentions": len(comp_mentions[cid]),
            "excerpts": comp_mentions[cid],
        }
        components.append((entry, order))
    components.sort(key=lambda e: _rank_key(*e))
    areas = []
    for order, area in enumerate(fw.areas):
        stat = area_stats[area.id]
        entry = {
            "id": area.id,
            "name": area.name,
            "short": area.short,
            **stat.to_dict(),
            "borda": sum(borda[c.id] for c in area.components),
            "mentions": len(area_mentions[area.id]),
            "excerpts": area_mentions[area.id],
        }
        areas.append((entry, order))
    areas.sort(key=lambda e: _rank_key(*e))
    ranked = []
    for rank, (entry, _order) in enumerate(areas, start=1):
        entry["rank"] = rank if entry["score"] is not None else None
        entry["top_components"] = [
            c["id"] for c, _ in components if c["area"] == entry["id"] and c["score"] is not None
        ][:3]
        ranked.append(entry)
    return {"areas": ranked, "components": [c for c, _ in components]}


def regional(countries: dict[str, Any], fw: Framework) -> dict[str, Any]:
    """Areas x countries, priorities shared by most countries, and country outliers."""
    with_data = [c for c, v in countries.items() if any(a["score"] is not None for a in v["areas"])]
    rows: list[dict[str, Any]] = []
    shared: list[str] = []
    outliers: list[dict[str, Any]] = []
    for area in fw.areas:
        scores, ranks = {}, {}
        for code in with_data:
            entry = next(a for a in countries[code]["areas"] if a["id"] == area.id)
            scores[code] = entry["score"]
            ranks[code] = entry["rank"]
        present = [s for s in scores.values() if s is not None]
        mean = sum(present) / len(present) if present else None
        top3 = [c for c, r in ranks.items() if r is not None and r <= 3]
        rows.append(
            {
                "id": area.id,
                "name": area.name,
                "short": area.short,
                "scores": scores,
                "ranks": ranks,
                "mean": mean,
                "top3_in": top3,
            }
        )
        if with_data and len(top3) * 2 > len(with_data):
            shared.append(area.id)
        for code, s in scores.items():
            others = [v for c, v in scores.items() if c != code and v is not None]
            if s is None or not others:
                continue
            others_mean = sum(others) / len(others)
            if abs(s - others_mean) >= OUTLIER_POINTS:
                outliers.append(
                    {
                        "country": code,
                        "area": area.id,
                        "score": s,
                        "others_mean": others_mean,
                        "difference": s - others_mean,
                    }
                )
    order = sorted(rows, key=lambda r: (r["mean"] is None, -(r["mean"] or 0)))
    return {
        "countries": with_data,
        "areas": rows,
        "ranking": [r["id"] for r in order],
        "shared": shared,
        "outliers": sorted(outliers, key=lambda o: -abs(o["difference"])),
    }


def score(
    store: Store,
    ws: Workspace,
    countries: list[str] | None = None,
    definition: Definition | None = None,
    taxonomy: Taxonomy | None = None,
) -> dict[str, Any]:
    """The full, stable JSON-ready structure documented in the README."""
    definition = definition or ws.definition
    taxonomy = taxonomy or definition.taxonomy
    fw = definition.framework
    codes = countries or ws.countries
    cov = coverage(store, ws, codes)
    rank_size = next((q.size for s in definition.questionnaire.sections for q in s.questions if q.type == "rank"), 5)
    result: dict[str, Any] = {
        "round": ws.round,
        "method": {
            "rating_scale": "(r - 1) / 4 * 100",
            "low_evidence_below_n": LOW_EVIDENCE_N,
            "agreement_threshold": HIGH_RATING,
            "borda_points": f"rank 1 = {rank_size} ... rank {rank_size} = 1",
            "mention_sources": list(taxonomy.sources),
        },
        "countries": {},
    }
    all_returns = current_returns(store, ws, codes)
    answers = store.answers([r.id for r in all_returns])
    by_return: dict[int, list[AnswerRow]] = {}
    for a in answers:
        by_return.setdefault(a.return_id, []).append(a)
    for code in codes:
        rets = [r for r in all_returns if r.country == code]
        ans = [a for r in rets for a in by_return.get(r.id, [])]
        entry = score_country(fw, rets, ans, taxonomy, rank_size)
        c = cov["countries"][code]
        entry["coverage"] = {k: c[k] for k in ("invited", "responded", "accepted", "incomplete", "missing", "latest")}
        entry["coverage"]["institutions"] = {i: v["status"] for i, v in c["institutions"].items()}
        entry["returns"] = [r.id for r in rets]
        result["countries"][code] = entry
    result["regional"] = regional(result["countries"], fw)
    return result
