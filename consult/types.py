"""The closed vocabularies that cross module boundaries, as ``Literal`` types.

A return's status, a finding's severity, a question's type and the channel a return came by
are words stored in ``consult.db`` and compared all over the package; spelled once here, a
typo (``"acepted"``) is a type error that mypy reports, not a branch that never runs. The
tuples beside them are the same words at run time (``get_args``), for checks and loops.
"""

from __future__ import annotations

from typing import Literal, get_args

# A return as stored: the CHECK constraint of ``returns.status`` in consult/store/schema.py.
ReturnStatus = Literal["accepted", "incomplete", "rejected", "superseded"]
# What ingest says of one file: a stored status, or one of the outcomes that store nothing new
# (already ingested, held back for having fewer answers, unreadable on this computer).
IngestStatus = Literal["accepted", "incomplete", "rejected", "superseded", "duplicate", "held", "unreadable"]
# "missing" is a required answer left blank: it makes a return incomplete, not rejected
Severity = Literal["error", "warning", "missing"]
QuestionType = Literal["rating", "single", "multiple", "rank", "text", "number", "date"]
Channel = Literal["excel", "kobo", "odk"]

RETURN_STATUSES: tuple[ReturnStatus, ...] = get_args(ReturnStatus)
CURRENT_STATUSES: tuple[ReturnStatus, ...] = ("accepted", "incomplete")
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
QUESTION_TYPES: tuple[QuestionType, ...] = get_args(QuestionType)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
