"""The workspace's seal key: ``.consult/secret``, made once, readable by its owner only.

The key seals the metadata of every form the workspace generates (:mod:`consult.seal`), so that a
return can be told from a forged one. It is made on first use, never overwritten (``consult init
--force`` keeps it: forms already sent stay valid), and a workspace that issued forms before keys
existed keeps accepting those (with a warning) through its ``legacy_until`` time.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from consult.errors import ConsultError
from consult.seal import SealKey
from consult.workspace.layout import CONFIG, DB, PRIVATE, SECRET, SNAPSHOTS


def has_history(root: Path) -> bool:
    """Whether ``root`` was a workspace before it had a seal key (settings, a store or the
    definitions of generated forms): forms sealed the old way may then be genuine."""
    return any((root / name).exists() for name in (CONFIG, DB, SNAPSHOTS))


def load_secret(root: Path) -> SealKey | None:
    """The workspace's seal key, or None when it has none yet."""
    path = root / PRIVATE / SECRET
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConsultError(
            f"cannot read the workspace key {path} ({exc}): it must be readable by you; restore it from a backup"
        ) from exc
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    try:
        secret = bytes.fromhex(fields.get("key", ""))
    except ValueError:
        secret = b""
    if len(secret) < 32:
        raise ConsultError(
            f"the workspace key {path} is damaged: restore it from a backup (without it, the forms "
            "generated here cannot be told apart from forged ones)"
        )
    return SealKey(secret, fields.get("legacy_until") or None)


def create_secret(root: Path, legacy: bool = False, secret: bytes | None = None) -> SealKey:
    """Make the workspace's seal key: 32 random bytes in ``.consult/secret``, readable by the
    owner only (0600). Written beside it and linked into place, so a concurrent command either
    makes it or reads the one made first, never half a file. ``legacy``: the workspace already
    issued forms sealed the old way, which stay acceptable (with a warning) if generated before now.
    ``secret``: a given key instead of a random one (only the demo, with the public example key)."""
    folder = root / PRIVATE
    path = folder / SECRET
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    lines = [
        "# consult: the key that seals this workspace's questionnaires (HMAC-SHA256).",
        "# Private: never send, share or export it. Without it, returns of the forms generated here are refused.",
        f"key={(secret or secrets.token_bytes(32)).hex()}",
        f"created={now}",
    ]
    if legacy:
        lines.append(f"legacy_until={now}")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="ascii")  # a workspace kept in git never commits its key
        tmp = folder / f".{SECRET}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write("\n".join(lines) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another command made it first: use that one
            except OSError:  # a file system without hard links (some network shares)
                if not path.exists():
                    os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise ConsultError(
            f"cannot create the workspace key in {folder} ({exc.strerror or exc}): make the workspace writable"
        ) from exc
    key = load_secret(root)
    if key is None:
        raise ConsultError(f"the workspace key {path} vanished while it was made; run the command again")
    return key
