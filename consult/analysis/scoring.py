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
* areas ordered by score, ties broken by Borda points, then n, then framework order; only
  areas with sufficient evidence get a rank (a low-evidence area is listed, not ranked).

Questions are selected by their role (``area_priority``, ``component_priority``,
``ranking``, and the taxonomy's source roles), never by id: a rating without a role is
kept and exported but never scored.

Values keep full precision; rounding is for display only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from consult.analysis.data import CountryData, RoundData, load_round
from consult.analysis.evidence import evidence_tier
from consult.analysis.results import (
    AreaScore,
    ComponentScore,
    CountryScore,
    Excerpt,
    Outlier,
    Rating,
    RegionalArea,
    RegionalScore,
    ScoreResult,
)
from consult.analysis.robustness import DRAWS, SCORE_DECIMALS, SEED, RankingInput, analyse
from consult.analysis.robustness import method as robustness_method
from consult.definitions import Definition
from consult.definitions.framework import Framework
from consult.definitions.taxonomy import Taxonomy, excerpt
from consult.store import Store
from consult.workspace import Workspace

LOW_EVIDENCE_N = 3
HIGH_RATING = 4
OUTLIER_POINTS = 25.0


def rating_value(code: Any) -> float | None:
    """0-100 value of a stored rating code; None for "not applicable" or anything else. A mean
    rating (a merged area read through a mapping, consult.analysis.mapped) may be fractional."""
    r = rating_number(code)
    return (r - 1) / 4 * 100 if r is not None and 1 <= r <= 5 else None


def rating_number(code: Any) -> int | float | None:
    """The rating as a number: an int for a stored code, a float for a mapped mean."""
    if isinstance(code, float):
        return code if code == code else None  # NaN is no rating
    try:
        return int(code)
    except (TypeError, ValueError):
        return None


@dataclass
class Stat:
    """Weighted summary of a set of ratings (the heart of the method)."""

    values: list[tuple[float, float, float, str]] = field(default_factory=list)  # (value, weight, rating, inst)

    def add(self, value: float, weight: float, rating: float, institution: str) -> None:
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

    @property
    def effective_n(self) -> float:
        """Kish's effective number of raters, (sum w)^2 / sum w^2: one heavy weight counts less."""
        squares = sum(w * w for _, w, _, _ in self.values)
        return self.weight_sum**2 / squares if squares else 0.0

    def fields(self) -> dict[str, Any]:
        """The shared figures of an area or component score."""
        return {
            "score": self.score,
            "n": self.n,
            "weight_sum": self.weight_sum,
            "agreement": self.agreement,
            "spread": self.spread,
            "low_evidence": evidence_tier(self.n, self.effective_n) != "sufficient",
            "effective_n": self.effective_n,
            "ratings": [Rating(i, r, v, w) for v, w, r, i in sorted(self.values, key=lambda x: (-x[2], x[3]))],
        }


def _order_key(entry: AreaScore | ComponentScore, order: int) -> tuple[Any, ...]:
    score = None if entry.score is None else round(entry.score, SCORE_DECIMALS)  # equal sums rank alike
    return (score is None, -(score or 0.0), -entry.borda, -entry.n, order)


def rank_size(definition: Definition) -> int:
    return next((q.size for s in definition.questionnaire.sections for q in s.questions if q.role == "ranking"), 5)


def _mentions(
    data: CountryData, taxonomy: Taxonomy, area_ids: list[str], comp_ids: list[str]
) -> tuple[dict[str, list[Excerpt]], dict[str, list[Excerpt]]]:
    """Area id -> excerpts that mention it, and component id -> excerpts: an answer counts once
    per area and once per component however often it names them."""
    area_mentions: dict[str, list[Excerpt]] = {a: [] for a in area_ids}
    comp_mentions: dict[str, list[Excerpt]] = {c: [] for c in comp_ids}
    for a in data.by_role(*taxonomy.sources):
        if not isinstance(a.value, str):
            continue
        seen_areas: set[str] = set()
        seen_comps: set[str] = set()
        for m in taxonomy.matches(a.value):
            quote = Excerpt(data.institution(a), a.item_id, m.term, excerpt(a.value, m.start, m.end))
            if m.area in area_mentions and m.area not in seen_areas:
                seen_areas.add(m.area)
                area_mentions[m.area].append(quote)
            if m.component in comp_mentions and m.component not in seen_comps:
                seen_comps.add(m.component)
                comp_mentions[m.component].append(quote)
    return area_mentions, comp_mentions


def score_country(
    fw: Framework, data: CountryData, taxonomy: Taxonomy, size: int = 5
) -> tuple[list[AreaScore], list[ComponentScore], dict[str, dict[str, float]]]:
    """Area and component scores of one country from its current returns (selected by role),
    and the Borda points each institution gave each area (for the robustness analysis)."""
    area_stats = {a.id: Stat() for a in fw.areas}
    comp_stats = {c.id: Stat() for a in fw.areas for c in a.components}
    borda = dict.fromkeys(comp_stats, 0)
    votes = dict.fromkeys(comp_stats, 0)
    for a in data.by_role("area_priority"):
        value = rating_value(a.value)
        if value is not None and a.area in area_stats:
            inst = data.institution(a)
            area_stats[a.area].add(value, fw.weight(inst, a.area), rating_number(a.value) or 0, inst)
    for a in data.by_role("component_priority"):
        value = rating_value(a.value)
        if value is not None and a.area and a.component in comp_stats:
            inst = data.institution(a)
            comp_stats[a.component].add(value, fw.weight(inst, a.area, a.component), rating_number(a.value) or 0, inst)
    by_institution: dict[str, dict[str, float]] = {}
    for a in data.by_role("ranking"):
        if isinstance(a.value, list):
            mine = by_institution.setdefault(data.institution(a), {})
            for pos, comp in enumerate(a.value[:size], start=1):
                if comp in borda:
                    borda[comp] += size + 1 - pos
                    votes[comp] += 1
                    area_id = fw.component_by_id[comp].area
                    mine[area_id] = mine.get(area_id, 0) + size + 1 - pos
    area_mentions, comp_mentions = _mentions(data, taxonomy, [a.id for a in fw.areas], list(comp_stats))
    components: list[tuple[ComponentScore, int]] = []
    for order, (cid, stat) in enumerate(comp_stats.items()):
        comp = fw.component_by_id[cid]
        centry = ComponentScore(
            id=cid,
            area=comp.area,
            name=comp.name,
            **stat.fields(),
            borda=borda[cid],
            votes=votes[cid],
            mentions=len(comp_mentions[cid]),
            excerpts=comp_mentions[cid],
        )
        components.append((centry, order))
    components.sort(key=lambda e: _order_key(*e))
    areas: list[tuple[AreaScore, int]] = []
    for order, area in enumerate(fw.areas):
        stat = area_stats[area.id]
        entry = AreaScore(
            id=area.id,
            name=area.name,
            short=area.short,
            **stat.fields(),
            borda=sum(borda[c.id] for c in area.components),
            asked=sum(
                1
                for inst in set(data.institution_of.values())
                if area.id in getattr(fw.institution_by_id.get(inst), "areas", {})
            ),
            mentions=len(area_mentions[area.id]),
            excerpts=area_mentions[area.id],
        )
        areas.append((entry, order))
    areas.sort(key=lambda e: _order_key(*e))
    rank = 0
    for entry, _order in areas:
        if entry.score is not None and not entry.low_evidence:
            rank += 1
            entry.rank = rank
        entry.top_components = [c.id for c, _ in components if c.area == entry.id and c.score is not None][:3]
    return [e for e, _ in areas], [c for c, _ in components], by_institution


def regional(countries: dict[str, CountryScore], fw: Framework) -> RegionalScore:
    """Areas x countries, priorities shared by most countries, and country outliers.

    Every country with a current return counts (even one whose ratings are all "not
    applicable"); a share of "most countries" is a share of those."""
    with_data = [c for c, v in countries.items() if v.returns]
    rows: list[RegionalArea] = []
    shared: list[str] = []
    outliers: list[Outlier] = []
    for area in fw.areas:
        scores: dict[str, float | None] = {}
        ranks: dict[str, int | None] = {}
        ns: dict[str, int] = {}
        lows: dict[str, bool] = {}
        for code in with_data:
            entry = countries[code].area(area.id)
            scores[code], ranks[code], ns[code] = entry.score, entry.rank, entry.n
            lows[code] = entry.score is not None and entry.low_evidence
        present = [s for s in scores.values() if s is not None]
        mean = sum(present) / len(present) if present else None
        top3 = [c for c, r in ranks.items() if r is not None and r <= 3]
        rows.append(RegionalArea(area.id, area.name, area.short, scores, ranks, mean, top3, ns, lows))
        if with_data and len(top3) * 2 > len(with_data):
            shared.append(area.id)
        for code, s in scores.items():
            others = [v for c, v in scores.items() if c != code and v is not None]
            if s is None or not others:
                continue
            others_mean = sum(others) / len(others)
            if abs(s - others_mean) >= OUTLIER_POINTS:
                outliers.append(Outlier(code, area.id, s, others_mean, s - others_mean))
    order = sorted(rows, key=lambda r: (r.mean is None, -(r.mean or 0)))
    return RegionalScore(
        countries=with_data,
        areas=rows,
        ranking=[r.id for r in order],
        shared=shared,
        outliers=sorted(outliers, key=lambda o: -abs(o.difference)),
    )


def score_round(
    data: RoundData, taxonomy: Taxonomy | None = None, robust: bool = True, draws: int = DRAWS, seed: int = SEED
) -> ScoreResult:
    """Scores of every country of ``data``, the regional comparison, and (``robust``) how sure
    each ranking is (consult.analysis.robustness; ``seed`` changes only the seeded resampling
    figures, never a word: docs/methodology.md, section 13)."""
    definition = data.definition
    taxonomy = taxonomy or definition.taxonomy
    fw = definition.framework
    size = rank_size(definition)
    result = ScoreResult(
        round=data.round,
        method={
            "rating_scale": "(r - 1) / 4 * 100",
            "low_evidence_below_n": LOW_EVIDENCE_N,
            "agreement_threshold": HIGH_RATING,
            "borda_points": f"rank 1 = {size} ... rank {size} = 1",
            "mention_sources": list(taxonomy.sources),
            "ranked": "areas with sufficient evidence only",
        },
        countries={},
    )
    inputs = {}
    area_ids = [a.id for a in fw.areas]
    for code, cdata in data.countries.items():
        areas, components, points = score_country(fw, cdata, taxonomy, size)
        result.countries[code] = CountryScore(
            code, areas, components, data.coverage.countries[code], [r.id for r in cdata.returns]
        )
        if cdata.returns:
            records = [(r.institution, a.id, r.value, r.weight) for a in areas for r in a.ratings]
            cov = data.coverage.countries[code]
            absent = {
                inst: {a: asked.weight for a, asked in fw.institution_by_id[inst].areas.items()}
                for inst in cov.with_status("missing")
                if inst in fw.institution_by_id
            }
            inputs[code] = RankingInput.from_records(area_ids, records, points or None, absent, cov.invited)
    result.regional = regional(result.countries, fw)
    if robust and inputs:
        result.robustness = analyse(inputs, draws=draws, seed=seed)
        result.method["robustness"] = robustness_method(draws, seed)
    return result


def score(
    store: Store,
    ws: Workspace,
    countries: list[str] | None = None,
    definition: Definition | None = None,
    taxonomy: Taxonomy | None = None,
) -> dict[str, Any]:
    """The full, stable JSON-ready structure documented in the README."""
    return score_round(load_round(store, ws, countries, definition or ws.definition), taxonomy).to_dict()
