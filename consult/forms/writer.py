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
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from consult import __version__
from consult.definitions import Definition
from consult.definitions.framework import text
from consult.definitions.questionnaire import TEXT_LIMIT, Choice, Form, Item, resolve
from consult.fileio import save_atomic
from consult.forms.layout import FIRST_ROW, FORMAT, HEADER_ROW, LISTS_SHEET, META_SHEET, Layout, joined, seal
from consult.workspace import Workspace, remember_definition

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)


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


def sheet_title(index: int, label: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", " ", f"{index} {label}").strip()[:31].strip()
    title, n = base, 2
    while title.lower() in used:
        title = f"{base[:28]}~{n}"
        n += 1
    used.add(title.lower())
    return title


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
    when = item.when
    if not when or not when.question:
        return ""
    target = form.item_by_id.get(when.question)
    if target is None:
        return ""
    codes = [when.equals] if when.equals else (when.in_ or ([when.includes] if when.includes else []))
    names = [choice_label(c, langs) for c in target.choices if c.code in codes]
    number = getattr(target, "_number", target.id)
    return tx.message("required_if", langs, "\n", question=number, choices=", ".join(names))


def _write_section(
    ws: Worksheet, form: Form, index: int, layout: Layout, lists: _Lists, langs: list[str], tx: Texts
) -> None:
    section = form.sections[index - 1]
    dvs = _Validations(ws, langs, tx)
    ac = layout.answer_col
    ws.cell(row=1, column=3, value=joined(section.title, langs)).font = Font(bold=True, size=14)
    ws.cell(row=2, column=3, value=tx.message("required_legend", langs)).font = Font(italic=True)
    headers = {1: "item_id", 2: "part", 3: tx.message("col_no", langs)}
    for col, lang in zip(layout.label_cols, langs, strict=True):
        headers[col] = f"{tx.msg('col_question', lang)} ({lang.upper()})"
    headers[ac] = tx.message("col_answer", langs)
    headers[layout.hint_col] = tx.message("col_hint", langs)
    for col, value in headers.items():
        cell = ws.cell(row=HEADER_ROW, column=col, value=value)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
    yes = tx.message("choice_yes", langs)
    row = FIRST_ROW
    for n, item in enumerate(section.items, start=1):
        number = f"{index}.{n}"
        item._number = number  # type: ignore[attr-defined]  # used by later 'required if' hints
        mark = " *" if item.required else ""
        hint = "\n".join(filter(None, [joined(item.hint, langs, "\n"), _when_hint(item, form, langs, tx)]))

        def put(
            r: int,
            part: str,
            labels: dict[str, str],
            numbering: str,
            answer: bool,
            bold: bool = False,
            item: Item = item,
        ) -> None:
            ws.cell(row=r, column=1, value=item.id)
            ws.cell(row=r, column=2, value=part or None)
            ws.cell(row=r, column=3, value=numbering).alignment = WRAP
            for col, lang in zip(layout.label_cols, langs, strict=True):
                c = ws.cell(row=r, column=col, value=text(labels, lang))
                c.alignment = WRAP
                if bold:
                    c.font = Font(bold=True)
            cell = ws.cell(row=r, column=ac)
            cell.border = BORDER
            cell.alignment = WRAP
            if answer:
                cell.fill = INPUT_FILL
                cell.protection = UNLOCKED
            else:
                cell.fill = LOCKED_FILL

        if item.type in ("multiple", "rank"):
            labels = {lang: item.label.get(lang, "") + mark for lang in item.label}
            put(row, "", labels, number, answer=False, bold=True)
            ws.cell(row=row, column=layout.hint_col, value=hint or None).alignment = WRAP
            row += 1
            if item.type == "multiple":
                for choice in item.choices:
                    put(row, choice.code, choice.label, "", answer=True)
                    rng = lists.range_for("yes", [yes])
                    dvs.add("yes", f"{get_column_letter(ac)}{row}", type="list", formula1=rng)
                    row += 1
            else:
                key = f"rank:{item.id}"
                rng = lists.range_for(key, [choice_label(c, langs) for c in item.choices])
                for pos in range(1, item.size + 1):
                    slot = {lang: tx.msg("rank_slot", lang).format(n=pos) for lang in langs}
                    put(row, str(pos), slot, "", answer=True)
                    dvs.add(key, f"{get_column_letter(ac)}{row}", type="list", formula1=rng)
                    row += 1
            continue

        labels = {lang: item.label.get(lang, "") + mark for lang in item.label}
        put(row, "", labels, number, answer=True)
        ws.cell(row=row, column=layout.hint_col, value=hint or None).alignment = WRAP
        ref = f"{get_column_letter(ac)}{row}"
        if item.type in ("rating", "single"):
            key = f"list:{item.type}:{','.join(c.code for c in item.choices)}"
            rng = lists.range_for(key, [choice_label(c, langs) for c in item.choices])
            dvs.add(key, ref, type="list", formula1=rng)
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
            ws[ref].number_format = "yyyy-mm-dd"
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
            ws.row_dimensions[row].height = 60
            dvs.add(
                "text",
                ref,
                type="textLength",
                operator="lessThanOrEqual",
                formula1=str(TEXT_LIMIT),
                error=tx.message("invalid_text", langs),
            )
        row += 1
    for rule in dvs.rules.values():
        if rule.type == "list":
            rule.error = tx.message("invalid_choice", langs)
    ws.column_dimensions["A"].hidden = True
    ws.column_dimensions["B"].hidden = True
    ws.column_dimensions["C"].width = 6
    for col in layout.label_cols:
        ws.column_dimensions[get_column_letter(col)].width = 55
    ws.column_dimensions[get_column_letter(ac)].width = 40
    ws.column_dimensions[get_column_letter(layout.hint_col)].width = 40
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=3)
    _printable(ws)
    _protect(ws)


