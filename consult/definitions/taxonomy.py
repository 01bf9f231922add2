"""The multilingual keyword taxonomy that maps free text to programme areas and components.

Matching is deliberately simple and explainable: text is split into words, a term matches
when each of its words is the *start* of consecutive words in the text ("торговл людьми"
matches "торговлей людьми"). Stems handle Russian case endings without a morphology library
that would be hard to justify in a methodology annex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

WORD = re.compile(r"\w+", re.UNICODE)
DEFAULT_SOURCES = ("challenge", "emerging", "proposal")  # roles (questionnaire.yaml)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    lang: str
    area: str
    component: str | None  # full id "AREA.key"

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Match:
    area: str
    component: str | None
    term: str
    start: int
    end: int


def _norm(value: str) -> str:
    return value.casefold().replace("ё", "е")


class Taxonomy:
    def __init__(self, terms: list[Term], sources: tuple[str, ...] = DEFAULT_SOURCES):
        self.terms = terms
        self.sources = sources
        self._index: dict[str, list[Term]] = {}
        for t in terms:
            self._index.setdefault(t.words[0][:2], []).append(t)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Taxonomy:
        terms = []
        for area, spec in (data.get("areas") or {}).items():
            spec = spec or {}
            for lang, words in spec.items():
                if lang == "components":
                    continue
                terms += [Term(tuple(_norm(w).split()), lang, area, None) for w in words]
            for comp, langs in (spec.get("components") or {}).items():
                for lang, words in (langs or {}).items():
                    terms += [Term(tuple(_norm(w).split()), lang, area, f"{area}.{comp}") for w in words]
        return cls(terms, tuple(data.get("sources") or DEFAULT_SOURCES))

    def matches(self, value: str) -> list[Match]:
        """Every term occurrence; one word may match terms of several areas."""
        tokens = [(m.group(0), m.start(), m.end()) for m in WORD.finditer(_norm(value))]
        found = []
        for i, (tok, start, _end) in enumerate(tokens):
            for term in self._index.get(tok[:2], ()):
                n = len(term.words)
                if i + n > len(tokens):
                    continue
                if all(tokens[i + k][0].startswith(term.words[k]) for k in range(n)):
                    found.append(Match(term.area, term.component, term.text, start, tokens[i + n - 1][2]))
        return found

    def applies_to(self, item_qid: str) -> bool:
        return item_qid in self.sources


def excerpt(value: str, start: int, end: int, width: int = 220) -> str:
    """The sentence around a match, shortened to ``width`` characters: enough to quote."""
    left = max(value.rfind(p, 0, start) for p in (". ", "! ", "? ", "\n", "; "))
    left = 0 if left < 0 else left + 2
    rights = [i for i in (value.find(p, end) for p in (". ", "! ", "? ", "\n", "; ")) if i >= 0]
    right = min(rights) + 1 if rights else len(value)
    snippet = value[left:right].strip()
    if len(snippet) > width:
        mid = (start + end) // 2 - left
        lo = max(0, mid - width // 2)
        snippet = ("…" if lo else "") + snippet[lo : lo + width].strip() + "…"
    return snippet


@cache
def bundled_taxonomy() -> Taxonomy:
    from consult.definitions import bundled_definition

    return bundled_definition().taxonomy
