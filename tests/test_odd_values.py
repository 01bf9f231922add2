"""Odd values, one rule in both channels (issue 25): a rating typed as a range, a spreadsheet
error, Excel's ``_xHHHH_`` escapes, control characters, ``n/a`` and a completion date in the
future. Each is tried in a real generated workbook filled with openpyxl (or with the sheet
XML Excel writes) and in a real KoboToolbox / ODK Central export, through the real ingest;
what the store holds afterwards is checked."""

# ruff: noqa: F401, F811  (a pytest fixture imported from another test module, used as a parameter)
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from typing import Any

import openpyxl
import pytest
from hostile_corpus import ODD_CELLS, answer_cell, inline, shared_strings, with_cell
from test_ingest import stored
from test_store import set_saved_time
from test_xlsform import web as web_form  # the fixture: the workspace's KZ web form and its submissions
from webexports import kobo_csv, kobo_table, kobo_xlsx, odk_csv, odk_table

from consult.intake.ingest import ingest
from consult.workspace import Workspace


def notes_of(feedback: Any) -> dict[str, str]:
    """item id -> the note on its marked answer cell, in a feedback workbook."""
    wb = openpyxl.load_workbook(feedback)
    notes = {}
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.comment is not None and sheet.cell(row=cell.row, column=1).value:
                    notes[str(sheet.cell(row=cell.row, column=1).value)] = cell.comment.text
    return notes


def errors_of(result: Any) -> dict[str, Any]:
    return {f.question: f for f in result.errors}


# --- the Excel channel, real workbooks ------------------------------------------------------------
def test_ranges_errors_and_control_characters_refuse_a_workbook_with_the_cell(workspace, make_return, tmp_path):
    base = make_return("KZ", "MFA", name="base.xlsx")
    folder = tmp_path / "odd"
    folder.mkdir()
    for name, (item_id, cell) in ODD_CELLS.items():
        with_cell(base, folder / name, item_id, cell)
    results = {r.file: r for r in ingest([folder], workspace)}
    assert set(results) == set(ODD_CELLS)
    for name, (item_id, _cell) in ODD_CELLS.items():
        result = results[name]
        assert result.status == "rejected", (name, [str(f) for f in result.errors])
        [f] = [f for f in result.errors if f.question == item_id]
        assert f.code == "invalid-value"
        assert f.cell == answer_cell(base, item_id)[1]
        text = str(f)
        assert all(ord(ch) >= 32 and not 0x7F <= ord(ch) <= 0x9F for ch in text), text
    assert "pick one number" in results["range-spaced.xlsx"].errors[0].fix
    assert "found '3 - 4'" in str(results["range-spaced.xlsx"].errors[0])
    assert "spreadsheet error #DIV/0!" in str(errors_of(results["error-cached.xlsx"])["DRUGS.challenges"])
    assert "NUL at position 2" in str(errors_of(results["escaped-nul.xlsx"])["TOC.challenges"])
    rows, answers = stored(workspace)
    assert {r.status for r in rows} == {"rejected"} and answers == {}  # never stored, so never quoted


def test_a_range_stored_before_is_now_refused_not_read_as_its_first_number(workspace, make_return):
    """The defect: '3 - 4' was stored as 3. Typed by a person through openpyxl, as text."""
    path = make_return("KZ", "MOH", {"TOC.priority": "3 - 4", "DRUGS.priority": "1 - 5", "JUSTICE.priority": "3-4"})
    [result] = ingest([path], workspace)
    assert result.status == "rejected"
    assert {q for q, f in errors_of(result).items() if "not a range" in f.message} == {
        "TOC.priority",
        "DRUGS.priority",
        "JUSTICE.priority",
    }


def test_an_error_typed_by_a_person_is_refused(workspace, make_return):
    """openpyxl saves the text '#REF!' as an error cell, as Excel does when it is typed."""
    path = make_return("KZ", "MOH", {"TOC.challenges": "#REF!", "emerging": "#DIV/0!"})
    [result] = ingest([path], workspace)
    assert result.status == "rejected"
    assert set(errors_of(result)) == {"TOC.challenges", "emerging"}


