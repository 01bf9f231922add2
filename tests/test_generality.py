"""A questionnaire is data: a second programme (other areas, institutions, question ids and a
third, partly translated language) goes generate -> fill -> ingest -> score -> synthesize with
no code change, and questions are used by their role only."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from consult.analysis.export import answer_rows
from consult.cli import app
from consult.example.filler import fill_workbook, form_of, sample_answers
from consult.workspace import open_store, open_workspace

OTHER = Path(__file__).parent / "data" / "otherprog"


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A workspace on the second programme, every invited institution answered."""
    root = tmp_path_factory.mktemp("other") / "ws"
    made = run("init", str(root), "--definitions", str(OTHER), "--round", "wc-2026", "-c", "UZ", "-c", "KZ")
    assert made.exit_code == 0, made.stderr
    gen = run("-w", str(root), "generate", "--all", "--lang", "uz,ru", "--json")
    assert gen.exit_code == 0, gen.stderr
    assert "have no 'uz' text; English is used for" in gen.stderr  # the fallback is said, not silent
    ws = open_workspace(root)
    written: dict[str, dict] = {}
    for n, blank in enumerate(sorted((root / "forms").rglob("*.xlsx"))):
        form, langs = form_of(blank, ws.definition)
        answers = sample_answers(form, langs, random.Random(n), definition=ws.definition)
        written[blank.name.split(".")[0]] = answers  # KZ-MOH.uz-ru.xlsx: KZ-MOH
        fill_workbook(blank, answers, root / "inbox" / blank.name)
    ingested = run("-w", str(root), "ingest", str(root / "inbox"), "--json")
    assert ingested.exit_code == 0, ingested.stdout
    assert {r["status"] for r in json.loads(ingested.stdout)} == {"accepted"}
    return {"root": root, "ws": ws, "written": written}


def test_generated_forms_are_in_the_third_language(other) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(other["root"] / "forms" / "UZ" / "UZ-MINENV.uz-ru.xlsx", read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    wb.close()
    assert any("Bu mavzu muassasangiz uchun qanchalik muhim?" in c for c in cells)  # uz label
    assert any("Насколько эта тема важна" in c for c in cells)  # ru beside it


def test_scores_use_roles_only(other) -> None:
    result = json.loads(run("-w", str(other["root"]), "score", "--json").stdout)
    fw = other["ws"].definition.framework
    for code in ("UZ", "KZ"):
        areas = {a["id"]: a for a in result["countries"][code]["areas"]}
        assert set(areas) == {"WATER", "CLIMATE", "HEALTH"}
        for area_id, area in areas.items():
            # hand computation from what was written: the 'importance' rating (role area_priority)
            # with the framework weights; 'urgency' (a rating without a role) never counts
            values, weights = [], []
            for inst in fw.institutions:
                typed = other["written"].get(f"{code}-{inst.id}", {}).get(f"{area_id}.importance")
                if typed is None or inst.areas.get(area_id) is None:
                    continue
                digit = str(typed)[0]
                if digit.isdigit():
                    values.append((int(digit) - 1) / 4 * 100)
                    weights.append(inst.areas[area_id].weight)
            expected = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights) if weights else None
            assert area["score"] == pytest.approx(expected), (code, area_id)
            assert area["n"] == len(values)
    assert result["method"]["borda_points"] == "rank 1 = 3 ... rank 3 = 1"  # the ranking's own size


def test_question_without_role_is_kept_and_exported_never_scored(other) -> None:
    ws = other["ws"]
    with open_store(ws) as store:
        rows = answer_rows(store, ws)
    urgency = [r for r in rows if r[3].endswith(".urgency")]
    assert urgency, "the extra rating is stored and exported"
    with open_store(ws) as store:
        roles = {a.question_id: a.role for a in store.answers(r.id for r in store.returns(current_only=True))}
    assert roles["urgency"] is None and roles["importance"] == "area_priority" and roles["partners"] is None


def test_synthesis_in_the_third_language_falls_back_to_english(other, tmp_path) -> None:
    out = tmp_path / "uz"
    result = run("-w", str(other["root"]), "synthesize", "--all", "--regional", "--lang", "uz", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "have no 'uz' text; English is used" in result.stderr
    md = (out / "UZ-synthesis.uz.md").read_text(encoding="utf-8")
    assert "O'zbekiston" in md and "Suv resurslarini kompleks boshqarish" in md  # uz names where given
    assert "Findings by programme area" in md  # report wording: English fallback
    assert "Annex C" in md and "Partners you already work with" in md  # no role: shown in the annex
    assert md.count("> — ") == sum(1 for a in _quotable(other, "UZ"))  # every challenge and idea, once
    doc = Document(str(out / "KZ-synthesis.uz.docx"))
    assert doc.tables and (out / "regional-synthesis.uz.docx").exists()
    assert "Obstacles" not in " ".join(p.text for p in doc.paragraphs if p.style.name == "Heading 1")


def test_an_unknown_language_is_a_usage_error(other) -> None:
    assert run("-w", str(other["root"]), "synthesize", "--all", "--lang", "fr").exit_code == 2
    assert run("-w", str(other["root"]), "generate", "--all", "--lang", "fr").exit_code == 2


def _quotable(other: dict, code: str) -> list:
    ws = other["ws"]
    with open_store(ws) as store:
        rets = store.returns(current_only=True, countries=[code])
        return [
            a
            for a in store.answers(r.id for r in rets)
            if a.role in ("challenge", "proposal") and len(str(a.value)) >= 3
        ]
