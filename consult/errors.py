"""Errors and findings.

Two kinds of trouble flow through consult and they must not be confused:

* a :class:`ConsultError` is raised when an operation cannot go on (a file that does
  not exist, a workspace that is missing). The CLI turns it into one ``Error: ...`` line
  and exit code 1.
* a :class:`Finding` is a problem *in the data* (a YAML line, a workbook cell). Findings are
  collected, never raised one by one, so that a user fixes every problem in one pass.

Every finding carries a stable ``code`` from :data:`CATALOGUE`; tests build the expected
text from the same catalogue, so wording lives in one place.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from consult.types import Severity

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: control characters (ESC starts a terminal escape
    sequence), bidirectional overrides and invisible characters become visible escapes such
    as ``\\x1b``, so a file name can neither rewrite the screen nor hide part of itself."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class ConsultError(Exception):
    """An operation that cannot proceed; the message says what to do about it."""


class UsageError(ConsultError):
    """The command was called wrongly (exit code 2)."""


# code -> (message template, fix). Templates use str.format with the finding's ``params``.
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- YAML / schema -------------------------------------------------------------
    "yaml-syntax": ("invalid YAML: {detail}", "fix the YAML syntax at this position"),
    "schema": ("{detail}", "see the JSON Schema shipped in questionnaires/schema/"),
    "duplicate-id": (
        "duplicate {kind} id '{id}' (first defined on line {first_line})",
        "give every {kind} a unique id",
    ),
    "unknown-ref": (
        "unknown {kind} '{id}'{where}",
        "use one of: {known}",
    ),
    "missing-translation": (
        "{what} has no '{lang}' text",
        "add a '{lang}:' entry (every label needs each language of the framework: {langs})",
    ),
    "when-unknown-question": (
        "'when' refers to unknown question '{id}'",
        "name a question defined earlier in the questionnaire",
    ),
    "empty-rank": (
        "rank question '{id}' has no choices for institution {institution}",
        "ask {institution} about at least one area, or restrict the question with 'when'",
    ),
    "rank-too-short": (
        "rank question '{id}' asks for {size} choices but institution {institution} has only {n}",
        "lower 'size' or ask {institution} about more components",
    ),
    "role-type": (
        "role '{role}' needs a question of type {types}, this one is '{type}'",
        "change the type, or give the question the role that fits it (README, 'Question roles')",
    ),
    "role-place": ("role '{role}' {detail}", "move the question, or give it the role that fits it"),
    "role-count": ("{detail}", "{fix}"),
    "thin-component": (
        "component {id} is asked of {who}: at most {n} rating(s) per country, fewer than a country position needs",
        "ask more institutions about it in 'institutions.*.areas' (or accept that it is reported as low evidence)",
    ),
    "rank-size": (
        "ranking '{id}' asks for {size} choices but institution {institution} is asked about only {n} component(s)",
        "lower 'size', or ask {institution} about more components (its top-{n} is asked instead)",
    ),
    "mapping-unaccounted": (
        "{side} {kind} '{id}' is not accounted for by this mapping",
        "list it under '{key}' (same, renamed, merged_into, split_into, dropped) if it is an earlier id, "
        "or under 'new: {key}:' if it is a later one",
    ),
    "mapping-conflict": (
        "{kind} '{id}' is the target of several earlier ids ({sources}) but one of them is 'same' or 'renamed'",
        "use 'merged_into: {id}' for every earlier id that went into it",
    ),
    "mapping-new-mapped": (
        "{kind} '{id}' is listed as new but earlier ids map onto it ({sources})",
        "remove it from 'new', or map the earlier ids elsewhere",
    ),
    "mapping-framework": (
        "the {side} framework is '{expected}'{where}, this mapping says '{found}'",
        "write the framework id of the {side} definitions (framework.yaml 'id')",
    ),
    "mapping-no-earlier": (
        "the earlier definitions are not at {folder}: their ids cannot be checked",
        "correct 'definitions' (a folder relative to this file), or remove it",
    ),
    "quote-unknown": (
        "no quote has the id '{found}' in this workspace and language",
        "do not edit column A: export the quotes again and copy the translations into the new file",
    ),
    "quote-edited": (
        "the original text of quote {id} was changed",
        "translate in column H only; the original in column G must stay as the institution wrote it",
    ),
    # --- returned workbooks --------------------------------------------------------
    "not-xlsx": ("not an Excel .xlsx workbook ({detail})", "ask the sender to save as .xlsx and resend"),
    "too-large": (
        "file is {size} bytes, above the {limit} byte limit",
        "check the file; raise --max-size if it is genuine",
    ),
    "zip-bomb": (
        "workbook expands to {size} bytes when unpacked (limit {limit})",
        "do not open this file; ask the sender for a fresh copy",
    ),
    "zip-ratio": (
        "workbook unpacks to {size} bytes, {ratio} times its packed size (the rule: at most {limit} times "
        "for a file that unpacks to more than {floor} bytes); no questionnaire is that repetitive",
        "do not open this file; ask the sender for a fresh copy",
    ),
    "permission": (
        "cannot read this {kind} here: permission denied (a local permission problem, not the sender's)",
        "give your user read access to it (e.g. chmod u+r, or ask the owner of the folder) and ingest again",
    ),
    "not-regular": (
        "not a regular file (it is {kind}); it was not read",
        "ingest only files saved from Excel; pipes, devices and sockets are never read",
    ),
    "link-loop": (
        "a symbolic link loop: the link leads back to itself and names no file",
        "fix or delete the link, then ingest again",
    ),
    "unreadable": (
        "cannot read this {kind} here: {detail}",
        "check the path and the disk on this computer, then ingest again",
    ),
    "not-a-form": (
        "more than {limit} unknown question ids in the hidden column: reading stopped",
        "this is not a consult questionnaire, or column A was overwritten: "
        "copy the answers into a freshly generated workbook",
    ),
    "more-problems": (
        "{count} more problem(s) of this file are not listed",
        "fix the problems listed and ingest the corrected file: the rest are then listed",
    ),
    "no-metadata": (
        "the hidden metadata sheet '_consult' is missing or unreadable",
        "this is not a consult questionnaire, or the sheet was deleted: "
        "copy the answers into a freshly generated workbook",
    ),
    "metadata-edited": (
        "the metadata sheet was edited ({detail})",
        "copy the answers into a freshly generated workbook for this institution",
    ),
    "seal-forged": (
        "the seal does not match this workspace's key: the form was relabelled (as {country}/{institution}) "
        "or its metadata edited after it was generated",
        "do not use this file; ask {institution} in {country} to return the questionnaire they were sent",
    ),
    "seal-foreign": (
        "the form was generated by another consult workspace (key {found}; this workspace's key is {expected})",
        "ingest it in the workspace that generated it, or send this institution a questionnaire generated here",
    ),
    "seal-unkeyed": (
        "the form carries an old unkeyed seal, but this workspace seals every form it generates with its key: "
        "it was relabelled (as {country}/{institution}) or comes from another workspace",
        "do not use this file; ask {institution} in {country} to return the questionnaire they were sent",
    ),
    "seal-old": (
        "sealed by an older consult: cannot prove it was not relabelled (it says {country}/{institution})",
        "confirm with {institution} in {country} that this is their return; send questionnaires generated "
        "by this version from now on",
    ),
    "outside-round": (
        "return is for country {country}, which is not in round '{round}' (countries: {countries})",
        "add {country} to 'countries' in consult.yaml and ingest the file again, or check where it came from",
    ),
    "unknown-definition": (
        "questionnaire definition {hash} is unknown to this workspace",
        "ingest in the workspace that generated it, or regenerate and re-send the questionnaire",
    ),
    "wrong-round": (
        "return is for round '{found}', this workspace runs round '{expected}'",
        "ingest it in the workspace of round '{found}', or send the current questionnaire",
    ),
    "fewer-answers": (
        "this version has {found} answers; the version it replaces (#{old}) had {had}, and all of them are replaced",
        "ask the institution for a complete return, or make #{old} current again: consult returns --restore {old}",
    ),
    "restored": ("made current again by hand on {date} (consult returns --restore)", "nothing to do"),
    "uninvited": (
        "{institution} is not invited in {country} in this workspace",
        "add it to consult.yaml 'invited' or check the file",
    ),
    "missing-sheet": (
        "sheet '{sheet}' is missing",
        "copy the answers into a freshly generated workbook",
    ),
    "unknown-question": (
        "unknown question id '{found}' in the hidden column",
        "do not edit column A; copy the answers into a freshly generated workbook",
    ),
    "duplicate-answer": (
        "question answered twice (rows {rows})",
        "delete the duplicated row",
    ),
    "invalid-value": ("found {found}, expected {expected}", "{fix}"),
    "formula": (
        "cell holds a formula ({found}) with no saved value",
        "type the value itself instead of a formula",
    ),
    "future-date": (
        "the completion date {found} is in the future (today is {today} at the latest)",
        "check the year with the institution; until it is corrected this date does not count when "
        "deciding which of the institution's returns is the newest (its saved time does)",
    ),
    "missing-answer": ("required answer is blank", "fill in the answer"),
    "row-deleted": (
        "the row for this question was deleted",
        "copy the answers into a freshly generated workbook",
    ),
    # --- KoboToolbox / ODK Central exports (a row is one submission) ------------------------
    "export-unreadable": (
        "cannot read this export ({detail})",
        "export the submissions again as CSV or XLS (KoboToolbox) or CSV (ODK Central)",
    ),
    "export-labels": (
        "the export has labels instead of XML names (headers such as {found}): answers cannot be matched "
        "safely to questions",
        "export again with 'XML values and headers' (KoboToolbox: Value and header format)",
    ),
    "export-unmatched": (
        "{count} column(s) match no question of the form, with any group separator: {headers}; nothing stored",
        "export again from the form deployed from 'consult xlsform', all fields, without renaming columns",
    ),
    "export-no-main": (
        "the .zip holds no main table (<form id>.csv at its top, as ODK Central writes it); found: {found}",
        "download the submissions again from ODK Central (CSV, or 'All data and attachments' .zip)",
    ),
    "export-duplicate-column": (
        "column '{header}' appears {count} times (columns {columns}): the question is answered twice; nothing stored",
        "export again from the server; do not paste columns into an export",
    ),
    "export-cell-too-large": (
        "a cell is longer than {limit} characters (no answer of the form can be): the export is damaged; "
        "nothing of this file stored",
        "export again from the server; the other exports are ingested",
    ),
    "export-control": (
        "the answer holds a control character ({found}), which no one can type: the export is damaged",
        "export again from the server, or correct the answer on the server",
    ),
    "not-decrypted": (
        "submission of an encrypted form exported without its passphrase (Status '{found}'): no answer can be read",
        "export again from ODK Central and enter the form's passphrase when asked",
    ),
    "review-rejected": (
        "{server} reviewers marked this submission '{found}': recorded, not counted",
        "to count it anyway: consult ingest --include-rejected FILE; or change its review state on the server",
    ),
    "review-included": (
        "{server} reviewers marked this submission '{found}': counted because of --include-rejected",
        "nothing to do",
    ),
    "review-doubt": (
        "{server} reviewers marked this submission '{found}': counted, but check it",
        "settle the review on the server and export again",
    ),
    "form-version-earlier": (
        "submitted with an earlier deployment of this form (version {found}; the current one is {current}): "
        "read against the same questionnaire",
        "nothing to do; deploy the current form so that new submissions use it",
    ),
    "held-fewer": (
        "not applied: this version of submission {instance} has {found} answers, the current one (#{old}) has {had}",
        "check the export (all fields, XML values and headers); to apply it anyway: consult ingest --accept-fewer FILE",
    ),
    "export-not-consult": (
        "the export has no '{field}' column: it is not from a form written by 'consult xlsform', "
        "or its headers are labels",
        "export from the form deployed from 'consult xlsform', with 'XML values and headers' (KoboToolbox)",
    ),
    "wrong-form-version": (
        "submission is for form version '{found}', this workspace's questionnaire is version '{expected}'{detail}",
        "deploy the form written by 'consult xlsform' on the server and ask the institution to submit again",
    ),
    "unknown-country": (
        "submission is for country '{found}', which the questionnaire does not know",
        "export from the form written by 'consult xlsform'; do not edit its hidden columns",
    ),
    "unknown-institution": (
        "institution '{found}' is not one of the form's institutions ({known})",
        "deploy the form written by 'consult xlsform' again; do not rename its institution choices",
    ),
    "no-instance-id": (
        "submission has no instance id ({columns})",
        "export again with the metadata columns (_uuid, KEY or meta/instanceID)",
    ),
    "column-deleted": (
        "the export has no column for this question",
        "export all fields of the form; if the question was deleted on the server, deploy the form "
        "written by 'consult xlsform' again",
    ),
}


@dataclass
class Finding:
    """One problem in the data, located as precisely as we can, with the fix."""

    code: str
    file: str = ""
    line: int | None = None
    column: int | None = None
    sheet: str | None = None
    cell: str | None = None
    question: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "error"
    row: int | None = None  # a submission's row in a KoboToolbox/ODK export; ``cell`` is then its column
    # the texts as stored with a finding read back (message, fix, text): shown when this release's
    # catalogue no longer renders it (a code renamed, a parameter added); never compared or stored
    recorded: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def message(self) -> str:
        return self._render(0, "message")

    @property
    def fix(self) -> str:
        return self._render(1, "fix")

    def _render(self, part: int, key: str) -> str:
        if self.recorded:  # read back from the store: an older release may have worded it
            try:
                return CATALOGUE[self.code][part].format(**self.params)
            except (KeyError, IndexError, ValueError):
                return self.recorded.get(key) or self.code
        return CATALOGUE[self.code][part].format(**self.params)

    @property
    def location(self) -> str:
        """Where the problem is, in the form the user's editor or Excel shows it."""
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.column or 1}"
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}" + (f", column {self.cell}" if self.cell else ""))
        elif self.sheet:
            ref = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
            if " " in self.sheet and self.cell:
                ref = f"'{self.sheet}'!{self.cell}"
            parts.append(ref)
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.location
        if self.question:
            where = f"{where} ({self.question})" if where else f"({self.question})"
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON data (``--json`` and the store): its fields, plus the derived
        ``message``, ``fix`` and ``text`` for a reader that has no catalogue."""
        data = asdict(self)
        del data["recorded"]
        data["message"] = self.message
        data["fix"] = self.fix
        data["text"] = str(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`: the derived texts are not fields, they are kept
        aside (``recorded``) and shown only when the catalogue can no longer render the
        finding. Unknown keys (from a later release) are ignored."""
        names = {f for f in cls.__dataclass_fields__ if f != "recorded"}
        fields = {k: v for k, v in data.items() if k in names}
        fields["params"] = dict(fields.get("params") or {})
        recorded = {k: str(data[k]) for k in ("message", "fix", "text") if isinstance(data.get(k), str)}
        return cls(**fields, recorded=recorded)


def finding(code: str, **kwargs: Any) -> Finding:
    """Build a finding, splitting location fields from message parameters."""
    loc_keys = {"file", "line", "column", "sheet", "cell", "question", "severity", "row"}
    loc = {k: v for k, v in kwargs.items() if k in loc_keys}
    params = {k: v for k, v in kwargs.items() if k not in loc_keys}
    return Finding(code=code, params=params, **loc)
