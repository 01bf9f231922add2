"""The whole path, as the demo runs it, from a fresh workspace; and the bundled example."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from typer.testing import CliRunner

from consult.cli import app
from consult.definitions import bundled_definition
from consult.example.builder import build_examples
from consult.example.filler import read_meta_from

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def answer_cells(path: Path) -> dict[tuple[str, str], object]:
    """(item id, part) -> answer, read through the hidden id column."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        col = openpyxl.utils.column_index_from_string(read_meta_from(path)["answer_column"])
        cells = {}
        for ws in wb.worksheets:
            if ws.title.startswith("_"):
                continue
            for row in ws.iter_rows(min_row=4, max_col=col, values_only=True):
                if row and row[0] and len(row) >= col:
                    cells[(row[0], row[1] or "")] = row[col - 1]
        return cells
    finally:
        wb.close()


def test_examples_match_the_current_questionnaire():
    digest = bundled_definition().hash
    files = sorted((EXAMPLES / "returns").rglob("*.xlsx"))
    assert len(files) >= 15
    stale = [f.name for f in files if read_meta_from(f)["definition_hash"] != digest]
    assert not stale, f"regenerate with: python examples/make_examples.py ({stale})"


def test_examples_regenerate_deterministically(tmp_path):
    results = build_examples(EXAMPLES / "scenario.yaml", tmp_path)
    assert {r.country for r in results} == {"KZ", "KG", "TJ"}
    for r in results:
        committed = EXAMPLES / r.path.relative_to(tmp_path)
        assert answer_cells(r.path) == answer_cells(committed), committed.name
    assert (tmp_path / "consult.yaml").read_text(encoding="utf-8") == (EXAMPLES / "consult.yaml").read_text(
        encoding="utf-8"
    )


@pytest.mark.slow
def test_demo_runs_the_whole_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--out", "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    demo = tmp_path / "demo"
    # facilitator step: one questionnaire per invited institution of the example countries
    assert len(list((demo / "forms").glob("*/*.xlsx"))) == 3 * 12
    # drafter step: what the store holds
    conn = sqlite3.connect(demo / "consult.db")
    statuses = dict(conn.execute("SELECT status, COUNT(*) FROM returns GROUP BY status").fetchall())
    conn.close()
    assert statuses == {"accepted": 17, "incomplete": 1, "superseded": 1}
    # the numbers in the syntheses are those of `consult score --json`
    scores = json.loads(runner.invoke(app, ["-w", str(demo), "score", "--json"]).stdout)
    for code in ("KZ", "KG", "TJ"):
        md = (demo / "synthesis" / f"{code}-synthesis.en.md").read_text(encoding="utf-8")
        top = scores["countries"][code]["areas"][0]
        assert top["rank"] == 1
        assert top["name"]["en"] in md
        assert f"{top['score']:.0f}" in md
        doc = Document(str(demo / "synthesis" / f"{code}-synthesis.en.docx"))
        assert any(p.style.name.startswith("Heading") for p in doc.paragraphs)
        assert doc.inline_shapes, "the area chart is embedded"
        assert "Focal point" not in md  # respondents' names never reach a synthesis
    regional = (demo / "synthesis" / "regional-synthesis.en.md").read_text(encoding="utf-8")
    assert all(name in regional for name in ("Kazakhstan", "Kyrgyzstan", "Tajikistan"))
    assert (demo / "synthesis" / "regional-synthesis.en.docx").is_file()
    assert (demo / "scores.csv").read_text(encoding="utf-8-sig").startswith("country,level,id")
    assert "synthesis" in result.stdout
    # the demo lists what it wrote, not SQLite's working files, and points to a guide the user has
    said = " ".join(result.stdout.split())
    assert "consult.db-wal" not in said and "consult.db-shm" not in said and "Workflow" in said
    assert "export/answers.en.csv" in said
    # the README's next line, in the same folder: the Russian syntheses beside the English ones
    english = {p.name: p.read_bytes() for p in (demo / "synthesis").iterdir()}
    ru = runner.invoke(
        app,
        ["-w", str(demo), "synthesize", "--all", "--regional", "--compare", str(demo / "round-2016"), "--lang", "ru"],
    )
    assert ru.exit_code == 0, ru.stderr
    after = {p.name: p.read_bytes() for p in (demo / "synthesis").iterdir()}
    assert {name: after[name] for name in english} == english  # no English file lost or changed
    assert {n.replace(".ru.", ".en.") for n in after if ".ru." in n} == set(english)
