"""Reading KoboToolbox and ODK Central exports: every submission becomes a :class:`ReadReturn`.

The web channel must not be a second set of rules: a submission is checked against the same
resolved :class:`~consult.definitions.questionnaire.Form`, by the same pure parsers
(:mod:`consult.intake.values`), and reported with the same finding codes as a workbook, located
by export row and column header instead of sheet and cell.

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

A header is matched to a field by its name, or by the field's own group path joined by *any*
separator (found from the form's group and question names, not from a list); a header that
matches nothing refuses the file, naming it, so that a misread export never stores empty
returns.

Identity: a submission's root id (Kobo ``meta/rootUuid`` or ``_uuid``; Central ``KEY``, which
stays the first instance id across edits) names the stored return (``kobo:<id>``,
``odk:<id>``), and its content is hashed into ``sha256``, so re-ingesting the same export, or
another export of the same submissions, is a no-op. Which version of one submission is newer is
decided by the content (Central ``Edits`` and ``ReviewState``, Kobo ``_submission_time`` and an
``_uuid`` other than the root), never by a file name or ingest order.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import stat
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from consult.definitions import Definition, form_for
from consult.definitions.qtypes import CHOICES, SLOTS
from consult.definitions.questionnaire import Form, Item, canonical_json
from consult.errors import ConsultError, Finding, finding
from consult.forms.layout import META_SHEET
from consult.forms.xlsform import (
    COUNTRY_FIELD,
    INSTITUTION_FIELD,
    ROUND_FIELD,
    VERSION_FIELD,
    build_xlsform,
    field_name,
    form_version,
    rank_field,
)
from consult.intake.reader import Answer, ReadReturn, flag_future_date
from consult.intake.safety import MAX_SIZE, MAX_UNPACKED, Refused, check_file, read_bounded
from consult.intake.values import Invalid, describe, parse_answer, parse_flag, raw_text
from consult.intake.xlsx import Cell as XlsxCell
from consult.intake.xlsx import Damaged, XlsxReader
from consult.types import CHANNELS, Channel

MAX_COLUMNS = 16_384  # Excel's last column, XFD

KOBO_COPY = (
    "_id",
    "_uuid",
    "meta/rootUuid",
    "rootUuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
    "_parent_index",
    "_parent_table_name",
)
ODK_META = (
    "SubmissionDate",
    "meta-instanceID",
    "instanceID",
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
)
METADATA = {*KOBO_COPY, *ODK_META, "meta/instanceID", "meta-rootUuid", "meta/deprecatedID", "meta-deprecatedID"}
KOBO_COLUMNS = {"_uuid", "_submission_time", "_id", "_index", "_validation_status", "__version__"}
ODK_COLUMNS = {"SubmissionDate", "KEY", "ReviewState", "FormVersion", "Edits"}
# the id a submission was first submitted with: stable across edits (the first one present)
ROOT_COLUMNS = {"kobo": ("meta/rootUuid", "rootUuid", "_uuid"), "odk": ("KEY", "meta-instanceID", "instanceID")}
TIME_COLUMNS = ("_submission_time", "SubmissionDate")
# reviewers' decisions: Kobo _validation_status (uid with XML values, label otherwise), Central ReviewState
REJECTED = {"not_approved", "rejected"}
DOUBTED = {"on_hold", "hasissues", "has_issues"}
NOT_DECRYPTED = {"not decrypted", "missing encrypted form data"}
# characters no answer can hold (tab, newline and carriage return are text): NUL and the other C0 controls
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe]")
NUL_MARK = "\ufffe"  # Python 3.10's csv refuses NUL: it is read as this noncharacter, then flagged
CSV_FIELD_LIMIT = csv.field_size_limit()


def channel_of(file_name: str) -> Channel:
    """The channel a return came by, from its stored name: ``kobo``, ``odk`` or ``excel`` (a
    workbook). The store keeps it as a column (filled by this rule for returns stored before)."""
    prefix = file_name.split(":", 1)[0] if ":" in file_name else ""
    return next((c for c in CHANNELS if c == prefix), "excel")


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
        names = set(self.header)
        if names & KOBO_COLUMNS:
            return "kobo"
        if names & ODK_COLUMNS:
            return "odk"
        return None


def _column(index: int) -> str:
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
        return finding("export-unreadable", file=name, detail="it is not UTF-8 text")
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
        return finding("export-unreadable", file=name, detail=f"line {reader.line_num}: {exc}")
    if not records:
        return finding("export-unreadable", file=name, detail="the file is empty")
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
                    detail=f"{main[0].filename} unpacks to more than {max_unpacked:,} bytes",
                )
            return main[0].filename, zf.read(main[0])
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        return finding("export-unreadable", file=name, detail=f"not a readable .zip: {exc}")


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
            return finding("export-unreadable", file=name, detail=f"Excel cannot read it: {exc}")
    header = [h.strip() for h in header]
    return Export(path, header, rows, digest, member)


def _is_metadata(head: str) -> bool:
    """A column the server adds, not a question: the copy fields and Central's columns, any
    ``_``-prefixed one (kpi and KoboCAT add more over time: ``_attachments``...), and the
    form's ``meta`` group (``meta-instanceID``, ``meta-instanceName``, ``meta/rootUuid``)."""
    if head in METADATA or head.startswith("_") or head in ("instanceName", "deprecatedID"):
        return True
    return bool(re.match(r"^(meta|formhub)[^A-Za-z0-9_]", head))


