"""The plumbing of one worksheet: tab names, cells written as text, rows tall enough to read.

Every sheet of a questionnaire is written through :class:`Sheet`, which remembers the texts put
in each row so that the row's height can be set to hold them (XlsxWriter writes a height, it
does not measure one; :mod:`consult.forms.fit` estimates it), and writes no empty cell that
would not show. What is written where is the business of the sheets' own modules
(:mod:`~consult.forms.cover`, :mod:`~consult.forms.section`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from consult.definitions import Definition
from consult.definitions.framework import text
from consult.definitions.questionnaire import FormSection
from consult.definitions.wording import Wording
from consult.forms.fit import DEFAULT_WIDTH, height_of
from consult.forms.styles import DIGIT_PIXELS, FONTS, SHOWN_EMPTY


def sheet_title(index: int | None, names: list[str], used: set[str]) -> str:
    """A tab name Excel accepts (31 characters, no []:*?/\\'), unique in the workbook.

    ``names`` are the tab's name in each language of the form: all of them side by side
    where that fits, else the first language alone, so a name is never cut mid-word."""
    parts: list[str] = []
    for name in names:
        clean = re.sub(r"[\[\]:*?/\\']", " ", name).strip()
        if clean and clean not in parts:
            parts.append(clean)
    prefix = "" if index is None else f"{index} "
    base = prefix + " · ".join(parts)
    if len(base) > 31:
        base = (prefix + parts[0])[:31].strip()
    title, n = base, 2
    while title.lower() in used:
        title = f"{base[:28]}~{n}"
        n += 1
    used.add(title.lower())
    return title


def tab_names(section: FormSection, definition: Definition, langs: list[str]) -> list[str]:
    """The tab name of a section in each language: ``tab_<area or section id>`` of
    messages.yaml where given (short names that fit a tab), else the area's short name or
    the section title."""
    key = f"tab_{section.area or section.id}"
    words = Wording.of(definition, "messages", langs)
    if words.has(key):
        return [words.one(key, lang) for lang in langs]
    if section.area:
        return [text(definition.framework.area_by_id[section.area].short, lang) for lang in langs]
    return [text(section.title, lang) for lang in langs]


def get_column_letter(col: int) -> str:
    """Column ``col`` (from 1) as Excel names it: 1 -> A, 27 -> AA."""
    return str(xl_col_to_name(col - 1))


def protect(ws: Worksheet) -> None:
    # people may widen columns and rows to read
    ws.protect("", {"format_columns": True, "format_rows": True})


class Sheet:
    """One worksheet being written: its cells, the columns' widths, and row heights that fit
    the texts written (rows and columns numbered from 1, as Excel shows them)."""

    def __init__(self, ws: Worksheet, formats: dict[str, Format], widths: dict[int, float], hidden: Iterable[int] = ()):
        self.ws = ws
        self.formats = formats
        self.widths = widths
        self.hidden = set(hidden)
        self.texts: dict[int, list[tuple[str, float, float, bool]]] = {}  # row -> (text, width, size, bold)
        self.styles: dict[tuple[int, int], str] = {}
        for col, width in widths.items():
            # pixels, so that the stored width is exactly ``width`` (set_column adds padding)
            ws.set_column_pixels(col - 1, col - 1, round(width * DIGIT_PIXELS))
        for col in self.hidden:
            ws.set_column(col - 1, col - 1, None, None, {"hidden": True})

    def put(self, row: int, col: int, value: str | None, style: str | None = None) -> None:
        """Write ``value`` as text; an empty cell is written only where its style shows (a
        fill or a border), an empty cell in a font alone looks like no cell at all."""
        if style:
            self.styles[(row, col)] = style
        if not value:
            if style in SHOWN_EMPTY:
                self.ws.write_blank(row - 1, col - 1, None, self.formats[style])
            return
        self.ws.write_string(row - 1, col - 1, value, self.formats[style] if style else None)
        if col not in self.hidden:
            self.texts.setdefault(row, []).append((value, self.widths.get(col, DEFAULT_WIDTH), *FONTS[style or "body"]))

    def merge(self, row: int, first: int, last: int, value: str, style: str) -> None:
        """``value`` across columns ``first`` to ``last`` of one row."""
        self.ws.merge_range(row - 1, first - 1, row - 1, last - 1, value, self.formats[style])
        width = sum(self.widths.get(c, DEFAULT_WIDTH) for c in range(first, last + 1))
        self.texts.setdefault(row, []).append((value, width, *FONTS[style]))

    def fit(self, row: int, extra: dict[int, str] | None = None, minimum: float = 0.0) -> None:
        """Set the row's height to hold its texts (and ``extra`` texts by column, e.g. the
        longest option a drop-down can put in the answer cell)."""
        texts = self.texts.get(row, [])
        if extra:
            texts = texts + [
                (value, self.widths.get(col, DEFAULT_WIDTH), *FONTS[self.styles.get((row, col), "body")])
                for col, value in extra.items()
            ]
        # in whole pixels (3/4 pt), rounded up: XlsxWriter would round a height to the nearest
        height = max(minimum, height_of(texts))
        self.ws.set_row_pixels(row - 1, math.ceil(height * 4 / 3 - 1e-9))
