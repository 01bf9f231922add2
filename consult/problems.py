"""The problem catalogue: every finding code's message and fix, in each language of the tool.

consult's users work in English and Russian, so the words of every problem it reports are data,
``questionnaires/problems.yaml`` (checked against ``questionnaires/schema/problems.schema.json``
by ``consult validate``), not code; :class:`consult.errors.Finding` renders them. Each code has a
message and a fix per language, with the same ``{placeholders}`` in each (the finding's
parameters; tests/test_problems.py holds both rules for every code the package uses).

A finding's parameter may itself be worded: what a refused value should have been and how to
correct it are sentences, not data. Such a parameter is kept in the finding's ``worded``
parameter as a list of :data:`Phrase` (a key of the catalogue's ``phrases:`` and its own
parameters, which may be phrases again), rendered in the reader's language by :func:`say`; its
English rendering is stored beside it under the plain name, so that the store and ``--json``
keep their shape and a reader without the catalogue still has the words.

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
# One worded piece of a parameter: {"key": a name under ``phrases:``, "params": {...}}; a
# parameter of a phrase may be a list of phrases in turn (said in the same language).
Phrase = dict[str, Any]


@cache
def _file() -> dict[str, Any]:
    import yaml

    from consult.resources import data_dir

    path = data_dir("questionnaires") / FILE
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return data


def catalogue() -> dict[str, dict[Part, dict[str, str]]]:
    """code -> {"message": {lang: template}, "fix": {lang: template}}, read once."""
    problems: dict[str, dict[Part, dict[str, str]]] = _file()["problems"]
    return problems


def phrases() -> dict[str, dict[str, str]]:
    """key -> {lang: template}: the worded parameters of the problems."""
    found: dict[str, dict[str, str]] = _file().get("phrases") or {}
    return found


def phrase(key: str, **params: Any) -> Phrase:
    """One worded piece, to be said in any language of the catalogue by :func:`say`."""
    return {"key": key, "params": params}


def is_worded(value: Any) -> bool:
    """Whether a parameter is phrases (a non-empty list of them) rather than a plain value."""
    return isinstance(value, list) and bool(value) and all(isinstance(p, dict) and "key" in p for p in value)


def say(worded: list[Phrase], lang: str = DEFAULT) -> str:
    """The phrases of ``worded`` in ``lang`` (English where a phrase has none in ``lang``), one
    after the other. An unknown key raises KeyError (the caller falls back on stored words)."""
    out = []
    for piece in worded:
        texts = phrases()[piece["key"]]
        params = {k: say(v, lang) if is_worded(v) else v for k, v in (piece.get("params") or {}).items()}
        out.append((texts.get(lang) or texts[DEFAULT]).format(**params))
    return "".join(out)


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
