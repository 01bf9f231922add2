"""``consult definitions update``: move a workspace to a newer definition set, with its mapping.

The returns already ingested are never rewritten: each keeps the definition version it was
read with, and is read through the mapping whenever the round is loaded
(:mod:`consult.analysis.mapped`). Late returns on the old form are still accepted, because the
old definition stays in the workspace's ``definitions/`` snapshots (ingest matches a workbook
to the definition it was generated from), and are mapped alike.

What changes, after a snapshot of everything it touches (``.consult/snapshots/<time>/``:
``consult.yaml``, the definitions folder, ``consult.db``):

* the workspace's definitions folder is replaced by the new set (the mapping is copied to its
  ``mappings/`` if it came from elsewhere);
* ``consult.yaml``: institution ids in ``institutions`` and ``invited`` are renamed through
  the mapping, dropped ones removed (new institutions are listed, never invited unasked);
  a workspace on the bundled definitions gets its own copy (``definitions: questionnaires``).

``plan_update`` says all of this without doing it (``--dry-run``).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from consult.definitions import Definition, bundled_definition, load_definition
from consult.definitions.mapping import MAPPINGS_DIR, Mapping, mapping_between
from consult.errors import ConsultError
from consult.fileio import write_atomic
from consult.store import Store, StoreError, copy_store
from consult.workspace import CONFIG, DEFINITIONS, NOT_COPIED, PRIVATE, Workspace, remember_definition


@dataclass
class UpdatePlan:
    workspace: Path
    old: Definition
    new: Definition
    mapping: Mapping
    folder: Path  # the workspace's definitions folder after the update
    renamed_institutions: dict[str, str] = field(default_factory=dict)
    dropped_institutions: list[str] = field(default_factory=list)
    new_institutions: list[str] = field(default_factory=list)
    returns_mapped: int = 0  # current returns of the old version, read through the mapping from now on
    config: dict[str, Any] = field(default_factory=dict)  # the new consult.yaml settings
    snapshot: Path | None = None  # where the snapshot went (after apply)

    def lines(self) -> list[str]:
        """What the update does, in words."""
        same = self.old.hash == self.new.hash
        out = [
            f"definitions: {self.old.framework.id} ({self.old.hash[:12]}) -> {self.new.framework.id} "
            f"({self.new.hash[:12]})" + (" (already these definitions)" if same else ""),
            f"mapping: {self.mapping.file or 'identity (same framework)'}",
            f"the definitions folder {self.folder} is replaced by {self.new.folder}",
            f"{self.returns_mapped} return(s) already ingested keep their version and are read through the mapping",
            "late returns on the old forms stay accepted (definition snapshot in definitions/) and are mapped",
        ]
        for old, new in self.renamed_institutions.items():
            out.append(f"consult.yaml: institution {old} -> {new}")
        for old in self.dropped_institutions:
            out.append(f"consult.yaml: institution {old} removed (dropped by the mapping)")
        if self.new_institutions:
            listed = ", ".join(self.new_institutions)
            out.append(f"new institutions, not invited (add them to consult.yaml if they are): {listed}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": str(self.workspace),
            "from": {"framework": self.old.framework.id, "hash": self.old.hash},
            "to": {"framework": self.new.framework.id, "hash": self.new.hash, "folder": str(self.new.folder)},
            "mapping": self.mapping.file or None,
            "definitions_folder": str(self.folder),
            "renamed_institutions": self.renamed_institutions,
            "dropped_institutions": self.dropped_institutions,
            "new_institutions": self.new_institutions,
            "returns_mapped": self.returns_mapped,
            "snapshot": str(self.snapshot) if self.snapshot else None,
            "changes": self.lines(),
        }


def _rename(ids: list[str], plan: UpdatePlan) -> list[str]:
    out: list[str] = []
    for ident in ids:
        if ident in plan.dropped_institutions:
            continue
        new = plan.renamed_institutions.get(ident, ident)
        if new not in out:
            out.append(new)
    return out


def plan_update(ws: Workspace, source: Path | None = None, mapping: Path | None = None) -> UpdatePlan:
    """What ``consult definitions update`` would do (``source``: a definitions folder; default
    the bundled one). Raises when the new definitions are invalid or no mapping leads to them."""
    old = ws.definition
    new = load_definition(source) if source else bundled_definition()
    found = mapping_between(old.raw["framework"], new.raw["framework"], new.folder, mapping)
    folder = ws.definitions_dir or ws.root / DEFINITIONS
    plan = UpdatePlan(ws.root, old, new, found, folder)
    new_ids = {i.id for i in new.framework.institutions}
    for inst in old.framework.institutions:
        target = found.institution(inst.id)
        if target is None or target not in new_ids:
            plan.dropped_institutions.append(inst.id)
        elif target != inst.id:
            plan.renamed_institutions[inst.id] = target
    plan.new_institutions = [i for i in found.new.get("institutions", []) if i in new_ids]
    countries = {c.code for c in new.framework.countries}
    missing = [c for c in ws.countries if c not in countries]
    if missing:
        raise ConsultError(
            f"the new definitions have no country {', '.join(missing)} of this round: add them to the new "
            "framework.yaml, or remove them from consult.yaml"
        )
    config = ws.to_config()
    config["institutions"] = _rename(list(ws.institutions), plan)
    config["invited"] = {c: _rename(v, plan) for c, v in ws.invited.items()}
    root, where = ws.root.resolve(), folder.resolve()
    config["definitions"] = str(where.relative_to(root)) if where.is_relative_to(root) else str(where)
    config["languages"] = [x for x in ws.languages if x in new.framework.languages] or list(new.framework.languages)
    plan.config = config
    if ws.db_path.exists():
        with Store(ws.db_path, readonly=True) as store:
            plan.returns_mapped = sum(
                1 for r in store.returns(current_only=True, round_id=ws.round) if r.definition_hash != new.hash
            )
    return plan


def apply_update(ws: Workspace, plan: UpdatePlan) -> UpdatePlan:
    """Snapshot, then update; the snapshot folder is in ``plan.snapshot``."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    snap = ws.root / PRIVATE / "snapshots" / f"definitions-update-{stamp}"
    try:
        snap.mkdir(parents=True)
        if (ws.root / CONFIG).exists():
            shutil.copy2(ws.root / CONFIG, snap / CONFIG)
        if plan.folder.is_dir():
            shutil.copytree(plan.folder, snap / plan.folder.name)
        if ws.db_path.exists():
            copy_store(ws.db_path, snap / ws.db_path.name)
    except (OSError, StoreError) as exc:
        raise ConsultError(f"cannot snapshot the workspace into {snap} ({exc}): nothing was changed") from exc
    plan.snapshot = snap
    remember_definition(ws, plan.old)  # old forms' late returns stay readable
    assert plan.new.folder is not None
    staged = plan.folder.with_name(f".{plan.folder.name}.new-{stamp}")
    shutil.copytree(plan.new.folder, staged, ignore=NOT_COPIED)
    origins = {p.name: p.parent for p in (plan.new.folder / MAPPINGS_DIR).glob("*.y*ml")}
    if plan.mapping.file and not Path(plan.mapping.file).resolve().is_relative_to(plan.new.folder.resolve()):
        (staged / MAPPINGS_DIR).mkdir(exist_ok=True)
        shutil.copy2(plan.mapping.file, staged / MAPPINGS_DIR / Path(plan.mapping.file).name)
        origins[Path(plan.mapping.file).name] = Path(plan.mapping.file).resolve().parent
    _fix_mapping_paths(staged, origins)
    old_folder = plan.folder.with_name(f".{plan.folder.name}.old-{stamp}")
    if plan.folder.exists():
        plan.folder.rename(old_folder)
    staged.rename(plan.folder)
    shutil.rmtree(old_folder, ignore_errors=True)  # its copy is in the snapshot
    header = (
        "# consult workspace: one consultation round.\n"
        f"# definitions updated {stamp[:8]} from {plan.old.framework.id} to {plan.new.framework.id} "
        f"(snapshot of the earlier state: {snap.relative_to(ws.root)}).\n"
    )
    write_atomic(ws.root / CONFIG, header + yaml.safe_dump(plan.config, allow_unicode=True, sort_keys=False))
    return plan


def _fix_mapping_paths(folder: Path, origins: dict[str, Path]) -> None:
    """A copied mapping's ``definitions:`` path was relative to where it came from: make it
    point at the same folder from its new place (or drop it when that folder is gone)."""
    for path in sorted((folder / MAPPINGS_DIR).glob("*.y*ml")) if (folder / MAPPINGS_DIR).is_dir() else []:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        rel = (data or {}).get("mapping", {}).get("definitions") if isinstance(data, dict) else None
        if not rel or path.name not in origins:
            continue
        target = (origins[path.name] / rel).resolve()
        lines = []
        for line in text.splitlines(keepends=True):
            if line.strip().startswith("definitions:") and line.startswith("  "):
                line = f"  definitions: {target}\n" if target.is_dir() else ""
            lines.append(line)
        path.write_text("".join(lines), encoding="utf-8")
