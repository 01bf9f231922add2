"""The questionnaire model and its expansion into one concrete form per institution.

A questionnaire is a template: sections may repeat per area, questions per component, and
choice lists may be the components (``@components``) or areas (``@areas``) an institution
is asked about. :func:`resolve` turns it into a :class:`Form`, the flat list of
:class:`Item` s that one workbook asks and that ingest checks answers against. Workbook
writing and return reading both go through the same :class:`Form`, so they cannot drift.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from consult.definitions.framework import Framework, Institution, Text
from consult.definitions.qtypes import CHOICE_TYPES as CHOICE_TYPES  # kept here for its users
from consult.definitions.qtypes import QTYPES, SLOTS, QType
from consult.types import QUESTION_TYPES as TYPES
from consult.types import QuestionType

QUESTION_TYPES = TYPES  # the one list (consult/types.py); QTYPES and the JSON Schema's enum match it
TEXT_LIMIT = 4000


@dataclass(frozen=True)
class Choice:
    code: str
    label: Text


@dataclass
class Condition:
    """``when``: static parts (institution, country) decide whether a question is asked at all;
    the dynamic part (question + equals/in/includes) decides whether an answer is required."""

    institution: list[str] | None = None
    country: list[str] | None = None
    question: str | None = None
    equals: str | None = None
    in_: list[str] | None = None
    includes: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Condition | None:
        if not data:
            return None
        return cls(
            institution=data.get("institution"),
            country=data.get("country"),
            question=data.get("question"),
            equals=None if data.get("equals") is None else str(data["equals"]),
            in_=[str(v) for v in data["in"]] if data.get("in") is not None else None,
            includes=None if data.get("includes") is None else str(data["includes"]),
        )

    def asked(self, country: str, institution: str) -> bool:
        if self.institution is not None and institution not in self.institution:
            return False
        return self.country is None or country in self.country

    def holds(self, value: Any) -> bool:
        """Whether the dynamic condition holds for the answer ``value`` of its question."""
        if self.question is None:
            return True
        if value is None or value == [] or value == "":
            return False
        values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if self.equals is not None:
            return values == [self.equals]
        if self.in_ is not None:
            return any(v in self.in_ for v in values)
        if self.includes is not None:
            return self.includes in values
        return True


@dataclass
class Question:
    id: str
    type: QuestionType
    label: Text
    hint: Text = field(default_factory=dict)
    required: bool = False
    choices: str | None = None
    repeat: str | None = None
    when: Condition | None = None
    size: int = 5
    min: float | None = None
    max: float | None = None
    personal: bool = False
    role: str | None = None
    integer: bool = False  # a count: whole numbers only

    @property
    def qtype(self) -> QType:
        """What its type means to every stage (:data:`~consult.definitions.qtypes.QTYPES`)."""
        return QTYPES[self.type]


@dataclass
class Section:
    id: str
    title: Text
    questions: list[Question]
    repeat: str | None = None


@dataclass
class Questionnaire:
    id: str
    version: str
    title: Text
    choice_lists: dict[str, list[Choice]]
    sections: list[Section]
    framework_file: str = "framework.yaml"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Questionnaire:
        lists = {
            name: [Choice(str(c["code"]), c["label"]) for c in choices]
            for name, choices in (data.get("choice_lists") or {}).items()
        }
        sections = []
        for s in data["sections"]:
            questions = [
                Question(
                    id=q["id"],
                    type=q["type"],
                    label=q["label"],
                    hint=q.get("hint") or {},
                    required=bool(q.get("required", False)),
                    choices=q.get("choices"),
                    repeat=q.get("repeat"),
                    when=Condition.from_dict(q.get("when")),
                    size=int(q.get("size", 5)),
                    min=q.get("min"),
                    max=q.get("max"),
                    personal=bool(q.get("personal", False)),
                    role=q.get("role"),
                    integer=bool(q.get("integer", False)),
                )
                for q in s["questions"]
            ]
            sections.append(Section(s["id"], s["title"], questions, s.get("repeat")))
        return cls(
            id=data["id"],
            version=str(data["version"]),
            title=data["title"],
            choice_lists=lists,
            sections=sections,
            framework_file=data.get("framework", "framework.yaml"),
        )

    def adopt_roles(self, current: Questionnaire) -> None:
        """Give a questionnaire saved before roles existed the roles of the current one, question
        by question where the id, type and place (per area or not) agree: how an older round's
        returns are analysed once the current YAML declares what each question means."""
        known = {(bool(s.repeat), q.id, q.type): q.role for s in current.sections for q in s.questions if q.role}
        for sec in self.sections:
            for q in sec.questions:
                if q.role is None:
                    q.role = known.get((bool(sec.repeat), q.id, q.type))


@dataclass
class Item:
    """One concrete question of one workbook."""

    id: str
    qid: str
    type: QuestionType
    label: Text
    hint: Text
    required: bool
    section: str
    choices: list[Choice] = field(default_factory=list)
    area: str | None = None
    component: str | None = None
    when: Condition | None = None
    size: int = 5
    min: float | None = None
    max: float | None = None
    personal: bool = False
    role: str | None = None
    integer: bool = False  # a count: the web form asks for a whole number
    # accepted spellings of the choices, per language set (filled by consult.intake.values)
    lookups: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def qtype(self) -> QType:
        """What its type means to every stage (:data:`~consult.definitions.qtypes.QTYPES`)."""
        return QTYPES[self.type]


@dataclass
class FormSection:
    id: str
    title: Text
    items: list[Item]
    area: str | None = None


@dataclass
class Form:
    """What one institution in one country is asked."""

    questionnaire: Questionnaire
    framework: Framework
    country: str
    institution: str
    sections: list[FormSection]

    def __post_init__(self) -> None:
        self.items = [i for s in self.sections for i in s.items]
        self.item_by_id = {i.id: i for i in self.items}


def _fill(label: Text, values: dict[str, Text]) -> Text:
    out = {}
    for lang, template in label.items():
        result = template
        for key, names in values.items():
            result = result.replace("{" + key + "}", names.get(lang) or names.get("en", ""))
        out[lang] = result
    return out


def component_choices(fw: Framework, inst: Institution) -> list[Choice]:
    """The components an institution is asked about, labelled "Area short: component"."""
    choices = []
    for area in fw.areas:
        assignment = inst.areas.get(area.id)
        if not assignment:
            continue
        for comp in area.components:
            if comp.key in assignment.components:
                short = {**comp.name, **comp.short}  # the short name where given, for a drop-down that fits
                label = {lang: f"{area.short.get(lang, '')}: {short.get(lang, '')}" for lang in comp.name}
                choices.append(Choice(comp.id, label))
    return choices


def choices_for(q: Question, qn: Questionnaire, fw: Framework, inst: Institution) -> list[Choice]:
    if q.choices == "@components":
        return component_choices(fw, inst)
    if q.choices == "@areas":
        return [Choice(a.id, a.name) for a in fw.areas if a.id in inst.areas]
    if q.choices:
        return qn.choice_lists.get(q.choices, [])
    return []


def _item(
    q: Question,
    item_id: str,
    section: str,
    values: dict[str, Text],
    choices: list[Choice],
    area: str | None = None,
    component: str | None = None,
    when: Condition | None = None,
) -> Item:
    return Item(
        id=item_id,
        qid=q.id,
        type=q.type,
        label=_fill(q.label, values),
        hint=_fill(q.hint, values),
        required=q.required,
        section=section,
        choices=choices,
        area=area,
        component=component,
        when=when,
        size=q.size,
        min=q.min,
        max=q.max,
        personal=q.personal,
        role=q.role,
        integer=q.integer,
    )


def resolve(qn: Questionnaire, fw: Framework, country: str, institution: str) -> Form:
    inst = fw.institution_by_id[institution]
    ctry = fw.country_by_code[country]
    base = {"country": ctry.name, "institution": inst.name}
    sections: list[FormSection] = []
    for sec in qn.sections:
        asked = [q for q in sec.questions if not (q.when and not q.when.asked(country, institution))]
        if sec.repeat != "area":
            items = [_item(q, q.id, sec.id, base, choices_for(q, qn, fw, inst), when=q.when) for q in asked]
            sections.append(FormSection(sec.id, _fill(sec.title, base), items))
            continue
        local = {q.id for q in sec.questions}
        for area in fw.areas:
            assignment = inst.areas.get(area.id)
            if assignment is None:
                continue
            values = {**base, "area": area.name}
            items = []
            for q in asked:
                when = q.when
                if when and when.question in local:  # a condition on a question of the same area
                    when = Condition(**{**when.__dict__, "question": f"{area.id}.{when.question}"})
                choices = choices_for(q, qn, fw, inst)
                if q.repeat == "component":
                    for comp in (c for c in area.components if c.key in assignment.components):
                        items.append(
                            _item(
                                q,
                                f"{area.id}.{q.id}.{comp.key}",
                                area.id,
                                {**values, "component": comp.name},
                                choices,
                                area.id,
                                comp.id,
                                when,
                            )
                        )
                else:
                    items.append(_item(q, f"{area.id}.{q.id}", area.id, values, choices, area.id, None, when))
            sections.append(FormSection(area.id, _fill(sec.title, values), items, area.id))
    for item in (i for s in sections for i in s.items):
        if item.qtype.layout == SLOTS:
            item.size = min(item.size, len(item.choices))
    return Form(qn, fw, country, institution, sections)


def definition_hash(framework_data: dict[str, Any], questionnaire_data: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of both definitions: what a return is matched by.

    Question roles are left out: a role says how answers are analysed, not what the form asks,
    so declaring or correcting a role never orphans the workbooks already sent out."""
    framework = {k: v for k, v in framework_data.items() if k != "required_languages"}  # a check, not content
    blob = canonical_json({"framework": framework, "questionnaire": form_content(questionnaire_data)})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def form_content(questionnaire_data: dict[str, Any]) -> dict[str, Any]:
    """The questionnaire without what only the analysis reads (question roles)."""
    data = dict(questionnaire_data)
    data["sections"] = [
        {**sec, "questions": [{k: v for k, v in q.items() if k != "role"} for q in sec.get("questions", [])]}
        for sec in questionnaire_data.get("sections", [])
    ]
    return data


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
