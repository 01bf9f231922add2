"""Ingest: find the returned files and record them in the store, one transaction per return.

Reading (the slow part: unzip + XML) may run in worker processes (:mod:`consult.intake.parallel`);
web exports are read by :mod:`consult.intake.submissions`. Recording is always done by this
process, serially, each return in its own ``BEGIN IMMEDIATE`` transaction, so a crash or
``kill -9`` loses at most the return being written and never leaves half of one.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from consult.definitions import Definition
from consult.definitions.mapping import find_mapping
from consult.errors import Finding, UsageError, finding, printable
from consult.intake.parallel import PackedAnswer, PackedReturn, ReaderSetup, init_worker, read_all
from consult.intake.reader import ReadReturn
from consult.intake.safety import MAX_SIZE, Refused, local_problem, read_bounded
from consult.intake.submissions import is_export, read_exports
from consult.store import NewAnswer, NewReturn, Respondent, ReturnRow, Store, compare_returns
from consult.types import CHANNELS, RETURN_STATUSES, Channel, IngestStatus, ReturnStatus
from consult.workspace import Workspace, known_definitions

__all__ = [  # the names other modules and tests import from here, wherever they now live
    "READABLE",
    "Discovery",
    "IngestResult",
    "PackedAnswer",
    "PackedReturn",
    "ReaderSetup",
    "discover",
    "ingest",
    "record",
]


@dataclass
class IngestResult:
    """What happened to one file. ``status`` is accepted, incomplete, rejected, duplicate,
    unreadable (could not be read on this computer: permissions, a link loop, not a regular
    file; reported, never stored) or held (a web submission with fewer answers than the
    current version of the same submission: reported, not stored, unless ``accept_fewer``)."""

    file: str
    path: str
    status: IngestStatus
    sha256: str = ""
    country: str | None = None
    institution: str | None = None
    return_id: int | None = None
    superseded: list[int] = field(default_factory=list)
    superseded_by: int | None = None  # stored, but an earlier-ingested return is newer: that one stays current
    why: str = ""  # why this return is current or not, when another return of the institution exists
    duplicate_of: int | None = None
    errors: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Accepted, or a file already ingested (whatever its verdict then: it was reported then)."""
        return self.status in ("accepted", "duplicate")

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """As JSON data; the findings' words in ``lang`` (see :meth:`Finding.to_dict`)."""
        data = {k: v for k, v in self.__dict__.items() if k not in ("errors", "missing", "warnings")}
        for key in ("errors", "missing", "warnings"):
            data[key] = [f.to_dict(lang) for f in getattr(self, key)]
        return data


# found in folders: .csv and some .xlsx are KoboToolbox / ODK Central exports; .xls/.ods are
# listed only to say how to re-save them
READABLE = (".xlsx", ".xlsm", ".csv", ".zip", ".xls", ".ods")


@dataclass
class Discovery:
    """The files found under the paths named (once: the CLI and the library share it), and
    the folders or paths that could not be read, each reported as an ``unreadable`` result."""

    files: list[Path] = field(default_factory=list)
    problems: list[IngestResult] = field(default_factory=list)


def _unreadable(path: Path, exc: OSError, kind: str) -> IngestResult:
    problem = local_problem(path, exc, kind)
    return IngestResult(file=path.name or str(path), path=str(path), status="unreadable", errors=[problem])


def discover(paths: Iterable[Path]) -> Discovery:
    """Files named, and workbooks under folders named (recursively, sorted; symbolic links to
    folders are not followed, so a link loop cannot recurse). A folder called ``x.xlsx`` is
    a folder; an unreadable folder is a problem to report, never silently skipped."""
    found = Discovery()
    missing = []
    for p in paths:
        try:
            info = os.stat(p)
        except OSError as exc:
            if exc.errno == errno.ENOENT and not os.path.islink(p):
                missing.append(printable(str(p)))
            else:
                found.problems.append(_unreadable(p, exc, "file or folder"))
            continue
        if not stat.S_ISDIR(info.st_mode):
            found.files.append(p)  # named explicitly: read_return says if it is no regular file
            continue
        inside: list[Path] = []

        def failed(exc: OSError, top: Path = p) -> None:
            where = Path(exc.filename) if exc.filename else top
            found.problems.append(_unreadable(where, exc, "folder"))

        for folder, _dirs, names in os.walk(p, onerror=failed):
            inside += [Path(folder, n) for n in names if n.lower().endswith(READABLE) and not n.startswith(("~$", "."))]
        found.files += sorted(inside)
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    return found


