"""The one wording layer: every text the definitions hold for people to read, in their languages.

The words of each output live in a YAML file of the definitions, not in code, so that a
round's own copy can reword them and a new language needs no code change: ``messages.yaml``
(the workbook and the web form), ``report.yaml`` (the syntheses), ``feedback.yaml`` (the
feedback workbook and its covering note) and ``change.yaml`` (the section on change since the
last consultation). :class:`Wording` reads one of them, in the languages of one output, and is
the only code that looks a text up: one text in one language (CLDR plural forms by
:mod:`consult.definitions.plurals`, then ``str.format`` of the fields; English, recorded in
:attr:`Wording.fallbacks`, where a language lacks the text), each language as a dict, or the
languages side by side. Dates are written here too (:func:`format_date`), in the words of
``report.yaml`` (``date_format``, ``months``), whichever output they appear in.

It lives with the definitions because the definitions own the texts and every later stage
(forms, report, feedback, the commands) may import it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from consult.definitions.framework import Text, text
from consult.definitions.plurals import plurals

if TYPE_CHECKING:
    from consult.definitions import Definition

TextFile = Literal["messages", "report", "feedback", "change"]
DATE_TEXTS: TextFile = "report"  # the file holding date_format and months


def joined(label: Text, langs: Sequence[str], sep: str = " / ") -> str:
    """A label in every language asked for, side by side (a text repeated only once)."""
    parts: list[str] = []
    for lang in langs:
        value = text(label, lang)
        if value not in parts:
            parts.append(value)
    return sep.join(parts)


def format_date(iso: str | None, pattern: str = "{dd}.{mm}.{year}", months: str = "") -> str:
    """A date as a language writes it (report.yaml ``date_format``, ``months``): 30.09.2020 in
    Russian, 30 September 2020 in English. No date is "–"; a value that is no date is kept."""
    if not iso:
        return "–"
    try:
        d = dt.date.fromisoformat(str(iso)[:10])
    except ValueError:
        return str(iso)
    names = months.split() or [str(m) for m in range(1, 13)]
    return pattern.format(day=d.day, dd=f"{d.day:02d}", mm=f"{d.month:02d}", month=names[d.month - 1], year=d.year)


class Wording:
    """The texts of one file of the definitions, in the languages of one output.

    ``langs[0]`` is the language of a one-language output (a synthesis): calling the wording,
    ``t(key, **fields)``, gives the text in it. A missing key is a bug (KeyError). ``texts`` is
    usually a file of the definitions (:meth:`of`); a table in code works alike."""

    def __init__(self, definition: Definition, texts: Mapping[str, Text], langs: str | Sequence[str] = "en"):
        self.definition = definition
        self.texts = texts
        self.langs: list[str] = [langs] if isinstance(langs, str) else list(langs)
        self.fallbacks: set[str] = set()  # keys shown in English for want of a text in a language
        self._memo: dict[tuple[Any, ...], str] = {}  # joined texts: a workbook repeats them on every sheet

    @classmethod
    def of(cls, definition: Definition, file: TextFile, langs: str | Sequence[str] = "en") -> Wording:
        """The wording of ``file``.yaml of ``definition`` (its folder's own copy, else the bundled)."""
        return cls(definition, definition.texts(file), langs)

    @property
    def lang(self) -> str:
        return self.langs[0]

    def has(self, key: str, lang: str | None = None) -> bool:
        """Whether the file has ``key`` (in ``lang`` itself, when given: not by falling back)."""
        return key in self.texts and (lang is None or bool(self.texts[key].get(lang)))

    def _pick(self, texts: Mapping[str, Text], key: str, lang: str) -> tuple[str, str]:
        """The text of ``key`` and the language it is in: ``lang``'s, else English (recorded)."""
        values = texts[key]
        value = values.get(lang)
        if value:
            return value, lang
        self.fallbacks.add(key)
        return values["en"], "en"

    def one(self, key: str, lang: str, **fmt: Any) -> str:
        """One text in one language: the plural forms its numbers call for, then its fields."""
        value, used = self._pick(self.texts, key, lang)
        value = plurals(value, used, fmt)
        return value.format(**fmt) if fmt else value

    def __call__(self, key: str, **fmt: Any) -> str:
        return self.one(key, self.lang, **fmt)

    def each(self, key: str, langs: Sequence[str] | None = None, **fmt: Any) -> dict[str, str]:
        """The text in each language (of ``langs``, default the wording's)."""
        return {lang: self.one(key, lang, **fmt) for lang in (self.langs if langs is None else langs)}

    def joined(self, key: str, *, sep: str = " / ", langs: Sequence[str] | None = None, **fmt: Any) -> str:
        """The text in each language side by side, ``sep`` between (a repeated text once)."""
        langs = self.langs if langs is None else list(langs)
        memo_key = (key, tuple(langs), sep, *sorted(fmt.items()))
        if memo_key not in self._memo:
            self._memo[memo_key] = joined(self.each(key, langs, **fmt), langs, sep)
        return self._memo[memo_key]

    def date(self, iso: str | None, lang: str | None = None) -> str:
        """A date as ``lang`` (default the wording's first) writes it: :func:`format_date` with
        report.yaml's ``date_format`` and ``months`` (English's where a language has none)."""
        lang = lang or self.lang
        dates = self.definition.texts(DATE_TEXTS)
        pattern = self._pick(dates, "date_format", lang)[0]
        months = self._pick(dates, "months", lang)[0]
        return format_date(iso, pattern, months)
