"""Reading and checking one returned workbook. No database access here: see :mod:`consult.ingest`.

Returned files are untrusted: a size limit and a look at the zip directory come before any
XML is parsed (defusedxml is installed, so openpyxl parses XML safely), formulas are never
evaluated, macros never run (openpyxl does not execute VBA and we do not keep it).
Answers are located by the hidden item-id column, never by row position.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import column_index_from_string

from .definitions import Definition
from .errors import Finding, finding
from .framework import text
from .questionnaire import TEXT_LIMIT, Form, Item, resolve
from .workbook import FORMAT, LISTS_SHEET, META_SHEET, joined, seal

MAX_SIZE = 20 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200
YES = {"yes", "да", "x", "х", "✓", "✔", "1", "true", "y", "д", "+", "v", "oui"}
NO = {"no", "нет", "0", "false", "n", "н", "-"}
NA_SYNONYMS = {"n/a", "na", "н/п", "н/д", "not applicable", "не применимо", "неприменимо"}


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

    @property
    def status(self) -> str:
        if self.errors:
            return "rejected"
        return "incomplete" if self.missing else "accepted"

    @property
    def country(self) -> str | None:
        return self.meta.get("country")

    @property
    def institution(self) -> str | None:
        return self.meta.get("institution")


def norm(value: str) -> str:
    """Case-, space- and dash-insensitive form used to match typed labels."""
    value = value.replace("\u00a0", " ").replace("–", "-").replace("—", "-").replace("ё", "е")
    return re.sub(r"\s+", " ", value).strip().casefold()


def _lookup(item: Item, langs: tuple[str, ...]) -> dict[str, str]:
    """Every accepted spelling of every choice: code, each label, the side-by-side label."""
    if langs in item.lookups:
        return item.lookups[langs]
    table: dict[str, str] = {}
    for c in item.choices:
        keys = [c.code, *c.label.values(), joined(c.label, list(langs)), joined(c.label, list(c.label))]
        if c.code == "na":
            keys += list(NA_SYNONYMS)
        for k in keys:
            table.setdefault(norm(k), c.code)
        for label in c.label.values():  # "5 - Top priority": also accept "Top priority"
            m = re.match(r"^\d+\s*-\s*(.+)$", label)
            if m:
                table.setdefault(norm(m.group(1)), c.code)
        if "." in c.code:  # components: also accept the bare component name
            for label in c.label.values():
                table.setdefault(norm(label.split(": ", 1)[-1]), c.code)
    item.lookups[langs] = table
    return table


_FORMS: dict[tuple[str, str, str], Form] = {}


def form_for(definition: Definition, country: str, institution: str) -> Form:
    """The resolved form of a return, cached: a thousand returns share 96 forms at most."""
    key = (definition.hash, country, institution)
    if key not in _FORMS:
        _FORMS[key] = resolve(definition.questionnaire, definition.framework, country, institution)
    return _FORMS[key]


def _raw_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe(value: Any) -> str:
    shown = _raw_text(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"'{shown}'"


class _Invalid(Exception):
    def __init__(self, expected: str, fix: str):
        self.expected = expected
        self.fix = fix


def _choice_expected(item: Item, langs: list[str], limit: int = 7) -> str:
    if item.type == "rating":
        na = [text(c.label, langs[0]) for c in item.choices if c.code == "na"]
        return "a rating from 1 to 5" + (f" or '{na[0]}'" if na else "")
    choices = item.choices
    if item.type == "rank":
        return f"one of the {len(choices)} components in the drop-down list, e.g. '{text(choices[0].label, langs[0])}'"
    names = [text(c.label, langs[0]) for c in choices[:limit]]
    more = f" (or one of {len(choices) - limit} more)" if len(choices) > limit else ""
    return "one of " + "; ".join(f"'{n}'" for n in names) + more


def parse_choice(value: Any, item: Item, langs: list[str]) -> str:
    table = _lookup(item, tuple(langs))
    key = norm(_raw_text(value))
    if isinstance(value, float) and value.is_integer():
        key = str(int(value))
    if key in table:
        return table[key]
    if item.type == "rating":
        m = re.match(r"^([1-5])(?:[.,]0+)?(?:\s*[-:.)]\s*.*)?$", key)
        if m:
            return m.group(1)
    raise _Invalid(_choice_expected(item, langs), "choose a value from the drop-down list")


def parse_number(value: Any, item: Item) -> float | int:
    if isinstance(value, bool):
        raise _Invalid("a number", "type digits only")
    if isinstance(value, (int, float)):
        number: float | int = value
    else:
        text = _raw_text(value).replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise _Invalid("a number", "type digits only, e.g. 12 or 12.5") from None
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if (item.min is not None and number < item.min) or (item.max is not None and number > item.max):
        raise _Invalid(f"a number between {item.min} and {item.max}", "correct the number")
    return number


DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _date_from_text(value: str) -> dt.date:
    """ISO dates, and the day-first forms used in the region (15.08.2020, 15/08/2020)."""
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise _Invalid("a date such as 2020-08-15", "type the date as YYYY-MM-DD")


def parse_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    elif isinstance(value, (int, float)) and 36526 <= value <= 73051:  # an Excel serial day
        d = (dt.datetime(1899, 12, 30) + dt.timedelta(days=float(value))).date()
    else:
        d = _date_from_text(_raw_text(value).strip())
    if not 2000 <= d.year <= 2100:
        raise _Invalid("a date between 2000 and 2100", "check the year")
    return d.isoformat()


def parse_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    text = _raw_text(value).strip()
    if len(text) > TEXT_LIMIT:
        raise _Invalid(f"at most {TEXT_LIMIT} characters (found {len(text)})", "shorten the text")
    return text


def _check_file(rr: ReadReturn, data: bytes, max_unpacked: int) -> bool:
    """Refuse what is not a plausible .xlsx before any XML parser sees it."""
    name = rr.path.name
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        detail = "it is an old .xls or a password-protected workbook"
    elif data[:4] == b"%PDF":
        detail = "it is a PDF document"
    elif data[:4] != b"PK\x03\x04":
        detail = "it is not a zip-based Office file" if data else "the file is empty"
    else:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = zf.infolist()
                names = {i.filename for i in infos}
                unpacked = sum(i.file_size for i in infos)
                packed = sum(i.compress_size for i in infos) or 1
                if unpacked > max_unpacked or (unpacked > 10_000_000 and unpacked / packed > MAX_RATIO):
                    rr.errors.append(finding("zip-bomb", file=name, size=unpacked, limit=max_unpacked))
                    return False
                if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
                    detail = "it is a zip archive but not an Excel workbook (a .docx or renamed .zip?)"
                else:
                    return True
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            detail = f"the file is damaged or truncated: {exc}"
    rr.errors.append(finding("not-xlsx", file=name, detail=detail))
    return False


def read_meta(wb: Any) -> dict[str, str] | None:
    if META_SHEET not in wb.sheetnames:
        return None
    meta: dict[str, str] = {}
    for row in wb[META_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
        if row and row[0] is not None:
            meta[str(row[0])] = "" if len(row) < 2 or row[1] is None else str(row[1])
    return meta


def read_return(
    path: Path,
    definitions: dict[str, Definition],
    round_id: str | None,
    invited: dict[str, list[str]] | None = None,
    max_size: int = MAX_SIZE,
    max_unpacked: int = MAX_UNPACKED,
    data: bytes | None = None,
) -> ReadReturn:
    """Read and check one return; every problem ends up in the result, nothing is raised."""
    rr = ReadReturn(path=path)
    name = path.name
    try:
        rr.size = path.stat().st_size if data is None else len(data)
        if rr.size > max_size:
            rr.errors.append(finding("too-large", file=name, size=rr.size, limit=max_size))
            return rr
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        rr.errors.append(finding("not-xlsx", file=name, detail=f"cannot read it: {exc.strerror or exc}"))
        return rr
    rr.sha256 = hashlib.sha256(data).hexdigest()
    if not _check_file(rr, data, max_unpacked):
        return rr
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many types on damaged files; all mean "unreadable"
        rr.errors.append(finding("not-xlsx", file=name, detail=f"Excel cannot be read: {_root(exc)}"))
        return rr
    try:
        _read_answers(rr, wb, data, definitions, round_id, invited)
    except _Damaged as exc:
        rr.errors.append(finding("not-xlsx", file=name, detail=f"damaged workbook part: {exc}"))
    finally:
        wb.close()
    return rr


class _Damaged(Exception):
    """A part of the zip that openpyxl cannot parse (only raised around openpyxl calls, so
    that a bug in our own checks still surfaces as a bug, not as a damaged file)."""


def _parse(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except Exception as exc:  # openpyxl/XML raise many types on damaged parts; all mean "unreadable"
        raise _Damaged(_root(exc)) from exc


def _root(exc: BaseException) -> str:
    """The innermost cause: openpyxl wraps XML errors in a generic ValueError."""
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


def _read_answers(
    rr: ReadReturn,
    wb: Any,
    data: bytes,
    definitions: dict[str, Definition],
    round_id: str | None,
    invited: dict[str, list[str]] | None,
) -> None:
    name = rr.path.name
    meta = _parse(read_meta, wb)
    if not meta or meta.get("format") != FORMAT:
        rr.errors.append(finding("no-metadata", file=name, sheet=META_SHEET))
        return
    rr.meta = meta
    if meta.get("seal") != seal(meta):
        rr.errors.append(finding("metadata-edited", file=name, sheet=META_SHEET, detail="its seal does not match"))
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
                detail=f"unknown country/institution {country}/{institution}",
            )
        )
        return
    if invited is not None and institution not in invited.get(country, []):
        rr.warnings.append(
            finding("uninvited", file=name, severity="warning", country=country, institution=institution)
        )
    form = form_for(definition, country, institution)
    langs = [x for x in meta.get("languages", "en").split(",") if x] or ["en"]
    try:
        answer_col = column_index_from_string(meta.get("answer_column", ""))
    except ValueError:
        rr.errors.append(finding("metadata-edited", file=name, sheet=META_SHEET, detail="bad answer column"))
        return
    cells = _parse(_collect_cells, rr, wb, answer_col, form)
    formulas = [c for c in cells if c[4]]
    if formulas:
        cached = _parse(_cached_values, data, {(c[0], c[1]) for c in formulas})
        cells = [
            (s, ref, iid, part, False, cached.get((s, ref))) if f else (s, ref, iid, part, f, v)
            for (s, ref, iid, part, f, v) in cells
        ]
        for s, ref, iid, _part, _f, v in cells:
            if (s, ref) in cached and v is None:
                rr.errors.append(
                    finding(
                        "formula",
                        file=name,
                        sheet=s,
                        cell=ref,
                        question=iid,
                        found=_describe(next(c[5] for c in formulas if c[0] == s and c[1] == ref)),
                    )
                )
    _interpret(rr, form, cells, langs)


def _collect_cells(rr: ReadReturn, wb: Any, answer_col: int, form: Form) -> list[tuple]:
    """(sheet, cell ref, item id, part, is_formula, value) for every row with an item id."""
    name = rr.path.name
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
                rr.errors.append(finding("unknown-question", file=name, sheet=sheet, cell=f"A{r}", found=iid))
                continue
            part = row[1].value if len(row) > 1 else None
            cell = row[answer_col - 1] if len(row) >= answer_col else None
            value = getattr(cell, "value", None)
            is_formula = getattr(cell, "data_type", None) == "f"
            found.append(
                (sheet, f"{letter}{r}", iid, "" if part is None else _raw_text(part).strip(), is_formula, value)
            )
    return found


def _cached_values(data: bytes, refs: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Saved results of formula cells; a formula is never evaluated by us."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        return {(s, ref): wb[s][ref].value for s, ref in refs}
    finally:
        wb.close()


def _interpret(rr: ReadReturn, form: Form, cells: list[tuple], langs: list[str]) -> None:
    name = rr.path.name
    by_item: dict[str, list[tuple]] = {}
    for c in cells:
        by_item.setdefault(c[2], []).append(c)
    values: dict[str, Any] = {}
    invalid: set[str] = set()
    for item in form.items:
        rows = by_item.get(item.id, [])
        if item.type in ("multiple", "rank"):
            rows = [c for c in rows if c[3] != ""]
        seen: dict[str, list[str]] = {}
        for c in rows:
            seen.setdefault(c[3], []).append(c[1])
        dupes = {p: refs for p, refs in seen.items() if len(refs) > 1}
        for part, refs in dupes.items():
            rr.errors.append(
                finding(
                    "duplicate-answer",
                    file=name,
                    sheet=rows[0][0],
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
                sheet=where[0][0] if where else None,
                cell=where[0][1] if where else None,
                question=item.id,
                severity="missing",
            )
        )


class _BadCell(Exception):
    pass


def _value(item: Item, rows: list[tuple], langs: list[str], rr: ReadReturn) -> tuple[Any, str, str, str]:
    """The typed value of an item from its rows; invalid cells are reported on ``rr``."""
    name = rr.path.name
    bad = False

    def report(c: tuple, exc: _Invalid) -> None:
        nonlocal bad
        bad = True
        rr.errors.append(
            finding(
                "invalid-value",
                file=name,
                sheet=c[0],
                cell=c[1],
                question=item.id,
                found=_describe(c[5]),
                expected=exc.expected,
                fix=exc.fix,
            )
        )

    if item.type == "multiple":
        codes = {ch.code for ch in item.choices}
        chosen, raws = [], []
        for c in rows:
            if c[3] not in codes:
                row_no = c[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                rr.errors.append(
                    finding("unknown-question", file=name, sheet=c[0], cell=f"B{row_no}", found=f"{item.id} [{c[3]}]")
                )
                bad = True
                continue
            key = norm(_raw_text(c[5]))
            if key == "" or key in NO:
                continue
            if all(part.strip() in YES for part in key.split("/")):
                chosen.append(c[3])
                raws.append(f"{c[3]}={_raw_text(c[5])}")
            else:
                report(c, _Invalid("'Yes' or an empty cell", "choose 'Yes' from the drop-down list or leave it blank"))
        if bad:
            raise _BadCell
        order = [ch.code for ch in item.choices]
        chosen.sort(key=order.index)
        return (chosen or None), "; ".join(raws), rows[0][0], rows[0][1]
    if item.type == "rank":
        picks: list[tuple[int, str, tuple]] = []
        for c in rows:
            if _raw_text(c[5]).strip() == "":
                continue
            try:
                pos = int(c[3])
            except ValueError:
                pos = 999
            try:
                picks.append((pos, parse_choice(c[5], item, langs), c))
            except _Invalid as exc:
                report(c, exc)
        picks.sort(key=lambda p: p[0])
        first: dict[str, tuple] = {}
        for _pos, code, c in picks:
            if code in first:
                report(
                    c,
                    _Invalid(
                        f"a component not already chosen (it is also in {first[code][1]})",
                        "choose each component at most once",
                    ),
                )
            else:
                first[code] = c
        if bad:
            raise _BadCell
        ranked = [code for _pos, code, _c in picks]
        raw = "; ".join(_raw_text(c[5]) for _p, _code, c in picks)
        return (ranked or None), raw, rows[0][0], rows[0][1]
    c = rows[0]
    raw = _raw_text(c[5])
    if raw.strip() == "":
        return None, raw, c[0], c[1]
    try:
        if item.type in ("rating", "single"):
            value: Any = parse_choice(c[5], item, langs)
        elif item.type == "number":
            value = parse_number(c[5], item)
        elif item.type == "date":
            value = parse_date(c[5])
        else:
            value = parse_text(c[5])
    except _Invalid as exc:
        report(c, exc)
        raise _BadCell from None
    return value, raw, c[0], c[1]
