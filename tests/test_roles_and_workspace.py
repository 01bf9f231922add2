"""Roles in the YAML and a workspace's own definitions: what validate refuses (with the line),
what an extra question does to the scores (nothing), and consult.yaml checked like the rest."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli import app
from consult.definitions.schema import validate_paths
from consult.intake.ingest import ingest
from consult.workspace import WorkspaceError, open_store, open_workspace

BUNDLED_Q = Path(__file__).resolve().parents[1] / "questionnaires" / "questionnaire.yaml"


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    return [i for i, line in enumerate(text.splitlines(), start=1) if needle in line][nth - 1]


def test_init_copies_definitions_and_every_command_uses_them(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert run("init", str(root), "--round", "r1", "-c", "KZ").exit_code == 0
    assert (root / "questionnaires" / "questionnaire.yaml").read_text() == BUNDLED_Q.read_text()
    assert "definitions: questionnaires" in (root / "consult.yaml").read_text()
    # an edit in the workspace (not in the installed package) reaches generate
    q = root / "questionnaires" / "questionnaire.yaml"
    q.write_text(q.read_text().replace("Full name of the institution", "Official name of the institution"))
    assert run("-w", str(root), "generate", "-c", "KZ", "-i", "MFA").exit_code == 0
    from openpyxl import load_workbook

    wb = load_workbook(root / "forms" / "KZ" / "KZ-MFA.en-ru.xlsx", read_only=True)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    wb.close()
    assert any("Official name of the institution" in c for c in cells)
    # validate with no argument checks the workspace's definitions, and reports their lines
    q.write_text(q.read_text().replace("role: area_priority", "role: area_priorty"))
    result = run("-w", str(root), "validate", "--json")
    assert result.exit_code == 1
    found = [f for f in json.loads(result.stdout) if f["severity"] == "error"]
    assert len(found) == 1
    assert found[0]["file"].endswith("ws/questionnaires/questionnaire.yaml")
    assert found[0]["line"] == line_of(q.read_text(), "role: area_priorty")
    assert run("-w", str(root), "generate", "--all").exit_code == 1  # every command refuses it too


QUESTIONNAIRE = """\
id: q
version: "1"
title: {en: Q, ru: Q}
choice_lists:
  r:
    - {code: "1", label: {en: "1", ru: "1"}}
    - {code: "5", label: {en: "5", ru: "5"}}
sections:
  - id: general
    title: {en: General, ru: Общее}
    questions:
      - id: when_done
        type: text
        role: completion_date
        label: {en: Date, ru: Дата}
      - id: view
        type: rating
        role: area_priority
        choices: r
        label: {en: View, ru: Мнение}
  - id: area
    repeat: area
    title: {en: "{area}", ru: "{area}"}
    questions:
      - id: priority
        type: rating
        role: area_priority
        choices: r
        label: {en: P, ru: P}
      - id: urgency
        type: rating
        role: area_priority
        choices: r
        label: {en: U, ru: U}
      - id: comp
        type: rating
        role: component_priority
        choices: r
        label: {en: C, ru: C}
      - id: top
        type: rank
        role: ranking
        choices: r
        label: {en: T, ru: T}
