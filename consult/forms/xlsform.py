"""The questionnaire as an XLSForm, for KoboToolbox and ODK Central: one form per country.

Why one form per country and not per institution: a server needs one deployed form per form
definition, and its users manage, share and export forms one at a time; 96 forms for eight
countries would be 96 deployments, 96 links and 96 exports. One form per country is 8, and
keeps the country's answers in one export. The respondent first picks the institution from
the country's invited institutions; every area group, question, component and choice that
only some institutions are asked about is shown through ``relevant`` and ``choice_filter`` on
that pick, so each institution sees exactly what its Excel workbook asks (the same
:func:`~consult.definitions.questionnaire.resolve` decides both).

Hidden ``calculate`` fields carry the definition version, the country and the round into every
submission, because exports do not reliably carry the form's ``settings`` (KoboToolbox replaces
``version`` by its own on deploy); ingest reads them to refuse a submission of another version.

Field names are the item ids with ``.`` turned into ``_`` (``TOC.priority`` -> ``TOC_priority``):
:func:`field_name` is the one mapping, used by this writer and by the export reader alike.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consult.definitions import Definition
from consult.definitions.framework import Text, text
from consult.definitions.qtypes import SLOTS
from consult.definitions.questionnaire import TEXT_LIMIT, Condition, Form, Item, resolve
from consult.definitions.wording import Wording
from consult.errors import ConsultError
from consult.fileio import save_atomic

VERSION_FIELD = "consult_version"
COUNTRY_FIELD = "consult_country"
ROUND_FIELD = "consult_round"
INSTITUTION_FIELD = "institution"
FILTER_COLUMN = "asked_of"  # choices sheet: the institutions a choice is offered to

# Language names for the ``label::Name (code)`` columns (the form of the XLSForm spec that
# Kobo and ODK show in their language menus); an unknown code is shown as itself.
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Russian",
    "kk": "Kazakh",
    "ky": "Kyrgyz",
    "tg": "Tajik",
    "tk": "Turkmen",
    "uz": "Uzbek",
    "az": "Azerbaijani",
    "hy": "Armenian",
    "ka": "Georgian",
    "fr": "French",
    "es": "Spanish",
    "ar": "Arabic",
    "zh": "Chinese",
}

# Texts only the web form needs (the workbook shows none of them); English where a language lacks one.
TEXTS: dict[str, Text] = {
    "rank_unique": {
        "en": "Choose each component at most once.",
        "ru": "Каждый компонент можно выбрать только один раз.",
    },
    "number_range": {"en": "Enter a number{range}.", "ru": "Введите число{range}."},
    "from": {"en": " from {n}", "ru": " от {n}"},
    "to": {"en": " to {n}", "ru": " до {n}"},
    "date_range": {"en": "Enter a date between 2000 and 2100.", "ru": "Введите дату между 2000 и 2100 годами."},
    "required": {"en": "This answer is required.", "ru": "Это обязательный вопрос."},
}

SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
)
SURVEY_TAIL = ("choice_filter", "calculation", "appearance")
TRANSLATED = ("label", "hint", "required_message", "constraint_message")
VERSION_MARK = "@VERSION@"  # stands for the version while the form's content is hashed


def language_column(lang: str) -> str:
    """``English (en)``: the language part of ``label::English (en)``."""
    return f"{LANGUAGE_NAMES.get(lang, lang)} ({lang})"


def field_name(item_id: str) -> str:
    """The XLSForm name of an item: a valid XML name with no ``.``, ``-`` or ``/`` (the group
    separators of exports), so that a column header's last segment is the name."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", item_id)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def rank_field(item_id: str, position: int) -> str:
    """The field of one position of a top-N ranking: ``top5_1`` ... ``top5_5``."""
    return f"{field_name(item_id)}_{position}"


def form_version(definition: Definition) -> str:
    """The questionnaire part of a form's version: the definition hash prefix. The whole
    version (:func:`deployment_version`) adds the hash of the form's content."""
    return definition.hash[:16]


