"""The keyword taxonomy: the matching rule (docs/methodology.md, section 6) and how well the
bundled terms do on labelled texts written for testing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from consult.definitions.taxonomy import Taxonomy, bundled_taxonomy, stem, word_matches, words

DATA = Path(__file__).parent / "data"
AREAS = ("TOC", "DRUGS", "CORRUPTION", "TERRORISM", "JUSTICE", "RESEARCH")

SMALL = Taxonomy.from_dict(
    {
        "areas": {
            "JUSTICE": {"en": ["gender-based violence", "court"], "components": {"legal_aid": {"en": ["legal aid"]}}},
            "CORRUPTION": {"ru": ["под/фт"], "en": ["anti-corruption strategy"]},
            "TOC": {"en": ["trafficking", "smuggl"], "ru": ["торговл людьми"]},
            "DRUGS": {"en": ["aids"], "ru": ["наркотики", "синтетическ наркотик"]},
        }
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


def measure(name: str) -> tuple[float, float, float]:
    """Precision and recall per area of the bundled taxonomy on a labelled set (printed), and
    micro-averaged precision, recall and F1 (returned)."""
    items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["items"]
    tax = bundled_taxonomy()
    tp = dict.fromkeys(AREAS, 0)
    fp, fn = dict(tp), dict(tp)
    for item in items:
        assert set(item["areas"]) <= set(AREAS), item
        got, want = {m.area for m in tax.matches(item["text"])}, set(item["areas"])
        for a in AREAS:
            tp[a] += a in got and a in want
            fp[a] += a in got and a not in want
            fn[a] += a in want and a not in got
    print(f"\n{name}: {len(items)} texts")
    for a in AREAS:
        p = tp[a] / (tp[a] + fp[a]) if tp[a] + fp[a] else float("nan")
        r = tp[a] / (tp[a] + fn[a]) if tp[a] + fn[a] else float("nan")
        print(f"  {a:<11} precision {p:.2f}  recall {r:.2f}  ({tp[a]} found, {fp[a]} wrong, {fn[a]} missed)")
    t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision, recall = t / (t + f), t / (t + n)
    f1 = 2 * precision * recall / (precision + recall)
    print(f"  micro       precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    return precision, recall, f1


@pytest.mark.parametrize(
    ("name", "min_precision", "min_f1"),
    [
        # the set the terms were revised after (its figures are optimistic): 0.965 / 0.933 when written
        ("taxonomy_labelled.yaml", 0.90, 0.85),
        # written after the revision and never used to change a term: 0.963 / 0.703 when written
        ("taxonomy_heldout.yaml", 0.90, 0.65),
    ],
)
def test_precision_and_recall_on_labelled_texts(name: str, min_precision: float, min_f1: float):
    items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["items"]
    assert len(items) >= 40
    cyrillic = [any("а" <= c <= "я" for c in it["text"].lower()) for it in items]
    assert any(cyrillic) and not all(cyrillic)  # both languages
    precision, _recall, f1 = measure(name)
    assert precision >= min_precision
    assert f1 >= min_f1
