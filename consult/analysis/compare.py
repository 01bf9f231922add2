"""What changed since the last consultation: two rounds compared through a declared mapping.

Both rounds are read in the later definitions' ids (:mod:`consult.definitions.mapping`), with
the later framework's weights and the later keyword taxonomy, so that a change is a change of
answers, not of weights or keywords. For each country and area (docs/methodology.md, "Change
since the last consultation", states the rules for readers):

* an institution's **mapped rating** of a later area is the mean of its ratings of the earlier
  areas that map onto it (merged areas: one institution counts once); a ``split_into`` with
  rule ``copy`` gives each part the earlier rating; ``none`` gives the parts no earlier figure;
  components alike; ranking points of a split component are shared equally among its parts;
* the **score** of each round is the method's weighted mean, its **rank** the method's rule
  (score, Borda points, n, framework order; sufficient evidence only);
* the **change** is later minus earlier; its uncertainty comes from the rankings' resampling:
  the institutions of each round are resampled with replacement (2,000 draws, fixed seed, the
  two rounds independently, since they are two samples), the change is computed in every draw,
  and we report P(the score rose) (share of draws with a positive change) and the 2.5-97.5
  percentile interval of the change. A change is **clear** when P(rose) >= 0.9 (rose) or <= 0.1
  (fell);
* **respondents**: the institutions that answered in both rounds (earlier ids mapped); the
  change is computed again on them alone, and a clear change that is not also clear, in the
  same direction, on the common institutions is said to come from a different set of
  respondents;
* **themes**: keyword-taxonomy mentions per area and component in each round's free text; a
  component mentioned now and never in the earlier round is a new theme.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from consult.analysis.data import CountryData, RoundData, load_round
from consult.analysis.evidence import effective_n, evidence_tier
from consult.analysis.robustness import DRAWS, INTERVAL, SCORE_DECIMALS, SEED, RankingInput, analyse_country
from consult.analysis.robustness.rules import percentile_interval, random_stream
from consult.analysis.scoring import rank_size, rating_value
from consult.definitions import Definition
from consult.definitions.framework import Framework, Text
from consult.definitions.mapping import Mapping, mapping_between
from consult.definitions.taxonomy import Taxonomy
from consult.workspace import open_store, open_workspace

CLEAR = 0.9  # P(rose) at or above: the score rose; at or below 1 - CLEAR: it fell
TOP_COMPONENTS = 5
STREAM_LATER, STREAM_EARLIER = 10, 11  # random streams of the change (independent of the rankings' streams)

FloatArray = npt.NDArray[np.float64]


# ----------------------------------------------------------------------------- one round, mapped


@dataclass
class MappedCountry:
    """One country's answers of one round in the later ids: (institution, id) -> 0-100 value."""

    institutions: list[str]  # institutions with a current return, later ids (a dropped one keeps its id)
    areas: dict[tuple[str, str], float] = field(default_factory=dict)
    components: dict[tuple[str, str], float] = field(default_factory=dict)
    borda: dict[str, dict[str, float]] = field(default_factory=dict)  # institution -> later area -> points
    component_borda: dict[str, float] = field(default_factory=dict)
    area_mentions: dict[str, int] = field(default_factory=dict)
    component_mentions: dict[str, int] = field(default_factory=dict)


def _mean_into(target: dict[tuple[str, str], float], values: dict[tuple[str, str], list[float]]) -> None:
    for key, vs in values.items():
        target[key] = sum(vs) / len(vs)


