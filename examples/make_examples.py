"""Regenerate the example returns from the current questionnaire (seeded, so stable).

    python examples/make_examples.py

Run it after changing questionnaires/*.yaml: the returns are filled through freshly
generated workbooks, so they always match the definition that ingest will check them against.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from consult.example.builder import build_examples

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    shutil.rmtree(HERE / "returns", ignore_errors=True)
    for r in build_examples(HERE / "scenario.yaml", HERE):
        print(f"{r.path.relative_to(HERE)}  {r.note}")
