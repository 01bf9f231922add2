"""`consult validate`: every error kind, with the line the user wrote, all reported at once."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli import app
from consult.definitions.schema import validate_paths
from consult.errors import CATALOGUE

FRAMEWORK = """\
id: mini
title: {en: Mini, ru: Мини}
languages: [en, ru]
countries:
  - code: KZ
    name: {en: Kazakhstan, ru: Казахстан}
areas:
  - id: TOC
    name: {en: Organized crime, ru: Организованная преступность}
    components:
      - id: border
        name: {en: Border management, ru: Управление границами}
      - id: container
        name: {en: Container control, ru: Контроль контейнеров}
institutions:
  - id: CUSTOMS
    name: {en: Customs, ru: Таможня}
    areas:
      TOC: {weight: 2, component_weights: {container: 3}}
  - id: MFA
    name: {en: Foreign affairs, ru: МИД}
    areas: {}
  - id: BORDER
    name: {en: Border service, ru: Погранслужба}
    areas:
      TOC: {weight: 1}
"""

QUESTIONNAIRE = """\
id: mini-q
version: "1"
title: {en: Mini questionnaire, ru: Мини-анкета}
choice_lists:
  yesno:
    - code: "y"
      label: {en: "Yes", ru: "Да"}
    - code: "n"
      label: {en: "No", ru: "Нет"}
sections:
  - id: general
    title: {en: General, ru: Общее}
    questions:
      - id: agree
        type: single
        choices: yesno
        label: {en: "Do you agree?", ru: "Вы согласны?"}
      - id: why
        type: text
        label: {en: "Why?", ru: "Почему?"}
        when: {question: agree, equals: "n"}