def map_country(
    data: CountryData, mapping: Mapping, later: Framework, taxonomy: Taxonomy, size: int, mapped: bool = True
) -> MappedCountry:
    """A country's current returns of one round, read in the later ids (``mapped=False``: the
    round is already in the later ids)."""
    ident = Mapping.identity(later.id)
    m = mapping if mapped else ident

    def inst_of(return_id: int) -> str:
        old = data.institution_of.get(return_id, "")
        return m.institution(old) or old

    out = MappedCountry(sorted({inst_of(r.id) for r in data.returns}))
    area_values: dict[tuple[str, str], list[float]] = {}
    comp_values: dict[tuple[str, str], list[float]] = {}
    for a in data.by_role("area_priority"):
        value = rating_value(a.value)
        if value is None or not a.area:
            continue
        for t in m.targets("areas", a.area):
            if t in later.area_by_id:
                area_values.setdefault((inst_of(a.return_id), t), []).append(value)
    for a in data.by_role("component_priority"):
        value = rating_value(a.value)
        if value is None or not a.component:
            continue
        for t in m.targets("components", a.component):
            if t in later.component_by_id:
                comp_values.setdefault((inst_of(a.return_id), t), []).append(value)
    _mean_into(out.areas, area_values)
    _mean_into(out.components, comp_values)
    for a in data.by_role("ranking"):
        if not isinstance(a.value, list):
            continue
        mine = out.borda.setdefault(inst_of(a.return_id), {})
        for pos, comp in enumerate(a.value[:size], start=1):
            targets = [t for t in m.targets("components", str(comp)) if t in later.component_by_id]
            for t in targets:
                points = (size + 1 - pos) / len(targets)
                out.component_borda[t] = out.component_borda.get(t, 0.0) + points
                area = later.component_by_id[t].area
                mine[area] = mine.get(area, 0.0) + points
    _count_mentions(out, data, taxonomy, later)
    return out


def _count_mentions(out: MappedCountry, data: CountryData, taxonomy: Taxonomy, later: Framework) -> None:
    """Mentions in the later framework's terms, counted into ``out``: an answer counts once per
    area and once per component however often it names them."""
    for a in data.by_role(*taxonomy.sources):
        if not isinstance(a.value, str):
            continue
        areas: set[str] = set()
        comps: set[str] = set()
        for match in taxonomy.matches(a.value):
            if match.area in later.area_by_id:
                areas.add(match.area)
            if match.component and match.component in later.component_by_id:
                comps.add(match.component)
        for x in areas:
            out.area_mentions[x] = out.area_mentions.get(x, 0) + 1
        for x in comps:
            out.component_mentions[x] = out.component_mentions.get(x, 0) + 1


# ------------------------------------------------------------------------------- scores and draws


@dataclass
class Side:
    """An area (or component) in one round: the method's figures."""

    score: float | None
    n: int
    evidence: str
    rank: int | None = None
    comparable_rank: int | None = None  # the rank among the areas both rounds have (new areas left out)
    score_interval: tuple[float, float] | None = None
    borda: float = 0.0
    mentions: int = 0
    verdict: str | None = None  # how sure the rank is, from the rankings' robustness analysis of this round
    tier: int | None = None  # the ranking tier (1 leading, 2 middle, 3 trailing; None unranked)
    tier_label: str | None = None
    p_first: float | None = None
    p_top3: float | None = None
    rank_interval: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "rank": self.rank,
            "verdict": self.verdict,
            "tier": self.tier,
            "tier_label": self.tier_label,
            "p_first": self.p_first,
            "p_top3": self.p_top3,
            "rank_interval": list(self.rank_interval) if self.rank_interval else None,
            "comparable_rank": self.comparable_rank,
            "n": self.n,
            "evidence": self.evidence,
            "score_interval": list(self.score_interval) if self.score_interval else None,
            "borda": self.borda,
            "mentions": self.mentions,
        }


