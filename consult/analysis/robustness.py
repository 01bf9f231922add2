"""How sure is each ranking: resampling, weight sensitivity and leave-one-out for area rankings.

A ranking of six areas from a dozen returns can turn on one institution's answer or on a weight
chosen in framework.yaml. This module says, for each country and regionally, how much a rank
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
  ``uncertain`` or ``unrated`` (rules in :func:`_verdict`).

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
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from consult.analysis import intervals, nonresponse, probabilities
from consult.analysis.adjustment import RaterAdjustment, adjust
from consult.analysis.agreement import Agreement, agreement, iqr, rwg
from consult.analysis.evidence import Tier, effective_n_columns, evidence_tier
from consult.analysis.findings import RankingFindings, ranking_findings

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


# ----------------------------------------------------------------------------------------- input


@dataclass(frozen=True)
class RankingInput:
    """One country's ratings as matrices: institutions (rows) x areas (columns, framework order).

    ``ratings`` holds 0-100 values, NaN where the institution did not rate the area (not
    applicable, blank, or not asked); ``weights`` the institution's framework weight for the
    area (only rated cells are read; they must be > 0). ``borda`` is the Borda tie-break: either
    points per area (shape ``(areas,)``, held fixed in every resample) or points per institution
    and area (shape ``(institutions, areas)``), in which case each resample sums the points of
    the institutions it drew, as the ratings. ``absent`` holds, for each invited institution
    that did not respond (rows) and area, its framework weight where it is asked about the area
    and 0 elsewhere (non-response sensitivity); ``invited`` the number of invited institutions
    (0: unknown, taken as the number that responded).
    """

    institutions: tuple[str, ...]
    areas: tuple[str, ...]
    ratings: FloatArray
    weights: FloatArray
    borda: FloatArray = field(default_factory=lambda: np.zeros(0))
    absent: FloatArray = field(default_factory=lambda: np.zeros(0))
    invited: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "institutions", tuple(self.institutions))
        object.__setattr__(self, "areas", tuple(self.areas))
        shape = (len(self.institutions), len(self.areas))
        ratings = np.array(self.ratings, dtype=float).reshape(shape)
        weights = np.array(self.weights, dtype=float).reshape(shape)
        borda = np.array(self.borda, dtype=float)
        absent = np.array(self.absent, dtype=float).reshape(-1, len(self.areas))
        if (absent < 0).any():
            raise ValueError("absent weights must not be negative")
        if borda.size == 0:
            borda = np.zeros(len(self.areas))
        if borda.shape not in ((len(self.areas),), shape):
            raise ValueError(f"borda must have shape {(len(self.areas),)} or {shape}, not {borda.shape}")
        rated = ~np.isnan(ratings)
        if ((ratings[rated] < 0) | (ratings[rated] > 100)).any():
            raise ValueError("ratings must be 0-100 values or NaN")
        if (~(weights[rated] > 0)).any():
            raise ValueError("every rated cell needs a weight > 0")
        if len(set(self.institutions)) != len(self.institutions) or len(set(self.areas)) != len(self.areas):
            raise ValueError("institutions and areas must be unique")
        for name, value in (("ratings", ratings), ("weights", weights), ("borda", borda), ("absent", absent)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def from_records(
        cls,
        areas: Sequence[str],
        records: Iterable[tuple[str, str, float, float]],
        borda: Mapping[str, float] | Mapping[str, Mapping[str, float]] | None = None,
        absent: Mapping[str, Mapping[str, float]] | None = None,
        invited: int = 0,
    ) -> RankingInput:
        """From ``(institution, area, value 0-100, weight)`` records, e.g. the ``ratings`` of each
        area score. ``borda`` is points per area, or per institution then per area; ``absent``
        the framework weights, per area asked, of each invited institution that did not respond.
        Institutions are sorted, so the same records in any order give the same figures."""
        rows = list(records)
        insts = sorted({r[0] for r in rows} | (set(borda) if borda and _nested(borda) else set()))
        col = {a: j for j, a in enumerate(areas)}
        row = {i: k for k, i in enumerate(insts)}
        ratings = np.full((len(insts), len(areas)), np.nan)
        weights = np.zeros((len(insts), len(areas)))
        for inst, area, value, weight in rows:
            if area not in col:
                raise ValueError(f"unknown area {area!r}")
            if not np.isnan(ratings[row[inst], col[area]]):
                raise ValueError(f"{inst} rated {area} twice")
            ratings[row[inst], col[area]] = value
            weights[row[inst], col[area]] = weight
        points: FloatArray
        if borda and _nested(borda):
            points = np.zeros((len(insts), len(areas)))
            for inst, per_area in borda.items():
                for area, p in per_area.items():  # type: ignore[union-attr]
                    points[row[inst], col[area]] = p
        else:
            flat: Mapping[str, Any] = borda or {}
            points = np.array([float(flat.get(a, 0.0)) for a in areas])
        missing = np.array(
            [[float((absent or {})[i].get(a, 0.0)) for a in areas] for i in sorted(absent or {})]
        ).reshape(-1, len(areas))
        return cls(tuple(insts), tuple(areas), ratings, weights, points, missing, invited)

    @classmethod
    def from_score_entry(cls, areas: Sequence[str], entry: Mapping[str, Any]) -> RankingInput:
        """From one country of ``consult score --json`` (``entry["areas"][i]["ratings"]`` and
        ``["borda"]``), areas in framework order. Borda points are then per area, held fixed."""
        records = [
            (r["institution"], a["id"], float(r["value"]), float(r["weight"]))
            for a in entry["areas"]
            for r in a.get("ratings") or ()
        ]
        return cls.from_records(areas, records, {a["id"]: float(a.get("borda") or 0) for a in entry["areas"]})

    @property
    def rated(self) -> npt.NDArray[np.bool_]:
        return ~np.isnan(self.ratings)


def _nested(borda: Mapping[str, Any]) -> bool:
    return any(isinstance(v, Mapping) for v in borda.values())


# ---------------------------------------------------------------------------------------- output


@dataclass(frozen=True)
class Stability:
    """Shares of draws in which an area keeps its rank and is in the top 3."""

    keep_rank: float | None  # None when the area has no rank
    top3: float

    def to_dict(self) -> dict[str, Any]:
        return {"keep_rank": self.keep_rank, "top3": self.top3}


@dataclass(frozen=True)
class NonResponse:
    """The score had the missing invited institutions asked about the area rated it lowest / highest."""

    low: float
    high: float
    missing_asked: int  # invited institutions that did not respond and are asked about the area
    tier_could_change: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "missing_asked": self.missing_asked,
            "tier_could_change": self.tier_could_change,
        }


@dataclass(frozen=True)
class Standing:
    """Where an area stands among the ranked areas, from the exact (or fixed Monte Carlo)
    distribution of the ranking over resampled institutions (consult.analysis.probabilities).
    All None / "unranked" for an area without a rank."""

    tier: int | None = None
    tier_label: str = "unranked"
    p_first: float | None = None
    p_top3: float | None = None
    p_above_next: float | None = None
    rank_interval: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "tier_label": self.tier_label,
            "p_first": self.p_first,
            "p_top3": self.p_top3,
            "p_above_next": self.p_above_next,
            "rank_interval": list(self.rank_interval) if self.rank_interval else None,
        }


class _Standing:
    """The standing's figures as attributes of the area (``area.tier``, ``area.p_top3``, ...)."""

    standing: Standing

    @property
    def tier(self) -> int | None:
        return self.standing.tier

    @property
    def tier_label(self) -> str:
        return self.standing.tier_label

    @property
    def p_first(self) -> float | None:
        return self.standing.p_first

    @property
    def p_top3(self) -> float | None:
        return self.standing.p_top3

    @property
    def p_above_next(self) -> float | None:
        return self.standing.p_above_next

    @property
    def rank_interval(self) -> tuple[int, int] | None:
        return self.standing.rank_interval


