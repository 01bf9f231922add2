"""The problem catalogue (questionnaires/problems.yaml, read by consult/problems.py): every code
in English and Russian with the same parameters, every code the package raises in it, findings
in either language, and the CLI's problems in the language CONSULT_LANG names."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import consult
from consult import problems
from consult.cli import app
from consult.definitions.schema import check_schema, placeholders, validate_paths
from consult.definitions.yamlsource import load_yaml
from consult.errors import CATALOGUE, Finding, finding
from consult.resources import data_dir

PACKAGE = Path(consult.__file__).parent
ROOT = PACKAGE.parent
BUNDLED = data_dir("questionnaires") / problems.FILE
# calls that pass on a code they were given rather than naming one (each checked where it is called)
PASS_THROUGH = {
    ("errors.py", "Finding"),
    ("definitions/yamlsource.py", "finding"),
    ("intake/web/submission.py", "finding"),
}


def test_every_code_has_english_and_russian_with_the_same_parameters() -> None:
    assert problems.languages() == ("en", "ru")
    for code, parts in problems.catalogue().items():
        assert set(parts) == {"message", "fix"}, code
        for part, texts in parts.items():
            assert set(texts) == {"en", "ru"} and all(t.strip() for t in texts.values()), (code, part)
            assert placeholders(texts["ru"]) == placeholders(texts["en"]), (code, part)
            assert texts["ru"] == texts["en"] or re.search("[а-яё]", texts["ru"]) or texts["en"].startswith("{"), (
                f"{code} {part}: the Russian is not Russian"
            )


def _codes_raised() -> tuple[set[str], list[str]]:
    """Every code named where a finding is made: ``finding("code", …)``, ``Finding(code="code")``,
    ``src.finding("code", …)`` and ``refuse("code", …)``; and the calls that name none."""
    codes: set[str] = set()
    unnamed: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name not in ("finding", "Finding", "refuse"):
                continue
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "code"), None)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.add(arg.value)
            elif (rel, name) not in PASS_THROUGH:
                unnamed.append(f"consult/{rel}:{node.lineno}")
    return codes, unnamed


def test_every_code_the_package_raises_is_in_the_catalogue() -> None:
    codes, unnamed = _codes_raised()
    assert len(codes) > 50  # the scan finds them
    assert not unnamed, f"findings made from a computed code (name it, or add the call to PASS_THROUGH): {unnamed}"
    assert not codes - set(problems.catalogue()), "add to questionnaires/problems.yaml: " + ", ".join(
        sorted(codes - set(problems.catalogue()))
    )


def test_every_phrase_the_package_says_is_in_both_languages_with_the_same_parameters() -> None:
    said: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "phrase":
                assert node.args and isinstance(node.args[0], ast.Constant), f"{path}:{node.lineno}: name the phrase"
                said.add(node.args[0].value)
    known = problems.phrases()
    assert len(said) > 25 and said <= set(known), "add to phrases: in problems.yaml: " + ", ".join(
        sorted(said - set(known))
    )
    assert not set(known) - said, "phrases nothing says: " + ", ".join(sorted(set(known) - said))
    for key, texts in known.items():
        assert set(texts) == {"en", "ru"} and re.search("[а-яё]", texts["ru"]), key
        assert placeholders(texts["ru"]) == placeholders(texts["en"]), key


def test_a_worded_parameter_is_said_in_the_readers_language_and_stored_in_english() -> None:
    expected = [problems.phrase("whole_in", range=[problems.phrase("number_between", low=1, high=5)])]
    f = finding(
        "invalid-value",
        found="'2.5'",
        expected=problems.say(expected),
        fix="type a whole number",
        worded={"expected": expected, "fix": [problems.phrase("type_whole")]},
    )
    assert f.message == "found '2.5', expected a whole number (a number between 1 and 5)"
    assert f.message_in("ru") == "найдено '2.5', ожидается целое число (число от 1 до 5)"
    assert f.fix_in("ru") == "введите целое число"
    stored = Finding.from_dict(json.loads(json.dumps(f.to_dict())))
    assert stored.message_in("ru") == f.message_in("ru") and stored.params["expected"] == problems.say(expected)
    stored.params["worded"]["expected"][0]["key"] = "a phrase of a later release"
    assert stored.message_in("ru") == "найдено '2.5', ожидается a whole number (a number between 1 and 5)"


def test_the_catalogue_passes_its_schema_and_validate_checks_its_parameters(tmp_path: Path) -> None:
    src = load_yaml(BUNDLED)
    assert not src.findings and not check_schema(src, "problems")
    assert validate_paths([BUNDLED])[1] == []
    broken = tmp_path / "problems.yaml"
    broken.write_text(
        BUNDLED.read_text(encoding="utf-8").replace(
            'ru: "не заполнен обязательный ответ"', 'ru: "не заполнен обязательный ответ {found}"'
        ),
        encoding="utf-8",
    )
    (f,) = validate_paths([broken])[1]
    assert (f.code, f.params["problem"], f.params["lang"], f.params["found"]) == (
        "problem-placeholders",
        "missing-answer",
        "ru",
        "found",
    )
    no_russian = tmp_path / "no-ru" / "problems.yaml"
    no_russian.parent.mkdir()
    no_russian.write_text("problems:\n  odd:\n    message: {en: odd}\n    fix: {en: fix it}\n", encoding="utf-8")
    assert {f.code for f in validate_paths([no_russian])[1]} == {"schema"}


def test_a_finding_in_english_by_default_and_in_russian_on_request() -> None:
    f = finding("wrong-round", file="KZ-MOH.xlsx", found="r0", expected="r1")
    assert f.message == CATALOGUE["wrong-round"][0].format(found="r0", expected="r1")
    assert f.fix == CATALOGUE["wrong-round"][1].format(found="r0", expected="r1")
    ru = problems.catalogue()["wrong-round"]
    assert f.message_in("ru") == ru["message"]["ru"].format(found="r0", expected="r1")
    assert f.fix_in("ru") == ru["fix"]["ru"].format(found="r0", expected="r1")
    assert f.text_in("ru") == f"KZ-MOH.xlsx: {f.message_in('ru')}" and str(f) == f"KZ-MOH.xlsx: {f.message}"
    assert f.message_in("uz") == f.message  # a language the catalogue lacks: English
    data = f.to_dict("ru")
    assert (data["message"], data["fix"], data["text"], data["lang"]) == (
        f.message_in("ru"),
        f.fix_in("ru"),
        f.text_in("ru"),
        "ru",
    )
    assert f.to_dict()["lang"] == "en" and f.to_dict()["message"] == f.message
    assert Finding.from_dict(data) == f  # the words are derived: either language reads back the same finding


def test_a_stored_finding_of_an_unknown_code_shows_its_stored_words_in_any_language() -> None:
    old = {"code": "bad-value", "params": {}, "message": "not a rating", "fix": "type 1 to 5", "text": "x: bad"}
    f = Finding.from_dict(old)
    assert (f.message_in("ru"), f.fix_in("ru")) == ("not a rating", "type 1 to 5")


def test_the_catalogue_is_the_tools_own_read_where_a_wheel_puts_it(tmp_path: Path, monkeypatch: Any) -> None:
    """A wheel carries questionnaires/ as consult/_data/questionnaires (pyproject.toml), and
    data_dir() looks there first; `consult init` copies the round's definitions but not the
    catalogue, and a workspace without it (made before 0.3) still words every finding."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '\n"questionnaires" = "consult/_data/questionnaires"\n' in pyproject.split("force-include]")[1]

    from consult import resources

    installed = tmp_path / "site-packages" / "consult"
    (installed / "_data" / "questionnaires").mkdir(parents=True)
    shutil.copy(BUNDLED, installed / "_data" / "questionnaires" / problems.FILE)
    monkeypatch.setattr(resources, "_PACKAGE", installed)
    problems._file.cache_clear()
    try:
        assert finding("missing-answer").message_in("ru") == "не заполнен обязательный ответ"
    finally:
        problems._file.cache_clear()
    monkeypatch.undo()

    from consult.workspace import init_workspace

    init_workspace(tmp_path / "ws", round_id="r1", countries=["KZ"])
    folder = tmp_path / "ws" / "questionnaires"
    assert (folder / "questionnaire.yaml").exists() and not (folder / problems.FILE).exists()
    assert finding("missing-answer").message == "required answer is blank"


