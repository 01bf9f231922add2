"""The workbook layout that the writer and the reader share: sheet names, rows, columns, seal.

Only what both sides must agree on lives here, so that a change to the form's look cannot
silently change how returns are read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field

from consult.definitions.framework import text

META_SHEET = "_consult"
LISTS_SHEET = "_lists"
FORMAT = "consult-questionnaire/1"
HEADER_ROW = 3
FIRST_ROW = 4


@dataclass
class Layout:
    """Column positions for a given set of languages."""

    langs: list[str]

    @property
    def label_cols(self) -> list[int]:
        return [4 + i for i in range(len(self.langs))]

    @property
    def answer_col(self) -> int:
        return 4 + len(self.langs)

    @property
    def hint_col(self) -> int:
        return self.answer_col + 1


def joined(label: dict[str, str], langs: list[str], sep: str = " / ") -> str:
    """A label in every language asked for, side by side."""
    parts = []
    for lang in langs:
        value = text(label, lang)
        if value not in parts:
            parts.append(value)
    return sep.join(parts)


@dataclass(frozen=True)
class SealKey:
    """A workspace's secret for sealing its forms (HMAC-SHA256), kept in the workspace, never
    in a form. Only its ``id`` (a digest of it, which reveals nothing) is written into a form,
    so that a form from another workspace can be told apart from a relabelled one.

    ``legacy_until``: for a workspace that existed before forms were keyed, the time its key
    was made; forms generated before then may carry the old unkeyed seal."""

    secret: bytes = field(repr=False)
    legacy_until: str | None = None

    @property
    def id(self) -> str:
        return hashlib.sha256(b"consult seal key\0" + self.secret).hexdigest()[:16]

    def may_be_unkeyed(self, generated_at: str) -> bool:
        """Whether a form generated at ``generated_at`` (from its metadata) may predate keyed
        seals; an unparseable time never does."""
        if self.legacy_until is None:
            return False
        try:
            made = dt.datetime.fromisoformat(generated_at)
            until = dt.datetime.fromisoformat(self.legacy_until)
            if made.tzinfo is None:
                made = made.replace(tzinfo=dt.timezone.utc)
            return made < until
        except (TypeError, ValueError):
            return False


def seal(meta: dict[str, str], key: SealKey | None = None) -> str:
    """The seal of the metadata (every row but ``seal``). With the workspace key it is an
    HMAC-SHA256 that nobody without the key can recompute, so a relabelled form (country,
    institution, round, answer column changed) is detected. Without a key it is the plain
    SHA-256 of consult 0.1 forms: it catches a careless edit, not a forgery."""
    if key is None:
        body = "\n".join(f"{k}={meta[k]}" for k in sorted(meta) if k != "seal")
        return hashlib.sha256(body.encode("utf-8")).hexdigest()
    # canonical JSON, not "k=v" lines: no value can be re-split into other rows under the same MAC
    rows = {k: v for k, v in meta.items() if k != "seal"}
    body = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key.secret, body.encode("utf-8"), hashlib.sha256).hexdigest()
