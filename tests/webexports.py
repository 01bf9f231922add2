"""Build submission exports the way KoboToolbox and ODK Central lay them out, from a form
written by ``consult xlsform``: the column paths come from the XLSForm's own groups.

Layouts (KoboToolbox export options and formpack's fixed fields; ODK Central's CSV as its
backend tests assert it):

* KoboToolbox CSV/XLS, "XML values and headers", groups included with ``/``, select_multiple
  as "single and separate columns": every field in form order (calculates too) by group path,
  each select_multiple followed by one 0/1 column per choice, then ``meta/instanceID``,
  ``_id``, ``_uuid``, ``_submission_time``, ``_validation_status``, ``_notes``, ``_status``,
  ``_submitted_by``, ``__version__``, ``_tags``, ``_index``. CSV separator ``;``.
* ODK Central CSV: ``SubmissionDate``, the fields with ``-`` between groups (bare names with
  "remove group names"), ``meta-instanceID``, ``KEY``, ``SubmitterID``, ``SubmitterName``,
  ``AttachmentsPresent``, ``AttachmentsExpected``, ``Status``, ``ReviewState``, ``DeviceID``,
  ``Edits``, ``FormVersion``. Separator ``,``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from consult.definitions.questionnaire import Form
from consult.forms.xlsform import field_name, rank_field

KOBO_TAIL = (
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
)
ODK_TAIL = (
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


@dataclass
class Field:
    name: str
    path: list[str]  # enclosing groups, outermost first
    type: str
    choices: list[str]


def fields_of(xlsform: Path) -> list[Field]:
    """The data fields of an XLSForm in form order, with their group path."""
    wb = openpyxl.load_workbook(xlsform, read_only=True)
    survey = list(wb["survey"].iter_rows(values_only=True))
    choice_rows = list(wb["choices"].iter_rows(values_only=True))
    wb.close()
    head = survey[0]
    lists: dict[str, list[str]] = {}
    for row in choice_rows[1:]:
        lists.setdefault(str(row[0]), []).append(str(row[1]))
    groups: list[str] = []
    out = []
    for raw in survey[1:]:
        row = dict(zip(head, raw, strict=False))
        kind = str(row["type"])
        if kind == "begin_group":
            groups.append(str(row["name"]))
        elif kind == "end_group":
            groups.pop()
        else:
            base = kind.split()[0]
            choices = lists.get(kind.split()[1], []) if base.startswith("select") else []
            out.append(Field(str(row["name"]), list(groups), base, choices))
    return out


@dataclass
class Submission:
    values: dict[str, Any]  # field name -> XML value as the server stores it
    instance: str
    time: str  # ISO 8601 UTC


def submission(
    form: Form, answers: dict[str, Any], personal: dict[str, Any], version: str, round_id: str, instance: str, time: str
) -> Submission:
    """A submission of ``form``'s institution answering ``answers`` (item id -> stored value)."""
    values: dict[str, Any] = {
        "consult_version": version,
        "consult_country": form.country,
        "consult_round": round_id,
        "institution": form.institution,
    }
    for item in form.items:
        value = personal.get(item.id) if item.personal else answers.get(item.id)
        if value is None:
            continue
        if item.type == "rank":
            for k, code in enumerate(value, start=1):
                values[rank_field(item.id, k)] = code
        elif item.type == "multiple":
            values[field_name(item.id)] = " ".join(value)
        else:
            values[field_name(item.id)] = value
    return Submission(values, instance, time)


def _columns(fields: list[Field], sep: str, groups: bool, details: bool) -> list[tuple[str, str, str | None]]:
    """(header, field name, choice code of a 0/1 column or None)."""
    cols = []
    for f in fields:
        head = sep.join([*f.path, f.name]) if groups else f.name
        cols.append((head, f.name, None))
        if details and f.type == "select_multiple":
            cols += [(f"{head}/{code}", f.name, code) for code in f.choices]
    return cols


def _cell(sub: Submission, name: str, code: str | None) -> Any:
    value = sub.values.get(name)
    if code is not None:
        return "" if value is None else ("1" if code in str(value).split() else "0")
    return "" if value is None else value


def kobo_rows(
    xlsform: Path, subs: list[Submission], groups: bool = True, details: bool = True, drop: tuple[str, ...] = ()
) -> list[list[Any]]:
    cols = [c for c in _columns(fields_of(xlsform), "/", groups, details) if c[1] not in drop]
    rows: list[list[Any]] = [[c[0] for c in cols] + ["meta/instanceID", *KOBO_TAIL]]
    for n, sub in enumerate(subs, start=1):
        tail = [n, sub.instance, sub.time, "", "", "submitted_via_web", "", "vX9k2aQp", "", n]
        rows.append([_cell(sub, name, code) for _h, name, code in cols] + [f"uuid:{sub.instance}", *tail])
    return rows


def odk_rows(xlsform: Path, subs: list[Submission], groups: bool = True, drop: tuple[str, ...] = ()) -> list[list[Any]]:
    cols = [c for c in _columns(fields_of(xlsform), "-", groups, False) if c[1] not in drop]
    rows: list[list[Any]] = [["SubmissionDate"] + [c[0] for c in cols] + ["meta-instanceID", *ODK_TAIL]]
    for sub in subs:
        uid = f"uuid:{sub.instance}"
        tail = [uid, "5", "Enketo", "0", "0", "", "", "", "0", sub.values.get("consult_version", "")]
        rows.append([sub.time + ".000Z"] + [_cell(sub, name, code) for _h, name, code in cols] + [uid, *tail])
    return rows


def write_csv(rows: list[list[Any]], path: Path, delimiter: str) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def write_xlsx(rows: list[list[Any]], path: Path, title: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title[:31]
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
