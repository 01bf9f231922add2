"""A workspace: one consultation round in one folder (``consult.yaml``, ``consult.db`` and
the round's own questionnaire definitions).

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
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from consult.definitions import Definition, DefinitionError, bundled_definition, load_definition
from consult.definitions.schema import check_schema
from consult.definitions.yamlsource import YamlSource, load_yaml
from consult.errors import ConsultError, Finding
from consult.fileio import write_atomic
from consult.resources import data_dir
from consult.seal import SealKey

if TYPE_CHECKING:
    from consult.store import Store

CONFIG = "consult.yaml"
DB = "consult.db"
DEFINITIONS = "questionnaires"
# Copying a definitions folder leaves out caches and the tool's own problem catalogue
# (consult.problems reads it from the bundled folder only: a round's copy would never be read).
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "problems.yaml")
SNAPSHOTS = "definitions"
PRIVATE = ".consult"  # the workspace's private folder: the seal key; never exported, never in a form
SECRET = "secret"
DEFAULT_ROUND = "roca-2021-2025"
DEFAULT_TITLE = {
    "en": "National consultations on the UNODC Programme for Central Asia 2021-2025",
    "ru": "Национальные консультации по Программе ЮНОДК для Центральной Азии на 2021-2025 годы",
}


class WorkspaceError(DefinitionError):
    """``consult.yaml`` is invalid; ``findings`` says where (file:line:column)."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        ConsultError.__init__(self, self.text_in("en"))

    def text_in(self, lang: str) -> str:
        lines = "\n".join(f"{f.location}: {f.message_in(lang)} (fix: {f.fix_in(lang)})" for f in self.findings)
        return f"invalid workspace settings:\n{lines}"


@dataclass
class Workspace:
    root: Path
    round: str = DEFAULT_ROUND
    title: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TITLE))
    deadline: str | None = None
    contact: str | None = None
    languages: list[str] = field(default_factory=lambda: ["en", "ru"])
    countries: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)
    invited: dict[str, list[str]] = field(default_factory=dict)
    configured: bool = False
    definitions_dir: Path | None = None  # the workspace's own YAML definitions; None: bundled

    @property
    def db_path(self) -> Path:
        return self.root / DB

    @property
    def snapshots_dir(self) -> Path:
        """Copies of every definition a workbook was generated from (by hash)."""
        return self.root / SNAPSHOTS

    @property
    def secret_path(self) -> Path:
        return self.root / PRIVATE / SECRET

    @cached_property
    def seal_key(self) -> SealKey:
        """The key that seals this workspace's forms; a workspace made before keys existed gets
        one on first use (forms it generated before then keep their old seal, accepted with a
        warning)."""
        return load_secret(self.root) or create_secret(self.root, legacy=has_history(self.root))

    @cached_property
    def definition(self) -> Definition:
        """The definitions every command of this workspace uses."""
        if self.definitions_dir is None:
            return bundled_definition()
        return load_definition(self.definitions_dir)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or next(iter(self.title.values()), "")

    def invited_for(self, country: str) -> list[str]:
        """Institutions invited in ``country`` (the per-country list, else the common one)."""
        return list(self.invited.get(country, self.institutions))

    def to_config(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "round": self.round,
            "title": self.title,
            "deadline": self.deadline,
            "contact": self.contact,
        }
        if self.definitions_dir is not None:
            folder, root = self.definitions_dir.resolve(), self.root.resolve()
            data["definitions"] = str(folder.relative_to(root) if folder.is_relative_to(root) else folder)
        data.update(
            languages=self.languages, countries=self.countries, institutions=self.institutions, invited=self.invited
        )
        return data


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


def open_store(ws: Workspace, write: bool = False) -> Store:
    """The workspace's store, for the commands that read it (``write=True`` for those that write).

    Reading opens ``consult.db`` read-only (no WAL switch, no write lock, nothing created), so a
    read-only copy of a workspace serves the drafter. A store that needs an upgrade (an older
    schema, or roles of answers stored before roles existed) is upgraded once, in a write
    transaction, then reopened read-only; when it cannot be written, the error says so.
    """
    from consult.store import Store, StoreError

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
