"""The multilingual keyword taxonomy that maps free text to programme areas and components.

Matching is deliberately simple and explainable, so that the methodology annex can state it in
a few lines (docs/methodology.md, section 6):

* **Words.** Text and terms are cut into words the same way: a word is a maximal run of letters
  and digits (case-folded, "ё" read as "е"). Hyphens, slashes, apostrophes and punctuation
  separate words. So the term "gender-based violence" is the three words *gender based
  violence* and matches "Gender-based violence", "gender based violence" and "GENDER-BASED
  VIOLENCE"; "ПОД/ФТ" is *под фт*.
* **A term word matches a text word** when the text word starts with it (hand-cut stems as
  written in taxonomy.yaml: "торговл" matches "торговлей", "smuggl" matches "smugglers"), or,
  for term words of at least STEM_MIN_LENGTH letters, when both have the same Snowball stem
  ("trafficking" matches "traffickers", "наркотики" matches "наркотиков"). The stemmer is
  chosen by the script of the word: Cyrillic words get the Russian stemmer, others the
  English one, so an English acronym inside a Russian answer is still found.
  Two refinements for Russian morphology and for short words: a term word of one or two letters
  (a preposition such as "о", "с", "in") matches only itself, since every word would start with
  it; and a Cyrillic stem ending in two consonants also matches the genitive plural with the
  fleeting vowel ("закупк" matches "закупок", "передозировк" matches "передозировок",
  "группировк" matches "группировок"), which neither the prefix nor the stem rule reaches.
* **A multi-word term** matches consecutive text words, each by the rule above.
* **Not a mention.** The taxonomy may list phrases (``ignore``) in which a shorter term does not
  mean its area: "study visit" is training, not research; "clandestine laboratory" is drug
  production, not forensics; "анализатор" is a device, not analysis. A match lying inside such
  a phrase and shorter than it (fewer letters, as written) is dropped; a term as long as the
  phrase or longer still counts ("seizure of assets" is asset recovery, but its "seizure" is
  not a drug seizure).

Why Snowball stemmers (``snowballstemmer``) rather than a morphological analyser (pymorphy3):
one small pure-Python package covers both languages with published, deterministic
algorithms that a reader can look up; it needs no dictionary data that would have to be
versioned with the method; and suffix stripping is what the hand-cut stems already did, so
the two rules agree. A dictionary lemmatiser would resolve a few more Russian forms
(suppletive and irregular stems) but adds 10 MB of dictionaries and a rule a reader cannot
apply by hand. Short term words (acronyms such as "aids", "hiv", "вич") are not stemmed:
"aids" would otherwise match "aid" in "legal aid".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import snowballstemmer

WORD = re.compile(r"[^\W_]+", re.UNICODE)
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
DEFAULT_SOURCES = ("challenge", "emerging", "proposal")  # roles (questionnaire.yaml)
STEM_MIN_LENGTH = 5

_STEMMERS = {"en": snowballstemmer.stemmer("english"), "ru": snowballstemmer.stemmer("russian")}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a normalised word, in the language of its script."""
    stemmed: str = _STEMMERS["ru" if CYRILLIC.search(word) else "en"].stemWord(word)
    return stemmed


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    lang: str
    area: str
    component: str | None  # full id "AREA.key"
    written: str = ""  # the term as written in taxonomy.yaml (normalised)

    @property
    def letters(self) -> int:
        """The length of the term as written, without spaces and punctuation: how "long" a term is
        when it is compared with a "not a mention" phrase."""
        return sum(map(len, self.words))

    @property
    def text(self) -> str:
        return self.written or " ".join(self.words)


@dataclass(frozen=True)
class Match:
    area: str
    component: str | None
    term: str
    start: int
    end: int


def _norm(value: str) -> str:
    """Case-folded, "ё" read as "е", and of the same length as ``value``, so that match offsets
    point into the original text (a character whose case folding is longer, as "ß", is kept)."""
    folded = value.casefold()
    if len(folded) != len(value):
        folded = "".join(f if len(f := ch.casefold()) == 1 else ch for ch in value)
    return folded.replace("ё", "е")


def words(value: str) -> list[str]:
    """The words of a text or a term, as the matcher sees them."""
    return WORD.findall(_norm(value))


EXACT_MAX_LENGTH = 2
CONSONANTS = frozenset("бвгджзклмнпрстфхцчшщ")


