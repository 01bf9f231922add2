"""Where the bundled data lives, in a source checkout and in an installed wheel.

The wheel carries ``questionnaires/``, ``templates/`` and ``docs/methodology.md`` under
``consult/_data/`` (see ``pyproject.toml``); a source checkout or editable install reads the
top-level folders directly, so editing a YAML file takes effect without reinstalling.
"""

from __future__ import annotations

from pathlib import Path

from consult.errors import ConsultError

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The bundled folder ``name`` (``questionnaires``, ``templates``, ``docs``)."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConsultError(f"bundled folder '{name}' not found next to {_PACKAGE}; reinstall consult")
