"""The question types as one table: every fact a stage decides by a question's type.

Why this module exists: the type of a question (``rating``, ``single``, ``multiple``, ``rank``,
``text``, ``number``, ``date``) decides how the workbook lays out and validates its answer, what
the XLSForm asks, how either channel reads it back and how the example round answers it. Each
of those stages used to ask ``item.type == …`` in its own if-chain, so one rule was written in
several places and a new type meant finding them all. Here, as in pyxform's question type
dictionary, each type is one entry of :data:`QTYPES` saying those facts once; the stages look
them up (``item.qtype.layout``), and where a stage must *do* something different per type it
keeps a small table of functions keyed by the name an entry gives (:attr:`QType.parser`,
:attr:`QType.validation`, :attr:`QType.xlsform`, :attr:`QType.example`).

Adding a type is one entry here (and its name in :data:`consult.types.QuestionType` and the
JSON Schema's ``type`` enum, which ``tests/test_qtypes.py`` holds together), plus one function
registered under a new name wherever a stage must say something new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from consult.types import QuestionType

# How one answer is laid out: one answer cell (one field of the web form); one cell per choice,
# "Yes" where it applies (one select_multiple, exported as one 0/1 column per choice); or
# ``size`` ranked slots, one pick per cell (one select_one field per slot).
Layout = Literal["cell", "choices", "slots"]
CELL: Layout = "cell"
CHOICES: Layout = "choices"
SLOTS: Layout = "slots"
# The names an entry gives to the stages' own tables of functions (tests/test_qtypes.py checks
# that each table has exactly these keys): spelled once here, a misspelt name is a type error.
ParserName = Literal["rating", "choice", "slot", "number", "date", "text"]
ValidationName = Literal["list", "number", "date", "length"]
ExampleName = Literal["rating", "one", "some", "ranking", "count", "date", "sentence"]
XlsformType = Literal["select_one", "select_multiple", "decimal", "date", "text"]


@dataclass(frozen=True)
class QType:
    """What the stages need to know about one question type."""

    name: QuestionType
    choices: bool  # asks from a choice list: the YAML must name one (``choices:``)
    layout: Layout  # how one answer is laid out in the workbook and in the web form
    parser: ParserName  # its parser of one typed value: a name in consult.intake.values.PARSER_FUNCTIONS
    validation: (
        ValidationName  # the Excel data validation of an answer cell: a name in consult.forms.validations.VALIDATIONS
    )
    xlsform: XlsformType  # the XLSForm type (of each slot, for slots); a name in consult.forms.xlsform.FIELDS
    style: str  # the answer cell's style, a name in consult.forms.styles.STYLES
    guidance: str | None  # the message (messages.yaml) the guidance column shows instead of the hint
    options_hint: bool  # the printout lists the options in the guidance (a drop-down does not print)
    example: ExampleName  # how the example round answers it: a name in consult.example.filler.EXAMPLES
    expect: str  # feedback.yaml: what an answer must be
    fix: str  # feedback.yaml: how to correct a wrong answer
    fill: str  # feedback.yaml: what to fill in where the answer is missing


QTYPES: dict[QuestionType, QType] = {
    q.name: q
    for q in (
        QType(
            "rating",
            choices=True,
            layout=CELL,
            parser="rating",
            validation="list",
            xlsform="select_one",
            style="input",
            guidance=None,
            options_hint=False,  # the cover explains the scale
            example="rating",
            expect="expect_rating",
            fix="fix_choice",
            fill="fix_fill_rating",
        ),
        QType(
            "single",
            choices=True,
            layout=CELL,
            parser="choice",
            validation="list",
            xlsform="select_one",
            style="input",
            guidance=None,
            options_hint=True,
            example="one",
            expect="expect_single",
            fix="fix_choice",
            fill="fix_fill_single",
        ),
        QType(
            "multiple",
            choices=True,
            layout=CHOICES,
            parser="choice",  # one chosen option (a web export's value); a workbook row is a flag
            validation="list",  # of "Yes", in each option's row
            xlsform="select_multiple",
            style="input",
            guidance=None,
            options_hint=False,  # every option is a row of its own
            example="some",
            expect="expect_multiple",
            fix="fix_multiple",
            fill="fix_fill_multiple",
        ),
        QType(
            "rank",
            choices=True,
            layout=SLOTS,
            parser="slot",
            validation="list",  # of its choices, in each slot's row
            xlsform="select_one",
            style="input",
            guidance=None,
            options_hint=True,
            example="ranking",
            expect="expect_rank",
            fix="fix_choice",
            fill="fix_fill_rank",
        ),
        QType(
            "text",
            choices=False,
            layout=CELL,
            parser="text",
            validation="length",
            xlsform="text",
            style="input",
            guidance=None,
            options_hint=False,
            example="sentence",
            expect="expect_text",
            fix="fix_text",
            fill="fix_missing-answer",
        ),
        QType(
            "number",
            choices=False,
            layout=CELL,
            parser="number",
            validation="number",
            xlsform="decimal",  # "integer" for a count (``integer: true``)
            style="input",
            guidance=None,
            options_hint=False,
            example="count",
            expect="expect_number",  # "expect_number_range" where both bounds are given
            fix="fix_number",
            fill="fix_missing-answer",
        ),
        QType(
            "date",
            choices=False,
            layout=CELL,
            parser="date",
            validation="date",
            xlsform="date",
            style="input_date",  # ISO in every language, as the guidance says
            guidance="date_hint",
            options_hint=False,
            example="date",
            expect="expect_date",
            fix="fix_date",
            fill="fix_date",
        ),
    )
}

CHOICE_TYPES: tuple[QuestionType, ...] = tuple(name for name, q in QTYPES.items() if q.choices)
