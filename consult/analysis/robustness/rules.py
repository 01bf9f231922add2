"""The rules and thresholds of the robustness analysis, in one place.

The words of a synthesis ("stable", "tied") follow from these numbers, and docs/methodology.md
states them for readers; ``consult score --json`` prints them back (:func:`method`) so that a
reader can recompute every verdict from the export alone.
"""

from __future__ import annotations

import zlib
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from consult.analysis import intervals, probabilities

DRAWS = 2000
SEED = 20210
WEIGHT_LOW, WEIGHT_HIGH = 0.5, 1.5
STABLE_SHARE = 0.80  # a rank kept in at least this share of resamples (and of weight draws) is stable
TIE_FLIP_SHARE = 0.10  # two areas whose order reverses in at least this share of draws are tied
TOP = 3
INTERVAL = (2.5, 97.5)
SCORE_DECIMALS = 9
AGREEMENT_DRAWS = 2000  # resamples for the interval of alpha when there are more (fixed stream)

Verdict = Literal["stable", "tie", "low_evidence", "uncertain", "unrated"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def method(draws: int = DRAWS, seed: int = SEED) -> dict[str, Any]:
    """The rules and thresholds, for the ``method`` block of ``consult score --json``."""
    return {
        "draws": draws,
        "seed": seed,
        "bootstrap": "institutions resampled with replacement within each country",
        "weight_factor": [WEIGHT_LOW, WEIGHT_HIGH],
        "interval_percentiles": list(INTERVAL),
        "stable_share": STABLE_SHARE,
        "tie_flip_share": TIE_FLIP_SHARE,
        "score_decimals_for_ties": SCORE_DECIMALS,
        "ranking": "score desc, Borda desc, n desc, framework order",
        "regional_ranking": "mean of country scores desc, framework order",
        "rank_probabilities": {
            "resamples": "every resample of the responding institutions when C(2n-1, n) <= "
            f"{probabilities.EXACT_MAX_RESAMPLES}, else {probabilities.MC_DRAWS} from a fixed stream (not the seed)",
            "rank_interval_quantiles": list(probabilities.RANK_QUANTILES),
            "tiers": "1 leading: P(top 3) >= 0.95; 3 trailing: P(top 3) <= 0.05; 2 middle: otherwise",
            "separated": probabilities.SEPARATE,
            "regional_draws": probabilities.MC_DRAWS,
        },
        "score_interval": {
            "method": "Bayesian bootstrap with a prior worth one rater spread evenly over the 1-5 scale",
            "prior_raters": intervals.PRIOR_RATERS,
            "draws": intervals.DRAWS,
            "percentiles": list(intervals.PERCENTILES),
        },
        "agreement": "Krippendorff's alpha (ordinal), units = areas, coders = institutions; 90% resampling interval",
        "dispersion": "rwg = 1 - s^2 / 2 per area (1-5 ratings, sample variance)",
        "non_response": "missing invited institutions asked about the area at 1 (low) or 5 (high), framework weights",
        "rater_adjustment": "least squares value = mu + institution + area; top three compared",
    }


def random_stream(seed: int, country: str, stream: int) -> np.random.Generator:
    """The random numbers of one country's ``stream``: seeded with ``(seed, crc32(country),
    stream)`` so that a country's figures depend only on its own data and the seed, not on
    which other countries are analysed (comparing two rounds draws the same way)."""
    return np.random.default_rng([seed, zlib.crc32(country.encode("utf-8")), stream])


def percentile_interval(values: FloatArray) -> tuple[float, float] | None:
    """The ``INTERVAL`` percentiles of the draws that have a value; None when none has one."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return None
    low, high = np.percentile(present, INTERVAL)
    return float(low), float(high)
