"""Throughput and peak memory of the whole path, on a realistic load.

    pip install -e '.[bench]'
    python benchmarks/run.py --n 100 --n 1000

For each N: a fresh workspace with all eight countries; ``generate`` writes the 96 blank
questionnaires; the load generator fills N returns with random valid answers (seeded; not
timed); then ``ingest``, ``score`` and ``synthesize`` are timed, and so is
``pandas.read_excel(path, sheet_name=None)`` merely reading the same N files, as a yardstick.
Peak memory is the maximum resident set size of this process and of its worker processes.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from consult.analysis.scoring import score
from consult.definitions import bundled_definition
from consult.example.filler import fill_workbook, form_of, sample_answers
from consult.forms.writer import generate, targets
from consult.intake.ingest import ingest
from consult.store import Store
from consult.workspace import init_workspace, open_workspace


def _fill(job: tuple[Path, Path, int]) -> None:
    blank, target, seed = job
    form, langs = form_of(blank, bundled_definition())
    rng = random.Random(seed)
    fill_workbook(blank, sample_answers(form, langs, rng, complete=rng.random() > 0.1), target)


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def run(n: int, work: Path, workers: int | None) -> dict[str, float]:
    shutil.rmtree(work, ignore_errors=True)
    init_workspace(work / "ws", round_id="bench")
    ws = open_workspace(work / "ws")
    d = bundled_definition()
    pairs = targets(d, ws, None, None)
    figures: dict[str, float] = {}

    t = time.perf_counter()
    generate(d, ws, pairs, work / "forms", ws.languages)
    figures["generate_s"] = time.perf_counter() - t
    figures["generate_files"] = len(pairs)

    jobs = []
    for i in range(n):
        c, inst = pairs[i % len(pairs)]
        jobs.append((work / "forms" / c / f"{c}-{inst}.xlsx", work / "returns" / c / f"{i:05d}-{c}-{inst}.xlsx", i))
    t = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        list(pool.map(_fill, jobs, chunksize=8))
    figures["load_generation_s"] = time.perf_counter() - t
    files = sorted((work / "returns").rglob("*.xlsx"))

    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        t = time.perf_counter()
        for f in files:
            pd.read_excel(f, sheet_name=None)
        figures["pandas_read_s"] = time.perf_counter() - t

    t = time.perf_counter()
    results = ingest([work / "returns"], ws, workers=workers)
    figures["ingest_s"] = time.perf_counter() - t
    figures["ingest_single_process_s"] = float("nan")
    if workers is None:  # the same files, one process, into a second store: the per-file cost
        ws1 = open_workspace(work / "ws")
        ws1.root = work / "ws1"
        ws1.root.mkdir()
        t = time.perf_counter()
        ingest([work / "returns"], ws1, workers=1)
        figures["ingest_single_process_s"] = time.perf_counter() - t
    figures["accepted_or_incomplete"] = sum(r.status in ("accepted", "incomplete") for r in results)

    t = time.perf_counter()
    with Store(ws.db_path) as store:
        score(store, ws)
    figures["score_s"] = time.perf_counter() - t

    t = time.perf_counter()
    try:
        from consult.report.synthesis import synthesize

        with Store(ws.db_path) as store:
            synthesize(
                store,
                ws,
                countries=ws.countries,
                regional=True,
                formats=("md", "docx"),
                lang="en",
                out=work / "synthesis",
            )
        figures["synthesize_s"] = time.perf_counter() - t
    except ImportError:
        figures["synthesize_s"] = float("nan")
    figures["end_to_end_s"] = sum(
        figures[k] for k in ("generate_s", "ingest_s", "score_s", "synthesize_s") if figures[k] == figures[k]
    )
    figures["peak_rss_main_mb"], figures["peak_rss_workers_mb"] = peak_mb()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="number of returns (repeatable)")
    parser.add_argument("--workers", type=int, default=None, help="ingest reader processes (default: auto)")
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder)")
    args = parser.parse_args()
    sizes = args.n or [100, 1000]
    base = args.keep or Path(tempfile.mkdtemp(prefix="consult-bench-"))
    print(f"consult benchmark: python {sys.version.split()[0]}, work folder {base}")
    for n in sizes:
        f = run(n, base / f"n{n}", args.workers)
        per_file_ms = f["ingest_s"] / n * 1000
        print(f"\nN = {n} returns")
        print(
            f"  generate        {f['generate_files']:.0f} questionnaires in {f['generate_s']:.2f} s "
            f"({f['generate_files'] / f['generate_s']:.0f} files/s)"
        )
        print(f"  load generation {f['load_generation_s']:.1f} s (not part of the figures below)")
        if "pandas_read_s" in f:
            print(
                f"  pandas.read_excel (read only)   {f['pandas_read_s']:.2f} s "
                f"({n / f['pandas_read_s']:.0f} returns/s, {f['pandas_read_s'] / n * 1000:.1f} ms/file)"
            )
        print(
            f"  ingest (read+validate+store)    {f['ingest_s']:.2f} s ({n / f['ingest_s']:.0f} returns/s, "
            f"{per_file_ms:.1f} ms/file)"
        )
        if f["ingest_single_process_s"] == f["ingest_single_process_s"]:
            print(
                f"  ingest, one process             {f['ingest_single_process_s']:.2f} s "
                f"({f['ingest_single_process_s'] / n * 1000:.1f} ms/file)"
            )
        print(f"  score           {f['score_s']:.2f} s")
        print(f"  synthesize      {f['synthesize_s']:.2f} s (8 countries + regional, md + docx)")
        print(f"  end to end      {f['end_to_end_s']:.1f} s (generate + ingest + score + synthesize)")
        print(
            f"  peak RSS        main {f['peak_rss_main_mb']:.0f} MB, largest worker {f['peak_rss_workers_mb']:.0f} MB"
        )
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
