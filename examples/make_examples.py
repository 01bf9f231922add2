"""Regenerate the example returns (the 2020 round, and the earlier 2016 one on its own older
questionnaire) from their questionnaires (seeded, so stable).

    python examples/make_examples.py

Run it after changing questionnaires/*.yaml: the returns are filled through freshly
generated workbooks, so they always match the definition that ingest will check them against.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from consult.definitions import load_definition
from consult.example.builder import build_examples

HERE = Path(__file__).resolve().parent
EARLIER = HERE / "round-2016"  # the earlier round (2016), on its own older questionnaire

if __name__ == "__main__":
    shutil.rmtree(HERE / "returns", ignore_errors=True)
    for r in build_examples(HERE / "scenario.yaml", HERE):
        print(f"{r.path.relative_to(HERE)}  {r.note}")
    shutil.rmtree(EARLIER / "returns", ignore_errors=True)
    for r in build_examples(EARLIER / "scenario.yaml", EARLIER, load_definition(EARLIER / "questionnaires")):
        print(f"{r.path.relative_to(HERE)}  {r.note}")
