"""Writing the offline questionnaire: one protected, bilingual .xlsx per country and institution.

Layout of every section sheet (the reader in :mod:`consult.returns` relies on the hidden
parts only, never on row positions):

* column A (hidden): the item id (``TOC.component.container``) on every answer row;
* column B (hidden): the part of a multi-row question (choice code, or rank position);
* column C: number; then one label column per language; then the answer column
  (yellow, unlocked, with data validation); then guidance.

The hidden, protected ``_consult`` sheet holds the metadata and a seal (sha256 of the other
metadata rows) so that ingest can tell a genuine return from an edited one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from consult import __version__
from consult.definitions import Definition
from consult.definitions.framework import text
from consult.definitions.questionnaire import TEXT_LIMIT, Choice, Form, FormSection, Item, resolve
from consult.fileio import save_atomic
from consult.forms.fit import BODY_SIZE, FONT_NAME, fit_row, height_for
from consult.forms.layout import FIRST_ROW, FORMAT, HEADER_ROW, LISTS_SHEET, META_SHEET, Layout, joined, seal
from consult.workspace import Workspace, remember_definition

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
INDENT = Alignment(wrap_text=True, vertical="top", indent=1)
UNLOCKED = Protection(locked=False)
# Every font is named: a cell whose font has no name prints in the viewer's fallback (often serif).
BODY = Font(name=FONT_NAME, size=BODY_SIZE)
BOLD = Font(name=FONT_NAME, size=BODY_SIZE, bold=True)
SMALL = Font(name=FONT_NAME, size=9, color="404040")
LEGEND = Font(name=FONT_NAME, size=9, italic=True)
HEADING = Font(name=FONT_NAME, size=13, bold=True, color="1F4E79")
HEADER_FONT = Font(name=FONT_NAME, size=BODY_SIZE, bold=True, color="FFFFFF")
# Column widths (Excel units, about one Arial 10 character each): landscape A4, one page wide.
NO_WIDTH = 8
ANSWER_WIDTH = 44
RANK_ANSWER_WIDTH = 56
HEADER_LIMIT = 180  # characters of names in a page header (Excel: 255 with the font codes)
TEXT_LINES = 3  # lines of room under a question answered in sentences
HINT_WIDTH = 28
LABELS_WIDTH = 80  # shared by the label columns: 40 each when bilingual, 80 when one language
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class Texts:
    """The fixed texts of the workbook (messages.yaml of the definitions), in the form's languages."""

    definition: Definition
    langs: list[str]

    def msg(self, key: str, lang: str) -> str:
        return self.definition.msg(key, lang)

    def message(self, key: str, langs: list[str] | None = None, sep: str = " / ", **fmt: object) -> str:
        langs = self.langs if langs is None else langs
        return joined({lang: self.msg(key, lang).format(**fmt) for lang in langs}, langs, sep)


def sheet_title(index: int | None, names: list[str], used: set[str]) -> str:
    """A tab name Excel accepts (31 characters, no []:*?/\\'), unique in the workbook.

    ``names`` are the tab's name in each language of the form: all of them side by side
    where that fits, else the first language alone, so a name is never cut mid-word."""
    parts: list[str] = []
    for name in names:
        clean = re.sub(r"[\[\]:*?/\\']", " ", name).strip()
        if clean and clean not in parts:
            parts.append(clean)
    prefix = "" if index is None else f"{index} "
    base = prefix + " · ".join(parts)
    if len(base) > 31:
        base = (prefix + parts[0])[:31].strip()
    title, n = base, 2
    while title.lower() in used:
        title = f"{base[:28]}~{n}"
        n += 1
    used.add(title.lower())
    return title


def format_date(iso: str, lang: str) -> str:
    """A date as people write it: 30.09.2020 in Russian, 30 September 2020 in English."""
    try:
        day = dt.date.fromisoformat(str(iso)[:10])
    except ValueError:
        return str(iso)
    if lang == "ru":
        return day.strftime("%d.%m.%Y")
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return day.isoformat()


def header_text(value: str) -> str:
    """Text for a page header or footer: '&' is a control character there."""
    return value.replace("&", "&&")


