"""``consult.yaml``: a round's settings, read and checked, and a new workspace made.

``consult init`` copies the bundled definitions into ``questionnaires/`` of the workspace and
names that folder in ``consult.yaml`` (``definitions:``), so a facilitator edits the round's
questionnaire there, never in the installed package; every command then reads the
workspace's definitions. Without ``consult.yaml`` the bundled defaults apply, so
``consult generate --all`` works in any directory.

``consult.yaml`` is checked like the definitions: JSON Schema, then the cross-references
(countries, institutions and languages the definitions know), every problem at once with
``consult.yaml:line:column``, before any work is done.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import yaml

from consult.definitions import Definition, DefinitionError, bundled_definition, load_definition
from consult.definitions.schema import check_schema
from consult.definitions.yamlsource import YamlSource, load_yaml
from consult.errors import ConsultError, Finding
from consult.fileio import write_atomic
from consult.resources import data_dir
from consult.workspace.folder import Workspace
from consult.workspace.keys import create_secret, has_history, load_secret
from consult.workspace.layout import CONFIG, DEFINITIONS, NOT_COPIED


class WorkspaceError(DefinitionError):
    """``consult.yaml`` is invalid; ``findings`` says where (file:line:column)."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        ConsultError.__init__(self, self.text_in("en"))

    def text_in(self, lang: str) -> str:
        lines = "\n".join(f"{f.location}: {f.message_in(lang)} (fix: {f.fix_in(lang)})" for f in self.findings)
        return f"invalid workspace settings:\n{lines}"


def _defaults(root: Path, definition: Definition) -> Workspace:
    fw = definition.framework
    return Workspace(
        root=root,
        languages=list(fw.languages),
        countries=[c.code for c in fw.countries],
        institutions=[i.id for i in fw.institutions],
    )


