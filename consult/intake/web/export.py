"""Recognising and opening a KoboToolbox or ODK Central export: its header and its numbered rows.

What the servers write (read in their export code, reproduced by ``tests/webexports.py``):

* KoboToolbox (kpi + formpack ``reporting/export.py``): CSV with every cell quoted, ``;`` and
  CRLF, or an .xlsx written by XlsxWriter ``write()`` (a text answer beginning with ``=`` is a
  *formula* whose text is the answer: the formula text is read, never its cached 0). Form
  fields in form order (calculates too), headed by their name or, with "include groups in
  headers", their group path joined by a separator the user types (``/`` by default); a
  select_multiple as its space-separated column, 0/1 columns ``<header><sep><code>``, or both;
  then the copy fields ``_id``, ``_uuid``, ``_submission_time``, ``_validation_status``,
  ``_notes``, ``_status``, ``_submitted_by``, ``__version__``, ``_tags``, ``_index`` (and
  ``meta/rootUuid`` on newer servers). There is no ``meta/instanceID`` column.
* ODK Central (``lib/data/briefcase.js``): CSV with ``,``, minimal quoting and ``\\n``, newest
  rows first: ``SubmissionDate``, the fields with ``-`` between groups (or bare names with
  "remove group names"), split select multiples (columns only for chosen values),
  ``meta-instanceID``, ``KEY``, ``SubmitterID``, ``SubmitterName``, ``AttachmentsPresent``,
  ``AttachmentsExpected``, ``Status``, ``ReviewState``, ``DeviceID``, ``Edits``,
  ``FormVersion``; or the same CSV as ``<form id>.csv`` inside a .zip.

An export is read as the same untrusted bytes as a workbook: regular files only, never more
than the size limit, a .zip's table never unpacked past its limit. Which server wrote it is
told by its columns (:attr:`Export.channel`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from consult.errors import Finding, finding
from consult.forms.layout import META_SHEET
from consult.forms.xlsform import VERSION_FIELD
from consult.intake.safety import MAX_SIZE, MAX_UNPACKED, Refused, check_file, read_bounded
from consult.intake.values import raw_text
from consult.intake.web.metadata import KOBO_COLUMNS, ODK_COLUMNS
from consult.intake.xlsx import Cell as XlsxCell
from consult.intake.xlsx import Damaged, XlsxReader
from consult.problems import phrase
from consult.types import Channel

MAX_COLUMNS = 16_384  # Excel's last column, XFD
NUL_MARK = "\ufffe"  # Python 3.10's csv refuses NUL: it is read as this noncharacter, then flagged
CSV_FIELD_LIMIT = csv.field_size_limit()


def is_export(path: Path) -> bool:
    """Whether ``path`` is a KoboToolbox/ODK export rather than a returned workbook: every CSV
    and .zip (ODK Central's download), and an .xlsx without our metadata sheet whose strings
    name the hidden version field. Only the zip directory and the workbook's string parts are
    looked at, never a whole sheet."""
    try:  # a pipe or device is never opened here (it could block forever): the reader refuses it
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
    except OSError:
        return False
    suffix = path.suffix.lower()
    if suffix in (".csv", ".zip"):
        return True
    if suffix not in (".xlsx", ".xlsm"):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            if f'name="{META_SHEET}"'.encode() in zf.read("xl/workbook.xml"):
                return False
            parts = [i for i in zf.infolist() if i.filename in ("xl/sharedStrings.xml", "xl/worksheets/sheet1.xml")]
            return any(i.file_size < 50_000_000 and VERSION_FIELD.encode() in zf.read(i) for i in parts)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return False  # the workbook reader names what is wrong with it


@dataclass
class Export:
    """An export as rows: its header and (row number as a spreadsheet shows it, cells)."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    sha256: str = ""
    member: str = ""  # the table read inside a .zip

    @property
    def channel(self) -> Channel | None:
        """The server that wrote the export, told by its own columns; None when neither."""
        names = set(self.header)
        if names & KOBO_COLUMNS:
            return "kobo"
        if names & ODK_COLUMNS:
            return "odk"
        return None


def column_letter(index: int) -> str:
    """A column number as a spreadsheet letters it (0 -> A)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _csv(name: str, data: bytes) -> tuple[list[str], list[tuple[int, list[Any]]]] | Finding:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return finding("export-unreadable", file=name, detail=[phrase("not_utf8")])
    if "\x00" in content:
        content = content.replace("\x00", NUL_MARK)
    first = content.split("\n", 1)[0]
    if first.startswith('"'):  # KoboToolbox quotes every cell: count '";"', not commas inside labels
        delimiter = max(",;\t", key=lambda d: first.count(f'"{d}"'))
    else:  # ODK Central quotes only where needed, and its headers are field names
        delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            return finding("export-cell-too-large", file=name, row=reader.line_num, limit=f"{CSV_FIELD_LIMIT:,}")
        return finding(
            "export-unreadable", file=name, detail=[phrase("csv_line", line=reader.line_num, error=str(exc))]
        )
    if not records:
        return finding("export-unreadable", file=name, detail=[phrase("empty_file")])
    return records[0], list(enumerate(records[1:], start=2))


def _zip(name: str, data: bytes, max_unpacked: int) -> tuple[str, bytes] | Finding:
    """The main table of an ODK Central .zip: ``<form id>.csv`` at the top; the other CSVs at
    the top are its repeats, named ``<form id>-<repeat>.csv`` (briefcase.js)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            tables = [i for i in zf.infolist() if "/" not in i.filename and i.filename.lower().endswith(".csv")]
            stems = {i.filename: PurePosixPath(i.filename).stem for i in tables}
            main = [
                i
                for i in tables
                if all(s == stems[i.filename] or s.startswith(stems[i.filename] + "-") for s in stems.values())
            ]
            if len(main) != 1:
                listed = ", ".join(i.filename for i in zf.infolist()[:8]) or "nothing"
                return finding("export-no-main", file=name, found=listed)
            if main[0].file_size > max_unpacked:
                return finding(
                    "export-unreadable",
                    file=name,
                    detail=[phrase("unpacks_to_more", part=main[0].filename, limit=f"{max_unpacked:,}")],
                )
            return main[0].filename, zf.read(main[0])
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        return finding("export-unreadable", file=name, detail=[phrase("bad_zip", error=str(exc))])


def _xls_value(cell: XlsxCell | None) -> Any:
    """A cell of an XLS export as the server wrote it: XlsxWriter turns a text answer beginning
    with ``=`` (or ``{=``) into a formula, whose text (not its cached value, 0) is the answer;
    strings come with Excel's ``_xHHHH_`` escapes decoded, as for a returned workbook."""
    if cell is None:
        return None
    if cell.formula is not None:
        return "{=" + cell.formula + "}" if cell.array else "=" + cell.formula
    return cell.value


def _xlsx_table(data: bytes) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the numbered rows of an XLS export's first sheet (Kobo: the main sheet;
    repeat groups follow). openpyxl is not used here: it strips ``_x005F_`` from shared strings,
    so a typed "_x000D_" and a carriage return would read alike."""
    book = XlsxReader(data)
    try:
        if not book.sheetnames:
            return [], []
        table = dict(book.rows(book.sheetnames[0], range(1, MAX_COLUMNS + 1)))
    finally:
        book.close()
    width = max((max(cells) for cells in table.values()), default=0)
    first = table.pop(1, {})
    header = [raw_text(_xls_value(first.get(c))) for c in range(1, width + 1)]
    rows = [(n, [_xls_value(cells.get(c)) for c in range(1, width + 1)]) for n, cells in sorted(table.items())]
    return header, rows


def load_export(path: Path, max_size: int = MAX_SIZE, max_unpacked: int = MAX_UNPACKED) -> Export | Finding:
    """The rows of a CSV, .zip or .xlsx export, or the finding that says why it cannot be read."""
    name = path.name
    try:  # regular files only, never more than max_size bytes read (as for workbooks)
        data = read_bounded(path, max_size)
    except Refused as exc:
        return exc.finding
    digest = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    member = ""
    if suffix == ".zip":
        inside = _zip(name, data, max_unpacked)
        if isinstance(inside, Finding):
            return inside
        member, data = inside
        suffix = ".csv"
    if suffix == ".csv":
        table = _csv(name, data)
        if isinstance(table, Finding):
            return table
        header, rows = table
    else:
        refused = check_file(name, data, max_unpacked)
        if refused is not None:
            return refused
        try:  # the project's own reader: strings decoded as Excel shows them, formulas as written
            header, rows = _xlsx_table(data)
        except Damaged as exc:
            return finding("export-unreadable", file=name, detail=[phrase("excel_cannot_read_it", error=str(exc))])
    header = [h.strip() for h in header]
    return Export(path, header, rows, digest, member)


def value_at(row: list[Any], index: int | None) -> Any:
    """A cell's value, None when blank. ``n/a`` and any other non-blank text are answers."""
    if index is None or index >= len(row):
        return None
    value = row[index]
    return None if isinstance(value, str) and value.strip() == "" else value