class _Lists:
    """The hidden sheet holding every dropdown list, one column per list."""

    def __init__(self, wb: Workbook, langs: list[str]):
        self.ws = wb.create_sheet(LISTS_SHEET)
        self.ws.sheet_state = "hidden"
        self.langs = langs
        self.ranges: dict[str, str] = {}

    def range_for(self, key: str, labels: list[str]) -> str:
        if key not in self.ranges:
            col = len(self.ranges) + 1
            letter = get_column_letter(col)
            self.ws.cell(row=1, column=col, value=key)
            for r, label in enumerate(labels, start=2):
                self.ws.cell(row=r, column=col, value=label)
            self.ranges[key] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(labels) + 1}"
        return self.ranges[key]


class _Validations:
    """One DataValidation object per rule and sheet: Excel keeps files small that way."""

    def __init__(self, ws: Worksheet, langs: list[str], tx: Texts):
        self.ws = ws
        self.langs = langs
        self.tx = tx
        self.rules: dict[str, DataValidation] = {}

    def add(self, key: str, cell: str, **rule: Any) -> None:
        """Add ``cell`` to the rule ``key``, creating it from ``rule`` on first use."""
        if key not in self.rules:
            dv = DataValidation(allow_blank=True, **rule)
            dv.showErrorMessage = True
            dv.errorStyle = "stop"
            title = self.tx.message("invalid_choice_title", self.langs)
            dv.errorTitle = title if len(title) <= 32 else self.tx.message("invalid_choice_title", self.langs[:1])[:32]
            self.rules[key] = dv
            self.ws.add_data_validation(dv)
        self.rules[key].add(cell)


def choice_label(choice: Choice, langs: list[str]) -> str:
    return joined(choice.label, langs)


def _when_hint(item: Item, form: Form, langs: list[str], tx: Texts) -> str:
    """ "Required if the answer to 2.9 is: Other", each language naming the choices in its own words."""
    when = item.when
    if not when or not when.question:
        return ""
    target = form.item_by_id.get(when.question)
    if target is None:
        return ""
    codes = [when.equals] if when.equals else (when.in_ or ([when.includes] if when.includes else []))
    number = getattr(target, "_number", target.id)
    lines = {}
    for lang in langs:
        quote = "«{}»" if lang == "ru" else "'{}'"
        names = [quote.format(text(c.label, lang)) for c in target.choices if c.code in codes]
        lines[lang] = tx.msg("required_if", lang).format(question=number, choices=tx.msg("word_or", lang).join(names))
    return joined(lines, langs, "\n")