def test_escapes_are_decoded_in_inline_and_shared_strings(workspace, make_return, tmp_path):
    base = make_return("KZ", "MOH", name="plain.xlsx")
    escaped = with_cell(base, tmp_path / "escaped.xlsx", "TOC.challenges", inline("first_x000D_\nsecond"))
    escaped = with_cell(escaped, tmp_path / "escaped2.xlsx", "DRUGS.challenges", inline("a _x005F_x000D_ literal"))
    shared = shared_strings(escaped, tmp_path / "shared.xlsx")  # the same text in the shared-string table
    for path in (escaped, shared):
        [result] = ingest([path], workspace)
        assert result.status == "accepted", [str(f) for f in result.errors]
        answers = stored(workspace)[1][result.return_id]
        assert answers["TOC.challenges"] == "first\r\nsecond"
        assert answers["DRUGS.challenges"] == "a _x000D_ literal"


def test_n_a_is_a_text_answer_in_a_workbook(workspace, make_return):
    path = make_return("KZ", "MOH", {"TOC.challenges": "n/a", "DRUGS.challenges": "N/A", "TOC.priority": "n/a"})
    [result] = ingest([path], workspace)
    assert result.status == "accepted"
    answers = stored(workspace)[1][result.return_id]
    assert (answers["TOC.challenges"], answers["DRUGS.challenges"], answers["TOC.priority"]) == ("n/a", "N/A", "na")


# --- the web channel, real exports ----------------------------------------------------------------
def test_n_a_is_a_text_answer_in_an_export_as_in_a_workbook(workspace, web_form, tmp_path):
    """The defect: ODK Central's `n/a` was dropped as blank (the answer missing) while a
    workbook kept it; `N/A` was kept. Now both channels store both."""
    sub = web_form["make"]("MOH", 11, TOC_challenges="n/a", DRUGS_challenges="N/A", TOC_priority="n/a")
    export = odk_csv(odk_table(web_form["xlsform"], [sub]), tmp_path / "odk.csv")
    [result] = ingest([export], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing]
    answers = stored(workspace)[1][result.return_id]
    assert (answers["TOC.challenges"], answers["DRUGS.challenges"], answers["TOC.priority"]) == ("n/a", "N/A", "na")


def test_ranges_errors_and_control_characters_refuse_a_submission_with_the_column(workspace, web_form, tmp_path):
    subs = [
        web_form["make"]("MOH", 12, TOC_priority="3 - 4"),
        web_form["make"]("MFA", 13, TOC_priority="1 - 5", DRUGS_priority="3–4"),
        web_form["make"]("DCA", 14, TOC_challenges="#REF!", DRUGS_challenges="#DIV/0!"),
        web_form["make"]("CUSTOMS", 15, TOC_challenges="clear\x1b[2J screen", DRUGS_challenges="c1\x85 next line"),
    ]
    export = kobo_csv(kobo_table(web_form["xlsform"], subs, groups=True), tmp_path / "kobo.csv")
    results = {r.institution: r for r in ingest([export], workspace)}
    for inst in ("MOH", "MFA", "DCA", "CUSTOMS"):
        assert results[inst].status == "rejected", (inst, [str(f) for f in results[inst].errors])
    moh = errors_of(results["MOH"])["TOC.priority"]
    assert (moh.row, moh.cell) == (2, "TOC/TOC_priority")
    assert "not a range" in moh.message and "pick one number" in moh.fix
    assert set(errors_of(results["MFA"])) == {"TOC.priority", "DRUGS.priority"}
    assert "spreadsheet error #REF!" in errors_of(results["DCA"])["TOC.challenges"].message
    customs = [str(f) for f in results["CUSTOMS"].errors]
    assert len(customs) == 2 and all("\x1b" not in t and "\x85" not in t for t in customs), customs
    assert stored(workspace)[1] == {}


def test_escapes_in_an_xlsx_export_are_decoded(workspace, web_form, tmp_path):
    """KoboToolbox writes its XLS export with XlsxWriter, which stores a carriage return as
    ``_x000D_`` (and a literal "_x000D_" as ``_x005F_x000D_``); the text is what was typed."""
    sub = web_form["make"]("MOH", 16, TOC_challenges="first\r\nsecond", DRUGS_challenges="a _x000D_ b")
    export = kobo_xlsx(kobo_table(web_form["xlsform"], [sub], groups=True), tmp_path / "kobo.xlsx")
    [result] = ingest([export], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors]
    answers = stored(workspace)[1][result.return_id]
    assert answers["TOC.challenges"] == "first\r\nsecond"
    assert answers["DRUGS.challenges"] == "a _x000D_ b"
    with zipfile.ZipFile(export) as zf:  # what XlsxWriter wrote, as Kobo's export holds it
        strings = zf.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in zf.namelist() else ""
        strings += "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert "first_x000D_" in strings and "a _x005F_x000D_ b" in strings