def _separator(head: str, name: str, path: list[str]) -> str | None:
    """The separator that joins ``path`` and ``name`` into ``head``, whatever the user typed
    (``/``, ``-``, ``__``, `` > ``...), or None when ``head`` is not that field's header."""
    if not path or not head.endswith(name) or not head.startswith(path[0]):
        return None
    rest = head[len(path[0]) : len(head) - len(name)]  # sep + path[1] + sep + ... + sep
    inner = sum(len(p) for p in path[1:])
    width, odd = divmod(len(rest) - inner, len(path))
    if width <= 0 or odd:
        return None
    sep = rest[:width]
    return sep if rest == "".join(sep + p for p in path[1:]) + sep else None


class _Columns:
    """Which header is which field: its name, or its group path joined by the export's one
    group separator (the one most headers agree on: a user may type any); a select_multiple's
    0/1 columns are its header, a separator and a choice code."""

    def __init__(self, header: list[str], paths: dict[str, list[str]], codes: dict[str, set[str]]):
        self.header = header
        self.by_name: dict[str, int] = {}
        self.details: dict[str, dict[str, int]] = {}
        self.unmatched: list[str] = []
        grouped = {name: path for name, path in paths.items() if path}
        found: Counter[str] = Counter()
        candidates: dict[int, dict[str, str]] = {}  # header index -> separator -> field
        for index, head in enumerate(header):
            if not head or head in paths or _is_metadata(head):
                continue
            seps: dict[str, str] = {}
            for name, path in grouped.items():
                sep = _separator(head, name, path)
                if sep is not None:
                    seps.setdefault(sep, name)
            candidates[index] = seps
            found.update(list(seps))
        self.separator = found.most_common(1)[0][0] if found else None
        later: list[tuple[int, str]] = []
        heads: dict[str, str] = {}  # a field's header -> its name (to find its 0/1 columns)
        for index, head in enumerate(header):
            if not head or (head not in paths and _is_metadata(head)):
                continue
            matched = head if head in paths else candidates.get(index, {}).get(self.separator or "")
            if matched is None:
                later.append((index, head))
                continue
            self.by_name.setdefault(matched, index)
            heads[head] = matched
        for name in codes:  # a select_multiple exported as 0/1 columns only has no header of its own
            heads.setdefault(name, name)
            if self.separator and paths.get(name):
                heads.setdefault(self.separator.join([*paths[name], name]), name)
        for index, head in later:
            if not self.detail(index, head, heads, codes):
                self.unmatched.append(head)

    def detail(self, index: int, head: str, heads: dict[str, str], codes: dict[str, set[str]]) -> bool:
        """A 0/1 column ``<field header><sep><code>`` (Kobo: the group separator, ``/`` when none
        is set; Central's split select multiples: ``/``)."""
        for field_head, name in heads.items():
            if name not in codes or not head.startswith(field_head):
                continue
            rest = head[len(field_head) :]
            for code in codes[name]:
                sep = rest[: len(rest) - len(code)]
                if rest.endswith(code) and sep and len(sep) <= 8 and not any(ch.isalnum() for ch in sep):
                    self.details.setdefault(name, {}).setdefault(code, index)
                    return True
        return False

    def find(self, *candidates: str) -> int | None:
        for c in candidates:
            if c in self.by_name:
                return self.by_name[c]
            if c in self.header:
                return self.header.index(c)
        return None


