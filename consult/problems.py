"""The problem catalogue: every finding code's message and fix, in each language of the tool.

consult's users work in English and Russian, so the words of every problem it reports are data,
``questionnaires/problems.yaml`` (checked against ``questionnaires/schema/problems.schema.json``
by ``consult validate``), not code; :class:`consult.errors.Finding` renders them. Each code has a
message and a fix per language, with the same ``{placeholders}`` in each (the finding's
parameters; tests/test_problems.py holds both rules for every code the package uses).

It is the tool's own catalogue, not a round's: it is read from the bundled folder (a source
checkout's ``questionnaires/``, a wheel's ``consult/_data/questionnaires/``), never from a
workspace's copy of the definitions, so a workspace made before the catalogue was data reads
it too, and ``consult init`` does not copy it. It is read once, when the first finding is
rendered: YAML is not parsed at start-up (``consult --help`` and ``consult status`` start
without it).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

FILE = "problems.yaml"
DEFAULT = "en"  # the language of Finding.message and .fix, of the store's words and of tests

Part = Literal["message", "fix"]


@cache
def catalogue() -> dict[str, dict[Part, dict[str, str]]]:
    """code -> {"message": {lang: template}, "fix": {lang: template}}, read once."""
    import yaml

    from consult.resources import data_dir

    path = data_dir("questionnaires") / FILE
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    problems: dict[str, dict[Part, dict[str, str]]] = data["problems"]
    return problems


def template(code: str, part: Part, lang: str = DEFAULT) -> str:
    """The ``part`` of ``code`` in ``lang`` (English where the catalogue has none in ``lang``), as
    a ``str.format`` template. A code the catalogue does not know raises KeyError."""
    texts = catalogue()[code][part]
    return texts.get(lang) or texts[DEFAULT]


@cache
def languages() -> tuple[str, ...]:
    """The languages every message and fix of the catalogue is written in, English first."""
    common: set[str] | None = None
    for parts in catalogue().values():
        for texts in parts.values():
            common = set(texts) if common is None else common & set(texts)
    rest = sorted((common or set()) - {DEFAULT})
    return (DEFAULT, *rest)


def english() -> dict[str, tuple[str, str]]:
    """code -> (message, fix) in English: the shape of the catalogue when it was code
    (``consult.errors.CATALOGUE``), kept for the tests and callers that read it so."""
    return {code: (parts["message"][DEFAULT], parts["fix"][DEFAULT]) for code, parts in catalogue().items()}
