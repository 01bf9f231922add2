"""The figures of an area in a comparison: its side in each round, resampled scores, the change.

A :class:`Side` is what the method says of an area in one round (score, n, evidence, rank,
the rankings' robustness figures); a :class:`Matrix` holds one round's institutions x areas
(or components) and scores any resample of them as one matrix product; a :class:`Change` is
later minus earlier with the share of draws in which the score rose and its interval, from
:func:`resampled_change`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from consult.analysis.evidence import effective_n, evidence_tier
from consult.analysis.robustness.rules import percentile_interval

CLEAR = 0.9  # P(rose) at or above: the score rose; at or below 1 - CLEAR: it fell

FloatArray = npt.NDArray[np.float64]
Weight = Callable[[str, str], float]  # (institution, area or component) -> its framework weight


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


class Matrix:
    """Institutions x ids of one round: values, weights, and resampled scores."""

    def __init__(self, values: dict[tuple[str, str], float], ids: list[str], weight: Weight, only: set[str] | None):
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


def resampled_change(earlier: FloatArray, later: FloatArray, base_e: float, base_l: float) -> Change:
    """The change from ``base_e`` to ``base_l``, with P(rose) and the interval from the paired draws
    of both rounds (none where either round has no score)."""
    if np.isnan(base_e) or np.isnan(base_l):
        return Change(None, None, None)
    diff = later - earlier
    present = diff[~np.isnan(diff)]
    p = float(np.mean(present > 0) + 0.5 * np.mean(present == 0)) if present.size else None
    return Change(float(base_l - base_e), p, percentile_interval(diff))