def _cell(row: list[Any], index: int | None) -> Any:
    """A cell's value, None when blank. ``n/a`` and any other non-blank text are answers."""
    if index is None or index >= len(row):
        return None
    value = row[index]
    return None if isinstance(value, str) and value.strip() == "" else value


def _moment(value: Any) -> dt.datetime | None:
    """A server timestamp: Kobo ``2026-05-04T09:12:45`` (UTC), Central ``2026-05-04T09:12:45.123Z``
    (Python 3.10's fromisoformat does not take the ``Z``), or a spreadsheet date-time."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        stamp = raw_text(value).strip()
        if stamp.endswith(("Z", "z")):
            stamp = stamp[:-1] + "+00:00"
        match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", stamp)
        if match and match.group(2):  # 3.10 takes 3 or 6 fraction digits only
            stamp = match.group(1) + (match.group(2) + "000000")[:7] + match.group(3)
        try:
            moment = dt.datetime.fromisoformat(stamp)
        except ValueError:
            return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _timestamp(value: Any) -> str:
    """A submission time as UTC ISO text ('' when absent), for ordering and for the store."""
    moment = _moment(value)
    return moment.isoformat() if moment is not None else raw_text(value).strip()


def _saved(stamp: str, rank: int) -> str | None:
    """The stored saved time: the submission time, with the version rank of an edit as
    microseconds, so that of two versions with one submission time (Central keeps
    ``SubmissionDate`` on edit) the edited one is the newer, in any ingest order."""
    try:
        moment = dt.datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.replace(microsecond=min(rank, 999_999), tzinfo=dt.timezone.utc).isoformat()


def _instance(value: Any) -> str:
    return raw_text(value).strip().removeprefix("uuid:")


def _review(value: Any) -> str:
    """A reviewer's decision as one word: Kobo ``validation_status_not_approved`` or "Not
    approved" and Central ``rejected`` / ``hasIssues`` become ``not_approved`` / ``hasissues``."""
    word = raw_text(value).strip().lower().removeprefix("validation_status_")
    return re.sub(r"\s+", "_", word)


def _review_shown(value: Any) -> str:
    """A reviewer's decision as the server's page shows it: Kobo's uid ``validation_status_on_hold``
    (an export with XML values) as "On hold"; labels and Central's states as they are."""
    found = raw_text(value).strip()
    if found.startswith("validation_status_"):
        return found.removeprefix("validation_status_").replace("_", " ").capitalize()
    return found


@dataclass
class _Shape:
    """What one definition's forms hold, for matching headers: every field with its group
    path, the choice codes of every select_multiple, and every label (to tell a labels export)."""

    paths: dict[str, list[str]]
    codes: dict[str, set[str]]
    labels: set[str]


def _shape(definition: Definition) -> _Shape:
    fw = definition.framework
    paths: dict[str, list[str]] = {VERSION_FIELD: [], COUNTRY_FIELD: [], ROUND_FIELD: [], INSTITUTION_FIELD: []}
    codes: dict[str, set[str]] = {}
    labels: set[str] = set()
    for lang in definition.languages:
        labels.add(definition.msg("cover_institution", lang))
    for country in fw.countries:
        for inst in fw.institutions:
            form = form_for(definition, country.code, inst.id)
            for sec in form.sections:
                group = [field_name(sec.id)]
                labels.update(v for v in sec.title.values() if len(v) >= 4)
                for item in sec.items:
                    labels.update(v for v in item.label.values() if len(v) >= 4)
                    if item.qtype.layout == SLOTS:  # one field per slot, in a group of its own
                        for k in range(1, item.size + 1):
                            paths.setdefault(rank_field(item.id, k), [*group, field_name(item.id)])
                    else:
                        paths.setdefault(field_name(item.id), group)
                    if item.qtype.layout == CHOICES:  # one field, exported as one 0/1 column per choice too
                        codes.setdefault(field_name(item.id), set()).update(c.code for c in item.choices)
    labels.discard("")
    return _Shape(paths, codes, labels)


_SHAPES: dict[str, _Shape] = {}


