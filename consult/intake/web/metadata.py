"""What a server says about a submission: its own columns, its identity, time, version and review.

Identity: a submission's root id (Kobo ``meta/rootUuid`` or ``_uuid``; Central ``KEY``, which
stays the first instance id across edits) names the stored return (``kobo:<id>``,
``odk:<id>``). Which version of one submission is newer is decided by the content (Central
``Edits`` and ``ReviewState``, Kobo ``_submission_time`` and an ``_uuid`` other than the root),
never by a file name or ingest order. A reviewer's decision (Kobo ``_validation_status``,
Central ``ReviewState``) is read as one word, whatever way the server wrote it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from consult.intake.values import raw_text
from consult.types import Channel

KOBO_COPY = (
    "_id",
    "_uuid",
    "meta/rootUuid",
    "rootUuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
    "_parent_index",
    "_parent_table_name",
)
ODK_META = (
    "SubmissionDate",
    "meta-instanceID",
    "instanceID",
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
METADATA = {*KOBO_COPY, *ODK_META, "meta/instanceID", "meta-rootUuid", "meta/deprecatedID", "meta-deprecatedID"}
KOBO_COLUMNS = {"_uuid", "_submission_time", "_id", "_index", "_validation_status", "__version__"}
ODK_COLUMNS = {"SubmissionDate", "KEY", "ReviewState", "FormVersion", "Edits"}
# the id a submission was first submitted with: stable across edits (the first one present)
ROOT_COLUMNS = {"kobo": ("meta/rootUuid", "rootUuid", "_uuid"), "odk": ("KEY", "meta-instanceID", "instanceID")}
TIME_COLUMNS = ("_submission_time", "SubmissionDate")
# reviewers' decisions: Kobo _validation_status (uid with XML values, label otherwise), Central ReviewState
REVIEW_COLUMN = {"kobo": "_validation_status", "odk": "ReviewState"}
REJECTED = {"not_approved", "rejected"}
DOUBTED = {"on_hold", "hasissues", "has_issues"}
NOT_DECRYPTED = {"not decrypted", "missing encrypted form data"}


def is_metadata(head: str) -> bool:
    """A column the server adds, not a question: the copy fields and Central's columns, any
    ``_``-prefixed one (kpi and KoboCAT add more over time: ``_attachments``...), and the
    form's ``meta`` group (``meta-instanceID``, ``meta-instanceName``, ``meta/rootUuid``)."""
    if head in METADATA or head.startswith("_") or head in ("instanceName", "deprecatedID"):
        return True
    return bool(re.match(r"^(meta|formhub)[^A-Za-z0-9_]", head))


def moment(value: Any) -> dt.datetime | None:
    """A server timestamp: Kobo ``2026-05-04T09:12:45`` (UTC), Central ``2026-05-04T09:12:45.123Z``
    (Python 3.10's fromisoformat does not take the ``Z``), or a spreadsheet date-time."""
    if isinstance(value, dt.datetime):
        found = value
    else:
        stamp = raw_text(value).strip()
        if stamp.endswith(("Z", "z")):
            stamp = stamp[:-1] + "+00:00"
        match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", stamp)
        if match and match.group(2):  # 3.10 takes 3 or 6 fraction digits only
            stamp = match.group(1) + (match.group(2) + "000000")[:7] + match.group(3)
        try:
            found = dt.datetime.fromisoformat(stamp)
        except ValueError:
            return None
    if found.tzinfo is not None:
        found = found.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return found.replace(microsecond=0)


def timestamp(value: Any) -> str:
    """A submission time as UTC ISO text ('' when absent), for ordering and for the store."""
    at = moment(value)
    return at.isoformat() if at is not None else raw_text(value).strip()


def saved_time(stamp: str, rank: int) -> str | None:
    """The stored saved time: the submission time, with the version rank of an edit as
    microseconds, so that of two versions with one submission time (Central keeps
    ``SubmissionDate`` on edit) the edited one is the newer, in any ingest order."""
    try:
        at = dt.datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None
    if at is None:
        return None
    return at.replace(microsecond=min(rank, 999_999), tzinfo=dt.timezone.utc).isoformat()


def instance_id(value: Any) -> str:
    """An instance id as the servers write it, without ODK's ``uuid:`` prefix."""
    return raw_text(value).strip().removeprefix("uuid:")


def review_word(value: Any) -> str:
    """A reviewer's decision as one word: Kobo ``validation_status_not_approved`` or "Not
    approved" and Central ``rejected`` / ``hasIssues`` become ``not_approved`` / ``hasissues``."""
    word = raw_text(value).strip().lower().removeprefix("validation_status_")
    return re.sub(r"\s+", "_", word)


def review_shown(value: Any) -> str:
    """A reviewer's decision as the server's page shows it: Kobo's uid ``validation_status_on_hold``
    (an export with XML values) as "On hold"; labels and Central's states as they are."""
    found = raw_text(value).strip()
    if found.startswith("validation_status_"):
        return found.removeprefix("validation_status_").replace("_", " ").capitalize()
    return found


class Identity(NamedTuple):
    """Which submission a row is and which version of it: its root id ('' when none), its
    submission time (UTC ISO text), the reviewer's decision as one word, and its version rank
    (higher is newer among versions with one submission time)."""

    root: str
    when: str
    review: str
    rank: int


def identify(channel: Channel, value: Callable[[str], Any]) -> Identity:
    """The identity of one submission, ``value(column)`` giving its cell in that column (None
    when the column is absent or the cell blank)."""
    root = next((instance_id(v) for c in ROOT_COLUMNS[channel] if (v := value(c))), "")
    when = timestamp(next((v for c in TIME_COLUMNS if (v := value(c))), ""))
    review = review_word(value(REVIEW_COLUMN[channel]))
    if channel == "odk":  # Central: the number of edits; an edit not yet counted says "edited"
        edits = raw_text(value("Edits")).strip()
        rank = 2 * (int(edits) if edits.isdigit() else 0) + (1 if review == "edited" else 0)
    else:  # Kobo: an edit gets a new _uuid, its root stays in meta/rootUuid
        uuid = instance_id(value("_uuid"))
        rank = 1 if uuid and root and uuid != root else 0
    return Identity(root, when, review, rank)
