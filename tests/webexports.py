"""Submission exports made the way KoboToolbox and ODK Central make them, from a form written
by ``consult xlsform``: the columns come from the XLSForm's own groups and fields.

Each writer names the server code it follows (read in the servers' public sources):

* KoboToolbox: kpi builds the export options and formpack writes the file.
  - headers (formpack ``schema/fields.py`` ``FormField._get_label``): with "XML values and
    headers" (kpi ``lang='_xml'``, formpack ``UNSPECIFIED_TRANSLATION``) the field's name, or
    with "include groups in headers" (``hierarchy_in_labels``) the group names and the name
    joined by ``group_sep`` (free text, ``/`` by default); with a label language the labels.
  - select_multiple (``FormChoiceFieldWithMultipleSelect``): ``multiple_select`` "both"
    (default), "summary" (one space-separated column) or "details" (one 0/1 column per choice,
    ``<header><group_sep or '/'><choice name>``); an unanswered question is blank in every
    column, an answered one ``'0'``/``'1'``.
  - copy fields (kpi's export task ``COPY_FIELDS``, appended to the first section) and
    ``_index`` (``force_index``): ``_id``, ``_uuid``, ``_submission_time``,
    ``_validation_status`` (``ValidationStatusCopyField``: the uid with XML values, the label
    otherwise), ``_notes``, ``_status``, ``_submitted_by``, ``__version__``, ``_tags``,
    ``_index``; ``meta/rootUuid`` (newer kpi) is written after ``_uuid`` here (its position
    is an assumption; the reader finds columns by name).
  - CSV (formpack ``reporting/export.py`` ``Export.to_csv`` joined by kpi with ``\\r\\n``): every
    cell quoted with ``"``, quotes doubled, ``;`` between cells.
  - XLS (``Export.to_xlsx``): XlsxWriter, ``constant_memory``, ``write_row`` (so ``write()``:
    a string beginning with ``=`` becomes a formula, ``http://...`` a link); with "types as
    text" off, numbers as numbers (an assumption about newer formpack's typed cells).
* ODK Central: ``lib/data/briefcase.js`` (``streamBriefcaseCsvs``, ``getHeader``,
  ``writeMetadata``), CSV by ``csv-stringify``: ``,``, minimal quoting, ``\\n``; newest rows
  first; ``SubmissionDate`` (the first version's ``createdAt``, kept on edit, ISO with ``Z``),
  the fields with ``-`` between groups (``groupPaths=false``: names only), ``meta-instanceID``
  (the current version's instance id) and ``meta-instanceName`` (pyxform's meta group for
  ``settings`` ``instance_name``), ``KEY`` (the submission's first instance id, stable
  across edits), ``SubmitterID``, ``SubmitterName``, ``AttachmentsPresent``,
  ``AttachmentsExpected``, ``Status`` ("not decrypted" and only metadata when exported without
  the passphrase), ``ReviewState``, ``DeviceID``, ``Edits``, ``FormVersion``;
  ``splitSelectMultiples``: after a select_multiple, ``<header>/<value>`` for each value someone
  chose. The .zip holds the table as ``<xmlFormId>.csv`` (``addSubstreamsToArchive``'s
  sibling: ``archive.append(..., { name: `${sanitize(form.xmlFormId)}.csv` })``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter

from consult.definitions.questionnaire import Form
from consult.forms.xlsform import field_name, rank_field

KOBO_COPY = (
    "_id",
    "_uuid",
    "meta/rootUuid",
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
# kpi's validation statuses: uid (XML values) and label (a label language)
KOBO_REVIEW = {
    "approved": ("validation_status_approved", "Approved"),
    "not_approved": ("validation_status_not_approved", "Not approved"),
    "on_hold": ("validation_status_on_hold", "On hold"),
}


@dataclass
class Field:
    name: str
    path: list[str]  # enclosing groups, outermost first
    type: str
    choices: list[str]
    labels: dict[str, str]  # label column -> label


@dataclass
class Form_:
    fields: list[Field]
    choice_labels: dict[str, dict[str, dict[str, str]]]  # list -> code -> label column -> label
    lists: dict[str, str]  # field name -> its choice list
    form_id: str
    version: str


def form_of(xlsform: Path) -> Form_:
    """The data fields of an XLSForm in form order, with their group path and labels."""
    wb = openpyxl.load_workbook(xlsform, read_only=True)
    survey = list(wb["survey"].iter_rows(values_only=True))
    choice_rows = list(wb["choices"].iter_rows(values_only=True))
    settings = list(wb["settings"].iter_rows(values_only=True))
    wb.close()
    head = survey[0]
    chead = choice_rows[0]
    lists: dict[str, list[str]] = {}
    labels: dict[str, dict[str, dict[str, str]]] = {}
    for raw in choice_rows[1:]:
        row = dict(zip(chead, raw, strict=False))
        lists.setdefault(str(row["list_name"]), []).append(str(row["name"]))
        labels.setdefault(str(row["list_name"]), {})[str(row["name"])] = {
            str(k): str(v) for k, v in row.items() if str(k).startswith("label::") and v
        }
    groups: list[str] = []
    out = []
    field_lists = {}
    for raw in survey[1:]:
        row = dict(zip(head, raw, strict=False))
        kind = str(row["type"])
        if kind == "begin_group":
            groups.append(str(row["name"]))
        elif kind == "end_group":
            groups.pop()
        else:
            base = kind.split()[0]
            listed = kind.split()[1] if base.startswith("select") else ""
            field_lists[str(row["name"])] = listed
            texts = {str(k): str(v) for k, v in row.items() if str(k).startswith("label::") and v}
            out.append(Field(str(row["name"]), list(groups), base, lists.get(listed, []), texts))
    setting = dict(zip(settings[0], settings[1], strict=False))
    return Form_(out, labels, field_lists, str(setting["form_id"]), str(setting["version"]))


@dataclass
class Submission:
    values: dict[str, Any]  # field name -> XML value as the server stores it
    instance: str  # the first instance id (Kobo meta/rootUuid, Central KEY)
    time: str  # ISO 8601 UTC, the first submission's time
    current: str = ""  # this version's instance id: an edit has a new one
    edits: int = 0  # Central "Edits"
    review: str = ""  # Central ReviewState, or Kobo not_approved / approved / on_hold
    status: str = ""  # Central Status ("not decrypted")
    kobo_id: int = 0

    def edited(self, instance: str, **changes: Any) -> Submission:
        """The same submission edited on the server: a new instance id, one more edit."""
        values = {**self.values, **changes}
        values = {k: v for k, v in values.items() if v is not None}
        return Submission(values, self.instance, self.time, instance, self.edits + 1, "edited", "", self.kobo_id)


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
            values[field_name(item.id)] = str(value)  # XML text, as the server stores every value
    return Submission(values, instance, time)


# --- KoboToolbox ---------------------------------------------------------------------------
def kobo_table(
    xlsform: Path,
    subs: list[Submission],
    groups: bool = False,
    group_sep: str = "/",
    multiple_select: str = "both",
    lang: str | None = None,
    drop: tuple[str, ...] = (),
) -> list[list[Any]]:
    """formpack ``Export`` rows (header first), in submission order as kpi queries them.
    ``lang`` None: XML values and headers; else a label column such as ``label::English (en)``."""
    form = form_of(xlsform)
    fields = [f for f in form.fields if f.name not in drop]

    def label(f: Field) -> str:
        own = f.name if lang is None else f.labels.get(lang) or f.name
        return group_sep.join([*f.path, own]) if groups else own

    header: list[str] = []
    for f in fields:
        if f.type != "select_multiple" or multiple_select in ("both", "summary"):
            header.append(label(f))
        if f.type == "select_multiple" and multiple_select in ("both", "details"):
            for code in f.choices:
                option = form.choice_labels[form.lists[f.name]][code].get(lang or "", code) if lang else code
                header.append(f"{label(f)}{group_sep or '/'}{option}")
    header += list(KOBO_COPY)
    rows: list[list[Any]] = [header]
    for n, sub in enumerate(subs, start=1):
        row: list[Any] = []
        for f in fields:
            value = sub.values.get(f.name)
            shown = "" if value is None else value
            if lang is not None and f.type.startswith("select") and value is not None:
                names = form.choice_labels[form.lists[f.name]]
                shown = " ".join(names.get(v, {}).get(lang, v) for v in str(value).split())
            if f.type != "select_multiple" or multiple_select in ("both", "summary"):
                row.append(shown)
            if f.type == "select_multiple" and multiple_select in ("both", "details"):
                chosen = str(value).split() if value is not None else None
                row += ["" if chosen is None else ("1" if c in chosen else "0") for c in f.choices]
        review = KOBO_REVIEW[sub.review][0 if lang is None else 1] if sub.review in KOBO_REVIEW else ""
        uuid = sub.current or sub.instance
        rows.append(
            [
                *row,
                sub.kobo_id or n,
                uuid,
                f"uuid:{sub.instance}",
                sub.time,
                review,
                "",
                "submitted_via_web",
                "",
                "vX9k2aQpL3mN7",
                "",
                n,
            ]
        )
    return rows


def kobo_csv(rows: list[list[Any]], path: Path) -> Path:
    """formpack ``to_csv``: ``"`` + ``";"``.join(cells, quotes doubled) + ``"``; kpi adds CRLF."""
    lines = ['"' + '";"'.join(str(x).replace('"', '""') for x in row) + '"' + "\r\n" for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(lines).encode("utf-8"))
    return path


def kobo_xlsx(rows: list[list[Any]], path: Path, types_as_text: bool = True, xlsform: Path | None = None) -> Path:
    """formpack ``to_xlsx``: XlsxWriter ``write_row`` (each cell by ``write()``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    numeric: set[int] = set()
    if not types_as_text and xlsform is not None:
        kinds = {f.name: f.type for f in form_of(xlsform).fields}
        numeric = {i for i, h in enumerate(rows[0]) if kinds.get(str(h).split("/")[-1]) in ("decimal", "integer")}
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("consult")
    for r, row in enumerate(rows):
        cells = [float(v) if i in numeric and r and v != "" else v for i, v in enumerate(row)]
        sheet.write_row(r, 0, cells)
    workbook.close()
    return path


# --- ODK Central -------------------------------------------------------------------------------
def odk_table(
    xlsform: Path, subs: list[Submission], group_paths: bool = True, split: bool = False, drop: tuple[str, ...] = ()
) -> list[list[Any]]:
    """briefcase.js rows (header first), newest submission first."""
    form = form_of(xlsform)
    fields = [f for f in form.fields if f.name not in drop]
    chosen: dict[str, list[str]] = {}
    if split:
        for f in fields:
            if f.type == "select_multiple":
                seen = {v for s in subs for v in str(s.values.get(f.name, "")).split()}
                chosen[f.name] = [c for c in f.choices if c in seen]
    header = ["SubmissionDate"]
    for f in fields:
        head = "-".join([*f.path, f.name]) if group_paths else f.name
        header.append(head)
        header += [f"{head}/{v}" for v in chosen.get(f.name, [])]
    # pyxform closes the form with <meta><instanceID/><instanceName/></meta> (settings instance_name)
    meta = ["meta-instanceID", "meta-instanceName"] if group_paths else ["instanceID", "instanceName"]
    header += [*meta, *ODK_TAIL]
    rows: list[list[Any]] = [header]
    for sub in sorted(subs, key=lambda s: s.time, reverse=True):
        created = dt.datetime.fromisoformat(sub.time).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        encrypted = sub.status != ""
        row: list[Any] = [created]
        for f in fields:
            value = None if encrypted else sub.values.get(f.name)
            row.append("" if value is None else value)
            picked = str(value).split() if value is not None else None
            row += ["" if picked is None else ("1" if v in picked else "0") for v in chosen.get(f.name, [])]
        current = "" if encrypted else f"uuid:{sub.current or sub.instance}"
        key = f"uuid:{sub.instance}"
        tail = [key, "5", "Enketo", "0", "0", sub.status, sub.review, "", str(sub.edits), form.version]
        name = "" if encrypted else f"{sub.values.get('consult_country', '')}-{sub.values.get('institution', '')}"
        rows.append([*row, current, name, *tail])
    return rows


def odk_csv(rows: list[list[Any]], path: Path) -> Path:
    """csv-stringify as briefcase.js uses it: ``,``, quotes only where needed, ``\\n``."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def odk_zip(rows: list[list[Any]], path: Path, form_id: str, media: bool = True, main: bool = True) -> Path:
    """The "All data and attachments" download: ``<xmlFormId>.csv`` (and ``media/``)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if main:
            zf.writestr(f"{form_id}.csv", buf.getvalue())
        if media:
            zf.writestr("media/readme.txt", "attachments")
    return path