def _bad_definitions(tmp_path: Path) -> Path:
    """The bundled definitions with one Russian label taken out."""
    folder = tmp_path / "defs"
    shutil.copytree(data_dir("questionnaires"), folder, ignore=shutil.ignore_patterns(problems.FILE, "mappings"))
    q = folder / "questionnaire.yaml"
    text = q.read_text(encoding="utf-8")
    q.write_text(text.replace(', ru: "1 - Не является приоритетом"}', "}", 1), encoding="utf-8")
    return folder


def test_validate_words_problems_in_the_language_consult_lang_names(tmp_path: Path, monkeypatch: Any) -> None:
    folder = _bad_definitions(tmp_path)
    monkeypatch.setenv("CONSULT_LANG", "ru")
    result = CliRunner().invoke(app, ["validate", "--json", str(folder)])
    assert result.exit_code == 1, result.output
    (error,) = [f for f in json.loads(result.stdout) if f["severity"] == "error"]
    ru = problems.catalogue()["missing-translation"]
    assert error["code"] == "missing-translation" and error["lang"] == "ru"
    assert error["message"] == ru["message"]["ru"].format(**error["params"])
    assert error["fix"] == ru["fix"]["ru"].format(**error["params"])
    text = CliRunner().invoke(app, ["validate", str(folder)])
    assert error["message"] in text.stdout and f"fix: {error['fix']}" in text.stdout
    monkeypatch.setenv("CONSULT_LANG", "fr")
    refused = CliRunner().invoke(app, ["validate", str(folder)])
    assert refused.exit_code == 2 and "CONSULT_LANG=fr" in refused.output
    monkeypatch.delenv("CONSULT_LANG")
    english = json.loads(CliRunner().invoke(app, ["validate", "--json", str(folder)]).stdout)
    assert [f["message"] for f in english if f["severity"] == "error"] == [
        CATALOGUE["missing-translation"][0].format(**error["params"])
    ]