def _invited(workspace: Workspace, definitions: dict[str, Definition]) -> dict[str, list[str]] | None:
    """The institutions invited in each country, in the ids of every definition a return may
    come on: a late return on an earlier form names a ministry by its earlier id (MVD, renamed
    MOIA by the mapping), and is the invited ministry's, not an uninvited one's."""
    if not workspace.configured:
        return None
    current = workspace.definition
    earlier_ids: dict[str, set[str]] = {}  # current id -> the earlier ids the mappings carry onto it
    by_framework: dict[str, set[str]] = {}  # framework id -> every institution id its versions name
    for d in definitions.values():
        by_framework.setdefault(d.framework.id, set()).update(i.id for i in d.framework.institutions)
    for fw_id, institutions in by_framework.items():
        mapping = find_mapping(current.folder, fw_id) if fw_id != current.framework.id else None
        if mapping is None:
            continue
        for old in institutions:
            later = mapping.institution(old)
            if later is not None and later != old:
                earlier_ids.setdefault(later, set()).add(old)
    return {
        c: [*ids, *sorted({old for i in ids for old in earlier_ids.get(i, ())} - set(ids))]
        for c, ids in ((c, workspace.invited_for(c)) for c in workspace.countries)
    }


def _same_again(previous: ReturnRow | None, result: IngestResult) -> bool:
    """One rule for every status: a file already stored is "already ingested". The one
    exception is a rejected file that reads differently now (consult.yaml gained its country,
    say): it is stored as the new verdict."""
    return previous is not None and (previous.status != "rejected" or result.status == "rejected")


def _held(store: Store, rr: ReadReturn) -> Finding | None:
    """Why a web submission is held: the current version of the same submission (same root
    id, so same stored name) has more answers, and this one would replace it. A misread
    export (a separator, a labels export) must never silently replace good answers."""
    row = store.current_by_name(store.conn, rr.path.name)
    if row is None or (row.saved_at and rr.saved_at and rr.saved_at < row.saved_at):
        return None  # nothing current, or an older version (stored as superseded: harmless)
    had = store.answer_counts(store.conn, [row.id])[row.id]
    found = len(rr.answers)  # as answer_counts counts: personal data is kept apart
    if had <= found:
        return None
    instance = rr.meta.get("instance_id", "")
    return finding(
        "held-fewer", file=rr.meta.get("source", rr.path.name), instance=instance, found=found, had=had, old=row.id
    )


def _withdraw(store: Store, conn: sqlite3.Connection, rr: ReadReturn, rid: int) -> list[int]:
    """The reviewers rejected this version of a submission: the earlier versions of the same
    submission (same root id), accepted before the decision, stop counting (superseded by this
    rejected one, which says why); a later edit stands."""
    return store.withdraw(conn, rr.path.name, rid, rr.saved_at)


def _new_return(rr: ReadReturn, result: IngestResult) -> NewReturn:
    """The row of ``returns`` for a read return, with the verdict ``result`` gives it."""
    meta = rr.meta
    return NewReturn(
        file_name=rr.path.name,
        source_path=str(rr.path),
        sha256=rr.sha256,
        size=rr.size,
        country=rr.country,
        institution=rr.institution,
        questionnaire_id=meta.get("questionnaire_id"),
        questionnaire_version=meta.get("questionnaire_version"),
        definition_hash=meta.get("definition_hash"),
        round=meta.get("round"),
        generated_at=meta.get("generated_at"),
        received_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        respondent_date=rr.respondent_date,
        saved_at=rr.saved_at,
        status=_stored_status(result.status),
        channel=_channel(meta.get("channel")),
        errors=result.errors,
        warnings=result.warnings,
        missing=result.missing,
    )


def _new_answers(rr: ReadReturn) -> list[NewAnswer]:
    """The answers of a read return as stored: '' as role is "no role" (looked up, none found)."""
    return [
        NewAnswer(
            item_id=a.item.id,
            section=a.item.section,
            area=a.item.area,
            component=a.item.component,
            type=a.item.type,
            value=a.value,
            raw=a.raw,
            sheet=a.sheet,
            cell=a.cell,
            question_id=a.item.qid,
            role=a.item.role or "",
        )
        for a in rr.answers.values()
    ]


def _respondent(rr: ReadReturn) -> Respondent | None:
    return Respondent(rr.personal) if rr.personal else None


def _stored_status(status: IngestStatus) -> ReturnStatus:
    """The verdict a return is stored with (duplicate, held and unreadable files are never stored)."""
    for stored in RETURN_STATUSES:
        if status == stored:
            return stored
    raise AssertionError(f"a return is never stored as {status!r}")


def _channel(word: str | None) -> Channel:
    """The channel a return came by (a web export names it; a workbook does not: excel)."""
    for channel in CHANNELS:
        if word == channel:
            return channel
    if word:
        raise AssertionError(f"no channel is called {word!r}")
    return "excel"


