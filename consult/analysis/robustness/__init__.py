"""How sure is each ranking: resampling, weight sensitivity and leave-one-out for area rankings.

A ranking of six areas from a dozen returns can turn on one institution's answer or on a weight
chosen in framework.yaml. This package says, for each country and regionally, how much a rank
can be trusted, so that the synthesis states a rank as a finding only when it is one
(docs/methodology.md, "Robustness and evidence", states the same rules for readers):

* **bootstrap**: the institutions that responded are resampled with replacement (``draws``
  resamples, 2,000 by default, fixed seed); each resample is scored and ranked by the method's
  rule, and for each area we report the share of resamples in which it keeps its rank, the
  share in which it is in the top 3, and the 2.5-97.5 percentile interval of its score;
* **weight sensitivity**: every framework weight (institution x area) is multiplied by an
  independent factor drawn from U[0.5, 1.5]; the same shares are reported; and the ranking
  with all weights equal (the unweighted ranking) is compared with the weighted one;
* **leave one institution out**: each institution is removed in turn; those whose removal
  changes the top area or the top-3 set are named;
* a **verdict** per rank: ``stable``, ``tie`` (with the areas it is tied with), ``low_evidence``,
  ``uncertain`` or ``unrated`` (rules in ``engine._verdict``).

The ranking rule is the method's (section 7): score descending, then Borda points descending,
then n descending, then framework order. Scores equal to 9 decimal places count as equal, so
that two sums of the same numbers in another order (which can differ in the last bit) rank
alike. Regionally, areas are ranked by the mean of the country scores over the countries that
scored them, then framework order (section 9).

Everything is vectorised with NumPy: a resample is a row of counts (how often each institution
was drawn), so all resamples of a country are one matrix product. Random numbers come from
``numpy.random.default_rng`` seeded with ``(seed, crc32(country), stream)``: a country's figures
depend only on its own data and the seed, not on which other countries are analysed.

Input is a plain typed structure (:class:`RankingInput`), built from matrices or from rating
records (:meth:`RankingInput.from_records`); output is dataclasses with ``to_dict()`` for JSON.

The package is cut by what each part holds: ``rules`` (the thresholds and the ``method`` block of
the JSON), ``model`` (the input matrices and the result records), ``engine`` (the resampling and
the verdicts); what other modules use is imported from here.
"""

from __future__ import annotations

from consult.analysis.robustness.engine import analyse, analyse_country
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
    INTERVAL,
    SCORE_DECIMALS,
    SEED,
    STABLE_SHARE,
    TIE_FLIP_SHARE,
    TOP,
    WEIGHT_HIGH,
    WEIGHT_LOW,
    Verdict,
    method,
)

__all__ = [
    "AGREEMENT_DRAWS",
    "DRAWS",
    "INTERVAL",
    "SCORE_DECIMALS",
    "SEED",
    "STABLE_SHARE",
    "TIE_FLIP_SHARE",
    "TOP",
    "WEIGHT_HIGH",
    "WEIGHT_LOW",
    "AreaRobustness",
    "CountryRobustness",
    "Exactness",
    "LeaveOneOut",
    "NonResponse",
    "RankingInput",
    "RegionalAreaRobustness",
    "RegionalRobustness",
    "Robustness",
    "Stability",
    "Standing",
    "Verdict",
    "analyse",
    "analyse_country",
    "method",
]
