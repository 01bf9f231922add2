"""Ingest: read returned workbooks and record them in the store, one transaction per return.

Reading (the slow part: unzip + XML) may run in worker processes; recording is always done by
this process, serially, each return in its own ``BEGIN IMMEDIATE`` transaction, so a crash or
``kill -9`` loses at most the return being written and never leaves half of one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from consult.definitions import Definition
from consult.errors import ConsultError, Finding, finding
from consult.forms.layout import SealKey
from consult.intake.reader import ReadReturn, read_return
from consult.intake.safety import MAX_SIZE
from consult.intake.submissions import is_export, read_exports
from consult.store import Store, compare_returns
from consult.workspace import Workspace, known_definitions

PATTERNS = ("*.xlsx", "*.xlsm", "*.csv")  # .csv, and some .xlsx: KoboToolbox / ODK Central exports


@dataclass
class IngestResult:
    """What happened to one file. ``status`` is accepted, incomplete, rejected or duplicate."""

    file: str
    path: str
    status: str
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
        return self.status == "accepted" or (self.status == "duplicate" and not self.errors)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("errors", "missing", "warnings")}
        for key in ("errors", "missing", "warnings"):
            data[key] = [f.to_dict() for f in getattr(self, key)]
        return data


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named, and ``*.xlsx``/``*.xlsm``/``*.csv`` under folders named (recursively, sorted)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted({f for pat in PATTERNS for f in p.rglob(pat)})
            files += [f for f in found if not f.name.startswith(("~$", "."))]
        elif p.exists():
            files.append(p)
        else:
            raise ConsultError(f"{p}: no such file or folder")
    return files


_WORKER: dict[str, Any] = {}


def _init_worker(
    definitions: dict[str, Definition],
    round_id: str,
    invited: dict[str, list[str]] | None,
    max_size: int,
    seal_key: SealKey | None = None,
) -> None:
    _WORKER.update(definitions=definitions, round_id=round_id, invited=invited, max_size=max_size, seal_key=seal_key)


def _read(path: Path) -> ReadReturn:
    return read_return(
        path,
        _WORKER["definitions"],
        _WORKER["round_id"],
        _WORKER["invited"],
        max_size=_WORKER["max_size"],
        seal_key=_WORKER.get("seal_key"),
    )


def _read_all(files: list[Path], workers: int) -> Iterator[ReadReturn]:
    if workers <= 1 or len(files) < 8:
        yield from map(_read, files)
        return
    init = (_WORKER["definitions"], _WORKER["round_id"], _WORKER["invited"], _WORKER["max_size"], _WORKER["seal_key"])
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=init) as pool:
        yield from pool.map(_read, files, chunksize=4)


def record(store: Store, rr: ReadReturn, strict: bool, dry_run: bool) -> IngestResult:
    """Store one read return (or, with ``dry_run``, only say what would happen)."""
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
    if strict and rr.missing and not rr.errors:
        result.status = "rejected"
        result.errors = list(rr.missing)
    if dry_run:
        previous = store.find_sha(store.conn, rr.sha256) if rr.sha256 else None
        if previous and previous.status != "rejected":
            result.status, result.duplicate_of = "duplicate", previous.id
        return result
    with store.transaction() as conn:
        previous = store.find_sha(conn, rr.sha256) if rr.sha256 else None
        if previous is not None and (previous.status != "rejected" or result.status == "rejected"):
            # the same bytes again: nothing to do (a rejected file stays rejected)
            result.duplicate_of = previous.id
            result.return_id = previous.id
            if previous.status != "rejected":
                result.status = "duplicate"
            return result
        meta = rr.meta
        fields = {
            "file_name": rr.path.name,
            "source_path": str(rr.path),
            "sha256": rr.sha256,
            "size": rr.size,
            "country": rr.country,
            "institution": rr.institution,
            "questionnaire_id": meta.get("questionnaire_id"),
            "questionnaire_version": meta.get("questionnaire_version"),
            "definition_hash": meta.get("definition_hash"),
            "round": meta.get("round"),
            "generated_at": meta.get("generated_at"),
            "received_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            "respondent_date": rr.respondent_date,
            "saved_at": rr.saved_at,
            "status": result.status,
            "errors": [f.to_dict() for f in result.errors],
            "warnings": [f.to_dict() for f in result.warnings],
            "missing": [f.to_dict() for f in result.missing],
        }
        answers = [
            {
                "item_id": a.item.id,
                "section": a.item.section,
                "area": a.item.area,
                "component": a.item.component,
                "type": a.item.type,
                "value": a.value,
                "raw": a.raw,
                "sheet": a.sheet,
                "cell": a.cell,
                "question_id": a.item.qid,
                "role": a.item.role or "",
            }
            for a in rr.answers.values()
        ]
        rid, superseded = store.insert_return(conn, fields, answers, rr.personal or None)
        result.return_id, result.superseded = rid, superseded
        counts = store.answer_counts(conn, [rid, *superseded])
        fewer = [(old, counts[old]) for old in superseded if counts[old] > counts[rid]]
        if fewer:  # the replace rule stands, but a resend that lost answers is said, not silent
            old, had = max(fewer, key=lambda f: f[1])
            warning = finding(
                "fewer-answers", file=rr.path.name, severity="warning", found=counts[rid], had=had, old=old
            )
            result.warnings.append(warning)
            conn.execute(
                "UPDATE returns SET warnings = ? WHERE id = ?",
                (json.dumps([f.to_dict() for f in result.warnings], ensure_ascii=False), rid),
            )
        mine = store.get(rid)
        if mine is not None and mine.superseded_by is not None:
            newer = store.get(mine.superseded_by)
            result.superseded_by = mine.superseded_by
            result.why = compare_returns(newer.recency, mine.recency)[1] if newer else ""
        elif mine is not None and superseded:
            older = store.get(superseded[0])
            result.why = compare_returns(mine.recency, older.recency)[1] if older else ""
    return result


def ingest(
    paths: Iterable[Path],
    workspace: Workspace,
    strict: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
    max_size: int = MAX_SIZE,
    on_file: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest every return found under ``paths`` into the workspace store."""
    files = collect_files(paths)
    exports = [f for f in files if is_export(f)]  # one file, many submissions: consult.intake.submissions
    files = [f for f in files if f not in exports]
    definitions = known_definitions(workspace)
    invited = {c: workspace.invited_for(c) for c in workspace.countries} if workspace.configured else None
    _init_worker(definitions, workspace.round, invited, max_size, workspace.seal_key)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(files) >= 16 else 1
    results = []
    with Store(workspace.db_path) as store:
        web = read_exports(exports, workspace.definition, definitions, workspace.round, invited, max_size)
        for rr in chain(_read_all(files, workers), web):
            result = record(store, rr, strict, dry_run)
            results.append(result)
            if on_file:
                on_file(result)
    return results
