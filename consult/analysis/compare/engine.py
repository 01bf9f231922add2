"""The comparison itself: each country's change, the region's, and the entry points.

:func:`compare_rounds` maps every country of both rounds onto the later framework
(:mod:`~consult.analysis.compare.rounds`), ranks and resamples each round
(:mod:`~consult.analysis.compare.figures`) and gathers the result
(:mod:`~consult.analysis.compare.changes`); :func:`compare_workspaces` does it from two
workspaces' folders.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from consult.analysis.compare.changes import AreaChange, Comparison, CountryChange, RegionalChange
from consult.analysis.compare.figures import Change, FloatArray, Matrix, Side, Weight, resampled_change
from consult.analysis.compare.rounds import MappedCountry, load_rounds, map_country
from consult.analysis.data import RoundData
from consult.analysis.robustness import DRAWS, SCORE_DECIMALS, SEED, RankingInput, analyse_country
from consult.analysis.robustness.rules import random_stream
from consult.analysis.scoring import rank_size
from consult.definitions import Definition
from consult.definitions.framework import Framework
from consult.definitions.mapping import Mapping

TOP_COMPONENTS = 5
STREAM_LATER, STREAM_EARLIER = 10, 11  # random streams of the change (independent of the rankings' streams)


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


def _weights(fw: Framework, kind: str) -> Weight:
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
        mat = Matrix(data.areas, area_ids, _weights(fw, "areas"), None)
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
        cmat = Matrix(data.areas, area_ids, _weights(fw, "areas"), common)
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
            resampled_change(boots["earlier"][:, j], boots["later"][:, j], bases["earlier"][j], bases["later"][j])
            if sources
            else Change(None, None, None)
        )
        cchange = (
            resampled_change(
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
        mat = Matrix(data.components, comp_ids, _weights(fw, "components"), None)
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
        out.append(RegionalChange(area.id, e, lt, codes, resampled_change(e_draws, l_draws, e, lt), None, None))
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


def compare_workspaces(
    earlier_root: Path,
    later_root: Path,
    mapping_path: Path | None = None,
    countries: Iterable[str] | None = None,
    draws: int = DRAWS,
) -> Comparison:
    earlier, later, mapping = load_rounds(earlier_root, later_root, mapping_path)
    return compare_rounds(earlier, later, mapping, countries, draws)
