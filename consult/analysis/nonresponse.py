"""What the institutions that did not respond could have changed.

Scores describe the institutions that responded. For each area we ask: had every invited
institution that did not respond, and that the framework asks about the area, rated it
lowest (1 → 0) or highest (5 → 100) with its framework weight, where would the score be?

    low  = Σ wᵢ vᵢ / (Σ wᵢ + Σ wₘ)             high = (Σ wᵢ vᵢ + 100 Σ wₘ) / (Σ wᵢ + Σ wₘ)

(i over the ratings received, m over the missing institutions asked about the area). The
area's **tier could change** when, the other ranked areas keeping their scores, it would be in
the top three at one end of its range and not at the other (tiers are about the top three,
consult.analysis.probabilities): at ``low`` it counts every other area scoring ``low`` or more
above it, at ``high`` only those scoring more than ``high``. Example (bundled demo, KG
corruption): 100 from two raters of weight 1, missing institutions asked about it with weights
summing to 7: low = 200 / 9 = 22.2, high = 100.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def score_range(ratings: FloatArray, weights: FloatArray, absent: FloatArray) -> list[tuple[float, float] | None]:
    """(low, high) per area; ``absent`` is missing institutions x areas, their weight where asked, else 0."""
    rated = ~np.isnan(ratings)
    w = np.where(rated, weights, 0.0)
    num = (w * np.where(rated, ratings, 0.0)).sum(axis=0)
    den = w.sum(axis=0)
    extra = absent.sum(axis=0) if absent.size else np.zeros(ratings.shape[1])
    out: list[tuple[float, float] | None] = []
    for j in range(ratings.shape[1]):
        if den[j] <= 0:
            out.append(None)
        else:
            total = den[j] + extra[j]
            out.append((float(num[j] / total), float((num[j] + 100.0 * extra[j]) / total)))
    return out


def tier_could_change(span: tuple[float, float], others: Sequence[float], top: int = 3) -> bool:
    """Whether an area whose score could lie anywhere in ``span`` is in the top ``top`` at one end
    and not at the other (``others``: the scores of the other ranked areas)."""
    low, high = span
    top_at_low = sum(1 for s in others if s >= low) < top
    top_at_high = sum(1 for s in others if s > high) < top
    return top_at_low != top_at_high