def _plain(value: Any) -> Any:
    """YAML dates as ISO strings, so the schema sees what the user meant."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def check_config(src: YamlSource, definition: Definition) -> list[Finding]:
    """Cross-references of ``consult.yaml`` against the definitions it will run with."""
    data = src.data
    fw = definition.framework
    out: list[Finding] = []

    def unknown(path: tuple[Any, ...], kind: str, ident: str, known: list[str]) -> None:
        out.append(src.finding("unknown-ref", path, kind=kind, id=ident, where="", known=", ".join(known)))

    countries = [c.code for c in fw.countries]
    institutions = [i.id for i in fw.institutions]
    for i, code in enumerate(data.get("countries") or []):
        if code not in countries:
            unknown(("countries", i), "country", code, countries)
    round_countries = data.get("countries") or countries
    for i, inst in enumerate(data.get("institutions") or []):
        if inst not in institutions:
            unknown(("institutions", i), "institution", inst, institutions)
    for code, insts in (data.get("invited") or {}).items():
        if code not in round_countries:
            unknown(("invited", code), "country of this round", code, round_countries)
        for i, inst in enumerate(insts or []):
            if inst not in institutions:
                unknown(("invited", code, i), "institution", inst, institutions)
    for i, lang in enumerate(data.get("languages") or []):
        if lang not in fw.languages:
            unknown(("languages", i), "language (not in the definitions' framework.yaml)", lang, fw.languages)
    return out


def open_workspace(root: Path, definition: Definition | None = None) -> Workspace:
    """The workspace at ``root``; defaults when it has no ``consult.yaml``. Raises
    :class:`WorkspaceError` listing every problem of ``consult.yaml``."""
    path = root / CONFIG
    if not path.exists():
        return _defaults(root, definition or bundled_definition())
    src = load_yaml(path)
    if src.data is None and not src.findings:
        src.data = {}
    if src.findings:
        raise WorkspaceError(src.findings)
    if not isinstance(src.data, dict):
        raise WorkspaceError([src.finding("schema", (), detail="expected a mapping of settings (key: value)")])
    src.data = _plain(src.data)
    findings = check_schema(src, "consult")
    if findings:
        raise WorkspaceError(findings)
    data = src.data
    folder = None
    if data.get("definitions"):
        folder = (root / data["definitions"]).resolve()
        if not (folder / "questionnaire.yaml").exists():
            raise WorkspaceError(
                [
                    src.finding(
                        "unknown-ref",
                        ("definitions",),
                        kind="definitions folder",
                        id=data["definitions"],
                        where=f" (no questionnaire.yaml in {folder})",
                        known="a folder made by 'consult init', or remove the key to use the bundled definitions",
                    )
                ]
            )
    if definition is None:
        definition = load_definition(folder) if folder else bundled_definition()
    findings = check_config(src, definition)
    if findings:
        raise WorkspaceError(findings)
    ws = _defaults(root, definition)
    ws.definitions_dir = folder
    ws.__dict__["definition"] = definition  # already loaded: the cached property is set
    for key in ("round", "deadline", "contact"):
        if data.get(key) is not None:
            setattr(ws, key, str(data[key]))
    if data.get("title"):
        title = data["title"]
        ws.title = {"en": title} if isinstance(title, str) else {str(k): str(v) for k, v in title.items()}
    for key in ("languages", "countries", "institutions"):
        if data.get(key):
            setattr(ws, key, [str(v) for v in data[key]])
    ws.invited = {str(k): [str(v) for v in vs or []] for k, vs in (data.get("invited") or {}).items()}
    ws.configured = True
    return ws


def workspace_definitions_dir(root: Path) -> Path | None:
    """The definitions folder ``consult.yaml`` names, read leniently (for ``consult validate``,
    which must report a broken questionnaire even when the settings file is broken too)."""
    try:
        data = yaml.safe_load((root / CONFIG).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if isinstance(data, dict) and isinstance(data.get("definitions"), str):
        folder = root / data["definitions"]
        return folder if folder.is_dir() else None
    return None


def copy_definitions(target: Path, source: Path | None = None) -> Path:
    """Copy a definitions folder (default: the bundled one), YAML and JSON Schemas, to ``target``."""
    source = source or data_dir("questionnaires")
    if target.exists() and any(target.iterdir()):
        raise ConsultError(f"{target} already exists and is not empty; remove it or choose another folder")
    shutil.copytree(source, target, ignore=NOT_COPIED)
    return target


def init_workspace(
    root: Path,
    round_id: str | None = None,
    title: str | dict[str, str] | None = None,
    deadline: dt.date | None = None,
    countries: list[str] | None = None,
    force: bool = False,
    definitions: Path | None = None,
    copy: bool = True,
) -> Workspace:
    """Create ``consult.yaml``, the round's own definitions and the store; refuses to
    overwrite an existing round. ``definitions`` names a folder to copy (default: bundled);
    ``copy=False`` keeps the workspace on the bundled definitions."""
    path = root / CONFIG
    if path.exists() and not force:
        raise ConsultError(f"{path} already exists; use --force to overwrite its settings")
    root.mkdir(parents=True, exist_ok=True)
    if load_secret(root) is None:  # --force keeps the key: forms already sent stay valid
        create_secret(root, legacy=has_history(root))
    folder: Path | None = None
    if copy:
        folder = root / DEFINITIONS
        if not (folder / "questionnaire.yaml").exists():
            copy_definitions(folder, definitions)
    definition = load_definition(folder) if folder else bundled_definition()
    ws = _defaults(root, definition)
    ws.definitions_dir = folder
    if round_id:
        ws.round = round_id
    if title:
        ws.title = {"en": title} if isinstance(title, str) else dict(title)
    if deadline:
        ws.deadline = deadline.isoformat()
    if countries:
        ws.countries = countries
    header = (
        "# consult workspace: one consultation round.\n"
        "# definitions: this round's questionnaire (edit it there; 'consult validate' checks it).\n"
        "# title: one text per language. invited: per-country institution lists, overriding 'institutions'.\n"
    )
    body = yaml.safe_dump(ws.to_config(), allow_unicode=True, sort_keys=False)
    write_atomic(path, header + body)
    ws.configured = True
    from consult.store import Store

    Store(ws.db_path).close()
    return ws
