"""A round's data, loaded once per command: current returns and their answers per country.

Scoring and the synthesis both read this, so a command makes one trip to the store and the
two cannot disagree about which returns count. Answers are selected by the role their
question declares in the YAML (``consult.definitions.roles``), never by question id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from consult.analysis.coverage import Coverage, coverage, current_returns
from consult.analysis.mapped import read_through_mappings
from consult.definitions import Definition
from consult.store import AnswerRow, ReturnRow, Store
from consult.workspace import Workspace


@dataclass
class CountryData:
    code: str
    returns: list[ReturnRow]
    answers: list[AnswerRow]
    institution_of: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.institution_of = {r.id: r.institution or "" for r in self.returns}
        self._by_role: dict[str | None, list[AnswerRow]] = {}
        for a in self.answers:
            self._by_role.setdefault(a.role, []).append(a)

    def by_role(self, *roles: str | None) -> list[AnswerRow]:
        """Answers whose question has one of ``roles`` (``None``: questions without a role)."""
        if len(roles) == 1:
            return self._by_role.get(roles[0], [])
        return [a for a in self.answers if a.role in roles]

    def institution(self, answer: AnswerRow) -> str:
        return self.institution_of.get(answer.return_id, "")


@dataclass
class RoundData:
    round: str
    definition: Definition
    coverage: Coverage
    countries: dict[str, CountryData]

    @property
    def with_returns(self) -> list[str]:
        """Countries with at least one current return, in workspace order."""
        return [c for c, d in self.countries.items() if d.returns]


def load_round(
    store: Store, ws: Workspace, countries: list[str] | None = None, definition: Definition | None = None
) -> RoundData:
    codes = countries or ws.countries
    rets = current_returns(store, ws, codes)
    answers = store.answers([r.id for r in rets])
    # returns of an earlier definition version (before 'consult definitions update'), in today's ids
    rets, answers = read_through_mappings(ws, definition or ws.definition, rets, answers)
    by_return: dict[int, list[AnswerRow]] = {}
    for a in answers:
        by_return.setdefault(a.return_id, []).append(a)
    data = {}
    for code in codes:
        mine = [r for r in rets if r.country == code]
        data[code] = CountryData(code, mine, [a for r in mine for a in by_return.get(r.id, [])])
    return RoundData(ws.round, definition or ws.definition, coverage(store, ws, codes), data)
