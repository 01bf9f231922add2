"""Throughput and peak memory of the whole path, and ingest beside other readers of the same files.

    pip install -e '.[bench]'          # pandas and python-calamine, for the yardsticks
    python benchmarks/run.py --n 1000 --n 10000

For each N: a fresh workspace with all eight countries; ``generate`` writes the 96 blank
questionnaires; the load generator fills N returns with random valid answers (seeded; not
timed). Then, on the same files in the same run:

* readers, on the first ``--sample`` files (default 300), each once over the sample, best of
  ``--repeat``: ``pandas.read_excel(sheet_name=None)`` with its default engine and with
  ``engine="calamine"``, openpyxl read-only touching every cell, python-calamine reading every
  sheet, the parse floor (zipfile + lxml parsing every XML part), and consult reading one
  return at a time without any store (one process, every check);
* ``consult ingest`` (the library, default workers) of all N files into the store;
* ``score`` and ``synthesize`` (8 countries + regional, md + docx);
* the three goals of the README, each as a ratio to its goal: start-up (``consult --help``,
  ``consult status``) under 0.3 s, ``consult ingest`` as typed within 2x of python-calamine,
  ``consult synthesize --all --regional`` as typed under 2 s.

Peak memory is the resident set of the whole process tree (this process and every reader
process) summed at one instant, sampled every 20 ms from /proc; the largest sum is reported.
A missing yardstick library is skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from consult.analysis.scoring import score
from consult.definitions import bundled_definition
from consult.example.filler import fill_workbook, form_of, sample_answers
from consult.forms.writer import generate, targets
from consult.intake.ingest import ingest
from consult.intake.reader import read_return
from consult.store import Store
from consult.workspace import init_workspace, known_definitions, open_workspace


def _fill(job: tuple[Path, Path, int]) -> None:
    blank, target, seed = job
    form, langs = form_of(blank, bundled_definition())
    rng = random.Random(seed)
    fill_workbook(blank, sample_answers(form, langs, rng, complete=rng.random() > 0.1), target)


class TreeRSS:
    """The largest resident set of this process plus all its descendants, summed at one
    instant (sampled from /proc: the per-process maxima of getrusage happen at different
    times and would overstate, or for reaped workers understate, the real peak)."""

    def __init__(self, every: float = 0.02, root: int | None = None):
        self.every = every
        self.root = root if root is not None else os.getpid()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = Path("/proc/self/status").exists()

    def __enter__(self) -> TreeRSS:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()
            self.peak = max(self.peak, self.sample(self.root))

    @staticmethod
    def sample(root: int | None = None) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        me = root if root is not None else os.getpid()
        total = 0
        for pid, size in rss.items():
            p = pid
            while p > 1 and p != me:
                p = parents.get(p, 0)
            if p == me:
                total += size
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample(self.root))
            self._stop.wait(self.every)


def timed(call: Callable[[], Any], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t)
    return best


def best_command(args: list[str], repeat: int = 5) -> float:
    """Wall time of ``consult ARGS`` in a new process (interpreter start-up included), best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "consult", *args], capture_output=True, check=True)
        best = min(best, time.perf_counter() - t)
    return best


# The performance goals of the README, as (figure, goal): a ratio of at most 1.00 meets the goal.
START_GOAL_S = 0.3  # `consult --help` and `consult status`
INGEST_GOAL_X = 2.0  # `consult ingest` as typed, time per file, against python-calamine reading every sheet
SYNTHESIZE_GOAL_S = 2.0  # `consult synthesize --all --regional`, 8 countries, as typed


