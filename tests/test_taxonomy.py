"""The keyword taxonomy: the matching rule (docs/methodology.md, section 6) and how well the
bundled terms do on labelled texts written for testing: the tuning set the terms are revised
against, and a held-out set they are never revised against, measured per language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from consult.definitions.taxonomy import Taxonomy, bundled_taxonomy, stem, word_matches, words

DATA = Path(__file__).parent / "data"
AREAS = ("TOC", "DRUGS", "CORRUPTION", "TERRORISM", "JUSTICE", "RESEARCH")

SMALL = Taxonomy.from_dict(
    {
        "ignore": {"en": ["study visit", "clandestine laborator"], "ru": ["изучени опыт"]},
        "areas": {
            "JUSTICE": {"en": ["gender-based violence", "court"], "components": {"legal_aid": {"en": ["legal aid"]}}},
            "CORRUPTION": {"ru": ["под/фт"], "en": ["anti-corruption strategy"]},
            "TOC": {"en": ["trafficking", "smuggl"], "ru": ["торговл людьми"]},
            "DRUGS": {"en": ["aids"], "ru": ["наркотики", "синтетическ наркотик", "лиц с зависимост", "закладк"]},
            "RESEARCH": {"en": ["study", "laborator", "clandestine laboratory study"], "ru": ["изучени"]},
        },
    }
)


def found(text: str, taxonomy: Taxonomy = SMALL) -> set[tuple[str, str]]:
    return {(m.area, m.term) for m in taxonomy.matches(text)}


def test_a_word_is_a_run_of_letters_and_digits():
    assert words("Gender-based violence, ПОД/ФТ; e-mail_2020 Ёлка") == [
        "gender",
        "based",
        "violence",
        "под",
        "фт",
        "e",
        "mail",
        "2020",
        "елка",
    ]


def test_hyphenated_and_slashed_terms_match():
    assert found("Gender-based violence is rising") == {("JUSTICE", "gender-based violence")}
    assert found("gender based violence") == {("JUSTICE", "gender-based violence")}
    assert ("CORRUPTION", "под/фт") in found("Система ПОД/ФТ не работает")
    assert ("CORRUPTION", "anti-corruption strategy") in found("the new Anti-Corruption Strategies")
    # the words of a term must be consecutive: "под видом" is not ПОД/ФТ
    assert found("ввозят под видом сырья") == set()


def test_match_offsets_point_into_the_original_text():
    text = "Rising: Gender-Based Violence in villages."
    (m,) = SMALL.matches(text)
    assert text[m.start : m.end] == "Gender-Based Violence"
    text = "Straße-Kontrolle; then gender-based violence"  # "ß" case-folds to two letters
    (m,) = SMALL.matches(text)
    assert text[m.start : m.end] == "gender-based violence"


def test_prefix_rule_for_hand_cut_stems():
    assert found("Smugglers use mountain passes") == {("TOC", "smuggl")}
    assert found("борьба с торговлей людьми") == {("TOC", "торговл людьми")}


def test_stem_rule_for_words_written_in_full():
    assert stem("traffickers") == stem("trafficking")
    assert ("TOC", "trafficking") in found("Traffickers move goods at night")
    assert ("DRUGS", "наркотики") in found("изъято много наркотиков")
    assert ("DRUGS", "синтетическ наркотик") in found("рынок синтетических наркотиков")
    assert ("JUSTICE", "court") in found("The courts are slow")


def test_short_terms_are_not_stemmed():
    # "aids" stems to "aid": stemming it would make "legal aid" a DRUGS (HIV/AIDS) mention
    assert not word_matches("aids", "aid")
    assert found("free legal aid for the poor") == {("JUSTICE", "legal aid")}
    assert ("DRUGS", "aids") in found("HIV/AIDS among prisoners")


def test_bundled_taxonomy_finds_hyphenated_terms():
    areas = {(m.area, m.component) for m in bundled_taxonomy().matches("Gender-based violence is rising")}
    assert ("JUSTICE", "JUSTICE.vaw") in areas


def test_one_and_two_letter_term_words_match_only_themselves():
    # "лиц с зависимост": "с" is the preposition, not any word starting with "с"
    assert ("DRUGS", "лиц с зависимост") in found("центры для лиц с зависимостью")
    assert found("для лиц старше 18 лет, зависимость от родителей") == set()
    assert word_matches("о", "о") and not word_matches("о", "оценка")


def test_fleeting_vowel_of_the_russian_genitive_plural():
    # neither a prefix nor the Snowball stem: закладка -> закладок, передозировка -> передозировок
    assert stem("закладок") != stem("закладка")
    assert ("DRUGS", "закладк") in found("сбыт через систему закладок")
    assert word_matches("передозировк", "передозировок")
    assert word_matches("группировк", "группировок")
    assert not word_matches("закладк", "закладом")


def test_words_inside_a_not_a_mention_phrase_are_dropped():
    assert found("a study visit to Vienna for our judges") == set()
    assert found("a study of the prevalence of drug use") == {("RESEARCH", "study")}
    assert found("Mephedrone comes from clandestine laboratories") == set()
    assert found("the forensic laboratory is not accredited") == {("RESEARCH", "laborator")}
    # a term as long as the phrase or longer still counts
    assert found("one clandestine laboratory study") == {
        ("RESEARCH", "clandestine laboratory study"),
        ("RESEARCH", "study"),  # outside the phrase "clandestine laborator"
    }
    assert found("обучение с изучением опыта соседних стран") == set()
    assert found("изучение причин преступности") == {("RESEARCH", "изучени")}


def test_bundled_generic_words_are_not_mentions():
    """The false positives the 0.2 taxonomy gave (issue 20: JUSTICE precision 0.63, RESEARCH
    0.75): a word that names an actor or a method is not a mention of the area."""
    tax = bundled_taxonomy()

    def areas(text: str) -> set[str]:
        return {m.area for m in tax.matches(text)}

    assert areas("Labour migrants need legal advice before they leave") == set()  # not "lab"
    assert areas("The passports and travel documents are forged") == set()  # not "documentation"
    assert areas("Victims of trafficking are rarely identified") == {"TOC"}  # not victim support
    assert "JUSTICE" not in areas("Illegal logging in the border mountains is poorly policed")
    assert "JUSTICE" not in areas("Police seized 40 kg of heroin")
    assert areas("Выражаем благодарность за приглашение; просим направить вопросник") == set()
    assert areas("Жертвы торговли людьми не получают помощи") == {"TOC"}
    assert "JUSTICE" not in areas("Нужна закупка оборудования для земельных участков")
    assert "CORRUPTION" not in areas("We need funds for the procurement of equipment")
    assert "RESEARCH" not in areas("a study visit and an exchange of experience with Georgia")
    assert "RESEARCH" not in areas("Мефедрон производят в подпольных лабораториях")
    assert "RESEARCH" not in areas("таможенным постам не хватает портативных анализаторов")  # a device
    assert areas("the seizure of assets abroad takes years") == {"CORRUPTION"}  # not a drug seizure
    # "правовая помощь" is mutual legal assistance (framework.yaml), "бесплатная" makes it legal aid
    assert areas("Договоры о правовой помощи устарели") == {"TOC"}
    assert areas("Бесплатная правовая помощь недоступна в сёлах") == {"JUSTICE"}


# Components whose name is the same in several areas, so that no text can tell which one it means.
SHARED_NAMES = {
    ("CORRUPTION", "international_cooperation"),
    ("TERRORISM", "international_cooperation"),
    ("CORRUPTION", "mla"),
    ("TERRORISM", "mla"),
    ("TERRORISM", "legal_assistance"),
}


def test_the_taxonomy_grows_from_the_framework_vocabulary():
    """Each component's own name or short name, in English and in Russian, is a mention of that
    component: the terms start from the wording respondents saw in the questionnaire."""
    fw = yaml.safe_load((Path(__file__).parents[1] / "questionnaires" / "framework.yaml").read_text(encoding="utf-8"))
    tax = bundled_taxonomy()
    missed = []
    for area in fw["areas"]:
        for comp in area["components"]:
            if (area["id"], comp["id"]) in SHARED_NAMES:
                continue
            for lang in ("en", "ru"):
                names = [comp["name"][lang]] + ([comp["short"][lang]] if "short" in comp else [])
                component = f"{area['id']}.{comp['id']}"
                if not any(component in {m.component for m in tax.matches(n)} for n in names):
                    missed.append((area["id"], comp["id"], lang, names))
    assert missed == []


def load(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["items"]


def language(text: str) -> str:
    return "ru" if any("а" <= c <= "я" for c in text.lower()) else "en"


@dataclass
class Scores:
    tp: dict[str, int]
    fp: dict[str, int]
    fn: dict[str, int]

    def precision(self, area: str) -> float:
        found = self.tp[area] + self.fp[area]
        return self.tp[area] / found if found else float("nan")

    def recall(self, area: str) -> float:
        wanted = self.tp[area] + self.fn[area]
        return self.tp[area] / wanted if wanted else float("nan")

    def micro(self) -> tuple[float, float, float]:
        t, f, n = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        precision, recall = t / (t + f), t / (t + n)
        return precision, recall, 2 * precision * recall / (precision + recall)


def measure(name: str, lang: str) -> Scores:
    """Per-area counts of the bundled taxonomy on the texts of one language of a labelled set;
    printed (pytest -s) as the figures of docs/methodology.md, section 6."""
    tax = bundled_taxonomy()
    items = [it for it in load(name) if language(it["text"]) == lang]
    scores = Scores(dict.fromkeys(AREAS, 0), dict.fromkeys(AREAS, 0), dict.fromkeys(AREAS, 0))
    for item in items:
        assert set(item["areas"]) <= set(AREAS), item
        got, want = {m.area for m in tax.matches(item["text"])}, set(item["areas"])
        for a in AREAS:
            scores.tp[a] += a in got and a in want
            scores.fp[a] += a in got and a not in want
            scores.fn[a] += a in want and a not in got
    print(f"\n{name} [{lang}]: {len(items)} texts")
    for a in AREAS:
        print(
            f"  {a:<11} precision {scores.precision(a):.2f}  recall {scores.recall(a):.2f}"
            f"  ({scores.tp[a]} found, {scores.fp[a]} wrong, {scores.fn[a]} missed)"
        )
    precision, recall, f1 = scores.micro()
    print(f"  micro       precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    return scores


def test_the_held_out_set_is_apart_from_the_tuning_set_and_covers_every_area():
    tuning, heldout = load("taxonomy_tuning.yaml"), load("taxonomy_heldout.yaml")
    assert not {tuple(words(it["text"])) for it in tuning} & {tuple(words(it["text"])) for it in heldout}
    for lang in ("en", "ru"):
        items = [it for it in heldout if language(it["text"]) == lang]
        assert len(items) >= 50
        assert sum(not it["areas"] for it in items) >= 5  # answers about none of the areas
        for a in AREAS:
            assert sum(a in it["areas"] for it in items) >= 5, (lang, a)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_held_out_answers_meet_the_issue_20_thresholds(lang: str):
    """Never used to revise a term: the fair estimate. Micro-F1 >= 0.90 per language and
    precision >= 0.80 for every area (issue 20, item 7). Measured 0.948 (en) and 0.952 (ru) when
    the 0.3 terms were first run on it, 0.956 and 0.944 after the second revision (methodology, section 6)."""
    scores = measure("taxonomy_heldout.yaml", lang)
    _precision, _recall, f1 = scores.micro()
    assert f1 >= 0.90
    for a in AREAS:
        assert scores.tp[a] > 0, a
        assert scores.precision(a) >= 0.80, a


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_tuning_answers(lang: str):
    """The set the terms were revised against (optimistic): a revision that loses ground on it
    is a regression. 0.993 (en) and 0.986 (ru) after the 0.3 revision."""
    scores = measure("taxonomy_tuning.yaml", lang)
    precision, _recall, f1 = scores.micro()
    assert precision >= 0.95
    assert f1 >= 0.95
