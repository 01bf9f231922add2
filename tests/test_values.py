"""The pure value parsers, from tables: what a respondent typed -> what is stored, or refused.

Items are the real ones of the bundled questionnaire (resolved for KZ-MOH), so the accepted
labels are the ones the drop-downs show. No workbook is read: these run in milliseconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from consult.definitions import bundled_definition
from consult.definitions.questionnaire import QUESTION_TYPES, Item, resolve
from consult.intake.values import (
    PARSERS,
    ExcelError,
    Invalid,
    decode_escapes,
    describe,
    number_range,
    parse_answer,
    parse_choice,
    parse_date,
    parse_number,
    parse_text,
)

LANGS = ["en", "ru"]


def item(item_id: str) -> Item:
    d = bundled_definition()
    return resolve(d.questionnaire, d.framework, "KZ", "MOH").item_by_id[item_id]


RATING = item("TOC.priority")
STAFF = item("staff")  # a count: a whole number, min 0, no max
AMOUNT = dataclasses.replace(STAFF, integer=False)  # a number that may have decimals


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("5", "5"),
        (5, "5"),
        (4.0, "4"),
        ("4.0", "4"),
        ("4,00", "4"),
        ("5 - Top priority", "5"),
        ("5 - Top priority / 5 - Наивысший приоритет", "5"),
        ("  top PRIORITY ", "5"),
        ("3: medium", "3"),
        ("2) low", "2"),
        ("5. Top", "5"),
        ("n/a", "na"),
        ("не применимо", "na"),
    ],
)
def test_ratings_accepted(typed: Any, code: str) -> None:
    assert parse_choice(typed, RATING, LANGS) == code


@pytest.mark.parametrize("typed", [4.9, "4.9", "1.99", 5.5, "5.5", "4,5", "6", 0, "0", "5.01", "nan", "", "high"])
def test_ratings_refused_never_truncated(typed: Any) -> None:
    with pytest.raises(Invalid) as exc:
        parse_choice(typed, RATING, LANGS)
    assert exc.value.expected.startswith("a rating from 1 to 5")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        (12, 12),
        (12.0, 12),
        (12.5, 12.5),
        ("12", 12),
        ("1 200", 1200),
        ("1\u00a0200,5", 1200.5),
        ("12,5", 12.5),
        ("+7", 7),
        ("1e3", 1000),
        ("0", 0),
    ],
)
def test_numbers_accepted(typed: Any, number: float) -> None:
    result = parse_number(typed, AMOUNT)
    assert result == number and type(result) is type(number)


@pytest.mark.parametrize(
    "typed",
    ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", float("nan"), float("inf"), "1_000", "0x10", "twelve", True],
)
def test_non_finite_and_odd_numbers_refused(typed: Any) -> None:
    with pytest.raises(Invalid) as exc:
        parse_number(typed, STAFF)
    assert exc.value.expected == "a number of at least 0"


@pytest.mark.parametrize("typed", [12.5, "12,5", "0.1", "1 200,5"])
def test_a_count_is_a_whole_number_never_rounded(typed: Any) -> None:
    with pytest.raises(Invalid) as exc:
        parse_number(typed, STAFF)
    assert exc.value.expected == "a whole number (a number of at least 0)"
    assert parse_number("12,0", STAFF) == 12 and parse_number(1200.0, STAFF) == 1200


def test_number_bounds_are_worded_by_which_bounds_exist() -> None:
    with pytest.raises(Invalid) as exc:
        parse_number(-1, STAFF)
    assert exc.value.expected == "a number of at least 0"  # not "between 0 and None"
    bounded = dataclasses.replace(STAFF, min=1.0, max=5.0)
    with pytest.raises(Invalid) as exc:
        parse_number("6", bounded)
    assert exc.value.expected == "a number between 1 and 5"
    assert number_range(None, 10) == "a number of at most 10"
    assert number_range(None, None) == "a number"
    assert number_range(0.5, None) == "a number of at least 0.5"


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("2020-08-15", "2020-08-15"),
        ("15.08.2020", "2020-08-15"),
        ("15/08/2020", "2020-08-15"),
        (dt.datetime(2020, 8, 15, 0, 0), "2020-08-15"),
        (dt.date(2020, 8, 15), "2020-08-15"),
        (44058, "2020-08-15"),  # an Excel serial day
    ],
)
def test_dates_accepted(typed: Any, iso: str) -> None:
    assert parse_date(typed) == iso


@pytest.mark.parametrize("typed", ["31/31/2020", "1999-01-01", "tomorrow", float("nan"), float("inf")])
def test_dates_refused(typed: Any) -> None:
    with pytest.raises(Invalid):
        parse_date(typed)


def test_text_is_trimmed_and_bounded() -> None:
    assert parse_text("  a proposal  ") == "a proposal"
    assert parse_text(dt.datetime(2020, 8, 15)) == "2020-08-15"
    with pytest.raises(Invalid) as exc:
        parse_text("x" * 5000)
    assert "at most" in exc.value.expected


# --- the one answer parser of both channels (issue 25) ---------------------------------------------------------------
def test_one_table_of_question_types() -> None:
    assert set(PARSERS) == set(QUESTION_TYPES)


@pytest.mark.parametrize("typed", ["3 - 4", "1 - 5", "3-4", "3–4", "3 — 4", "2 to 3", "4/5", "1..5", " 3 -4 "])
def test_a_rating_range_is_refused_never_its_first_number(typed: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_answer(typed, item("TOC.priority"), LANGS)
    assert "not a range" in exc.value.expected and "pick one number" in exc.value.fix


def test_a_range_excel_turned_into_a_date_is_refused_as_a_range() -> None:
    with pytest.raises(Invalid) as exc:
        parse_answer(dt.datetime(2026, 4, 3), item("TOC.priority"), LANGS)
    assert "not a range" in exc.value.expected and exc.value.odd == "range"


@pytest.mark.parametrize("typed", ["5 - Top priority", "3: medium", "5. Top", "4", "n/a", "N/A"])
def test_ratings_with_their_label_are_still_ratings(typed: str) -> None:
    assert parse_answer(typed, item("TOC.priority"), LANGS) in ("5", "3", "4", "na")


@pytest.mark.parametrize(
    "value",
    ["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", " #ref! ", ExcelError("#SPILL!")],
)
@pytest.mark.parametrize("item_id", ["TOC.challenges", "TOC.priority", "staff", "date", "top5"])
def test_spreadsheet_errors_are_refused_in_every_question_type(value: Any, item_id: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_answer(value, item(item_id), LANGS)
    assert "spreadsheet error" in exc.value.expected


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\ud83d", "\ufffe"])
def test_control_characters_are_refused_and_shown_escaped(char: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_answer(f"a{char}b", item("TOC.challenges"), LANGS)
    assert "at position 2" in exc.value.expected
    shown = describe(f"a{char}b")
    assert char not in shown and ("\\x" in shown or "\\u" in shown)


def test_text_with_tabs_and_line_breaks_is_an_answer() -> None:
    assert parse_answer("one\ttwo\r\nthree", item("TOC.challenges"), LANGS) == "one\ttwo\r\nthree"
    assert parse_answer("n/a", item("TOC.challenges"), LANGS) == "n/a"
    assert parse_answer("  ", item("TOC.challenges"), LANGS) is None


@pytest.mark.parametrize(
    ("stored_as", "seen"),
    [
        ("a_x000D_b", "a\rb"),
        ("a_x000d__x000a_b", "a\r\nb"),
        ("_x005F_x000D_", "_x000D_"),  # a literal "_x000D_", protected as Excel and LibreOffice write it
        ("x_x005F_y", "x_y"),
        ("_x0000_", "\x00"),
        ("_xD83D__xDE00_", "\U0001f600"),  # a surrogate pair joins into one character
        ("half _xD83D_ a pair", "half \ufffd a pair"),  # half a pair is no character: U+FFFD, as LibreOffice
        ("_x00e9_t_x00E9_", "été"),
        ("_x12_ and _xZZZZ_", "_x12_ and _xZZZZ_"),  # not escapes
        ("plain", "plain"),
    ],
)
def test_excel_escapes_decode_as_excel_shows_them(stored_as: str, seen: str) -> None:
    assert decode_escapes(stored_as) == seen