@dataclass(frozen=True)
class AreaRobustness(_Standing):
    area: str
    rank: int | None
    score: float | None
    n: int
    n_eff: float
    evidence: Tier
    bootstrap: Stability
    bootstrap_interval: tuple[float, float] | None  # 2.5-97.5 percentiles over the resamples that scored it
    rated_share: float  # share of resamples in which the area has a score at all
    weights: Stability
    unweighted_rank: int | None
    unweighted_score: float | None
    verdict: Verdict
    tied_with: tuple[str, ...]
    standing: Standing = field(default_factory=Standing)
    score_interval: tuple[float, float] | None = None  # 90% Bayesian-bootstrap interval (consult.analysis.intervals)
    non_response: NonResponse | None = None
    rwg: float | None = None
    iqr: float | None = None
    share_4_5: float | None = None  # weighted share of ratings 4-5 (the score table's "agreement" until 0.2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "rank": self.rank,
            "score": self.score,
            "n": self.n,
            "n_eff": self.n_eff,
            "evidence": self.evidence,
            **self.standing.to_dict(),
            "score_interval": list(self.score_interval) if self.score_interval else None,
            "non_response": self.non_response.to_dict() if self.non_response else None,
            "rwg": self.rwg,
            "iqr": self.iqr,
            "share_4_5": self.share_4_5,
            "bootstrap": {
                **self.bootstrap.to_dict(),
                "score_interval": list(self.bootstrap_interval) if self.bootstrap_interval else None,
                "rated": self.rated_share,
            },
            "weights": self.weights.to_dict(),
            "unweighted": {"rank": self.unweighted_rank, "score": self.unweighted_score},
            "verdict": self.verdict,
            "tied_with": list(self.tied_with),
        }


