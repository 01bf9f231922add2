"""The one table of question types (consult/definitions/qtypes.py) against everything that
names the types: the ``QuestionType`` vocabulary, the JSON Schema, the parsers, and every
stage's table of functions an entry names. A new type that misses one fails here, by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from consult.definitions import bundled_definition
from consult.definitions.qtypes import CELL, CHOICE_TYPES, CHOICES, QTYPES, SLOTS, QType
from consult.definitions.questionnaire import QUESTION_TYPES, resolve
from consult.definitions.roles import ROLES
from consult.example.filler import EXAMPLES
from consult.forms.styles import STYLES
from consult.forms.validations import VALIDATIONS
from consult.forms.xlsform import FIELDS
from consult.intake.values import PARSER_FUNCTIONS, PARSERS
from consult.types import QuestionType

ROOT = Path(__file__).resolve().parent.parent


def _schema_enums() -> list[list[str]]:
    schema = json.loads((ROOT / "questionnaires" / "schema" / "questionnaire.schema.json").read_text())
    question = schema["$defs"]["question"]
    choice_enum = question["allOf"][0]["if"]["properties"]["type"]["enum"]
    return [question["properties"]["type"]["enum"], choice_enum]


def test_the_table_lists_every_question_type_once_in_its_order() -> None:
    assert tuple(QTYPES) == get_args(QuestionType) == QUESTION_TYPES
    assert all(name == q.name for name, q in QTYPES.items())


def test_the_schema_names_the_types_and_the_choice_types_of_the_table() -> None:
    types, needing_choices = _schema_enums()
    assert tuple(types) == tuple(QTYPES)
    assert tuple(needing_choices) == CHOICE_TYPES == tuple(n for n, q in QTYPES.items() if q.choices)


def test_each_type_has_its_parser() -> None:
    assert set(PARSERS) == set(QTYPES)
    for name, q in QTYPES.items():
        assert PARSERS[name] is PARSER_FUNCTIONS[q.parser], name


@pytest.mark.parametrize("q", QTYPES.values(), ids=list(QTYPES))
def test_every_name_an_entry_gives_is_registered_where_it_is_looked_up(q: QType) -> None:
    definition = bundled_definition()
    assert q.layout in (CELL, CHOICES, SLOTS)
    assert q.layout == CELL or q.choices, "one row per choice or per slot needs choices"
    assert q.validation in VALIDATIONS
    assert q.style in STYLES
    assert q.example in EXAMPLES
    if q.choices:
        assert q.xlsform in ("select_one", "select_multiple")
    else:
        assert q.xlsform in FIELDS
    if q.guidance is not None:
        assert q.guidance in definition.messages
    for key in (q.expect, q.fix, q.fill):
        assert key in definition.feedback_texts, key


def test_the_names_an_entry_may_give_are_the_keys_of_their_tables() -> None:
    from consult.definitions import qtypes
    from consult.example.filler import EXAMPLES
    from consult.forms.xlsform import FIELDS
    from consult.intake.values import PARSER_FUNCTIONS

    assert set(get_args(qtypes.ParserName)) == set(PARSER_FUNCTIONS)
    assert set(get_args(qtypes.ValidationName)) == set(VALIDATIONS)
    assert set(get_args(qtypes.ExampleName)) == set(EXAMPLES)
    assert set(FIELDS) < set(get_args(qtypes.XlsformType))  # plus the select types, written by the builder


def test_every_role_names_types_of_the_table() -> None:
    for role, rule in ROLES.items():
        assert set(rule.types) <= set(QTYPES), role


def test_an_item_knows_its_type_entry() -> None:
    d = bundled_definition()
    form = resolve(d.questionnaire, d.framework, "KZ", "MOH")
    assert all(item.qtype is QTYPES[item.type] for item in form.items)
    assert {item.type for item in form.items} == set(QTYPES)  # the bundled form asks every type