def _merged(definitions: list[Definition]) -> _Shape:
    """The fields of every known questionnaire: an export may hold submissions of several."""
    merged = _Shape({}, {}, set())
    for definition in definitions:
        shape = shape_of(definition)
        for name, path in shape.paths.items():
            merged.paths.setdefault(name, path)
        for name, codes in shape.codes.items():
            merged.codes.setdefault(name, set()).update(codes)
        merged.labels |= shape.labels
    return merged


def shape_of(definition: Definition) -> _Shape:
    if definition.hash not in _SHAPES:
        _SHAPES[definition.hash] = _shape(definition)
    return _SHAPES[definition.hash]


class _Reader:
    """Reads the rows of one export against the workspace's definitions."""

    def __init__(
        self,
        export: Export,
        definition: Definition,
        known: dict[str, Definition],
        round_id: str | None,
        invited: dict[str, list[str]] | None,
        include_rejected: bool = False,
    ):
        self.export = export
        self.definition = definition
        self.known = known
        self.round_id = round_id
        self.invited = invited
        self.include_rejected = include_rejected
        self.version = form_version(definition)
        self.shape = _merged([definition, *(d for d in known.values() if d.hash != definition.hash)])
        self.versions: dict[tuple[str, str], str] = {}
        self.columns = _Columns(export.header, self.shape.paths, self.shape.codes)

    def refuse(self, code: str, **params: Any) -> list[ReadReturn]:
        """The whole file refused: one result, never stored (nothing in it can be trusted)."""
        rr = ReadReturn(path=self.export.path, sha256=self.export.sha256)
        rr.errors.append(finding(code, file=self.export.path.name, **params))
        rr.meta["refused"] = "file"
        return [rr]

    def read(self) -> list[ReadReturn]:
        col = self.columns
        unmatched = col.unmatched
        if col.find(VERSION_FIELD) is None:  # a calculate keeps its name in a labels export too
            return self.refuse("export-not-consult", field=VERSION_FIELD)
        labelled = [h for h in unmatched if any(label in h for label in self.shape.labels)]
        if labelled or (col.find(INSTITUTION_FIELD) is None and unmatched):
            return self.refuse("export-labels", found=", ".join(f"'{h}'" for h in (labelled or unmatched)[:3]))
        seen: dict[str, list[int]] = {}
        for index, head in enumerate(self.export.header):
            if head:
                seen.setdefault(head, []).append(index)
        for head, indexes in seen.items():
            if len(indexes) > 1:  # never first-wins: which of the two is the answer?
                columns = ", ".join(_column(i) for i in indexes)
                return self.refuse("export-duplicate-column", header=head, count=len(indexes), columns=columns)
        channel = self.export.channel
        if channel is None:
            return self.refuse(
                "export-unreadable",
                detail="neither a KoboToolbox export (no _uuid column) nor an ODK Central one (no KEY column)",
            )
        if unmatched:
            shown = ", ".join(f"'{h}'" for h in unmatched[:6]) + (
                f" and {len(unmatched) - 6} more" if len(unmatched) > 6 else ""
            )
            return self.refuse("export-unmatched", count=len(unmatched), headers=shown)
        out = []
        for number, row in self.export.rows:
            if all(raw_text(v).strip() == "" for v in row):
                continue
            out.append(self.submission(channel, number, row))
        return out

    def submission(self, channel: Channel, number: int, row: list[Any]) -> ReadReturn:
        name = self.export.path.name
        col = self.columns
        head = self.export.header
        root = next(
            (_instance(row[i]) for c in ROOT_COLUMNS[channel] if (i := col.find(c)) is not None and _cell(row, i)), ""
        )
        when = _timestamp(next((row[i] for c in TIME_COLUMNS if (i := col.find(c)) is not None and _cell(row, i)), ""))
        review = _review(_cell(row, col.find("_validation_status" if channel == "kobo" else "ReviewState")))
        if channel == "odk":  # Central: the number of edits; an edit not yet counted says "edited"
            edits = raw_text(_cell(row, col.find("Edits"))).strip()
            rank = 2 * (int(edits) if edits.isdigit() else 0) + (1 if review == "edited" else 0)
        else:  # Kobo: an edit gets a new _uuid, its root stays in meta/rootUuid
            uuid = _instance(_cell(row, col.find("_uuid")))
            rank = 1 if uuid and root and uuid != root else 0
        label = f"{channel}:{root}" if root else f"{name} row {number}"
        rr = ReadReturn(path=self.export.path.parent / label)
        source = f"{name} row {number}" + (f" ({self.export.member})" if self.export.member else "")
        rr.meta = {"channel": channel, "instance_id": root, "generated_at": when, "source": source, "rank": str(rank)}
        rr.saved_at = _saved(when, rank)  # a submission's "saved time", which decides between equal completion dates
        at = {"file": name, "row": number}
        status = raw_text(_cell(row, col.find("Status"))).strip() if channel == "odk" else ""
        if status.lower() in NOT_DECRYPTED:  # nothing but metadata in the row: one clear cause, not three wrong ones
            rr.errors.append(finding("not-decrypted", **at, cell="Status", found=status))
            rr.meta["refused"] = "row"
            rr.sha256 = _digest(channel, root or source, {}, {}, rr.errors)
            return rr
        if not root:
            rr.errors.append(finding("no-instance-id", **at, columns=", ".join(ROOT_COLUMNS[channel])))
        version_col = col.find(VERSION_FIELD)
        version = raw_text(_cell(row, version_col)).strip()
        country = raw_text(_cell(row, col.find(COUNTRY_FIELD))).strip()
        institution = raw_text(_cell(row, col.find(INSTITUTION_FIELD))).strip()
        round_found = raw_text(_cell(row, col.find(ROUND_FIELD))).strip()
        rr.meta.update(country=country, institution=institution, round=round_found, form_version=version)
        definition = self.definition_of(version)
        if definition is None:
            older = any(h.startswith(version.split("-")[0]) for h in self.known if version)
            rr.errors.append(
                finding(
                    "wrong-form-version",
                    **at,
                    cell=head[version_col] if version_col is not None else None,
                    found=version or "(blank)",
                    expected=self.version,
                    detail=" (an older questionnaire that this workspace does not know)" if older else "",
                )
            )
            definition = self.definition
        elif self.round_id is not None and round_found != self.round_id:
            rr.errors.append(finding("wrong-round", **at, found=round_found, expected=self.round_id))
        fw = definition.framework
        if country not in fw.country_by_code:
            rr.errors.append(finding("unknown-country", **at, found=country or "(blank)"))
        invited = (self.invited or {}).get(country) or [i.id for i in fw.institutions]
        if institution not in fw.institution_by_id:
            inst_col = col.find(INSTITUTION_FIELD)
            rr.errors.append(
                finding(
                    "unknown-institution",
                    **at,
                    cell=head[inst_col] if inst_col is not None else None,
                    found=institution or "(blank)",
                    known=", ".join(invited),
                )
            )
        if self.invited is not None and country in fw.country_by_code and country not in self.invited:
            rr.errors.append(  # a country outside the round: refused, as a workbook for it is
                finding(
                    "outside-round",
                    **at,
                    country=country,
                    round=self.round_id or "",
                    countries=", ".join(self.invited) or "none",
                )
            )
        if rr.errors:
            rr.sha256 = _digest(channel, root or source, {}, {}, rr.errors)
            return rr
        if self.invited is not None and institution not in self.invited.get(country, []):
            rr.warnings.append(
                finding("uninvited", file=name, severity="warning", country=country, institution=institution)
            )
        current = self.deployed(definition, country)
        if version != current:  # an earlier deployment of this questionnaire (another invited list, labels)
            rr.warnings.append(
                finding("form-version-earlier", **at, severity="warning", found=version, current=current)
            )
        server = "KoboToolbox" if channel == "kobo" else "ODK Central"
        review_col = "_validation_status" if channel == "kobo" else "ReviewState"
        if review in REJECTED:
            shown = _review_shown(_cell(row, col.find(review_col)))
            if self.include_rejected:
                rr.warnings.append(
                    finding("review-included", **at, cell=review_col, severity="warning", server=server, found=shown)
                )
            else:
                rr.errors.append(finding("review-rejected", **at, cell=review_col, server=server, found=shown))
        elif review in DOUBTED:
            shown = _review_shown(_cell(row, col.find(review_col)))
            rr.warnings.append(
                finding("review-doubt", **at, cell=review_col, severity="warning", server=server, found=shown)
            )
        rr.definition = definition
        rr.meta.update(
            questionnaire_id=definition.questionnaire.id,
            questionnaire_version=definition.questionnaire.version,
            definition_hash=definition.hash,
        )
        form = form_for(definition, country, institution)
        self.answers(rr, form, number, row, definition)
        flag_future_date(rr, file=name, row=number)
        personal = dict(rr.personal)
        answers = {k: a.value for k, a in rr.answers.items()}
        rr.sha256 = _digest(channel, root, answers, personal, rr.errors + rr.missing)
        rr.size = sum(len(raw_text(v)) for v in row)
        return rr

    def deployed(self, definition: Definition, country: str) -> str:
        """The version of the country's form as ``consult xlsform`` writes it now."""
        key = (definition.hash, country)
        if key not in self.versions:
            institutions = (self.invited or {}).get(country) or [i.id for i in definition.framework.institutions]
            try:
                self.versions[key] = build_xlsform(definition, country, institutions, self.round_id or "").version
            except ConsultError:
                self.versions[key] = ""
        return self.versions[key]

    def definition_of(self, version: str) -> Definition | None:
        """The definition a submission's form version belongs to: ``<definition hash prefix>``
        (forms of consult 0.2) or ``<prefix>-<form content hash>`` (every deployment of the
        same questionnaire, whatever its invited list: all read against that questionnaire)."""
        prefix = version.split("-", 1)[0]
        if not prefix:
            return None
        if prefix == self.version:
            return self.definition
        return next((d for h, d in self.known.items() if h.startswith(prefix) and len(prefix) >= 12), None)

    def answers(self, rr: ReadReturn, form: Form, number: int, row: list[Any], definition: Definition) -> None:
        name = self.export.path.name
        langs = definition.languages
        head = self.export.header
        values: dict[str, Any] = {}
        invalid: set[str] = set()
        located: dict[str, str] = {}

        def report(index: int, item: Item, value: Any, exc: Invalid) -> None:
            invalid.add(item.id)
            rr.errors.append(
                finding(
                    "invalid-value",
                    file=name,
                    row=number,
                    cell=head[index],
                    question=item.id,
                    found=describe(value),
                    expected=exc.expected,
                    fix=exc.fix,
                )
            )

        def cell(index: int | None, item: Item) -> Any:
            value = _cell(row, index)
            if isinstance(value, str) and index is not None and CONTROL.search(value):
                char = CONTROL.search(value)
                code = "NUL" if char is None or char.group() in ("\x00", NUL_MARK) else f"U+{ord(char.group()):04X}"
                rr.errors.append(
                    finding("export-control", file=name, row=number, cell=head[index], question=item.id, found=code)
                )
                invalid.add(item.id)
                return None
            return value

        for item in form.items:
            layout = item.qtype.layout
            if layout == SLOTS:
                indexes = [self.columns.find(rank_field(item.id, k)) for k in range(1, item.size + 1)]
            else:
                indexes = [self.columns.find(field_name(item.id))]
            present = [i for i in indexes if i is not None]
            details = self.columns.details.get(field_name(item.id), {}) if layout == CHOICES else {}
            if not present and not details:
                rr.warnings.append(finding("column-deleted", file=name, question=item.id, severity="warning"))
                continue
            located[item.id] = head[present[0]] if present else head[min(details.values())]
            value: Any = None
            raws: list[str] = []
            if layout == SLOTS:
                value, raws = self.rank(item, langs, cell, indexes, report)
            elif layout == CHOICES:
                value, raws = self.multiple(item, langs, cell, present[0] if present else None, details, report)
            else:
                index = present[0]
                got = cell(index, item)
                if got is None:
                    continue
                raws.append(raw_text(got))
                try:
                    value = parse_answer(got, item, langs)
                except Invalid as exc:
                    report(index, item, got, exc)
                    continue
            if item.id in invalid or value is None or value == "":
                continue
            values[item.id] = value
            if item.personal:
                rr.personal[item.id] = value
            else:
                rr.answers[item.id] = Answer(item, value, "; ".join(raws), f"row {number}", located[item.id])
        rr.missing += self.missing_answers(form, number, values, invalid, located)

    def missing_answers(
        self, form: Form, number: int, values: dict[str, Any], invalid: set[str], located: dict[str, str]
    ) -> list[Finding]:
        """The required answers a submission lacks (an invalid one is reported as invalid, not also
        as missing; a conditional one only where its condition holds)."""
        name = self.export.path.name
        out: list[Finding] = []
        for item in form.items:
            if not item.required or item.id in values or item.id in invalid:
                continue
            if item.when and item.when.question and not item.when.holds(values.get(item.when.question)):
                continue
            out.append(
                finding(
                    "missing-answer",
                    file=name,
                    row=number,
                    cell=located.get(item.id),
                    question=item.id,
                    severity="missing",
                )
            )
        return out

    def rank(
        self, item: Item, langs: list[str], cell: Any, indexes: list[int | None], report: Any
    ) -> tuple[list[str | None] | None, list[str]]:
        """A rank question from its one column per slot: the slot used is kept, as in the workbook."""
        head = self.export.header
        raws: list[str] = []
        chosen: dict[str, int] = {}
        slots: list[str | None] = []
        for slot, index in enumerate(indexes):
            if index is None:
                continue
            got = cell(index, item)
            if got is None:
                continue
            try:
                code = parse_answer(got, item, langs)
            except Invalid as exc:
                report(index, item, got, exc)
                continue
            if code in chosen:
                twice = Invalid(
                    f"a component not already chosen (it is also in {head[chosen[code]]})",
                    "choose each component at most once",
                )
                report(index, item, got, twice)
                continue
            chosen[code] = index
            slots += [None] * (slot - len(slots)) + [code]  # the slot used, as in the workbook
            raws.append(raw_text(got))
        return (slots or None), raws

    def multiple(
        self, item: Item, langs: list[str], cell: Any, index: int | None, details: dict[str, int], report: Any
    ) -> tuple[list[str] | None, list[str]]:
        """A select_multiple from its space-separated column, else from its 0/1 choice columns."""
        chosen: list[str] = []
        raws: list[str] = []
        if index is not None:
            got = cell(index, item)
            tokens = raw_text(got).split() if got is not None else []
            pairs = [(index, token) for token in tokens]
        else:
            pairs = []
            for code, i in details.items():  # a 0/1 column: the one parser's rule for a choice's own cell
                flag = cell(i, item)
                try:
                    if parse_flag(flag):
                        pairs.append((i, code))
                except Invalid as exc:
                    report(i, item, flag, exc)
        for i, token in pairs:
            try:
                code = parse_answer(token, item, langs)
            except Invalid as exc:
                report(i, item, token, exc)
                continue
            if code not in chosen:
                chosen.append(code)
                raws.append(token)
        order = [c.code for c in item.choices]
        chosen.sort(key=order.index)
        return (chosen or None), raws


