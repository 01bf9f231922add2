"""Row heights that fit wrapped text, estimated without a renderer.

Excel and LibreOffice keep a row at the height stored in the file; a row whose labels wrap
to three lines but is stored one line high prints its text on top of the next row. Neither
program can be asked to measure text when the file is written, so the writer (and the
example filler, after typing an answer) estimates the wrapped lines from the characters
that fit in a column and stores a height that holds them.

The estimate is deliberately generous: a little white space costs nothing, overprinting
makes a printed questionnaire unusable. Widths are in Excel's unit (the width of a digit
of the workbook's default font, Arial 10 here, about 7 pixels); an average Latin
character of Arial 10 is narrower than a digit, a Cyrillic one a little narrower, bold wider.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # worksheets come from openpyxl users (the example filler, feedback); the writer passes none
    from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "Arial"
BODY_SIZE = 10.0
DEFAULT_WIDTH = 8.43  # Excel's width of a column with no explicit width
CHARS_PER_UNIT = 1.05  # characters of Arial 10 per unit of column width (measured: ~1.3 Latin, ~1.15 Cyrillic)
POINTS_PER_LINE = 1.275  # line height as a multiple of the font size: 12.75 pt for 10 pt text, as Excel
PADDING = 2.25  # points above and below the text


def chars_per_line(width: float, size: float = BODY_SIZE, bold: bool = False) -> int:
    """How many characters of ``size``-point text fit on one line of a ``width``-unit column."""
    per_unit = CHARS_PER_UNIT * BODY_SIZE / size * (0.9 if bold else 1.0)
    return max(1, int((width - 1) * per_unit))  # one unit of cell padding


@lru_cache(maxsize=1 << 16)  # the same labels recur in every form of a run
def wrapped_lines(text: str, width: float, size: float = BODY_SIZE, bold: bool = False) -> int:
    """Lines ``text`` takes when wrapped at word boundaries in a column of ``width`` units."""
    limit = chars_per_line(width, size, bold)
    lines = 0
    for paragraph in str(text).split("\n"):
        used = 0
        lines += 1
        for word in filter(None, paragraph.split(" ")):  # a no-break space keeps words together
            n = len(word)
            if used and used + 1 + n <= limit:
                used += 1 + n
                continue
            if used:
                lines += 1
            lines += (n - 1) // limit  # a word longer than a line breaks mid-word
            used = (n - 1) % limit + 1
    return lines


def height_for(lines: int, size: float = BODY_SIZE) -> float:
    """Row height in points that holds ``lines`` lines of ``size``-point text."""
    return math.ceil((lines * size * POINTS_PER_LINE + PADDING) * 4) / 4


def height_of(texts: Iterable[tuple[str, float, float, bool]]) -> float:
    """The height a row needs for every ``(text, column width, font size, bold)`` in it; one
    line of body text at least. The writer calls this with what it writes, without a worksheet."""
    best = height_for(1)
    for value, width, size, bold in texts:
        best = max(best, height_for(wrapped_lines(value, width, size, bold), size))
    return best


def column_width(ws: Worksheet, col: int) -> float:
    from openpyxl.utils import get_column_letter

    dim = ws.column_dimensions.get(get_column_letter(col))
    return dim.width if dim is not None and dim.width else DEFAULT_WIDTH


def _merged_width(ws: Worksheet, row: int, col: int) -> float | None:
    """Width of the merged range starting at (row, col); None when the cell is hidden by a merge."""
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
            if (rng.min_row, rng.min_col) != (row, col):
                return None
            return sum(column_width(ws, c) for c in range(rng.min_col, rng.max_col + 1))
    return column_width(ws, col)


def needed_height(ws: Worksheet, row: int, extra: Mapping[int, str] | None = None) -> float:
    """The height row ``row`` needs for every value in it (and for ``extra`` texts by column,
    e.g. the longest option a drop-down can put in the answer cell)."""
    from openpyxl.utils import get_column_letter

    texts: dict[int, list[str]] = {}
    for cell in ws[row]:
        if cell.value is None:
            continue  # empty, or covered by a merged range
        dim = ws.column_dimensions.get(get_column_letter(cell.column))
        if not (dim is not None and dim.hidden):
            texts.setdefault(cell.column, []).append(str(cell.value))
    for col, value in (extra or {}).items():
        texts.setdefault(col, []).append(value)
    measured = []
    for col, values in texts.items():
        width = _merged_width(ws, row, col)
        if width is None:
            continue
        font = ws.cell(row=row, column=col).font
        size = float(font.sz or BODY_SIZE)
        measured += [(value, width, size, bool(font.b)) for value in values]
    return height_of(measured)


def fit_row(ws: Worksheet, row: int, extra: Mapping[int, str] | None = None, minimum: float = 0.0) -> None:
    """Set the row's height to hold its text; never shrink a row already taller."""
    current = ws.row_dimensions[row].height or 0.0
    ws.row_dimensions[row].height = max(current, minimum, needed_height(ws, row, extra))
