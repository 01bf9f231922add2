"""consult: run a national consultation from first questionnaire to final synthesis.

The package is a library first, cut by stage in pipeline order: ``consult.definitions``
(YAML, schema, roles), ``consult.store`` and ``consult.workspace`` (a round's folder and its
SQLite store), ``consult.forms`` (the workbook, the web form), ``consult.intake`` (reading
returns and server exports), ``consult.analysis`` (coverage, scoring, robustness),
``consult.report`` (the document model and its renderers) and ``consult.feedback`` (the loop
back to respondents); ``consult.cli`` is a thin Typer layer over it.

The names below are the public surface, pinned by ``tests/test_architecture.py``. They are
imported on first use (PEP 562), so that ``import consult`` (and every command's start-up)
does not pay for matplotlib, python-docx or lxml it may never need.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.2.0"

_PUBLIC: dict[str, str] = {
    "ConsultError": "consult.errors",
    "Finding": "consult.errors",
    "Definition": "consult.definitions",
    "bundled_definition": "consult.definitions",
    "load_definition": "consult.definitions",
    "form_for": "consult.definitions",
    "validate_paths": "consult.definitions.schema",
    "Workspace": "consult.workspace",
    "init_workspace": "consult.workspace",
    "open_workspace": "consult.workspace",
    "generate": "consult.forms.writer",
    "write_xlsforms": "consult.forms.xlsform",
    "ingest": "consult.intake.ingest",
    "load_round": "consult.analysis.data",
    "score_round": "consult.analysis.scoring",
    "coverage": "consult.analysis.coverage",
    "export_answers": "consult.analysis.export",
    "synthesize": "consult.report.synthesis",
    "export_quotes": "consult.report.translations",
    "import_quotes": "consult.report.translations",
    "feedback": "consult.feedback.workbook",
    "load_mapping": "consult.definitions.mapping",
    "compare_workspaces": "consult.analysis.compare",
    "plan_update": "consult.update",
    "apply_update": "consult.update",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'consult' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
