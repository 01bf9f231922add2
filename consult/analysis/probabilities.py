"""Rank probabilities and tiers: which areas lead, which trail, and how sure that is.

The drafter's question is not "does this area keep its exact rank" but "which areas lead,
which trail, how sure". This module answers it from the distribution of the ranking over the
resamples of the responding institutions (docs/methodology.md, section 13):

* the resamples are **enumerated exactly** when there are few of them: a resample of n
  institutions is a vector of counts summing to n (how often each was drawn), there are
  C(2n-1, n) of them, each with its multinomial probability n! / (prod c_i!) / n^n. Up to
  :data:`EXACT_MAX_RESAMPLES` (n <= 9) every one is scored; above, :data:`MC_DRAWS` resamples
  are drawn from a stream fixed by the data alone (not by ``--seed``), so that every printed
  word is the same whatever seed is given, and the Monte Carlo standard error is reported;
* per ranked area (sufficient evidence, section 7): P(first), P(top 3), the 90% rank interval
  (5th and 95th percentiles of the rank), P(above the next ranked area);
* **tiers**, from the 90% rank intervals against the top three (the method's notion of a
  priority, section 9): tier 1, **leading**, when the whole interval lies within ranks 1-3
  (P(top 3) >= 0.95); tier 3, **trailing**, when it lies below rank 3 (P(top 3) <= 0.05);
  tier 2, **middle**, when the data cannot say whether the area is in the top three;
* two neighbouring areas are **tied** when the data cannot order them: the upper one is above
  the lower one with probability below :data:`SEPARATE`.

Everything is vectorised: the scores of all resamples are one matrix product, the ranks one
lexsort, the probabilities weighted sums.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

EXACT_MAX_RESAMPLES = 30_000  # C(2n-1, n): 24,310 for n = 9, 92,378 for n = 10
MC_DRAWS = 20_000  # standard error of a probability <= 0.5 / sqrt(20,000) = 0.0035
SEPARATE = 0.95  # two areas are separated when one is above the other with at least this probability
RANK_QUANTILES = (0.05, 0.95)  # the 90% rank interval
TOP = 3
WORD_SEED = 20_2020  # the fixed stream of Monte Carlo figures that feed words

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Resamples:
    """Counts of each institution per resample (rows), with the probability of each row."""

    counts: FloatArray  # (resamples, institutions)
    prob: FloatArray  # (resamples,), sums to 1
    exact: bool

    @property
    def size(self) -> int:
        return int(self.prob.size)


def resample_count(n: int) -> int:
    """Number of distinct resamples (multisets of size n from n institutions): C(2n-1, n)."""
    return math.comb(2 * n - 1, n) if n > 0 else 1


@lru_cache(maxsize=16)
def _compositions(n: int) -> tuple[FloatArray, FloatArray]:
    """All count vectors of n institutions summing to n, and their multinomial probabilities."""
    rows = np.zeros((1, 0), dtype=np.int64)
    left = np.array([n], dtype=np.int64)
    for _ in range(n - 1):
        reps = left + 1
        rows = np.repeat(rows, reps, axis=0)
        starts = np.repeat(np.cumsum(reps) - reps, reps)
        value = np.arange(int(reps.sum())) - starts
        rows = np.column_stack([rows, value])
        left = np.repeat(left, reps) - value
    counts = np.column_stack([rows, left])
    log_fact = np.array([math.lgamma(k + 1) for k in range(n + 1)])
    logp = log_fact[n] - log_fact[counts].sum(axis=1) - n * math.log(n)
    prob = np.exp(logp)
    prob /= prob.sum()
    counts_f = counts.astype(float)
    counts_f.setflags(write=False)
    prob.setflags(write=False)
    return counts_f, prob


def stream(key: str, part: int) -> np.random.Generator:
    """The fixed random stream of ``key`` (a country code, or "regional"), independent of --seed."""
    return np.random.default_rng([WORD_SEED, zlib.crc32(key.encode("utf-8")), part])


def resamples(n: int, key: str, draws: int = MC_DRAWS, exact_max: int = EXACT_MAX_RESAMPLES) -> Resamples:
    """Every resample of n institutions when there are at most ``exact_max``, else ``draws`` drawn."""
    if n == 0:
        return Resamples(np.zeros((1, 0)), np.ones(1), True)
    if resample_count(n) <= exact_max:
        counts, prob = _compositions(n)
        return Resamples(counts, prob, True)
    return Resamples(draw_counts(n, key, draws), np.full(draws, 1.0 / draws), False)


def draw_counts(n: int, key: str, draws: int) -> FloatArray:
    """``draws`` resamples of n institutions from the fixed stream of ``key``, as counts."""
    picks = stream(key, 0).integers(0, n, size=(draws, n))
    flat = (picks + n * np.arange(draws)[:, None]).ravel()
    return np.bincount(flat, minlength=draws * n).reshape(draws, n).astype(float)


@dataclass(frozen=True)
class RankProbabilities:
    """Rank distribution of the ranked areas (in base order) over the resamples."""

    areas: tuple[str, ...]  # the ranked areas, in the method's order
    p_first: FloatArray
    p_top3: FloatArray
    rank_low: npt.NDArray[np.int64]
    rank_high: npt.NDArray[np.int64]
    above: FloatArray  # above[i, j] = P(area i ranks above area j)
    tiers: tuple[int, ...]  # 1 = leading
    exact: bool
    resamples: int
    mc_error: float  # largest standard error of a reported probability (0 when exact)

    @property
    def p_above_next(self) -> tuple[float | None, ...]:
        k = len(self.areas)
        return tuple(float(self.above[i, i + 1]) if i + 1 < k else None for i in range(k))


def positions(order: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """1-based position of each column given the column order of each row."""
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.broadcast_to(np.arange(1, order.shape[1] + 1), order.shape), axis=1)
    return pos


def tiers_from(rank_high: npt.NDArray[np.int64], rank_low: npt.NDArray[np.int64]) -> tuple[int, ...]:
    """1 (leading) when the 90% rank interval lies within the top three, 3 (trailing) when it lies
    below it, 2 (middle) otherwise."""
    return tuple(1 if hi <= TOP else 3 if lo > TOP else 2 for lo, hi in zip(rank_low, rank_high, strict=True))


def rank_probabilities(
    areas: tuple[str, ...], pos: npt.NDArray[np.int64], prob: FloatArray, exact: bool
) -> RankProbabilities:
    """Figures from the positions (resamples x ranked areas, columns in base order) and row weights."""
    k = len(areas)
    # sums of many small weights carry float noise (0.9999999999999062 for 1): 12 decimals are exact enough
    p_first = np.round(prob @ (pos == 1), 12)
    p_top3 = np.round(prob @ (pos <= TOP), 12)
    pmf = (
        np.stack([np.bincount(pos[:, j], weights=prob, minlength=k + 1)[1:] for j in range(k)])
        if k
        else np.zeros((0, 0))
    )
    cdf = np.cumsum(pmf, axis=1)
    eps = 1e-12
    low = (cdf < RANK_QUANTILES[0] + eps).sum(axis=1) + 1 if k else np.zeros(0, dtype=np.int64)
    high = (cdf < RANK_QUANTILES[1] - eps).sum(axis=1) + 1 if k else np.zeros(0, dtype=np.int64)
    above = (
        np.round(np.einsum("d,dij->ij", prob, (pos[:, :, None] < pos[:, None, :]).astype(float)), 12)
        if k
        else np.zeros((0, 0))
    )
    draws = prob.size
    if exact or not k:
        mc = 0.0
    else:
        ps = np.concatenate([p_first, p_top3, above.ravel()])
        mc = float(np.sqrt((ps * (1 - ps)).max() / draws))
    rank_low, rank_high = np.minimum(low, k).astype(np.int64), np.minimum(high, k).astype(np.int64)
    return RankProbabilities(
        areas=areas,
        p_first=p_first,
        p_top3=p_top3,
        rank_low=rank_low,
        rank_high=rank_high,
        above=above,
        tiers=tiers_from(rank_high, rank_low),
        exact=exact,
        resamples=draws,
        mc_error=mc,
    )


TIER_LABELS = {1: "leading", 2: "middle", 3: "trailing"}


def tier_label(tier: int | None) -> str:
    """``leading``, ``middle`` or ``trailing``; ``unranked`` without a tier (low evidence, unrated)."""
    return "unranked" if tier is None else TIER_LABELS[tier]
