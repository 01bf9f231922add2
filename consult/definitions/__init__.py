"""Loading a validated definition set: framework + questionnaire (+ taxonomy, messages).

A :class:`Definition` is what a workbook is generated from and what a return is matched
against, by :attr:`Definition.hash`. Invalid YAML never gets this far: loading runs the same
checks as ``consult validate`` and raises with every finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from consult.definitions.framework import Framework, Text
from consult.definitions.questionnaire import Questionnaire, definition_hash
from consult.definitions.schema import check_schema, detect_kind, validate_source
from consult.definitions.yamlsource import load_yaml
from consult.errors import ConsultError, Finding
from consult.resources import data_dir


class DefinitionError(ConsultError):
    """The definitions are invalid; ``findings`` says where."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        lines = "\n".join(str(f) for f in findings[:20])
        more = f"\n... and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(f"invalid questionnaire definitions (run 'consult validate'):\n{lines}{more}")


@dataclass
class Definition:
    framework: Framework
    questionnaire: Questionnaire
    raw: dict[str, Any]  # {"framework": ..., "questionnaire": ...} as loaded

    @cached_property
    def hash(self) -> str:
        return definition_hash(self.raw["framework"], self.raw["questionnaire"])

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Definition:
        return cls(Framework.from_dict(raw["framework"]), Questionnaire.from_dict(raw["questionnaire"]), raw)

    def to_json(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False, sort_keys=True, default=str)


def load_definition(questionnaire_path: Path | None = None) -> Definition:
    """Load and validate a questionnaire and the framework it names."""
    qpath = questionnaire_path or data_dir("questionnaires") / "questionnaire.yaml"
    qsrc = load_yaml(qpath)
    cache_: dict[Path, Any] = {}
    findings = validate_source(qsrc, cache_)
    fpath = (qpath.parent / (qsrc.data or {}).get("framework", "framework.yaml")).resolve()
    fsrc = load_yaml(fpath)
    findings = validate_source(fsrc) + findings
    if findings:
        raise DefinitionError(findings)
    return Definition.from_raw({"framework": fsrc.data, "questionnaire": qsrc.data})


@cache
def bundled_definition() -> Definition:
    return load_definition()


def load_yaml_data(name: str) -> dict[str, Any]:
    """A bundled YAML file (taxonomy, messages), checked against its schema; the cross-checks
    against the framework are ``consult validate``'s job (and CI's)."""
    path = data_dir("questionnaires") / f"{name}.yaml"
    src = load_yaml(path)
    findings = src.findings or check_schema(src, detect_kind(src) or name)
    if findings:
        raise DefinitionError(findings)
    return src.data


@cache
def messages() -> dict[str, Text]:
    return load_yaml_data("messages")["messages"]


def msg(key: str, lang: str) -> str:
    """A fixed text in ``lang``; a missing key is a bug, so it fails loudly."""
    texts = messages()[key]
    return texts.get(lang) or texts["en"]