def _fleeting_vowel(term_word: str, text_word: str) -> bool:
    """Russian genitive plural of a stem ending in two consonants: "закупк" -> "закупок"."""
    return (
        len(text_word) == len(term_word) + 1
        and len(term_word) >= 4
        and term_word[-1] in CONSONANTS
        and term_word[-2] in CONSONANTS
        and text_word[-2] in "ое"
        and text_word[:-2] == term_word[:-1]
        and text_word[-1] == term_word[-1]
    )


def word_matches(term_word: str, text_word: str) -> bool:
    """The matching rule for one word (module docstring)."""
    if len(term_word) <= EXACT_MAX_LENGTH:
        return text_word == term_word
    return (
        text_word.startswith(term_word)
        or (len(term_word) >= STEM_MIN_LENGTH and stem(text_word) == stem(term_word))
        or _fleeting_vowel(term_word, text_word)
    )


def _term(written: str, lang: str, area: str, component: str | None) -> Term | None:
    ws = tuple(words(written))
    return Term(ws, lang, area, component, _norm(written).strip()) if ws else None


class _Index:
    """Terms found by a text word: those whose first word shares its first three letters (prefix,
    exact and fleeting-vowel rules all keep them) or its stem (stem rule)."""

    def __init__(self, terms: list[Term]):
        self._by_start: dict[str, list[Term]] = {}
        self._by_stem: dict[str, list[Term]] = {}
        for t in terms:
            self._by_start.setdefault(t.words[0][:3], []).append(t)
            if len(t.words[0]) >= STEM_MIN_LENGTH:
                self._by_stem.setdefault(stem(t.words[0]), []).append(t)
        self._starting: dict[str, list[Term]] = {}

    def starting(self, tok: str) -> list[Term]:
        """The terms whose first word matches the text word ``tok``, worked out once per word:
        a round's answers use the same few thousand words over and over."""
        found = self._starting.get(tok)
        if found is None:
            candidates = self._by_start.get(tok[:3], [])
            by_stem = self._by_stem.get(stem(tok))
            if by_stem:
                listed = set(candidates)
                candidates = candidates + [t for t in by_stem if t not in listed]
            found = self._starting[tok] = [t for t in candidates if word_matches(t.words[0], tok)]
        return found

    def find(self, tokens: list[tuple[str, int, int]]) -> list[tuple[Term, int, int]]:
        """Each term occurrence as (term, first token, token after the last)."""
        found = []
        for i, (tok, _start, _end) in enumerate(tokens):
            for term in self.starting(tok):
                n = len(term.words)
                if i + n <= len(tokens) and all(word_matches(term.words[k], tokens[i + k][0]) for k in range(1, n)):
                    found.append((term, i, i + n))
        return found


class Taxonomy:
    def __init__(self, terms: list[Term], sources: tuple[str, ...] = DEFAULT_SOURCES, ignore: list[Term] | None = None):
        self.terms = terms
        self.sources = sources
        self.ignore = ignore or []
        self._terms = _Index(terms)
        self._ignore = _Index(self.ignore)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Taxonomy:
        terms: list[Term | None] = []
        for area, spec in (data.get("areas") or {}).items():
            spec = spec or {}
            for lang, written in spec.items():
                if lang == "components":
                    continue
                terms += [_term(w, lang, area, None) for w in written]
            for comp, langs in (spec.get("components") or {}).items():
                for lang, written in (langs or {}).items():
                    terms += [_term(w, lang, area, f"{area}.{comp}") for w in written]
        ignore = [_term(w, lang, "", None) for lang, written in (data.get("ignore") or {}).items() for w in written]
        return cls([t for t in terms if t], tuple(data.get("sources") or DEFAULT_SOURCES), [t for t in ignore if t])

    def matches(self, value: str) -> list[Match]:
        """Every term occurrence; one word may match terms of several areas. Occurrences inside a
        longer "not a mention" phrase (``ignore``) are left out."""
        tokens = [(m.group(0), m.start(), m.end()) for m in WORD.finditer(_norm(value))]
        found = self._terms.find(tokens)
        if found and self.ignore:
            spans = [(i, j, t.letters) for t, i, j in self._ignore.find(tokens)]
            found = [
                (t, i, j) for t, i, j in found if not any(a <= i and j <= b and t.letters < n for a, b, n in spans)
            ]
        return [Match(t.area, t.component, t.text, tokens[i][1], tokens[j - 1][2]) for t, i, j in found]

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
