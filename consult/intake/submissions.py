"""Reading KoboToolbox and ODK Central exports: every submission becomes a :class:`ReadReturn`.

The web channel must not be a second set of rules: a submission is checked against the same
resolved :class:`~consult.definitions.questionnaire.Form`, by the same pure parsers
(:mod:`consult.intake.values`), and reported with the same finding codes as a workbook, located
by export row and column header instead of sheet and cell.

What the exports look like (from the servers' documentation and their own tests):

* KoboToolbox CSV (``;``-separated by default) or XLS (an .xlsx): form fields in form order,
  headed by their group path (``TOC/TOC_priority``; the separator and the group prefix are
  export options), a select_multiple as one space-separated column and, by default, one 0/1
  column per choice (``TOC/TOC_assistance/capacity``); then ``_id``, ``_uuid``,
  ``_submission_time``, ``_validation_status``, ``_notes``, ``_status``, ``_submitted_by``,
  ``__version__``, ``_tags``, ``_index``.
* ODK Central CSV: ``SubmissionDate``, the fields with ``-`` between groups
  (``TOC-TOC_priority``, or bare names with "remove group names"), ``meta-instanceID``, then
  ``KEY``, ``SubmitterID``, ``SubmitterName``, ``AttachmentsPresent``, ``AttachmentsExpected``,
  ``Status``, ``ReviewState``, ``DeviceID``, ``Edits``, ``FormVersion``.

A column is matched by its last path segment(s) against the field names of
:mod:`consult.forms.xlsform`, so every separator and group option reads the same. Exports
must have XML values as headers (a label header cannot be matched safely).

Identity: a submission's instance id (``KEY`` / ``meta/rootUuid`` / ``_uuid`` /
``meta/instanceID``) plus what it answers is hashed into ``sha256``, so re-ingesting the same
export, or another export of the same submissions, is a no-op, while an edited submission
is a new return that supersedes the old. The stored ``file_name`` is ``kobo:<id>`` or
``odk:<id>``: that is how ``consult returns`` and the synthesis annex tell the channel
(:func:`channel_of`) without a schema change.
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from consult.definitions import Definition, form_for
from consult.definitions.questionnaire import Form, Item, canonical_json
from consult.errors import Finding, finding
from consult.forms.layout import META_SHEET
from consult.forms.xlsform import (
    COUNTRY_FIELD,
    INSTITUTION_FIELD,
    ROUND_FIELD,
    VERSION_FIELD,
    field_name,
    form_version,
    rank_field,
)
from consult.intake.reader import Answer, ReadReturn, flag_future_date
from consult.intake.safety import MAX_SIZE, MAX_UNPACKED, Refused, check_file, read_bounded
from consult.intake.values import Invalid, decode_escapes, describe, parse_answer, parse_flag, raw_text

CHANNELS = ("excel", "kobo", "odk")
SEPARATORS = "/-.:"
# the first present names the submission: the id it was first submitted with, stable across edits
INSTANCE_COLUMNS = (
    "KEY",
    "meta/rootUuid",
    "meta-rootUuid",
    "_uuid",
    "meta/instanceID",
    "meta-instanceID",
    "instanceID",
)
TIME_COLUMNS = ("_submission_time", "SubmissionDate")
KOBO_COLUMNS = {"_uuid", "_submission_time", "_id", "_index", "_validation_status"}
ODK_COLUMNS = {"SubmissionDate", "KEY", "ReviewState", "FormVersion"}


def channel_of(file_name: str) -> str:
    """The channel a stored return came by: ``kobo``, ``odk`` or ``excel`` (a workbook)."""
    prefix = file_name.split(":", 1)[0]
    return prefix if ":" in file_name and prefix in CHANNELS else "excel"


def is_export(path: Path) -> bool:
    """Whether ``path`` is a KoboToolbox/ODK export rather than a returned workbook: every CSV,
    and an .xlsx without our metadata sheet whose strings name the hidden version field. Only
    the zip directory and the workbook's string parts are looked at, never a whole sheet."""
    try:  # a pipe or device is never opened here (it could block forever): the reader refuses it
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
    except OSError:
        return False
    suffix = path.suffix.lower()
    if suffix == ".csv":
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

    @property
    def channel(self) -> str | None:
        names = set(self.header)
        if names & KOBO_COLUMNS:
            return "kobo"
        if names & ODK_COLUMNS:
            return "odk"
        return None


