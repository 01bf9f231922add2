"""How the listing commands grow with the number of returns: ``consult returns`` (table and
``--json``), ``consult returns --current`` and ``consult status``, as a user types them.

    python benchmarks/listing.py [--n 10000 --n 100000] [--repeat 3]

For each N, a fresh workspace of eight countries whose store holds N returns, written
directly through the store API (``Store.insert_return``: reading N workbooks would only make
the benchmark slow, and the listings never look at answers): every invited institution sends
several versions, each newer than the last (so most returns are superseded by the next),
every twentieth file is rejected, and feedback was sent about some. Then each command runs
in a new process (interpreter start and imports included), stdout to /dev/null, best of
``--repeat``; the last column divides the time by N, so a linear command shows a flat
figure from row to row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from consult.errors import finding
from consult.store import NewReturn, Store
from consult.workspace import init_workspace, open_workspace

COUNTRIES = ["KZ", "KG", "TJ", "TM", "UZ", "AZ", "GE", "AM"]
COMMANDS = {
    "returns": ["returns"],
    "returns --json": ["returns", "--json"],
    "returns --current": ["returns", "--current"],
    "status": ["status"],
}


def build(root: Path, n: int) -> None:
    """A workspace whose store holds ``n`` returns (see the module docstring)."""
    init_workspace(root, round_id="bench", countries=COUNTRIES)
    ws = open_workspace(root)
    pairs = [(c, i) for c in ws.countries for i in ws.invited_for(c)]
    start = dt.date(2020, 1, 1)
    error = finding(
        "invalid-value",
        file="KZ-MOH.xlsx",
        sheet="Drugs",
        cell="C12",
        question="DRUGS.priority",
        found="'high'",
        expected="a rating from 1 to 5",
        fix="choose a rating from the drop-down list",
    )
    feedback = []
    with Store(ws.db_path) as store:
        with store.transaction() as conn:
            for k in range(n):
                country, institution = pairs[k % len(pairs)]
                version = k // len(pairs)
                new = NewReturn(
                    file_name=f"{country}-{institution}-v{version}.xlsx",
                    source_path=f"/returns/{country}-{institution}-v{version}.xlsx",
                    sha256=hashlib.sha256(f"{k}".encode()).hexdigest(),
                    size=30_000,
                    country=country,
                    institution=institution,
                    round="bench",
                    received_at=f"{start + dt.timedelta(minutes=k)}T00:00:00+00:00",
                    respondent_date=(start + dt.timedelta(days=version % 3000)).isoformat(),
                    status="rejected" if k % 20 == 19 else "accepted",
                    errors=[error] if k % 20 == 19 else [],
                )
                rid, _ = store.insert_return(conn, new)
                if k % 50 == 0:
                    feedback.append((rid, country, institution))
        for rid, country, institution in feedback:
            store.record_feedback("2020-09-01T00:00:00+00:00", rid, country, institution, "feedback.xlsx", 2)


def run(root: Path, args: list[str], repeat: int) -> float:
    best = float("inf")
    env = {**os.environ, "COLUMNS": "160"}
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "consult", "-w", str(root), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            env=env,
        )
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="number of returns (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the best counts")
    opts = parser.parse_args()
    sizes = opts.n or [10_000, 100_000]
    print(f"| command | {' | '.join(f'N = {n:,}' for n in sizes)} | µs per return at each N |")
    print(f"|---|{'---|' * len(sizes)}---|")
    rows: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory(prefix="consult-listing-") as tmp:
        for n in sizes:
            root = Path(tmp) / f"ws-{n}"
            t = time.perf_counter()
            build(root, n)
            print(f"(store of {n:,} returns built in {time.perf_counter() - t:.1f} s)", file=sys.stderr)
            for name, args in COMMANDS.items():
                rows[name].append(run(root, args, opts.repeat))
    for name, times in rows.items():
        per = " / ".join(f"{t / n * 1e6:.0f}" for t, n in zip(times, sizes, strict=True))
        print(f"| `consult {name}` | {' | '.join(f'{t:.2f} s' for t in times)} | {per} |")


if __name__ == "__main__":
    main()