class _Matrix:
    """Institutions x ids of one round: values, weights, and resampled scores."""

    def __init__(self, values: dict[tuple[str, str], float], ids: list[str], weight: Any, only: set[str] | None):
        insts = sorted({i for i, _ in values if only is None or i in only})
        self.institutions = insts
        self.ids = ids
        self.v = np.full((len(insts), len(ids)), np.nan)
        self.w = np.zeros((len(insts), len(ids)))
        row = {x: k for k, x in enumerate(insts)}
        col = {x: j for j, x in enumerate(ids)}
        for (inst, ident), value in values.items():
            if inst in row and ident in col:
                self.v[row[inst], col[ident]] = value
                self.w[row[inst], col[ident]] = weight(inst, ident)

    def scores(self, counts: FloatArray) -> FloatArray:
        rated = ~np.isnan(self.v)
        w = np.where(rated, self.w, 0.0)
        num = counts @ (np.where(rated, self.v, 0.0) * w)
        den = counts @ w
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    def base(self) -> FloatArray:
        scores: FloatArray = self.scores(np.ones((1, len(self.institutions))))[0]
        return scores

    def draws(self, rng: np.random.Generator, draws: int) -> FloatArray:
        n = len(self.institutions)
        if n == 0:
            return np.full((draws, len(self.ids)), np.nan)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(float)
        return self.scores(counts)

    def side(self, j: int) -> tuple[int, str]:
        rated = ~np.isnan(self.v[:, j])
        weights = self.w[rated, j]
        n = int(rated.sum())
        return n, evidence_tier(n, effective_n(weights))


def _robustness(
    code: str, data: MappedCountry, fw: Framework, entries: list[tuple[str, Side]], draws: int, seed: int
) -> None:
    """Each area's verdict, tier, probabilities of leading and score interval in this round, by
    the rankings' own robustness analysis of the round's mapped ratings (docs/methodology.md,
    sections 11 and 13), so that both rounds are described in the same words as a ranking."""
    area_ids = [a.id for a in fw.areas]
    records = [(inst, area, value, fw.weight(inst, area)) for (inst, area), value in data.areas.items()]
    if not records:
        return
    result = analyse_country(RankingInput.from_records(area_ids, records, data.borda or None), code, draws, seed)
    for area, side in entries:
        found = result.area(area)
        side.verdict = found.verdict
        side.tier, side.tier_label = found.tier, found.tier_label
        side.p_first, side.p_top3, side.rank_interval = found.p_first, found.p_top3, found.rank_interval
        side.score_interval = found.score_interval


def _rank(entries: list[tuple[str, Side]], order: list[str], attr: str = "rank") -> None:
    """The method's rule: score, Borda points, n, framework order; sufficient evidence only."""

    def key(e: tuple[str, Side]) -> tuple[Any, ...]:
        s = e[1]
        score = None if s.score is None else round(s.score, SCORE_DECIMALS)
        return (score is None, -(score or 0.0), -s.borda, -s.n, order.index(e[0]))

    rank = 0
    for _ident, side in sorted(entries, key=key):
        if side.score is not None and side.evidence == "sufficient":
            rank += 1
            setattr(side, attr, rank)


@dataclass
class Change:
    """Later minus earlier, with the uncertainty from resampling both rounds."""

    value: float | None
    p_rose: float | None
    interval: tuple[float, float] | None

    @property
    def direction(self) -> str:
        """``rose``, ``fell``, ``unclear`` (resampling cannot tell), or ``none`` (not comparable)."""
        if self.p_rose is None:
            return "none"
        if self.p_rose >= CLEAR:
            return "rose"
        if self.p_rose <= 1 - CLEAR:
            return "fell"
        return "unclear"

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.value,
            "p_rose": self.p_rose,
            "change_interval": list(self.interval) if self.interval else None,
            "direction": self.direction,
        }


def _change(earlier: FloatArray, later: FloatArray, base_e: float, base_l: float) -> Change:
    if np.isnan(base_e) or np.isnan(base_l):
        return Change(None, None, None)
    diff = later - earlier
    present = diff[~np.isnan(diff)]
    p = float(np.mean(present > 0) + 0.5 * np.mean(present == 0)) if present.size else None
    return Change(float(base_l - base_e), p, percentile_interval(diff))


# ------------------------------------------------------------------------------------ the result


