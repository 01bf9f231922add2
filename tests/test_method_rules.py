"""Rules of the method that docs/methodology.md states in "Rules the code applies" (section 12):
each test holds the code to the worked example given there."""

from __future__ import annotations

import copy

from consult.analysis.scoring import score
from consult.definitions import bundled_definition, load_yaml_data
from consult.definitions.framework import Framework
from consult.intake.ingest import ingest
from consult.report.formats import fmt_pct, fmt_score
from consult.store import Store


def run_score(ws) -> dict:
    with Store(ws.db_path) as store:
        return score(store, ws)


def entry(items: list[dict], item_id: str) -> dict:
    return next(x for x in items if x["id"] == item_id)


def test_newer_means_completed_later_whatever_the_ingest_order(workspace, make_return):
    """12.1: the file completed on 12 September counts, even when the 10 September one is ingested last."""
    corrected = make_return("KZ", "MOH", {"date": "2020-09-12", "DRUGS.priority": "5"}, seed=1)
    first = make_return("KZ", "MOH", {"date": "2020-09-10", "DRUGS.priority": "2"}, seed=2)
    ingest([corrected], workspace)
    [late] = ingest([first], workspace)  # ingested last, but older: kept, not counted
    assert late.superseded_by is not None
    drugs = entry(run_score(workspace)["countries"]["KZ"]["areas"], "DRUGS")
    assert [(r["institution"], r["rating"]) for r in drugs["ratings"]] == [("MOH", 5)]


def test_partial_rankings_keep_the_slot_used(workspace, make_return):
    """12.2: slots 1 and 3 filled, 2, 4 and 5 empty: the pick in slot 3 earns 3 points (slot 3)."""
    picks = {
        "top5#1": "DRUGS.treatment",
        "top5#2": None,
        "top5#3": "DRUGS.hiv",
        "top5#4": None,
        "top5#5": None,
    }
    assert ingest([make_return("KZ", "MOH", picks)], workspace)[0].status in ("accepted", "incomplete")
    comps = run_score(workspace)["countries"]["KZ"]["components"]
    assert entry(comps, "DRUGS.treatment")["borda"] == 5
    assert entry(comps, "DRUGS.hiv")["borda"] == 3
    assert entry(comps, "DRUGS.hiv")["votes"] == 1


def test_votes_count_institutions_naming_a_component(workspace, make_return):
    """12.5: votes = institutions that put the component anywhere in their top 5."""
    a = {f"top5#{i}": c for i, c in enumerate(["DRUGS.treatment", "DRUGS.hiv", "DRUGS.overdose"], start=1)}
    b = {f"top5#{i}": c for i, c in enumerate(["DRUGS.hiv", "DRUGS.precursors", "DRUGS.treatment"], start=1)}
    ingest([make_return("KZ", "MOH", {**a, "top5#4": None, "top5#5": None})], workspace)
    ingest([make_return("KZ", "DCA", {**b, "top5#4": None, "top5#5": None})], workspace)
    comps = run_score(workspace)["countries"]["KZ"]["components"]
    treatment, hiv = entry(comps, "DRUGS.treatment"), entry(comps, "DRUGS.hiv")
    assert (treatment["votes"], treatment["borda"]) == (2, 5 + 3)
    assert (hiv["votes"], hiv["borda"]) == (2, 4 + 5)
    assert entry(comps, "DRUGS.overdose")["votes"] == 1


def test_top_components_follow_the_ranking_rule(workspace, make_return):
    """12.4: top components of an area = its scored components ranked like areas, first three."""
    ingest([make_return("KZ", "MOH", seed=5), make_return("KZ", "DCA", seed=6)], workspace)
    result = run_score(workspace)["countries"]["KZ"]
    comp_order = [c.id for a in bundled_definition().framework.areas for c in a.components]
    for area in result["areas"]:
        mine = [c for c in result["components"] if c["area"] == area["id"] and c["score"] is not None]
        mine.sort(key=lambda c: (-c["score"], -c["borda"], -c["n"], comp_order.index(c["id"])))
        assert area["top_components"] == [c["id"] for c in mine[:3]], area["id"]
    assert any(a["top_components"] for a in result["areas"])


def test_display_rounding_is_half_to_even():
    """12.6: 12.5% prints as "12%", 87.5 as "88", 62.5 as "62"; full precision in --json."""
    assert fmt_pct(0.125) == "12%"
    assert fmt_pct(0.875) == "88%"
    assert fmt_score(62.5) == "62"
    assert fmt_score(87.5) == "88"
    assert fmt_score(None) == "–"


def test_components_are_implied_when_an_area_lists_none():
    """12.7: an institution asked about an area without a component list is asked all of them."""
    data = copy.deepcopy(load_yaml_data("framework"))
    mfa = next(i for i in data["institutions"] if i["id"] == "MFA")
    mfa["areas"]["JUSTICE"] = {"weight": 1}
    fw = Framework.from_dict(data)
    justice = fw.area_by_id["JUSTICE"]
    assert fw.institution_by_id["MFA"].areas["JUSTICE"].components == [c.key for c in justice.components]
    assert len(justice.components) == 20