"""


def test_contradictory_roles_are_all_reported_with_lines(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    fw = (BUNDLED_Q.parent / "framework.yaml").read_text()
    (folder / "framework.yaml").write_text(fw)
    (folder / "questionnaire.yaml").write_text(QUESTIONNAIRE)
    _, findings = validate_paths([folder / "questionnaire.yaml"])
    errors = [(f.code, f.line, f.message) for f in findings if f.severity == "error"]
    text = QUESTIONNAIRE
    assert ("role-type", line_of(text, "role: completion_date"), errors[0][2]) in errors  # a date role on text
    assert any(c == "role-place" and ln == line_of(text, "role: area_priority", 1) for c, ln, _ in errors)
    assert any(c == "role-count" and "has 2 questions with role 'area_priority'" in m for c, _, m in errors)
    assert any(c == "role-place" and ln == line_of(text, "role: component_priority") for c, ln, _ in errors)
    assert any(c == "role-place" and "@components" in m for c, _, m in errors)
    result = run("validate", str(folder / "questionnaire.yaml"))
    assert result.exit_code == 1 and "problem(s)" in result.stderr


def test_missing_area_priority_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "framework.yaml").write_text((BUNDLED_Q.parent / "framework.yaml").read_text())
    text = BUNDLED_Q.read_text().replace("        role: area_priority\n", "")
    (folder / "questionnaire.yaml").write_text(text)
    _, findings = validate_paths([folder])
    assert [f.message for f in findings if f.code == "role-count"] == [
        "section 'area' repeats per area but no question has role 'area_priority'"
    ]


def test_an_extra_area_rating_without_a_role_changes_no_score(workspace, make_return, tmp_path: Path) -> None:
    """The bug this design removes: adding DRUGS.urgency (answered 1) used to halve DRUGS."""
    base = make_return("KZ", "MOH", {"DRUGS.priority": "5"}, name="before.xlsx")
    ingest([base], workspace)
    before = json.loads(run("-w", str(workspace.root), "score", "--json").stdout)
    q = workspace.root / "questionnaires" / "questionnaire.yaml"
    text = q.read_text()
    anchor = "      - id: component\n"
    extra = textwrap.indent(
        textwrap.dedent(
            """\
              - id: urgency
                type: rating
                choices: rating
                label: {en: "How urgent is this area?", ru: "Насколько срочно это направление?"}
        """
        ),
        "      ",
    )
    q.write_text(text.replace(anchor, extra + anchor, 1))
    assert run("-w", str(workspace.root), "validate").exit_code == 0
    assert (
        run("-w", str(workspace.root), "generate", "-c", "KZ", "-i", "MOH", "--out", str(tmp_path / "f")).exit_code == 0
    )
    import random

    from consult.example.filler import fill_workbook, form_of, sample_answers

    ws = open_workspace(workspace.root)
    blank = tmp_path / "f" / "KZ" / "KZ-MOH.en-ru.xlsx"
    form, langs = form_of(blank, ws.definition)
    answers = sample_answers(form, langs, random.Random(1), definition=ws.definition)
    answers["DRUGS.priority"] = "5"
    answers["DRUGS.urgency"] = "1"
    ingest([fill_workbook(blank, answers, tmp_path / "after.xlsx")], ws)
    after = json.loads(run("-w", str(workspace.root), "score", "--json").stdout)
    drugs = [next(a for a in r["countries"]["KZ"]["areas"] if a["id"] == "DRUGS") for r in (before, after)]
    assert drugs[0]["score"] == drugs[1]["score"] == 100 and drugs[1]["n"] == 1
    export = run("-w", str(workspace.root), "export", "--format", "csv", "--out", str(tmp_path / "a.csv"))
    assert export.exit_code == 0 and "DRUGS.urgency" in (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    with open_store(ws) as store:
        urgency = [
            a for a in store.answers(r.id for r in store.returns(current_only=True)) if a.question_id == "urgency"
        ]
    assert urgency and urgency[0].role is None


@pytest.mark.parametrize(
    ("yaml_text", "needle", "expected"),
    [
        ("round: r1\ndeadine: 2020-09-30\n", "deadine", "unknown key 'deadine'"),
        ("round: r1\ncountries: [KZ]\ninvited: {XX: [MFA]}\n", "XX:", "unknown country of this round 'XX'"),
        ("round: r1\nlanguages: [en, fr]\n", "fr]", "unknown language (not in the definitions' framework.yaml) 'fr'"),
        ("round: r1\ninstitutions: [MFA, MINISTRY]\n", "MINISTRY", "unknown institution 'MINISTRY'"),
        ("round: r1\ndeadline: 30.09.2020\n", "deadline", "does not match"),
    ],
)
def test_consult_yaml_errors_name_the_line(tmp_path: Path, yaml_text: str, needle: str, expected: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "consult.yaml").write_text(yaml_text)
    with pytest.raises(WorkspaceError) as info:
        open_workspace(root)
    finding = info.value.findings[0]
    assert expected in finding.message
    assert finding.line == line_of(yaml_text, needle)
    result = run("-w", str(root), "status")
    assert result.exit_code == 1
    assert f"consult.yaml:{finding.line}:" in result.stderr


def test_consult_yaml_lists_every_problem_at_once(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "consult.yaml").write_text("round: r1\ncountries: [KZ, QQ]\ninstitutions: [MFA, NOPE]\nlanguages: [de]\n")
    with pytest.raises(WorkspaceError) as info:
        open_workspace(root)
    assert [f.params["id"] for f in info.value.findings] == ["QQ", "NOPE", "de"]


def test_title_per_language(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "consult.yaml").write_text("title: {en: Consultation, ru: Консультации}\n")
    ws = open_workspace(root)
    assert ws.title_in("ru") == "Консультации" and ws.title_in("uz") == "Consultation"
