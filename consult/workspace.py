"""A workspace: one consultation round in one folder (``consult.yaml`` + ``consult.db``).

Without ``consult.yaml`` the bundled defaults apply, so ``consult generate --all`` works in
any directory; ``consult init`` writes the file so the round can be named and tuned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from consult.definitions import Definition, bundled_definition
from consult.errors import ConsultError
from consult.fileio import write_atomic

CONFIG = "consult.yaml"
DB = "consult.db"
DEFAULT_ROUND = "roca-2021-2025"


@dataclass
class Workspace:
    root: Path
    round: str = DEFAULT_ROUND
    title: str = "National consultations on the UNODC Programme for Central Asia 2021-2025"
    deadline: str | None = None
    contact: str | None = None
    languages: list[str] = field(default_factory=lambda: ["en", "ru"])
    countries: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)
    invited: dict[str, list[str]] = field(default_factory=dict)
    configured: bool = False

    @property
    def db_path(self) -> Path:
        return self.root / DB

    @property
    def definitions_dir(self) -> Path:
        return self.root / "definitions"

    def invited_for(self, country: str) -> list[str]:
        """Institutions invited in ``country`` (the per-country list, else the common one)."""
        return list(self.invited.get(country, self.institutions))

    def to_config(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "title": self.title,
            "deadline": self.deadline,
            "contact": self.contact,
            "languages": self.languages,
            "countries": self.countries,
            "institutions": self.institutions,
            "invited": self.invited,
        }


def _defaults(root: Path, definition: Definition) -> Workspace:
    fw = definition.framework
    return Workspace(
        root=root,
        languages=list(fw.languages),
        countries=[c.code for c in fw.countries],
        institutions=[i.id for i in fw.institutions],
    )


def open_workspace(root: Path, definition: Definition | None = None) -> Workspace:
    """The workspace at ``root``; defaults when it has no ``consult.yaml``."""
    definition = definition or bundled_definition()
    ws = _defaults(root, definition)
    path = root / CONFIG
    if not path.exists():
        return ws
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConsultError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConsultError(f"{path}: expected a mapping of settings")
    fw = definition.framework
    for key in ("round", "title", "deadline", "contact"):
        if data.get(key) is not None:
            setattr(ws, key, str(data[key]))
    for key in ("languages", "countries", "institutions"):
        if data.get(key):
            setattr(ws, key, [str(v) for v in data[key]])
    ws.invited = {str(k): [str(v) for v in vs] for k, vs in (data.get("invited") or {}).items()}
    unknown = [c for c in ws.countries if c not in fw.country_by_code]
    unknown += [i for i in ws.institutions if i not in fw.institution_by_id]
    unknown += [i for vs in ws.invited.values() for i in vs if i not in fw.institution_by_id]
    if unknown:
        raise ConsultError(
            f"{path}: unknown country or institution id(s): {', '.join(unknown)}; use the ids of framework.yaml"
        )
    ws.configured = True
    return ws


def init_workspace(
    root: Path,
    round_id: str | None = None,
    title: str | None = None,
    deadline: dt.date | None = None,
    countries: list[str] | None = None,
    force: bool = False,
) -> Workspace:
    """Create ``consult.yaml`` and the store; refuses to overwrite an existing round."""
    path = root / CONFIG
    if path.exists() and not force:
        raise ConsultError(f"{path} already exists; use --force to overwrite its settings")
    root.mkdir(parents=True, exist_ok=True)
    ws = _defaults(root, bundled_definition())
    if round_id:
        ws.round = round_id
    if title:
        ws.title = title
    if deadline:
        ws.deadline = deadline.isoformat()
    if countries:
        ws.countries = countries
    header = (
        "# consult workspace: one consultation round.\n"
        "# invited: per-country institution lists, overriding 'institutions' for that country.\n"
    )
    body = yaml.safe_dump(ws.to_config(), allow_unicode=True, sort_keys=False)
    write_atomic(path, header + body)
    ws.configured = True
    from consult.store import Store

    Store(ws.db_path).close()
    return ws


def remember_definition(ws: Workspace, definition: Definition) -> Path:
    """Keep the definition a workbook was generated from, so its returns can be read later
    even after the bundled questionnaire changes."""
    path = ws.definitions_dir / f"{definition.hash}.json"
    if not path.exists():
        write_atomic(path, definition.to_json())
    return path


def known_definitions(ws: Workspace) -> dict[str, Definition]:
    """Every definition a return may belong to: the bundled one and those generated here."""
    found = {}
    if ws.definitions_dir.is_dir():
        import json

        for path in sorted(ws.definitions_dir.glob("*.json")):
            try:
                definition = Definition.from_raw(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ConsultError(f"{path}: unreadable stored definition ({exc}); delete it") from exc
            found[definition.hash] = definition
    bundled = bundled_definition()
    found[bundled.hash] = bundled
    return found
