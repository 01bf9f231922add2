"""The one wording layer (consult/definitions/wording.py): every text for people, one way."""

from __future__ import annotations

from consult.definitions import bundled_definition
from consult.definitions.wording import TextFile, Wording, format_date, joined

TEXTS = {
    "count": {
        "en": "{n} {n|one:institution;other:institutions}",
        "ru": "{n} {n|one:ведомство;few:ведомства;many:ведомств}",
    },
    "plain": {"en": "Yes", "ru": "Да"},
    "english_only": {"en": "{n} {n|one:file;other:files}"},
    "same": {"en": "OK", "ru": "OK"},
}


def test_one_text_in_one_language_with_its_plural_forms() -> None:
    w = Wording(bundled_definition(), TEXTS, ["ru", "en"])
    assert w.one("count", "ru", n=5) == "5 ведомств"
    assert w.one("count", "ru", n=2) == "2 ведомства"
    assert w("count", n=1) == "1 ведомство"  # the first language is the wording's own
    assert w.one("count", "en", n=1) == "1 institution"
    assert w.fallbacks == set()


def test_english_where_a_language_lacks_the_text_and_it_is_recorded() -> None:
    w = Wording(bundled_definition(), TEXTS, "ru")
    assert w("english_only", n=2) == "2 files"  # English words take English plural forms
    assert w.fallbacks == {"english_only"}


def test_each_language_and_the_languages_side_by_side() -> None:
    w = Wording(bundled_definition(), TEXTS, ["en", "ru"])
    assert w.each("plain") == {"en": "Yes", "ru": "Да"}
    assert w.joined("plain") == "Yes / Да"
    assert w.joined("plain", sep="\n", langs=["ru"]) == "Да"
    assert w.joined("same") == "OK"  # a text the languages share is written once
    assert joined({"en": "A", "ru": ""}, ["en", "ru"]) == "A"  # a missing label: the English one


def test_one_date_formatter_in_the_words_of_report_yaml() -> None:
    d = bundled_definition()
    assert Wording.of(d, "feedback", ["en", "ru"]).date("2020-09-30", "ru") == "30.09.2020"
    assert Wording.of(d, "messages", "en").date("2020-09-30") == "30 September 2020"
    assert Wording.of(d, "report", "ru").date(None) == "–"
    assert format_date("soon") == "soon"  # not a date: kept as given


def test_the_files_of_the_definitions() -> None:
    d = bundled_definition()
    names: tuple[TextFile, ...] = ("messages", "report", "feedback", "change")
    for name in names:
        assert Wording.of(d, name).texts is d.texts(name)
    assert d.msg("choice_yes", "ru") == Wording.of(d, "messages", "ru")("choice_yes")
