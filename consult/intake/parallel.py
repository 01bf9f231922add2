"""Reading returned workbooks, in this process or in reader processes.

Reading is the slow part of ingest (unzip + XML), and it needs no store: every reader is given
the definitions and the round once (:class:`ReaderSetup`), here or when a worker process starts,
then reads files in batches. A worker sends each return back as plain data
(:class:`PackedReturn`, :class:`PackedAnswer`: the definition by its hash, the items by id), which
this process unpacks against its own definitions; :mod:`consult.intake.ingest` records them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from consult.definitions import Definition, form_for
from consult.errors import Finding
from consult.intake.reader import Answer, ReadReturn, read_return
from consult.seal import SealKey
from consult.workers import ProcessJob, worker_pool


class ReaderSetup(NamedTuple):
    """What every reader is given once, before any file: in this process, or sent to each
    worker process when it starts."""

    definitions: dict[str, Definition]  # by hash: every definition a return may belong to
    round_id: str
    invited: dict[str, list[str]] | None  # institutions invited per country (None: any)
    max_size: int
    seal_key: SealKey | None = None


class PackedAnswer(NamedTuple):
    """One answer as a worker sends it back: its item by id, not the item itself."""

    item_id: str
    value: Any
    raw: str
    sheet: str
    cell: str


class PackedReturn(NamedTuple):
    """A return as a worker sends it back: plain data, its definition by hash (a
    :class:`ReadReturn` holds the definition and the form's items, which would cost ~100 KB of
    pickling per return); :func:`_unpack` makes the :class:`ReadReturn` again."""

    path: Path
    sha256: str
    size: int
    meta: dict[str, str]
    definition_hash: str | None
    answers: list[PackedAnswer]
    personal: dict[str, Any]
    errors: list[Finding]
    missing: list[Finding]
    warnings: list[Finding]
    saved_at: str | None


_SETUP: ProcessJob[ReaderSetup] = ProcessJob("reader setup")  # this process's (each worker has its own)


def init_worker(setup: ReaderSetup) -> None:
    _SETUP.set(setup)


def _current() -> ReaderSetup:
    return _SETUP.get()


def _read(path: Path) -> ReadReturn:
    setup = _current()
    return read_return(
        path, setup.definitions, setup.round_id, setup.invited, max_size=setup.max_size, seal_key=setup.seal_key
    )


def _read_packed(path: Path) -> PackedReturn:
    """Read in a worker and send back plain data (see :class:`PackedReturn`)."""
    rr = _read(path)
    return PackedReturn(
        path=rr.path,
        sha256=rr.sha256,
        size=rr.size,
        meta=rr.meta,
        definition_hash=rr.definition.hash if rr.definition is not None else None,
        answers=[PackedAnswer(iid, a.value, a.raw, a.sheet, a.cell) for iid, a in rr.answers.items()],
        personal=rr.personal,
        errors=rr.errors,
        missing=rr.missing,
        warnings=rr.warnings,
        saved_at=rr.saved_at,
    )


def _unpack(packed: PackedReturn) -> ReadReturn:
    rr = ReadReturn(
        path=packed.path,
        sha256=packed.sha256,
        size=packed.size,
        meta=packed.meta,
        personal=packed.personal,
        errors=packed.errors,
        missing=packed.missing,
        warnings=packed.warnings,
        saved_at=packed.saved_at,
    )
    if packed.definition_hash is not None:
        rr.definition = _current().definitions[packed.definition_hash]
        form = form_for(rr.definition, packed.meta["country"], packed.meta["institution"])
        for a in packed.answers:
            rr.answers[a.item_id] = Answer(form.item_by_id[a.item_id], a.value, a.raw, a.sheet, a.cell)
    return rr


def _read_batch(paths: list[Path]) -> list[PackedReturn]:
    return [_read_packed(p) for p in paths]


def read_all(files: list[Path], workers: int) -> Iterator[ReadReturn]:
    """Read returns in file order; with workers, at most a few batches per worker are in
    flight, so that memory stays flat however many files there are (``Executor.map`` would
    submit them all at once and hold every result the store has not yet taken)."""
    if workers <= 1 or len(files) < 8:
        yield from map(_read, files)
        return
    size = max(1, min(8, len(files) // (workers * 8)))
    batches = (files[i : i + size] for i in range(0, len(files), size))
    with worker_pool(workers, init_worker, (_current(),)) as pool:
        for packed_batch in pool.imap(_read_batch, batches, ahead=workers * 3):
            for packed in packed_batch:
                yield _unpack(packed)