@pytest.mark.slow
def test_ingest_and_returns_word_problems_in_russian(cli, make_return, monkeypatch: Any) -> None:
    path = make_return("KZ", "MOH", {"TOC.priority": "seven"}, drop=["emerging"], name="KZ-MOH.xlsx")
    monkeypatch.setenv("CONSULT_LANG", "ru")
    text = cli("ingest", "--dry-run", str(path))  # nothing stored: the next ingest lists the problems again
    assert "не заполнен обязательный ответ" in text.stdout and "заполните ответ" not in text.stdout  # no fix for …
    result = cli("ingest", "--json", str(path))
    assert result.exit_code == 1
    (r,) = json.loads(result.stdout)
    shown = r["errors"] + r["missing"]
    assert {f["code"] for f in shown} >= {"invalid-value", "missing-answer"}
    for f in shown:
        ru = problems.catalogue()[f["code"]]
        said = {name: problems.say(pieces, "ru") for name, pieces in f["params"].get("worded", {}).items()}
        assert f["lang"] == "ru"
        assert f["message"] == ru["message"]["ru"].format(**{**f["params"], **said})
        assert f["fix"] == ru["fix"]["ru"].format(**{**f["params"], **said})
    invalid = next(f for f in shown if f["code"] == "invalid-value")
    # what a rating must be, and how to correct it, are Russian too (phrases of the catalogue),
    # while the stored parameters keep their English words for a reader without the catalogue
    assert invalid["message"].startswith("найдено 'seven', ожидается оценка от 1 до 5 или «")
    assert invalid["fix"] == "выберите значение из раскрывающегося списка"
    assert invalid["params"]["expected"].startswith("a rating from 1 to 5 or '")
    missing = next(f for f in shown if f["code"] == "missing-answer")
    assert missing["message"] == "не заполнен обязательный ответ" and missing["fix"] == "заполните ответ"
    listed = json.loads(cli("returns", "--json").stdout)
    assert listed[0]["errors"][0]["lang"] == "ru" and listed[0]["why"] == listed[0]["errors"][0]["message"]


def test_why_a_file_cannot_be_read_is_said_in_the_readers_language() -> None:
    from consult.intake.safety import check_file

    pdf = check_file("report.xlsx", b"%PDF-1.4 ...")
    assert pdf is not None and pdf.message == "not an Excel .xlsx workbook (it is a PDF document)"
    assert pdf.message_in("ru") == "файл не является книгой Excel .xlsx (это документ PDF)"
    empty = check_file("empty.xlsx", b"")
    assert empty is not None and empty.message_in("ru").endswith("(файл пуст)")


def test_what_a_definition_problem_names_is_said_in_the_readers_language(tmp_path: Path) -> None:
    folder = tmp_path / "q"
    shutil.copytree(data_dir("questionnaires"), folder)
    framework = folder / "framework.yaml"
    framework.write_text(
        framework.read_text(encoding="utf-8").replace("components: [untoc,", "components: [untocc,", 1),
        encoding="utf-8",
    )
    _, found = validate_paths([folder])
    (bad,) = [f for f in found if f.code == "unknown-ref"]
    assert bad.message == "unknown component of TOC 'untocc' for institution MFA"
    assert bad.message_in("ru") == "неизвестный идентификатор 'untocc' (компонент направления TOC) у ведомства MFA"