@dataclass
class AreaChange:
    id: str
    name: Text
    short: Text
    sources: list[str]  # earlier ids whose figures this area receives ([] : new, not comparable)
    earlier: Side
    later: Side
    change: Change
    common: Change  # on the institutions that answered in both rounds
    common_n: tuple[int, int] = (0, 0)  # ratings of common institutions, earlier and later

    @property
    def comparable(self) -> bool:
        return bool(self.sources)

    @property
    def rank_move(self) -> int | None:
        """Places gained (positive) or lost (negative) among the areas both rounds have (a new
        area pushing the others down is not a move); None without a rank in both rounds."""
        if self.earlier.comparable_rank is None or self.later.comparable_rank is None:
            return None
        return self.earlier.comparable_rank - self.later.comparable_rank

    @property
    def respondents_only(self) -> bool:
        """A clear change that the institutions answering in both rounds do not show."""
        return self.change.direction in ("rose", "fell") and self.common.direction != self.change.direction

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "short": self.short,
            "comparable": self.comparable,
            "sources": self.sources,
            "earlier": self.earlier.to_dict(),
            "later": self.later.to_dict(),
            **self.change.to_dict(),
            "rank_move": self.rank_move,
            "common_institutions": {**self.common.to_dict(), "n": list(self.common_n)},
            "respondents_only": self.respondents_only,
        }


@dataclass
class CountryChange:
    code: str
    name: Text
    earlier_institutions: list[str]
    later_institutions: list[str]
    areas: list[AreaChange]  # in the later round's rank order
    top_earlier: list[str]
    top_later: list[str]
    new_components: list[str]  # later components with no earlier figure
    themes: dict[str, dict[str, int]]  # component -> {"earlier": n, "later": n}, mentioned in either round

    @property
    def common(self) -> list[str]:
        return sorted(set(self.earlier_institutions) & set(self.later_institutions))

    @property
    def entered(self) -> list[str]:
        return [c for c in self.top_later if c not in self.top_earlier]

    @property
    def left(self) -> list[str]:
        return [c for c in self.top_earlier if c not in self.top_later]

    @property
    def new_themes(self) -> list[str]:
        return [c for c, n in self.themes.items() if n["later"] and not n["earlier"]]

    @property
    def faded_themes(self) -> list[str]:
        return [c for c, n in self.themes.items() if n["earlier"] and not n["later"]]

    def area(self, area_id: str) -> AreaChange:
        return next(a for a in self.areas if a.id == area_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "respondents": {
                "earlier": self.earlier_institutions,
                "later": self.later_institutions,
                "common": self.common,
                "only_earlier": sorted(set(self.earlier_institutions) - set(self.later_institutions)),
                "only_later": sorted(set(self.later_institutions) - set(self.earlier_institutions)),
            },
            "areas": [a.to_dict() for a in self.areas],
            "top_components": {
                "earlier": self.top_earlier,
                "later": self.top_later,
                "entered": self.entered,
                "left": self.left,
                "not_comparable": [c for c in self.entered if c in self.new_components],
            },
            "themes": {"mentions": self.themes, "new": self.new_themes, "faded": self.faded_themes},
        }


@dataclass
class RegionalChange:
    id: str
    earlier: float | None
    later: float | None
    countries: list[str]  # with a score in both rounds
    change: Change
    earlier_rank: int | None  # among the areas both rounds have
    later_rank: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "earlier_mean": self.earlier,
            "later_mean": self.later,
            "countries": self.countries,
            **self.change.to_dict(),
            "earlier_rank": self.earlier_rank,
            "later_rank": self.later_rank,
            "rank_move": None
            if self.earlier_rank is None or self.later_rank is None
            else self.earlier_rank - self.later_rank,
        }


