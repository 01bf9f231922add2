"""The typed hand-offs at the store: what goes in (``NewReturn``, ``NewAnswer``, ``Respondent``)
and what comes out (``ReturnRow``, ``AnswerRow``, ``FeedbackRow``), and how each is stored.

A caller never builds a row as a loose dict: a misspelt column, a status outside
:data:`~consult.types.ReturnStatus` or findings in the wrong shape are type errors, not rows
stored wrong. Findings go in and come out as :class:`~consult.errors.Finding` objects; on
disk they are the JSON of :meth:`Finding.to_dict`, as they always were.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from consult.errors import Finding
from consult.store.recency import Recency
from consult.types import CHANNELS, RETURN_STATUSES, Channel, QuestionType, ReturnStatus

FINDINGS = ("errors", "warnings", "missing")  # the columns of a return that hold findings


@dataclass(frozen=True, kw_only=True)
class NewReturn:
    """A return to record: the columns of its row in ``returns``. Its id, and whether it
    supersedes another return or is superseded by one, are the store's to decide
    (:meth:`consult.store.Store.insert_return`)."""

    file_name: str  # the file's name; a web submission's stored name (``kobo:<id>``)
    sha256: str
    size: int
    received_at: str  # ISO, UTC
    status: ReturnStatus
    source_path: str | None = None
    country: str | None = None
    institution: str | None = None
    questionnaire_id: str | None = None
    questionnaire_version: str | None = None
    definition_hash: str | None = None
    round: str | None = None
    generated_at: str | None = None
    respondent_date: str | None = None  # the date the respondent gave: decides recency first
    saved_at: str | None = None  # the workbook's own saved time (ISO, UTC): decides next
    channel: Channel = "excel"
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in RETURN_STATUSES:
            raise ValueError(f"{self.status!r} is no status a return is stored with ({', '.join(RETURN_STATUSES)})")
        if self.channel not in CHANNELS:
            raise ValueError(f"{self.channel!r} is no channel ({', '.join(CHANNELS)})")

    def columns(self) -> dict[str, Any]:
        """The row as stored: column name -> value, the findings as their JSON text."""
        data = dict(self.__dict__)
        for key in FINDINGS:
            data[key] = findings_json(data[key])
        return data


@dataclass(frozen=True, kw_only=True)
class NewAnswer:
    """One answer of a return to record (a row of ``answers``, without its return's id)."""

    item_id: str
    type: QuestionType
    value: Any  # the parsed value (text, number, list of choices): stored as JSON
    section: str | None = None
    area: str | None = None
    component: str | None = None
    raw: str | None = None  # the value as the respondent typed it
    sheet: str | None = None
    cell: str | None = None
    question_id: str | None = None
    role: str | None = None  # '' is "no role" (looked up, none found); None: never looked up

    def columns(self, return_id: int) -> tuple[Any, ...]:
        """The row as stored, in the order of :data:`ANSWER_COLUMNS`."""
        return (
            return_id,
            self.item_id,
            self.section,
            self.area,
            self.component,
            self.type,
            json.dumps(self.value, ensure_ascii=False),
            self.raw,
            self.sheet,
            self.cell,
            self.question_id,
            self.role,
        )


ANSWER_COLUMNS = (
    "return_id",
    "item_id",
    "section",
    "area",
    "component",
    "type",
    "value",
    "raw",
    "sheet",
    "cell",
    "question_id",
    "role",
)


@dataclass(frozen=True)
class Respondent:
    """The personal data of one return (name, e-mail, phone: the answers of questions marked
    ``personal``, by item id). Stored in a table of its own that only
    :meth:`consult.store.Store.respondent` reads, and never shown in a log or a traceback."""

    answers: Mapping[str, Any] = field(repr=False)

    def to_json(self) -> str:
        return json.dumps(dict(self.answers), ensure_ascii=False)


class Inserted(NamedTuple):
    """What recording a return did: its new id, and the ids of the returns it superseded."""

    id: int
    superseded: list[int]


class Version(NamedTuple):
    """A current return stored under a given name: its id and the workbook's saved time."""

    id: int
    saved_at: str | None


class MissingRole(NamedTuple):
    """A stored answer whose role was never filled (a store made before roles existed), with
    what finds its item again: the definition its return was read with, country, institution."""

    return_id: int
    item_id: str
    definition_hash: str | None
    country: str | None
    institution: str | None
    question_id: str | None


@dataclass
class ReturnRow:
    """A return as stored (never with personal data)."""

    id: int
    file_name: str
    sha256: str
    size: int
    country: str | None
    institution: str | None
    questionnaire_id: str | None
    questionnaire_version: str | None
    definition_hash: str | None
    round: str | None
    generated_at: str | None
    received_at: str
    status: ReturnStatus
    superseded_by: int | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)
    respondent_date: str | None = None
    saved_at: str | None = None
    channel: Channel = "excel"

    @classmethod
    def from_columns(cls, row: Mapping[str, Any]) -> ReturnRow:
        """A row of ``returns`` as read (column name -> stored value)."""
        data = dict(row)
        for key in FINDINGS:
            data[key] = [Finding.from_dict(f) for f in json.loads(data[key])]
        return cls(**data)

    @property
    def recency(self) -> Recency:
        return Recency(self.id, self.respondent_date, self.saved_at)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """As JSON data: the findings as :meth:`Finding.to_dict` writes them (as stored: in English;
        with ``lang``, their words in that language)."""
        data = dict(self.__dict__)
        for key in FINDINGS:
            data[key] = [f.to_dict(lang) for f in data[key]]
        return data


@dataclass
class FeedbackRow:
    """One feedback workbook written for an institution about one of its returns."""

    id: int
    written_at: str
    return_id: int
    country: str
    institution: str
    path: str
    problems: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AnswerRow:
    return_id: int
    item_id: str
    section: str | None
    area: str | None
    component: str | None
    type: QuestionType
    value: Any
    raw: str | None
    sheet: str | None
    cell: str | None
    question_id: str | None = None
    role: str | None = None


RETURN_COLUMNS = tuple(f.name for f in fields(ReturnRow))  # a row of ``returns``, as read


def stored_value(text: str) -> Any:
    """A stored answer value: JSON text. Most are short strings without escapes ("5", "na"),
    read without the JSON parser; the rest (lists, numbers, escaped text) by it."""
    if len(text) > 1 and text[0] == '"' and text[-1] == '"' and "\\" not in text and '"' not in text[1:-1]:
        return text[1:-1]
    return json.loads(text)


def findings_json(findings: Iterable[Finding]) -> str:
    """Findings as stored in a return's errors, warnings or missing column."""
    return json.dumps([f.to_dict() for f in findings], ensure_ascii=False)