def _digest(
    channel: Channel, instance: str, answers: dict[str, Any], personal: dict[str, Any], problems: list[Finding]
) -> str:
    """The identity of a submission's content: the same submission exported twice (as CSV and
    as XLS, with other group options, in another row) hashes the same."""
    blob = canonical_json(
        {
            "channel": channel,
            "instance": instance,
            "answers": answers,
            "personal": personal,
            "problems": [[f.code, f.question, f.params] for f in problems],
        }
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def read_exports(
    paths: Iterable[Path],
    definition: Definition,
    known: dict[str, Definition],
    round_id: str | None,
    invited: dict[str, list[str]] | None = None,
    max_size: int = MAX_SIZE,
    include_rejected: bool = False,
) -> Iterator[ReadReturn]:
    """Every submission of every export, oldest first (by submission time, then by version of
    the same submission), so that a later submission of the same institution supersedes an
    earlier one whatever file or row it is in, and in whatever order the files are named."""
    found: list[ReadReturn] = []
    for path in paths:
        loaded = load_export(path, max_size=max_size)
        if isinstance(loaded, Finding):
            rr = ReadReturn(path=path)
            rr.errors.append(loaded)
            rr.meta["refused"] = "file"
            found.append(rr)
            continue
        found += _Reader(loaded, definition, known, round_id, invited, include_rejected).read()
    found.sort(
        key=lambda rr: (
            rr.meta.get("generated_at") or "",
            int(rr.meta.get("rank") or 0),
            rr.meta.get("instance_id") or "",
            rr.sha256,  # last: the same store whatever the order of files and rows
        )
    )
    yield from found