"""


def write(folder: Path, framework: str = FRAMEWORK, questionnaire: str = QUESTIONNAIRE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "framework.yaml").write_text(framework, encoding="utf-8")
    (folder / "questionnaire.yaml").write_text(questionnaire, encoding="utf-8")
    return folder


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line number of the nth line containing ``needle``: tests never hard-code lines."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def messages(findings: list) -> list[str]:
    return [str(f) for f in findings]


def errors(findings: list) -> list:
    return [f for f in findings if f.severity == "error"]


def test_valid_minimal_definitions(tmp_path: Path) -> None:
    files, findings = validate_paths([write(tmp_path / "d")])
    assert len(files) == 2
    assert findings == []


def test_component_asked_of_one_institution_is_a_warning(tmp_path: Path) -> None:
    fw = FRAMEWORK.replace("      TOC: {weight: 1}", "      TOC: {weight: 1, components: [border]}")
    d = write(tmp_path / "d", framework=fw)
    result = CliRunner().invoke(app, ["validate", str(d)])
    assert result.exit_code == 0, result.stdout  # a warning does not fail CI
    _, findings = validate_paths([d])
    assert [(f.code, f.severity, f.params["id"], f.params["who"]) for f in findings] == [
        ("thin-component", "warning", "TOC.container", "CUSTOMS")
    ]
    assert findings[0].line == line_of(fw, "- id: container")
    assert "warning: component TOC.container is asked of CUSTOMS" in result.stdout


def test_bundled_definitions_are_valid() -> None:
    files, findings = validate_paths()
    names = {f.name for f in files}
    assert {"framework.yaml", "questionnaire.yaml", "taxonomy.yaml", "messages.yaml"} <= names
    assert messages(errors(findings)) == []
    assert {f.code for f in findings} <= {"thin-component"}


def test_duplicate_id_reports_both_lines(tmp_path: Path) -> None:
    fw = FRAMEWORK.replace("      - id: container", "      - id: border")
    d = write(tmp_path / "d", framework=fw)
    _, findings = validate_paths([d / "framework.yaml"])
    dup = [f for f in findings if f.code == "duplicate-id"]
    assert len(dup) == 1
    assert dup[0].line == line_of(fw, "- id: border", 2)
    assert dup[0].params["first_line"] == line_of(fw, "- id: border", 1)
    assert "duplicate component (in area TOC) id 'border'" in dup[0].message


def test_unknown_component_reference(tmp_path: Path) -> None:
    fw = FRAMEWORK.replace("component_weights: {container: 3}", "component_weights: {containers: 3}")
    d = write(tmp_path / "d", framework=fw)
    _, findings = validate_paths([d / "framework.yaml"])
    assert [f.code for f in findings] == ["unknown-ref"]
    assert findings[0].line == line_of(fw, "containers: 3")
    assert "unknown component of TOC 'containers' for institution CUSTOMS" in findings[0].message
    assert "border, container" in findings[0].fix


def test_unknown_area_and_choice_list(tmp_path: Path) -> None:
    fw = FRAMEWORK.replace("      TOC: {weight: 2", "      TOCX: {weight: 2")
    q = QUESTIONNAIRE.replace("choices: yesno", "choices: yes_no")
    d = write(tmp_path / "d", framework=fw, questionnaire=q)
    _, findings = validate_paths([d])
    by_code = {(f.code, f.params.get("kind")): f for f in findings}
    assert by_code[("unknown-ref", "area")].line == line_of(fw, "TOCX:")
    assert by_code[("unknown-ref", "choice list")].line == line_of(q, "choices: yes_no")
    assert by_code[("unknown-ref", "choice list")].file.endswith("questionnaire.yaml")


def test_when_naming_unknown_question(tmp_path: Path) -> None:
    q = QUESTIONNAIRE.replace("when: {question: agree", "when: {question: agreed")
    d = write(tmp_path / "d", questionnaire=q)
    _, findings = validate_paths([d / "questionnaire.yaml"])
    assert [f.code for f in findings] == ["when-unknown-question"]
    assert findings[0].line == line_of(q, "question: agreed")
    assert findings[0].message == CATALOGUE["when-unknown-question"][0].format(id="agreed")


def test_missing_translation(tmp_path: Path) -> None:
    q = QUESTIONNAIRE.replace('label: {en: "Why?", ru: "Почему?"}', 'label: {en: "Why?"}')
    d = write(tmp_path / "d", questionnaire=q)
    _, findings = validate_paths([d / "questionnaire.yaml"])
    assert [f.code for f in findings] == ["missing-translation"]
    assert findings[0].line == line_of(q, 'label: {en: "Why?"}')
    assert findings[0].params["lang"] == "ru"


def test_rank_with_empty_list_for_an_institution(tmp_path: Path) -> None:
    q = QUESTIONNAIRE + textwrap.indent(
        textwrap.dedent(
            """\
            - id: top
              type: rank
              choices: "@components"
              size: 2
              label: {en: Top, ru: Топ}
            """
        ),
        "      ",
    )
    d = write(tmp_path / "d", questionnaire=q)
    _, findings = validate_paths([d / "questionnaire.yaml"])
    assert [(f.code, f.params["institution"]) for f in findings] == [("empty-rank", "MFA")]
    assert findings[0].line == line_of(q, 'choices: "@components"')


def test_schema_violations_all_reported_with_lines(tmp_path: Path) -> None:
    q = QUESTIONNAIRE.replace("type: single", "type: singel").replace("type: text", "type: text\n        colour: red")
    d = write(tmp_path / "d", questionnaire=q)
    _, findings = validate_paths([d / "questionnaire.yaml"])
    assert len(findings) == 2
    assert {f.line for f in findings} == {line_of(q, "type: singel"), line_of(q, "colour: red")}
    assert any("'singel' is not one of" in f.message for f in findings)
    assert any("unknown key 'colour'" in f.message for f in findings)


def test_yaml_syntax_error_has_position(tmp_path: Path) -> None:
    q = QUESTIONNAIRE.replace("title: {en: General, ru: Общее}", "title: {en: General, ru: Общее")
    d = write(tmp_path / "d", questionnaire=q)
    _, findings = validate_paths([d / "questionnaire.yaml"])
    assert [f.code for f in findings] == ["yaml-syntax"]
    assert findings[0].line >= line_of(q, "title: {en: General")


def test_cli_prints_file_line_column_and_exits_1(tmp_path: Path) -> None:
    fw = FRAMEWORK.replace("      - id: container", "      - id: border")
    q = QUESTIONNAIRE.replace("when: {question: agree", "when: {question: agreed")
    d = write(tmp_path / "d", framework=fw, questionnaire=q)
    result = CliRunner().invoke(app, ["validate", str(d)])
    assert result.exit_code == 1
    out = result.stdout
    assert f"{d / 'framework.yaml'}:{line_of(fw, '- id: border', 2)}:" in out
    assert f"{d / 'questionnaire.yaml'}:{line_of(q, 'question: agreed')}:" in out


def test_cli_json_equals_library_result(tmp_path: Path) -> None:
    q = QUESTIONNAIRE.replace('label: {en: "Why?", ru: "Почему?"}', 'label: {en: "Why?"}')
    d = write(tmp_path / "d", questionnaire=q)
    result = CliRunner().invoke(app, ["validate", "--json", str(d)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    _, findings = validate_paths([d])
    assert data == [f.to_dict() for f in findings]
    assert data[0]["line"] == line_of(q, 'label: {en: "Why?"}')


def test_cli_valid_exits_0() -> None:
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize("missing", ["nope.yaml"])
def test_cli_missing_path_is_usage_error(tmp_path: Path, missing: str) -> None:
    result = CliRunner().invoke(app, ["validate", str(tmp_path / missing)])
    assert result.exit_code == 2


def test_static_when_limits_a_question_to_some_institutions(tmp_path: Path) -> None:
    from consult.definitions import load_definition
    from consult.definitions.questionnaire import resolve

    q = QUESTIONNAIRE + textwrap.indent(
        textwrap.dedent(
            """\
            - id: containers
              type: number
              label: {en: Containers checked, ru: Проверено контейнеров}
              when: {institution: [CUSTOMS]}
            """
        ),
        "      ",
    )
    d = write(tmp_path / "d", questionnaire=q)
    definition = load_definition(d / "questionnaire.yaml")
    customs = resolve(definition.questionnaire, definition.framework, "KZ", "CUSTOMS")
    mfa = resolve(definition.questionnaire, definition.framework, "KZ", "MFA")
    assert "containers" in customs.item_by_id and "containers" not in mfa.item_by_id
    # the dynamic condition of "why" is kept for ingest to evaluate
    assert customs.item_by_id["why"].when.holds("n") and not customs.item_by_id["why"].when.holds("y")
