"""Pure value parsing: what a respondent typed in a cell, turned into a stored value.

No workbook, no file: every function takes a cell value (as openpyxl gives it) and an
:class:`~consult.definitions.questionnaire.Item`, and returns the value or raises
:class:`Invalid` with what was expected and how to fix it. Unit-tested from tables.

ONE answer parser serves both channels (the returned workbook and the KoboToolbox / ODK
Central export): :func:`parse_answer`, which refuses what no question type may hold (a
spreadsheet error such as ``#REF!``, a control character) and then dispatches by the table
:data:`PARSERS`, one parser per question type, named by the type's entry in the one table of
question types (:data:`~consult.definitions.qtypes.QTYPES`, as pyxform keeps one).
A rule about odd values therefore exists once: it is refused with the cell, never silently
turned into another value, whichever channel brought it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from consult.definitions.framework import text
from consult.definitions.qtypes import QTYPES
from consult.definitions.questionnaire import TEXT_LIMIT, Item
from consult.definitions.wording import joined
from consult.errors import printable
from consult.problems import Phrase, phrase, say

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
    """A found value as a message quotes it: at most 60 characters, control characters shown
    as escapes (``\\x07``), never raw, so a finding can neither rewrite a terminal nor break
    an export."""
    shown = raw_text(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    shown = CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), shown)
    return f"'{printable(shown)}'"


# --- what no answer may hold, whatever its type ---------------------------------------------

# Excel's error values (a formula's cached result, or typed: Excel turns "#N/A" typed in a
# cell into the error itself); the newer ones too (dynamic arrays, data types, add-ins).
ERROR_VALUES = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#PYTHON!",
    }
)


class ExcelError(str):
    """A cell whose value is an error (``t="e"`` in the sheet XML: a formula's cached ``#DIV/0!``),
    told apart from text that happens to read the same."""


# Characters no stored answer may hold: NUL and the C0 controls except tab, line feed and
# carriage return, DEL and the C1 controls, lone surrogates (from a ``_xD800_`` escape) and
# the noncharacters U+FFFE/U+FFFF. They are invisible to the respondent, make an .xlsx export
# fail (XML cannot hold them) and act on a terminal.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# ECMA-376 ST_Xstring: a character XML cannot hold is written ``_xHHHH_``, and a literal
# "_xHHHH_" is protected as ``_x005F_xHHHH_``.
_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def decode_escapes(text: str) -> str:
    """Text of a workbook's string as Excel shows it: every ``_xHHHH_`` becomes its character
    in one left-to-right pass, so ``_x000D_`` is a carriage return and ``_x005F_x000D_`` the
    literal text "_x000D_"; surrogate pairs (``_xD83D__xDE00_``) join into one character.
    LibreOffice decodes the C0 controls and ``_x005F_`` the same way and protects every literal
    "_xHHHH_" it writes with ``_x005F_``, so both programs' files read as their users see them.
    Half a surrogate pair alone is no character: it becomes U+FFFD, as LibreOffice shows it
    (and as no terminal, database or export can choke on)."""
    if "_x" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any("\ud800" <= ch <= "\udfff" for ch in decoded):
        decoded = decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return decoded


def refuse_odd(value: Any) -> None:
    """Raise :class:`Invalid` for what no question type may hold: a spreadsheet error value
    (``#REF!``, a formula's cached ``#DIV/0!``) and text with a control character. The same
    rule in both channels: refused with the cell, never stored."""
    if isinstance(value, ExcelError) or (isinstance(value, str) and value.strip().upper() in ERROR_VALUES):
        shown = value.strip()
        raise Invalid(
            [phrase("not_error", shown=shown)],
            [phrase("error_cell", shown=shown)],
            odd="error",
        )
    if isinstance(value, str):
        found = CONTROL.search(value)
        if found:
            char = found.group()
            name = "NUL" if char == "\x00" else f"U+{ord(char):04X}"
            raise Invalid(
                [phrase("no_control", name=name, position=found.start() + 1)],
                [phrase("retype")],
                odd="control",
            )


class Invalid(Exception):
    """A value refused: what was expected, how to fix it, and for an odd value (see
    :func:`refuse_odd`) which one: ``range``, ``error`` or ``control``, so that the feedback
    to the institution can say how to correct it in its own words. ``expected`` and ``fix``
    are phrases of the problem catalogue (``phrases:`` in questionnaires/problems.yaml), said in
    English here and in the reader's language when the finding is shown (``worded``)."""

    def __init__(self, expected: list[Phrase], fix: list[Phrase], odd: str = ""):
        self.worded = {"expected": expected, "fix": fix}
        self.odd = odd

    @property
    def expected(self) -> str:
        return say(self.worded["expected"])

    @property
    def fix(self) -> str:
        return say(self.worded["fix"])


def _choice_expected(item: Item, langs: list[str], limit: int = 7) -> list[Phrase]:
    choices = item.choices
    names = "; ".join(f"'{text(c.label, langs[0])}'" for c in choices[:limit])
    more = [phrase("choice_more", n=len(choices) - limit)] if len(choices) > limit else []
    return [phrase("choice_one_of", options=names), *more]


def _rating_expected(item: Item, langs: list[str]) -> list[Phrase]:
    na = [text(c.label, langs[0]) for c in item.choices if c.code == "na"]
    return [phrase("rating"), *([phrase("rating_or_na", na=na[0])] if na else [])]


def _slot_expected(item: Item, langs: list[str]) -> list[Phrase]:
    choices = item.choices
    return [phrase("slot", n=len(choices), example=text(choices[0].label, langs[0]))]


CHOOSE_FROM_LIST = [phrase("choose_from_list")]
PICK_ONE = [phrase("pick_one")]


# "5", "5.0", "5,00", "5 - Top priority", "5: top", "5) top", "5. Top": the digit, then an
# optional all-zero decimal, then text that does not go on with digits ("4.9", "1.99" and
# "5.5" are not ratings: truncating them would silently change what was meant). The space
# after the separator is excluded from the look-ahead too, so "3 - 4" cannot slip through by
# the regex giving back a space.
_RATING = re.compile(r"^([1-5])(?:[.,]0+)?(?:\s*[-:.)]\s*(?![\s\d.,]).*)?$")
# A range: a number, a dash (any kind), "to", "or", "/", ".." or an ellipsis, and a number
# ("3 - 4", "1-5", "3–4", "3 to 4", "3/4"): two answers where one is asked for.
_RANGE = re.compile(r"^\d+(?:[.,]\d+)?\s*(?:[-‐‑‒–—−/…]|\.\.|to|or|до|или)\s*\d")


def _key(value: Any) -> str:
    """A typed value as the choice table is keyed (3.0 typed as a number is "3")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return norm(raw_text(value))


def _listed(value: Any, item: Item, langs: list[str]) -> str | None:
    """The code of the choice ``value`` names (code, label, side-by-side label), or None."""
    return lookup(item, tuple(langs)).get(_key(value))


def parse_option(value: Any, item: Item, langs: list[str]) -> str:
    """One choice of the item's list: a single answer, one option of a multiple choice."""
    code = _listed(value, item, langs)
    if code is None:
        raise Invalid(_choice_expected(item, langs), CHOOSE_FROM_LIST)
    return code


def parse_slot(value: Any, item: Item, langs: list[str]) -> str:
    """One slot of a ranking: one of the components in its drop-down list."""
    code = _listed(value, item, langs)
    if code is None:
        raise Invalid(_slot_expected(item, langs), CHOOSE_FROM_LIST)
    return code


def parse_rating(value: Any, item: Item, langs: list[str]) -> str:
    """A rating: a choice of its list, or the digit it starts with ("5 - Top priority"); a range
    ("3-4", or the date Excel made of it) is refused, never truncated to one of its ends."""
    code = _listed(value, item, langs)
    if code is not None:
        return code
    if isinstance(value, dt.date) and value.day <= 5 and value.month <= 5:
        raise Invalid(  # Excel turns "3-4" typed into a rating cell into the date 3 April (or 4 March)
            [*_rating_expected(item, langs), phrase("not_range_date")],
            PICK_ONE,
            odd="range",
        )
    if _RANGE.match(raw_text(value).strip().casefold()):
        raise Invalid(
            [*_rating_expected(item, langs), phrase("not_range")],
            PICK_ONE,
            odd="range",
        )
    m = _RATING.match(_key(value))
    if m:
        return m.group(1)
    raise Invalid(_rating_expected(item, langs), CHOOSE_FROM_LIST)


# Digits with an optional decimal part (point or comma, already normalised) and exponent:
# what a person types. Not "nan", "inf", "Infinity", "1_000" or "0x10", which float() takes.
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def _shown_number(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def number_range(low: float | int | None, high: float | int | None) -> str:
    """'a number', 'a number of at least 0', 'a number of at most 10', 'a number between 1 and 5'."""
    return say(_range_phrases(low, high))


def _range_phrases(low: float | int | None, high: float | int | None) -> list[Phrase]:
    if low is not None and high is not None:
        return [phrase("number_between", low=_shown_number(low), high=_shown_number(high))]
    if low is not None:
        return [phrase("number_at_least", low=_shown_number(low))]
    if high is not None:
        return [phrase("number_at_most", high=_shown_number(high))]
    return [phrase("number")]


def parse_number(value: Any, item: Item) -> float | int:
    """A finite number within the item's bounds; text is accepted with spaces as thousands
    separators and a decimal comma ("1 200,5")."""
    expected = _range_phrases(item.min, item.max)
    if isinstance(value, bool):
        raise Invalid(expected, [phrase("digits")])
    if isinstance(value, (int, float)):
        number: float | int = value
    else:
        text = raw_text(value).replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
        if not _NUMBER.match(text):
            raise Invalid(expected, [phrase("digits_example")])
        number = float(text)
    if isinstance(number, float) and not math.isfinite(number):  # nan, inf, and 1e999 (too large)
        raise Invalid(expected, [phrase("digits_example")])
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if item.integer and not isinstance(number, int):  # a count: 12.5 staff is a typo, not a value to round
        whole = [phrase("whole")] if item.min is None and item.max is None else [phrase("whole_in", range=expected)]
        raise Invalid(whole, [phrase("type_whole")])
    if (item.min is not None and number < item.min) or (item.max is not None and number > item.max):
        raise Invalid(expected, [phrase("correct_number")])
    return number


DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _date_from_text(value: str) -> dt.date:
    """ISO dates, and the day-first forms used in the region (15.08.2020, 15/08/2020)."""
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise Invalid([phrase("date_example")], [phrase("date_iso")])


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
        raise Invalid([phrase("date_between")], [phrase("check_year")])
    return d.isoformat()


def parse_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    text = raw_text(value).strip()
    if len(text) > TEXT_LIMIT:
        raise Invalid([phrase("text_limit", limit=TEXT_LIMIT, n=len(text))], [phrase("shorten")])
    return text


YES_NO = [phrase("yes_or_blank")]


def parse_flag(value: Any) -> bool:
    """One choice of a multiple-choice question as its own cell (the workbook's "Yes" column,
    KoboToolbox's 0/1 column): True when chosen, False when blank or "No"."""
    refuse_odd(value)
    key = norm(raw_text(value))
    if key == "" or key in NO:
        return False
    if all(part.strip() in YES for part in key.split("/")):
        return True
    raise Invalid(YES_NO, [phrase("choose_yes_or_blank")])


Parser = Callable[[Any, Item, list[str]], Any]

# The parsers of one typed value, by the name a question type gives in its ``parser``
# (consult/definitions/qtypes.py, QTYPES). A rating, a single choice, one slot of a ranking
# and one chosen option of a multiple choice are all a choice of the item's list; a rating
# also takes the digit it starts with, and each says in its own words what it expected.
PARSER_FUNCTIONS: dict[str, Parser] = {
    "rating": parse_rating,
    "choice": parse_option,
    "slot": parse_slot,
    "number": lambda value, item, _langs: parse_number(value, item),
    "date": lambda value, _item, _langs: parse_date(value),
    "text": lambda value, _item, _langs: parse_text(value),
}

# The parser of each question type: one table, read from the one table of question types.
PARSERS: dict[str, Parser] = {name: PARSER_FUNCTIONS[q.parser] for name, q in QTYPES.items()}


def parse_choice(value: Any, item: Item, langs: list[str]) -> str:
    """One choice of a choice question (rating, single, multiple or rank), by its type's rule."""
    code: str = PARSERS[item.type](value, item, langs)
    return code


def parse_answer(value: Any, item: Item, langs: list[str]) -> Any:
    """THE answer parser of both channels: one typed value of ``item`` as it is stored, None
    when blank; :class:`Invalid` for a spreadsheet error, a control character or a value the
    question type does not take. ``n/a`` and any other non-blank text are answers (a text
    question stores them; a rating takes "n/a" as its "not applicable" choice)."""
    if value is None or (isinstance(value, str) and value.strip() == "" and not isinstance(value, ExcelError)):
        return None
    refuse_odd(value)
    return PARSERS[item.type](value, item, langs)
