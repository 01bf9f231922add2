"""Ingest reads dates by the rules of consult.intake.serials, which replace openpyxl's (importing
openpyxl costs a third of ingest's start-up): these tests hold them to openpyxl's results, so a
date cell reads exactly as it did when ingest used openpyxl."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from consult.intake import serials

CUSTOM = [
    None,
    "General",
    "0.00",
    "yyyy-mm-dd",
    "dd.mm.yyyy",
    "dd/mm/yyyy;@",
    "[$-409]d-mmm-yy;@",
    "[$-F800]dddd, mmmm dd, yyyy",
    "[Red]0.00",
    "[Red]yyyy",
    '"Day "0',
    '"yes"',
    '"date:" dd',
    '0 "days"',
    "\\d0",
    "_d0",
    "0_)",
    "[h]:mm:ss",
    "[hh]:mm",
    "[mm]:ss",
    "[ss].00",
    "[s]",
    "[H]:MM:SS",
    "h:mm AM/PM",
    "mm:ss.0",
    "0;[Red]-0;yyyy",
    "yyyy;0",
    "#,##0.00 €",
    "@",
    "[>=100]0;0",
    '[=1]"one";0',
    "D",
    "d\u00a0mmmm",
    'yyyy"年"m"月"d"日"',
    '"\nd"0',
    "0 ſ",  # U+017F, which a case-insensitive match would take for an s
    "0 K",  # U+212A KELVIN SIGN, likewise for a k (not a date part either way)
]


@pytest.mark.parametrize("fmt", [*BUILTIN_FORMATS.values(), *CUSTOM])
def test_a_format_shows_a_date_or_a_duration_exactly_when_openpyxl_says_so(fmt: str | None) -> None:
    assert serials.is_date_format(fmt) == is_date_format(fmt)
    assert serials.is_duration_format(fmt) == is_timedelta_format(fmt)


def test_the_builtin_date_formats_are_openpyxls() -> None:
    dates = {i: f for i, f in BUILTIN_FORMATS.items() if is_date_format(f) or is_timedelta_format(f)}
    assert dates == serials.BUILTIN_DATE_FORMATS


SERIALS = [0, 0.5, 0.999999, 0.9999999999, 1, 1.25, 59, 59.999, 60, 60.5, 61, 366, 43831, 43831.0001, 45657.75]
SERIALS += [x / 7 for x in range(0, 800_000, 9_973)]


@pytest.mark.parametrize("value", SERIALS)
def test_a_serial_is_the_date_openpyxl_reads(value: float) -> None:
    for (mine, theirs), duration in itertools.product(
        [(serials.WINDOWS_1900, CALENDAR_WINDOWS_1900), (serials.MAC_1904, CALENDAR_MAC_1904)], [False, True]
    ):
        assert serials.from_serial(value, mine, duration) == from_excel(value, theirs, timedelta=duration)


def test_a_fraction_of_a_day_is_a_time_and_the_1900_calendar_skips_its_phantom_leap_day() -> None:
    assert serials.from_serial(0.75) == dt.time(18, 0)
    assert serials.from_serial(59) == dt.datetime(1900, 2, 28)
    assert serials.from_serial(61) == dt.datetime(1900, 3, 1)
    assert serials.from_serial(0, serials.MAC_1904, duration=True) == dt.timedelta(0)
