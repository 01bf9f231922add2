"""Loading a validated definition set: framework + questionnaire (+ taxonomy, messages).

A :class:`Definition` is what a workbook is generated from and what a return is matched
against, by :attr:`Definition.hash`. Invalid YAML never gets this far: loading runs the same
checks as ``consult validate`` and raises with every finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from consult.definitions.framework import Framework, Text
from consult.definitions.questionnaire import Form, Questionnaire, definition_hash, resolve
from consult.definitions.schema import check_schema, detect_kind, validate_source
from consult.definitions.yamlsource import YamlSource, load_yaml
from consult.errors import ConsultError, Finding
from consult.resources import data_dir

if TYPE_CHECKING:
    from consult.definitions.taxonomy import Taxonomy


class DefinitionError(ConsultError):
    """The definitions are invalid; ``findings`` says where."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__(self.text_in("en"))

    def text_in(self, lang: str) -> str:
        lines = "\n".join(f.text_in(lang) for f in self.findings[:20])
        more = f"\n... and {len(self.findings) - 20} more" if len(self.findings) > 20 else ""
        return f"invalid questionnaire definitions (run 'consult validate'):\n{lines}{more}"


@dataclass
class Definition:
    """A validated definition set. ``folder`` is where its YAML lives (None for a stored
    snapshot, which only ever reads returns); the texts (messages, report wording, taxonomy)
    come from the same folder, so a workspace's own definitions are used whole."""

    framework: Framework
    questionnaire: Questionnaire
    raw: dict[str, Any]  # {"framework": ..., "questionnaire": ...} as loaded
    warnings: list[Finding] = field(default_factory=list)
    folder: Path | None = None
    _texts: dict[str, dict[str, Text]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def hash(self) -> str:
        return definition_hash(self.raw["framework"], self.raw["questionnaire"])

    @classmethod
    def from_raw(cls, raw: dict[str, Any], folder: Path | None = None) -> Definition:
        return cls(
            Framework.from_dict(raw["framework"]), Questionnaire.from_dict(raw["questionnaire"]), raw, folder=folder
        )

    def to_json(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False, sort_keys=True, default=str)

    @property
    def languages(self) -> list[str]:
        return list(self.framework.languages)

    def data_file(self, name: str) -> dict[str, Any]:
        """``name``.yaml of this definition's folder, else the bundled one."""
        folder = self.folder if self.folder and (self.folder / f"{name}.yaml").exists() else None
        return load_yaml_data(name, folder)

    def texts(self, name: str) -> dict[str, Text]:
        """The texts of ``name``.yaml (messages, report, feedback, change), by key and language;
        :class:`consult.definitions.wording.Wording` is what reads them."""
        if name not in self._texts:
            self._texts[name] = self.data_file(name)["messages"]
        return self._texts[name]

    @property
    def messages(self) -> dict[str, Text]:
        return self.texts("messages")

    @property
    def report_texts(self) -> dict[str, Text]:
        return self.texts("report")

    @property
    def feedback_texts(self) -> dict[str, Text]:
        """The wording of ``consult feedback`` (feedback.yaml): in the definitions, not in code,
        so a round's own copy can reword it and a new language needs no code change."""
        return self.texts("feedback")

    @cached_property
    def taxonomy(self) -> Taxonomy:
        from consult.definitions.taxonomy import Taxonomy

        return Taxonomy.from_dict(self.data_file("taxonomy"))

    def msg(self, key: str, lang: str) -> str:
        """A fixed workbook text in ``lang`` (English where it lacks one); a missing key is a bug."""
        from consult.definitions.wording import Wording

        return Wording.of(self, "messages").one(key, lang)

    def missing_labels(self, lang: str) -> list[str]:
        """Every label, name and message with no ``lang`` text: shown in English instead."""
        missing: list[str] = []

        def walk(node: Any, path: str) -> None:
            if isinstance(node, dict):
                texts = [v for v in node.values() if isinstance(v, str)]
                if texts and len(texts) == len(node) and "en" in node and all(len(k) <= 3 for k in node):
                    if not node.get(lang):
                        missing.append(path)
                    return
                for key, value in node.items():
                    walk(value, f"{path}.{key}" if path else str(key))
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    ident = value.get("id") or value.get("code") if isinstance(value, dict) else None
                    walk(value, f"{path}[{ident or i}]")

        walk(self.raw, "")
        walk({"messages": self.messages, "report": self.report_texts}, "")
        return missing


def definition_folder(path: Path | None) -> Path:
    """The folder of a definition set: ``path`` itself, the folder of a questionnaire file, or
    the bundled ``questionnaires/``."""
    if path is None:
        return data_dir("questionnaires")
    return path.parent if path.is_file() else path


def load_definition(path: Path | None = None) -> Definition:
    """Load and validate a questionnaire and the framework it names (``path``: a folder
    holding questionnaire.yaml, or the questionnaire file; default: the bundled one)."""
    folder = definition_folder(path)
    qpath = path if path is not None and path.is_file() else folder / "questionnaire.yaml"
    if not qpath.exists():
        raise ConsultError(f"{qpath}: no such file; a definitions folder holds questionnaire.yaml and framework.yaml")
    qsrc = load_yaml(qpath)
    cache_: dict[Path, Any] = {}
    findings = validate_source(qsrc, cache_)
    fpath = (qpath.parent / (qsrc.data or {}).get("framework", "framework.yaml")).resolve()
    fsrc = load_yaml(fpath)
    findings = validate_source(fsrc) + findings
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise DefinitionError(errors)
    definition = Definition.from_raw({"framework": fsrc.data, "questionnaire": qsrc.data}, folder=folder)
    definition.warnings = [f for f in findings if f.severity != "error"]
    return definition


@cache
def bundled_definition() -> Definition:
    return load_definition()


@cache
def _load_yaml_data(path: Path) -> dict[str, Any]:
    """Parsed with libyaml where it is installed (the line-tracking parser is only needed to say
    where a problem is: it runs again only when the fast parse or the schema finds one)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        fast = YamlSource(file=str(path), data=data)
        if not check_schema(fast, detect_kind(fast) or path.stem):
            return data
    src = load_yaml(path)
    findings = src.findings or check_schema(src, detect_kind(src) or path.stem)
    if findings:
        raise DefinitionError(findings)
    slow: dict[str, Any] = src.data
    return slow


def load_yaml_data(name: str, folder: Path | None = None) -> dict[str, Any]:
    """A YAML file of a definitions folder (taxonomy, messages, report; default: bundled),
    checked against its schema; the cross-checks are ``consult validate``'s job (and CI's)."""
    return _load_yaml_data(((folder or data_dir("questionnaires")) / f"{name}.yaml").resolve())


_FORMS: dict[tuple[str, str, str], Form] = {}


def form_for(definition: Definition, country: str, institution: str) -> Form:
    """The resolved form of one country and institution, cached: a thousand returns share 96
    forms at most. It lives with the definitions because every stage after them (forms,
    intake, analysis, feedback) asks the same question of the same definition."""
    key = (definition.hash, country, institution)
    if key not in _FORMS:
        _FORMS[key] = resolve(definition.questionnaire, definition.framework, country, institution)
    return _FORMS[key]
