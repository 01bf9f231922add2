"""The translators' round trip for quotes: export the quotes that are not in the synthesis
language to a workbook, read the filled workbook back, and show the translation in the
synthesis with the original beneath it.

A quote is identified by a digest of where it comes from and what it says (country,
institution, question, text), so the same answer keeps its id across re-ingests and an edited
original is detected. Translations are the office's editorial work, not part of a return:
they live in ``WS/translations/quotes-LANG.json`` (written atomically), never in consult.db.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consult.analysis.data import RoundData
from consult.definitions.framework import text
from consult.definitions.roles import QUOTED
from consult.errors import ConsultError, Finding, finding
from consult.fileio import save_atomic, write_atomic
from consult.locks import file_lock
from consult.report.document import clean
from consult.workspace import Workspace

SHEET = "quotes"
COLUMNS = ("id", "country", "institution", "area", "question", "language", "original", "translation")
ORIGINAL_COL, TRANSLATION_COL = COLUMNS.index("original") + 1, COLUMNS.index("translation") + 1


def quote_id(country: str, institution: str, item_id: str, value: str) -> str:
    digest = hashlib.sha256(f"{country}|{institution}|{item_id}|{value.strip()}".encode()).hexdigest()
    return "Q" + digest[:10].upper()


@dataclass
class QuoteRow:
    id: str
    country: str
    institution: str
    area: str
    question: str
    language: str
    original: str


def script_language(value: str) -> str:
    """ "ru" for mostly Cyrillic text, else "en": the marker the synthesis uses."""
    cyr = sum(1 for ch in value if "\u0400" <= ch <= "\u04ff")
    lat = sum(1 for ch in value if ch.isascii() and ch.isalpha())
    return "ru" if cyr > lat else "en"


def quotes_to_translate(data: RoundData, lang: str) -> list[QuoteRow]:
    """Every quotable answer (roles in QUOTED) whose script is not that of ``lang``."""
    fw = data.definition.framework
    doc_script = "ru" if lang in ("ru", "kk", "ky", "tg") else "en"
    questions = {q.id: q for s in data.definition.questionnaire.sections for q in s.questions}
    rows: list[QuoteRow] = []
    for code, cdata in data.countries.items():
        for a in cdata.by_role(*QUOTED):
            value = str(a.value).strip()
            if len(value) < 3 or script_language(value) == doc_script:
                continue
            inst = cdata.institution(a)
            q = questions.get(a.question_id or "")
            area = fw.area_by_id.get(a.area or "")
            rows.append(
                QuoteRow(
                    quote_id(code, inst, a.item_id, value),
                    code,
                    inst,
                    text(area.short, lang) if area else "",
                    text(q.label, lang).replace("{area}", "").strip() if q else a.item_id,
                    script_language(value),
                    value,
                )
            )
    return rows


SUBJECT = "consult quotes, to translate into: "


LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "kk": "Kazakh", "ky": "Kyrgyz", "tg": "Tajik", "uz": "Uzbek"}


def _language(code: str) -> str:
    return f"{LANGUAGE_NAMES[code]} ({code})" if code in LANGUAGE_NAMES else f"'{code}'"


def _exported_for(wb: Any) -> str | None:
    subject = getattr(wb.properties, "subject", None) or ""
    return subject[len(SUBJECT) :] if subject.startswith(SUBJECT) else None


def export_quotes(data: RoundData, lang: str, target: Path) -> int:
    """An .xlsx for the translators: everything locked but the translation column."""
    import openpyxl  # here, not at the top: a synthesis reads stored translations, never a workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection

    wb = openpyxl.Workbook()
    wb.properties.subject = SUBJECT + lang  # which language the file is for: an import for another says so
    ws = wb.active
    ws.title = SHEET
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    rows = quotes_to_translate(data, lang)
    for r in rows:
        ws.append([r.id, r.country, r.institution, r.area, r.question, r.language, clean(r.original), None])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row[TRANSLATION_COL - 1].protection = Protection(locked=False)
        row[TRANSLATION_COL - 1].fill = PatternFill("solid", fgColor="FFF2CC")
    for letter, width in zip("ABCDEFGH", (13, 8, 12, 18, 30, 9, 60, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.protection.sheet = True
    ws.protection.formatRows = False
    ws.protection.formatColumns = False
    save_atomic(target, lambda tmp: wb.save(tmp))
    return len(rows)


def translations_path(ws: Workspace, lang: str) -> Path:
    return ws.root / "translations" / f"quotes-{lang}.json"


def load_translations(ws: Workspace, lang: str) -> dict[str, dict[str, str]]:
    path = translations_path(ws, lang)
    if not path.exists():
        return {}
    try:
        data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConsultError(f"{path}: unreadable translations ({exc}); delete it and import the workbook again") from exc
    return data


@dataclass
class ImportResult:
    imported: int
    errors: list[Finding]


def import_quotes(ws: Workspace, data: RoundData, lang: str, source: Path) -> ImportResult:
    """Read a filled quotes workbook: unknown ids and edited originals are errors with their
    cell, and nothing is stored unless every row is right (all or nothing)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    name = source.name
    try:
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ConsultError(f"{source}: not a quotes workbook written by 'consult quotes export' ({exc})") from exc
    try:
        if SHEET not in wb.sheetnames:
            raise ConsultError(f"{source}: no sheet '{SHEET}'; use the workbook written by 'consult quotes export'")
        rows = list(wb[SHEET].iter_rows(values_only=True))
        exported_for = _exported_for(wb)
    finally:
        wb.close()
    if exported_for is not None and exported_for != lang:
        raise ConsultError(
            f"{source}: this file is for {_language(exported_for)}, not {_language(lang)}: import it with "
            f"--lang {exported_for}, or write a {_language(lang)} one with 'consult quotes export --lang {lang}'"
        )
    header = tuple(str(c or "").strip() for c in (rows[0] if rows else ()))
    if header[: len(COLUMNS)] != COLUMNS:
        raise ConsultError(f"{source}: the header row was changed; expected {', '.join(COLUMNS)}")
    known = {r.id: r for r in quotes_to_translate(data, lang)}
    errors: list[Finding] = []
    found: dict[str, dict[str, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = [*row, *([None] * len(COLUMNS))][: len(COLUMNS)]
        qid = str(values[0] or "").strip()
        original = str(values[ORIGINAL_COL - 1] or "")
        translation = str(values[TRANSLATION_COL - 1] or "").strip()
        if not qid and not translation:
            continue
        if qid not in known:
            errors.append(finding("quote-unknown", file=name, sheet=SHEET, cell=f"A{number}", found=qid or "(blank)"))
            continue
        if clean(original).strip() != clean(known[qid].original).strip():
            errors.append(finding("quote-edited", file=name, sheet=SHEET, cell=f"G{number}", id=qid))
            continue
        if translation:
            found[qid] = {"original": known[qid].original, "translation": translation}
    if errors:
        return ImportResult(0, errors)
    target = translations_path(ws, lang)
    # read, merge and write under one lock: two imports at once both keep their translations
    with file_lock(target.with_name(f".{target.name}.lock"), str(target)):
        merged = {**load_translations(ws, lang), **found}
        write_atomic(target, json.dumps(merged, ensure_ascii=False, indent=1, sort_keys=True))
    return ImportResult(len(found), [])


def translation_lookup(ws: Workspace, lang: str) -> dict[str, str]:
    """quote id -> translation, for the synthesis (only for originals that are unchanged)."""
    return {qid: entry["translation"] for qid, entry in load_translations(ws, lang).items() if entry.get("translation")}


def as_json(rows: list[QuoteRow]) -> list[dict[str, Any]]:
    return [dict(r.__dict__) for r in rows]
