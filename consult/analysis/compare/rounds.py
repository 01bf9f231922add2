"""One round of a country read in the later definitions' ids, and both rounds loaded.

A comparison reads both rounds through the declared mapping (:mod:`consult.definitions.mapping`)
in the later framework's terms: :func:`map_country` gives each institution's mapped ratings of
the later areas and components, its ranking points and the keyword mentions of its free text
(the rules are in :mod:`consult.analysis.compare`), so the engine compares like with like.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from consult.analysis.data import CountryData, RoundData, load_round
from consult.analysis.scoring import rating_value
from consult.definitions.framework import Framework
from consult.definitions.mapping import Kind, Mapping, mapping_between
from consult.definitions.taxonomy import Taxonomy
from consult.errors import ConsultError
from consult.workspace import open_store, open_workspace


@dataclass
class MappedCountry:
    """One country's answers of one round in the later ids: (institution, id) -> 0-100 value."""

    institutions: list[str]  # institutions with a current return, later ids (a dropped one keeps its id)
    areas: dict[tuple[str, str], float] = field(default_factory=dict)
    components: dict[tuple[str, str], float] = field(default_factory=dict)
    borda: dict[str, dict[str, float]] = field(default_factory=dict)  # institution -> later area -> points
    component_borda: dict[str, float] = field(default_factory=dict)
    area_mentions: dict[str, int] = field(default_factory=dict)
    component_mentions: dict[str, int] = field(default_factory=dict)


def _mean_into(target: dict[tuple[str, str], float], values: dict[tuple[str, str], list[float]]) -> None:
    for key, vs in values.items():
        target[key] = sum(vs) / len(vs)


def map_country(
    data: CountryData, mapping: Mapping, later: Framework, taxonomy: Taxonomy, size: int, mapped: bool = True
) -> MappedCountry:
    """A country's current returns of one round, read in the later ids (``mapped=False``: the
    round is already in the later ids)."""
    ident = Mapping.identity(later.id)
    m = mapping if mapped else ident

    def inst_of(return_id: int) -> str:
        old = data.institution_of.get(return_id, "")
        return m.institution(old) or old

    out = MappedCountry(sorted({inst_of(r.id) for r in data.returns}))
    ratings: tuple[tuple[str, Kind, Collection[str], dict[tuple[str, str], float]], ...] = (
        ("area_priority", "areas", later.area_by_id.keys(), out.areas),
        ("component_priority", "components", later.component_by_id.keys(), out.components),
    )
    for role, kind, known, into in ratings:
        values: dict[tuple[str, str], list[float]] = {}
        for a in data.by_role(role):
            value = rating_value(a.value)
            rated = a.area if kind == "areas" else a.component
            if value is None or not rated:
                continue
            for t in m.targets(kind, rated):
                if t in known:
                    values.setdefault((inst_of(a.return_id), t), []).append(value)
        _mean_into(into, values)
    for a in data.by_role("ranking"):
        if not isinstance(a.value, list):
            continue
        mine = out.borda.setdefault(inst_of(a.return_id), {})
        for pos, comp in enumerate(a.value[:size], start=1):
            targets = [t for t in m.targets("components", str(comp)) if t in later.component_by_id]
            for t in targets:
                points = (size + 1 - pos) / len(targets)
                out.component_borda[t] = out.component_borda.get(t, 0.0) + points
                area = later.component_by_id[t].area
                mine[area] = mine.get(area, 0.0) + points
    _count_mentions(out, data, taxonomy, later)
    return out


def _count_mentions(out: MappedCountry, data: CountryData, taxonomy: Taxonomy, later: Framework) -> None:
    """Mentions in the later framework's terms, counted into ``out``: an answer counts once per
    area and once per component however often it names them."""
    for a in data.by_role(*taxonomy.sources):
        if not isinstance(a.value, str):
            continue
        areas: set[str] = set()
        comps: set[str] = set()
        for match in taxonomy.matches(a.value):
            if match.area in later.area_by_id:
                areas.add(match.area)
            if match.component and match.component in later.component_by_id:
                comps.add(match.component)
        for x in areas:
            out.area_mentions[x] = out.area_mentions.get(x, 0) + 1
        for x in comps:
            out.component_mentions[x] = out.component_mentions.get(x, 0) + 1


def load_rounds(
    earlier_root: Path, later_root: Path, mapping_path: Path | None = None
) -> tuple[RoundData, RoundData, Mapping]:
    """Both rounds from their workspaces (read-only), and the mapping between their definitions:
    ``mapping_path`` if given, else the later definitions' own ``mappings/`` file from the
    earlier framework, else the identity when both rounds use the same framework."""
    rounds = []
    for root in (earlier_root, later_root):
        ws = open_workspace(root)
        if not ws.db_path.exists():
            raise ConsultError(f"{root}: no consult.db here; name the folder of a round (made by 'consult init')")
        with open_store(ws) as store:
            rounds.append(load_round(store, ws))
    earlier, later = rounds
    folder = later.definition.folder
    mapping = mapping_between(
        earlier.definition.raw["framework"], later.definition.raw["framework"], folder, mapping_path
    )
    return earlier, later, mapping
