"""Reading and checking one returned workbook. No database access here: see :mod:`consult.intake.ingest`.

Returned files are untrusted: regular files only, read up to a size limit; a look at the zip
directory comes before any XML is parsed, and the XML parser (:mod:`consult.intake.xlsx`)
loads no DTD, expands no entity and never touches the network; formulas are never evaluated
(their saved result is used), macros never run (the VBA part is never even opened).
Answers are located by the hidden item-id column, never by row position.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from consult.definitions import Definition, form_for
from consult.definitions.qtypes import CELL, CHOICES, SLOTS, Layout
from consult.definitions.questionnaire import Form, Item
from consult.errors import Finding, finding
from consult.forms.layout import FORMAT, META_SHEET
from consult.intake.cells import CellRow, collect_cells, read_meta
from consult.intake.safety import LOCAL_PROBLEMS, MAX_SIZE, MAX_UNPACKED, Refused, check_file, read_bounded
from consult.intake.values import Invalid, describe, parse_answer, parse_flag, raw_text
from consult.intake.xlsx import Damaged, XlsxReader, column_index
from consult.problems import phrase
from consult.seal import SealKey, seal
from consult.types import IngestStatus

MAX_PROBLEMS = 50  # errors (and warnings) kept per return; the rest are counted


@dataclass
class Answer:
    item: Item
    value: Any
    raw: str
    sheet: str
    cell: str


@dataclass
class ReadReturn:
    """The outcome of reading one file: what it is, its answers, and every problem."""

    path: Path
    sha256: str = ""
    size: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    definition: Definition | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    personal: dict[str, Any] = field(default_factory=dict)
    errors: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    saved_at: str | None = None  # the workbook's own saved time (docProps/core.xml), ISO UTC

    @property
    def respondent_date(self) -> str | None:
        """The date the respondent gave (the answer whose role is ``completion_date``), which
        decides which return of an institution is the newest. A date in the future (a typo,
        15.08.2029 for 2026) is no date for that: it would outrank every resend made before it,
        so the return is ordered by its saved time instead (and warned about: :func:`flag_future_date`)."""
        given = next((str(a.value) for a in self.answers.values() if a.item.role == "completion_date"), None)
        return None if given is None or is_future(given) else given

    @property
    def status(self) -> IngestStatus:
        """accepted, incomplete or rejected; "unreadable" when the file could not be read here
        at all (a local problem, not the sender's: such a file is reported, never stored)."""
        if any(f.code in LOCAL_PROBLEMS for f in self.errors):
            return "unreadable"
        if self.errors:
            return "rejected"
        return "incomplete" if self.missing else "accepted"

    @property
    def country(self) -> str | None:
        return self.meta.get("country")

    @property
    def institution(self) -> str | None:
        return self.meta.get("institution")


def read_return(
    path: Path,
    definitions: dict[str, Definition],
    round_id: str | None,
    invited: dict[str, list[str]] | None = None,
    max_size: int = MAX_SIZE,
    max_unpacked: int = MAX_UNPACKED,
    data: bytes | None = None,
    seal_key: SealKey | None = None,
) -> ReadReturn:
    """Read and check one return; every problem ends up in the result, nothing is raised.
    ``seal_key`` is the workspace's: without it only forms sealed the old way can be checked.

    ``data``, when given, is the file's content (already read); otherwise the file is read
    here, as a regular file only and never more than ``max_size`` bytes of it."""
    rr = ReadReturn(path=path)
    name = path.name
    if data is None:
        try:
            data = read_bounded(path, max_size)
        except Refused as exc:
            rr.errors.append(exc.finding)
            rr.size = exc.size
            return rr
    rr.size = len(data)
    if rr.size > max_size:
        rr.errors.append(finding("too-large", file=name, size=rr.size, limit=max_size))
        return rr
    rr.sha256 = hashlib.sha256(data).hexdigest()
    refused = check_file(name, data, max_unpacked)
    if refused is not None:
        rr.errors.append(refused)
        return rr
    rr.saved_at = saved_time(data)
    try:
        wb = XlsxReader(data)
    except Damaged as exc:
        rr.errors.append(finding("not-xlsx", file=name, detail=[phrase("excel_unreadable", error=str(exc))]))
        return rr
    try:
        _read_answers(rr, wb, definitions, round_id, invited, seal_key)
    except Damaged as exc:
        rr.errors.append(finding("not-xlsx", file=name, detail=[phrase("damaged_part", error=str(exc))]))
    finally:
        wb.close()
    _cap(rr)
    return rr


def _cap(rr: ReadReturn) -> None:
    """Keep the first :data:`MAX_PROBLEMS` errors and warnings and a count of the rest: a
    hostile file must not flood the screen or the store."""
    for key in ("errors", "warnings"):
        found: list[Finding] = getattr(rr, key)
        if len(found) > MAX_PROBLEMS:
            rest = len(found) - MAX_PROBLEMS
            del found[MAX_PROBLEMS:]
            severity = "error" if key == "errors" else "warning"
            found.append(finding("more-problems", file=rr.path.name, count=rest, severity=severity))


def _read_answers(
    rr: ReadReturn,
    wb: XlsxReader,
    definitions: dict[str, Definition],
    round_id: str | None,
    invited: dict[str, list[str]] | None,
    seal_key: SealKey | None = None,
) -> None:
    name = rr.path.name
    meta = read_meta(wb)
    if not meta or meta.get("format") != FORMAT:
        rr.errors.append(finding("no-metadata", file=name, sheet=META_SHEET))
        return
    rr.meta = meta
    refused = check_seal(name, meta, seal_key, round_id)
    if refused is not None:
        if refused.severity == "warning":
            rr.warnings.append(refused)
        else:
            rr.errors.append(refused)
            return
    definition = definitions.get(meta.get("definition_hash", ""))
    if definition is None:
        rr.errors.append(
            finding("unknown-definition", file=name, sheet=META_SHEET, hash=meta.get("definition_hash", "?")[:12])
        )
        return
    rr.definition = definition
    if round_id is not None and meta.get("round") != round_id:
        rr.errors.append(
            finding("wrong-round", file=name, sheet=META_SHEET, found=meta.get("round"), expected=round_id)
        )
        return
    fw = definition.framework
    country, institution = meta.get("country", ""), meta.get("institution", "")
    if country not in fw.country_by_code or institution not in fw.institution_by_id:
        rr.errors.append(
            finding(
                "metadata-edited",
                file=name,
                sheet=META_SHEET,
                detail=[phrase("unknown_country_institution", country=country, institution=institution)],
            )
        )
        return
    if invited is not None and country not in invited:  # ``invited`` has every country of the round
        rr.errors.append(
            finding(
                "outside-round",
                file=name,
                sheet=META_SHEET,
                country=country,
                round=round_id or "",
                countries=", ".join(invited) or "none",
            )
        )
        return
    if invited is not None and institution not in invited.get(country, []):
        rr.warnings.append(
            finding("uninvited", file=name, severity="warning", country=country, institution=institution)
        )
    form = form_for(definition, country, institution)
    langs = [x for x in meta.get("languages", "en").split(",") if x] or ["en"]
    answer_col = _column(meta.get("answer_column", ""))
    if answer_col is None:
        rr.errors.append(finding("metadata-edited", file=name, sheet=META_SHEET, detail=[phrase("bad_answer_column")]))
        return
    stopped: list[Finding] = []
    cells = collect_cells(name, stopped, wb, answer_col, form)
    if stopped and stopped[-1].code == "not-a-form":  # the headline: put it first, before the capped list
        stopped.insert(0, stopped.pop())
    rr.errors += stopped
    if stopped and stopped[0].code == "not-a-form":
        return
    for c in cells:
        if c.formula is not None and c.value is None:  # a formula is never evaluated: only its saved result counts
            found = describe("=" + c.formula if c.formula else "=(shared formula)")
            rr.errors.append(finding("formula", file=name, sheet=c.sheet, cell=c.ref, question=c.item, found=found))
    _interpret(rr, form, cells, langs)


def is_future(iso_date: str, now: dt.datetime | None = None) -> bool:
    """Whether a date is after today anywhere on Earth (UTC+14): a date no one can have
    completed a questionnaire on yet."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return iso_date > (now + dt.timedelta(hours=14)).date().isoformat()


def flag_future_date(rr: ReadReturn, **at: Any) -> None:
    """Warn, with the cell, about a completion date in the future (both channels call this);
    ``at`` locates it (``file`` and, for an export, ``row``), the answer gives the cell."""
    answer = next((a for a in rr.answers.values() if a.item.role == "completion_date"), None)
    if answer is None or not is_future(str(answer.value)):
        return
    where = {"file": rr.path.name, "sheet": None if "row" in at else answer.sheet, "cell": answer.cell, **at}
    today = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=14)).date().isoformat()
    rr.warnings.append(
        finding("future-date", **where, question=answer.item.id, severity="warning", found=answer.value, today=today)
    )


def _column(letters: str) -> int | None:
    """The answer column named in the metadata ('F'), as a number; None when it is no column."""
    letters = letters.strip()
    if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha()):
        return None
    return column_index(letters)


def _interpret(rr: ReadReturn, form: Form, cells: list[CellRow], langs: list[str]) -> None:
    name = rr.path.name
    by_item: dict[str, list[CellRow]] = {}
    for c in cells:
        by_item.setdefault(c.item, []).append(c)
    values: dict[str, Any] = {}
    invalid: set[str] = set()
    for item in form.items:
        rows = by_item.get(item.id, [])
        if item.qtype.layout != CELL:  # the title row of a multi-row question holds no answer
            rows = [c for c in rows if c.part != ""]
        seen: dict[str, list[str]] = {}
        for c in rows:
            seen.setdefault(c.part, []).append(c.ref)
        dupes = {p: refs for p, refs in seen.items() if len(refs) > 1}
        for part, refs in dupes.items():
            rr.errors.append(
                finding(
                    "duplicate-answer",
                    file=name,
                    sheet=rows[0].sheet,
                    cell=refs[1],
                    question=item.id + (f" [{part}]" if part else ""),
                    rows=", ".join(refs),
                )
            )
        if dupes:
            invalid.add(item.id)
            continue
        if not rows:
            rr.warnings.append(finding("row-deleted", file=name, question=item.id, severity="warning"))
            continue
        try:
            value, raw, sheet, ref = _value(item, rows, langs, rr)
        except _BadCell:
            invalid.add(item.id)
            continue
        if value is None:
            continue
        values[item.id] = value
        answer = Answer(item, value, raw, sheet, ref)
        if item.personal:
            rr.personal[item.id] = value
        else:
            rr.answers[item.id] = answer
    flag_future_date(rr)
    for item in form.items:
        if not item.required or item.id in values or item.id in invalid:
            continue
        if item.when and item.when.question and not item.when.holds(values.get(item.when.question)):
            continue
        where = by_item.get(item.id, [])
        rr.missing.append(
            finding(
                "missing-answer",
                file=name,
                sheet=where[0].sheet if where else None,
                cell=where[0].ref if where else None,
                question=item.id,
                severity="missing",
            )
        )


class _BadCell(Exception):
    pass


Report = Callable[[CellRow, Invalid], None]


def _rank_picks(item: Item, rows: list[CellRow], langs: list[str], report: Report) -> list[tuple[int, str, CellRow]]:
    """(slot, component, cell) of each pick of a rank question, in slot order; an unreadable
    pick or a component chosen twice is reported."""
    picks: list[tuple[int, str, CellRow]] = []
    for c in rows:
        try:
            pos = int(c.part)
        except ValueError:
            pos = 999
        try:
            code = parse_answer(c.value, item, langs)
        except Invalid as exc:
            report(c, exc)
            continue
        if code is not None:
            picks.append((pos, code, c))
    picks.sort(key=lambda p: p[0])
    first: dict[str, CellRow] = {}
    for _pos, code, c in picks:
        if code in first:
            report(
                c,
                Invalid([phrase("not_twice", other=first[code].ref)], [phrase("once")]),
            )
        else:
            first[code] = c
    return picks


def _value(item: Item, rows: list[CellRow], langs: list[str], rr: ReadReturn) -> tuple[Any, str, str, str]:
    """The typed value of an item from its rows; invalid cells are reported on ``rr``."""
    name = rr.path.name
    bad = False

    def report(c: CellRow, exc: Invalid) -> None:
        nonlocal bad
        bad = True
        rr.errors.append(
            finding(
                "invalid-value",
                file=name,
                sheet=c.sheet,
                cell=c.ref,
                question=item.id,
                found=describe(c.value),
                expected=exc.expected,
                fix=exc.fix,
                worded=exc.worded,
                **({"odd": exc.odd} if exc.odd else {}),
            )
        )

    value, raw = _READERS[item.qtype.layout](item, rows, langs, rr, report)
    if bad:
        raise _BadCell
    return value, raw, rows[0].sheet, rows[0].ref


def _one_cell(item: Item, rows: list[CellRow], langs: list[str], _rr: ReadReturn, report: Report) -> tuple[Any, str]:
    """The answer of a one-cell question: its one typed value."""
    c = rows[0]
    try:
        return parse_answer(c.value, item, langs), raw_text(c.value)
    except Invalid as exc:
        report(c, exc)
        return None, ""


def _chosen(
    item: Item, rows: list[CellRow], _langs: list[str], rr: ReadReturn, report: Report
) -> tuple[list[str] | None, str]:
    """The answer of a multiple choice: the options marked "Yes", one row per option, in list order."""
    codes = {ch.code for ch in item.choices}
    chosen, raws = [], []
    unknown = False
    for c in rows:
        if c.part not in codes:
            row_no = c.ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            found = f"{item.id} [{c.part}]"
            rr.errors.append(
                finding("unknown-question", file=rr.path.name, sheet=c.sheet, cell=f"B{row_no}", found=found)
            )
            unknown = True
            continue
        try:
            if parse_flag(c.value):
                chosen.append(c.part)
                raws.append(f"{c.part}={raw_text(c.value)}")
        except Invalid as exc:
            report(c, exc)
    if unknown:
        raise _BadCell
    order = [ch.code for ch in item.choices]
    chosen.sort(key=order.index)
    return (chosen or None), "; ".join(raws)


def _ranked(
    item: Item, rows: list[CellRow], langs: list[str], _rr: ReadReturn, report: Report
) -> tuple[list[str | None] | None, str]:
    """The answer of a ranking: its picks in the slots the respondent used."""
    picks = _rank_picks(item, rows, langs, report)
    # the slot the respondent used: a pick in slot 3 after an empty slot 2 stays third
    # (None marks an empty slot); a row whose slot number was lost goes after the others
    slots: list[str | None] = []
    for pos, code, _c in picks:
        index = pos - 1 if 1 <= pos <= item.size and pos - 1 >= len(slots) else len(slots)
        slots += [None] * (index - len(slots)) + [code]
    raw = "; ".join(raw_text(c.value) for _p, _code, c in picks)
    return (slots or None), raw


# How each layout of an answer (consult/definitions/qtypes.py) is read from its rows.
_READERS: dict[Layout, Callable[[Item, list[CellRow], list[str], ReadReturn, Report], tuple[Any, str]]] = {
    CELL: _one_cell,
    CHOICES: _chosen,
    SLOTS: _ranked,
}


def check_seal(name: str, meta: dict[str, str], key: SealKey | None, round_id: str | None) -> Finding | None:
    """The finding about a form's seal: None when it proves the metadata is what this workspace
    generated; a warning for a genuine-looking form sealed the old (unkeyed) way, which cannot
    prove it was not relabelled; otherwise the error that refuses it."""
    found = meta.get("seal", "")
    where = {"file": name, "sheet": META_SHEET}
    if "seal_key" in meta:
        if key is None or meta["seal_key"] != key.id:
            if round_id is not None and meta.get("round") != round_id:  # says where it belongs
                return finding("wrong-round", **where, found=meta.get("round"), expected=round_id)
            return finding("seal-foreign", **where, found=meta["seal_key"], expected=key.id if key else "none")
        if not hmac.compare_digest(found, seal(meta, key)):
            return finding("seal-forged", **where, country=meta.get("country"), institution=meta.get("institution"))
        return None
    if not hmac.compare_digest(found, seal(meta)):
        return finding("metadata-edited", **where, detail=[phrase("seal_mismatch")])
    if key is not None and not key.may_be_unkeyed(meta.get("generated_at", "")):
        return finding("seal-unkeyed", **where, country=meta.get("country"), institution=meta.get("institution"))
    return finding(
        "seal-old", **where, severity="warning", country=meta.get("country"), institution=meta.get("institution")
    )


CORE_PROPERTIES = "docProps/core.xml"
DCTERMS = "{http://purl.org/dc/terms/}"


def saved_time(data: bytes, limit: int = 65536) -> str | None:
    """When the workbook says it was last saved (``dcterms:modified`` of docProps/core.xml), as
    ISO UTC; None when absent, oversized or unreadable. Only called after the file safety check
    passed; the XML is parsed with defusedxml, and a time more than a day ahead of now (a wrong
    clock, or a sender trying to win) is ignored."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo(CORE_PROPERTIES)
            if info.file_size > limit:
                return None
            with zf.open(info) as fh:
                xml = fh.read(limit + 1)
        if len(xml) > limit:
            return None
        node = ElementTree.fromstring(xml).find(f"{DCTERMS}modified")
        if node is None or not node.text:
            return None
        when = dt.datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, ElementTree.ParseError):
        return None  # ValueError covers defusedxml refusing entity tricks: an unusable time, nothing more
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    when = when.astimezone(dt.timezone.utc).replace(microsecond=0)
    if when > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1):
        return None
    return when.isoformat()
