"""Reading an export's submissions: each row becomes one :class:`ReadReturn`, or the file is refused.

The web channel must not be a second set of rules: a submission is checked against the same
resolved :class:`~consult.definitions.questionnaire.Form` (the definition its hidden form
version names, its country and institution), with the same finding codes as a workbook. A file
that cannot be trusted as a whole (not a consult form, a labels export, a duplicated or
unmatched column) is refused in one result, never stored. Each submission's content is hashed
into ``sha256``, so re-ingesting the same export, or another export of the same submissions,
is a no-op.
"""

from __future__ import annotations

import hashlib
from typing import Any

from consult.definitions import Definition, form_for
from consult.definitions.questionnaire import canonical_json
from consult.errors import ConsultError, Finding, finding
from consult.forms.xlsform import (
    COUNTRY_FIELD,
    INSTITUTION_FIELD,
    ROUND_FIELD,
    VERSION_FIELD,
    build_xlsform,
    form_version,
)
from consult.intake.reader import ReadReturn, flag_future_date
from consult.intake.values import raw_text
from consult.intake.web.answers import AnswerReader
from consult.intake.web.columns import Columns, merged_shape
from consult.intake.web.export import Export, column_letter, value_at
from consult.intake.web.metadata import (
    DOUBTED,
    NOT_DECRYPTED,
    REJECTED,
    REVIEW_COLUMN,
    ROOT_COLUMNS,
    identify,
    review_shown,
    saved_time,
)
from consult.problems import phrase
from consult.types import Channel


class ExportReader:
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
        self.shape = merged_shape([definition, *(d for d in known.values() if d.hash != definition.hash)])
        self.versions: dict[tuple[str, str], str] = {}
        self.columns = Columns(export.header, self.shape.paths, self.shape.codes)
        self.answers = AnswerReader(export, self.columns)

    def refuse(self, code: str, **params: Any) -> list[ReadReturn]:
        """The whole file refused: one result, never stored (nothing in it can be trusted)."""
        rr = ReadReturn(path=self.export.path, sha256=self.export.sha256)
        rr.errors.append(finding(code, file=self.export.path.name, **params))
        rr.meta["refused"] = "file"
        return [rr]

    def read(self) -> list[ReadReturn]:
        """One return per non-blank row, or the file refused as a whole (see the module)."""
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
                columns = ", ".join(column_letter(i) for i in indexes)
                return self.refuse("export-duplicate-column", header=head, count=len(indexes), columns=columns)
        channel = self.export.channel
        if channel is None:
            return self.refuse(
                "export-unreadable",
                detail=[phrase("neither_kobo_nor_odk")],
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
        """The submission at row ``number``: its identity and form checked, then its answers."""
        name = self.export.path.name
        col = self.columns
        head = self.export.header
        root, when, review, rank = identify(channel, lambda column: value_at(row, col.find(column)))
        label = f"{channel}:{root}" if root else f"{name} row {number}"
        rr = ReadReturn(path=self.export.path.parent / label)
        source = f"{name} row {number}" + (f" ({self.export.member})" if self.export.member else "")
        rr.meta = {"channel": channel, "instance_id": root, "generated_at": when, "source": source, "rank": str(rank)}
        rr.saved_at = saved_time(
            when, rank
        )  # a submission's "saved time", which decides between equal completion dates
        at = {"file": name, "row": number}
        status = raw_text(value_at(row, col.find("Status"))).strip() if channel == "odk" else ""
        if status.lower() in NOT_DECRYPTED:  # nothing but metadata in the row: one clear cause, not three wrong ones
            rr.errors.append(finding("not-decrypted", **at, cell="Status", found=status))
            rr.meta["refused"] = "row"
            rr.sha256 = _digest(channel, root or source, {}, {}, rr.errors)
            return rr
        if not root:
            rr.errors.append(finding("no-instance-id", **at, columns=", ".join(ROOT_COLUMNS[channel])))
        version_col = col.find(VERSION_FIELD)
        version = raw_text(value_at(row, version_col)).strip()
        country = raw_text(value_at(row, col.find(COUNTRY_FIELD))).strip()
        institution = raw_text(value_at(row, col.find(INSTITUTION_FIELD))).strip()
        round_found = raw_text(value_at(row, col.find(ROUND_FIELD))).strip()
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
                    detail=[phrase("older_questionnaire")] if older else "",
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
        review_col = REVIEW_COLUMN[channel]
        if review in REJECTED:
            shown = review_shown(value_at(row, col.find(review_col)))
            if self.include_rejected:
                rr.warnings.append(
                    finding("review-included", **at, cell=review_col, severity="warning", server=server, found=shown)
                )
            else:
                rr.errors.append(finding("review-rejected", **at, cell=review_col, server=server, found=shown))
        elif review in DOUBTED:
            shown = review_shown(value_at(row, col.find(review_col)))
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
        self.answers.read(rr, form, number, row, definition)
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
