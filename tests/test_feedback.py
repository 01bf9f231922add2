"""`consult feedback`: real returns with real problems, the workbook sent back, corrected the way
a respondent would (in the marked cells only), and ingested again."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consult.definitions import bundled_definition
from consult.example.filler import display, fill_workbook, form_of, sample_answers
from consult.feedback.workbook import MARK_SIDE, SUFFIX
from consult.forms.layout import LISTS_SHEET, META_SHEET
from consult.intake.ingest import ingest
from consult.intake.reader import read_return
from consult.store import MIGRATIONS, SCHEMA_VERSION, Store
from consult.workspace import Workspace, known_definitions, open_store, open_workspace

DEADLINE = "2020-09-30"
CONTACT = "consult.secretariat@example.org"


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """The test workspace with a deadline and a contact, as a facilitator sets them."""
    path = workspace.root / "consult.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("deadline: null", f"deadline: '{DEADLINE}'").replace("contact: null", f"contact: {CONTACT}")
    path.write_text(text, encoding="utf-8")
    return open_workspace(workspace.root)


def feedback_of(ws: Workspace, country: str, institution: str, langs: str = "en-ru") -> Path:
    """Where feedback is written: the languages are in the name (KZ-MFA-feedback.en-ru.xlsx)."""
    return ws.root / "feedback" / country / f"{country}-{institution}{SUFFIX}.{langs}.xlsx"


def marked(path: Path) -> dict[tuple[str, str], tuple[str, str | None, Any, str | None]]:
    """(sheet, cell) -> (item id, part, value, note) of every cell framed as a problem."""
    wb = openpyxl.load_workbook(path)
    found = {}
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.border.left.style == MARK_SIDE.style and cell.border.left.color.rgb.endswith("C00000"):
                    iid, part = sheet.cell(row=cell.row, column=1).value, sheet.cell(row=cell.row, column=2).value
                    note = cell.comment.text if cell.comment else None
                    found[(sheet.title, cell.coordinate)] = (iid, part, cell.value, note)
    return found


def read(path: Path, ws: Workspace) -> Any:
    """A file read as ingest reads it in this workspace (with the workspace's seal key, where
    forms are sealed with one)."""
    key = {"seal_key": ws.seal_key} if hasattr(ws, "seal_key") else {}
    return read_return(path, known_definitions(ws), ws.round, **key)


def answers_of(path: Path, ws: Workspace) -> dict[str, Any]:
    rr = read(path, ws)
    return {iid: a.value for iid, a in rr.answers.items()} | {f"personal:{k}": v for k, v in rr.personal.items()}


def correct(path: Path, choose: dict[str, Any] | None = None, definition: Any = None) -> Path:
    """Correct the marked cells only, as a respondent would: a valid value in each."""
    d = definition or bundled_definition()
    form, langs = form_of(path, d)
    yes = display_yes(langs)
    wb = openpyxl.load_workbook(path)
    for (sheet, ref), (iid, part, _value, _note) in marked(path).items():
        item = form.item_by_id[iid]
        if choose and iid in choose:
            value = choose[iid]
        elif item.type in ("rating", "single"):
            value = display(item, item.choices[0].code, langs)
        elif item.type == "multiple":
            value = yes if part == item.choices[0].code else None
        elif item.type == "rank":
            value = display(item, item.choices[int(part) - 1].code, langs)
        elif item.type == "number":
            value = 12
        elif item.type == "date":
            value = "2020-09-01"
        else:
            value = "Corrected answer"
        wb[sheet][ref].value = value
    target = path.with_name(path.stem + "-corrected.xlsx")
    wb.save(target)
    return target


def display_yes(langs: list[str]) -> str:
    d = bundled_definition()
    return " / ".join(dict.fromkeys(d.msg("choice_yes", lang) for lang in langs))


def test_invalid_values_come_back_marked_in_the_institutions_own_answers(ws, cli, make_return):
    bad = {"TOC.priority": "high", "DRUGS.priority": "7", "staff": "about forty", "DRUGS.assistance#capacity": "maybe"}
    path = make_return("KZ", "MFA", bad)
    ingest([path], ws)
    result = cli("feedback")
    assert result.exit_code == 0, result.output
    target = feedback_of(ws, "KZ", "MFA")
    assert target.exists() and target.with_suffix(".txt").exists()

    # every problem cell marked, holding what the institution typed, with a note in both languages
    marks = marked(target)
    by_item = {(iid, part): (value, note) for (iid, part, value, note) in marks.values()}
    assert set(by_item) == {
        ("TOC.priority", None),
        ("DRUGS.priority", None),
        ("staff", None),
        ("DRUGS.assistance", "capacity"),
    }
    assert by_item[("TOC.priority", None)][0] == "high"
    note = by_item[("DRUGS.priority", None)][1]
    assert "The answer '7' is not valid." in note and "Ответ '7' недопустим." in note
    assert 'Expected: a rating from 1 to 5, or "Not applicable"' in note
    assert "Ожидается: оценка от 1 до 5 или «Не применимо»" in note
    assert "Choose a value from the drop-down list." in note
    assert "Type digits only" in by_item[("staff", None)][1]
    assert 'Choose "Yes / Да" from the drop-down list' in by_item[("DRUGS.assistance", "capacity")][1]

    wb = openpyxl.load_workbook(target)
    first = wb.worksheets[0]
    assert wb.active.title == first.title == "Corrections · Исправления"
    assert first["A1"].value == "Corrections needed / Требуются исправления"
    links = {c.hyperlink.location for row in first.iter_rows() for c in row if c.hyperlink}
    assert links == {f"'{sheet}'!{ref}" for sheet, ref in marks}
    for sheet, ref in marks:  # every link lands on a marked cell that is still an input cell
        cell = wb[sheet][ref]
        assert cell.fill.fgColor.rgb.endswith("F4B084") and cell.protection.locked is False
        assert any(ref in str(dv.sqref) for dv in wb[sheet].data_validations.dataValidation)
    for sheet in wb.worksheets:
        assert sheet.protection.sheet, sheet.title
        if sheet.title not in (first.title, META_SHEET, LISTS_SHEET) and sheet["A3"].value == "item_id":
            assert sheet.column_dimensions["A"].hidden and sheet.column_dimensions["B"].hidden
    assert wb[META_SHEET].sheet_state == "veryHidden"

    # the institution's answers are all there: read back, the feedback workbook holds exactly the
    # answers of the return (the invalid ones are still invalid), and the same problems
    original, again = read(path, ws), read(target, ws)
    assert answers_of(target, ws) == answers_of(path, ws)
    assert sorted((f.code, f.question) for f in again.errors) == sorted((f.code, f.question) for f in original.errors)

    # corrected in the marked cells only, it is accepted, and only those answers changed
    fixed = correct(target)
    results = ingest([fixed], ws)
    assert results[0].status == "accepted", [str(f) for f in results[0].errors + results[0].missing]
    before, after = answers_of(path, ws), answers_of(fixed, ws)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= {"TOC.priority", "DRUGS.priority", "staff", "DRUGS.assistance"}


def test_missing_answers_come_back_marked_and_the_correction_supersedes(ws, cli, make_return):
    path = make_return("KZ", "MOH", drop=["DRUGS.priority", "DRUGS.assistance", "top5"])
    first = ingest([path], ws)[0]
    assert first.status == "incomplete"
    assert cli("feedback", "-c", "KZ").exit_code == 0
    target = feedback_of(ws, "KZ", "MOH")
    marks = marked(target)
    items = {iid for iid, _part, _value, _note in marks.values()}
    assert items == {"DRUGS.priority", "DRUGS.assistance", "top5"}
    form, _langs = form_of(target, bundled_definition())
    assistance = form.item_by_id["DRUGS.assistance"]
    parts = {part for iid, part, _v, _n in marks.values() if iid == "DRUGS.assistance"}
    assert parts == {c.code for c in assistance.choices}  # every row of a multi-row question
    notes = [n for _i, _p, _v, n in marks.values() if n]
    assert len(notes) == 3 and all("A required answer is blank." in n for n in notes)
    # what to do says which options and how many cells, per question type
    by_item = {i: n for i, _p, _v, n in marks.values() if n}
    assert "1 (not a priority) to 5 (top priority)" in by_item["DRUGS.priority"]
    cells = len(assistance.choices)
    assert (
        f"In the {cells} yellow cells" in by_item["DRUGS.assistance"]
        and f"В {cells} жёлтых" in by_item["DRUGS.assistance"]
    )
    assert "Choose up to 5 components" in by_item["top5"] and "Выберите до 5 компонентов" in by_item["top5"]
    assert all(value is None for _i, _p, value, _n in marks.values())

    fixed = correct(target)
    again = ingest([fixed], ws)[0]
    assert again.status == "accepted", [str(f) for f in again.errors + again.missing]
    assert again.superseded == [first.return_id]
    before, after = answers_of(path, ws), answers_of(fixed, ws)
    assert {k: v for k, v in after.items() if k not in ("DRUGS.priority", "DRUGS.assistance", "top5")} == before


def test_an_unreadable_file_gets_a_blank_form_saying_why(ws, cli, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "KZ-GPO.xlsx").write_bytes(b"%PDF-1.4 a scanned questionnaire")
    sealed = inbox / "KG-MOJ.en-ru.xlsx"  # someone changed the institution in the hidden sheet
    from consult.forms.writer import generate

    generate(ws.definition, ws, [("KG", "MOJ")], tmp_path / "forms", ["en", "ru"])
    wb = openpyxl.load_workbook(tmp_path / "forms" / "KG" / "KG-MOJ.en-ru.xlsx")
    (row,) = [c.row for c in wb[META_SHEET]["A"] if c.value == "institution"]
    wb[META_SHEET].cell(row=row, column=2).value = "MOIA"
    wb.save(sealed)
    (inbox / "scan.xlsx").write_bytes(b"not a workbook")  # nobody can tell whose
    results = {r.file: r for r in ingest([inbox], ws)}
    assert {r.status for r in results.values()} == {"rejected"}

    result = cli("feedback", "--json")
    assert result.exit_code == 1  # one file could not be given feedback, and it says why
    out = {(r["country"], r["institution"]): r for r in json.loads(result.stdout)}
    assert out[("KZ", "GPO")]["kind"] == "blank" and out[("KG", "MOIA")]["kind"] == "blank"
    assert out[(None, None)]["kind"] == "skipped" and "which institution" in out[(None, None)]["reason"]

    target = feedback_of(ws, "KZ", "GPO")
    wb = openpyxl.load_workbook(target)
    intro = "\n".join(str(c.value) for c in wb.worksheets[0]["A"] if c.value)
    assert "could not read the file you sent (KZ-GPO.xlsx" in intro and "not an Excel .xlsx workbook" in intro
    assert "не смогли прочитать присланный вами файл (KZ-GPO.xlsx" in intro
    assert marked(target) == {}
    blank = read(target, ws)
    assert not blank.errors and not blank.answers and blank.missing  # a genuine, empty form
    assert "the hidden part that identifies the questionnaire was changed" in "\n".join(
        str(c.value) for c in openpyxl.load_workbook(feedback_of(ws, "KG", "MOIA")).worksheets[0]["A"] if c.value
    )

    # filled in, the blank form is an ordinary return of that institution
    form, langs = form_of(target, bundled_definition())
    filled = fill_workbook(target, sample_answers(form, langs, __import__("random").Random(3)), tmp_path / "GPO.xlsx")
    assert ingest([filled], ws)[0].status == "accepted"


def test_covering_note_says_what_by_when_and_whom_and_nothing_else(ws, cli, make_return):
    ingest([make_return("KZ", "MFA", {"TOC.priority": "high", "contact_email": "x"}, drop=["DRUGS.priority"])], ws)
    ingest([make_return("KZ", "MOJ", {"TOC.priority": "very high"})], ws)
    assert cli("feedback", "-i", "MFA").exit_code == 0
    assert not feedback_of(ws, "KZ", "MOJ").exists()  # only the institution asked for
    note = feedback_of(ws, "KZ", "MFA").with_suffix(".txt").read_text(encoding="utf-8")
    ru, en = note.split("-" * 60)
    assert "Министерство иностранных дел" in ru and "Ministry of Foreign Affairs" in en
    assert ru.index("Уважаемые коллеги") < len(ru) and "Dear colleagues" in en
    # the round's deadline (30 September 2020) has passed: corrections are asked for in two weeks
    due = dt.date.today() + dt.timedelta(days=14)
    assert due.strftime("%d.%m.%Y") in ru and f"{due.day} {due.strftime('%B')} {due.year}" in en
    assert "30.09.2020" not in ru and "30 September 2020" not in en
    (where,) = [
        f"'{sheet}'!{ref}" for (sheet, ref), m in marked(feedback_of(ws, "KZ", "MFA")).items() if m[0] == "TOC.priority"
    ]
    for block in (ru, en):
        assert CONTACT in block and "KZ-MFA-feedback.en-ru.xlsx" in block
        assert where in block
    assert "The answer 'high' is not valid." in en and "Ответ 'high' недопустим." in ru
    assert "Ministry of Justice" not in note and "very high" not in note  # no other institution
    assert "focal.point@example.org" not in note and "Focal point" not in note  # no personal data
    assert "+000" not in note


def test_feedback_sent_shows_in_status_and_returns(ws, cli, make_return):
    path = make_return("KZ", "MFA", {"TOC.priority": "high"})
    ingest([path], ws)
    assert cli("feedback").exit_code == 0
    status = json.loads(cli("status", "--json").stdout)
    fb = status["countries"]["KZ"]["institutions"]["MFA"]["feedback"]
    assert fb["problems"] == 1 and fb["answered"] is False and fb["path"].endswith("KZ-MFA-feedback.en-ru.xlsx")
    assert status["countries"]["KZ"]["institutions"]["MOJ"]["feedback"] is None
    table = cli("status").stdout
    assert "✉" in table and "feedback sent, no new file since: 1 institution(s)" in table
    history = json.loads(cli("returns", "--json").stdout)
    assert [len(r["feedback"]) for r in history] == [1]
    assert "✉" in cli("returns").stdout

    ingest([correct(feedback_of(ws, "KZ", "MFA"))], ws)
    status = json.loads(cli("status", "--json").stdout)
    mfa = status["countries"]["KZ"]["institutions"]["MFA"]
    assert mfa["status"] == "accepted" and mfa["feedback"]["answered"] is True
    assert "✉" not in cli("status").stdout
    assert cli("feedback").stdout.startswith("No return needs feedback")


def test_only_what_needs_it_and_warnings_with_all(ws, cli, make_return, tmp_path):
    ingest([make_return("KZ", "MFA")], ws)  # accepted, nothing to say
    path = make_return("KG", "MOJ", name="KG-MOJ.en-ru.xlsx")
    wb = openpyxl.load_workbook(path)  # a row deleted: accepted, with a warning
    sheet = next(s for s in wb.worksheets if any(c.value == "department" for c in s["A"]))
    row = next(c.row for c in sheet["A"] if c.value == "department")
    sheet.protection.sheet = False
    sheet.delete_rows(row)
    wb.save(path)
    assert ingest([path], ws)[0].status == "accepted"
    assert cli("feedback").stdout.startswith("No return needs feedback")
    assert cli("feedback", "--all").exit_code == 0
    target = feedback_of(ws, "KG", "MOJ")
    marks = marked(target)
    assert [(iid, note.split("\n")[0]) for iid, _p, _v, note in marks.values()] == [
        ("department", "The row of this question had been deleted; it is back in this workbook.")
    ]
    assert not feedback_of(ws, "KZ", "MFA").exists()


def test_a_moved_return_is_found_with_from(ws, cli, make_return, tmp_path):
    path = make_return("KZ", "MFA", {"TOC.priority": "high"})
    ingest([path], ws)
    moved = tmp_path / "archive" / "2020" / path.name
    moved.parent.mkdir(parents=True)
    shutil.move(path, moved)
    result = cli("feedback")
    assert result.exit_code == 1 and "--from" in result.output
    assert cli("feedback", "--from", str(tmp_path / "archive")).exit_code == 0
    assert marked(feedback_of(ws, "KZ", "MFA"))


def test_russian_only_form_and_lang_option(ws, cli, tmp_path):
    d = bundled_definition()
    from consult.forms.writer import generate

    generate(d, ws, [("TJ", "MOH")], tmp_path / "ru", ["ru"])
    blank = tmp_path / "ru" / "TJ" / "TJ-MOH.ru.xlsx"
    form, langs = form_of(blank, d)
    answers = sample_answers(form, langs, __import__("random").Random(2))
    answers["DRUGS.priority"] = "высокий"
    ingest([fill_workbook(blank, answers, tmp_path / "TJ-MOH.xlsx")], ws)
    assert cli("feedback").exit_code == 0
    target = feedback_of(ws, "TJ", "MOH", "ru")
    wb = openpyxl.load_workbook(target)
    assert wb.worksheets[0].title == "Исправления" and wb.worksheets[0]["A1"].value == "Требуются исправления"
    (note,) = [n for _i, _p, _v, n in marked(target).values()]
    assert note.startswith("Ответ 'высокий' недопустим.") and "Expected" not in note
    text = target.with_suffix(".txt").read_text(encoding="utf-8")
    assert "Уважаемые коллеги" in text and "Dear colleagues" in text  # the form's language, and English
    russian = target.read_bytes()
    assert cli("feedback", "--lang", "en").exit_code == 0
    (note,) = [n for _i, _p, _v, n in marked(feedback_of(ws, "TJ", "MOH", "en")).values()]
    assert note.startswith("The answer 'высокий' is not valid.")
    assert target.read_bytes() == russian  # the English feedback is written beside the Russian one
    assert cli("feedback", "--lang", "xx").exit_code == 2


def test_workspace_wording_is_used_and_validated(ws, cli, make_return):
    own = ws.definitions_dir / "feedback.yaml"
    assert own.exists()  # init copied it with the other definitions
    own.write_text(
        own.read_text(encoding="utf-8").replace(
            'sheet_title: {en: "Corrections needed"', 'sheet_title: {en: "Please correct"'
        ),
        encoding="utf-8",
    )
    ingest([make_return("KZ", "MFA", {"TOC.priority": "high"})], ws)
    assert cli("feedback").exit_code == 0
    wb = openpyxl.load_workbook(feedback_of(ws, "KZ", "MFA"))
    assert wb.worksheets[0]["A1"].value == "Please correct / Требуются исправления"
    assert cli("validate").exit_code == 0
    own.write_text(own.read_text(encoding="utf-8").replace('ru: "Требуются исправления"}', "}"), encoding="utf-8")
    result = cli("validate")
    assert result.exit_code == 1
    assert "feedback.yaml:" in result.stdout and "message 'sheet_title' has no 'ru' text" in result.stdout
    own.unlink()  # a workspace made before feedback.yaml existed: the bundled wording is used
    assert cli("feedback").exit_code == 0
    wb = openpyxl.load_workbook(feedback_of(ws, "KZ", "MFA"))
    assert wb.worksheets[0]["A1"].value == "Corrections needed / Требуются исправления"


@pytest.mark.parametrize("version", range(2, SCHEMA_VERSION))
def test_an_older_store_gains_the_feedback_table(tmp_path, version):
    path = tmp_path / "consult.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        conn.executescript(script)
    conn.execute(f"PRAGMA user_version={version}")
    conn.execute(
        "INSERT INTO returns (file_name, sha256, size, received_at, status) "
        "VALUES ('a.xlsx', 'x', 1, '2020', 'rejected')"
    )
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.feedback() == []
        store.record_feedback("2020-09-01T00:00:00+00:00", 1, "KZ", "MFA", "f.xlsx", 2)
        assert [(f.return_id, f.problems) for f in store.feedback()] == [(1, 2)]
        assert [r.file_name for r in store.returns()] == ["a.xlsx"]
        assert store.integrity_ok()


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_resave_of_the_feedback_workbook_still_ingests(ws, cli, make_return, tmp_path):
    path = make_return("KZ", "MFA", {"TOC.priority": "high"}, drop=["DRUGS.priority"])
    ingest([path], ws)
    assert cli("feedback").exit_code == 0
    target = feedback_of(ws, "KZ", "MFA")
    fixed = correct(target)
    out = tmp_path / "lo"
    for source in (target, fixed):
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(source)],
            check=True,
            capture_output=True,
            timeout=180,
            env={**__import__("os").environ, "HOME": str(tmp_path)},
        )
    resaved = read(out / target.name, ws)
    assert sorted((f.code, f.question) for f in resaved.errors + resaved.missing) == [
        ("invalid-value", "TOC.priority"),
        ("missing-answer", "DRUGS.priority"),
    ]
    result = ingest([out / fixed.name], ws)[0]
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing]
    with open_store(ws) as store:
        assert [r.status for r in store.returns()] == ["rejected", "accepted"]


def test_formulas_and_duplicated_rows_are_marked_and_resolved(ws, cli, make_return):
    path = make_return("KZ", "MFA", {"staff": "=40+2"})
    wb = openpyxl.load_workbook(path)  # a row copied: the same question twice, the copy answered otherwise
    sheet = next(s for s in wb.worksheets if any(c.value == "TOC.priority" for c in s["A"]))
    row = next(c.row for c in sheet["A"] if c.value == "TOC.priority")
    first = sheet.cell(row=row, column=6).value
    sheet.protection.sheet = False
    sheet.insert_rows(row + 1)
    for col in range(1, 7):
        sheet.cell(row=row + 1, column=col).value = sheet.cell(row=row, column=col).value
    sheet.cell(row=row + 1, column=6).value = "1 - Not a priority / 1 - Не является приоритетом"
    wb.save(path)
    assert {f.code for f in ingest([path], ws)[0].errors} == {"formula", "duplicate-answer"}
    assert cli("feedback").exit_code == 0
    target = feedback_of(ws, "KZ", "MFA")
    marks = {iid: (value, note) for iid, _p, value, note in marked(target).values()}
    assert set(marks) == {"staff", "TOC.priority"}
    assert marks["staff"][0] == "=40+2" and "The cell holds a formula ('=40+2')" in marks["staff"][1]
    assert marks["TOC.priority"][0] == first  # the first answer kept, the copy named in the note
    assert "answered twice" in marks["TOC.priority"][1] and "ответили дважды" in marks["TOC.priority"][1]
    fixed = correct(target, {"TOC.priority": first})
    result = ingest([fixed], ws)[0]
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing]


def test_a_second_programme_in_a_third_language_needs_no_code(tmp_path, runner):
    from consult.cli import app

    root = tmp_path / "other"
    other = Path(__file__).parent / "data" / "otherprog"
    assert runner.invoke(app, ["init", str(root), "--definitions", str(other), "-c", "UZ"]).exit_code == 0
    ws = open_workspace(root)
    from consult.forms.writer import generate

    generate(ws.definition, ws, [("UZ", "MINENV")], root / "forms", ["uz", "ru"])
    blank = root / "forms" / "UZ" / "UZ-MINENV.uz-ru.xlsx"
    form, langs = form_of(blank, ws.definition)
    answers = sample_answers(form, langs, __import__("random").Random(1), definition=ws.definition)
    rated = next(i for i in form.items if i.role == "area_priority")
    answers[rated.id] = "juda muhim"
    ingest([fill_workbook(blank, answers, tmp_path / "UZ-MINENV.uz-ru.xlsx")], ws)
    result = runner.invoke(app, ["-w", str(root), "feedback", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (done,) = json.loads(result.stdout)
    assert done["kind"] == "corrections" and [p["code"] for p in done["problems"]] == ["invalid-value"]
    assert set(done["problems"][0]["what"]) == {"uz", "ru"}  # uz: English where feedback.yaml has no uz text
    note = Path(done["note"]).read_text(encoding="utf-8")
    assert note.count("Dear colleagues") == 1 and "Уважаемые коллеги" in note
    choice = display(rated, rated.choices[0].code, langs)
    fixed = correct(Path(done["path"]), {rated.id: choice}, ws.definition)
    assert ingest([fixed], ws)[0].status == "accepted"


def test_corrections_are_due_by_a_date_ahead():
    from consult.feedback.note import feedback_due

    today = dt.date(2026, 12, 4)
    assert feedback_due("2020-09-30", today) == "2026-12-18"  # past: two weeks from today
    assert feedback_due("2027-01-15", today) == "2027-01-15"  # ahead: the round's own deadline
    assert feedback_due(None, today) is None