# --- completion dates in the future ----------------------------------------------------------------
def _future_typo() -> tuple[str, str]:
    """A completion date one year ahead as the respondent typed it, and a date before today."""
    today = dt.date.today()
    ahead = today.replace(year=today.year + 3, day=min(today.day, 28))
    return ahead.strftime("%d.%m.%Y"), (today - dt.timedelta(days=2)).isoformat()


@pytest.mark.parametrize("order", ["typo first", "resend first"])
def test_a_future_date_is_warned_and_never_outranks_the_corrected_resend(workspace, make_return, order):
    typo, real = _future_typo()
    wrong = set_saved_time(make_return("KZ", "GPO", {"date": typo, "TOC.priority": "1"}), "2026-01-10T09:00:00Z")
    fixed = set_saved_time(make_return("KZ", "GPO", {"date": real, "TOC.priority": "5"}), "2026-01-12T09:00:00Z")
    first, second = (wrong, fixed) if order == "typo first" else (fixed, wrong)
    results = {r.file: r for r in ingest([first], workspace) + ingest([second], workspace)}
    [warning] = [f for f in results[wrong.name].warnings if f.code == "future-date"]
    assert warning.question == "date" and warning.cell == answer_cell(wrong, "date")[1]
    assert "in the future" in str(warning)
    assert not [f for f in results[fixed.name].warnings if f.code == "future-date"]
    rows, answers = stored(workspace)
    current = [r for r in rows if r.status == "accepted"]
    assert [r.file_name for r in current] == [fixed.name]
    assert answers[current[0].id]["TOC.priority"] == "5"
    by_name = {r.file_name: r for r in rows}
    assert by_name[wrong.name].respondent_date is None  # the typo is kept as the answer, not as the order
    assert answers[by_name[wrong.name].id]["date"] > dt.date.today().isoformat()


def test_a_future_date_in_a_submission_is_warned_with_its_column(workspace, web_form, tmp_path):
    typo, _real = _future_typo()
    iso = dt.datetime.strptime(typo, "%d.%m.%Y").date().isoformat()
    early = web_form["make"]("MOH", 17, time="2026-01-10T09:00:00", date=iso)
    late = web_form["make"]("MOH", 18, time="2026-01-12T09:00:00")
    export = kobo_csv(kobo_table(web_form["xlsform"], [early, late], groups=True), tmp_path / "kobo.csv")
    results = ingest([export], workspace)
    [warning] = [f for r in results for f in r.warnings if f.code == "future-date"]
    assert warning.row == 2 and (warning.cell or "").endswith("date") and warning.question == "date"
    current = [r for r in stored(workspace)[0] if r.status == "accepted"]
    assert [r.file_name for r in current] == [f"kobo:{late.instance}"]


