"""The engine: every resample of a country as one matrix product, and the verdicts drawn from them.

A resample is a row of counts (how often each institution was drawn), so all resamples of a
country are one matrix product; random numbers come from ``numpy.random.default_rng`` seeded
with ``(seed, crc32(country), stream)``, so a country's figures depend only on its own data and
the seed, not on which other countries are analysed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from consult.analysis import intervals, nonresponse, probabilities
from consult.analysis.adjustment import adjust
from consult.analysis.agreement import agreement, iqr, rwg
from consult.analysis.evidence import Tier, effective_n_columns, evidence_tier
from consult.analysis.robustness.model import (
    AreaRobustness,
    CountryRobustness,
    Exactness,
    LeaveOneOut,
    NonResponse,
    RankingInput,
    RegionalAreaRobustness,
    RegionalRobustness,
    Robustness,
    Stability,
    Standing,
)
from consult.analysis.robustness.rules import (
    AGREEMENT_DRAWS,
    DRAWS,
    SCORE_DECIMALS,
    SEED,
    STABLE_SHARE,
    TIE_FLIP_SHARE,
    TOP,
    WEIGHT_HIGH,
    WEIGHT_LOW,
    FloatArray,
    IntArray,
    Verdict,
    percentile_interval,
    random_stream,
)

# ------------------------------------------------------------------------------------ the engine


def _ranks(score: FloatArray, borda: FloatArray, n: FloatArray) -> tuple[FloatArray, IntArray]:
    """Ranks (1 = first, NaN = unrated) and order of areas for each row of ``score`` (draws x areas)."""
    draws, areas = score.shape
    rated = ~np.isnan(score)
    # unrated last (+inf); equal keys keep framework order, np.lexsort being stable
    key_score = np.where(rated, -np.round(np.where(rated, score, 0.0), SCORE_DECIMALS), np.inf)
    borda = np.broadcast_to(borda, (draws, areas))
    # np.lexsort: the last key is the primary one
    order = np.lexsort((-n, -borda, key_score), axis=-1)
    position = np.empty((draws, areas))
    np.put_along_axis(position, order, np.broadcast_to(np.arange(1.0, areas + 1), (draws, areas)), axis=1)
    return np.where(rated, position, np.nan), order


def _scores(counts: FloatArray, data: RankingInput) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted scores, n and Borda points for each row of institution ``counts`` (draws x institutions)."""
    rated = data.rated
    areas = rated.shape[1]
    w = np.where(rated, data.weights, 0.0)
    v = np.where(rated, data.ratings, 0.0) * w
    per_borda = data.borda.ndim == 2
    stacked = np.hstack([v, w, rated.astype(float)] + ([data.borda] if per_borda else []))
    sums = counts @ stacked  # one product for all sums
    num, den, n = sums[:, :areas], sums[:, areas : 2 * areas], sums[:, 2 * areas : 3 * areas]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    borda = sums[:, 3 * areas :] if per_borda else np.broadcast_to(data.borda, score.shape)
    return score, n, np.asarray(borda, dtype=float)


def _flip_shares(base: FloatArray, ranks: FloatArray) -> FloatArray:
    """areas x areas: share of draws in which the order of two areas is the reverse of the base order."""
    big = base.size + 1.0
    b = np.where(np.isnan(base), big, base)
    r = np.where(np.isnan(ranks), big, ranks)
    ahead = b[:, None] < b[None, :]
    behind = b[:, None] > b[None, :]
    ahead_r = r[:, :, None] < r[:, None, :]
    behind_r = r[:, :, None] > r[:, None, :]
    out: FloatArray = np.mean((ahead & behind_r) | (behind & ahead_r), axis=0)
    return out


def _stability(base: FloatArray, ranks: FloatArray, j: int) -> Stability:
    keep = None if np.isnan(base[j]) else float(np.mean(ranks[:, j] == base[j]))
    return Stability(keep, float(np.mean(ranks[:, j] <= TOP)))


def _same_order(base: FloatArray, ranks: FloatArray) -> float:
    same = (ranks == base) | (np.isnan(ranks) & np.isnan(base))
    return float(np.mean(np.all(same, axis=1)))