@dataclass(frozen=True)
class Exactness:
    """How the rank probabilities were obtained: every resample enumerated, or Monte Carlo."""

    exact: bool
    resamples: int  # distinct resamples enumerated, or draws
    mc_error: float  # largest standard error of a reported probability; 0.0 when exact

    def to_dict(self) -> dict[str, Any]:
        return {"exact": self.exact, "resamples": self.resamples, "mc_error": self.mc_error}


@dataclass(frozen=True)
class LeaveOneOut:
    """The ranking without one institution's return."""

    institution: str
    ranking: tuple[str, ...]
    changes_top: bool
    changes_top3: bool

    @property
    def top(self) -> str | None:
        return self.ranking[0] if self.ranking else None

    @property
    def top3(self) -> tuple[str, ...]:
        return self.ranking[:TOP]

    def to_dict(self) -> dict[str, Any]:
        return {
            "institution": self.institution,
            "top": self.top,
            "top3": list(self.top3),
            "changes_top": self.changes_top,
            "changes_top3": self.changes_top3,
        }


@dataclass(frozen=True)
class CountryRobustness:
    country: str
    draws: int
    seed: int
    institutions: tuple[str, ...]
    ranking: tuple[str, ...]  # the method's ranking, areas with a score only
    unweighted_ranking: tuple[str, ...]
    bootstrap_same_order: float  # share of resamples with exactly the same ranking
    weights_same_order: float
    areas: tuple[AreaRobustness, ...]  # in rank order, unrated areas last in framework order
    leave_one_out: tuple[LeaveOneOut, ...]
    probabilities: Exactness = field(default_factory=lambda: Exactness(True, 1, 0.0))
    agreement: Agreement = field(default_factory=lambda: Agreement(None, None, 0, 0))
    rater_adjustment: RaterAdjustment | None = None
    responded: int = 0
    invited: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None

    @property
    def ranked(self) -> tuple[AreaRobustness, ...]:
        """The ranked areas (sufficient evidence), in the method's order."""
        return tuple(a for a in self.areas if a.tier is not None)

    def tier_areas(self, tier: int) -> tuple[AreaRobustness, ...]:
        return tuple(a for a in self.ranked if a.tier == tier)

    @property
    def findings(self) -> RankingFindings:
        """What the figures allow a summary to say (leading, trailing, first place, ties)."""
        return ranking_findings(self.ranked)

    @property
    def unweighted_same_order(self) -> bool:
        return self.unweighted_ranking == self.ranking

    @property
    def changes_top(self) -> tuple[str, ...]:
        """Institutions whose removal alone changes the top area."""
        return tuple(x.institution for x in self.leave_one_out if x.changes_top)

    @property
    def changes_top3(self) -> tuple[str, ...]:
        """Institutions whose removal alone changes the set of the top 3 areas."""
        return tuple(x.institution for x in self.leave_one_out if x.changes_top3)

    def area(self, area_id: str) -> AreaRobustness:
        return next(a for a in self.areas if a.area == area_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "draws": self.draws,
            "seed": self.seed,
            "institutions": list(self.institutions),
            "ranking": list(self.ranking),
            "unweighted_ranking": list(self.unweighted_ranking),
            "unweighted_same_order": self.unweighted_same_order,
            "bootstrap_same_order": self.bootstrap_same_order,
            "weights_same_order": self.weights_same_order,
            "areas": [a.to_dict() for a in self.areas],
            "leave_one_out": [x.to_dict() for x in self.leave_one_out],
            "changes_top": list(self.changes_top),
            "changes_top3": list(self.changes_top3),
            "probabilities": self.probabilities.to_dict(),
            "findings": self.findings.to_dict(),
            "agreement": self.agreement.to_dict(),
            "rater_adjustment": self.rater_adjustment.to_dict() if self.rater_adjustment else None,
            "responded": self.responded,
            "invited": self.invited,
            "response_rate": self.response_rate,
        }


