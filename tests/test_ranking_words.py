"""The words of `consult score` and of the syntheses about rankings: derived from exact (or
fixed-stream) probabilities, the same for every --seed, "tie" only where the data cannot separate."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consult.analysis import findings
from consult.cli import app
from consult.definitions import bundled_definition

TEXTS = bundled_definition().report_texts


def en(key: str, **fields: Any) -> str:
    return TEXTS[key]["en"].format(**fields)


def ru(key: str, **fields: Any) -> str:
    return TEXTS[key]["ru"].format(**fields)


@dataclass
class Fig:
    area: str
    tier: int | None
    p_first: float | None
    p_top3: float | None
    p_above_next: float | None


KZ_LIKE = [
    Fig("TOC", 1, 0.622, 0.956, 0.668),
    Fig("TERRORISM", 1, 0.234, 0.970, 0.818),
    Fig("CORRUPTION", 2, 0.065, 0.619, 0.567),
    Fig("DRUGS", 2, 0.079, 0.454, 0.973),
    Fig("RESEARCH", 3, 0.0, 0.0, 0.762),
    Fig("JUSTICE", 3, 0.0, 0.0, None),
]


def name(area: str) -> str:
    return area.lower()


def test_leading_trailing_and_ties_in_words():
    f = findings.ranking_findings(KZ_LIKE)
    assert f.leading == ("TOC", "TERRORISM") and f.trailing == ("RESEARCH", "JUSTICE")
    assert f.first is None and [a for a, _ in f.contenders] == ["TOC", "TERRORISM", "DRUGS", "CORRUPTION"]
    # tied: neighbours in one tier that the data cannot order; DRUGS / RESEARCH are in different tiers
    assert f.ties == (("TOC", "TERRORISM"), ("CORRUPTION", "DRUGS"), ("RESEARCH", "JUSTICE"))
    words = findings.ranking_sentences(f, en, name)
    assert words[0] == "Leading: toc and terrorism, each in the top three with probability ≥ 0.95."
    assert words[1] == "Trailing: research and justice, each outside the top three with probability ≥ 0.99."
    assert words[2].startswith("First place is open (probability of being first: toc 0.62, terrorism 0.23")
    assert words[3].endswith(": toc and terrorism; corruption and drugs; research and justice.")
    ru_words = findings.ranking_sentences(f, ru, name)
    assert ru_words[0].startswith("Лидируют: toc и terrorism") and "0,95" in ru_words[0]


def test_settled_first_place_and_no_ties():
    areas = [Fig("A", 1, 0.97, 1.0, 0.99), Fig("B", 1, 0.03, 0.99, 0.96), Fig("C", 3, 0.0, 0.01, None)]
    f = findings.ranking_findings(areas)
    assert f.first == "A" and f.ties == ()
    words = findings.ranking_sentences(f, en, name)
    assert "a is first with probability ≥ 0.97." in words
    assert not any("Tie" in w for w in words)


def test_nothing_separable_says_so():
    areas = [
        Fig("A", 2, 0.5, 0.7, 0.6),
        Fig("B", 2, 0.3, 0.6, 0.6),
        Fig("C", 2, 0.2, 0.5, 0.6),
        Fig("D", 2, 0, 0.2, None),
    ]
    words = findings.ranking_sentences(findings.ranking_findings(areas), en, name)
    assert words[0] == en("words_no_tiers")
    assert words[-1].endswith(": a, b, c and d.")


def test_probabilities_in_words_are_never_rounded_up():
    assert findings.floor2(0.9499999) == 0.94
    assert findings.floor2(0.956) == 0.95
    assert findings.floor2(1.0) == 0.99  # "≥ 0.99", never "≥ 1.00"
    assert findings.join(["a", "b", "c"], en) == "a, b and c"
    assert findings.join(["Research and forensics", "Justice"], en) == "Research and forensics, Justice"


# ------------------------------------------------------------------------------- on the demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(root / "d")], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout
    return root / "d"


def run(demo: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(demo), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


WORD_KEYS = (
    "tier",
    "tier_label",
    "p_first",
    "p_top3",
    "p_above_next",
    "rank_interval",
    "score_interval",
    "non_response",
)


@pytest.mark.slow
def test_demo_same_tiers_and_words_for_every_seed(demo, tmp_path):
    def standings(seed: int) -> str:
        rob = json.loads(run(demo, "score", "--json", "--seed", str(seed)))["robustness"]
        assert rob["method"]["seed"] == seed
        blocks = [rob["regional"]["areas"]] + [c["areas"] for c in rob["countries"].values()]
        agree = [c["agreement"] for c in rob["countries"].values()]
        said = [c["findings"] for c in rob["countries"].values()] + [rob["regional"]["findings"]]
        areas = [[{k: a[k] for k in WORD_KEYS} for a in b] for b in blocks]
        return json.dumps([*areas, agree, said], sort_keys=True)

    first = standings(1)
    assert standings(2) == first and standings(99) == first
    kz = json.loads(first)[-1][0]
    assert kz["leading"] == ["TOC", "TERRORISM"] and kz["trailing"] == ["RESEARCH", "JUSTICE"]
    texts = {seed: re.sub(r"\s+", " ", run(demo, "score", "--seed", str(seed))) for seed in (1, 2)}
    assert texts[1] == texts[2]
    for seed in (1, 2):
        for lang in ("en", "ru"):
            run(demo, "synthesize", "--all", "--regional", "-f", "md", "--lang", lang, "--seed", str(seed),
                "--out", str(tmp_path / f"{lang}{seed}"))  # fmt: skip
    for lang in ("en", "ru"):
        for f in (tmp_path / f"{lang}1").glob("*.md"):
            assert f.read_text(encoding="utf-8") == (tmp_path / f"{lang}2" / f.name).read_text(encoding="utf-8")


@pytest.mark.slow
def test_demo_synthesis_names_leaders_and_trailers(demo, tmp_path):
    run(demo, "synthesize", "--all", "--regional", "-f", "md", "--out", str(tmp_path))
    kz = (tmp_path / "KZ-synthesis.en.md").read_text(encoding="utf-8")
    summary = kz.split("## Executive summary", 1)[1].split("\n## ", 1)[0]
    limitations = kz.split("## Limitations", 1)[1].split("\n## ", 1)[0]
    assert "Leading: Organized crime and Terrorism, each in the top three with probability ≥ 0.95." in summary
    assert "Trailing: Research and forensics, Justice and rule of law, each outside the top three" in summary
    assert "Krippendorff's alpha (ordinal) 0.49" in limitations  # a method figure: not on page 1
    assert "Response rate 50%" in summary and "Organized crime 52–98" in summary
    assert "Rank kept" not in kz
    # in Russian running text an area's name is a name: quoted, as everywhere else in the document
    run(demo, "synthesize", "-c", "KZ", "-f", "md", "--lang", "ru", "--out", str(tmp_path))
    ru = (tmp_path / "KZ-synthesis.ru.md").read_text(encoding="utf-8").split("\n## ", 2)[1]
    assert "Лидируют: «Организованная преступность» и «Терроризм» — каждое в первой тройке" in ru
    assert "«Организованная преступность» 52–98" in ru and ": Организованная" not in ru
    # the rater-adjustment check in the method notes: KZ's terrorism above organised crime
    assert "the top three would be Terrorism, Organized crime and Corruption" in kz
    # no zero-width score interval, however few the raters
    for low, high in re.findall(
        r"90% interval (\d+)–(\d+)\)", kz + (tmp_path / "KG-synthesis.en.md").read_text("utf-8")
    ):
        assert int(low) < int(high)
    scores = json.loads(run(demo, "score", "--json"))
    for code, c in scores["robustness"]["countries"].items():
        for a in c["areas"]:
            if a["score_interval"] and a["n"] < 5:
                lo, hi = a["score_interval"]
                assert hi - lo > 5, (code, a["area"])
        # "tie" only between neighbours that the data cannot order
        text = (tmp_path / f"{code}-synthesis.en.md").read_text(encoding="utf-8")
        tied = [line for line in text.splitlines() if line.startswith("- Tie")]
        ranked = [a for a in c["areas"] if a["tier"] is not None]
        names = {a["id"]: a["short"]["en"] for a in scores["countries"][code]["areas"]}
        for x, y in itertools.pairwise(ranked):
            pair = f"{names[x['area']]} / {names[y['area']]}"
            if x["tier"] != y["tier"] or x["p_above_next"] >= 0.95:
                assert not any(pair in line for line in tied), (code, pair)
