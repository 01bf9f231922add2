"""The workspace's seal: the key that signs its forms and the seal written into each one.

It sits below every stage rather than in ``forms``: the workspace makes and keeps the key,
``forms`` writes the seal, ``intake`` checks it, and none of them should have to import
another stage to share it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field


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