def deployment_version(definition: Definition, content: object) -> str:
    """``<definition hash prefix>-<content hash>``: the ``settings`` version and the value of the
    hidden version field. It changes whenever anything in the form changes (the invited list,
    a label, the round), because ODK Central refuses a form id and version it already has and
    Kobo shows the same version for different forms otherwise; ingest reads the questionnaire
    from the first part, so every deployment of one questionnaire is read alike."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    return f"{form_version(definition)}-{digest[:8]}"


def form_id(round_id: str, country: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"consult_{round_id}_{country}")


@dataclass
class XLSForm:
    """One country's form: the three sheets as rows, ready to be written."""

    country: str
    form_id: str
    version: str
    languages: list[str]
    survey: list[dict[str, str]] = field(default_factory=list)
    choices: list[dict[str, str]] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    institutions: list[str] = field(default_factory=list)

    @property
    def questions(self) -> int:
        return sum(1 for r in self.survey if r["type"] not in ("begin_group", "end_group", "calculate"))

    def columns(self, sheet: str) -> list[str]:
        langs = [language_column(x) for x in self.languages]
        if sheet == "survey":
            cols = []
            for c in SURVEY_COLUMNS:
                cols += [f"{c}::{lang}" for lang in langs] if c in TRANSLATED else [c]
            return cols + list(SURVEY_TAIL)
        return ["list_name", "name", *(f"label::{lang}" for lang in langs), FILTER_COLUMN]

    def write(self, path: Path) -> Path:
        from openpyxl import Workbook  # here, not at the top: ingest reads field names from this module

        wb = Workbook()
        ws = wb.active
        ws.title = "survey"
        for title, rows in (("survey", self.survey), ("choices", self.choices)):
            sheet = ws if title == "survey" else wb.create_sheet(title)
            cols = self.columns(title)
            sheet.append(cols)
            for row in rows:
                sheet.append([row.get(c, "") for c in cols])
        settings = wb.create_sheet("settings")
        settings.append(list(self.settings))
        settings.append(list(self.settings.values()))
        return save_atomic(path, wb.save)


