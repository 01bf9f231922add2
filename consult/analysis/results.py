"""Typed results of scoring: what ``consult score --json`` prints and the synthesis reads.

The dataclasses are the contract between layers (no nested ``dict[str, Any]`` passed
around); ``to_dict()`` gives the JSON shape documented in the README, full precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consult.analysis.coverage import CountryCoverage
from consult.analysis.robustness import Robustness
from consult.definitions.framework import Text


@dataclass
class Rating:
    institution: str
    rating: float  # a code 1-5; a mean rating when read through a mapping (consult.analysis.mapped)
    value: float
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Excerpt:
    """A taxonomy match: counted as a mention, quoted only as an excerpt in the JSON."""

    institution: str
    question: str  # the item id of the answer
    term: str
    excerpt: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Scored:
    score: float | None
    n: int
    weight_sum: float
    agreement: float | None
    spread: float | None
    low_evidence: bool
    effective_n: float
    ratings: list[Rating]
    borda: int = 0
    mentions: int = 0
    excerpts: list[Excerpt] = field(default_factory=list)

    @property
    def evidence(self) -> str:
        """ "none" (not rated), "low" (marked †, never ranked) or "sufficient"."""
        if self.score is None:
            return "none"
        return "low" if self.low_evidence else "sufficient"

    def _base(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "n": self.n,
            "weight_sum": self.weight_sum,
            "effective_n": self.effective_n,
            "agreement": self.agreement,
            "spread": self.spread,
            "low_evidence": self.low_evidence,
            "evidence": self.evidence,
            "borda": self.borda,
            "mentions": self.mentions,
            "ratings": [r.to_dict() for r in self.ratings],
            "excerpts": [e.to_dict() for e in self.excerpts],
        }


@dataclass(kw_only=True)
class ComponentScore(_Scored):
    id: str
    area: str
    name: Text
    votes: int = 0  # institutions that put it in their top-N

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "area": self.area, "name": self.name, **self._base(), "votes": self.votes}


@dataclass(kw_only=True)
class AreaScore(_Scored):
    id: str
    name: Text
    short: Text
    rank: int | None = None  # among areas with sufficient evidence
    top_components: list[str] = field(default_factory=list)
    asked: int = 0  # responding institutions that were asked about the area

    @property
    def borda_per_asked(self) -> float | None:
        """Borda points per institution asked: comparable across areas put to more or fewer
        institutions (the raw total only breaks exact ties of score)."""
        return self.borda / self.asked if self.asked else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "short": self.short,
            "rank": self.rank,
            **self._base(),
            "asked": self.asked,
            "borda_per_asked": self.borda_per_asked,
            "top_components": self.top_components,
        }


@dataclass
class CountryScore:
    code: str
    areas: list[AreaScore]  # in ranked order
    components: list[ComponentScore]  # in ranked order
    coverage: CountryCoverage
    returns: list[int]

    def area(self, area_id: str) -> AreaScore:
        return next(a for a in self.areas if a.id == area_id)

    def component(self, comp_id: str) -> ComponentScore:
        return next(c for c in self.components if c.id == comp_id)

    def to_dict(self) -> dict[str, Any]:
        cov = self.coverage
        return {
            "areas": [a.to_dict() for a in self.areas],
            "components": [c.to_dict() for c in self.components],
            "coverage": {
                "invited": cov.invited,
                "responded": cov.responded,
                "accepted": cov.accepted,
                "incomplete": cov.incomplete,
                "missing": cov.missing,
                "latest": cov.latest,
                "institutions": {i: s.status for i, s in cov.institutions.items()},
            },
            "returns": self.returns,
        }


@dataclass
class RegionalArea:
    id: str
    name: Text
    short: Text
    scores: dict[str, float | None]
    ranks: dict[str, int | None]
    mean: float | None  # over the countries that rated the area (low-evidence scores included, marked)
    top3_in: list[str]
    n: dict[str, int] = field(default_factory=dict)
    low_evidence: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Outlier:
    country: str
    area: str
    score: float
    others_mean: float
    difference: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RegionalScore:
    countries: list[str]
    areas: list[RegionalArea]
    ranking: list[str]
    shared: list[str]
    outliers: list[Outlier]

    def to_dict(self) -> dict[str, Any]:
        return {
            "countries": self.countries,
            "areas": [a.to_dict() for a in self.areas],
            "ranking": self.ranking,
            "shared": self.shared,
            "outliers": [o.to_dict() for o in self.outliers],
        }


@dataclass
class ScoreResult:
    round: str
    method: dict[str, Any]
    countries: dict[str, CountryScore]
    regional: RegionalScore | None = None
    robustness: Robustness | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "method": self.method,
            "countries": {c: v.to_dict() for c, v in self.countries.items()},
            "regional": self.regional.to_dict() if self.regional else None,
            "robustness": self.robustness.to_dict() if self.robustness else None,
        }
