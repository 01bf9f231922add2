"""consult: run a national consultation from first questionnaire to final synthesis.

The package is a library first, cut by stage: ``consult.definitions`` (YAML, schema, roles),
``consult.forms`` (the workbook, the web form, feedback), ``consult.intake`` (reading returns),
``consult.store``, ``consult.analysis`` (coverage, scoring, robustness) and ``consult.report``
(the document model and its renderers); ``consult.cli`` is a thin Typer layer over it.
"""

__version__ = "0.2.0"