class _Builder:
    def __init__(self, definition: Definition, country: str, institutions: list[str], round_id: str):
        self.definition = definition
        self.fw = definition.framework
        self.langs = definition.languages
        self.words = Wording.of(definition, "messages", self.langs)  # the workbook's texts
        self.web_words = Wording(definition, TEXTS, self.langs)  # the web form's own
        self.country = country
        self.institutions = institutions
        self.forms: dict[str, Form] = {i: resolve(definition.questionnaire, self.fw, country, i) for i in institutions}
        self.sources = {q.id: q.choices for s in definition.questionnaire.sections for q in s.questions}
        self.xf = XLSForm(country, form_id(round_id, country), VERSION_MARK, self.langs)
        self.round_id = round_id
        self.lists: dict[str, dict[str, tuple[Text, list[str]]]] = {}
        self.names: set[str] = set()

    # --- texts ------------------------------------------------------------------------------
    def texts(self, column: str, value: Text | None) -> dict[str, str]:
        if not value:
            return {}
        return {f"{column}::{language_column(lang)}": text(value, lang) for lang in self.langs}

    def local(self, key: str, **fmt: str) -> Text:
        return self.web_words.each(key, **fmt)

    def message(self, key: str, **fmt: Any) -> Text:
        return self.words.each(key, **fmt)

    # --- rows -------------------------------------------------------------------------------
    def row(self, type_: str, name: str, label: Text | None = None, **extra: str | Text | None) -> dict[str, str]:
        if type_ != "end_group":
            if name in self.names:
                raise ConsultError(
                    f"XLSForm of {self.country}: two fields are named '{name}' (item ids differing only by "
                    "'.', '-' or '/'); rename one in the questionnaire"
                )
            self.names.add(name)
        r: dict[str, str] = {"type": type_, "name": name, **self.texts("label", label)}
        if extra.get("required") == "yes":
            r.update(self.texts("required_message", self.local("required")))
        for key, value in extra.items():
            if isinstance(value, dict):
                r.update(self.texts(key, value))
            elif value:
                r[key] = value
        self.xf.survey.append(r)
        return r

    def add_choice(self, list_name: str, code: str, label: Text, institution: str | None) -> None:
        entries = self.lists.setdefault(list_name, {})
        if code not in entries:
            entries[code] = (label, [])
        if institution and institution not in entries[code][1]:
            entries[code][1].append(institution)

    def who(self, institutions: Iterable[str]) -> str | None:
        """``relevant`` for a set of institutions; None when it is all of them."""
        chosen = [i for i in self.institutions if i in set(institutions)]
        if len(chosen) == len(self.institutions):
            return None
        return f"selected('{' '.join(chosen)}', ${{{INSTITUTION_FIELD}}})"

    def condition(self, when: Condition | None, items: dict[str, Item]) -> str | None:
        """The dynamic part of ``when`` as XPath (the static parts are in :meth:`who`)."""
        if when is None or when.question is None:
            return None
        ref = f"${{{field_name(when.question)}}}"
        source = items.get(when.question)
        if when.equals is not None:
            if source is not None and source.qtype.xlsform == "select_multiple":
                return f"{ref} = '{when.equals}'"
            return f"selected({ref}, '{when.equals}')"
        if when.in_ is not None:
            return "(" + " or ".join(f"selected({ref}, '{v}')" for v in when.in_) + ")"
        if when.includes is not None:
            return f"selected({ref}, '{when.includes}')"
        return f"{ref} != ''"

    # --- the form ---------------------------------------------------------------------------
    def build(self) -> XLSForm:
        fw = self.fw
        country_name = fw.country_by_code[self.country].name
        title = self.definition.questionnaire.title
        default = self.langs[0]
        self.xf.settings = {
            "form_title": f"{text(title, default)} - {text(country_name, default)}",
            "form_id": self.xf.form_id,
            "version": self.xf.version,
            "default_language": language_column(default),
            "instance_name": f"concat('{self.country}-', ${{{INSTITUTION_FIELD}}})",
        }
        self.xf.institutions = list(self.institutions)
        self.row("calculate", VERSION_FIELD, calculation=f"'{self.xf.version}'")
        self.row("calculate", COUNTRY_FIELD, calculation=f"'{self.country}'")
        self.row("calculate", ROUND_FIELD, calculation=f"'{self.round_id}'")
        self.row(
            f"select_one {INSTITUTION_FIELD}",
            INSTITUTION_FIELD,
            self.message("cover_institution"),
            required="yes",
            hint={lang: text(country_name, lang) for lang in self.langs},
        )
        for inst in self.institutions:
            self.add_choice(INSTITUTION_FIELD, inst, fw.institution_by_id[inst].name, None)
        for sec_id, title_, items, asked in self.sections():
            relevant = self.who(asked) or f"${{{INSTITUTION_FIELD}}} != ''"
            self.row("begin_group", field_name(sec_id), title_, relevant=relevant)
            all_items = {i.id: i for f in self.forms.values() for i in f.items}
            for item, who in items:
                self.item(item, who, asked, all_items)
            self.row("end_group", "")
        for list_name, entries in self.lists.items():
            for code, (label, insts) in entries.items():
                self.xf.choices.append(
                    {
                        "list_name": list_name,
                        "name": code,
                        **self.texts("label", label),
                        FILTER_COLUMN: " ".join(i for i in self.institutions if i in insts),
                    }
                )
        version = deployment_version(self.definition, [self.xf.survey, self.xf.choices, self.xf.settings])
        self.xf.version = version
        self.xf.settings["version"] = version
        for r in self.xf.survey:
            if VERSION_MARK in r.get("calculation", ""):
                r["calculation"] = r["calculation"].replace(VERSION_MARK, version)
        return self.xf

    def sections(self) -> list[tuple[str, Text, list[tuple[Item, list[str]]], list[str]]]:
        """Every section of any institution, in questionnaire and framework order, with its
        items (each with the institutions asked it) and the institutions asked the section."""
        order: dict[str, int] = {}
        for n, sec in enumerate(self.definition.questionnaire.sections):
            if sec.repeat == "area":
                for m, area in enumerate(self.fw.areas):
                    order[area.id] = n * 1000 + m
            else:
                order[sec.id] = n * 1000
        found: dict[str, tuple[Text, dict[str, tuple[Item, list[str]]], list[str]]] = {}
        positions: dict[str, int] = {}
        for inst in self.institutions:
            for fsec in self.forms[inst].sections:
                title_, items, asked = found.setdefault(fsec.id, (fsec.title, {}, []))
                asked.append(inst)
                for item in fsec.items:
                    items.setdefault(item.id, (item, []))[1].append(inst)
                    positions.setdefault(item.id, self.position(item))
        out = []
        for sec_id in sorted(found, key=lambda s: order.get(s, 10**9)):
            title_, items, asked = found[sec_id]
            ordered = sorted(items.values(), key=lambda pair: positions[pair[0].id])
            out.append((sec_id, title_, ordered, asked))
        return out

    def position(self, item: Item) -> int:
        """Questionnaire order of an item, components in framework order within a question."""
        questions = [q.id for s in self.definition.questionnaire.sections for q in s.questions]
        q = questions.index(item.qid) if item.qid in questions else 999
        comp = 0
        if item.component:
            area = self.fw.area_by_id[item.area] if item.area else None
            ids = [c.id for c in area.components] if area else []
            comp = ids.index(item.component) + 1 if item.component in ids else 999
        return q * 10000 + comp

    def choice_list(self, item: Item, asked: list[str]) -> tuple[str, str | None]:
        """(list name, choice_filter) of a select item; per-institution lists get a filter."""
        source = self.sources.get(item.qid) or item.type
        if source.startswith("@"):
            name = field_name(source[1:])
            for inst in asked:
                for ch in self.forms[inst].item_by_id[item.id].choices:
                    self.add_choice(name, ch.code, ch.label, inst)
            return name, f"selected({FILTER_COLUMN}, ${{{INSTITUTION_FIELD}}})"
        name = field_name(source)
        for ch in item.choices:
            self.add_choice(name, ch.code, ch.label, None)
        return name, None

    def item(self, item: Item, asked: list[str], section_asked: list[str], items: dict[str, Item]) -> None:
        static = self.who(asked) if set(asked) != set(section_asked) else None
        relevant = " and ".join(x for x in (static, self.condition(item.when, items)) if x) or None
        required = "yes" if item.required else None
        name = field_name(item.id)
        common = {"hint": item.hint or None, "relevant": relevant}
        qtype = item.qtype
        if qtype.layout == SLOTS:
            self.rank(item, asked, relevant, required)
        elif qtype.choices:
            list_name, choice_filter = self.choice_list(item, asked)
            self.row(
                f"{qtype.xlsform} {list_name}",
                name,
                item.label,
                required=required,
                choice_filter=choice_filter,
                **common,
            )
        else:
            field_type, rule = FIELDS[qtype.xlsform](self, item)
            self.row(field_type, name, item.label, required=required, **rule, **common)

    def rank(self, item: Item, asked: list[str], relevant: str | None, required: str | None) -> None:
        """A top-N ranking as N numbered ``select_one`` fields in a group, each constrained to
        differ from the ones before: XLSForm's ``rank`` orders *every* choice, the
        questionnaire asks for the first N of up to twenty."""
        sizes = {inst: self.forms[inst].item_by_id[item.id].size for inst in asked}
        list_name, choice_filter = self.choice_list(item, asked)
        self.row("begin_group", field_name(item.id), item.label, hint=item.hint or None, relevant=relevant)
        for k in range(1, max(sizes.values(), default=0) + 1):
            before = [f". != ${{{rank_field(item.id, j)}}}" for j in range(1, k)]
            self.row(
                f"select_one {list_name}",
                rank_field(item.id, k),
                self.message("rank_slot", n=k),
                required=required if k == 1 else None,
                relevant=self.who(i for i, n in sizes.items() if n >= k) if min(sizes.values()) < k else None,
                constraint=" and ".join(before) or None,
                constraint_message=self.local("rank_unique") if before else None,
                choice_filter=choice_filter,
            )
        self.row("end_group", "")


