"""How much evidence a score rests on: the number of raters and the effective number of raters.

The method flags a score as low evidence when it rests on few ratings. Counting raters alone
misleads once weights differ: with a partial response one lead institution of weight 3 and
one other of weight 1 make n = 2 but the lead carries 75% of the score. The *effective number
of raters* (Kish's effective sample size for weighted means) says how many equally weighted
raters would give an estimate of the same precision:

    n_eff = (Σ wᵢ)² / Σ wᵢ²

It equals n when all weights are equal and falls towards 1 as one weight dominates. Examples:
weights (1, 1, 1) give 3.0; (2, 1, 1) give 16 / 6 = 2.67; (3, 1, 1) give 25 / 11 = 2.27.

Evidence tier of a score (docs/methodology.md, "Robustness and evidence"):

* ``sufficient``: n >= 3 and n_eff >= 2.5 (three raters, none of them carrying most of the weight);
* ``low``: at least one rating, but not sufficient: to be shown with its flag, not as a country position;
* ``none``: no rating at all (no score).

The n_eff threshold 2.5 sits between the cases it must separate: three raters with one lead of
weight 2 (2.67, sufficient) and three raters with one lead of weight 3 (2.27, low: the lead carries
60% of the score).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import numpy.typing as npt

SUFFICIENT_N = 3
SUFFICIENT_N_EFF = 2.5

Tier = Literal["sufficient", "low", "none"]
TIERS: tuple[Tier, ...] = ("sufficient", "low", "none")


def effective_n(weights: Iterable[float]) -> float:
    """Kish's effective number of raters, (Σw)² / Σw²; 0.0 for no (or only zero) weights."""
    w = np.asarray(list(weights), dtype=float)
    if w.size and (w < 0).any():
        raise ValueError("weights must not be negative")
    squares = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / squares if squares > 0 else 0.0


def effective_n_columns(weights: npt.ArrayLike, rated: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """n_eff per column of a raters x items weight matrix, counting only the rated cells."""
    w = np.where(np.asarray(rated, dtype=bool), np.asarray(weights, dtype=float), 0.0)
    total = w.sum(axis=0)
    squares = (w * w).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(squares > 0, total * total / np.where(squares > 0, squares, 1.0), 0.0)


def evidence_tier(n: int, n_eff: float) -> Tier:
    """The evidence tier of a score from its number of ratings and effective number of raters."""
    if n <= 0:
        return "none"
    if n >= SUFFICIENT_N and n_eff >= SUFFICIENT_N_EFF - 1e-9:
        return "sufficient"
    return "low"


def tier_of(weights: Iterable[float]) -> Tier:
    """The evidence tier of a score from the weights of the ratings it rests on."""
    w = list(weights)
    return evidence_tier(len(w), effective_n(w))
