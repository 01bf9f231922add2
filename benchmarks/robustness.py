"""Time of the robustness analysis (consult/analysis/robustness/) on a realistic load.

    python benchmarks/robustness.py [--countries 8] [--institutions 12] [--draws 2000] [--repeat 5]

Random ratings (1-5 as 0-100, about 10% not rated) and framework-like weights (1-3) for every
institution of every country; prints the best and median wall time of ``analyse`` (bootstrap,
weight sensitivity, equal weights, leave-one-out, rank probabilities and tiers, score intervals,
non-response, Krippendorff's alpha with its interval and the rater adjustment for each country,
and the regional ranking with its probabilities). ``--institutions 9`` measures the largest
exact enumeration (24,310 resamples per country), 12 the Monte Carlo path.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from consult.analysis.robustness import DRAWS, RankingInput, analyse

AREAS = ("TOC", "DRUGS", "CORRUPTION", "TERRORISM", "JUSTICE", "RESEARCH")


def load(countries: int, institutions: int, seed: int = 0) -> dict[str, RankingInput]:
    """Random but plausible inputs: mostly high ratings, some areas not rated, lead weights."""
    rng = np.random.default_rng(seed)
    values = [0.0, 25.0, 50.0, 75.0, 100.0, np.nan]
    data = {}
    for c in range(countries):
        ratings = rng.choice(values, size=(institutions, len(AREAS)), p=[0.04, 0.08, 0.18, 0.3, 0.3, 0.1])
        weights = rng.choice([1.0, 2.0, 3.0], size=(institutions, len(AREAS)), p=[0.7, 0.2, 0.1])
        borda = rng.integers(0, 6, size=(institutions, len(AREAS))).astype(float)
        insts = tuple(f"I{i:02d}" for i in range(institutions))
        data[f"C{c}"] = RankingInput(insts, AREAS, ratings, weights, borda)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--countries", type=int, default=8)
    parser.add_argument("--institutions", type=int, default=12)
    parser.add_argument("--draws", type=int, default=DRAWS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = load(args.countries, args.institutions)
    analyse(data, draws=10)  # warm-up: imports, first allocations
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        analyse(data, draws=args.draws)
        times.append(time.perf_counter() - start)
    print(
        f"robustness: {args.countries} countries x {args.institutions} institutions, {args.draws} draws: "
        f"best {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms ({args.repeat} runs)"
    )


if __name__ == "__main__":
    main()
