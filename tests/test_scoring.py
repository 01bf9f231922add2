"""`consult score`: expectations worked out by hand from the method in docs/methodology.md."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from consult.analysis.scoring import rating_value, score
from consult.definitions import Definition, bundled_definition
from consult.definitions.schema import validate_paths
from consult.definitions.taxonomy import Taxonomy, bundled_taxonomy
from consult.intake.ingest import ingest
from consult.store import Store

# A taxonomy small enough to reason about by hand.
TAXONOMY = Taxonomy.from_dict(
    {
        "areas": {
            "DRUGS": {
                "en": ["heroin", "drug"],
                "ru": ["героин", "наркотик", "северн маршрут"],
                "components": {"hiv": {"en": ["hiv"], "ru": ["вич"]}},
            },
            "TOC": {"en": ["smuggl"], "ru": ["контрабанд"]},
        },
        "sources": ["challenge", "emerging", "proposal"],
    }
)


def quiet(institution: str) -> dict[str, str]:
    """Neutral free text everywhere, so that only the texts a test sets can be mentions."""
    areas = bundled_definition().framework.institution_by_id[institution].areas
    return {**{f"{a}.challenges": "-" for a in areas}, "emerging": "-", "proposals": "-"}


def top5(*components: str) -> dict[str, str]:
    return {f"top5#{i}": c for i, c in enumerate(components, start=1)}


def area(result: dict, country: str, area_id: str) -> dict:
    return next(a for a in result["countries"][country]["areas"] if a["id"] == area_id)


def position(result: dict, country: str, area_id: str) -> int:
    """Place in the ordered list (rank is only given with sufficient evidence)."""
    return [a["id"] for a in result["countries"][country]["areas"]].index(area_id)


def component(result: dict, country: str, comp_id: str) -> dict:
    return next(c for c in result["countries"][country]["components"] if c["id"] == comp_id)


def run_score(ws, **kwargs) -> dict:
    with Store(ws.db_path) as store:
        return score(store, ws, **kwargs)


def test_rating_scale():
    assert [rating_value(str(r)) for r in range(1, 6)] == [0, 25, 50, 75, 100]
    assert rating_value("na") is None and rating_value(None) is None and rating_value("7") is None


@pytest.fixture
def kz(workspace, make_return):
    """Three KZ returns with the ratings that the hand computations below use."""
    fw = bundled_definition().framework
    assert fw.weight("MOH", "DRUGS") == 2 and fw.weight("CUSTOMS", "DRUGS") == 1 and fw.weight("DCA", "DRUGS") == 2
    assert fw.weight("MOH", "DRUGS", "DRUGS.treatment") == 3 and fw.weight("DCA", "DRUGS", "DRUGS.treatment") == 2
    moh = make_return(
        "KZ",
        "MOH",
        {
            **quiet("MOH"),
            "DRUGS.priority": "5",
            "DRUGS.component.treatment": "4",
            "DRUGS.component.hiv": "na",
            "DRUGS.challenges": "Рост ВИЧ среди потребителей наркотиков; героин идёт по Северному маршруту.",
            **top5("DRUGS.treatment", "DRUGS.hiv", "DRUGS.overdose", "DRUGS.prevention", "DRUGS.strategies"),
        },
    )
    customs = make_return(
        "KZ",
        "CUSTOMS",
        {
            **quiet("CUSTOMS"),
            "DRUGS.priority": "3",
            "DRUGS.component.precursors": "5",
            "TOC.challenges": "Smuggling of heroin in containers.",
            **top5("TOC.container", "DRUGS.precursors", "TOC.border", "TOC.fmp", "DRUGS.cross_border"),
        },
    )
    dca = make_return(
        "KZ",
        "DCA",
        {
            **quiet("DCA"),
            "DRUGS.priority": "2",
            "DRUGS.component.treatment": "1",
            "DRUGS.component.precursors": "4",
            "DRUGS.component.hiv": "na",
            "emerging": "Контрабанда синтетических наркотиков через даркнет.",
            **top5("DRUGS.precursors", "DRUGS.treatment", "DRUGS.conventions", "DRUGS.strategies", "TOC.container"),
        },
    )
    results = ingest([moh, customs, dca], workspace)
    assert [r.status for r in results] == ["accepted"] * 3, [str(f) for r in results for f in r.errors]
    return workspace


def test_area_score_agreement_spread_by_hand(kz):
    drugs = area(run_score(kz, taxonomy=TAXONOMY), "KZ", "DRUGS")
    # values 100 (MOH, w2), 50 (CUSTOMS, w1), 25 (DCA, w2)
    assert drugs["score"] == pytest.approx((100 * 2 + 50 * 1 + 25 * 2) / 5)  # 60
    assert drugs["n"] == 3 and drugs["weight_sum"] == 5
    assert drugs["agreement"] == pytest.approx(2 / 5)  # only MOH rated >= 4
    mean = (100 + 50 + 25) / 3
    assert drugs["spread"] == pytest.approx(math.sqrt(((100 - mean) ** 2 + (50 - mean) ** 2 + (25 - mean) ** 2) / 3))
    assert drugs["low_evidence"] is False


def test_component_scores_weights_and_not_applicable(kz):
    result = run_score(kz, taxonomy=TAXONOMY)
    treatment = component(result, "KZ", "DRUGS.treatment")
    # MOH 4 -> 75 with weight 3, DCA 1 -> 0 with weight 2 (CUSTOMS is not asked about treatment)
    assert treatment["score"] == pytest.approx((75 * 3 + 0 * 2) / 5)  # 45
    assert (treatment["n"], treatment["low_evidence"]) == (2, True)
    assert treatment["agreement"] == pytest.approx(3 / 5)
    hiv = component(result, "KZ", "DRUGS.hiv")
    assert hiv["n"] == 0 and hiv["score"] is None  # "not applicable" is excluded, not a zero
    precursors = component(result, "KZ", "DRUGS.precursors")
    # CUSTOMS 5 -> 100 (precursors weight 2), DCA 4 -> 75 (precursors weight 3)
    assert precursors["score"] == pytest.approx((100 * 2 + 75 * 3) / 5)  # 85


def test_borda_points_by_hand(kz):
    result = run_score(kz, taxonomy=TAXONOMY)
    # treatment: MOH rank 1 (5 points) + DCA rank 2 (4 points)
    assert component(result, "KZ", "DRUGS.treatment")["borda"] == 9
    # precursors: CUSTOMS rank 2 (4) + DCA rank 1 (5)
    assert component(result, "KZ", "DRUGS.precursors")["borda"] == 9
    # container: CUSTOMS rank 1 (5) + DCA rank 5 (1)
    assert component(result, "KZ", "TOC.container")["borda"] == 6
    # per area: DRUGS = MOH 5+4+3+2+1 + CUSTOMS 4+1 + DCA 5+4+3+2 = 34; TOC = CUSTOMS 5+3+2 + DCA 1 = 11
    assert area(result, "KZ", "DRUGS")["borda"] == 34
    assert area(result, "KZ", "TOC")["borda"] == 11


def test_mentions_by_stems_in_both_languages_never_in_scores(kz):
    result = run_score(kz, taxonomy=TAXONOMY)
    drugs = area(result, "KZ", "DRUGS")
    # MOH challenges (ru: наркотиков, героин, Северному маршруту), CUSTOMS TOC.challenges (en: heroin),
    # DCA emerging (ru: наркотиков): three answers, each counted once
    assert drugs["mentions"] == 3, drugs["excerpts"]
    assert {(m["institution"], m["question"]) for m in drugs["excerpts"]} == {
        ("MOH", "DRUGS.challenges"),
        ("CUSTOMS", "TOC.challenges"),
        ("DCA", "emerging"),
    }
    assert area(result, "KZ", "TOC")["mentions"] == 2  # "Smuggling", "Контрабанда"
    assert component(result, "KZ", "DRUGS.hiv")["mentions"] == 1  # "ВИЧ"
    without = run_score(kz, taxonomy=Taxonomy.from_dict({"areas": {}}))
    assert area(without, "KZ", "DRUGS")["score"] == drugs["score"]


def test_ranking_and_weights_changing_it(workspace, make_return):
    base = {**quiet("CUSTOMS"), "TOC.priority": "2", "DRUGS.priority": "2"}
    customs = make_return("KG", "CUSTOMS", {**base})  # TOC weight 2, DRUGS weight 1
    moh = make_return("KG", "MOH", {**quiet("MOH"), "TOC.priority": "5", "DRUGS.priority": "4"})  # TOC 1, DRUGS 2
    ingest([customs, moh], workspace)
    weighted = run_score(workspace, taxonomy=TAXONOMY)
    toc, drugs = area(weighted, "KG", "TOC"), area(weighted, "KG", "DRUGS")
    assert toc["score"] == pytest.approx((25 * 2 + 100 * 1) / 3)  # 50
    assert drugs["score"] == pytest.approx((25 * 1 + 75 * 2) / 3)  # 58.3
    assert position(weighted, "KG", "DRUGS") < position(weighted, "KG", "TOC")
    assert drugs["rank"] is None and toc["rank"] is None  # two raters: listed in order, not ranked
    # the same returns with every weight set to 1: the unweighted means reverse the order
    raw = copy.deepcopy(bundled_definition().raw)
    for inst in raw["framework"]["institutions"]:
        for spec in inst["areas"].values():
            spec["weight"] = 1
            spec.pop("component_weights", None)
    flat = run_score(workspace, taxonomy=TAXONOMY, definition=Definition.from_raw(raw))
    assert area(flat, "KG", "TOC")["score"] == pytest.approx(62.5)
    assert area(flat, "KG", "DRUGS")["score"] == pytest.approx(50)
    assert position(flat, "KG", "TOC") < position(flat, "KG", "DRUGS")


def test_superseded_returns_are_ignored(workspace, make_return):
    old = make_return("TJ", "DCA", {"DRUGS.priority": "1"}, seed=1)
    new = make_return("TJ", "DCA", {"DRUGS.priority": "5"}, seed=2)
    ingest([old], workspace)
    ingest([new], workspace)
    drugs = area(run_score(workspace, taxonomy=TAXONOMY), "TJ", "DRUGS")
    assert (drugs["score"], drugs["n"], drugs["low_evidence"]) == (100, 1, True)
    assert [r["institution"] for r in drugs["ratings"]] == ["DCA"]


def test_coverage_and_unscored_areas(kz):
    result = run_score(kz, taxonomy=TAXONOMY)
    cov = result["countries"]["KZ"]["coverage"]
    assert (cov["responded"], cov["invited"]) == (3, len(kz.invited_for("KZ")))
    assert cov["institutions"]["MOH"] == "accepted" and cov["institutions"]["MFA"] == "missing"
    kg = result["countries"]["KG"]
    assert all(a["score"] is None and a["rank"] is None for a in kg["areas"])
    assert result["regional"]["countries"] == ["KZ"]


def test_regional_matrix_shared_and_outliers(workspace, make_return):
    fw = bundled_definition().framework
    both = [i.id for i in fw.institutions if {"DRUGS", "TOC"} <= set(i.areas)][:3]
    assert len(both) == 3
    for country, drugs, toc in (("KZ", "5", "1"), ("KG", "5", "5"), ("TJ", "5", "5")):
        ingest([make_return(country, both[0], {"DRUGS.priority": drugs, "TOC.priority": toc})], workspace)
    reg = run_score(workspace, taxonomy=TAXONOMY)["regional"]
    assert reg["countries"] == ["KZ", "KG", "TJ"]
    drugs = next(a for a in reg["areas"] if a["id"] == "DRUGS")
    assert drugs["scores"] == {"KZ": 100, "KG": 100, "TJ": 100} and drugs["mean"] == 100
    assert drugs["low_evidence"] == {"KZ": True, "KG": True, "TJ": True}
    assert reg["shared"] == []  # one institution per country: shown, never a shared priority
    assert {"country": "KZ", "area": "TOC", "score": 0.0, "others_mean": 100.0, "difference": -100.0} in reg["outliers"]
    for country, drugs, toc in (("KZ", "5", "1"), ("KG", "5", "5"), ("TJ", "5", "5")):
        for inst in both[1:]:
            ingest([make_return(country, inst, {"DRUGS.priority": drugs, "TOC.priority": toc})], workspace)
    reg = run_score(workspace, taxonomy=TAXONOMY)["regional"]
    assert "DRUGS" in reg["shared"] and next(a for a in reg["areas"] if a["id"] == "DRUGS")["n"]["KZ"] == 3


def test_cli_json_equals_library_and_csv(kz, cli, tmp_path):
    target = tmp_path / "scores.csv"
    result = cli("score", "--json", "--csv", str(target))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == json.loads(json.dumps(run_score(kz)))
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("country,level,id,area,name,rank,score")
    assert any(line.startswith("KZ,area,DRUGS,DRUGS,") and ",60.0," in line for line in lines)
    table = cli("score", "--country", "KZ")
    assert table.exit_code == 0 and "low evidence" in table.stdout
    assert cli("score", "--country", "XX").exit_code == 2


def test_bundled_taxonomy_matches_russian_inflections():
    tax = bundled_taxonomy()
    cases = {
        "Торговлей людьми занимаются организованные группы": "TOC",
        "Растёт число случаев ВИЧ среди заключённых": "DRUGS",
        "Отмыванием денег через криптовалюты": "CORRUPTION",
        "Возвращение иностранных боевиков-террористов из Сирии": "TERRORISM",
        "Переполненность тюрем и реформа пенитенциарной системы": "JUSTICE",
        "Судебно-экспертные лаборатории нуждаются в оборудовании": "RESEARCH",
    }
    for text, expected in cases.items():
        assert expected in {m.area for m in tax.matches(text)}, text


def test_taxonomy_is_validated(tmp_path: Path):
    fw = Path(__file__).resolve().parent.parent / "questionnaires" / "framework.yaml"
    (tmp_path / "framework.yaml").write_text(fw.read_text(encoding="utf-8"), encoding="utf-8")
    bad = "areas:\n  DRUGS:\n    en: [heroin]\n    components:\n      hiv: {en: [hiv]}\n      hiv_aids: {en: [aids]}\n"
    (tmp_path / "taxonomy.yaml").write_text(bad, encoding="utf-8")
    _, findings = validate_paths([tmp_path / "taxonomy.yaml"])
    assert [(f.code, f.line) for f in findings] == [("unknown-ref", 6)]
    assert "hiv_aids" in findings[0].message


def test_a_pick_after_an_empty_slot_keeps_its_slot(workspace, make_return, cli, tmp_path):
    """Top-5 with slot 2 left empty: the pick in slot 3 earns slot-3 points (3), not 4, and the
    export says it was third (methodology: the slot the respondent used)."""
    path = make_return(
        "KZ",
        "MOH",
        {
            **quiet("MOH"),
            "top5#1": "DRUGS.treatment",
            "top5#2": None,
            "top5#3": "DRUGS.hiv",
            "top5#4": None,
            "top5#5": None,
        },
    )
    assert ingest([path], workspace)[0].status in ("accepted", "incomplete")
    result = run_score(workspace, taxonomy=TAXONOMY)
    assert component(result, "KZ", "DRUGS.treatment")["borda"] == 5
    assert component(result, "KZ", "DRUGS.hiv")["borda"] == 3
    out = tmp_path / "a.csv"
    assert cli("export", "--format", "csv", "--out", str(out)).exit_code == 0
    rows = [line.split(",") for line in out.read_text(encoding="utf-8-sig").splitlines()]
    top = [(r[6], r[7]) for r in rows if r[3] == "top5"]
    assert top == [("1", "DRUGS.treatment"), ("3", "DRUGS.hiv")]
