"""Definition snapshots: every definition a form was generated from, kept by hash in the workspace.

A return is read with the definition its form was made from, not the one the workspace has
now: the questionnaire may change between the forms going out and the last return coming back
(an edit, ``consult definitions update``). So ``generate`` keeps a copy of the definition it
used (:func:`remember_definition`), and ingest, feedback and export look a return's definition
up among them (:func:`known_definitions`).
"""

from __future__ import annotations

import json
from pathlib import Path

from consult.definitions import Definition, bundled_definition
from consult.errors import ConsultError
from consult.fileio import write_atomic
from consult.workspace.folder import Workspace


def remember_definition(ws: Workspace, definition: Definition) -> Path:
    """Keep the definition a workbook was generated from, so its returns can be read later
    even after the questionnaire changes."""
    path = ws.snapshots_dir / f"{definition.hash}.json"
    if not path.exists():
        write_atomic(path, definition.to_json())
    return path


def known_definitions(ws: Workspace) -> dict[str, Definition]:
    """Every definition a return may belong to: the workspace's current one (which wins, since
    it carries the current roles) and the snapshots of those generated here."""
    found = {}
    if ws.snapshots_dir.is_dir():
        for path in sorted(ws.snapshots_dir.glob("*.json")):
            try:
                definition = Definition.from_raw(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ConsultError(f"{path}: unreadable stored definition ({exc}); delete it") from exc
            found[definition.hash] = definition
    current = ws.definition
    for snapshot in found.values():
        snapshot.questionnaire.adopt_roles(current.questionnaire)
    found[current.hash] = current
    if ws.definitions_dir is not None:  # returns of forms generated before 'consult init' copied them
        bundled = bundled_definition()
        found.setdefault(bundled.hash, bundled)
    return found