# --- the field of a question without choices: its type and constraint ------------------------
# By the XLSForm type its question type gives (QTYPES, ``xlsform``): the same rule the
# workbook's data validation holds, in XLSForm's words.
Rule = dict[str, str | Text | None]  # the row's constraint columns
FieldRule = Callable[[_Builder, Item], tuple[str, Rule]]


def _number_field(b: _Builder, item: Item) -> tuple[str, Rule]:
    """A number within the item's bounds; "integer" for a count."""
    bounds = []
    if item.min is not None:
        bounds.append(f". >= {item.min:g}")
    if item.max is not None:
        bounds.append(f". <= {item.max:g}")
    span = (b.local("from", n=f"{item.min:g}") if item.min is not None else {}) or {}
    upto = b.local("to", n=f"{item.max:g}") if item.max is not None else {}
    message = {
        lang: text(TEXTS["number_range"], lang).format(range=span.get(lang, "") + upto.get(lang, ""))
        for lang in b.langs
    }
    rule: Rule = {"constraint": " and ".join(bounds) or None, "constraint_message": message if bounds else None}
    return ("integer" if item.integer else "decimal"), rule


def _date_field(b: _Builder, _item: Item) -> tuple[str, Rule]:
    """A date from 2000 to 2100, as the workbook and the parser take it."""
    rule: Rule = {
        "constraint": ". >= date('2000-01-01') and . <= date('2100-12-31')",
        "constraint_message": b.local("date_range"),
    }
    return "date", rule


