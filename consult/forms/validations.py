"""What an answer cell accepts: Excel data validations and the drop-down lists they point at.

A question type names its cell's validation (``QTYPES``, ``validation``); :data:`VALIDATIONS`
holds one rule per name, so a new type with a new kind of check is one function here. The
rows of a multiple choice or a ranking each get a drop-down (written by
:func:`consult.forms.section.write_section`). Excel keeps a file small with one validation per
rule listing all its cells (:class:`Validations`), and every list in one hidden sheet
(:class:`Lists`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xlsxwriter.worksheet import Worksheet

from consult.definitions.questionnaire import TEXT_LIMIT, Choice, Item
from consult.definitions.wording import Wording, joined
from consult.forms.fit import height_for
from consult.forms.layout import LISTS_SHEET
from consult.forms.sheet import get_column_letter

TEXT_LINES = 3  # lines of room under a question answered in sentences


class Lists:
    """The hidden sheet holding every dropdown list, one column per list (written last, so
    that it follows the section sheets; the ranges are known before)."""

    def __init__(self) -> None:
        self.columns: list[list[str]] = []
        self.ranges: dict[str, str] = {}

    def range_for(self, key: str, labels: list[str]) -> str:
        if key not in self.ranges:
            self.columns.append([key, *labels])
            letter = get_column_letter(len(self.columns))
            self.ranges[key] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(labels) + 1}"
        return self.ranges[key]

    def write(self, ws: Worksheet) -> None:
        for col, values in enumerate(self.columns):
            for row, value in enumerate(values):
                ws.write_string(row, col, value)  # as text, always: never read as a formula or a link


class Validations:
    """One data validation per rule and sheet, listing all its cells: Excel keeps files small that way."""

    def __init__(self, langs: list[str], tx: Wording):
        self.langs = langs
        self.tx = tx
        self.rules: dict[str, dict[str, Any]] = {}
        self.cells: dict[str, list[str]] = {}

    def add(self, key: str, cell: str, **rule: Any) -> None:
        """Add ``cell`` to the rule ``key``, created from ``rule`` (XlsxWriter options) on first use."""
        if key not in self.rules:
            title = self.tx.joined("invalid_choice_title", langs=self.langs)
            if len(title) > 32:
                title = self.tx.joined("invalid_choice_title", langs=self.langs[:1])[:32]
            self.rules[key] = {"ignore_blank": True, "show_input": False, "error_type": "stop", "error_title": title}
            self.rules[key].update(rule)
            self.cells[key] = []
        self.cells[key].append(cell)

    def write(self, ws: Worksheet) -> None:
        for key, rule in self.rules.items():
            cells = self.cells[key]
            if rule["validate"] == "list":
                rule["error_message"] = self.tx.joined("invalid_choice", langs=self.langs)
            if len(rule.get("error_message", "")) > 255:  # Excel's limit
                rule["error_message"] = rule["error_message"][:255]
            first = cells[0]
            rc = ws.data_validation(first, {**rule, "multi_range": " ".join(cells)})
            if rc != 0:
                raise RuntimeError(f"XlsxWriter refused the data validation {key} ({rc})")


def choice_label(choice: Choice, langs: list[str]) -> str:
    return joined(choice.label, langs)


# --- the answer cell of a one-cell question: its data validation -------------------------------


@dataclass
class AnswerCell:
    """The answer cell of a one-cell question, being written: what its validation rule needs."""

    item: Item
    ref: str
    dvs: Validations
    lists: Lists
    langs: list[str]
    tx: Wording


# Each rule adds the cell's validation and returns what the row's height must hold beside its
# texts: the longest text the cell can show (a drop-down's longest option), and a minimum height.
CellRule = Callable[[AnswerCell], tuple[str | None, float]]


def _list_cell(cell: AnswerCell) -> tuple[str, float]:
    """A drop-down of the item's choices (one list per set of choices, shared by the sheet)."""
    item = cell.item
    key = f"list:{item.type}:{','.join(c.code for c in item.choices)}"
    options = [choice_label(c, cell.langs) for c in item.choices]
    rng = cell.lists.range_for(key, options)
    cell.dvs.add(key, cell.ref, validate="list", source=rng)
    return max(options, key=len, default=""), 0.0


def _number_cell(cell: AnswerCell) -> tuple[None, float]:
    """A number between the item's bounds (whole for a count)."""
    item = cell.item
    lo = item.min if item.min is not None else -1e12
    hi = item.max if item.max is not None else 1e12
    cell.dvs.add(
        f"number:{lo}:{hi}:{item.integer}",
        cell.ref,
        validate="integer" if item.integer else "decimal",
        criteria="between",
        minimum=str(lo),
        maximum=str(hi),
        error_message=cell.tx.joined("invalid_number", langs=cell.langs),
    )
    return None, 0.0


def _date_cell(cell: AnswerCell) -> tuple[None, float]:
    """A date from 2000-01-01 to 2099-12-31 (as Excel serial days)."""
    cell.dvs.add(
        "date",
        cell.ref,
        validate="date",
        criteria="between",
        minimum=36526,
        maximum=73051,
        error_message=cell.tx.joined("invalid_date", langs=cell.langs),
    )
    return None, 0.0


def _length_cell(cell: AnswerCell) -> tuple[None, float]:
    """A text of at most TEXT_LIMIT characters; an answer in sentences (a text with a role) gets
    room for a paragraph on paper."""
    cell.dvs.add(
        "text",
        cell.ref,
        validate="length",
        criteria="<=",
        value=TEXT_LIMIT,
        error_message=cell.tx.joined("invalid_text", langs=cell.langs),
    )
    return None, height_for(TEXT_LINES) if cell.item.role is not None else 0.0


# The data validation of a one-cell answer, by the name its question type gives (QTYPES,
# ``validation``); the rows of a multiple choice or a ranking each get a drop-down list.
VALIDATIONS: dict[str, CellRule] = {
    "list": _list_cell,
    "number": _number_cell,
    "date": _date_cell,
    "length": _length_cell,
}
