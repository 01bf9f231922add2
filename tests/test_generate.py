"""`consult generate`: the workbooks facilitators send out, reopened and inspected."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from consult.definitions import bundled_definition
from consult.definitions.questionnaire import resolve
from consult.forms.layout import LISTS_SHEET, META_SHEET
from consult.seal import seal

ROOT = Path(__file__).resolve().parent.parent


def validated_cells(ws) -> dict[str, str]:
    """cell ref -> validation type, for every cell covered by a data validation."""
    cells = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = range_boundaries(str(rng))
            for r in range(min_row, max_row + 1):
                for c in range(min_col, max_col + 1):
                    cells[f"{openpyxl.utils.get_column_letter(c)}{r}"] = dv.type
    return cells


def test_generate_all_writes_one_workbook_per_invited_institution(cli, workspace, tmp_path):
    out = tmp_path / "out"
    result = cli("generate", "--all", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stdout
    listing = json.loads(result.stdout)
    expected = {(c, i) for c in workspace.countries for i in workspace.invited_for(c)}
    assert {(x["country"], x["institution"]) for x in listing} == expected
    for c, i in expected:
        assert (out / c / f"{c}-{i}.en-ru.xlsx").is_file()


def test_workbook_structure_metadata_validation_protection(forms, workspace):
    d = bundled_definition()
    fw = d.framework
    for path in sorted(forms.glob("*/*.xlsx")):
        wb = openpyxl.load_workbook(path)
        meta = {r[0]: r[1] for r in wb[META_SHEET].iter_rows(values_only=True)}
        country, inst = meta["country"], meta["institution"]
        assert path.name == f"{country}-{inst}.en-ru.xlsx"
        assert meta["definition_hash"] == d.hash
        assert meta["questionnaire_id"] == d.questionnaire.id
        assert meta["questionnaire_version"] == d.questionnaire.version
        assert meta["round"] == workspace.round
        assert meta["seal_key"] == workspace.seal_key.id  # the key's id only: the key is never in a form
        assert meta["seal"] == seal({k: str(v) for k, v in meta.items()}, workspace.seal_key)
        assert workspace.seal_key.secret.hex() not in str(meta)
        assert meta["generated_at"] and meta["tool_version"]
        assert wb[META_SHEET].sheet_state == "veryHidden" and wb[META_SHEET].protection.sheet
        assert wb[LISTS_SHEET].sheet_state == "hidden"
        form = resolve(d.questionnaire, fw, country, inst)
        seen: dict[str, set[str]] = {}
        for ws in wb.worksheets:
            assert ws.protection.sheet, f"{path.name}!{ws.title} is not protected"
            if ws.title.startswith("_") or ws["A3"].value != "item_id":
                continue
            assert ws.column_dimensions["A"].hidden and ws.column_dimensions["B"].hidden
            validations = validated_cells(ws)
            for row in ws.iter_rows(min_row=4):
                iid, part, answer = row[0].value, row[1].value, row[5]
                if iid is None:
                    continue
                item = form.item_by_id[iid]
                seen.setdefault(iid, set()).add(part or "")
                if item.type in ("multiple", "rank") and part is None:
                    assert answer.protection.locked  # the question's title row takes no answer
                    continue
                assert not answer.protection.locked, f"{ws.title}!{answer.coordinate} locked"
                assert answer.fill.fgColor.rgb.endswith("FFF2CC")
                if item.type in ("rating", "single", "multiple", "rank"):
                    assert validations.get(answer.coordinate) == "list", f"{ws.title}!{answer.coordinate} {iid}"
                # labels in both languages, side by side
                assert row[3].value and row[4].value
        # every item of the resolved form is in the workbook
        assert set(seen) == {i.id for i in form.items}
        # all components of each asked area appear, and only those
        asked = fw.institution_by_id[inst].areas
        comp_items = {i.component for i in form.items if i.component}
        assert comp_items == {f"{a}.{k}" for a, spec in asked.items() for k in spec.components}
        assert {i.area for i in form.items if i.area} == set(asked)


def test_russian_labels_and_dropdown_lists(forms):
    path = forms / "KZ" / "KZ-MOH.en-ru.xlsx"
    wb = openpyxl.load_workbook(path)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("Наивысший приоритет" in t for t in texts)
    assert any(t == "Вопрос (RU)" for t in texts)
    lists = wb[LISTS_SHEET]
    ratings = [c.value for c in next(lists.iter_cols(min_col=1, max_col=1))]
    assert "4 - High priority / 4 - Высокий приоритет" in ratings


def test_english_only_workbook(cli, tmp_path):
    out = tmp_path / "en"
    result = cli("generate", "--country", "KZ", "--institution", "MFA", "--lang", "en", "--out", str(out))
    assert result.exit_code == 0, result.stdout
    wb = openpyxl.load_workbook(out / "KZ" / "KZ-MFA.en.xlsx")
    texts = " ".join(
        str(c.value)
        for ws in wb.worksheets
        if not ws.title.startswith("_")
        for row in ws.iter_rows()
        for c in row
        if c.value
    )
    assert "Вопрос" not in texts and "Question" in texts and "(EN)" not in texts


def test_regenerate_overwrites_atomically(cli, tmp_path):
    out = tmp_path / "o"
    for _ in range(2):
        assert cli("generate", "-c", "KG", "-i", "BORDER", "--out", str(out)).exit_code == 0
    assert [p.name for p in (out / "KG").iterdir()] == ["KG-BORDER.en-ru.xlsx"]  # no temp files left


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "--all"),
        (["--country", "XX"], "unknown country XX"),
        (["--institution", "NOPE"], "unknown institution NOPE"),
        (["--all", "--lang", "fr"], "language fr"),
    ],
)
def test_generate_usage_errors_exit_2(cli, args, needle):
    result = cli("generate", *args)
    assert result.exit_code == 2
    assert needle in result.stderr


def test_every_command_has_help(runner):
    from consult.cli import app

    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "init",
        "validate",
        "generate",
        "ingest",
        "status",
        "returns",
        "export",
        "score",
        "synthesize",
        "demo",
    ):
        assert command in result.stdout, command
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0 and len(sub.stdout) > 200, command


@pytest.mark.slow
def test_pip_install_wheel_then_generate_and_demo_from_any_directory(tmp_path):
    """A non-editable install carries questionnaires/ and templates/ inside the package.

    The wheel is built by the interpreter running the tests and installed with its
    dependencies into a fresh virtual environment that sees this environment's packages
    (so no network is needed, from CI's system Python and from a developer's venv alike):
    a dependency pyproject declares but this environment lacks fails the install."""
    if not _has_hatchling():
        pytest.skip("building the wheel offline needs hatchling: pip install -e '.[test]'")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = wheels.glob("consult-*.whl")
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", env_dir], check=True)
    py = env_dir / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # run from a venv: the new venv's "system" packages are the base interpreter's, not
        # this venv's; a .pth file adds this environment's site-packages after its own
        child_site = subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        Path(child_site, "_parent_environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    install = subprocess.run(
        [py, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheels, wheel],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": ""}
    show = subprocess.run(
        [py, "-c", "import consult, sys; print(consult.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in show.stdout, "the venv's installed copy must be used, not the checkout"
    result = subprocess.run(
        [env_dir / "bin" / "consult", "generate", "--all", "--out", "forms"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    d = bundled_definition()
    n = len(d.framework.countries) * len(d.framework.institutions)
    assert len(list((elsewhere / "forms").glob("*/*.xlsx"))) == n
    demo = subprocess.run(
        [env_dir / "bin" / "consult", "demo", "--out", "demo"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (elsewhere / "demo" / "synthesis" / "regional-synthesis.en.docx").is_file()
    check = subprocess.run(
        [env_dir / "bin" / "consult", "validate"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    version = subprocess.run(
        [env_dir / "bin" / "consult", "--version"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert version.returncode == 0 and "0." in version.stdout, version.stdout + version.stderr


def _has_hatchling() -> bool:
    try:
        import hatchling  # noqa: F401
    except ImportError:
        return False
    return True