@dataclass
class Comparison:
    earlier_round: str
    later_round: str
    earlier_framework: str
    later_framework: str
    mapping_file: str
    countries: dict[str, CountryChange]
    regional: list[RegionalChange]
    not_comparable: list[str]  # later areas with no earlier figure
    dropped: dict[str, list[str]]  # earlier ids with no later counterpart, by kind
    earlier_names: dict[str, Text] = field(default_factory=dict)  # names of the dropped ids
    draws: int = DRAWS
    seed: int = SEED

    def to_dict(self) -> dict[str, Any]:
        return {
            "earlier": {"round": self.earlier_round, "framework": self.earlier_framework},
            "later": {"round": self.later_round, "framework": self.later_framework},
            "mapping": self.mapping_file or None,
            "method": {
                "change": "later score - earlier score, both in the later ids and weights",
                "resampling": f"institutions resampled with replacement, {self.draws} draws per round, "
                f"rounds independent, seed {self.seed}",
                "p_rose": "share of draws in which the change is positive (ties count half)",
                "interval": f"{INTERVAL[0]}-{INTERVAL[1]} percentile of the resampled change",
                "clear": f"P(rose) >= {CLEAR} (rose) or <= {round(1 - CLEAR, 10)} (fell)",
                "respondents_only": "a clear change not shown, in the same direction, by the institutions "
                "that answered in both rounds",
            },
            "countries": {c: v.to_dict() for c, v in self.countries.items()},
            "regional": [r.to_dict() for r in self.regional],
            "not_comparable": self.not_comparable,
            "dropped": self.dropped,
        }


# ------------------------------------------------------------------------------------ the engine


def _weights(fw: Framework, kind: str) -> Any:
    if kind == "areas":
        return lambda inst, area: fw.weight(inst, area)
    return lambda inst, comp: fw.weight(inst, fw.component_by_id[comp].area, comp)


