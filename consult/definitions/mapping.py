"""Declared mappings between two definition versions: what each earlier id became.

A programme is renewed every few years and its questionnaire with it: areas are renamed,
components merged or split, institutions reorganised. A comparison of two rounds is only as
honest as the correspondence between their ids, so that correspondence is data, written by
the person who knows the programme (``mappings/*.yaml`` beside the later definitions, schema
``schema/mapping.schema.json``), checked like every other YAML file, and never guessed.

Each earlier area, component and institution is ``same``, ``dropped``, ``renamed`` to one later
id, ``merged_into`` a later id (several earlier ids may merge into one), or ``split_into``
several later ids with a ``rule`` (``copy``: the earlier figure stands for each part; ``none``:
the parts have no earlier figure). Every later id that nothing maps onto is listed under
``new``. ``consult validate`` reports every id of either version left unaccounted for.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from consult.definitions.yamlsource import YamlSource, load_yaml
from consult.errors import ConsultError, Finding
from consult.resources import data_dir

KINDS = ("areas", "components", "institutions")
Kind = Literal["areas", "components", "institutions"]
SINGULAR = {"areas": "area", "components": "component", "institutions": "institution"}
MAPPINGS_DIR = "mappings"


@dataclass(frozen=True)
class Rule:
    """What one earlier id became."""

    kind: str  # same, renamed, merged_into, split_into, dropped
    targets: tuple[str, ...]
    split_rule: str | None = None  # copy | none (split_into only)

    @property
    def carried(self) -> tuple[str, ...]:
        """The later ids that receive this id's figures (none for a dropped id or a split with rule none)."""
        if self.kind == "split_into" and self.split_rule == "none":
            return ()
        return self.targets


def _rule(old: str, value: Any) -> Rule:
    if value == "same":
        return Rule("same", (old,))
    if value == "dropped":
        return Rule("dropped", ())
    if "renamed" in value:
        return Rule("renamed", (value["renamed"],))
    if "merged_into" in value:
        return Rule("merged_into", (value["merged_into"],))
    return Rule("split_into", tuple(value["split_into"]), value.get("rule"))


@dataclass
class Mapping:
    """A checked mapping from framework ``source`` to framework ``target``."""

    source: str
    target: str
    rules: dict[str, dict[str, Rule]] = field(default_factory=dict)  # kind -> earlier id -> rule
    new: dict[str, list[str]] = field(default_factory=dict)
    file: str = ""
    definitions: Path | None = None  # the earlier definitions, when the file says where

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str = "") -> Mapping:
        head = data["mapping"]
        folder = Path(file).parent if file else Path(".")
        return cls(
            source=str(head["from"]),
            target=str(head["to"]),
            rules={k: {str(old): _rule(str(old), v) for old, v in (data.get(k) or {}).items()} for k in KINDS},
            new={k: [str(x) for x in (data.get("new") or {}).get(k) or []] for k in KINDS},
            file=file,
            definitions=(folder / head["definitions"]).resolve() if head.get("definitions") else None,
        )

    @classmethod
    def identity(cls, framework_id: str) -> Mapping:
        """Two rounds on the same framework: every id maps onto itself."""
        return cls(framework_id, framework_id, {k: {} for k in KINDS}, {k: [] for k in KINDS})

    @property
    def is_identity(self) -> bool:
        return not any(self.rules.values())

    def rule(self, kind: Kind, old: str) -> Rule:
        """The rule of an earlier id; an id the mapping does not list maps onto itself only in an
        identity mapping (elsewhere it is a validation error, reported before any use)."""
        found = self.rules.get(kind, {}).get(old)
        if found is not None:
            return found
        return Rule("same", (old,)) if self.is_identity else Rule("dropped", ())

    def targets(self, kind: Kind, old: str) -> tuple[str, ...]:
        return self.rule(kind, old).carried

    def sources(self, kind: Kind, new: str) -> list[str]:
        """The earlier ids whose figures a later id receives."""
        if self.is_identity:
            return [new]
        return [old for old, r in self.rules.get(kind, {}).items() if new in r.carried]

    def institution(self, old: str) -> str | None:
        """The later id of an earlier institution (the first part of a split; None if dropped)."""
        carried = self.targets("institutions", old)
        return carried[0] if carried else None

    def not_comparable(self, kind: Kind, later_ids: list[str]) -> list[str]:
        """Later ids with no earlier figure (new, or parts of a split with rule none)."""
        return [x for x in later_ids if not self.sources(kind, x)]


def _known(ident: str, ids: list[str]) -> str:
    """The ids to suggest for an unknown one: the close matches, else the first few."""
    close = difflib.get_close_matches(ident, ids, n=3, cutoff=0.6)
    if close:
        return ", ".join(close)
    return ", ".join(ids[:15]) + (f" ... ({len(ids)} in all)" if len(ids) > 15 else "") if ids else "(none)"


