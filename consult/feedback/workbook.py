"""Feedback to an institution: its own workbook back, every problem marked, in its language.

Ingest already knows each problem precisely (``file: Sheet!C12 (qid): found…, expected…``);
this module turns that into what a ministry official can act on without help:

* ``CC-INST-feedback.LANGS.xlsx``: a fresh workbook of the same form (same definition, languages,
  country and institution, written by :func:`consult.forms.writer.build_workbook`, so its
  protection, drop-downs, hidden ids and seal are valid whatever the respondent's software did
  to the returned file), with every answer the institution gave copied back into it by item id,
  each problem cell marked (fill and a thick dark border, which both print in black and white)
  with a note in the form's language(s), and a first sheet listing every problem with a link
  to its cell. A corrected copy, when returned, is simply a newer return of the same
  institution. Building anew rather than editing the returned file is deliberate: openpyxl
  drops drop-down lists that Excel stores as extensions, and a respondent may have
  unprotected sheets, deleted rows or sheets; a fresh form has none of that, and the answers,
  located by item id, are the institution's own.
* a file that could not be read at all gets a blank form, its first sheet saying why.
* ``CC-INST-feedback.LANGS.txt``: a covering note ready to paste into an e-mail, in the form's
  language(s) and English: what is wrong, the deadline and whom to contact; nothing of any
  other institution and no respondent's personal data.

The wording is data (``feedback.yaml`` of the definitions). No CLI framework here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from consult.definitions import Definition, form_for
from consult.definitions.framework import text
from consult.definitions.qtypes import CELL
from consult.definitions.questionnaire import TEXT_LIMIT, Form, Item
from consult.definitions.wording import Wording, joined
from consult.errors import Finding
from consult.fileio import save_atomic, write_atomic
from consult.forms.fit import FONT_NAME, fit_row
from consult.forms.layout import FORMAT, LISTS_SHEET, META_SHEET, Layout
from consult.forms.writer import (
    BODY,
    BOLD,
    HEADER_FILL,
    HEADER_FONT,
    HEADING,
    build_workbook,
    page_text,
    sheet_title,
)
from consult.intake.values import raw_text
from consult.naming import tagged
from consult.store import ReturnRow, Store
from consult.workspace import Workspace, known_definitions, remember_definition

# Problems the institution can correct in its answers; any other error of a rejected return
# (not a workbook, edited seal, unknown definition, another round...) means the file could not
# be read as our questionnaire, and a blank form goes back instead. Warnings about our own
# settings (an institution not invited, an old seal) are never the institution's to fix.
ANSWER_CODES = (
    "invalid-value",
    "missing-answer",
    "duplicate-answer",
    "formula",
    "row-deleted",
    "unknown-question",
    "missing-sheet",
    "future-date",  # a warning: with --all, the institution checks the year
)
MARK_FILL = PatternFill("solid", fgColor="F4B084")  # prints as a mid grey, unlike the pale input yellow
MARK_SIDE = Side(style="thick", color="C00000")  # dark red: black on a black-and-white printer
MARK_BORDER = Border(left=MARK_SIDE, right=MARK_SIDE, top=MARK_SIDE, bottom=MARK_SIDE)
WRAP = Alignment(wrap_text=True, vertical="top")
ROW_SIDE = Side(style="thin", color="BFBFBF")
ROW_BORDER = Border(left=ROW_SIDE, right=ROW_SIDE, top=ROW_SIDE, bottom=ROW_SIDE)
LINK_FONT = Font(name=FONT_NAME, size=10, color="0563C1", underline="single")
NOTE_LIMIT = 15  # problems listed in the covering note; the workbook lists them all
SUFFIX = "-feedback"


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


@dataclass
class Feedback:
    """What ``consult feedback`` did for one institution. ``kind``: ``corrections`` (its own
    answers, problems marked), ``blank`` (the file could not be read: a blank form) or
    ``skipped`` (``reason`` says why nothing was written)."""

    return_id: int
    country: str | None
    institution: str | None
    file: str
    status: str
    kind: str
    path: Path | None = None
    note: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "return_id": self.return_id,
            "country": self.country,
            "institution": self.institution,
            "file": self.file,
            "status": self.status,
            "kind": self.kind,
            "path": str(self.path) if self.path else None,
            "note": str(self.note) if self.note else None,
            "problems": [p.to_dict() for p in self.problems],
            "reason": self.reason,
        }


# --- which returns get feedback ---------------------------------------------------------------


def _guess(file_name: str, definition: Definition) -> tuple[str | None, str | None]:
    """Country and institution from a file name such as ``KZ-MFA (2).xlsx``: for a file so
    damaged that its metadata could not be read, the name we gave it is all there is."""
    m = re.match(r"^([A-Za-z]{2})[-_ ]([A-Za-z]+)", file_name)
    if not m:
        return None, None
    country, institution = m.group(1).upper(), m.group(2).upper()
    fw = definition.framework
    if country in fw.country_by_code and institution in fw.institution_by_id:
        return country, institution
    return None, None


def _is_rejected(row: ReturnRow) -> bool:
    return row.status not in ("accepted", "incomplete", "superseded")


def _answer_findings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.code in ANSWER_CODES]


def readable(row: ReturnRow) -> bool:
    """Whether the answers of a return can be carried into a feedback workbook: every error
    is about an answer, none about the file itself."""
    return not row.errors or all(f.code in ANSWER_CODES for f in row.errors)


def due(
    rows: Iterable[ReturnRow],
    ws: Workspace,
    countries: Iterable[str] | None = None,
    institutions: Iterable[str] | None = None,
    with_warnings: bool = False,
) -> list[tuple[ReturnRow, str, str]]:
    """(return, country, institution) of every institution whose latest return needs
    feedback: rejected or incomplete, and with ``with_warnings`` accepted with warnings it
    can act on. The latest return is the last one received that is not superseded: a file
    that arrives rejected after an accepted one is the institution's latest attempt. Returns
    that came through a web form (KoboToolbox, ODK) are left out: they are corrected online."""
    fw = ws.definition.framework
    latest: dict[tuple[str, str], ReturnRow] = {}
    for row in rows:
        if row.status == "superseded" or row.channel != "excel":
            continue  # a web submission is corrected in the web form, not in a workbook
        if row.round not in (ws.round, None) and not _is_rejected(row):
            continue
        country, institution = row.country, row.institution
        if country not in fw.country_by_code or institution not in fw.institution_by_id:
            country, institution = _guess(row.file_name, ws.definition)  # metadata unreadable or nonsense
        if not (country and institution):
            country, institution = "", row.file_name  # unknown sender: reported, never guessed further
        key = (country, institution)
        if key not in latest or row.id > latest[key].id:
            latest[key] = row
    wanted_c = {c.upper() for c in countries or []}
    wanted_i = {i.upper() for i in institutions or []}
    out = []
    for (country, institution), row in sorted(latest.items(), key=lambda kv: kv[1].id):
        if wanted_c and country not in wanted_c:
            continue
        if wanted_i and institution.upper() not in wanted_i:
            continue
        if _is_rejected(row) or row.status == "incomplete" or (with_warnings and _answer_findings(row.warnings)):
            out.append((row, country, institution))
    return out


# --- the returned file ------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def locate(row: ReturnRow, source: str | None, ws: Workspace, search: Iterable[Path] = ()) -> Path | None:
    """The returned file of ``row``, checked by its sha256: where ingest read it (relative to
    the current folder or the workspace), else anywhere under the ``search`` folders."""
    candidates: list[Path] = []
    if source:
        p = Path(source)
        candidates += [p] if p.is_absolute() else [p, ws.root / p]
    folders = list(search)
    for folder in folders:
        candidates += sorted(folder.rglob(row.file_name)) if folder.is_dir() else [folder]
    for folder in folders:
        if folder.is_dir():
            candidates += sorted(f for pat in ("*.xlsx", "*.xlsm") for f in folder.rglob(pat))
    seen: set[Path] = set()
    for c in candidates:
        if c in seen or not c.is_file():
            continue
        seen.add(c)
        if _sha256(c) == row.sha256:
            return c
    return None


@dataclass
class _Cell:
    """One answer cell of the returned file, as the respondent left it."""

    sheet: str
    ref: str
    item: str
    part: str
    value: Any  # what the cell holds; a formula as its text (``=40+2``), never evaluated


@dataclass
class _Returned:
    """What the returned file holds: its form and every answer cell, by hidden item id."""

    definition: Definition
    form: Form
    langs: list[str]
    cells: list[_Cell]


def _read_returned(path: Path, definitions: dict[str, Definition]) -> _Returned | str:
    """The answer cells of a return ingest could read, or why they cannot be read now (the
    workspace lost its definition). Read here with openpyxl rather than through the ingest
    reader: ingest has already judged the file (its sha256 is checked), and what is wanted
    now is every cell as typed, invalid values and formulas included, which the reader, made
    to parse, does not keep."""
    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=False, keep_links=False)
    try:
        if META_SHEET not in wb.sheetnames:
            return "its metadata sheet cannot be read any more"
        meta = {
            str(r[0]): "" if len(r) < 2 or r[1] is None else str(r[1])
            for r in wb[META_SHEET].iter_rows(max_col=2, values_only=True)
            if r and r[0] is not None
        }
        definition = definitions.get(meta.get("definition_hash", ""))
        if meta.get("format") != FORMAT or definition is None:
            return f"its questionnaire definition {meta.get('definition_hash', '?')[:12]} is unknown to this workspace"
        form = form_for(definition, meta.get("country", ""), meta.get("institution", ""))
        langs = [x for x in meta.get("languages", "en").split(",") if x] or ["en"]
        col = column_index_from_string(meta.get("answer_column") or "A")
        letter = get_column_letter(col)
        cells: list[_Cell] = []
        for title in wb.sheetnames:
            if title in (META_SHEET, LISTS_SHEET):
                continue
            in_questions = False  # answers sit below the hidden "item_id" header only
            for r, row in enumerate(wb[title].iter_rows(max_col=col, values_only=True), start=1):
                head = row[0] if row else None
                if head is None:
                    continue
                if str(head).strip() == "item_id":
                    in_questions = True
                elif in_questions and str(head).strip() in form.item_by_id:
                    part = raw_text(row[1] if len(row) > 1 else None).strip()
                    value = row[col - 1] if len(row) >= col else None
                    cells.append(_Cell(title, f"{letter}{r}", str(head).strip(), part, value))
    finally:
        wb.close()
    return _Returned(definition, form, langs, cells)


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
    yes = joined({lang: words.definition.msg("choice_yes", lang) for lang in form_langs}, form_langs)
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
    yes = joined({lang: words.definition.msg("choice_yes", lang) for lang in form_langs}, form_langs)
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
class _Row:
    sheet: str
    row: int
    number: str | None


def _index(wb: Workbook) -> dict[tuple[str, str], _Row]:
    """(item id, part) -> where that row is in a freshly built workbook."""
    found: dict[tuple[str, str], _Row] = {}
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
            found[(str(head), part)] = _Row(ws.title, r, number)
    return found


def _answer_cells(item: Item, index: dict[tuple[str, str], _Row], col: str) -> tuple[str | None, list[str]]:
    """The sheet and answer cells of an item in the feedback workbook (every choice or rank
    row of a multi-row question)."""
    rows = [
        (key[1], r) for key, r in index.items() if key[0] == item.id and (key[1] != "" or item.qtype.layout == CELL)
    ]
    if not rows:
        return None, []
    return rows[0][1].sheet, [f"{col}{r.row}" for _part, r in rows]


def _copy_answers(
    wb: Workbook, returned: _Returned, index: dict[tuple[str, str], _Row], col: int
) -> dict[tuple[str, str], tuple[str, str]]:
    """Copy every answer the institution gave into the new workbook, by item id and part (the
    first of duplicated rows wins); returns old (sheet, cell) -> (item id, part)."""
    old: dict[tuple[str, str], tuple[str, str]] = {}
    done: set[tuple[str, str]] = set()
    for c in returned.cells:
        key = (c.item, c.part)
        old[(c.sheet, c.ref)] = key
        if c.value is None or key in done or key not in index:
            continue
        if c.part == "" and returned.form.item_by_id[c.item].qtype.layout != CELL:
            continue  # the question row of a multi-row question has no answer cell
        target = index[key]
        wb[target.sheet].cell(row=target.row, column=col, value=c.value)
        fit_row(wb[target.sheet], target.row)  # as Excel grows a row when a long answer is typed
        done.add(key)
    return old


def _problems(
    findings: list[Finding],
    returned: _Returned,
    old: dict[tuple[str, str], tuple[str, str]],
    index: dict[tuple[str, str], _Row],
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
                p.sheet, p.cells = _answer_cells(item, index, col)
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


def _note_text(p: Problem, words: Wording) -> str:
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


def _mark(wb: Workbook, problems: list[Problem], words: Wording) -> None:
    """Fill and frame every problem cell; one note per cell (problems of one cell together)."""
    notes: dict[tuple[str, str], list[str]] = {}
    for p in problems:
        if not p.sheet or not p.cells:
            continue
        ws = wb[p.sheet]
        for ref in p.cells:
            ws[ref].fill = MARK_FILL
            ws[ref].border = MARK_BORDER
        notes.setdefault((p.sheet, p.cells[0]), []).append(_note_text(p, words))
    for (sheet, ref), texts in notes.items():
        body = "\n\n".join(texts)
        comment = Comment(body, "consult")
        lines = sum(max(1, math.ceil(len(line) / 48)) for line in body.splitlines())
        comment.width = 340
        comment.height = min(600, 16 * lines + 20)
        wb[sheet][ref].comment = comment


def _print_setup(sheet: Worksheet, form: Form, definition: Definition, langs: list[str]) -> None:
    """A4 landscape, one page wide, with the form's own page header (country, institution) and
    footer (sheet name, page number), so a printed list says whose it is."""
    page = page_text(form, definition, langs, Wording.of(definition, "messages", langs))
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    for part, value in (
        (sheet.oddHeader.left, page.header_left),
        (sheet.oddHeader.right, page.header_right),
        (sheet.oddFooter.left, "&A"),
        (sheet.oddFooter.right, page.footer_right),
    ):
        part.text, part.font, part.size = value, f"{FONT_NAME},Regular", 8


FEEDBACK_DAYS = 14  # time given to correct a return once the round's deadline has passed


def feedback_due(deadline: str | None, today: dt.date | None = None) -> str | None:
    """The date corrections are asked for: the round's deadline while it is ahead, else two
    weeks from today (a workbook never asks for corrections by a date already past)."""
    if not deadline:
        return None
    today = today or dt.date.today()
    try:
        due = dt.date.fromisoformat(deadline[:10])
    except ValueError:
        return deadline
    return (due if due >= today else today + dt.timedelta(days=FEEDBACK_DAYS)).isoformat()


def _deadline(ws: Workspace, words: Wording, lang: str) -> str | None:
    due = feedback_due(ws.deadline)
    return words.date(due, lang) if due else None


def _first_sheet(
    wb: Workbook,
    words: Wording,
    definition: Definition,
    ws: Workspace,
    form: Form,
    form_langs: list[str],
    intro: dict[str, str],
    problems: list[Problem],
) -> Worksheet:
    """The "Corrections needed" sheet, first in the workbook and the one it opens on."""
    used = {title.lower() for title in wb.sheetnames}
    sheet = wb.create_sheet(sheet_title(None, [words.one("sheet_name", lang) for lang in words.langs], used), 0)
    fw = definition.framework
    widths = {"A": 6, "B": 36, "C": 44, "D": 40, "E": 46}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    title = sheet.cell(row=1, column=1, value=words.joined("sheet_title"))
    title.font = HEADING
    sheet.merge_cells("A1:E1")
    who = " — ".join(
        [
            joined(fw.country_by_code[form.country].name, words.langs),
            joined(fw.institution_by_id[form.institution].name, words.langs),
        ]
    )
    cell = sheet.cell(row=2, column=1, value=who)
    cell.font = BOLD
    sheet.merge_cells("A2:E2")
    r = 4
    for lang in words.langs:
        deadline = _deadline(ws, words, lang)
        closing = [words.one("deadline", lang, deadline=deadline) if deadline else words.one("no_deadline", lang)]
        if ws.contact:
            closing.append(words.one("contact", lang, contact=ws.contact))
        cell = sheet.cell(row=r, column=1, value=f"{intro[lang]}\n{' '.join(closing)}")
        cell.font, cell.alignment = BODY, WRAP
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=5)
        fit_row(sheet, r)
        r += 1
    if problems:
        r += 1
        header_row = r
        heads = ["col_no", "col_where", "col_question", "col_problem", "col_fix"]
        for c, key in enumerate(heads, start=1):
            cell = sheet.cell(row=r, column=c, value=words.joined(key, sep="\n"))
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
        fit_row(sheet, r)
        for n, p in enumerate(problems, start=1):
            r += 1
            question = ""
            if p.label:
                question = "\n".join(dict.fromkeys(p.label[lang] for lang in words.langs))
                question = f"{p.number} {question}" if p.number else question
            todo = {
                lang: " ".join(
                    x
                    for x in (
                        f"{words.one('expected', lang)}: {p.expected[lang]}." if p.expected.get(lang) else "",
                        p.fix.get(lang, ""),
                    )
                    if x
                )
                for lang in words.langs
            }
            values = [
                n,
                p.ref or words.joined("whole_file", sep="\n"),
                question,
                "\n".join(dict.fromkeys(p.what[lang] for lang in words.langs)),
                "\n".join(dict.fromkeys(todo.values())),
            ]
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=c, value=value)
                cell.font, cell.alignment, cell.border = BODY, WRAP, ROW_BORDER
            if p.ref:
                link = sheet.cell(row=r, column=2)
                link.hyperlink = Hyperlink(ref=link.coordinate, location=p.ref, display=p.ref)
                link.font = LINK_FONT
            fit_row(sheet, r)
        sheet.print_title_rows = f"{header_row}:{header_row}"  # no frozen panes: the intro above is tall
    _print_setup(sheet, form, definition, form_langs)
    sheet.protection.sheet = True  # nothing to type here; links and notes still work
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    sheet.sheet_view.tabSelected = True
    wb.active = 0
    return sheet


# --- the covering note ------------------------------------------------------------------------


def note_languages(form_langs: list[str], definition: Definition) -> list[str]:
    """The note's languages: the form's own first, then English. A language feedback.yaml has
    no note in would only repeat the English one, so it is left out."""
    worded = definition.feedback_texts["note_greeting"]
    return [x for x in form_langs if x != "en" and x in worded] + ["en"]


def covering_note(
    words: Wording,
    ws: Workspace,
    definition: Definition,
    country: str,
    institution: str,
    row: ReturnRow,
    kind: str,
    problems: list[Problem],
    attachment: str,
    reason: dict[str, str] | None = None,
) -> str:
    """The e-mail text: what is wrong, by when, whom to ask. Only this institution's problems;
    the answers of a question that asks for personal data are never quoted."""
    fw = definition.framework
    blocks = []
    for lang in words.langs:
        received = words.date(row.received_at, lang)
        inst = text(fw.institution_by_id[institution].name, lang)
        ctry = text(fw.country_by_code[country].name, lang)
        fmt = {"institution": inst, "country": ctry, "received": received, "n": len(problems)}
        lines = [words.one("note_subject", lang, title=ws.title_in(lang), institution=inst), ""]
        lines += [words.one("note_greeting", lang), ""]
        if kind == "blank":
            lines.append(words.one("note_unreadable", lang, reason=(reason or {}).get(lang, ""), **fmt))
            lines.append(words.one("note_attached_fresh", lang, attachment=attachment))
        else:
            status = "rejected" if _is_rejected(row) else row.status
            key = {"rejected": "note_rejected", "incomplete": "note_incomplete"}.get(status, "note_warnings")
            lines.append(words.one(key, lang, **fmt))
            lines.append(words.one("note_attached", lang, attachment=attachment))
            for p in problems[:NOTE_LIMIT]:
                where = p.ref or words.one("whole_file", lang)
                number = f" ({words.one('note_question', lang, number=p.number)})" if p.number else ""
                what = p.what[lang]
                if p.personal and words.has(f"problem_{p.code}"):  # never quote personal data
                    what = words.one(f"problem_{p.code}", lang, found="…", rows="", sheet=p.sheet or "")
                lines.append(f"  - {where}{number}: {what} {p.fix.get(lang, '')}".rstrip())
            if len(problems) > NOTE_LIMIT:
                lines.append("  " + words.one("note_more", lang, n=len(problems) - NOTE_LIMIT))
        lines.append("")
        deadline = _deadline(ws, words, lang)
        lines.append(
            words.one("note_return", lang, deadline=deadline) if deadline else words.one("note_return_asap", lang)
        )
        if ws.contact:
            lines.append(words.one("note_contact", lang, contact=ws.contact))
        lines += ["", words.one("note_thanks", lang)]
        blocks.append("\n".join(lines))
    return ("\n\n" + "-" * 60 + "\n\n").join(blocks) + "\n"


# --- one institution --------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _reason(row: ReturnRow, words: Wording) -> dict[str, str]:
    codes = [f.code for f in row.errors if f.code not in ANSWER_CODES]
    code = codes[0] if codes else "other"
    key = f"reason_{code}" if words.has(f"reason_{code}") else "reason_other"
    return words.each(key)


@dataclass
class _Built:
    """A feedback workbook before its first sheet and its note are written."""

    kind: str  # corrections or blank
    wb: Workbook
    definition: Definition
    form: Form
    form_langs: list[str]
    words: Wording  # the workbook's languages
    note_words: Wording  # the note's: the form's, then English
    intro: dict[str, str]
    problems: list[Problem]
    note_problems: list[Problem]  # the same problems, worded in the note's languages
    reason: dict[str, str] | None = None  # why the file could not be read (blank), per note language


def _corrections(row: ReturnRow, returned: _Returned, ws: Workspace, langs: list[str] | None, now: str) -> _Built:
    """The institution's answers in a fresh copy of its form, every problem marked."""
    definition, form, form_langs = returned.definition, returned.form, returned.langs
    words = Wording.of(definition, "feedback", langs or form_langs)
    note_words = Wording.of(definition, "feedback", note_languages(langs or form_langs, definition))
    wb = build_workbook(form, definition, ws, form_langs, now)
    layout = Layout(form_langs)
    col = get_column_letter(layout.answer_col)
    index = _index(wb)
    old = _copy_answers(wb, returned, index, layout.answer_col)
    findings = _answer_findings(row.errors) + _answer_findings(row.missing) + _answer_findings(row.warnings)
    problems = _problems(findings, returned, old, index, col, words)
    _mark(wb, problems, words)
    status = "rejected" if _is_rejected(row) else row.status
    key = {"rejected": "intro_rejected", "incomplete": "intro_incomplete"}.get(status, "intro_warnings")
    intro = {
        lang: " ".join(
            [
                words.one(key, lang, file=row.file_name, received=words.date(row.received_at, lang)),
                words.one("kept_answers", lang),
            ]
        )
        for lang in words.langs
    }
    note_problems = _problems(findings, returned, old, index, col, note_words)
    return _Built("corrections", wb, definition, form, form_langs, words, note_words, intro, problems, note_problems)


