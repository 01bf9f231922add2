"""The documents that describe the code are checked against it: docs/cli.md is the commands'
real --help, and the README's Design table names every module of the package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import consult
from consult.cli import reference

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(consult.__file__).parent


def test_cli_reference_is_the_commands_real_help() -> None:
    committed = reference.TARGET.read_text(encoding="utf-8") if reference.TARGET.exists() else ""
    if committed != reference.render():
        pytest.fail(f"docs/cli.md differs from the commands' --help: run `{reference.COMMAND}` and commit it")


def test_cli_reference_has_a_section_per_command_and_is_linked() -> None:
    text = reference.TARGET.read_text(encoding="utf-8")
    sections = re.findall(r"^## (consult.*)$", text, re.M)
    assert sections[:3] == ["consult", "consult init", "consult validate"]
    assert {"consult definitions update", "consult quotes export", "consult quotes import"} <= set(sections)
    assert len(sections) == len(set(sections)) == len(list(reference.commands()))
    assert "\x1b[" not in text and max(len(line) for line in text.split("```text")[1].splitlines()) <= 100
    assert "(docs/cli.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_check_mode_fails_on_a_stale_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text("# Command-line reference\n", encoding="utf-8")
    monkeypatch.setattr(reference, "TARGET", stale)
    monkeypatch.setattr(reference, "render", lambda: "# Command-line reference\n\n## consult\n")  # real: above
    assert reference.main(["--check"]) == 1
    assert "run python -m consult.cli.reference" in capsys.readouterr().err
    assert reference.main([]) == 0
    assert reference.main(["--check"]) == 0
    assert reference.main(["--nonsense"]) == 2


def design_table() -> dict[str, str]:
    """The README's Design table: first cell (what it names) -> second cell (what it holds)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("| package | holds |") :].split("\n\n", 1)[0]
    rows = [line.split(" | ", 1) for line in block.splitlines()[2:]]
    return {name.strip("| "): holds for name, holds in rows}


def test_design_table_names_every_module() -> None:
    """A top-level module is named in the first cell (`consult/seal.py`, or `locks.py` beside
    `consult/fileio.py`); a module of a sub-package, in backticks in its package's row."""
    table = design_table()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        parts = path.relative_to(PACKAGE).parts
        if len(parts) == 1:
            if not any(re.search(rf"`(consult/)?{re.escape(path.name)}`", name) for name in table):
                missing.append(f"consult/{path.name}")
        else:
            holds = table.get(f"`consult/{'/'.join(parts[:-1])}/`", "")
            if f"`{path.stem}`" not in holds:
                missing.append(f"consult/{'/'.join(parts)}")
    assert not missing, "README.md, Design: add these modules to the table: " + ", ".join(missing)


def test_architecture_names_places_that_exist() -> None:
    """docs/architecture.md sends a reader to files and names: each must still be there, and
    every stage of tests/test_architecture.py has its row."""
    from test_architecture import STAGES

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for path in re.findall(r"`((?:consult|questionnaires|tests)/[\w/.]+\.(?:py|json))", text):
        assert (ROOT / path).is_file(), f"docs/architecture.md names {path}, which does not exist"
    places = {
        "consult/intake/values.py": ["PARSERS"],
        "consult/definitions/questionnaire.py": ["QUESTION_TYPES"],
        "consult/forms/validations.py": ["VALIDATIONS"],
        "consult/forms/section.py": ["def write_section"],
        "consult/forms/xlsform.py": ["class _Builder", "    def item("],
        "consult/intake/submissions.py": ["def read_exports", "is_export"],
        "consult/types.py": ["CHANNELS"],
        "consult/intake/web/metadata.py": ["KOBO_COLUMNS", "ROOT_COLUMNS", "REVIEW_COLUMN", "def identify("],
        "consult/intake/web/export.py": ["def channel(", "def is_export"],
        "consult/intake/web/submission.py": ["class ExportReader"],
        "consult/report/synthesis.py": ["FORMATS", "def write_document", "class Builder"],
        "consult/report/word.py": ["LANG_TAGS"],
        "tests/test_feedback.py": ["def test_a_second_programme_in_a_third_language_needs_no_code"],
    }
    for path, names in places.items():
        source = (ROOT / path).read_text(encoding="utf-8")
        assert path in text
        for name in names:
            assert name in source, f"docs/architecture.md: {path} has no {name.strip()} any more"
    for stage in STAGES[:-1]:
        assert any(f"`{name}" in text for name in stage), stage


def test_ci_runs_the_readmes_test_command_with_the_coverage_gate() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    command = re.search(r"^python -m pytest -q -n auto( --cov\S*)+", readme, re.M)
    assert command is not None and "--cov-fail-under=90" in command.group(0)
    assert command.group(0) in ci, f".ci/run must run the README's test command: {command.group(0)}"
    assert f"&& {command.group(0)} " in readme  # the quick start says the same
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"pytest-cov' in pyproject and '"pytest-xdist' in pyproject