@dataclass(frozen=True)
class RegionalAreaRobustness(_Standing):
    area: str
    rank: int | None
    mean: float | None
    countries: int  # countries with a score for the area
    bootstrap: Stability
    mean_interval: tuple[float, float] | None
    verdict: Verdict
    tied_with: tuple[str, ...]
    standing: Standing = field(default_factory=Standing)
    score_interval: tuple[float, float] | None = None  # 90% interval of the mean (Bayesian bootstrap)
    non_response: NonResponse | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "rank": self.rank,
            "mean": self.mean,
            "countries": self.countries,
            **self.standing.to_dict(),
            "score_interval": list(self.score_interval) if self.score_interval else None,
            "non_response": self.non_response.to_dict() if self.non_response else None,
            "bootstrap": {
                **self.bootstrap.to_dict(),
                "mean_interval": list(self.mean_interval) if self.mean_interval else None,
            },
            "verdict": self.verdict,
            "tied_with": list(self.tied_with),
        }


@dataclass(frozen=True)
class RegionalRobustness:
    countries: tuple[str, ...]
    draws: int
    seed: int
    ranking: tuple[str, ...]
    same_order: float
    areas: tuple[RegionalAreaRobustness, ...]
    probabilities: Exactness = field(default_factory=lambda: Exactness(True, 1, 0.0))

    def area(self, area_id: str) -> RegionalAreaRobustness:
        return next(a for a in self.areas if a.area == area_id)

    @property
    def ranked(self) -> tuple[RegionalAreaRobustness, ...]:
        return tuple(a for a in self.areas if a.tier is not None)

    def tier_areas(self, tier: int) -> tuple[RegionalAreaRobustness, ...]:
        return tuple(a for a in self.ranked if a.tier == tier)

    @property
    def findings(self) -> RankingFindings:
        return ranking_findings(self.ranked)

    def to_dict(self) -> dict[str, Any]:
        return {
            "countries": list(self.countries),
            "draws": self.draws,
            "seed": self.seed,
            "ranking": list(self.ranking),
            "bootstrap_same_order": self.same_order,
            "areas": [a.to_dict() for a in self.areas],
            "probabilities": self.probabilities.to_dict(),
            "findings": self.findings.to_dict(),
        }


@dataclass(frozen=True)
class Robustness:
    """The whole analysis: every country, and the regional ranking over them."""

    draws: int
    seed: int
    countries: dict[str, CountryRobustness]
    regional: RegionalRobustness | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": method(self.draws, self.seed),
            "countries": {c: r.to_dict() for c, r in self.countries.items()},
            "regional": self.regional.to_dict() if self.regional else None,
        }


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


# ------------------------------------------------------------------------------------ the engine


def _rng(seed: int, country: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(country.encode("utf-8")), stream])


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


def _interval(values: FloatArray) -> tuple[float, float] | None:
    present = values[~np.isnan(values)]
    if present.size == 0:
        return None
    low, high = np.percentile(present, INTERVAL)
    return float(low), float(high)


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
        counts = _rng(seed, country, 0).multinomial(n_inst, np.full(n_inst, 1.0 / n_inst), size=draws).astype(float)
    else:
        counts = np.zeros((draws, 0))
    boot_score, boot_n, boot_borda = _scores(counts, data)
    boot_rank, _ = _ranks(boot_score, boot_borda, boot_n)

    # weight sensitivity: every rated weight times U[0.5, 1.5]
    rated = data.rated
    factor = _rng(seed, country, 1).uniform(WEIGHT_LOW, WEIGHT_HIGH, size=(draws, n_inst, n_areas))
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
                bootstrap_interval=_interval(boot_score[:, j]),
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
                mean_interval=_interval(boot_mean[:, j]),
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
