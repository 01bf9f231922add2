"""How a synthesis writes figures and names: scores, percentages, choice labels and quotes
(dates: :meth:`consult.definitions.wording.Wording.date`).

Kept apart from the sections (:mod:`consult.report.country`, :mod:`consult.report.regional`)
so that every part of a synthesis, the section on change included, writes a score or a share
the same way; the texts themselves are ``report.yaml``, read through
:class:`consult.definitions.wording.Wording`.
"""

from __future__ import annotations

import re

from consult.report.document import Run

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[A-Za-z]")
_SPECIFY = re.compile(r"\s*\((?:please specify|specify|укажите|уточните)[^)]*\)", re.IGNORECASE)


def fmt_score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def quote_language(value: str, lang: str) -> str | None:
    """The quote's script, when it is not the document's (Cyrillic vs Latin): marked, kept verbatim."""
    cyr, lat = len(CYRILLIC.findall(value)), len(LATIN.findall(value))
    if cyr + lat == 0:
        return None
    script = "ru" if cyr > lat else "en"
    doc_script = "ru" if lang in ("ru", "kk", "ky", "tg") else "en"
    return script if script != doc_script else None


def plain_label(label: str) -> str:
    """A choice label as a report shows it: "Other (please specify)" is an instruction to the
    respondent, so the report says "Other"."""
    return _SPECIFY.sub("", label).strip()


def rating_words(label: str) -> str:
    """ "5 - Very high priority" -> "5 – very high priority" (the level, as a sentence says it)."""
    match = re.match(r"^\s*(\d+)\s*[-–—]\s*(.+)$", label)
    return f"{match.group(1)} – {match.group(2)[:1].lower()}{match.group(2)[1:]}" if match else label


def bold_runs(value: str) -> list[Run]:
    """``**bold**`` in report.yaml's method text becomes a bold run (the only markup it uses)."""
    parts = re.split(r"(\*\*[^*]+\*\*)", value)
    return [Run(p[2:-2], bold=True) if p.startswith("**") else Run(p) for p in parts if p]