def load_export(path: Path, max_size: int = MAX_SIZE, max_unpacked: int = MAX_UNPACKED) -> Export | Finding:
    """The rows of a CSV or .xlsx export, or the finding that says why it cannot be read."""
    name = path.name
    try:  # regular files only, never more than max_size bytes read (as for workbooks)
        data = read_bounded(path, max_size)
    except Refused as exc:
        return exc.finding
    if path.suffix.lower() == ".csv":
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return finding("export-unreadable", file=name, detail="it is not UTF-8 text")
        first = content.split("\n", 1)[0]
        delimiter = max(",;\t", key=first.count)  # KoboToolbox defaults to ';', ODK Central writes ','
        records = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
        if not records:
            return finding("export-unreadable", file=name, detail="the file is empty")
        rows = [(n, r) for n, r in enumerate(records[1:], start=2)]
        return Export(path, [h.strip() for h in records[0]], rows, hashlib.sha256(data).hexdigest())
    refused = check_file(name, data, max_unpacked)
    if refused is not None:
        return refused
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged files; all mean "unreadable"
        return finding("export-unreadable", file=name, detail=f"Excel cannot read it: {exc}")
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)  # Kobo: the main sheet; repeats follow
        header = [raw_text(h).strip() for h in next(rows, ())]
        body = [(n, [decode_escapes(v) if isinstance(v, str) else v for v in r]) for n, r in enumerate(rows, start=2)]
        return Export(path, header, body, hashlib.sha256(data).hexdigest())
    finally:
        wb.close()


class _Columns:
    """Which header is which field: the longest trailing path that is a field name; a
    ``<select_multiple>/<code>`` trailing path is a choice's 0/1 column."""

    def __init__(self, header: list[str], names: set[str], multiples: set[str]):
        self.by_name: dict[str, int] = {}
        self.details: dict[str, dict[str, int]] = {}
        for index, head in enumerate(header):
            tails = [head] + [head[i + 1 :] for i, ch in enumerate(head) if ch in SEPARATORS]
            for tail in tails:
                if tail in names:
                    self.by_name.setdefault(tail, index)
                    break
                parts = re.split(f"[{re.escape(SEPARATORS)}]", tail, maxsplit=1)
                if len(parts) == 2 and parts[0] in multiples:
                    self.details.setdefault(parts[0], {}).setdefault(parts[1], index)
                    break
        self.header = header

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


