"""Reading a returned workbook's cells with openpyxl: the metadata sheet and every answer row.

Answers are located by the hidden item-id column (column A), never by row position; openpyxl
errors on damaged parts are wrapped in :class:`Damaged` so that a bug in our own code still
surfaces as a bug, not as a damaged file.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from consult.definitions.questionnaire import Form
from consult.errors import Finding, finding
from consult.forms.layout import LISTS_SHEET, META_SHEET
from consult.intake.values import raw_text


def read_meta(wb: Any) -> dict[str, str] | None:
    if META_SHEET not in wb.sheetnames:
        return None
    meta: dict[str, str] = {}
    for row in wb[META_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
        if row and row[0] is not None:
            meta[str(row[0])] = "" if len(row) < 2 or row[1] is None else str(row[1])
    return meta


class Damaged(Exception):
    """A part of the zip that openpyxl cannot parse (only raised around openpyxl calls, so
    that a bug in our own checks still surfaces as a bug, not as a damaged file)."""


def guarded(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except Exception as exc:  # openpyxl/XML raise many types on damaged parts; all mean "unreadable"
        raise Damaged(root_cause(exc)) from exc


def root_cause(exc: BaseException) -> str:
    """The innermost cause: openpyxl wraps XML errors in a generic ValueError."""
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


def collect_cells(name: str, errors: list[Finding], wb: Any, answer_col: int, form: Form) -> list[tuple]:
    """(sheet, cell ref, item id, part, is_formula, value) for every row with an item id;
    rows whose id the form does not know are reported in ``errors``."""
    letter = openpyxl.utils.get_column_letter(answer_col)
    found: list[tuple] = []
    known = form.item_by_id
    for sheet in wb.sheetnames:
        if sheet in (META_SHEET, LISTS_SHEET):
            continue
        ws = wb[sheet]
        in_questions = False  # only rows below the hidden "item_id" header hold answers
        for r, row in enumerate(ws.iter_rows(min_row=1, max_col=answer_col), start=1):
            if not row:
                continue
            head = row[0].value
            if head is None:
                continue
            iid = str(head).strip()
            if iid == "item_id":
                in_questions = True
                continue
            if not in_questions:
                continue
            if iid not in known:
                errors.append(finding("unknown-question", file=name, sheet=sheet, cell=f"A{r}", found=iid))
                continue
            part = row[1].value if len(row) > 1 else None
            cell = row[answer_col - 1] if len(row) >= answer_col else None
            value = getattr(cell, "value", None)
            is_formula = getattr(cell, "data_type", None) == "f"
            found.append(
                (sheet, f"{letter}{r}", iid, "" if part is None else raw_text(part).strip(), is_formula, value)
            )
    return found


def cached_values(data: bytes, refs: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Saved results of formula cells; a formula is never evaluated by us."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        return {(s, ref): wb[s][ref].value for s, ref in refs}
    finally:
        wb.close()
