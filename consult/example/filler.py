"""Filling generated workbooks programmatically, the way a respondent would in Excel.

Used by the demo, the example regeneration script, the benchmark and the tests: answers
are written into the answer cells located through the hidden item-id column, and choices
are written as the drop-down shows them (the side-by-side label), not as internal codes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import column_index_from_string

from consult.definitions import Definition, bundled_definition
from consult.definitions.qtypes import CHOICES
from consult.definitions.questionnaire import Form, Item, resolve
from consult.definitions.wording import Wording, joined
from consult.forms.fit import fit_row
from consult.forms.layout import META_SHEET, read_metadata

TEXTS_EN = [
    "Trafficking of heroin along the Northern Route and the use of trade and transit corridors by organized crime.",
    "Lack of modern equipment for container control at dry ports and border crossing points.",
    "Return of foreign terrorist fighters and their families requires rehabilitation and reintegration programmes.",
    "Prison reform, overcrowding and alternatives to imprisonment remain a priority.",
    "HIV among people who inject drugs and access to treatment of drug use disorders in prisons.",
    "Money laundering through cryptocurrencies and weak asset recovery.",
    "Darknet drug sales and new psychoactive substances are growing among young people.",
    "Corruption in public procurement and the need for integrity education.",
    "Crime statistics and data collection do not meet international standards.",
    "Forensic laboratories need accreditation and training of experts.",
]
TEXTS_RU = [
    "Незаконный оборот героина по Северному маршруту и использование транзитных коридоров преступными группами.",
    "Недостаток современного оборудования для контроля контейнеров в сухих портах и на пунктах пропуска через границу.",
    "Возвращение иностранных боевиков-террористов и их семей требует программ реабилитации и реинтеграции.",
    "Реформа пенитенциарной системы и альтернативы лишению свободы остаются приоритетом.",
    "ВИЧ среди людей, употребляющих инъекционные наркотики, и доступ к лечению наркозависимости в тюрьмах.",
    "Отмывание денег через криптовалюты и слабый возврат активов.",
    "Продажа наркотиков через даркнет и новые психоактивные вещества распространяются среди молодёжи.",
    "Коррупция в государственных закупках и необходимость антикоррупционного образования.",
    "Статистика преступности и сбор данных не соответствуют международным стандартам.",
    "Судебно-экспертные лаборатории нуждаются в аккредитации и обучении экспертов.",
]


def read_meta_from(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return read_metadata(wb[META_SHEET].iter_rows(max_col=2, values_only=True))
    finally:
        wb.close()


def form_of(path: Path, definition: Definition) -> tuple[Form, list[str]]:
    meta = read_meta_from(path)
    form = resolve(definition.questionnaire, definition.framework, meta["country"], meta["institution"])
    return form, meta["languages"].split(",")


def display(item: Item, code: str, langs: list[str]) -> str:
    """What the drop-down shows for ``code``."""
    choice = next(c for c in item.choices if c.code == code)
    return joined(choice.label, langs)


def fill_workbook(path: Path, answers: Mapping[str, Any], out: Path | None = None) -> Path:
    """Write ``answers`` (keys: item id, or ``item#part`` for a choice/rank row) and save.

    Keys that match no row are an error: a test or example that silently fills nothing
    would prove nothing. A row grows to hold its answer, never shrinks: the return prints
    like the blank form, with every answer readable.
    """
    wb = openpyxl.load_workbook(path)
    meta = read_metadata(wb[META_SHEET].iter_rows(max_col=2, values_only=True))
    col = column_index_from_string(str(meta["answer_column"]))
    pending = dict(answers)
    for ws in wb.worksheets:
        if ws.title.startswith("_"):
            continue
        for row in ws.iter_rows(min_row=4, max_col=col):
            iid, part = row[0].value, row[1].value
            if iid is None:
                continue
            key = f"{iid}#{part}" if part is not None else str(iid)
            if key in pending:
                row[col - 1].value = pending.pop(key)
                fit_row(ws, row[0].row)  # as Excel grows a row when a long answer is typed
    if pending:
        raise KeyError(f"no row for {', '.join(sorted(pending))} in {path.name}")
    target = out or path
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def sample_answers(
    form: Form,
    langs: list[str],
    rng: random.Random,
    complete: bool = True,
    texts: list[str] | None = None,
    definition: Definition | None = None,
) -> dict[str, Any]:
    """Plausible, valid answers for every item of ``form`` (random but seeded)."""
    definition = definition or bundled_definition()
    pool = texts or (TEXTS_RU if langs and langs[0] == "ru" else TEXTS_EN) + TEXTS_RU
    yes = Wording.of(definition, "messages", langs).joined("choice_yes")
    sample = _Sample(langs, rng, yes, pool)
    answers: dict[str, Any] = {}
    for item in form.items:
        if not complete and not item.required and rng.random() < 0.5:
            continue
        answers.update(EXAMPLES[item.qtype.example](sample, item))
    _answer_conditionals(form, answers, langs, rng, pool)
    return answers


@dataclass
class _Sample:
    """What every example answer is drawn with: the form's languages, the seeded random
    generator, the "Yes" of a chosen option and the sentences to answer a text with."""

    langs: list[str]
    rng: random.Random
    yes: str
    pool: list[str]


def _rating(s: _Sample, item: Item) -> dict[str, Any]:
    code = "na" if s.rng.random() < 0.05 else str(s.rng.choice([2, 3, 3, 4, 4, 4, 5, 5]))
    return {item.id: display(item, code, s.langs)}


def _one(s: _Sample, item: Item) -> dict[str, Any]:
    return {item.id: display(item, s.rng.choice(item.choices).code, s.langs)}


def _some(s: _Sample, item: Item) -> dict[str, Any]:
    """One to three options (never "other", which would need its detail), "Yes" in each row."""
    codes = [c.code for c in item.choices if c.code != "other"] or [item.choices[0].code]
    return {f"{item.id}#{code}": s.yes for code in s.rng.sample(codes, k=min(len(codes), s.rng.randint(1, 3)))}


def _ranking(s: _Sample, item: Item) -> dict[str, Any]:
    picks = s.rng.sample(item.choices, k=item.size)
    return {f"{item.id}#{pos}": display(item, choice.code, s.langs) for pos, choice in enumerate(picks, start=1)}


def _count(s: _Sample, item: Item) -> dict[str, Any]:
    return {item.id: s.rng.randint(5, 400)}


def _date(_s: _Sample, item: Item) -> dict[str, Any]:
    return {item.id: "2020-08-15"}


def _sentence(s: _Sample, item: Item) -> dict[str, Any]:
    """A sentence of the pool; made-up contact details for a personal question, shaped by its label."""
    if not item.personal:
        return {item.id: s.rng.choice(s.pool)}
    label = item.label.get("en", "").lower()
    return {
        item.id: "focal.point@example.org"
        if "mail" in label
        else "+000 00 000 0000"
        if "phone" in label
        else "Focal point"
    }


# How the example answers each question type, by the name its entry gives (QTYPES, ``example``).
EXAMPLES: dict[str, Callable[[_Sample, Item], dict[str, Any]]] = {
    "rating": _rating,
    "one": _one,
    "some": _some,
    "ranking": _ranking,
    "count": _count,
    "date": _date,
    "sentence": _sentence,
}


def _answer_conditionals(
    form: Form, answers: dict[str, Any], langs: list[str], rng: random.Random, pool: list[str]
) -> None:
    """A conditional item whose condition holds must be answered: answer it (in ``answers``)."""
    for item in form.items:
        if item.when and item.when.question and item.id not in answers:
            target = form.item_by_id.get(item.when.question)
            if target and target.qtype.layout == CHOICES:
                chosen = [k.split("#", 1)[1] for k in answers if k.startswith(target.id + "#")]
                if item.when.holds(chosen):
                    answers[item.id] = rng.choice(pool)
            elif target and item.when.holds(_code_of(target, answers.get(target.id), langs)):
                answers[item.id] = rng.choice(pool)


def _code_of(item: Item, shown: Any, langs: list[str]) -> str | None:
    for c in item.choices:
        if joined(c.label, langs) == shown:
            return c.code
    return None