def _printable(ws: Worksheet) -> None:
    """Landscape, one page wide: institutions print the questionnaire to discuss it."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}" if ws["A3"].value == "item_id" else None


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


def build_workbook(
    form: Form, definition: Definition, workspace: Workspace, langs: list[str], generated_at: str
) -> Workbook:
    wb = Workbook()
    layout = Layout(langs)
    tx = Texts(definition, langs)
    fw = definition.framework
    cover = wb.active
    cover.title = tx.msg("sheet_cover", langs[0])[:31]
    country = fw.country_by_code[form.country]
    inst = fw.institution_by_id[form.institution]
    cover["A1"] = joined(definition.questionnaire.title, langs, "\n")
    cover["A1"].font = Font(bold=True, size=14)
    cover["A1"].alignment = WRAP
    cover.row_dimensions[1].height = 48
    not_set = tx.message("cover_not_set", langs)
    facts = [
        ("cover_country", joined(country.name, langs)),
        ("cover_institution", joined(inst.name, langs)),
        ("cover_round", joined({lang: workspace.title_in(lang) for lang in langs}, langs)),
        ("cover_deadline", workspace.deadline or not_set),
        ("cover_contact", workspace.contact or not_set),
        ("cover_version", f"{definition.questionnaire.id} {definition.questionnaire.version}"),
    ]
    for r, (key, value) in enumerate(facts, start=3):
        cover.cell(row=r, column=1, value=tx.message(key, langs)).font = Font(bold=True)
        cover.cell(row=r, column=2, value=value).alignment = WRAP
    r = len(facts) + 4
    for lang in langs:
        cover.cell(row=r, column=1, value=tx.msg("cover_instructions", lang)).alignment = WRAP
        cover.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        cover.row_dimensions[r].height = 150
        r += 1
    cover.cell(row=r + 1, column=1, value=tx.message("cover_sections", langs)).font = Font(bold=True)
    cover.column_dimensions["A"].width = 45
    cover.column_dimensions["B"].width = 90
    lists = _Lists(wb, langs)
    used = {cover.title.lower(), LISTS_SHEET, META_SHEET}
    for index, section in enumerate(form.sections, start=1):
        name = joined(section.title, langs[:1])
        if section.area:
            name = text(fw.area_by_id[section.area].short, langs[0])
        ws = wb.create_sheet(sheet_title(index, name, used))
        cover.cell(row=r + 1 + index, column=1, value=ws.title)
        cover.cell(row=r + 1 + index, column=2, value=joined(section.title, langs))
        _write_section(ws, form, index, layout, lists, langs, tx)
    _printable(cover)
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
