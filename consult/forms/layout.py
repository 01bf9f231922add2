"""The workbook layout that the writer and the reader share: sheet names, rows, columns, seal.

Only what both sides must agree on lives here, so that a change to the form's look cannot
silently change how returns are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

META_SHEET = "_consult"
LISTS_SHEET = "_lists"
FORMAT = "consult-questionnaire/1"
HEADER_ROW = 3
FIRST_ROW = 4


def read_metadata(rows: Iterable[Sequence[Any]]) -> dict[str, str]:
    """The key/value rows of the hidden metadata sheet (``META_SHEET``: key in the first column,
    value in the second) as text, a blank value as "". One rule for every reader of the sheet
    (ingest, feedback, the example filler), whatever library hands it the rows."""
    return {
        str(row[0]): "" if len(row) < 2 or row[1] is None else str(row[1])
        for row in rows
        if len(row) > 0 and row[0] is not None
    }


@dataclass
class Layout:
    """Column positions for a given set of languages."""

    langs: list[str]

    @property
    def label_cols(self) -> list[int]:
        return [4 + i for i in range(len(self.langs))]

    @property
    def answer_col(self) -> int:
        return 4 + len(self.langs)

    @property
    def hint_col(self) -> int:
        return self.answer_col + 1