# --- the whole way: the CLI, the terminal and the export ----------------------------------------
def test_control_characters_never_reach_the_terminal_or_break_the_export(workspace: Workspace, web_form, tmp_path):
    sub = web_form["make"]("MOH", 19, TOC_challenges="bell\x07 and \x1b]0;title\x07")
    export = kobo_csv(kobo_table(web_form["xlsform"], [sub], groups=True), tmp_path / "in" / "kobo.csv")
    good = kobo_csv(
        kobo_table(web_form["xlsform"], [web_form["make"]("MFA", 20)], groups=True), tmp_path / "in" / "good.csv"
    )
    env = {**os.environ, "COLUMNS": "200"}
    run = subprocess.run(
        [sys.executable, "-m", "consult", "--workspace", str(workspace.root), "ingest", "--json", str(export.parent)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout and "\x1b" not in run.stderr
    statuses = {r["institution"]: r["status"] for r in json.loads(run.stdout)}
    assert statuses == {"MOH": "rejected", "MFA": "accepted"}, good
    out = tmp_path / "export.xlsx"
    exported = subprocess.run(
        [sys.executable, "-m", "consult", "--workspace", str(workspace.root), "export", "-f", "xlsx", "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert exported.returncode == 0, exported.stderr
    assert out.exists() and out.stat().st_size > 0


def test_future_date_is_not_a_problem_for_a_date_of_today(workspace, make_return):
    [result] = ingest([make_return("KZ", "MOH", {"date": dt.date.today().isoformat()})], workspace)
    assert result.status == "accepted" and not [f for f in result.warnings if f.code == "future-date"]


def test_the_feedback_says_how_to_correct_each_odd_value(workspace, cli, make_return, tmp_path):
    """The institution's feedback workbook marks each refused cell with the right correction,
    in both languages, and holds what they sent (the feedback is built from the file itself)."""
    path = make_return("KZ", "MFA", {"TOC.priority": "3 - 4", "TOC.challenges": "#REF!"}, name="KZ-MFA.xlsx")
    path = with_cell(path, tmp_path / "KZ-MFA-odd.xlsx", "DRUGS.challenges", inline("ring_x0007_"))
    [result] = ingest([path], workspace)
    assert result.status == "rejected"
    run = cli("feedback")
    assert run.exit_code == 0, run.output
    [target] = (workspace.root / "feedback" / "KZ").glob("KZ-MFA*.xlsx")
    notes = notes_of(target)
    assert "Pick one number" in notes["TOC.priority"] and "Выберите одно число" in notes["TOC.priority"]
    assert "spreadsheet error" in notes["TOC.challenges"] and "ошибка таблицы" in notes["TOC.challenges"]
    assert "invisible character" in notes["DRUGS.challenges"] and "невидимый символ" in notes["DRUGS.challenges"]


def test_an_odd_value_in_a_choice_column_is_refused_not_read_as_unchosen(workspace, web_form, tmp_path):
    """A select_multiple exported as 0/1 columns only: '#REF!' (the CSV opened and saved in
    Excel) is refused with its column, as a workbook's "Yes" cell would be."""
    rows = kobo_table(web_form["xlsform"], [web_form["make"]("MOH", 21)], groups=True)
    main = rows[0].index("TOC/TOC_assistance")
    rows = [row[:main] + row[main + 1 :] for row in rows]
    column = rows[0].index("TOC/TOC_assistance/capacity")
    rows[1][column] = "#REF!"
    [result] = ingest([kobo_csv(rows, tmp_path / "kobo.csv")], workspace)
    assert result.status == "rejected"
    [f] = result.errors
    assert (f.question, f.cell, f.row) == ("TOC.assistance", "TOC/TOC_assistance/capacity", 2)
    assert "spreadsheet error #REF!" in f.message


def test_a_future_date_comes_back_marked_in_the_feedback_with_all(workspace, cli, make_return):
    typo, _real = _future_typo()
    path = make_return("KZ", "MFA", {"date": typo}, name="KZ-MFA.xlsx")
    [result] = ingest([path], workspace)
    assert result.status == "accepted" and [f.code for f in result.warnings] == ["future-date"]
    assert cli("feedback").stdout.startswith("No return needs feedback")  # a warning: only with --all
    assert cli("feedback", "--all").exit_code == 0
    [target] = (workspace.root / "feedback" / "KZ").glob("KZ-MFA*.xlsx")
    notes = notes_of(target)
    assert set(notes) == {"date"}
    assert "is in the future" in notes["date"] and "в будущем" in notes["date"]
    assert "Check the year" in notes["date"] and "Проверьте год" in notes["date"]


def test_a_fractional_staff_count_is_refused_in_both_channels(workspace, make_return, web_form, tmp_path):
    """The staff count is a whole number (``integer: true``): 12.5 is refused with its cell in
    a workbook and with its column in an export, never rounded."""
    [book] = ingest([make_return("KZ", "MFA", {"staff": "12,5"})], workspace)
    [web] = ingest(
        [kobo_csv(kobo_table(web_form["xlsform"], [web_form["make"]("MOH", 30, staff="12.5")]), tmp_path / "k.csv")],
        workspace,
    )
    for result in (book, web):
        [f] = [f for f in result.errors if f.question == "staff"]
        assert "whole number" in f.message, str(f)
