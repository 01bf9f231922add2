"""Each stored finding as the institution will see it: on which cell of the new workbook, and
worded in its languages (what is wrong, what an answer must be, how to correct it).

Rows are found by item id and part in the freshly built form, since the respondent may have
inserted or deleted rows in the returned file; the words come from feedback.yaml by question
type (the question type table), then from the problem catalogue for a code feedback.yaml does
not word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook

from consult.definitions.framework import text
from consult.definitions.qtypes import CELL
from consult.definitions.questionnaire import TEXT_LIMIT, Item
from consult.definitions.wording import Wording
from consult.errors import Finding
from consult.feedback.returned import Returned
from consult.forms.layout import LISTS_SHEET, META_SHEET
from consult.intake.values import raw_text


@dataclass
class Problem:
    """One problem as the institution will see it: where, which question, what, how to fix."""

    code: str
    sheet: str | None = None  # sheet title in the feedback workbook
    cells: list[str] = field(default_factory=list)  # answer cells marked; the first carries the note
    number: str | None = None  # the question number the form shows (``3.2``)
    label: dict[str, str] = field(default_factory=dict)
    what: dict[str, str] = field(default_factory=dict)  # per language
    expected: dict[str, str] = field(default_factory=dict)
    fix: dict[str, str] = field(default_factory=dict)
    personal: bool = False  # the question asks for personal data: the note does not quote it

    @property
    def ref(self) -> str | None:
        """The cell as Excel shows it (``'3 Drug problems'!F8``), or None for the whole file."""
        return f"'{self.sheet}'!{self.cells[0]}" if self.sheet and self.cells else None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- wording ----------------------------------------------------------------------------------


def _fields(item: Item, lang: str, yes: str, cells: int) -> dict[str, Any]:
    """Every field the feedback.yaml texts of a question type may name, in ``lang``: one set
    serves every type (``str.format`` ignores the fields a text does not name)."""
    na = next((c.label for c in item.choices if c.code == "na"), {})
    return {
        "na": text(na, lang) if na else "—",
        "example": text(item.choices[0].label, lang) if item.choices else "",
        "options": "; ".join(text(c.label, lang) for c in item.choices),
        "yes": yes,
        "limit": TEXT_LIMIT,
        "min": _num(item.min),
        "max": _num(item.max),
        "cells": max(cells, len(item.choices)),
        "size": item.size or cells,
    }


def _expected(item: Item, words: Wording, form_langs: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """What an answer to ``item`` must be and how to correct it, per language: the texts its
    question type names (``QType.expect``, ``QType.fix``); a number with both bounds says them."""
    yes = Wording.of(words.definition, "messages", form_langs).joined("choice_yes")
    qtype = item.qtype
    expect = "expect_number_range" if qtype.name == "number" and None not in (item.min, item.max) else qtype.expect
    out_expected: dict[str, str] = {}
    out_fix: dict[str, str] = {}
    for lang in words.langs:
        fields = _fields(item, lang, yes, 0)
        out_expected[lang], out_fix[lang] = words.one(expect, lang, **fields), words.one(qtype.fix, lang, **fields)
    return out_expected, out_fix


def _missing_fix(item: Item, words: Wording, form_langs: list[str], cells: int, optional: bool) -> dict[str, str]:
    """What to fill in, and in how many cells (``QType.fill``): the options a drop-down offers,
    "Yes" beside each option that applies, or up to N components, one per cell."""
    yes = Wording.of(words.definition, "messages", form_langs).joined("choice_yes")
    out: dict[str, str] = {}
    for lang in words.langs:
        fix = words.one(item.qtype.fill, lang, **_fields(item, lang, yes, cells))
        if optional:
            fix += " " + words.one("fix_if_applies", lang)
        out[lang] = fix
    return out


def _num(value: float | None) -> str:
    return "" if value is None else (str(int(value)) if float(value).is_integer() else str(value))


# --- the feedback workbook --------------------------------------------------------------------


@dataclass
class FormRow:
    sheet: str
    row: int
    number: str | None


def index_rows(wb: Workbook) -> dict[tuple[str, str], FormRow]:
    """(item id, part) -> where that row is in a freshly built workbook."""
    found: dict[tuple[str, str], FormRow] = {}
    for ws in wb.worksheets:
        if ws.title in (META_SHEET, LISTS_SHEET):
            continue
        in_questions = False
        number = None
        for r in range(1, ws.max_row + 1):
            head = ws.cell(row=r, column=1).value
            if head is None:
                continue
            if head == "item_id":
                in_questions = True
                continue
            if not in_questions:
                continue
            part = raw_text(ws.cell(row=r, column=2).value).strip()
            shown = ws.cell(row=r, column=3).value
            if shown:
                number = str(shown)
            found[(str(head), part)] = FormRow(ws.title, r, number)
    return found


def answer_cells(item: Item, index: dict[tuple[str, str], FormRow], col: str) -> tuple[str | None, list[str]]:
    """The sheet and answer cells of an item in the feedback workbook (every choice or rank
    row of a multi-row question)."""
    rows = [
        (key[1], r) for key, r in index.items() if key[0] == item.id and (key[1] != "" or item.qtype.layout == CELL)
    ]
    if not rows:
        return None, []
    return rows[0][1].sheet, [f"{col}{r.row}" for _part, r in rows]


def place_problems(
    findings: list[Finding],
    returned: Returned,
    old: dict[tuple[str, str], tuple[str, str]],
    index: dict[tuple[str, str], FormRow],
    col: str,
    words: Wording,
) -> list[Problem]:
    """The stored findings of a return, moved to the cells of the feedback workbook (found by
    item id and part, since rows may have been inserted or deleted in the returned file) and
    worded in ``words``' languages. A multi-row question left blank marks every one of its
    rows; a duplicated row lands on the one row the new form has, which holds the first answer."""
    form = returned.form
    problems: list[Problem] = []
    for f in findings:
        code = f.code
        params = f.params
        key = old.get((f.sheet or "", f.cell or ""))
        iid = key[0] if key else (f.question or "").split(" [", 1)[0]
        item = form.item_by_id.get(iid) if code != "unknown-question" else None
        p = Problem(code=code)
        if item is not None:
            p.label = {lang: text(item.label, lang) for lang in words.langs}
            p.personal = item.personal
            if key and key in index and (key[1] != "" or item.qtype.layout == CELL):
                r = index[key]
                p.sheet, p.cells, p.number = r.sheet, [f"{col}{r.row}"], r.number
            else:
                p.sheet, p.cells = answer_cells(item, index, col)
                first = index.get((item.id, ""))
                p.number = first.number if first else None
        fmt = {"found": params.get("found") or "", "rows": params.get("rows", ""), "sheet": f.sheet or ""}
        if words.has(f"problem_{code}"):
            p.what = words.each(f"problem_{code}", **fmt)
        else:  # a code this file has no words for yet: the problem catalogue's, never nothing
            p.what = {lang: f.message_in(lang) or code for lang in words.langs}
        if code == "invalid-value" and item is not None:
            p.expected, p.fix = _expected(item, words, returned.langs)
            odd = f"fix_odd-{params.get('odd')}"  # a range, a spreadsheet error, a control character
            if words.has(odd):
                p.fix = words.each(odd)
        elif code in ("missing-answer", "row-deleted") and item is not None:
            p.fix = _missing_fix(item, words, returned.langs, len(p.cells), code == "row-deleted")
        elif words.has(f"fix_{code}"):
            p.fix = words.each(f"fix_{code}")
        else:
            p.fix = {lang: f.fix_in(lang) for lang in words.langs}
        problems.append(p)
    return problems


def note_text(p: Problem, words: Wording) -> str:
    """The cell note: what was found, what is expected, how to fix, in each language."""
    blocks = []
    for lang in words.langs:
        lines = [p.what[lang]]
        if p.expected.get(lang):
            lines.append(f"{words.one('expected', lang)}: {p.expected[lang]}")
        if p.fix.get(lang):
            lines.append(f"{words.one('to_fix', lang)}: {p.fix[lang]}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