def _area_borda(m: MappedCountry, only: set[str] | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for inst, points in m.borda.items():
        if only is None or inst in only:
            for area, p in points.items():
                out[area] = out.get(area, 0.0) + p
    return out


def compare_country(
    code: str,
    earlier: MappedCountry,
    later: MappedCountry,
    mapping: Mapping,
    fw: Framework,
    draws: int = DRAWS,
    seed: int = SEED,
) -> tuple[CountryChange, dict[str, tuple[FloatArray, FloatArray]]]:
    """One country's change, and its resampled area scores per round (for the regional change)."""
    area_ids = [a.id for a in fw.areas]
    comp_ids = list(fw.component_by_id)
    sides: dict[str, list[tuple[str, Side]]] = {}
    boots: dict[str, FloatArray] = {}
    bases: dict[str, FloatArray] = {}
    common = set(earlier.institutions) & set(later.institutions)
    common_boot: dict[str, FloatArray] = {}
    common_base: dict[str, FloatArray] = {}
    common_n: dict[str, list[int]] = {}
    for label, data, stream in (("earlier", earlier, STREAM_EARLIER), ("later", later, STREAM_LATER)):
        mat = _Matrix(data.areas, area_ids, _weights(fw, "areas"), None)
        base = mat.base()
        boot = mat.draws(random_stream(seed, code, stream), draws)
        borda = _area_borda(data)
        entries = []
        for j, area in enumerate(area_ids):
            n, tier = mat.side(j)
            score = None if np.isnan(base[j]) else float(base[j])
            side = Side(
                score,
                n,
                tier,
                borda=borda.get(area, 0.0),
                mentions=data.area_mentions.get(area, 0),
            )
            entries.append((area, side))
        _rank(entries, area_ids)
        _rank([e for e in entries if mapping.sources("areas", e[0])], area_ids, "comparable_rank")
        _robustness(code, data, fw, entries, draws, seed)
        sides[label], boots[label], bases[label] = entries, boot, base
        cmat = _Matrix(data.areas, area_ids, _weights(fw, "areas"), common)
        common_base[label] = cmat.base() if cmat.institutions else np.full(len(area_ids), np.nan)
        common_boot[label] = cmat.draws(random_stream(seed, code, stream + 10), draws)
        common_n[label] = [cmat.side(j)[0] for j in range(len(area_ids))] if cmat.institutions else [0] * len(area_ids)
    areas = []
    for j, area in enumerate(area_ids):
        a = fw.area_by_id[area]
        sources = mapping.sources("areas", area)
        e_side, l_side = sides["earlier"][j][1], sides["later"][j][1]
        if not sources:
            e_side = Side(None, 0, "none")
        change = (
            _change(boots["earlier"][:, j], boots["later"][:, j], bases["earlier"][j], bases["later"][j])
            if sources
            else Change(None, None, None)
        )
        cchange = (
            _change(
                common_boot["earlier"][:, j],
                common_boot["later"][:, j],
                common_base["earlier"][j],
                common_base["later"][j],
            )
            if sources
            else Change(None, None, None)
        )
        areas.append(
            AreaChange(
                area,
                a.name,
                a.short,
                sources,
                e_side,
                l_side,
                change,
                cchange,
                (common_n["earlier"][j], common_n["later"][j]),
            )
        )
    areas.sort(key=lambda x: (x.later.rank is None, x.later.rank or 0, -(x.later.score or -1), area_ids.index(x.id)))
    tops = {}
    for label, data in (("earlier", earlier), ("later", later)):
        mat = _Matrix(data.components, comp_ids, _weights(fw, "components"), None)
        base = mat.base()
        ranked = []
        for j, comp in enumerate(comp_ids):
            if np.isnan(base[j]):
                continue
            n, tier = mat.side(j)
            ranked.append(
                (
                    tier != "sufficient",
                    -round(float(base[j]), SCORE_DECIMALS),
                    -data.component_borda.get(comp, 0.0),
                    -n,
                    j,
                )
            )
        tops[label] = [comp_ids[r[-1]] for r in sorted(ranked)[:TOP_COMPONENTS]]
    themes: dict[str, dict[str, int]] = {}
    for comp in comp_ids:
        e, lt = earlier.component_mentions.get(comp, 0), later.component_mentions.get(comp, 0)
        if e or lt:
            themes[comp] = {"earlier": e, "later": lt}
    result = CountryChange(
        code=code,
        name={},
        earlier_institutions=earlier.institutions,
        later_institutions=later.institutions,
        areas=areas,
        top_earlier=tops["earlier"],
        top_later=tops["later"],
        new_components=mapping.not_comparable("components", comp_ids),
        themes=themes,
    )
    return result, {area: (boots["earlier"][:, j], boots["later"][:, j]) for j, area in enumerate(area_ids)}


def _regional(
    countries: dict[str, CountryChange],
    draws_of: dict[str, dict[str, tuple[FloatArray, FloatArray]]],
    fw: Framework,
    mapping: Mapping,
) -> list[RegionalChange]:
    """Per area, the mean of the country scores over the countries scored in both rounds; each
    draw takes the mean of the countries' resampled scores (as the regional robustness does)."""
    out = []
    means: dict[str, tuple[float | None, float | None]] = {}
    for area in fw.areas:
        codes = [
            c
            for c, v in countries.items()
            if v.area(area.id).earlier.score is not None and v.area(area.id).later.score is not None
        ]
        if not codes or not mapping.sources("areas", area.id):
            later_scores = [v.area(area.id).later.score for v in countries.values()]
            present = [s for s in later_scores if s is not None]
            means[area.id] = (None, sum(present) / len(present) if present else None)
            out.append(RegionalChange(area.id, None, means[area.id][1], [], Change(None, None, None), None, None))
            continue
        e = float(np.mean([countries[c].area(area.id).earlier.score or 0.0 for c in codes]))
        lt = float(np.mean([countries[c].area(area.id).later.score or 0.0 for c in codes]))
        with warnings.catch_warnings():  # a draw in which no country rated the area: NaN, left out
            warnings.simplefilter("ignore", RuntimeWarning)
            e_draws = np.nanmean(np.stack([draws_of[c][area.id][0] for c in codes]), axis=0)
            l_draws = np.nanmean(np.stack([draws_of[c][area.id][1] for c in codes]), axis=0)
        means[area.id] = (e, lt)
        out.append(RegionalChange(area.id, e, lt, codes, _change(e_draws, l_draws, e, lt), None, None))
    for index, side in ((0, "earlier_rank"), (1, "later_rank")):
        ranked = sorted(
            (a for a in means if means[a][index] is not None and mapping.sources("areas", a)),
            key=lambda a: (-(round(means[a][index] or 0.0, SCORE_DECIMALS)), fw.area_order(a)),
        )
        for r in out:
            if r.id in ranked:
                setattr(r, side, ranked.index(r.id) + 1)
    return out


def compare_rounds(
    earlier: RoundData,
    later: RoundData,
    mapping: Mapping,
    countries: Iterable[str] | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
    mapping_file: str = "",
) -> Comparison:
    """Every country with returns in both rounds (or ``countries``), and the region."""
    definition: Definition = later.definition
    fw = definition.framework
    taxonomy = definition.taxonomy
    codes = [c for c in (countries or later.with_returns) if c in earlier.with_returns and c in later.with_returns]
    result: dict[str, CountryChange] = {}
    draws_of = {}
    for code in codes:
        e = map_country(earlier.countries[code], mapping, fw, taxonomy, rank_size(earlier.definition))
        lt = map_country(later.countries[code], mapping, fw, taxonomy, rank_size(definition), mapped=False)
        result[code], draws_of[code] = compare_country(code, e, lt, mapping, fw, draws, seed)
        country = fw.country_by_code.get(code)
        result[code].name = country.name if country else {"en": code}
    efw = earlier.definition.framework
    dropped = {
        "areas": [a.id for a in efw.areas if not mapping.targets("areas", a.id)],
        "components": [c for c in efw.component_by_id if not mapping.targets("components", c)],
        "institutions": [i.id for i in efw.institutions if not mapping.targets("institutions", i.id)],
    }
    return Comparison(
        earlier_round=earlier.round,
        later_round=later.round,
        earlier_framework=efw.id,
        later_framework=fw.id,
        mapping_file=mapping_file or mapping.file,
        countries=result,
        regional=_regional(result, draws_of, fw, mapping),
        not_comparable=mapping.not_comparable("areas", [a.id for a in fw.areas]),
        dropped=dropped,
        earlier_names={
            **{a.id: a.short for a in efw.areas},
            **{c: (x.short or x.name) for c, x in efw.component_by_id.items()},
            **{i.id: i.name for i in efw.institutions},
        },
        draws=draws,
        seed=seed,
    )


def load_rounds(
    earlier_root: Path, later_root: Path, mapping_path: Path | None = None
) -> tuple[RoundData, RoundData, Mapping]:
    """Both rounds from their workspaces (read-only), and the mapping between their definitions:
    ``mapping_path`` if given, else the later definitions' own ``mappings/`` file from the
    earlier framework, else the identity when both rounds use the same framework."""
    rounds = []
    for root in (earlier_root, later_root):
        ws = open_workspace(root)
        if not ws.db_path.exists():
            from consult.errors import ConsultError

            raise ConsultError(f"{root}: no consult.db here; name the folder of a round (made by 'consult init')")
        with open_store(ws) as store:
            rounds.append(load_round(store, ws))
    earlier, later = rounds
    folder = later.definition.folder
    mapping = mapping_between(
        earlier.definition.raw["framework"], later.definition.raw["framework"], folder, mapping_path
    )
    return earlier, later, mapping


def compare_workspaces(
    earlier_root: Path,
    later_root: Path,
    mapping_path: Path | None = None,
    countries: Iterable[str] | None = None,
    draws: int = DRAWS,
) -> Comparison:
    earlier, later, mapping = load_rounds(earlier_root, later_root, mapping_path)
    return compare_rounds(earlier, later, mapping, countries, draws)
