"""An analyst's recomputation: the demo's figures of docs/methodology.md section 13 follow from
`consult export`, framework.yaml and the written definitions, by code that shares nothing with
consult.analysis (ordered draws instead of count vectors, Python sorting, the krippendorff package,
reference-coded least squares)."""

from __future__ import annotations

import csv
import itertools
import math
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from consult.cli import app

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK = yaml.safe_load((ROOT / "questionnaires" / "framework.yaml").read_text(encoding="utf-8"))
AREAS = [a["id"] for a in FRAMEWORK["areas"]]
WEIGHTS = {
    i["id"]: {a: float(v["weight"]) for a, v in (i.get("areas") or {}).items()} for i in FRAMEWORK["institutions"]
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict], dict]:
    import json

    root = tmp_path_factory.mktemp("recompute") / "d"
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--out", str(root)], catch_exceptions=False).exit_code == 0
    out = root / "answers.csv"
    assert runner.invoke(app, ["-w", str(root), "export", "--out", str(out)], catch_exceptions=False).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    scores = json.loads(runner.invoke(app, ["-w", str(root), "score", "--json", "--seed", "5"]).stdout)
    ws = yaml.safe_load((root / "consult.yaml").read_text(encoding="utf-8"))
    return scores, rows, ws


def country_data(rows: list[dict], code: str) -> tuple[list[str], dict, dict]:
    ratings: dict[str, dict[str, int]] = defaultdict(dict)
    borda: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    insts = set()
    for r in rows:
        if r["country"] != code:
            continue
        insts.add(r["institution"])
        if r["question_id"].endswith(".priority") and r["value"] in {"1", "2", "3", "4", "5"}:
            ratings[r["institution"]][r["area"]] = int(r["value"])
        if r["question_id"] == "top5" and r["position"]:
            borda[r["institution"]][r["value"].split(".")[0]] += 6 - int(r["position"])
    return sorted(insts), ratings, borda


def ranking(insts, counts, ratings, borda, ranked):
    """The method's order (section 7) of the ranked areas for one resample (counts per institution)."""
    keys = []
    for order, area in enumerate(AREAS):
        if area not in ranked:
            continue
        num = den = n = b = 0.0
        for inst, c in zip(insts, counts, strict=True):
            b += c * borda[inst].get(area, 0.0)
            if area in ratings[inst]:
                w = WEIGHTS.get(inst, {}).get(area, 1.0)
                num += c * w * (ratings[inst][area] - 1) * 25
                den += c * w
                n += c
        score = round(num / den, 9) if den else None
        keys.append(((score is None, -(score or 0.0), -b, -n, order), area))
    return [a for _, a in sorted(keys)]


def check_rank_probabilities(rob, insts, ratings, borda, ranked):
    """The rank probabilities, intervals, tiers and P(above next) by enumerating every
    bootstrap draw; returns the base ranking."""
    n = len(insts)
    # every ordered draw of n institutions, probability n^-n each
    tally: dict[tuple[int, ...], float] = defaultdict(float)
    for draw in itertools.product(range(n), repeat=n):
        tally[tuple(np.bincount(draw, minlength=n))] += 1.0 / n**n
    rank_p: dict[str, np.ndarray] = {a: np.zeros(len(ranked) + 1) for a in ranked}
    above: dict[tuple[str, str], float] = defaultdict(float)
    for counts, p in tally.items():
        order = ranking(insts, counts, ratings, borda, ranked)
        for r, area in enumerate(order, start=1):
            rank_p[area][r] += p
        for i, a in enumerate(order):
            for b in order[i + 1 :]:
                above[(a, b)] += p
    base = ranking(insts, [1] * n, ratings, borda, ranked)
    by_area = {a["area"]: a for a in rob["areas"]}
    for pos, area in enumerate(base):
        got = by_area[area]
        cdf = np.cumsum(rank_p[area])
        assert got["p_first"] == pytest.approx(rank_p[area][1], abs=1e-12)
        assert got["p_top3"] == pytest.approx(cdf[3], abs=1e-12)
        lo = next(r for r in range(1, len(ranked) + 1) if cdf[r] > 0.05 + 1e-12)
        hi = next(r for r in range(1, len(ranked) + 1) if cdf[r] >= 0.95 - 1e-12)
        assert got["rank_interval"] == [lo, hi]
        tier = 1 if cdf[3] >= 0.95 - 1e-12 else 3 if cdf[3] <= 0.05 + 1e-12 else 2
        assert got["tier"] == tier
        if pos + 1 < len(base):
            assert got["p_above_next"] == pytest.approx(above[(area, base[pos + 1])], abs=1e-12)
    return base