def _timestamp(value: Any) -> str:
    """A submission time as UTC ISO text ('' when absent), for ordering and for the store."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(raw_text(value).strip())
        except ValueError:
            return raw_text(value).strip()
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def _utc(stamp: str) -> str | None:
    """A submission time from :func:`_timestamp` (UTC, without offset) as the store keeps saved times."""
    try:
        return dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.timezone.utc).isoformat() if stamp else None
    except ValueError:
        return None


def _instance(value: Any) -> str:
    return raw_text(value).strip().removeprefix("uuid:")


class _Reader:
    """Reads the rows of one export against the workspace's definition."""

    def __init__(
        self,
        export: Export,
        definition: Definition,
        known: dict[str, Definition],
        round_id: str | None,
        invited: dict[str, list[str]] | None,
    ):
        self.export = export
        self.definition = definition
        self.known = known
        self.round_id = round_id
        self.invited = invited
        self.version = form_version(definition)
        fw = definition.framework
        forms = [form_for(definition, c.code, inst.id) for c in fw.countries for inst in fw.institutions]
        items = [i for form in forms for i in form.items]
        names: set[str] = {VERSION_FIELD, COUNTRY_FIELD, ROUND_FIELD, INSTITUTION_FIELD}
        multiples: set[str] = set()
        for item in items:
            if item.type == "rank":
                names |= {rank_field(item.id, k) for k in range(1, item.size + 1)}
            else:
                names.add(field_name(item.id))
            if item.type == "multiple":
                multiples.add(field_name(item.id))
        self.columns = _Columns(export.header, names, multiples)

    def read(self) -> list[ReadReturn]:
        name = self.export.path.name
        if self.columns.find(VERSION_FIELD) is None:
            rr = ReadReturn(path=self.export.path, sha256=self.export.sha256)
            rr.errors.append(finding("export-not-consult", file=name, field=VERSION_FIELD))
            return [rr]
        channel = self.export.channel
        if channel is None:
            rr = ReadReturn(path=self.export.path, sha256=self.export.sha256)
            rr.errors.append(
                finding(
                    "export-unreadable",
                    file=name,
                    detail="neither a KoboToolbox export (no _uuid column) nor an ODK Central one (no KEY column)",
                )
            )
            return [rr]
        out = []
        for number, row in self.export.rows:
            if all(raw_text(v).strip() == "" for v in row):
                continue
            out.append(self.submission(channel, number, row))
        return out

    def submission(self, channel: str, number: int, row: list[Any]) -> ReadReturn:
        name = self.export.path.name
        col = self.columns
        instance = next(
            (_instance(row[i]) for c in INSTANCE_COLUMNS if (i := col.find(c)) is not None and _cell(row, i)), ""
        )
        when = _timestamp(next((row[i] for c in TIME_COLUMNS if (i := col.find(c)) is not None and _cell(row, i)), ""))
        label = f"{channel}:{instance}" if instance else f"{name} row {number}"
        rr = ReadReturn(path=self.export.path.parent / label)
        rr.meta = {"channel": channel, "instance_id": instance, "generated_at": when, "source": f"{name} row {number}"}
        rr.saved_at = _utc(when)  # a submission's "saved time", which decides between equal completion dates
        at = {"file": name, "row": number}
        if not instance:
            rr.errors.append(finding("no-instance-id", **at, columns=", ".join(INSTANCE_COLUMNS[:4])))
        version_col = col.find(VERSION_FIELD)
        version = raw_text(_cell(row, version_col)).strip()
        country = raw_text(_cell(row, col.find(COUNTRY_FIELD))).strip()
        institution = raw_text(_cell(row, col.find(INSTITUTION_FIELD))).strip()
        round_found = raw_text(_cell(row, col.find(ROUND_FIELD))).strip()
        rr.meta.update(country=country, institution=institution, round=round_found)
        head = self.export.header
        if version != self.version:
            older = any(h.startswith(version) for h in self.known if version and h != self.definition.hash)
            rr.errors.append(
                finding(
                    "wrong-form-version",
                    **at,
                    cell=head[version_col] if version_col is not None else None,
                    found=version or "(blank)",
                    expected=self.version,
                    detail=" (an older version of this questionnaire)" if older else "",
                )
            )
        elif self.round_id is not None and round_found != self.round_id:
            rr.errors.append(finding("wrong-round", **at, found=round_found, expected=self.round_id))
        fw = self.definition.framework
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
            rr.sha256 = _digest(channel, instance or f"{name} row {number}", {}, {}, rr.errors)
            return rr
        if self.invited is not None and institution not in self.invited.get(country, []):
            rr.warnings.append(
                finding("uninvited", file=name, severity="warning", country=country, institution=institution)
            )
        rr.definition = self.definition
        rr.meta.update(
            questionnaire_id=self.definition.questionnaire.id,
            questionnaire_version=self.definition.questionnaire.version,
            definition_hash=self.definition.hash,
        )
        form = form_for(self.definition, country, institution)
        self.answers(rr, form, number, row)
        flag_future_date(rr, file=name, row=number)
        personal = {k: v for k, v in rr.personal.items()}
        answers = {k: a.value for k, a in rr.answers.items()}
        rr.sha256 = _digest(channel, instance, answers, personal, rr.errors + rr.missing)
        rr.size = sum(len(raw_text(v)) for v in row)
        return rr

    def answers(self, rr: ReadReturn, form: Form, number: int, row: list[Any]) -> None:
        name = self.export.path.name
        langs = self.definition.languages
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

        for item in form.items:
            if item.type == "rank":
                indexes = [self.columns.find(rank_field(item.id, k)) for k in range(1, item.size + 1)]
            else:
                indexes = [self.columns.find(field_name(item.id))]
            present = [i for i in indexes if i is not None]
            details = self.columns.details.get(field_name(item.id), {}) if item.type == "multiple" else {}
            if not present and not details:
                rr.warnings.append(finding("column-deleted", file=name, question=item.id, severity="warning"))
                continue
            located[item.id] = head[present[0]] if present else head[min(details.values())]
            value: Any = None
            raws: list[str] = []
            if item.type == "rank":
                chosen: dict[str, int] = {}
                slots: list[str | None] = []
                for slot, index in enumerate(indexes):
                    if index is None:
                        continue
                    cell = _cell(row, index)
                    if cell is None:
                        continue
                    try:
                        code = parse_answer(cell, item, langs)
                    except Invalid as exc:
                        report(index, item, cell, exc)
                        continue
                    if code in chosen:
                        twice = Invalid(
                            f"a component not already chosen (it is also in {head[chosen[code]]})",
                            "choose each component at most once",
                        )
                        report(index, item, cell, twice)
                        continue
                    chosen[code] = index
                    slots += [None] * (slot - len(slots)) + [code]  # the slot used, as in the workbook
                    raws.append(raw_text(cell))
                value = slots or None
            elif item.type == "multiple":
                value, raws = self.multiple(item, row, present[0] if present else None, details, report)
            else:
                index = present[0]
                cell = _cell(row, index)
                if cell is None:
                    continue
                raws.append(raw_text(cell))
                try:
                    value = parse_answer(cell, item, langs)
                except Invalid as exc:
                    report(index, item, cell, exc)
                    continue
            if item.id in invalid or value is None or value == "":
                continue
            values[item.id] = value
            if item.personal:
                rr.personal[item.id] = value
            else:
                rr.answers[item.id] = Answer(item, value, "; ".join(raws), f"row {number}", located[item.id])
        for item in form.items:
            if not item.required or item.id in values or item.id in invalid:
                continue
            if item.when and item.when.question and not item.when.holds(values.get(item.when.question)):
                continue
            rr.missing.append(
                finding(
                    "missing-answer",
                    file=name,
                    row=number,
                    cell=located.get(item.id),
                    question=item.id,
                    severity="missing",
                )
            )

    def multiple(
        self, item: Item, row: list[Any], index: int | None, details: dict[str, int], report: Any
    ) -> tuple[list[str] | None, list[str]]:
        """A select_multiple from its space-separated column, else from its 0/1 choice columns."""
        langs = self.definition.languages
        chosen: list[str] = []
        raws: list[str] = []
        if index is not None:
            cell = _cell(row, index)
            tokens = raw_text(cell).split() if cell is not None else []
            pairs = [(index, token) for token in tokens]
        else:
            pairs = []
            for code, i in details.items():  # a 0/1 column: the one parser's rule for a choice's own cell
                try:
                    if parse_flag(_cell(row, i)):
                        pairs.append((i, code))
                except Invalid as exc:
                    report(i, item, _cell(row, i), exc)
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
    channel: str, instance: str, answers: dict[str, Any], personal: dict[str, Any], problems: list[Finding]
) -> str:
    """The identity of a submission's content: the same submission exported twice (as CSV and
    as XLS, with other group options, in another row) hashes the same."""
    blob = canonical_json(
        {
            "channel": channel,
            "instance": instance,
            "answers": answers,
            "personal": personal,
            "problems": [[f.code, f.question, f.cell, f.params] for f in problems],
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
) -> Iterator[ReadReturn]:
    """Every submission of every export, oldest first, so that a later submission of the same
    institution supersedes an earlier one whatever file or row it is in."""
    found: list[ReadReturn] = []
    for path in paths:
        loaded = load_export(path, max_size=max_size)
        if isinstance(loaded, Finding):
            rr = ReadReturn(path=path)
            rr.errors.append(loaded)
            found.append(rr)
            continue
        found += _Reader(loaded, definition, known, round_id, invited).read()
    found.sort(key=lambda rr: rr.meta.get("generated_at") or "")
    yield from found