def _blank(row: ReturnRow, country: str, institution: str, ws: Workspace, langs: list[str] | None, now: str) -> _Built:
    """A blank form of the workspace's questionnaire for a file that could not be read."""
    definition = ws.definition
    form = form_for(definition, country, institution)
    form_langs = langs or [x for x in ws.languages if x in definition.languages] or ["en"]
    if ws.configured:
        remember_definition(ws, definition)  # so that the blank form, once filled, can be read
    words = Wording.of(definition, "feedback", form_langs)
    note_words = Wording.of(definition, "feedback", note_languages(form_langs, definition))
    wb = build_workbook(form, definition, ws, form_langs, now)
    why = _reason(row, words)
    intro = {
        lang: words.one(
            "intro_unreadable", lang, file=row.file_name, received=words.date(row.received_at, lang), reason=why[lang]
        )
        for lang in words.langs
    }
    built = _Built("blank", wb, definition, form, form_langs, words, note_words, intro, [], [])
    built.reason = _reason(row, note_words)
    return built


def write_feedback(
    row: ReturnRow,
    country: str,
    institution: str,
    ws: Workspace,
    out: Path,
    store: Store,
    langs: list[str] | None = None,
    search: Iterable[Path] = (),
    definitions: dict[str, Definition] | None = None,
    now: str | None = None,
) -> Feedback:
    """Write the feedback workbook and covering note of one return; record it in the store."""
    result = Feedback(row.id, country or None, institution if country else None, row.file_name, row.status, "skipped")
    if not country:
        result.reason = (
            "cannot tell which institution sent this file (its name is not CC-INSTITUTION...); "
            "send it a blank form with 'consult generate'"
        )
        return result
    written_at = now or _now()
    if readable(row):
        source = store.source_path(row.id)
        path = locate(row, source, ws, search)
        if path is None:
            result.reason = (
                f"the received file {row.file_name} is no longer where it was ingested from ({source}) "
                "or was changed; pass the folder holding it with --from"
            )
            return result
        returned = _read_returned(path, definitions if definitions is not None else known_definitions(ws))
        if isinstance(returned, str):
            result.reason = f"{row.file_name}: {returned}"
            return result
        built = _corrections(row, returned, ws, langs, written_at)
    else:
        built = _blank(row, country, institution, ws, langs, written_at)
    _first_sheet(built.wb, built.words, built.definition, ws, built.form, built.form_langs, built.intro, built.problems)
    target = out / country / tagged(f"{country}-{institution}{SUFFIX}", built.words.langs, ".xlsx")
    save_atomic(target, built.wb.save, private=True)  # the institution's answers, contacts included: owner only
    note = covering_note(
        built.note_words,
        ws,
        built.definition,
        country,
        institution,
        row,
        built.kind,
        built.note_problems,
        target.name,
        built.reason,
    )
    write_atomic(target.with_suffix(".txt"), note)
    result.kind, result.path, result.note, result.problems = (
        built.kind,
        target,
        target.with_suffix(".txt"),
        built.problems,
    )
    count = len(built.problems) if built.kind == "corrections" else len(row.errors)  # blank: the file's own errors
    store.record_feedback(written_at, row.id, country, institution, str(target), count)
    return result


def feedback(
    ws: Workspace,
    store: Store,
    out: Path,
    countries: Iterable[str] | None = None,
    institutions: Iterable[str] | None = None,
    with_warnings: bool = False,
    langs: list[str] | None = None,
    search: Iterable[Path] = (),
    on_file: Callable[[Feedback], None] | None = None,
) -> list[Feedback]:
    """Feedback for every institution whose latest return needs it (see :func:`due`)."""
    definitions = known_definitions(ws)
    results = []
    search = list(search)
    for row, country, institution in due(store.returns(), ws, countries, institutions, with_warnings):
        result = write_feedback(row, country, institution, ws, out, store, langs, search, definitions)
        results.append(result)
        if on_file:
            on_file(result)
    return results