def _text_field(b: _Builder, _item: Item) -> tuple[str, Rule]:
    """A text of at most TEXT_LIMIT characters, in a box of several lines."""
    rule: Rule = {
        "constraint": f"string-length(.) <= {TEXT_LIMIT}",
        "constraint_message": b.message("invalid_text"),
        "appearance": "multiline",
    }
    return "text", rule


FIELDS: dict[str, FieldRule] = {"decimal": _number_field, "date": _date_field, "text": _text_field}


def build_xlsform(definition: Definition, country: str, institutions: list[str], round_id: str) -> XLSForm:
    """The XLSForm of one country, asking each of ``institutions`` what its workbook asks."""
    fw = definition.framework
    if country not in fw.country_by_code:
        raise ConsultError(f"unknown country {country}; use one of {', '.join(fw.country_by_code)}")
    known = [i for i in institutions if i in fw.institution_by_id]
    if not known:
        raise ConsultError(f"no institution is invited in {country}: add some to consult.yaml 'invited'")
    return _Builder(definition, country, known, round_id).build()


def write_xlsforms(
    definition: Definition, countries: list[str], invited: dict[str, list[str]], round_id: str, out: Path
) -> list[tuple[XLSForm, Path]]:
    """``OUT/CC-xlsform.xlsx`` for every country; returns each form with its path."""
    written = []
    for code in countries:
        institutions = invited.get(code) or list(definition.framework.institution_by_id)
        xf = build_xlsform(definition, code, institutions, round_id)
        written.append((xf, xf.write(out / f"{code}-xlsform.xlsx")))
    return written