def _write_section(
    ws: Worksheet, form: Form, index: int, layout: Layout, lists: _Lists, langs: list[str], tx: Texts, page: PageText
) -> None:
    section = form.sections[index - 1]
    dvs = _Validations(ws, langs, tx)
    ac = layout.answer_col
    hc = layout.hint_col
    ranked = any(item.type == "rank" for item in section.items)
    ws.column_dimensions["A"].hidden = True
    ws.column_dimensions["B"].hidden = True
    ws.column_dimensions["C"].width = NO_WIDTH
    for col in layout.label_cols:
        ws.column_dimensions[get_column_letter(col)].width = LABELS_WIDTH / len(langs)
    # the answer cell shows the chosen option: wider where options are whole component names
    ws.column_dimensions[get_column_letter(ac)].width = RANK_ANSWER_WIDTH if ranked else ANSWER_WIDTH
    ws.column_dimensions[get_column_letter(hc)].width = HINT_WIDTH

    title = ws.cell(row=1, column=3, value=joined(section.title, langs))
    title.font, title.alignment = HEADING, WRAP
    legend = ws.cell(row=2, column=3, value=tx.message("required_legend", langs))
    legend.font, legend.alignment = LEGEND, WRAP
    for r in (1, 2):
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=hc)
        fit_row(ws, r)
    headers = {1: "item_id", 2: "part", 3: tx.message("col_no", langs)}
    for col, lang in zip(layout.label_cols, langs, strict=True):
        question = tx.msg("col_question", lang)
        headers[col] = f"{question} ({lang.upper()})" if len(langs) > 1 else question
    headers[ac] = tx.message("col_answer", langs)
    headers[hc] = tx.message("col_hint", langs)
    for col, value in headers.items():
        cell = ws.cell(row=HEADER_ROW, column=col, value=value)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
    fit_row(ws, HEADER_ROW)

    yes = tx.message("choice_yes", langs)
    row = FIRST_ROW
    shown_hint: tuple[str, str] | None = None  # a guidance text is written once per run of rows
    for n, item in enumerate(section.items, start=1):
        number = f"{index}.{n}"
        item._number = number  # type: ignore[attr-defined]  # used by later 'required if' hints
        mark = "\u00a0*" if item.required else ""  # no-break space: the star never wraps alone
        hint = "\n".join(filter(None, [joined(item.hint, langs, "\n"), _when_hint(item, form, langs, tx)]))
        if item.component and (item.qid, hint) == shown_hint:
            hint = ""  # the same guidance on every component row only repeats itself
        else:
            shown_hint = (item.qid, hint)

        def put(
            r: int,
            part: str,
            labels: dict[str, str],
            numbering: str,
            answer: bool,
            bold: bool = False,
            indent: bool = False,
            item: Item = item,
        ) -> None:
            ws.cell(row=r, column=1, value=item.id)
            ws.cell(row=r, column=2, value=part or None)
            c = ws.cell(row=r, column=3, value=numbering or None)
            c.font, c.alignment = BOLD if bold else BODY, WRAP
            for col, lang in zip(layout.label_cols, langs, strict=True):
                c = ws.cell(row=r, column=col, value=text(labels, lang))
                c.font, c.alignment = BOLD if bold else BODY, INDENT if indent else WRAP
            cell = ws.cell(row=r, column=ac)
            cell.border, cell.alignment, cell.font = BORDER, WRAP, BODY
            if answer:
                cell.fill = INPUT_FILL
                cell.protection = UNLOCKED
            else:
                cell.fill = LOCKED_FILL

        def guidance(r: int, value: str) -> None:
            c = ws.cell(row=r, column=hc, value=value or None)
            c.font, c.alignment = SMALL, WRAP

        if item.type in ("multiple", "rank"):
            labels = {lang: item.label.get(lang, "") + mark for lang in item.label}
            put(row, "", labels, number, answer=False, bold=True)
            guidance(row, hint)
            fit_row(ws, row)
            row += 1
            if item.type == "multiple":
                for choice in item.choices:
                    put(row, choice.code, choice.label, "", answer=True, indent=True)
                    rng = lists.range_for("yes", [yes])
                    dvs.add("yes", f"{get_column_letter(ac)}{row}", type="list", formula1=rng)
                    fit_row(ws, row, {ac: yes})
                    row += 1
            else:
                key = f"rank:{item.id}"
                options = [choice_label(c, langs) for c in item.choices]
                rng = lists.range_for(key, options)
                longest = max(options, key=len, default="")
                for pos in range(1, item.size + 1):
                    slot = {lang: tx.msg("rank_slot", lang).format(n=pos) for lang in langs}
                    put(row, str(pos), slot, "", answer=True, indent=True)
                    dvs.add(key, f"{get_column_letter(ac)}{row}", type="list", formula1=rng)
                    fit_row(ws, row, {ac: longest})
                    row += 1
            continue

        labels = {lang: item.label.get(lang, "") + mark for lang in item.label}
        put(row, "", labels, number, answer=True)
        guidance(row, hint)
        ref = f"{get_column_letter(ac)}{row}"
        extra: dict[int, str] = {}
        minimum = 0.0
        if item.type in ("rating", "single"):
            key = f"list:{item.type}:{','.join(c.code for c in item.choices)}"
            options = [choice_label(c, langs) for c in item.choices]
            rng = lists.range_for(key, options)
            dvs.add(key, ref, type="list", formula1=rng)
            extra[ac] = max(options, key=len, default="")
        elif item.type == "number":
            lo = item.min if item.min is not None else -1e12
            hi = item.max if item.max is not None else 1e12
            dvs.add(
                f"number:{lo}:{hi}",
                ref,
                type="decimal",
                operator="between",
                formula1=str(lo),
                formula2=str(hi),
                error=tx.message("invalid_number", langs),
            )
        elif item.type == "date":
            ws[ref].number_format = "dd.mm.yyyy" if langs == ["ru"] else "yyyy-mm-dd"
            dvs.add(
                "date",
                ref,
                type="date",
                operator="between",
                formula1="36526",
                formula2="73051",
                error=tx.message("invalid_date", langs),
            )  # 2000-01-01 .. 2099-12-31 as Excel serial days
        elif item.type == "text":
            if item.role is not None:  # an answer in sentences: room for a paragraph on paper
                minimum = height_for(TEXT_LINES)
            dvs.add(
                "text",
                ref,
                type="textLength",
                operator="lessThanOrEqual",
                formula1=str(TEXT_LIMIT),
                error=tx.message("invalid_text", langs),
            )
        fit_row(ws, row, extra, minimum)
        row += 1
    for rule in dvs.rules.values():
        if rule.type == "list":
            rule.error = tx.message("invalid_choice", langs)
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=3)
    _printable(ws, page, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    _protect(ws)


@dataclass
class PageText:
    """What every printed page carries: country and institution above, page number below."""

    header_left: str
    header_right: str
    footer_right: str


def page_text(form: Form, definition: Definition, langs: list[str], tx: Texts) -> PageText:
    fw = definition.framework
    country = fw.country_by_code[form.country]
    inst = fw.institution_by_id[form.institution]
    names = langs
    if len(joined(country.name, langs) + joined(inst.name, langs)) > HEADER_LIMIT:
        names = langs[:1]  # Excel refuses a header over 255 characters, font codes included
    return PageText(
        header_left=header_text(joined(country.name, names)),
        header_right=header_text(joined(inst.name, names)),
        footer_right=tx.message("page_of", langs, page="&P", pages="&N"),
    )


def _printable(ws: Worksheet, page: PageText, title_rows: str | None = None, one_page: bool = False) -> None:
    """A4 landscape, one page wide (``one_page``: and one page tall), header and footer on every
    page: institutions print the questionnaire to discuss it, and a loose page must still say
    whose it is."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    if title_rows:
        ws.print_title_rows = title_rows
    font = f"{FONT_NAME},Regular"
    for part, value in (
        (ws.oddHeader.left, page.header_left),
        (ws.oddHeader.right, page.header_right),
        (ws.oddFooter.left, "&A"),
        (ws.oddFooter.right, page.footer_right),
    ):
        part.text, part.font, part.size = value, font, 8


def _protect(ws: Worksheet) -> None:
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # let people widen columns and rows to read
    ws.protection.formatRows = False


def metadata(
    form: Form, definition: Definition, workspace: Workspace, langs: list[str], layout: Layout, generated_at: str
) -> dict[str, str]:
    meta = {
        "format": FORMAT,
        "questionnaire_id": definition.questionnaire.id,
        "questionnaire_version": definition.questionnaire.version,
        "framework_id": definition.framework.id,
        "definition_hash": definition.hash,
        "country": form.country,
        "institution": form.institution,
        "round": workspace.round,
        "languages": ",".join(langs),
        "answer_column": get_column_letter(layout.answer_col),
        "generated_at": generated_at,
        "tool_version": __version__,
    }
    meta["seal"] = seal(meta)
    return meta


def _default_font(wb: Workbook) -> None:
    """Arial 10 as the workbook's Normal font: empty cells, and the unit of column widths,
    then measure the same in Excel and LibreOffice (openpyxl's default, Calibri, is often
    missing where LibreOffice runs, and its stand-in has other widths)."""
    wb._fonts = IndexedList([BODY])  # the first font is the Normal style's
    wb._named_styles["Normal"].font = BODY


def tab_names(section: FormSection, definition: Definition, langs: list[str]) -> list[str]:
    """The tab name of a section in each language: ``tab_<area or section id>`` of
    messages.yaml where given (short names that fit a tab), else the area's short name or
    the section title."""
    key = f"tab_{section.area or section.id}"
    if key in definition.messages:
        return [definition.msg(key, lang) for lang in langs]
    if section.area:
        return [text(definition.framework.area_by_id[section.area].short, lang) for lang in langs]
    return [text(section.title, lang) for lang in langs]


def _write_cover(
    cover: Worksheet, form: Form, definition: Definition, workspace: Workspace, langs: list[str], tx: Texts
) -> int:
    """Country, institution, consultation, deadline, contact and instructions; returns the row
    where the list of sheets starts."""
    fw = definition.framework
    cover.column_dimensions["A"].width = 36
    cover.column_dimensions["B"].width = 112
    title = cover.cell(row=1, column=1, value=joined(definition.questionnaire.title, langs, "\n"))
    title.font, title.alignment = HEADING, WRAP
    cover.merge_cells("A1:B1")
    fit_row(cover, 1)
    not_set = tx.message("cover_not_set", langs)
    deadline = (
        joined({lang: format_date(workspace.deadline, lang) for lang in langs}, langs)
        if workspace.deadline
        else not_set
    )
    facts = [
        ("cover_country", joined(fw.country_by_code[form.country].name, langs)),
        ("cover_institution", joined(fw.institution_by_id[form.institution].name, langs)),
        ("cover_round", joined({lang: workspace.title_in(lang) for lang in langs}, langs, "\n")),
        ("cover_deadline", deadline),
        ("cover_contact", workspace.contact or not_set),
        ("cover_version", definition.questionnaire.version),
    ]
    r = 3
    for key, value in facts:
        label = cover.cell(row=r, column=1, value=tx.message(key, langs))
        label.font, label.alignment = BOLD, WRAP
        cell = cover.cell(row=r, column=2, value=value)
        cell.font, cell.alignment = BODY, WRAP
        fit_row(cover, r)
        r += 1
    r += 1
    for lang in langs:
        cell = cover.cell(row=r, column=1, value=tx.msg("cover_instructions", lang))
        cell.font, cell.alignment = BODY, WRAP
        cover.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        fit_row(cover, r)
        r += 1
    r += 1
    cell = cover.cell(row=r, column=1, value=tx.message("cover_sections", langs))
    cell.font, cell.alignment = BOLD, WRAP
    cover.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
    fit_row(cover, r)
    return r + 1


def build_workbook(
    form: Form, definition: Definition, workspace: Workspace, langs: list[str], generated_at: str
) -> Workbook:
    wb = Workbook()
    _default_font(wb)
    layout = Layout(langs)
    tx = Texts(definition, langs)
    page = page_text(form, definition, langs, tx)
    cover = wb.active
    used = {LISTS_SHEET, META_SHEET}
    cover.title = sheet_title(None, [tx.msg("sheet_cover", lang) for lang in langs], used)
    r = _write_cover(cover, form, definition, workspace, langs, tx)
    lists = _Lists(wb, langs)
    for index, section in enumerate(form.sections, start=1):
        ws = wb.create_sheet(sheet_title(index, tab_names(section, definition, langs), used))
        name = cover.cell(row=r, column=1, value=ws.title)
        name.font, name.alignment = BODY, WRAP
        full = cover.cell(row=r, column=2, value=joined(section.title, langs))
        full.font, full.alignment = BODY, WRAP
        fit_row(cover, r)
        r += 1
        _write_section(ws, form, index, layout, lists, langs, tx, page)
    _printable(cover, page, one_page=True)  # the cover letter of the form: a single sheet of paper
    _protect(cover)
    wb.move_sheet(lists.ws, offset=len(wb.sheetnames))
    _protect(lists.ws)
    meta_ws = wb.create_sheet(META_SHEET)
    for i, (key, value) in enumerate(metadata(form, definition, workspace, langs, layout, generated_at).items(), 1):
        meta_ws.cell(row=i, column=1, value=key)
        meta_ws.cell(row=i, column=2, value=value)
    meta_ws.sheet_state = "veryHidden"
    _protect(meta_ws)
    wb.active = 0
    return wb


@dataclass
class Generated:
    path: Path
    country: str
    institution: str
    items: int
    sheets: int


def targets(
    definition: Definition, workspace: Workspace, countries: Iterable[str] | None, institutions: Iterable[str] | None
) -> list[tuple[str, str]]:
    """(country, institution) pairs to generate: the invited ones, filtered."""
    countries = list(countries or workspace.countries)
    wanted = set(institutions or [])
    pairs = []
    for c in countries:
        for i in workspace.invited_for(c):
            if not wanted or i in wanted:
                pairs.append((c, i))
    return pairs


def generate(
    definition: Definition,
    workspace: Workspace,
    pairs: list[tuple[str, str]],
    out: Path,
    langs: list[str],
    on_file: Callable[[Generated], None] | None = None,
    now: dt.datetime | None = None,
) -> list[Generated]:
    generated_at = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()
    results = []
    if workspace.configured:
        remember_definition(workspace, definition)
    for country, institution in pairs:
        form = resolve(definition.questionnaire, definition.framework, country, institution)
        wb = build_workbook(form, definition, workspace, langs, generated_at)
        path = out / country / f"{country}-{institution}.xlsx"
        save_atomic(path, wb.save)
        result = Generated(path, country, institution, len(form.items), len(form.sections))
        results.append(result)
        if on_file:
            on_file(result)
    return results