def _framework_ids(data: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "areas": [a["id"] for a in data["areas"]],
        "components": [f"{a['id']}.{c['id']}" for a in data["areas"] for c in a["components"]],
        "institutions": [i["id"] for i in data["institutions"]],
    }


def later_framework_path(mapping_file: Path) -> Path | None:
    """The framework a mapping maps onto: framework.yaml beside it, or in the folder above
    (``questionnaires/mappings/x.yaml`` maps onto ``questionnaires/framework.yaml``)."""
    for folder in (mapping_file.parent, mapping_file.parent.parent):
        if (folder / "framework.yaml").exists():
            return folder / "framework.yaml"
    return None


def _framework_mismatch(
    src: YamlSource,
    head: dict[str, Any],
    later: dict[str, Any] | None,
    earlier: dict[str, Any] | None,
    earlier_where: str,
) -> list[Finding]:
    """The mapping's ``from``/``to`` against the ids of the frameworks it is used between."""
    out: list[Finding] = []
    if later is not None and head["to"] != later["id"]:
        out.append(
            src.finding(
                "mapping-framework",
                ("mapping", "to"),
                side="later",
                found=head["to"],
                expected=later["id"],
                where=" (the framework beside this file)",
            )
        )
    if earlier is not None and head["from"] != earlier["id"]:
        out.append(
            src.finding(
                "mapping-framework",
                ("mapping", "from"),
                side="earlier",
                found=head["from"],
                expected=earlier["id"],
                where=f" ({earlier_where})" if earlier_where else "",
            )
        )
    return out


def check_mapping(
    src: YamlSource, later: dict[str, Any] | None, earlier: dict[str, Any] | None, earlier_where: str = ""
) -> list[Finding]:
    """What a schema cannot say: every target exists in the later framework, every later id is
    accounted for (a target, or listed under ``new``), every earlier id is listed (when the
    earlier framework is known), and a renamed id is the only one mapped onto its target."""
    data = src.data
    out: list[Finding] = []
    head = data["mapping"]
    out += _framework_mismatch(src, head, later, earlier, earlier_where)
    later_ids = _framework_ids(later) if later else None
    earlier_ids = _framework_ids(earlier) if earlier else None
    for kind in KINDS:
        rules: dict[str, Any] = data.get(kind) or {}
        new: list[str] = (data.get("new") or {}).get(kind) or []
        what = SINGULAR[kind]
        targeted: dict[str, list[tuple[str, str]]] = {}
        for old, value in rules.items():
            rule = _rule(str(old), value)
            for t in rule.targets:
                targeted.setdefault(t, []).append((str(old), rule.kind))
                if later_ids is not None and t not in later_ids[kind]:
                    detail = "" if rule.kind != "same" else " (mapped as 'same')"
                    out.append(
                        src.finding(
                            "unknown-ref",
                            (kind, old),
                            kind=f"{what} of the later definitions",
                            id=t,
                            where=detail,
                            known=_known(t, later_ids[kind]),
                        )
                    )
            if earlier_ids is not None and str(old) not in earlier_ids[kind]:
                out.append(
                    src.finding(
                        "unknown-ref",
                        (kind, old),
                        kind=f"{what} of the earlier definitions",
                        id=old,
                        where=f" ({head['from']})",
                        known=_known(str(old), earlier_ids[kind]),
                    )
                )
        for target, froms in targeted.items():
            renamed = [o for o, k in froms if k in ("renamed", "same")]
            if renamed and len(froms) > 1:
                out.append(
                    src.finding(
                        "mapping-conflict",
                        (kind, renamed[0]),
                        kind=what,
                        id=target,
                        sources=", ".join(o for o, _ in froms),
                    )
                )
        out += _new_ids(src, kind, new, targeted, later_ids)
        if later_ids is not None:
            for ident in later_ids[kind]:
                if ident not in targeted and ident not in new:
                    out.append(
                        src.finding("mapping-unaccounted", ("new", kind), kind=what, id=ident, side="later", key=kind)
                    )
        if earlier_ids is not None:
            for ident in earlier_ids[kind]:
                if ident not in rules:
                    out.append(
                        src.finding("mapping-unaccounted", (kind,), kind=what, id=ident, side="earlier", key=kind)
                    )
    return out


