"""consult: run a national consultation from first questionnaire to final synthesis.

The package is a library first (``consult.schema``, ``consult.workbook``, ``consult.returns``,
``consult.store``, ``consult.scoring``, ``consult.synthesis``); ``consult.cli`` is a thin
Typer layer over it.
"""

__version__ = "0.1.0"
