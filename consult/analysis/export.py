"""Export of current answers in long format for analysts (CSV or XLSX).

Text that a spreadsheet would run as a formula (starting with = + - @, or a tab/CR) is
prefixed with an apostrophe: returns are untrusted and analysts open exports in Excel.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from consult.analysis.coverage import current_returns
from consult.definitions import form_for
from consult.definitions.framework import text
from consult.definitions.qtypes import QTYPES, SLOTS
from consult.fileio import save_atomic, write_atomic
from consult.store import Store
from consult.workspace import Workspace, known_definitions

COLUMNS = [
    "country",
    "institution",
    "return_id",
    "question_id",
    "area",
    "component",
    "position",
    "value",
    "label",
    "question",
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def answer_rows(store: Store, ws: Workspace, lang: str = "en", countries: list[str] | None = None) -> list[list[Any]]:
    definitions = known_definitions(ws)
    returns = {r.id: r for r in current_returns(store, ws, countries)}
    rows: list[list[Any]] = []
    for a in store.answers(returns):
        r = returns[a.return_id]
        definition = definitions.get(r.definition_hash or "")
        item = (
            form_for(definition, r.country or "", r.institution or "").item_by_id.get(a.item_id) if definition else None
        )
        labels = {c.code: text(c.label, lang) for c in item.choices} if item else {}
        question = text(item.label, lang) if item else ""
        values = a.value if isinstance(a.value, list) else [a.value]
        for pos, value in enumerate(values, start=1):
            if value is None:  # an empty slot of a ranking: its position is kept by the next ones
                continue
            rows.append(
                [
                    r.country,
                    r.institution,
                    r.id,
                    a.item_id,
                    a.area or "",
                    a.component or "",
                    pos if QTYPES[a.type].layout == SLOTS else "",  # a ranking's slot
                    value,
                    labels.get(str(value), ""),
                    question,
                ]
            )
    return rows


def export_answers(
    store: Store, ws: Workspace, target: Path, fmt: str, lang: str = "en", countries: list[str] | None = None
) -> int:
    rows = [[neutralise(v) for v in row] for row in answer_rows(store, ws, lang, countries)]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        write_atomic(target, "\ufeff" + buf.getvalue())  # BOM: Excel then reads UTF-8 Cyrillic right
    else:
        wb = Workbook(write_only=True)
        sheet = wb.create_sheet("answers")
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append(row)
        save_atomic(target, wb.save)
    return len(rows)