def _verdict(
    j: int,
    areas: Sequence[str],
    base_rank: FloatArray,
    base_score: FloatArray,
    flips: Sequence[FloatArray],
    stability: Sequence[Stability],
    evidence: Tier | None,
) -> tuple[Verdict, tuple[str, ...]]:
    """The words a synthesis may use for the rank of area ``j``, and the areas it is tied with.

    In this order: ``unrated`` without a score; ``tie`` when another area has the same score
    (to SCORE_DECIMALS: the order then rests on the tie-break rule alone), or when the rank is
    kept in fewer than STABLE_SHARE of the draws and some areas swap places with it in at
    least TIE_FLIP_SHARE of the draws (those areas are the ones it is tied with);
    ``low_evidence`` when the score's evidence tier is not sufficient (resampling two raters
    cannot show how unstable their mean is); ``uncertain`` when the rank is kept in fewer than
    STABLE_SHARE of the draws without a clear rival; otherwise ``stable``.
    """
    if np.isnan(base_rank[j]):
        return "unrated", ()
    mine = round(float(base_score[j]), SCORE_DECIMALS)
    equal, rivals = [], []
    for k in range(len(areas)):
        if k == j or np.isnan(base_rank[k]):
            continue
        if round(float(base_score[k]), SCORE_DECIMALS) == mine:
            equal.append(k)
        elif any(f[j, k] >= TIE_FLIP_SHARE for f in flips):
            rivals.append(k)
    kept = all(s.keep_rank is not None and s.keep_rank >= STABLE_SHARE for s in stability)
    partners = equal + ([] if kept else rivals)
    if partners:
        return "tie", tuple(areas[k] for k in sorted(partners, key=lambda k: base_rank[k]))
    if evidence is not None and evidence != "sufficient":
        return "low_evidence", ()
    return ("stable" if kept else "uncertain"), ()


def _ranking(areas: Sequence[str], order: IntArray, ranks: FloatArray) -> tuple[str, ...]:
    return tuple(areas[j] for j in order if not np.isnan(ranks[j]))


def _standings(
    areas: Sequence[str],
    base_rank: FloatArray,
    ranked: npt.NDArray[np.bool_],
    pos: IntArray,
    prob: FloatArray,
    exact: bool,
) -> tuple[dict[int, Standing], probabilities.RankProbabilities, list[int]]:
    """Standing of each ranked area (column index -> Standing) from the positions of the ranked
    areas (resamples x ranked areas, in framework order) and the weight of each resample."""
    cols = [j for j in np.argsort(np.where(ranked, base_rank, np.inf), kind="stable") if ranked[j]]
    in_framework = [j for j in range(len(areas)) if ranked[j]]
    perm = [in_framework.index(j) for j in cols]
    probs = probabilities.rank_probabilities(tuple(areas[j] for j in cols), pos[:, perm], prob, exact)
    out = {}
    for i, j in enumerate(cols):
        out[j] = Standing(
            tier=probs.tiers[i],
            tier_label=probabilities.tier_label(probs.tiers[i]),
            p_first=float(probs.p_first[i]),
            p_top3=float(probs.p_top3[i]),
            p_above_next=probs.p_above_next[i],
            rank_interval=(int(probs.rank_low[i]), int(probs.rank_high[i])),
        )
    return out, probs, cols


def _positions(score: FloatArray, borda: FloatArray, n: FloatArray, ranked: npt.NDArray[np.bool_]) -> IntArray:
    """Positions (1 = first) of the ranked areas in each resample, areas without a score last.

    The rule of :func:`_ranks`, by counting for each area the areas that beat it (score, then
    Borda, then n, then framework order) instead of sorting each row: six areas are 36
    comparisons per resample, much faster than a lexsort of 20,000 short rows."""
    s = score[:, ranked]
    s = np.where(np.isnan(s), np.inf, -np.round(np.where(np.isnan(s), 0.0, s), SCORE_DECIMALS))
    b = -np.broadcast_to(borda, score.shape)[:, ranked]
    m = -np.broadcast_to(n, score.shape)[:, ranked]
    k = s.shape[1]
    earlier = np.arange(k)[:, None] < np.arange(k)[None, :]  # [j, i]: j comes first in framework order
    sj, si = s[:, :, None], s[:, None, :]
    bj, bi = b[:, :, None], b[:, None, :]
    mj, mi = m[:, :, None], m[:, None, :]
    beats = (sj < si) | ((sj == si) & ((bj < bi) | ((bj == bi) & ((mj < mi) | ((mj == mi) & earlier)))))
    ranks: IntArray = (beats.sum(axis=1) + 1).astype(np.int64)
    return ranks


