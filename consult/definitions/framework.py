"""The programme framework: areas, components, countries, institutions and their weights.

Built from an already validated ``framework.yaml`` mapping (see :mod:`consult.schema`), so the
constructors trust their input's shape and only derive lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Text = dict[str, str]


def text(value: Text, lang: str, fallback: str = "en") -> str:
    """A label in ``lang``, falling back to another language rather than to nothing."""
    return value.get(lang) or value.get(fallback) or next(iter(value.values()), "")


@dataclass(frozen=True)
class Component:
    id: str  # full id, "AREA.key"
    key: str
    area: str
    name: Text
    short: Text = field(default_factory=dict)  # for drop-down lists; empty: the name


@dataclass
class Area:
    id: str
    name: Text
    short: Text
    sdgs: list[int]
    components: list[Component]


@dataclass(frozen=True)
class Country:
    code: str
    name: Text
    subregion: str


@dataclass
class Assignment:
    """One area an institution is asked about, with the weight of its answers."""

    area: str
    weight: float
    components: list[str]  # component keys asked
    component_weights: dict[str, float] = field(default_factory=dict)

    def weight_for(self, component_key: str | None) -> float:
        if component_key is None:
            return self.weight
        return self.component_weights.get(component_key, self.weight)


@dataclass
class Institution:
    id: str
    name: Text
    short: Text
    areas: dict[str, Assignment]


@dataclass(frozen=True)
class Principle:
    id: str
    name: Text


@dataclass
class Framework:
    id: str
    title: Text
    period: str
    languages: list[str]
    principles: list[Principle]
    countries: list[Country]
    areas: list[Area]
    institutions: list[Institution]

    def __post_init__(self) -> None:
        self.area_by_id = {a.id: a for a in self.areas}
        self.country_by_code = {c.code: c for c in self.countries}
        self.institution_by_id = {i.id: i for i in self.institutions}
        self.component_by_id = {c.id: c for a in self.areas for c in a.components}

    def area_order(self, area_id: str) -> int:
        return next(i for i, a in enumerate(self.areas) if a.id == area_id)

    def weight(self, institution: str, area: str, component: str | None = None) -> float:
        """Weight of an institution's rating; 1 where the framework says nothing."""
        inst = self.institution_by_id.get(institution)
        assignment = inst.areas.get(area) if inst else None
        if assignment is None:
            return 1.0
        key = component.split(".", 1)[1] if component and "." in component else component
        return assignment.weight_for(key)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Framework:
        areas = []
        for a in data["areas"]:
            comps = [
                Component(
                    id=f"{a['id']}.{c['id']}", key=c["id"], area=a["id"], name=c["name"], short=c.get("short") or {}
                )
                for c in a["components"]
            ]
            areas.append(
                Area(
                    id=a["id"],
                    name=a["name"],
                    short=a.get("short", a["name"]),
                    sdgs=list(a.get("sdgs", [])),
                    components=comps,
                )
            )
        comp_keys = {a.id: [c.key for c in a.components] for a in areas}
        institutions = []
        for i in data["institutions"]:
            assignments = {}
            for area_id, spec in (i.get("areas") or {}).items():
                spec = spec or {}
                if isinstance(spec, (int, float)):
                    spec = {"weight": spec}
                assignments[area_id] = Assignment(
                    area=area_id,
                    weight=float(spec.get("weight", 1)),
                    components=list(spec.get("components") or comp_keys.get(area_id, [])),
                    component_weights={k: float(v) for k, v in (spec.get("component_weights") or {}).items()},
                )
            institutions.append(
                Institution(id=i["id"], name=i["name"], short=i.get("short", i["name"]), areas=assignments)
            )
        return cls(
            id=data["id"],
            title=data["title"],
            period=str(data.get("period", "")),
            languages=list(data.get("languages", ["en", "ru"])),
            principles=[Principle(p["id"], p["name"]) for p in data.get("principles", [])],
            countries=[Country(c["code"], c["name"], c.get("subregion", "")) for c in data["countries"]],
            areas=areas,
            institutions=institutions,
        )
