"""Locating a return's cells: the metadata sheet and every answer row.

Answers are located by the hidden item-id column (column A), never by row position, and
every row present is read, whatever a sheet declares as its size.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from consult.definitions.questionnaire import Form
from consult.errors import Finding, finding
from consult.forms.layout import LISTS_SHEET, META_SHEET, read_metadata
from consult.intake.values import raw_text
from consult.intake.xlsx import Damaged, XlsxReader

__all__ = ["MAX_UNKNOWN", "CellRow", "Damaged", "collect_cells", "read_meta"]

# A form has no unknown ids; a file with this many is not one of ours (or column A was
# overwritten): reading stops there instead of listing 100,000 problems.
MAX_UNKNOWN = 50


class CellRow(NamedTuple):
    """One answer row of a returned workbook, located by its hidden key columns."""

    sheet: str
    ref: str  # the answer cell ("F12")
    item: str  # the item id (hidden column A)
    part: str  # the choice code or slot number of a multi-row question (hidden column B), else ""
    formula: str | None  # the answer cell's formula text ("" for a shared one), None without one
    value: Any  # the cell's value (a formula's saved result), None when blank


def read_meta(wb: XlsxReader) -> dict[str, str] | None:
    """The key/value rows of the hidden metadata sheet, or None when there is none."""
    if META_SHEET not in wb.sheets:
        return None
    rows = wb.rows(META_SHEET, (1, 2))
    return read_metadata([cell.value if cell else None for cell in (cells.get(1), cells.get(2))] for _r, cells in rows)


def collect_cells(name: str, errors: list[Finding], wb: XlsxReader, answer_col: int, form: Form) -> list[CellRow]:
    """Every row with an item id below a sheet's hidden "item_id" header, as :data:`CellRow`;
    rows whose id the form does not know are reported in ``errors`` (reading stops after
    :data:`MAX_UNKNOWN` of them: the file is not one of our forms)."""
    letter = _letters(answer_col)
    found: list[CellRow] = []
    known = form.item_by_id
    unknown = 0
    columns = (1, 2, answer_col)
    for sheet in wb.sheetnames:
        if sheet in (META_SHEET, LISTS_SHEET):
            continue
        in_questions = False  # only rows below the hidden "item_id" header hold answers
        for r, cells in wb.rows(sheet, columns):
            head = cells.get(1)
            if head is None or head.value is None:
                continue
            iid = str(head.value).strip()
            if iid == "item_id":
                in_questions = True
                continue
            if not in_questions:
                continue
            if iid not in known:
                unknown += 1
                if unknown > MAX_UNKNOWN:
                    errors.append(finding("not-a-form", file=name, sheet=sheet, cell=f"A{r}", limit=MAX_UNKNOWN))
                    return found
                errors.append(finding("unknown-question", file=name, sheet=sheet, cell=f"A{r}", found=iid))
                continue
            part = cells.get(2)
            answer = cells.get(answer_col)
            found.append(
                CellRow(
                    sheet,
                    f"{letter}{r}",
                    iid,
                    "" if part is None or part.value is None else raw_text(part.value).strip(),
                    None if answer is None else answer.formula,
                    None if answer is None else answer.value,
                )
            )
    return found


def _letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