def check_rater_adjustment(rob, insts, ratings, base):
    """The rater adjustment: reference-coded least squares, fitted mean over the responding institutions."""
    n = len(insts)
    cells = [(k, AREAS.index(a), (v - 1) * 25.0) for k, i in enumerate(insts) for a, v in ratings[i].items()]
    design = np.zeros((len(cells), n + len(AREAS) - 1))
    for row, (k, j, _) in enumerate(cells):
        design[row, 0] = 1.0
        if k:
            design[row, k] = 1.0
        if j:
            design[row, n - 1 + j] = 1.0
    coef, *_ = np.linalg.lstsq(design, np.array([v for *_, v in cells]), rcond=None)
    inst_effect = np.concatenate([[0.0], coef[1:n]])
    adjusted = {}
    for j, area in enumerate(AREAS):
        if any(area in ratings[i] for i in insts):
            adjusted[area] = coef[0] + inst_effect.mean() + (coef[n - 1 + j] if j else 0.0)
    for area, value in adjusted.items():
        assert rob["rater_adjustment"]["scores"][area] == pytest.approx(value, abs=1e-6)
    order = sorted(base, key=lambda a: (-round(adjusted[a], 9), base.index(a)))
    assert rob["rater_adjustment"]["ranking"] == order
    assert rob["rater_adjustment"]["changes_top3"] == (order[:3] != base[:3])


@pytest.mark.slow
@pytest.mark.parametrize("code", ["KZ", "KG", "TJ"])
def test_country_figures_follow_from_the_export(demo, code):
    scores, rows, ws = demo
    rob = scores["robustness"]["countries"][code]
    insts, ratings, borda = country_data(rows, code)
    n = len(insts)
    # ranked areas: n >= 3 and (Σw)² / Σw² >= 2.5
    ranked = []
    for area in AREAS:
        w = [WEIGHTS.get(i, {}).get(area, 1.0) for i in insts if area in ratings[i]]
        if len(w) >= 3 and sum(w) ** 2 / sum(x * x for x in w) >= 2.5 - 1e-9:
            ranked.append(area)
    base = check_rank_probabilities(rob, insts, ratings, borda, ranked)
    by_area = {a["area"]: a for a in rob["areas"]}
    # non-response: invited institutions without a return, asked about the area, at 1 or 5
    invited = ws.get("invited", {}).get(code) or ws["institutions"]
    missing = [i for i in invited if i not in insts]
    assert rob["responded"] == n and rob["invited"] == len(invited)
    for area in AREAS:
        w = {i: WEIGHTS.get(i, {}).get(area, 1.0) for i in insts if area in ratings[i]}
        if not w:
            continue
        total = sum(w[i] * (ratings[i][area] - 1) * 25 for i in w)
        extra = sum(WEIGHTS[m][area] for m in missing if area in WEIGHTS.get(m, {}))
        nr = by_area[area]["non_response"]
        assert nr["low"] == pytest.approx(total / (sum(w.values()) + extra))
        assert nr["high"] == pytest.approx((total + 100 * extra) / (sum(w.values()) + extra))
        codes = [ratings[i][area] for i in w]
        if len(codes) >= 2:
            assert by_area[area]["rwg"] == pytest.approx(max(0.0, 1 - np.var(codes, ddof=1) / 2))
    # score interval (13.4): the Bayesian bootstrap with the written stream and prior
    rng = np.random.default_rng([202020, zlib.crc32(code.encode()), 1])
    g = rng.gamma(1.0, size=(4000, n))
    h = rng.gamma(0.2, size=(4000, len(AREAS), 5))
    for j, area in enumerate(AREAS):
        raters = [k for k, i in enumerate(insts) if area in ratings[i]]
        if not raters:
            continue
        w = np.array([WEIGHTS.get(insts[k], {}).get(area, 1.0) for k in raters])
        v = np.array([(ratings[insts[k]][area] - 1) * 25.0 for k in raters])
        prior = h[:, j, :]
        num = g[:, raters] @ (w * v) + w.mean() * (prior @ np.array([0, 25, 50, 75, 100.0]))
        den = g[:, raters] @ w + w.mean() * prior.sum(axis=1)
        assert by_area[area]["score_interval"] == pytest.approx(list(np.percentile(num / den, [5, 95])))
    # Krippendorff's alpha (ordinal), by the krippendorff package
    krippendorff = pytest.importorskip("krippendorff")
    matrix = np.array([[ratings[i].get(a, np.nan) for a in AREAS] for i in insts], dtype=float)
    alpha = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5])
    assert rob["agreement"]["krippendorff_alpha_ordinal"] == pytest.approx(alpha)
    check_rater_adjustment(rob, insts, ratings, base)


@pytest.mark.slow
def test_demo_figures_quoted_in_the_methodology(demo):
    scores, _, _ = demo
    kz = scores["robustness"]["countries"]["KZ"]
    toc = next(a for a in kz["areas"] if a["area"] == "TOC")
    assert toc["non_response"]["low"] == pytest.approx(775 / 15) and toc["non_response"]["high"] == pytest.approx(
        1475 / 15
    )
    alphas = {
        c: round(v["agreement"]["krippendorff_alpha_ordinal"], 2) for c, v in scores["robustness"]["countries"].items()
    }
    assert alphas == {"KZ": 0.49, "KG": 0.55, "TJ": 0.37}
    justice = next(a for a in kz["areas"] if a["area"] == "JUSTICE")
    assert justice["rwg"] == pytest.approx(0.875) and justice["share_4_5"] == 0.0
    assert kz["rater_adjustment"]["ranking"][:2] == ["TERRORISM", "TOC"]
    assert math.isclose(kz["probabilities"]["mc_error"], 0.0)
