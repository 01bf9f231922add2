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
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from consult.definitions import Definition, form_for
from consult.definitions.qtypes import CELL
from consult.definitions.questionnaire import Form
from consult.definitions.wording import Wording, joined
from consult.feedback.note import covering_note, deadline_text, note_languages
from consult.feedback.placement import FormRow, Problem, index_rows, note_text, place_problems
from consult.feedback.returned import (
    ANSWER_CODES,
    Returned,
    answer_findings,
    due,
    is_rejected,
    locate,
    read_returned,
    readable,
)
from consult.fileio import save_atomic, write_atomic
from consult.forms.fit import FONT_NAME, fit_row
from consult.forms.layout import Layout
from consult.forms.printing import page_text
from consult.forms.sheet import sheet_title
from consult.forms.styles import BODY, BOLD, HEADER_FILL, HEADER_FONT, HEADING
from consult.forms.writer import build_workbook
from consult.naming import tagged
from consult.store import ReturnRow, Store
from consult.workspace import Workspace, known_definitions, remember_definition

MARK_FILL = PatternFill("solid", fgColor="F4B084")  # prints as a mid grey, unlike the pale input yellow
MARK_SIDE = Side(style="thick", color="C00000")  # dark red: black on a black-and-white printer
MARK_BORDER = Border(left=MARK_SIDE, right=MARK_SIDE, top=MARK_SIDE, bottom=MARK_SIDE)
WRAP = Alignment(wrap_text=True, vertical="top")
ROW_SIDE = Side(style="thin", color="BFBFBF")
ROW_BORDER = Border(left=ROW_SIDE, right=ROW_SIDE, top=ROW_SIDE, bottom=ROW_SIDE)
LINK_FONT = Font(name=FONT_NAME, size=10, color="0563C1", underline="single")
SUFFIX = "-feedback"


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


def _copy_answers(
    wb: Workbook, returned: Returned, index: dict[tuple[str, str], FormRow], col: int
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
        notes.setdefault((p.sheet, p.cells[0]), []).append(note_text(p, words))
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
        deadline = deadline_text(ws, words, lang)
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


def _corrections(row: ReturnRow, returned: Returned, ws: Workspace, langs: list[str] | None, now: str) -> _Built:
    """The institution's answers in a fresh copy of its form, every problem marked."""
    definition, form, form_langs = returned.definition, returned.form, returned.langs
    words = Wording.of(definition, "feedback", langs or form_langs)
    note_words = Wording.of(definition, "feedback", note_languages(langs or form_langs, definition))
    wb = build_workbook(form, definition, ws, form_langs, now)
    layout = Layout(form_langs)
    col = get_column_letter(layout.answer_col)
    index = index_rows(wb)
    old = _copy_answers(wb, returned, index, layout.answer_col)
    findings = answer_findings(row.errors) + answer_findings(row.missing) + answer_findings(row.warnings)
    problems = place_problems(findings, returned, old, index, col, words)
    _mark(wb, problems, words)
    status = "rejected" if is_rejected(row) else row.status
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
    note_problems = place_problems(findings, returned, old, index, col, note_words)
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
        returned = read_returned(path, definitions if definitions is not None else known_definitions(ws))
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