def record(store: Store, rr: ReadReturn, strict: bool, dry_run: bool, accept_fewer: bool = False) -> IngestResult:
    """Store one read return (or, with ``dry_run``, only say what would happen). A refused
    export file, or a row that holds no answer (encrypted), is reported and never stored."""
    result = IngestResult(
        file=rr.path.name,
        path=str(rr.path),
        status=rr.status,
        sha256=rr.sha256,
        country=rr.country,
        institution=rr.institution,
        errors=list(rr.errors),
        missing=list(rr.missing),
        warnings=list(rr.warnings),
    )
    if result.status == "unreadable" or rr.meta.get("refused"):  # reported, nothing to store
        return result
    if result.status in ("accepted", "incomplete") and rr.meta.get("channel") and not accept_fewer:
        held = _held(store, rr)
        if held is not None and not (store.find_sha(store.conn, rr.sha256) if rr.sha256 else None):
            result.status = "held"
            result.warnings.append(held)
            return result
    if strict and rr.missing and not rr.errors:
        result.status = "rejected"
        result.errors = list(rr.missing)
    if dry_run:
        previous = store.find_sha(store.conn, rr.sha256) if rr.sha256 else None
        if _same_again(previous, result):
            result.status, result.duplicate_of, result.return_id = "duplicate", previous.id, previous.id  # type: ignore[union-attr]
        return result
    with store.transaction() as conn:
        previous = store.find_sha(conn, rr.sha256) if rr.sha256 else None
        if _same_again(previous, result):
            # the same bytes again, whatever their verdict then: "already ingested", nothing to do
            result.status, result.duplicate_of, result.return_id = "duplicate", previous.id, previous.id  # type: ignore[union-attr]
            return result
        rid, superseded = store.insert_return(conn, _new_return(rr, result), _new_answers(rr), _respondent(rr))
        if any(f.code == "review-rejected" for f in rr.errors):
            superseded = _withdraw(store, conn, rr, rid)
        result.return_id, result.superseded = rid, superseded
        counts = store.answer_counts(conn, [rid, *superseded])
        fewer = [(old, counts[old]) for old in superseded if counts[old] > counts[rid] and result.status != "rejected"]
        if fewer:  # the replace rule stands, but a resend that lost answers is said, not silent
            old, had = max(fewer, key=lambda f: f[1])
            warning = finding(
                "fewer-answers", file=rr.path.name, severity="warning", found=counts[rid], had=had, old=old
            )
            result.warnings.append(warning)
            store.set_warnings(conn, rid, result.warnings)
        mine = store.get(rid)
        if mine is not None and mine.superseded_by is not None:
            newer = store.get(mine.superseded_by)
            result.superseded_by = mine.superseded_by
            result.why = compare_returns(newer.recency, mine.recency)[1] if newer else ""
        elif mine is not None and superseded:
            older = store.get(superseded[0])
            result.why = compare_returns(mine.recency, older.recency)[1] if older else ""
    return result


def _already_stored(store: Store, files: list[Path], max_size: int) -> list[IngestResult]:
    """Files whose bytes the store already holds, as "already ingested" results, found by their
    sha256 before any reading: ingesting the same inbox every day costs a hash per file. A file
    stored as rejected is read again (see :func:`_same_again`): it may read differently now."""
    stored = store.stored_sha256()
    if not stored:  # a first ingest: nothing to recognise, no file read twice
        return []
    known = []
    for path in files:
        try:
            sha = hashlib.sha256(read_bounded(path, max_size)).hexdigest()
        except Refused:
            continue  # the reader reports it
        previous = store.find_sha(store.conn, sha) if sha in stored else None
        if previous is not None and previous.status != "rejected":
            known.append(
                IngestResult(
                    file=path.name,
                    path=str(path),
                    status="duplicate",
                    sha256=sha,
                    country=previous.country,
                    institution=previous.institution,
                    return_id=previous.id,
                    duplicate_of=previous.id,
                )
            )
    return known


def ingest(
    paths: Iterable[Path] | Discovery,
    workspace: Workspace,
    strict: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
    max_size: int = MAX_SIZE,
    on_file: Callable[[IngestResult], None] | None = None,
    accept_fewer: bool = False,
    include_rejected: bool = False,
) -> list[IngestResult]:
    """Ingest every return found under ``paths`` (or in a :class:`Discovery` already made)
    into the workspace store; unreadable folders and files come first, as results.
    ``accept_fewer`` applies web submissions that have fewer answers than the current version
    of the same submission (held otherwise); ``include_rejected`` counts submissions the
    server's reviewers rejected (recorded, not counted otherwise)."""
    found = paths if isinstance(paths, Discovery) else discover(paths)
    files = found.files
    exports = [f for f in files if is_export(f)]  # one file, many submissions: consult.intake.submissions
    files = [f for f in files if f not in exports]
    definitions = known_definitions(workspace)
    invited = _invited(workspace, definitions)
    init_worker(ReaderSetup(definitions, workspace.round, invited, max_size, workspace.seal_key))
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(files) >= 16 else 1
    results = []
    for problem in found.problems:
        results.append(problem)
        if on_file:
            on_file(problem)
    with Store(workspace.db_path) as store:
        known = _already_stored(store, files, max_size)  # "already ingested", not read again
        if known:
            skip = {r.path for r in known}
            files = [f for f in files if str(f) not in skip]
        for result in known:
            results.append(result)
            if on_file:
                on_file(result)
        web = read_exports(
            exports, workspace.definition, definitions, workspace.round, invited, max_size, include_rejected
        )
        for rr in chain(read_all(files, workers), web):
            result = record(store, rr, strict, dry_run, accept_fewer)
            results.append(result)
            if on_file:
                on_file(result)
    return results
