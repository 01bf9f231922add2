"""Which returns get feedback, and what their returned files hold.

Feedback goes to the current return of an institution whose answers need correcting (or whose
file could not be read); its answers are read again from the returned file itself, every cell as
typed (invalid values and formulas included), because ingest, made to parse, keeps only what
parses. Kept apart from the workbook so that choosing and reading are testable without writing.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

from consult.definitions import Definition, form_for
from consult.definitions.questionnaire import Form
from consult.errors import Finding
from consult.forms.layout import FORMAT, LISTS_SHEET, META_SHEET, read_metadata
from consult.intake.values import raw_text
from consult.store import ReturnRow
from consult.workspace import Workspace

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


def is_rejected(row: ReturnRow) -> bool:
    return row.status not in ("accepted", "incomplete", "superseded")


def answer_findings(findings: Iterable[Finding]) -> list[Finding]:
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
        if row.round not in (ws.round, None) and not is_rejected(row):
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
        if is_rejected(row) or row.status == "incomplete" or (with_warnings and answer_findings(row.warnings)):
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
class ReturnedCell:
    """One answer cell of the returned file, as the respondent left it."""

    sheet: str
    ref: str
    item: str
    part: str
    value: Any  # what the cell holds; a formula as its text (``=40+2``), never evaluated


@dataclass
class Returned:
    """What the returned file holds: its form and every answer cell, by hidden item id."""

    definition: Definition
    form: Form
    langs: list[str]
    cells: list[ReturnedCell]


def read_returned(path: Path, definitions: dict[str, Definition]) -> Returned | str:
    """The answer cells of a return ingest could read, or why they cannot be read now (the
    workspace lost its definition). Read here with openpyxl rather than through the ingest
    reader: ingest has already judged the file (its sha256 is checked), and what is wanted
    now is every cell as typed, invalid values and formulas included, which the reader, made
    to parse, does not keep."""
    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=False, keep_links=False)
    try:
        if META_SHEET not in wb.sheetnames:
            return "its metadata sheet cannot be read any more"
        meta = read_metadata(wb[META_SHEET].iter_rows(max_col=2, values_only=True))
        definition = definitions.get(meta.get("definition_hash", ""))
        if meta.get("format") != FORMAT or definition is None:
            return f"its questionnaire definition {meta.get('definition_hash', '?')[:12]} is unknown to this workspace"
        form = form_for(definition, meta.get("country", ""), meta.get("institution", ""))
        langs = [x for x in meta.get("languages", "en").split(",") if x] or ["en"]
        col = column_index_from_string(meta.get("answer_column") or "A")
        letter = get_column_letter(col)
        cells: list[ReturnedCell] = []
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
                    cells.append(ReturnedCell(title, f"{letter}{r}", str(head).strip(), part, value))
    finally:
        wb.close()
    return Returned(definition, form, langs, cells)