def goals(f: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    """(goal, measured, ratio to the goal) for each goal; ratio None when it cannot be measured here."""
    calamine = f["readers"].get("python-calamine, every sheet")
    per_file = f["cli_ingest_s"] / f["n"]
    vs_calamine = per_file / (calamine / f["sample"]) if isinstance(calamine, float) else None
    return [
        (
            f"start-up: consult --help under {START_GOAL_S} s",
            f"{f['help_s']:.2f} s",
            f["help_s"] / START_GOAL_S,
        ),
        (
            f"start-up: consult status under {START_GOAL_S} s",
            f"{f['status_s']:.2f} s",
            f["status_s"] / START_GOAL_S,
        ),
        (
            f"consult ingest (command, start-up included) within {INGEST_GOAL_X:.0f}x of python-calamine",
            f"{per_file * 1000:.1f} ms/file, "
            + (f"{vs_calamine:.2f}x calamine" if vs_calamine else "calamine not installed"),
            None if vs_calamine is None else vs_calamine / INGEST_GOAL_X,
        ),
        (
            f"consult synthesize --all --regional (8 countries, md + docx) under {SYNTHESIZE_GOAL_S:.0f} s",
            f"{f['cli_synthesize_s']:.2f} s",
            f["cli_synthesize_s"] / SYNTHESIZE_GOAL_S,
        ),
    ]


def _parse_floor(files: list[Path], parser: Any) -> None:
    """The floor under every reader: unzip each file and parse every XML part, nothing more."""
    from lxml import etree

    for f in files:
        with zipfile.ZipFile(io.BytesIO(f.read_bytes())) as zf:
            for name in zf.namelist():
                if name.endswith((".xml", ".rels")):
                    etree.fromstring(zf.read(name), parser)


def readers(files: list[Path], ws_path: Path) -> dict[str, Callable[[], Any] | str]:
    """Each yardstick as a call over ``files``, or the note saying why it is skipped."""
    found: dict[str, Callable[[], Any] | str] = {}
    try:
        import pandas as pd

        found["pandas.read_excel(sheet_name=None), default engine (openpyxl)"] = lambda: [
            pd.read_excel(f, sheet_name=None, engine="openpyxl")
            for f in files  # named: pandas 3 warns otherwise
        ]
        try:
            import python_calamine  # noqa: F401

            found['pandas.read_excel(sheet_name=None, engine="calamine")'] = lambda: [
                pd.read_excel(f, sheet_name=None, engine="calamine") for f in files
            ]
        except ImportError:
            found['pandas.read_excel(sheet_name=None, engine="calamine")'] = "skipped: python-calamine not installed"
    except ImportError:
        found["pandas.read_excel(sheet_name=None), default engine (openpyxl)"] = "skipped: pandas not installed"

    import openpyxl

    def openpyxl_all() -> None:
        for f in files:
            wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
            for ws in wb.worksheets:
                for _row in ws.iter_rows(values_only=True):
                    pass
            wb.close()

    found["openpyxl read-only, every cell of every sheet"] = openpyxl_all
    try:
        from python_calamine import CalamineWorkbook

        def calamine_all() -> None:
            for f in files:
                wb = CalamineWorkbook.from_path(str(f))
                for name in wb.sheet_names:
                    wb.get_sheet_by_name(name).to_python()

        found["python-calamine, every sheet"] = calamine_all
    except ImportError:
        found["python-calamine, every sheet"] = "skipped: python-calamine not installed"
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    found["parse floor: zipfile + lxml, every XML part"] = lambda: _parse_floor(files, parser)
    ws = open_workspace(ws_path)
    definitions = known_definitions(ws)

    def consult_read() -> None:
        for f in files:
            rr = read_return(f, definitions, ws.round, seal_key=ws.seal_key)
            assert not rr.errors, [str(e) for e in rr.errors]

    found["consult: read + check one return, no store, one process"] = consult_read
    return found


def measure_readers(files: list[Path], ws_path: Path, repeat: int) -> dict[str, float | str]:
    """Seconds each yardstick takes over ``files`` (best of ``repeat``), or why it was skipped."""
    found = readers(files, ws_path)
    return {label: call if isinstance(call, str) else timed(call, repeat) for label, call in found.items()}


def run(n: int, work: Path, workers: int | None, sample: int, repeat: int) -> dict[str, Any]:
    reuse = len(list((work / "returns").rglob("*.xlsx"))) == n  # a kept folder (--keep) of this N
    key = work / "ws" / ".consult"
    if reuse and key.is_dir():  # the kept returns are sealed with the kept workspace's key
        shutil.copytree(key, work / "key", dirs_exist_ok=True)
    for old in ("ws", "ws-cli", "forms", "synth", "synth-cli") if reuse else ():
        shutil.rmtree(work / old, ignore_errors=True)
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)
    init_workspace(work / "ws", round_id="bench")
    if reuse and (work / "key").is_dir():
        shutil.rmtree(key)
        shutil.copytree(work / "key", key)
    ws = open_workspace(work / "ws")
    d = bundled_definition()
    pairs = targets(ws, None, None)
    figures: dict[str, Any] = {"n": n}

    with TreeRSS() as rss_generate:
        figures["generate_s"] = timed(lambda: generate(d, ws, pairs, work / "forms", ws.languages))
    figures["generate_files"] = len(pairs)

    jobs = []
    for i in range(n):
        c, inst = pairs[i % len(pairs)]
        jobs.append(
            (work / "forms" / c / f"{c}-{inst}.en-ru.xlsx", work / "returns" / c / f"{i:05d}-{c}-{inst}.xlsx", i)
        )
    t = time.perf_counter()
    if not reuse:
        with ProcessPoolExecutor() as pool:
            list(pool.map(_fill, jobs, chunksize=8))
    figures["load_generation_s"] = time.perf_counter() - t
    figures["reused"] = reuse
    files = sorted((work / "returns").rglob("*.xlsx"))

    sampled = files[:sample]
    figures["sample"] = len(sampled)
    # in a fresh process: pandas & co. would otherwise stay in this one (and in the forked
    # reader processes) and inflate the memory figures of ingest
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        figures["readers"] = child.submit(measure_readers, sampled, work / "ws", repeat).result()

    stamps: list[float] = []
    with TreeRSS() as rss_ingest:
        t = time.perf_counter()
        results = ingest([work / "returns"], ws, workers=workers, on_file=lambda _r: stamps.append(time.perf_counter()))
        figures["ingest_s"] = time.perf_counter() - t
    figures["ingest_stamps"] = [s - t for s in stamps]
    figures["stored"] = sum(r.status in ("accepted", "incomplete") for r in results)
    figures["ingest_workers"] = workers if workers is not None else (min(os.cpu_count() or 1, 4) if n >= 16 else 1)

    # the command a user types, into a second workspace: imports, progress display and all
    init_workspace(work / "ws-cli", round_id="bench")
    shutil.copy(ws.secret_path, open_workspace(work / "ws-cli").secret_path)  # the key the forms were sealed with
    t = time.perf_counter()
    cli = subprocess.Popen(
        [sys.executable, "-m", "consult", "-w", str(work / "ws-cli"), "ingest", str(work / "returns")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with TreeRSS(root=cli.pid) as rss_cli:
        assert cli.wait() in (0, 1), "consult ingest failed"
    figures["cli_ingest_s"] = time.perf_counter() - t
    with Store(open_workspace(work / "ws-cli").db_path) as store:
        cli_stored = sum(r.status != "rejected" for r in store.returns())
    assert cli_stored == figures["stored"], f"the command stored {cli_stored} returns, the library {figures['stored']}"
    figures["peak_rss_cli_mb"] = rss_cli.peak / 2**20

    with TreeRSS() as rss_rest:
        t = time.perf_counter()
        with Store(ws.db_path) as store:
            score(store, ws)
        figures["score_s"] = time.perf_counter() - t

        t = time.perf_counter()
        from consult.report.synthesis import synthesize

        with Store(ws.db_path) as store:
            synthesize(
                store, ws, countries=ws.countries, regional=True, formats=("md", "docx"), lang="en", out=work / "synth"
            )
        figures["synthesize_s"] = time.perf_counter() - t
    # the commands a user types, each a new process: start-up, and the whole synthesis
    figures["help_s"] = best_command(["--help"])
    figures["status_s"] = best_command(["-w", str(work / "ws-cli"), "status"])
    t = time.perf_counter()
    synth = ["-w", str(work / "ws"), "synthesize", "--all", "--regional", "--out", str(work / "synth-cli")]
    done = subprocess.run([sys.executable, "-m", "consult", *synth], capture_output=True)
    figures["cli_synthesize_s"] = time.perf_counter() - t
    assert done.returncode == 0, done.stderr
    figures["end_to_end_s"] = sum(figures[k] for k in ("generate_s", "ingest_s", "score_s", "synthesize_s"))
    figures["peak_rss_mb"] = max(r.peak for r in (rss_generate, rss_ingest, rss_rest)) / 2**20
    figures["peak_rss_ingest_mb"] = rss_ingest.peak / 2**20
    figures["rss_available"] = rss_ingest.available
    return figures


def report(f: dict[str, Any]) -> None:
    n, k = f["n"], f["sample"]
    print(f"\nN = {n} returns ({f['stored']} stored as accepted or incomplete)")
    print(
        f"  generate        {f['generate_files']} questionnaires in {f['generate_s']:.2f} s "
        f"({f['generate_files'] / f['generate_s']:.0f} files/s)"
    )
    if f["reused"]:
        print("  load generation skipped: the returns of the kept work folder were reused")
    else:
        print(f"  load generation {f['load_generation_s']:.1f} s (not part of the figures below)")
    print(f"\n  Readers on the same {k} files (ms/file, returns/s, ratio of times to pandas and to python-calamine):")
    ingest_label = f"consult ingest: read + check + store, library, {f['ingest_workers']} worker(s), all {n} files"
    rows: list[tuple[str, float | str]] = [(lbl, v if isinstance(v, str) else v / k) for lbl, v in f["readers"].items()]
    rows.append((ingest_label, f["ingest_s"] / n))
    rows.append((f"consult ingest CLI as typed (a new process, default workers), all {n} files", f["cli_ingest_s"] / n))
    timed_rows = [(lbl, v) for lbl, v in rows if not isinstance(v, str)]
    pandas = next((v for lbl, v in timed_rows if lbl.startswith("pandas") and "default" in lbl), None)
    calamine = next((v for lbl, v in timed_rows if lbl.startswith("python-calamine")), None)
    print("  | reader | ms/file | returns/s | × pandas | × calamine |\n  |---|---|---|---|---|")
    for label, per in rows:
        if isinstance(per, str):
            print(f"  | {label} | {per} | | | |")
            continue
        vs_pandas = f"{per / pandas:.2f}" if pandas else "-"
        vs_calamine = f"{per / calamine:.2f}" if calamine else "-"
        print(f"  | {label} | {per * 1000:.1f} | {1 / per:.0f} | {vs_pandas} | {vs_calamine} |")
    stamps = f["ingest_stamps"]
    if len(stamps) >= 10:
        tenth = len(stamps) // 10
        rates = []
        for i in range(10):
            lo, hi = stamps[i * tenth], stamps[min((i + 1) * tenth, len(stamps)) - 1]
            rates.append(f"{(tenth - 1) / (hi - lo):.0f}" if hi > lo else "-")
        print(f"  ingest returns/s per tenth of the run (linear if flat): {' '.join(rates)}")
    print(f"  score           {f['score_s']:.2f} s")
    print(f"  synthesize      {f['synthesize_s']:.2f} s (8 countries + regional, md + docx; library)")
    print(f"  end to end      {f['end_to_end_s']:.1f} s (generate + ingest + score + synthesize)")
    if f["rss_available"]:
        print(
            f"  peak RSS        {f['peak_rss_mb']:.0f} MB for the whole process tree at one instant "
            f"(during ingest: {f['peak_rss_ingest_mb']:.0f} MB; the ingest command alone, its own tree: "
            f"{f['peak_rss_cli_mb']:.0f} MB)"
        )
    else:
        print("  peak RSS        not measured (needs /proc)")
    print("\n  Goals (ratio = measured / goal; at most 1.00 meets it):")
    print("  | goal | measured | ratio | |\n  |---|---|---|---|")
    for goal, measured, ratio in goals(f):
        verdict = "-" if ratio is None else ("met" if ratio <= 1 else "NOT met")
        print(f"  | {goal} | {measured} | {'-' if ratio is None else f'{ratio:.2f}'} | {verdict} |")


def compile_package() -> None:
    """Byte-compile consult, as ``pip install`` does: a checkout run with PYTHONDONTWRITEBYTECODE
    (or a read-only one) would otherwise compile every module at every start, and the start-up
    figures would measure the compiler."""
    import compileall

    import consult

    compileall.compile_dir(str(Path(consult.__file__).parent), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="number of returns (repeatable)")
    parser.add_argument("--workers", type=int, default=None, help="ingest reader processes (default: auto)")
    parser.add_argument("--sample", type=int, default=300, help="files the yardstick readers read (default 300)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each yardstick; the best counts")
    parser.add_argument(
        "--keep", type=Path, default=None, help="work folder to keep, and whose returns a rerun reuses (default: temp)"
    )
    args = parser.parse_args()
    sizes = args.n or [1000]
    compile_package()
    base = args.keep or Path(tempfile.mkdtemp(prefix="consult-bench-"))
    print(
        f"consult benchmark, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC: python {sys.version.split()[0]}, "
        f"{platform.machine()}, {os.cpu_count()} CPU(s), work folder {base}"
    )
    for n in sizes:
        report(run(n, base / f"n{n}", args.workers, args.sample, args.repeat))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
