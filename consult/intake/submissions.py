"""Reading KoboToolbox and ODK Central exports: every submission becomes a :class:`ReadReturn`.

The web channel must not be a second set of rules: a submission is checked against the same
resolved :class:`~consult.definitions.questionnaire.Form`, by the same pure parsers
(:mod:`consult.intake.values`), and reported with the same finding codes as a workbook, located
by export row and column header instead of sheet and cell.

This module is the channel's entry: which files are exports (:func:`is_export`), and every
submission of every export in the order that decides which one counts (:func:`read_exports`).
The parts are in :mod:`consult.intake.web`: ``export`` (recognising and opening an export:
CSV, .xlsx, an ODK Central .zip), ``metadata`` (the servers' own columns: a submission's
identity, time, version and review), ``columns`` (which header is which field), ``answers``
(a submission's answers through the one parser) and ``submission`` (each row read into a
return, or the whole file refused).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from consult.definitions import Definition
from consult.errors import Finding
from consult.intake.reader import ReadReturn
from consult.intake.safety import MAX_SIZE
from consult.intake.web.export import Export, is_export, load_export
from consult.intake.web.metadata import ROOT_COLUMNS
from consult.intake.web.submission import ExportReader
from consult.types import CHANNELS, Channel

__all__ = [  # the names other modules and tests import from here, wherever they now live
    "ROOT_COLUMNS",
    "Export",
    "channel_of",
    "is_export",
    "load_export",
    "read_exports",
]


def channel_of(file_name: str) -> Channel:
    """The channel a return came by, from its stored name: ``kobo``, ``odk`` or ``excel`` (a
    workbook). The store keeps it as a column; the schema-5 migration filled that column for the
    returns stored before by the same rule, in SQL (consult/store/schema.py)."""
    prefix = file_name.split(":", 1)[0] if ":" in file_name else ""
    return next((c for c in CHANNELS if c == prefix), "excel")


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
        found += ExportReader(loaded, definition, known, round_id, invited, include_rejected).read()
    found.sort(
        key=lambda rr: (
            rr.meta.get("generated_at") or "",
            int(rr.meta.get("rank") or 0),
            rr.meta.get("instance_id") or "",
            rr.sha256,  # last: the same store whatever the order of files and rows
        )
    )
    yield from found
