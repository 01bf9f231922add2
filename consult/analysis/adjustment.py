"""Rater adjustment, as a check: would the order change if generous raters were discounted?

Institutions are not asked about every area, and some rate everything higher than others.
A generous institution asked about some areas only lifts those areas. The check fits the
additive model

    valueᵢₐ = μ + αᵢ + βₐ + error

by least squares over the rated cells (0–100 values, unweighted: the model describes raters,
not the framework's weights; minimum-norm solution, which fixes the arbitrary constants
without changing any fitted value) and gives each area the **adjusted score**
μ + mean(α) + βₐ: what the average responding institution would give it. The adjusted order of
the ranked areas (the method's tie-breaks on exact equality) is compared with the method's;
where the top three differ, in membership or order, the synthesis's method notes say so.
The adjusted scores are a check, never the published scores: the model assumes a rater's
generosity is the same for every area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
TOP = 3


@dataclass(frozen=True)
class RaterAdjustment:
    scores: dict[str, float | None]  # adjusted score of every area with a rating
    ranking: tuple[str, ...]  # the ranked areas by adjusted score
    changes_top3: bool  # the first three differ from the method's (membership or order)

    def to_dict(self) -> dict[str, Any]:
        return {"scores": self.scores, "ranking": list(self.ranking), "changes_top3": self.changes_top3}


def adjusted_scores(ratings: FloatArray) -> FloatArray:
    """μ + mean(α) + βₐ per area of ``ratings`` (institutions x areas, NaN unrated); NaN for unrated areas."""
    rows, cols = np.nonzero(~np.isnan(ratings))
    n_inst, n_areas = ratings.shape
    out = np.full(n_areas, np.nan)
    if rows.size == 0:
        return out
    design = np.zeros((rows.size, 1 + n_inst + n_areas))
    design[:, 0] = 1.0
    design[np.arange(rows.size), 1 + rows] = 1.0
    design[np.arange(rows.size), 1 + n_inst + cols] = 1.0
    coef, *_ = np.linalg.lstsq(design, ratings[rows, cols], rcond=None)
    raters = np.unique(rows)
    base = coef[0] + coef[1 + raters].mean()
    rated = np.unique(cols)
    out[rated] = base + coef[1 + n_inst + rated]
    return out


def adjust(areas: Sequence[str], ratings: FloatArray, ranking: Sequence[str]) -> RaterAdjustment:
    """The check for one country: adjusted scores, the adjusted order of ``ranking`` (the method's
    ranked areas in order), and whether its top three change."""
    adj = adjusted_scores(ratings)
    index = {a: j for j, a in enumerate(areas)}
    order = sorted(ranking, key=lambda a: (-round(float(adj[index[a]]), 9), ranking.index(a)))
    return RaterAdjustment(
        scores={a: (None if np.isnan(adj[j]) else float(adj[j])) for j, a in enumerate(areas)},
        ranking=tuple(order),
        changes_top3=tuple(order[:TOP]) != tuple(ranking[:TOP]),
    )
