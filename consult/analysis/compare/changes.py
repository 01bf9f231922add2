"""What a comparison of two rounds finds, as records with ``to_dict()`` for JSON.

Per area of a country (:class:`AreaChange`: both sides, the change, the change on the
institutions that answered in both rounds), per country (:class:`CountryChange`: respondents,
areas, top components, themes), per area of the region (:class:`RegionalChange`) and the whole
(:class:`Comparison`, with the method block of the JSON).

Why a module of its own: the report's change section and ``consult compare --json`` read these
records and nothing of the resampling behind them, so the records are kept apart from the
engine that fills them and from the figures it draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consult.analysis.compare.figures import CLEAR, Change, Side
from consult.analysis.robustness import DRAWS, INTERVAL, SEED
from consult.definitions.framework import Text


@dataclass
class AreaChange:
    id: str
    name: Text
    short: Text
    sources: list[str]  # earlier ids whose figures this area receives ([] : new, not comparable)
    earlier: Side
    later: Side
    change: Change
    common: Change  # on the institutions that answered in both rounds
    common_n: tuple[int, int] = (0, 0)  # ratings of common institutions, earlier and later

    @property
    def comparable(self) -> bool:
        return bool(self.sources)

    @property
    def rank_move(self) -> int | None:
        """Places gained (positive) or lost (negative) among the areas both rounds have (a new
        area pushing the others down is not a move); None without a rank in both rounds."""
        if self.earlier.comparable_rank is None or self.later.comparable_rank is None:
            return None
        return self.earlier.comparable_rank - self.later.comparable_rank

    @property
    def respondents_only(self) -> bool:
        """A clear change that the institutions answering in both rounds do not show."""
        return self.change.direction in ("rose", "fell") and self.common.direction != self.change.direction

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "short": self.short,
            "comparable": self.comparable,
            "sources": self.sources,
            "earlier": self.earlier.to_dict(),
            "later": self.later.to_dict(),
            **self.change.to_dict(),
            "rank_move": self.rank_move,
            "common_institutions": {**self.common.to_dict(), "n": list(self.common_n)},
            "respondents_only": self.respondents_only,
        }


@dataclass
class CountryChange:
    code: str
    name: Text
    earlier_institutions: list[str]
    later_institutions: list[str]
    areas: list[AreaChange]  # in the later round's rank order
    top_earlier: list[str]
    top_later: list[str]
    new_components: list[str]  # later components with no earlier figure
    themes: dict[str, dict[str, int]]  # component -> {"earlier": n, "later": n}, mentioned in either round

    @property
    def common(self) -> list[str]:
        return sorted(set(self.earlier_institutions) & set(self.later_institutions))

    @property
    def entered(self) -> list[str]:
        return [c for c in self.top_later if c not in self.top_earlier]

    @property
    def left(self) -> list[str]:
        return [c for c in self.top_earlier if c not in self.top_later]

    @property
    def new_themes(self) -> list[str]:
        return [c for c, n in self.themes.items() if n["later"] and not n["earlier"]]

    @property
    def faded_themes(self) -> list[str]:
        return [c for c, n in self.themes.items() if n["earlier"] and not n["later"]]

    def area(self, area_id: str) -> AreaChange:
        return next(a for a in self.areas if a.id == area_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "respondents": {
                "earlier": self.earlier_institutions,
                "later": self.later_institutions,
                "common": self.common,
                "only_earlier": sorted(set(self.earlier_institutions) - set(self.later_institutions)),
                "only_later": sorted(set(self.later_institutions) - set(self.earlier_institutions)),
            },
            "areas": [a.to_dict() for a in self.areas],
            "top_components": {
                "earlier": self.top_earlier,
                "later": self.top_later,
                "entered": self.entered,
                "left": self.left,
                "not_comparable": [c for c in self.entered if c in self.new_components],
            },
            "themes": {"mentions": self.themes, "new": self.new_themes, "faded": self.faded_themes},
        }


@dataclass
class RegionalChange:
    id: str
    earlier: float | None
    later: float | None
    countries: list[str]  # with a score in both rounds
    change: Change
    earlier_rank: int | None  # among the areas both rounds have
    later_rank: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "earlier_mean": self.earlier,
            "later_mean": self.later,
            "countries": self.countries,
            **self.change.to_dict(),
            "earlier_rank": self.earlier_rank,
            "later_rank": self.later_rank,
            "rank_move": None
            if self.earlier_rank is None or self.later_rank is None
            else self.earlier_rank - self.later_rank,
        }


@dataclass
class Comparison:
    earlier_round: str
    later_round: str
    earlier_framework: str
    later_framework: str
    mapping_file: str
    countries: dict[str, CountryChange]
    regional: list[RegionalChange]
    not_comparable: list[str]  # later areas with no earlier figure
    dropped: dict[str, list[str]]  # earlier ids with no later counterpart, by kind
    earlier_names: dict[str, Text] = field(default_factory=dict)  # names of the dropped ids
    draws: int = DRAWS
    seed: int = SEED

    def to_dict(self) -> dict[str, Any]:
        return {
            "earlier": {"round": self.earlier_round, "framework": self.earlier_framework},
            "later": {"round": self.later_round, "framework": self.later_framework},
            "mapping": self.mapping_file or None,
            "method": {
                "change": "later score - earlier score, both in the later ids and weights",
                "resampling": f"institutions resampled with replacement, {self.draws} draws per round, "
                f"rounds independent, seed {self.seed}",
                "p_rose": "share of draws in which the change is positive (ties count half)",
                "interval": f"{INTERVAL[0]}-{INTERVAL[1]} percentile of the resampled change",
                "clear": f"P(rose) >= {CLEAR} (rose) or <= {round(1 - CLEAR, 10)} (fell)",
                "respondents_only": "a clear change not shown, in the same direction, by the institutions "
                "that answered in both rounds",
            },
            "countries": {c: v.to_dict() for c, v in self.countries.items()},
            "regional": [r.to_dict() for r in self.regional],
            "not_comparable": self.not_comparable,
            "dropped": self.dropped,
        }
