"""Rank probabilities, tiers, score intervals, non-response, agreement and rater adjustment
(docs/methodology.md, section 13): small cases checked by hand, the rest against independent code."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from consult.analysis import probabilities
from consult.analysis.adjustment import adjust, adjusted_scores
from consult.analysis.agreement import alpha_ordinal, iqr, rwg
from consult.analysis.intervals import score_draws
from consult.analysis.nonresponse import score_range, tier_could_change
from consult.analysis.robustness import RankingInput, analyse, analyse_country

AREAS = ("TOC", "DRUGS", "CORRUPTION", "TERRORISM", "JUSTICE", "RESEARCH")
NAN = math.nan


def random_input(n: int, seed: int = 0) -> RankingInput:
    rng = np.random.default_rng(seed)
    ratings = rng.choice([0.0, 25.0, 50.0, 75.0, 100.0, NAN], size=(n, 6), p=[0.05, 0.1, 0.2, 0.3, 0.3, 0.05])
    weights = rng.choice([1.0, 2.0, 3.0], size=(n, 6), p=[0.7, 0.2, 0.1])
    return RankingInput(tuple(f"I{i:02d}" for i in range(n)), AREAS, ratings, weights)


# ------------------------------------------------------------------------------ resample space


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_every_resample_once_with_its_multinomial_probability(n):
    res = probabilities.resamples(n, "XX")
    assert res.exact and res.size == probabilities.resample_count(n) == math.comb(2 * n - 1, n)
    # against brute force: all n^n ordered draws, grouped by their counts
    brute: dict[tuple[int, ...], float] = {}
    for draw in itertools.product(range(n), repeat=n):
        key = tuple(np.bincount(draw, minlength=n))
        brute[key] = brute.get(key, 0.0) + n**-n
    rows = [tuple(int(c) for c in row) for row in res.counts]
    assert rows == sorted(rows)  # ascending lexicographic order, as docs/methodology.md 13.8 states
    got = {tuple(int(c) for c in row): p for row, p in zip(res.counts, res.prob, strict=True)}
    assert got.keys() == brute.keys()
    for key, p in brute.items():
        assert got[key] == pytest.approx(p)


def test_large_samples_use_a_fixed_monte_carlo_stream():
    res = probabilities.resamples(12, "KZ")
    assert not res.exact and res.size == probabilities.MC_DRAWS
    assert (res.counts.sum(axis=1) == 12).all()
    again = probabilities.resamples(12, "KZ")
    assert np.array_equal(res.counts, again.counts)  # fixed by the data's key, not by any seed
    assert not np.array_equal(res.counts, probabilities.resamples(12, "KG").counts)


# --------------------------------------------------------------------------- rank probabilities


def test_p_first_by_hand():
    # A: 100, 100, 0; B: 50, 50, 50. A scores 100 (c1 + c2) / 3, above B's 50 when institution 3
    # is drawn at most once: P = (2/3)^3 + 3 (1/3) (2/3)^2 = 20/27.
    data = RankingInput(("I1", "I2", "I3"), ("A", "B"), [[100, 50], [100, 50], [0, 50]], np.ones((3, 2)))
    result = analyse_country(data, "XX")
    a, b = result.area("A"), result.area("B")
    assert result.probabilities.exact and result.probabilities.resamples == 10
    assert result.probabilities.mc_error == 0.0
    assert a.p_first == pytest.approx(20 / 27) and b.p_first == pytest.approx(7 / 27)
    assert a.p_above_next == pytest.approx(20 / 27) and b.p_above_next is None
    assert a.p_top3 == b.p_top3 == 1.0  # two areas: both always in the top three
    # rank of A: 1 with 20/27, 2 with 7/27 -> 5th percentile 1, 95th 2
    assert a.rank_interval == (1, 2) and b.rank_interval == (1, 2)


def test_exact_and_monte_carlo_agree_within_their_error():
    data = random_input(7, seed=5)
    exact = analyse_country(data, "XX")
    counts = probabilities.draw_counts(7, "XX", probabilities.MC_DRAWS)
    ranked = np.array([a.tier is not None for a in sorted(exact.areas, key=lambda a: AREAS.index(a.area))])
    from consult.analysis.robustness.engine import _positions, _scores

    score, n, borda = _scores(counts, data)
    pos = _positions(score, borda, n, ranked)
    probs = probabilities.rank_probabilities(
        tuple(a for a, r in zip(AREAS, ranked, strict=True) if r),
        pos,
        np.full(counts.shape[0], 1 / counts.shape[0]),
        exact=False,
    )
    assert 0 < probs.mc_error < 0.004
    for j, area in enumerate(probs.areas):
        assert probs.p_top3[j] == pytest.approx(exact.area(area).p_top3, abs=5 * probs.mc_error)


def test_tiers_leading_middle_trailing():
    # ten institutions: three areas clearly high, one in between, two clearly low
    rng = np.random.default_rng(2)
    ratings = np.column_stack(
        [
            rng.choice([75.0, 100.0], 10),
            rng.choice([75.0, 100.0], 10),
            rng.choice([75.0, 100.0], 10),
            rng.choice([25.0, 50.0, 75.0, 100.0], 10),
            rng.choice([0.0, 25.0], 10),
            rng.choice([0.0, 25.0], 10),
        ]
    )
    data = RankingInput(tuple(f"I{i}" for i in range(10)), AREAS, ratings, np.ones((10, 6)))
    result = analyse_country(data, "XX")
    tiers = {a.area: a.tier for a in result.areas}
    assert tiers["JUSTICE"] == tiers["RESEARCH"] == 3
    assert {a.tier_label for a in result.areas if a.tier == 3} == {"trailing"}
    for a in result.areas:
        assert (a.tier == 1) == (a.p_top3 >= 0.95)
        assert (a.tier == 3) == (a.p_top3 <= 0.05)
        lo, hi = a.rank_interval
        assert (a.tier == 1) == (hi <= 3) and (a.tier == 3) == (lo > 3)


def test_low_evidence_areas_have_no_tier():
    data = RankingInput(
        ("I1", "I2", "I3"), ("A", "B", "C"), [[100, 50, 100], [75, 50, NAN], [50, 50, NAN]], np.ones((3, 3))
    )
    result = analyse_country(data, "XX")
    c = result.area("C")
    assert c.evidence == "low" and c.tier is None and c.tier_label == "unranked" and c.p_first is None
    assert result.area("A").tier is not None
    d = c.to_dict()
    assert d["tier"] is None and d["rank_interval"] is None


@pytest.mark.parametrize("n", [6, 11])
def test_words_do_not_depend_on_the_seed(n):
    data = {"KZ": random_input(n, seed=1), "KG": random_input(n, seed=2)}

    def standings(seed: int) -> str:
        out = analyse(data, seed=seed).to_dict()
        keys = ("tier", "tier_label", "p_first", "p_top3", "p_above_next", "rank_interval", "score_interval")
        blocks = [out["regional"]["areas"]] + [c["areas"] for c in out["countries"].values()]
        agree = [c["agreement"] for c in out["countries"].values()]
        return json.dumps([[{k: a[k] for k in keys} for a in b] for b in blocks] + [agree], sort_keys=True)

    first = standings(1)
    for seed in (2, 3, 17, 20210):
        assert standings(seed) == first


# ------------------------------------------------------------------------------ score intervals


def test_three_agreeing_raters_are_not_certainty():
    ratings = np.array([[100.0], [100.0], [100.0]])
    draws = score_draws(ratings, np.ones((3, 1)), "XX")
    lo, hi = np.percentile(draws[:, 0], [5, 95])
    assert hi <= 100 and hi - lo > 10  # not a point
    many = score_draws(np.full((30, 1), 100.0), np.ones((30, 1)), "XX")
    lo30, _ = np.percentile(many[:, 0], [5, 95])
    assert lo30 > lo  # more agreeing raters, a narrower interval
    # the prior weighs one rater: with two raters at 0 and 100 the centre stays near 50
    centre = np.median(score_draws(np.array([[0.0], [100.0]]), np.ones((2, 1)), "XX")[:, 0])
    assert centre == pytest.approx(50, abs=3)


def test_no_zero_width_interval_from_fewer_than_five_raters():
    for k in (1, 2, 3, 4):
        data = RankingInput(tuple(f"I{i}" for i in range(k)), ("A",), np.full((k, 1), 75.0), np.ones((k, 1)))
        lo, hi = analyse_country(data, "XX").area("A").score_interval
        assert hi - lo > 5


# ---------------------------------------------------------------------------------- non-response


def test_non_response_range_by_hand():
    # KG corruption: 100 from two raters of weight 1; missing: four of weight 1, one of weight 2
    ratings = np.array([[100.0], [100.0]])
    absent = np.array([[1.0], [1.0], [1.0], [1.0], [2.0], [0.0]])  # the last is not asked
    ((low, high),) = score_range(ratings, np.ones((2, 1)), absent)
    assert low == pytest.approx(200 / 8) and high == 100.0
    assert score_range(ratings, np.ones((2, 1)), np.zeros((0, 1))) == [(100.0, 100.0)]
    # in the top three at the high end, not at the low end
    assert tier_could_change((40.0, 90.0), [95, 85, 60, 30])
    assert not tier_could_change((88.0, 90.0), [95, 85, 60, 30])
    assert not tier_could_change((10.0, 20.0), [95, 85, 60, 30])


def test_non_response_in_the_analysis():
    data = RankingInput.from_records(
        ("A", "B"),
        [
            ("I1", "A", 100, 1),
            ("I2", "A", 100, 1),
            ("I3", "A", 100, 1),
            ("I1", "B", 50, 1),
            ("I2", "B", 50, 1),
            ("I3", "B", 50, 1),
        ],
        absent={"M1": {"A": 2.0}, "M2": {"A": 1.0, "B": 1.0}},
        invited=5,
    )
    result = analyse_country(data, "XX")
    a = result.area("A").non_response
    assert a is not None and a.low == pytest.approx(300 / 6) and a.high == 100.0 and a.missing_asked == 2
    assert result.response_rate == pytest.approx(3 / 5)
    b = result.to_dict()["areas"][1]["non_response"]
    assert b["low"] == pytest.approx(150 / 4) and b["high"] == pytest.approx(250 / 4)


# ------------------------------------------------------------------------------------- agreement


def test_alpha_matches_the_krippendorff_package():
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(4)
    for _ in range(20):
        codes = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, NAN], size=(6, 6), p=[0.1, 0.1, 0.2, 0.25, 0.25, 0.1])
        expected = krippendorff.alpha(
            reliability_data=codes, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5]
        )
        assert alpha_ordinal(codes)[0] == pytest.approx(expected, abs=1e-9)


def test_resampled_alpha_does_not_pair_a_copy_with_itself():
    codes = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [2.0, 2.0, 2.0]])
    # drawing rater 0 twice and rater 1 once pairs 0 with 1 (twice each way), never 0 with 0
    once = alpha_ordinal(codes[[0, 1]])[0]
    assert alpha_ordinal(codes, np.array([[2.0, 1.0, 0.0]]))[0] == pytest.approx(once, abs=1e-9)


def test_agreement_by_hand():
    codes = np.array([[3.0], [3.0], [3.0], [2.0]])  # KZ justice: 3 3 3 2
    assert rwg(codes) == [pytest.approx(0.875)]
    assert iqr(codes) == [pytest.approx(0.25)]
    assert rwg(np.array([[1.0], [5.0]])) == [0.0]  # more spread than uniform: reported as 0
    assert rwg(np.array([[4.0]])) == [None]


def test_country_agreement_in_the_analysis():
    data = random_input(6, seed=9)
    result = analyse_country(data, "XX")
    agree = result.agreement
    codes = np.where(np.isnan(data.ratings), NAN, data.ratings / 25 + 1)
    assert agree.krippendorff_alpha_ordinal == pytest.approx(alpha_ordinal(codes)[0])
    lo, hi = agree.interval
    assert -1 <= lo <= hi <= 1
    assert result.to_dict()["agreement"]["krippendorff_alpha_ordinal"] == agree.krippendorff_alpha_ordinal


# ------------------------------------------------------------------------------ rater adjustment


def test_a_generous_rater_asked_about_one_area_only():
    # G rates only A and B, everything at 100; the others rate A 50, B 25, C 62.5.
    ratings = np.array([[100, 100, NAN], [50, 25, 62.5], [50, 25, 62.5]], dtype=float)
    raw = ("A", "C", "B")  # A 66.7, C 62.5, B 50
    adj = adjust(("A", "B", "C"), ratings, raw)
    assert adj.ranking == ("C", "A", "B") and adj.changes_top3
    scores = adjusted_scores(ratings)
    assert scores[2] > scores[0] > scores[1]
    # no generous rater: the check agrees with the method
    same = np.array([[75, 50, 25], [100, 50, 25], [75, 25, 0]], dtype=float)
    assert not adjust(("A", "B", "C"), same, ("A", "B", "C")).changes_top3


def test_json_keys_per_area_and_country():
    out = analyse({"KZ": random_input(6, 1), "KG": random_input(6, 2)}).to_dict()
    keys = {
        "tier",
        "tier_label",
        "p_first",
        "p_top3",
        "p_above_next",
        "rank_interval",
        "score_interval",
        "non_response",
    }
    for block in [out["regional"]["areas"]] + [c["areas"] for c in out["countries"].values()]:
        for area in block:
            assert keys <= set(area)
    kz = out["countries"]["KZ"]
    assert set(kz["agreement"]) >= {"krippendorff_alpha_ordinal", "interval"}
    assert set(kz["probabilities"]) == {"exact", "resamples", "mc_error"}
    assert out["regional"]["probabilities"]["mc_error"] < 0.005
    assert "rater_adjustment" in kz and "response_rate" in kz


def test_score_json_on_real_returns(workspace, make_return):
    """`consult score`'s structure: the new keys, non-response from the framework's missing institutions."""
    from consult.analysis.scoring import score
    from consult.definitions import bundled_definition
    from consult.intake.ingest import ingest
    from consult.store import Store

    insts = ["MFA", "MOIA", "MOH", "GPO"]
    paths = [make_return("KZ", inst, seed=seed) for seed, inst in enumerate(insts, start=3)]
    assert all(r.status == "accepted" for r in ingest(paths, workspace))
    with Store(workspace.db_path) as store:
        result = score(store, workspace, ["KZ"])
    kz = result["robustness"]["countries"]["KZ"]
    invited = result["countries"]["KZ"]["coverage"]["invited"]
    assert kz["responded"] == 4 and kz["invited"] == invited and kz["response_rate"] == pytest.approx(4 / invited)
    assert kz["probabilities"] == {"exact": True, "resamples": 35, "mc_error": 0.0}
    fw = bundled_definition().framework
    missing = [i for i, s in result["countries"]["KZ"]["coverage"]["institutions"].items() if s == "missing"]
    for area in kz["areas"]:
        if area["score"] is None:
            continue
        asked = [i for i in missing if area["area"] in fw.institution_by_id[i].areas]
        assert area["non_response"]["missing_asked"] == len(asked)
        assert area["non_response"]["low"] <= area["score"] <= area["non_response"]["high"]
        lo, hi = area["score_interval"]
        assert lo < hi
    assert isinstance(kz["agreement"]["krippendorff_alpha_ordinal"], float)
    assert result["method"]["robustness"]["rank_probabilities"]["separated"] == 0.95