def _non_response(
    span: list[tuple[float, float] | None],
    absent_count: IntArray,
    score: FloatArray,
    standing: Mapping[int, Standing],
) -> list[NonResponse | None]:
    out: list[NonResponse | None] = []
    for j, sp in enumerate(span):
        if sp is None:
            out.append(None)
            continue
        tier = standing[j].tier if j in standing else None
        others = [float(score[k]) for k in standing if k != j]
        could = tier is not None and nonresponse.tier_could_change(sp, others)
        out.append(NonResponse(sp[0], sp[1], int(absent_count[j]), could))
    return out


@dataclass(frozen=True)
class _Draws:
    """The bootstrap scores of one country, kept for the regional analysis."""

    base: FloatArray  # (areas,)
    scores: FloatArray  # (draws, areas)
    word_scores: FloatArray  # (MC_DRAWS, areas): resamples from the fixed stream, for regional probabilities
    bayes: FloatArray  # (intervals.DRAWS, areas): Bayesian-bootstrap draws of the scores
    span: list[tuple[float, float] | None]  # non-response range per area
    absent_count: IntArray  # missing invited institutions asked about each area


def _country(data: RankingInput, country: str, draws: int, seed: int) -> tuple[CountryRobustness, _Draws]:
    n_inst, n_areas = data.ratings.shape
    areas = data.areas
    ones = np.ones((1, n_inst))
    base_score, base_n, base_borda = _scores(ones, data)
    base_rank, base_order = _ranks(base_score, base_borda, base_n)
    base_score, base_rank, base_order = base_score[0], base_rank[0], base_order[0]
    ranking = _ranking(areas, base_order, base_rank)

    # bootstrap: counts of each institution in each resample
    if n_inst:
        rng = random_stream(seed, country, 0)
        counts = rng.multinomial(n_inst, np.full(n_inst, 1.0 / n_inst), size=draws).astype(float)
    else:
        counts = np.zeros((draws, 0))
    boot_score, boot_n, boot_borda = _scores(counts, data)
    boot_rank, _ = _ranks(boot_score, boot_borda, boot_n)

    # weight sensitivity: every rated weight times U[0.5, 1.5]
    rated = data.rated
    factor = random_stream(seed, country, 1).uniform(WEIGHT_LOW, WEIGHT_HIGH, size=(draws, n_inst, n_areas))
    w = np.where(rated, data.weights, 0.0)
    v = np.where(rated, data.ratings, 0.0)
    num = np.einsum("bia,ia->ba", factor, v * w)
    den = np.einsum("bia,ia->ba", factor, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight_score = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    weight_rank, _ = _ranks(
        weight_score, np.broadcast_to(base_borda, weight_score.shape), np.broadcast_to(base_n, weight_score.shape)
    )

    # all weights equal
    equal = RankingInput(data.institutions, areas, data.ratings, np.where(rated, 1.0, 0.0), data.borda)
    unw_score, unw_n, unw_borda = _scores(ones, equal)
    unw_rank, unw_order = _ranks(unw_score, unw_borda, unw_n)
    unweighted_ranking = _ranking(areas, unw_order[0], unw_rank[0])

    # leave one institution out
    loo_score, loo_n, loo_borda = _scores(1.0 - np.eye(n_inst), data)
    loo_rank, loo_order = _ranks(loo_score, loo_borda, loo_n)
    leave = []
    for i, inst in enumerate(data.institutions):
        without = _ranking(areas, loo_order[i], loo_rank[i])
        leave.append(
            LeaveOneOut(
                inst,
                without,
                changes_top=without[:1] != ranking[:1],
                changes_top3=set(without[:TOP]) != set(ranking[:TOP]),
            )
        )

    flips = (_flip_shares(base_rank, boot_rank), _flip_shares(base_rank, weight_rank))
    n_eff = effective_n_columns(data.weights, rated)
    n_col = rated.sum(axis=0)
    ranked = np.array(
        [
            not np.isnan(base_score[j]) and evidence_tier(int(n_col[j]), float(n_eff[j])) == "sufficient"
            for j in range(n_areas)
        ]
    )

    # rank probabilities and tiers: every resample (or a fixed Monte Carlo stream)
    res = probabilities.resamples(n_inst, country)
    r_score, r_n, r_borda = _scores(res.counts, data)
    standing, probs, _ = _standings(
        areas, base_rank, ranked, _positions(r_score, r_borda, r_n, ranked), res.prob, res.exact
    )
    if res.exact:  # Monte Carlo draws for the regional figures: resamples drawn by their probabilities
        pick = probabilities.stream(country, 2).choice(res.size, size=probabilities.MC_DRAWS, p=res.prob)
        word_counts, word_scores = res.counts[pick], r_score[pick]
    else:
        word_counts, word_scores = res.counts, r_score

    bayes = intervals.score_draws(np.array(data.ratings), np.array(data.weights), country)
    score_iv = intervals.intervals(bayes)
    span = nonresponse.score_range(np.array(data.ratings), np.array(data.weights), np.array(data.absent))
    absent_count = (data.absent > 0).sum(axis=0) if data.absent.size else np.zeros(n_areas, dtype=np.int64)
    non_resp = _non_response(span, absent_count, base_score, standing)
    codes = np.where(rated, np.round(np.where(rated, data.ratings, 0.0) / 25.0) + 1.0, np.nan)
    if res.size <= AGREEMENT_DRAWS:
        agree = agreement(codes, res.counts, res.prob)
    else:
        agree = agreement(codes, word_counts[:AGREEMENT_DRAWS], np.full(AGREEMENT_DRAWS, 1.0 / AGREEMENT_DRAWS))
    rwgs, iqrs = rwg(codes), iqr(codes)
    w_rated = np.where(rated, data.weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        high = (w_rated * (np.where(rated, data.ratings, 0.0) >= 75.0)).sum(axis=0) / w_rated.sum(axis=0)

    results = []
    for j, area in enumerate(areas):
        tier = evidence_tier(int(n_col[j]), float(n_eff[j]))
        boot = _stability(base_rank, boot_rank, j)
        weights = _stability(base_rank, weight_rank, j)
        verdict, tied_with = _verdict(j, areas, base_rank, base_score, flips, (boot, weights), tier)
        results.append(
            AreaRobustness(
                area=area,
                rank=None if np.isnan(base_rank[j]) else int(base_rank[j]),
                score=None if np.isnan(base_score[j]) else float(base_score[j]),
                n=int(n_col[j]),
                n_eff=float(n_eff[j]),
                evidence=tier,
                bootstrap=boot,
                bootstrap_interval=percentile_interval(boot_score[:, j]),
                rated_share=float(np.mean(~np.isnan(boot_score[:, j]))),
                weights=weights,
                unweighted_rank=None if np.isnan(unw_rank[0, j]) else int(unw_rank[0, j]),
                unweighted_score=None if np.isnan(unw_score[0, j]) else float(unw_score[0, j]),
                verdict=verdict,
                tied_with=tied_with,
                standing=standing.get(j, Standing()),
                score_interval=score_iv[j],
                non_response=non_resp[j],
                rwg=rwgs[j],
                iqr=iqrs[j],
                share_4_5=None if np.isnan(high[j]) else float(high[j]),
            )
        )
    results.sort(key=lambda a: (a.rank is None, a.rank or 0, areas.index(a.area)))
    ranking_ranked = tuple(areas[j] for j in base_order if ranked[j])
    result = CountryRobustness(
        country=country,
        draws=draws,
        seed=seed,
        institutions=data.institutions,
        ranking=ranking,
        unweighted_ranking=unweighted_ranking,
        bootstrap_same_order=_same_order(base_rank, boot_rank),
        weights_same_order=_same_order(base_rank, weight_rank),
        areas=tuple(results),
        leave_one_out=tuple(leave),
        probabilities=Exactness(probs.exact, probs.resamples, probs.mc_error),
        agreement=agree,
        rater_adjustment=adjust(areas, np.array(data.ratings), ranking_ranked) if ranking_ranked else None,
        responded=n_inst,
        invited=max(data.invited, n_inst),
    )
    return result, _Draws(base_score, boot_score, word_scores, bayes, span, absent_count)


def _regional(
    draws_by_country: Mapping[str, _Draws], areas: tuple[str, ...], draws: int, seed: int
) -> RegionalRobustness:
    codes = tuple(draws_by_country)
    base = np.stack([draws_by_country[c].base for c in codes]) if codes else np.full((0, len(areas)), np.nan)
    boot = np.stack([draws_by_country[c].scores for c in codes]) if codes else np.full((0, draws, len(areas)), np.nan)

    def mean(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        present = ~np.isnan(x)
        count = present.sum(axis=0)
        total = np.where(present, x, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan), count

    base_mean, base_count = mean(base)
    boot_mean, _ = mean(boot)
    zeros = np.zeros((1, len(areas)))
    base_rank, base_order = _ranks(base_mean[None, :], zeros, zeros)
    base_rank, base_order = base_rank[0], base_order[0]
    boot_rank, _ = _ranks(boot_mean, np.zeros_like(boot_mean), np.zeros_like(boot_mean))
    flips = (_flip_shares(base_rank, boot_rank),)

    # rank probabilities and tiers from the countries' fixed Monte Carlo streams
    ranked = ~np.isnan(base_mean)
    if codes and ranked.any():
        word_mean, _ = mean(np.stack([draws_by_country[c].word_scores for c in codes]))
        zero = np.zeros_like(word_mean)
        pos = _positions(word_mean, zero, zero, ranked)
        prob = np.full(word_mean.shape[0], 1.0 / word_mean.shape[0])
        standing, probs, _ = _standings(areas, base_rank, ranked, pos, prob, False)
        exactness = Exactness(False, probs.resamples, probs.mc_error)
        bayes_mean, _ = mean(np.stack([draws_by_country[c].bayes for c in codes]))
        score_iv = intervals.intervals(bayes_mean)
    else:
        standing, exactness, score_iv = {}, Exactness(True, 1, 0.0), [None] * len(areas)
    spans = []
    for j in range(len(areas)):
        ranges = [draws_by_country[c].span[j] for c in codes if draws_by_country[c].span[j] is not None]
        spans.append(
            (float(np.mean([r[0] for r in ranges])), float(np.mean([r[1] for r in ranges])))  # type: ignore[index]
            if ranges
            else None
        )
    count = sum((draws_by_country[c].absent_count for c in codes), np.zeros(len(areas), dtype=np.int64))
    non_resp = _non_response(spans, count, base_mean, standing)

    out = []
    for j, area in enumerate(areas):
        stab = _stability(base_rank, boot_rank, j)
        verdict, tied_with = _verdict(j, areas, base_rank, base_mean, flips, (stab,), None)
        out.append(
            RegionalAreaRobustness(
                area=area,
                rank=None if np.isnan(base_rank[j]) else int(base_rank[j]),
                mean=None if np.isnan(base_mean[j]) else float(base_mean[j]),
                countries=int(base_count[j]),
                bootstrap=stab,
                mean_interval=percentile_interval(boot_mean[:, j]),
                verdict=verdict,
                tied_with=tied_with,
                standing=standing.get(j, Standing()),
                score_interval=score_iv[j],
                non_response=non_resp[j],
            )
        )
    out.sort(key=lambda a: (a.rank is None, a.rank or 0, areas.index(a.area)))
    return RegionalRobustness(
        countries=codes,
        draws=draws,
        seed=seed,
        ranking=_ranking(areas, base_order, base_rank),
        same_order=_same_order(base_rank, boot_rank),
        areas=tuple(out),
        probabilities=exactness,
    )


# -------------------------------------------------------------------------------------- the API


def analyse_country(data: RankingInput, country: str = "", draws: int = DRAWS, seed: int = SEED) -> CountryRobustness:
    """Robustness of one country's area ranking (bootstrap, weight sensitivity, leave-one-out)."""
    if draws < 1:
        raise ValueError("draws must be at least 1")
    return _country(data, country, draws, seed)[0]


def analyse(countries: Mapping[str, RankingInput], draws: int = DRAWS, seed: int = SEED) -> Robustness:
    """Every country, and the regional ranking by the mean of the country scores.

    Regionally, each bootstrap draw resamples the institutions within each country (the same
    resamples as the country analysis) and ranks the areas by the mean of the resampled
    country scores. Countries without any score are left out of the regional ranking; all
    countries must list the same areas in the same order.
    """
    if draws < 1:
        raise ValueError("draws must be at least 1")
    results: dict[str, CountryRobustness] = {}
    kept: dict[str, _Draws] = {}
    areas: tuple[str, ...] | None = None
    for code, data in countries.items():
        if areas is not None and data.areas != areas:
            raise ValueError(f"{code}: areas differ from the other countries' ({data.areas} != {areas})")
        areas = data.areas
        results[code], draws_of = _country(data, code, draws, seed)
        if not np.isnan(draws_of.base).all():
            kept[code] = draws_of
    regional = _regional(kept, areas, draws, seed) if areas is not None else None
    return Robustness(draws, seed, results, regional)
