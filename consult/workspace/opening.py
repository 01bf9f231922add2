"""Opening a workspace's store for a command: read-only when it only reads, upgraded once when
it was written by an older consult.

A read command never writes: a read-only copy of a workspace on a shared drive still serves the
drafter. A store of an earlier release is upgraded the first time a command opens it, in one
write transaction (its schema by :mod:`consult.store.schema`; the roles of its answers from the
definitions their returns were read with, which only the workspace knows), then read as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from consult.workspace.folder import Workspace
from consult.workspace.snapshots import known_definitions

if TYPE_CHECKING:
    from consult.store import Store


def open_store(ws: Workspace, write: bool = False) -> Store:
    """The workspace's store, for the commands that read it (``write=True`` for those that write).

    Reading opens ``consult.db`` read-only (no WAL switch, no write lock, nothing created), so a
    read-only copy of a workspace serves the drafter. A store that needs an upgrade (an older
    schema, or roles of answers stored before roles existed) is upgraded once, in a write
    transaction, then reopened read-only; when it cannot be written, the error says so.
    """
    from consult.store import Store, StoreError  # on first use: a command that never opens it pays nothing

    store = Store(ws.db_path, readonly=not write)
    try:
        if not store.needs_upgrade and not store.roles_missing():
            return store
    except BaseException:
        store.close()
        raise
    if write:
        _upgrade(ws, store)
        return store
    store.close()
    try:
        with Store(ws.db_path) as upgrading:
            _upgrade(ws, upgrading)
    except StoreError as exc:
        if exc.kind not in ("readonly", "busy"):
            raise
        raise StoreError(
            f"{ws.db_path} was written by an older consult and must be upgraded once before it can be read, "
            f"but it cannot be written here ({exc}). Run this command once where the workspace is writable "
            "(the upgrade keeps every return), then copy it again.",
            "upgrade",
        ) from exc
    return Store(ws.db_path, readonly=True)


def _upgrade(ws: Workspace, store: Store) -> None:
    """Fill the roles of answers stored before roles existed, from the definitions their returns
    were read with, then the respondent's dates that come from those roles."""
    from consult.definitions import form_for

    missing = store.roles_missing()
    if missing:
        definitions = known_definitions(ws)
        updates = []
        for return_id, item_id, digest, country, institution, _qid in missing:
            definition = definitions.get(digest or "")
            item = None
            if definition and country and institution and country in definition.framework.country_by_code:
                item = form_for(definition, country, institution).item_by_id.get(item_id)
            updates.append(((item.role if item else None) or "", return_id, item_id))
        store.fill_roles(updates)
        store.fill_respondent_dates()