def _new_ids(
    src: YamlSource,
    kind: str,
    new: list[str],
    targeted: dict[str, list[tuple[str, str]]],
    later_ids: dict[str, list[str]] | None,
) -> list[Finding]:
    """The ids listed under ``new``: new means no earlier id maps onto it, and it exists later."""
    what = SINGULAR[kind]
    out: list[Finding] = []
    for i, ident in enumerate(new):
        if ident in targeted:
            out.append(
                src.finding(
                    "mapping-new-mapped",
                    ("new", kind, i),
                    kind=what,
                    id=ident,
                    sources=", ".join(o for o, _ in targeted[ident]),
                )
            )
        elif later_ids is not None and ident not in later_ids[kind]:
            out.append(
                src.finding(
                    "unknown-ref",
                    ("new", kind, i),
                    kind=f"{what} of the later definitions",
                    id=ident,
                    where="",
                    known=_known(ident, later_ids[kind]),
                )
            )
    return out


def earlier_framework(src: YamlSource) -> tuple[dict[str, Any] | None, list[Finding], str]:
    """The earlier framework named by ``mapping.definitions`` (None without one); a path that
    leads nowhere is a warning: the earlier ids then cannot be checked."""
    head = (src.data or {}).get("mapping") or {}
    rel = head.get("definitions")
    if not rel:
        return None, [], ""
    path = (Path(src.file).parent / rel / "framework.yaml").resolve()
    bundled = (data_dir("questionnaires") / MAPPINGS_DIR / rel / "framework.yaml").resolve()
    if (
        not path.exists()
        and bundled.exists()
        and (data_dir("questionnaires") / MAPPINGS_DIR / Path(src.file).name).exists()
    ):
        path = bundled  # a copy of a bundled mapping (consult init): its earlier definitions are the bundled ones
    if not path.exists():
        warning = src.finding("mapping-no-earlier", ("mapping", "definitions"), folder=str(path.parent))
        warning.severity = "warning"
        return None, [warning], ""
    fw = load_yaml(path)
    if fw.findings or not isinstance(fw.data, dict):
        return None, [], ""
    from consult.definitions.schema import check_schema

    if check_schema(fw, "framework"):
        return None, [], ""
    return fw.data, [], str(path)


def validate_mapping(src: YamlSource, earlier: dict[str, Any] | None = None) -> list[Finding]:
    """Every finding of a mapping file whose schema is already checked; ``earlier`` overrides
    the earlier framework named in the file (``consult definitions update`` knows it)."""
    later_path = later_framework_path(Path(src.file))
    later = None
    if later_path is not None:
        fw = load_yaml(later_path)
        later = fw.data if not fw.findings and isinstance(fw.data, dict) else None
    warnings: list[Finding] = []
    where = ""
    if earlier is None:
        earlier, warnings, where = earlier_framework(src)
    return warnings + check_mapping(src, later, earlier, where)


def load_mapping(path: Path, earlier: dict[str, Any] | None = None) -> Mapping:
    """A mapping file, checked (schema and cross-references); raises with every error."""
    from consult.definitions import DefinitionError
    from consult.definitions.schema import check_schema

    src = load_yaml(path)
    findings = list(src.findings) or check_schema(src, "mapping")
    if not findings:
        findings = validate_mapping(src, earlier)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise DefinitionError(errors)
    return Mapping.from_dict(src.data, str(path))


def find_mapping(folder: Path | None, earlier_id: str, earlier: dict[str, Any] | None = None) -> Mapping | None:
    """The mapping from framework ``earlier_id`` among ``folder/mappings/*.yaml`` (None: there is none)."""
    if folder is None or not (folder / MAPPINGS_DIR).is_dir():
        return None
    import yaml

    for path in sorted((folder / MAPPINGS_DIR).glob("*.y*ml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if (
            isinstance(data, dict)
            and isinstance(data.get("mapping"), dict)
            and data["mapping"].get("from") == earlier_id
        ):
            return load_mapping(path, earlier)
    return None


def mapping_between(
    earlier_fw: dict[str, Any], later_fw: dict[str, Any], later_folder: Path | None, explicit: Path | None = None
) -> Mapping:
    """The mapping from one framework to another: ``explicit`` if given, else the later
    definitions' own ``mappings/`` file from the earlier framework, else the identity when
    both frameworks have the same id. No mapping between two different frameworks is an error."""
    if explicit is not None:
        return load_mapping(explicit, earlier_fw)
    found = find_mapping(later_folder, earlier_fw["id"], earlier_fw)
    if found is not None:
        return found
    if earlier_fw["id"] == later_fw["id"]:
        return Mapping.identity(later_fw["id"])
    where = f"{later_folder / MAPPINGS_DIR}" if later_folder else "the later definitions' mappings/ folder"
    raise ConsultError(
        f"no mapping from framework '{earlier_fw['id']}' to '{later_fw['id']}': write one in {where} "
        "(README, 'Round to round') or name it with --mapping"
    )
