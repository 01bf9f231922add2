"""Excel's number formats and date serials: which cells show dates, and which date a number is.

Why this module exists: a returned workbook stores a date as a serial number (days since an
epoch) in a cell whose style's number format shows it as a date; ingest must read it as the date
the respondent saw. openpyxl knows these rules, but importing any part of openpyxl imports the
whole package (about 140 ms, a third of the start-up of ``consult ingest``, which otherwise
reads workbooks with lxml alone). The rules are therefore stated here, and
``tests/test_serials.py`` holds them to openpyxl's results on every built-in format, a table of
custom ones and a range of serials in both calendars, so that a cell reads the same as it did.
"""

from __future__ import annotations

import datetime as dt
import re

# The two calendars of a workbook (``workbookPr date1904``). Day 0 of the 1900 calendar is
# 1899-12-30: Excel counts a 29 February 1900 that never was, so serials from 61 on land right
# from there and those below 60 are one day off, which ``from_serial`` puts right.
WINDOWS_1900 = dt.datetime(1899, 12, 30)
MAC_1904 = dt.datetime(1904, 1, 1)
SECONDS_A_DAY = 86_400

# The built-in number formats (ids every workbook may use without declaring them) that show a
# date, a time or a duration; the other built-in ids show plain numbers, percentages or text.
BUILTIN_DATE_FORMATS: dict[int, str] = {
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
}

# What a format shows literally rather than as a date part: a quoted text, or a bracketed
# colour, condition or locale ([Red], [>=100], [$-409]); an elapsed-time bracket ([h], [mm],
# [ss]) is a date part and stays.
_LITERALS = re.compile(r'"[^"\n]*"|\[(?!(?:hh?|mm?|ss?)\])[^\]]*\]')
# a date part: d, m, y, h or s, unless escaped (\d) or a space the width of a character (_d)
_DATE_PART = re.compile(r"(?<![_\\])[dmhysDMHYS]")  # no IGNORECASE: it would also match "ſ" (U+017F)
# elapsed time: [h]:mm:ss and its shorter forms, [mm]:ss, [ss] (with optional fractions)
_ELAPSED = re.compile(r"\[hh?\](?::mm(?::ss(?:\.0*)?)?)?|\[mm?\](?::ss(?:\.0*)?)?|\[ss?\](?:\.0*)?", re.IGNORECASE)


def _first_section(fmt: str) -> str:
    """A format has up to four sections (positive;negative;zero;text): the first decides."""
    return fmt.split(";", 1)[0]


def is_date_format(fmt: str | None) -> bool:
    """Does ``fmt`` show a number as a date, a time or a duration?"""
    return fmt is not None and _DATE_PART.search(_LITERALS.sub("", _first_section(fmt))) is not None


def is_duration_format(fmt: str | None) -> bool:
    """Does ``fmt`` show elapsed time ([h]:mm:ss), so that its number is a duration, not a date?"""
    return fmt is not None and _ELAPSED.search(_first_section(fmt)) is not None


def from_serial(
    value: float, epoch: dt.datetime = WINDOWS_1900, duration: bool = False
) -> dt.datetime | dt.time | dt.timedelta:
    """The date, time or duration that the serial ``value`` shows: a duration for an elapsed-time
    format (to the millisecond); a time of day for a fraction below one day; else a datetime
    (to the millisecond) in the workbook's calendar."""
    if duration:
        span = dt.timedelta(days=value)
        if span.microseconds:
            span = dt.timedelta(seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3))
        return span
    whole, fraction = divmod(value, 1)
    clock = dt.timedelta(milliseconds=round(fraction * SECONDS_A_DAY * 1000))
    if 0 <= value < 1 and clock.days == 0:
        minutes, seconds = divmod(clock.seconds, 60)
        return dt.time(minutes // 60, minutes % 60, seconds, clock.microseconds)
    if epoch == WINDOWS_1900 and 0 < value < 60:
        whole += 1  # before Excel's phantom 29 February 1900
    return epoch + dt.timedelta(days=whole) + clock
