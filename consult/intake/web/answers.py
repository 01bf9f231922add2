"""A submission's answers, read from the export's columns by the one parser of both channels.

Each question is found by its field's column (a ranking by one column per slot, a
select_multiple by its space-separated column or else its 0/1 choice columns) and parsed by
:func:`~consult.intake.values.parse_answer`, as a workbook's cell is: a submission and a
workbook with the same answers hold the same values, and the same finding codes, located by
export row and column header instead of sheet and cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from consult.definitions import Definition
from consult.definitions.qtypes import CHOICES, SLOTS
from consult.definitions.questionnaire import Form, Item
from consult.errors import Finding, finding
from consult.forms.xlsform import field_name, rank_field
from consult.intake.reader import Answer, ReadReturn
from consult.intake.values import Invalid, describe, parse_answer, parse_flag, raw_text
from consult.intake.web.columns import Columns
from consult.intake.web.export import NUL_MARK, Export, value_at
from consult.problems import phrase

# characters no answer can hold (tab, newline and carriage return are text): NUL and the other C0 controls
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe]")

CellOf = Callable[[int | None, Item], Any]  # a question's cell in a column: its value, None when blank or refused
Report = Callable[[int, Item, Any, Invalid], None]  # an invalid value of a question in a column, reported


class AnswerReader:
    """Reads the answers of an export's submissions, its header matched to the fields once."""

    def __init__(self, export: Export, columns: Columns):
        self.export = export
        self.columns = columns

    def read(self, rr: ReadReturn, form: Form, number: int, row: list[Any], definition: Definition) -> None:
        """Every answer of ``form`` in the submission at row ``number`` into ``rr``: its answers,
        personal data, invalid values and missing required answers."""
        name = self.export.path.name
        langs = definition.languages
        head = self.export.header
        values: dict[str, Any] = {}
        invalid: set[str] = set()
        located: dict[str, str] = {}

        def report(index: int, item: Item, value: Any, exc: Invalid) -> None:
            invalid.add(item.id)
            rr.errors.append(
                finding(
                    "invalid-value",
                    file=name,
                    row=number,
                    cell=head[index],
                    question=item.id,
                    found=describe(value),
                    expected=exc.expected,
                    fix=exc.fix,
                    worded=exc.worded,
                )
            )

        def cell(index: int | None, item: Item) -> Any:
            value = value_at(row, index)
            if isinstance(value, str) and index is not None and CONTROL.search(value):
                char = CONTROL.search(value)
                code = "NUL" if char is None or char.group() in ("\x00", NUL_MARK) else f"U+{ord(char.group()):04X}"
                rr.errors.append(
                    finding("export-control", file=name, row=number, cell=head[index], question=item.id, found=code)
                )
                invalid.add(item.id)
                return None
            return value

        for item in form.items:
            layout = item.qtype.layout
            if layout == SLOTS:
                indexes = [self.columns.find(rank_field(item.id, k)) for k in range(1, item.size + 1)]
            else:
                indexes = [self.columns.find(field_name(item.id))]
            present = [i for i in indexes if i is not None]
            details = self.columns.details.get(field_name(item.id), {}) if layout == CHOICES else {}
            if not present and not details:
                rr.warnings.append(finding("column-deleted", file=name, question=item.id, severity="warning"))
                continue
            located[item.id] = head[present[0]] if present else head[min(details.values())]
            value: Any = None
            raws: list[str] = []
            if layout == SLOTS:
                value, raws = self.rank(item, langs, cell, indexes, report)
            elif layout == CHOICES:
                value, raws = self.multiple(item, langs, cell, present[0] if present else None, details, report)
            else:
                index = present[0]
                got = cell(index, item)
                if got is None:
                    continue
                raws.append(raw_text(got))
                try:
                    value = parse_answer(got, item, langs)
                except Invalid as exc:
                    report(index, item, got, exc)
                    continue
            if item.id in invalid or value is None or value == "":
                continue
            values[item.id] = value
            if item.personal:
                rr.personal[item.id] = value
            else:
                rr.answers[item.id] = Answer(item, value, "; ".join(raws), f"row {number}", located[item.id])
        rr.missing += self.missing_answers(form, number, values, invalid, located)

    def missing_answers(
        self, form: Form, number: int, values: dict[str, Any], invalid: set[str], located: dict[str, str]
    ) -> list[Finding]:
        """The required answers a submission lacks (an invalid one is reported as invalid, not also
        as missing; a conditional one only where its condition holds)."""
        name = self.export.path.name
        out: list[Finding] = []
        for item in form.items:
            if not item.required or item.id in values or item.id in invalid:
                continue
            if item.when and item.when.question and not item.when.holds(values.get(item.when.question)):
                continue
            out.append(
                finding(
                    "missing-answer",
                    file=name,
                    row=number,
                    cell=located.get(item.id),
                    question=item.id,
                    severity="missing",
                )
            )
        return out

    def rank(
        self, item: Item, langs: list[str], cell: CellOf, indexes: list[int | None], report: Report
    ) -> tuple[list[str | None] | None, list[str]]:
        """A rank question from its one column per slot: the slot used is kept, as in the workbook."""
        head = self.export.header
        raws: list[str] = []
        chosen: dict[str, int] = {}
        slots: list[str | None] = []
        for slot, index in enumerate(indexes):
            if index is None:
                continue
            got = cell(index, item)
            if got is None:
                continue
            try:
                code = parse_answer(got, item, langs)
            except Invalid as exc:
                report(index, item, got, exc)
                continue
            if code in chosen:
                twice = Invalid([phrase("not_twice", other=head[chosen[code]])], [phrase("once")])
                report(index, item, got, twice)
                continue
            chosen[code] = index
            slots += [None] * (slot - len(slots)) + [code]  # the slot used, as in the workbook
            raws.append(raw_text(got))
        return (slots or None), raws

    def multiple(
        self, item: Item, langs: list[str], cell: CellOf, index: int | None, details: dict[str, int], report: Report
    ) -> tuple[list[str] | None, list[str]]:
        """A select_multiple from its space-separated column, else from its 0/1 choice columns."""
        chosen: list[str] = []
        raws: list[str] = []
        if index is not None:
            got = cell(index, item)
            tokens = raw_text(got).split() if got is not None else []
            pairs = [(index, token) for token in tokens]
        else:
            pairs = []
            for code, i in details.items():  # a 0/1 column: the one parser's rule for a choice's own cell
                flag = cell(i, item)
                try:
                    if parse_flag(flag):
                        pairs.append((i, code))
                except Invalid as exc:
                    report(i, item, flag, exc)
        for i, token in pairs:
            try:
                code = parse_answer(token, item, langs)
            except Invalid as exc:
                report(i, item, token, exc)
                continue
            if code not in chosen:
                chosen.append(code)
                raws.append(token)
        order = [c.code for c in item.choices]
        chosen.sort(key=order.index)
        return (chosen or None), raws
