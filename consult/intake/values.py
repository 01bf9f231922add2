"""Pure value parsing: what a respondent typed in a cell, turned into a stored value.

No workbook, no file: every function takes a cell value (as openpyxl gives it) and an
:class:`~consult.definitions.questionnaire.Item`, and returns the value or raises
:class:`Invalid` with what was expected and how to fix it. Unit-tested from tables.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from consult.definitions.framework import text
from consult.definitions.questionnaire import TEXT_LIMIT, Item
from consult.forms.layout import joined

YES = {"yes", "да", "x", "х", "✓", "✔", "1", "true", "y", "д", "+", "v", "oui"}
NO = {"no", "нет", "0", "false", "n", "н", "-"}
NA_SYNONYMS = {"n/a", "na", "н/п", "н/д", "not applicable", "не применимо", "неприменимо"}


def norm(value: str) -> str:
    """Case-, space- and dash-insensitive form used to match typed labels."""
    value = value.replace("\u00a0", " ").replace("–", "-").replace("—", "-").replace("ё", "е")
    return re.sub(r"\s+", " ", value).strip().casefold()


def lookup(item: Item, langs: tuple[str, ...]) -> dict[str, str]:
    """Every accepted spelling of every choice: code, each label, the side-by-side label."""
    if langs in item.lookups:
        return item.lookups[langs]
    table: dict[str, str] = {}
    for c in item.choices:
        keys = [c.code, *c.label.values(), joined(c.label, list(langs)), joined(c.label, list(c.label))]
        if c.code == "na":
            keys += list(NA_SYNONYMS)
        for k in keys:
            table.setdefault(norm(k), c.code)
        for label in c.label.values():  # "5 - Top priority": also accept "Top priority"
            m = re.match(r"^\d+\s*-\s*(.+)$", label)
            if m:
                table.setdefault(norm(m.group(1)), c.code)
        if "." in c.code:  # components: also accept the bare component name
            for label in c.label.values():
                table.setdefault(norm(label.split(": ", 1)[-1]), c.code)
    item.lookups[langs] = table
    return table


def raw_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe(value: Any) -> str:
    shown = raw_text(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"'{shown}'"


class Invalid(Exception):
    def __init__(self, expected: str, fix: str):
        self.expected = expected
        self.fix = fix


def _choice_expected(item: Item, langs: list[str], limit: int = 7) -> str:
    if item.type == "rating":
        na = [text(c.label, langs[0]) for c in item.choices if c.code == "na"]
        return "a rating from 1 to 5" + (f" or '{na[0]}'" if na else "")
    choices = item.choices
    if item.type == "rank":
        return f"one of the {len(choices)} components in the drop-down list, e.g. '{text(choices[0].label, langs[0])}'"
    names = [text(c.label, langs[0]) for c in choices[:limit]]
    more = f" (or one of {len(choices) - limit} more)" if len(choices) > limit else ""
    return "one of " + "; ".join(f"'{n}'" for n in names) + more


# "5", "5.0", "5,00", "5 - Top priority", "5: top", "5) top", "5. Top": the digit, then an
# optional all-zero decimal, then text that does not go on with digits ("4.9", "1.99" and
# "5.5" are not ratings: truncating them would silently change what was meant).
_RATING = re.compile(r"^([1-5])(?:[.,]0+)?(?:\s*[-:.)]\s*(?![\d.,]).*)?$")


def parse_choice(value: Any, item: Item, langs: list[str]) -> str:
    table = lookup(item, tuple(langs))
    key = norm(raw_text(value))
    if isinstance(value, float) and value.is_integer():
        key = str(int(value))
    if key in table:
        return table[key]
    if item.type == "rating":
        m = _RATING.match(key)
        if m:
            return m.group(1)
    raise Invalid(_choice_expected(item, langs), "choose a value from the drop-down list")


# Digits with an optional decimal part (point or comma, already normalised) and exponent:
# what a person types. Not "nan", "inf", "Infinity", "1_000" or "0x10", which float() takes.
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def _shown_number(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def number_range(low: float | int | None, high: float | int | None) -> str:
    """'a number', 'a number of at least 0', 'a number of at most 10', 'a number between 1 and 5'."""
    if low is not None and high is not None:
        return f"a number between {_shown_number(low)} and {_shown_number(high)}"
    if low is not None:
        return f"a number of at least {_shown_number(low)}"
    if high is not None:
        return f"a number of at most {_shown_number(high)}"
    return "a number"


def parse_number(value: Any, item: Item) -> float | int:
    """A finite number within the item's bounds; text is accepted with spaces as thousands
    separators and a decimal comma ("1 200,5")."""
    expected = number_range(item.min, item.max)
    if isinstance(value, bool):
        raise Invalid(expected, "type digits only")
    if isinstance(value, (int, float)):
        number: float | int = value
    else:
        text = raw_text(value).replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
        if not _NUMBER.match(text):
            raise Invalid(expected, "type digits only, e.g. 12 or 12.5")
        number = float(text)
    if isinstance(number, float) and not math.isfinite(number):  # nan, inf, and 1e999 (too large)
        raise Invalid(expected, "type digits only, e.g. 12 or 12.5")
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if (item.min is not None and number < item.min) or (item.max is not None and number > item.max):
        raise Invalid(expected, "correct the number")
    return number


DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _date_from_text(value: str) -> dt.date:
    """ISO dates, and the day-first forms used in the region (15.08.2020, 15/08/2020)."""
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise Invalid("a date such as 2020-08-15", "type the date as YYYY-MM-DD")


def parse_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    elif isinstance(value, (int, float)) and 36526 <= value <= 73051:  # an Excel serial day
        d = (dt.datetime(1899, 12, 30) + dt.timedelta(days=float(value))).date()
    else:
        d = _date_from_text(raw_text(value).strip())
    if not 2000 <= d.year <= 2100:
        raise Invalid("a date between 2000 and 2100", "check the year")
    return d.isoformat()


def parse_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    text = raw_text(value).strip()
    if len(text) > TEXT_LIMIT:
        raise Invalid(f"at most {TEXT_LIMIT} characters (found {len(text)})", "shorten the text")
    return text
