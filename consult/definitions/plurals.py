"""Plural forms in the texts of the definitions (report.yaml, feedback.yaml), by CLDR rules.

A text names the forms of a counted word inline, ``{n|one:ведомство;few:ведомства;many:ведомств}``,
and the number's plural category in the text's language (Babel's CLDR data) picks one: a
document never writes "institution(s)" or "раз(а)", and a new language brings its own forms
without code.
"""

from __future__ import annotations

import re
from typing import Any

_PLURAL = re.compile(r"\{(\w+)\|([^{}]+)\}")


def plurals(value: str, lang: str, fmt: dict[str, Any]) -> str:
    """``{n|one:institution;other:institutions}`` becomes the form CLDR's plural rules pick for
    the number ``n`` in ``lang`` (Babel): Russian has one, few and many (1 ведомство, 2
    ведомства, 5 ведомств), so a document never writes "institution(s)" or "раз(а)". A form
    a text lacks falls back to ``other``."""

    def pick(m: re.Match[str]) -> str:
        forms = dict(part.split(":", 1) for part in m.group(2).split(";"))
        number = fmt.get(m.group(1), 0)
        return forms.get(plural_category(number, lang)) or forms.get("other", "")

    return _PLURAL.sub(pick, value)


def plural_category(number: object, lang: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    try:
        return str(locale.plural_form(abs(float(str(number)))))
    except ValueError:
        return "other"
