"""What the robustness analysis takes and gives: typed input matrices and result records.

Kept apart from the engine so that the report and the CLI, which only read results, and the
tests, which build inputs by hand, depend on plain typed structures rather than on the NumPy
machinery that fills them. Every result has ``to_dict()`` for ``consult score --json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from consult.analysis.adjustment import RaterAdjustment
from consult.analysis.agreement import Agreement
from consult.analysis.evidence import Tier
from consult.analysis.findings import RankingFindings, ranking_findings
from consult.analysis.robustness.rules import TOP, FloatArray, Verdict, method

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
