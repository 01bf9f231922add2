"""How fast ``consult generate --all`` writes the 96 questionnaires of eight countries.

    python benchmarks/generate.py [--repeat 5]

A fresh workspace with the eight countries (KZ KG TJ TM UZ AZ GE AM, every institution
invited: 96 workbooks) in a temporary folder, then, best and median of ``--repeat`` runs:

* the CLI as a user runs it (``consult -w ws generate --all``: interpreter start and imports
  included);
* the library call ``generate()``, with its default worker processes and with one process;
* where one workbook's time goes, in one process: *build* (resolve the form, write every
  cell, style, validation and row height into XlsxWriter), *save* (XlsxWriter's XML and zip,
  and the write of the bytes into the staging folder), *fsync* (the one flush to disk of the
  run and the renames into place, spread over the workbooks).

Wall time counts what a user waits for; CPU time (this process and its workers) says what
the work costs when the machine is shared, as the development machine often is.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import xlsxwriter

from consult.definitions.questionnaire import resolve
from consult.fileio import staged_writes
from consult.forms.writer import generate, render_workbook, targets
from consult.workspace import init_workspace, open_workspace

COUNTRIES = ["KZ", "KG", "TJ", "TM", "UZ", "AZ", "GE", "AM"]


def cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(call: Callable[[], object], repeat: int, out: Path | None = None) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeat`` calls; ``out`` is removed before each (not timed)."""
    walls, cpus = [], []
    for _ in range(repeat):
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        c, t = cpu_s(), time.perf_counter()
        call()
        walls.append(time.perf_counter() - t)
        cpus.append(cpu_s() - c)
    return walls, cpus


def breakdown(ws_root: Path, out: Path) -> dict[str, float]:
    """Seconds spent in build, save and fsync for one run in one process."""
    ws = open_workspace(ws_root)
    d = ws.definition
    pairs = targets(ws, None, None)
    close = xlsxwriter.Workbook.close
    spent = {"build": 0.0, "save": 0.0, "fsync": 0.0, "close": 0.0}

    def timed_close(self: xlsxwriter.Workbook) -> None:  # XML and zip: part of "save", not "build"
        t = time.perf_counter()
        close(self)
        spent["close"] += time.perf_counter() - t

    xlsxwriter.Workbook.close = timed_close  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        with staged_writes(out) as staging:
            for country, institution in pairs:
                t = time.perf_counter()
                form = resolve(d.questionnaire, d.framework, country, institution)
                data = render_workbook(form, d, ws, ws.languages, "2020-09-01T00:00:00+00:00")
                t2 = time.perf_counter()
                spent["build"] += t2 - t
                staging.write(out / country / f"{country}-{institution}.xlsx", data)
                spent["save"] += time.perf_counter() - t2
            t3 = time.perf_counter()
        spent["fsync"] = time.perf_counter() - t3
        spent["build"] -= spent["close"]
        spent["save"] += spent["close"]
        spent["total"] = time.perf_counter() - start
    finally:
        xlsxwriter.Workbook.close = close  # type: ignore[method-assign]
    spent["n"] = len(pairs)
    return spent


def line(label: str, n: int, walls: list[float], cpus: list[float]) -> str:
    best, median = min(walls), statistics.median(walls)
    return (
        f"{label:<34} {n / best:6.1f} workbooks/s  best {best:5.2f} s, median {statistics.median(walls):5.2f} s"
        f" ({n / median:5.1f}/s); CPU {min(cpus):5.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None, help="Folder for the workspace (default: a temporary one).")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="consult-bench-generate-"))
    root = work / "ws"
    if not root.exists():
        init_workspace(root, round_id="bench-generate", countries=COUNTRIES)
    ws = open_workspace(root)
    d = ws.definition
    pairs = targets(ws, None, None)
    n = len(pairs)
    print(f"{n} workbooks ({len(COUNTRIES)} countries), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")]))}
    cli = [sys.executable, "-m", "consult", "-w", str(root), "generate", "--all", "--json", "--out", str(work / "cli")]
    run_cli = lambda: subprocess.run(cli, check=True, capture_output=True, env=env)  # noqa: E731
    walls, cpus = timed(run_cli, args.repeat, work / "cli")
    print(line("consult generate --all (CLI)", n, walls, cpus))
    for label, workers in (("default workers", None), ("one process", 1)):
        out = work / f"lib-{workers}"
        call = partial(generate, d, ws, pairs, out, ws.languages, workers=workers)
        walls, cpus = timed(call, args.repeat, out)
        print(line(f"generate(), {label}", n, walls, cpus))
    out = work / "again"
    generate(d, ws, pairs, out, ws.languages)
    walls, cpus = timed(lambda: generate(d, ws, pairs, out, ws.languages), args.repeat)
    print(line("generate() over its previous files", n, walls, cpus))

    runs = []
    for _ in range(args.repeat):
        shutil.rmtree(work / "parts", ignore_errors=True)
        runs.append(breakdown(root, work / "parts"))
    best = min(runs, key=lambda r: r["total"])
    per = {k: 1000 * best[k] / n for k in ("build", "save", "fsync", "total")}
    print(
        f"breakdown, one process (ms per workbook, best run): build {per['build']:.1f}"
        f" | save {per['save']:.1f} | fsync {per['fsync']:.2f} ({1000 * best['fsync']:.0f} ms for the run)"
        f" | total {per['total']:.1f}"
    )


if __name__ == "__main__":
    main()
