"""`consult ingest`: real generated workbooks, filled carefully and carelessly, then checked
for what the store holds afterwards, not only for exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from consult.errors import CATALOGUE
from consult.forms.layout import META_SHEET
from consult.intake.ingest import ingest
from consult.store import Store
from consult.workspace import Workspace


def stored(ws: Workspace) -> tuple[list, dict[int, dict[str, object]]]:
    with Store(ws.db_path) as store:
        rows = store.returns()
        answers: dict[int, dict[str, object]] = {}
        for a in store.answers([r.id for r in rows]):
            answers.setdefault(a.return_id, {})[a.item_id] = a.value
    return rows, answers


def cell_of(path: Path, item: str, part: str | None = None) -> tuple[str, str]:
    """(sheet, cell) of an item's answer, found the way ingest finds it: by hidden id."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        for ws in wb.worksheets:
            if ws.title.startswith("_"):
                continue
            for r, row in enumerate(ws.iter_rows(max_col=2, values_only=True), start=1):
                if row and row[0] == item and (row[1] == part or (part is None and row[1] is None)):
                    return ws.title, f"F{r}"
    finally:
        wb.close()
    raise AssertionError(f"{item} not found")


def test_complete_return_is_accepted_and_stored(workspace, make_return):
    path = make_return(
        "KZ",
        "MOH",
        {
            "DRUGS.priority": "5 - Top priority / 5 - Наивысший приоритет",
            "contact_name": "Aigerim PERSONAL-MARKER",
            "DRUGS.assistance#equipment": "Yes / Да",
        },
    )
    [result] = ingest([path], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing]
    rows, answers = stored(workspace)
    assert [(r.country, r.institution, r.status, r.sha256) for r in rows] == [("KZ", "MOH", "accepted", result.sha256)]
    mine = answers[rows[0].id]
    assert mine["DRUGS.priority"] == "5"
    assert "equipment" in mine["DRUGS.assistance"]
    assert len(mine["top5"]) == 5 and all(c.count(".") == 1 for c in mine["top5"])
    # personal data is kept apart, never among answers
    assert "contact_name" not in mine
    with Store(workspace.db_path) as store:
        assert store.respondent(rows[0].id)["contact_name"] == "Aigerim PERSONAL-MARKER"


def test_half_filled_return_is_incomplete_with_the_missing_listed(workspace, make_return):
    path = make_return("KZ", "CUSTOMS", drop=["TOC.priority", "emerging", "top5", "contact_email"])
    [result] = ingest([path], workspace)
    assert result.status == "incomplete"
    assert {f.question for f in result.missing} == {"TOC.priority", "emerging", "top5", "contact_email"}
    sheet, cell = cell_of(path, "TOC.priority")
    assert any(f.question == "TOC.priority" and f.sheet == sheet and f.cell == cell for f in result.missing)
    rows, answers = stored(workspace)
    assert rows[0].status == "incomplete"
    assert {m.question for m in rows[0].missing} == {"TOC.priority", "emerging", "top5", "contact_email"}
    assert "TOC.priority" not in answers[rows[0].id] and "TOC.challenges" in answers[rows[0].id]


def test_strict_rejects_incomplete(workspace, make_return):
    path = make_return("KZ", "CUSTOMS", drop=["emerging"])
    [result] = ingest([path], workspace, strict=True)
    assert result.status == "rejected"
    rows, answers = stored(workspace)
    assert rows[0].status == "rejected" and answers == {}


def test_every_invalid_value_is_reported_and_nothing_stored(workspace, make_return):
    bad = {
        "TOC.priority": "7",
        "sc_inclusion": "Maybe",
        "staff": "about twenty",
        "date": "31/31/2020",
        "TOC.challenges": "x" * 5000,
        "TOC.assistance#capacity": "perhaps",
        "top5#1": "Not a component",
    }
    path = make_return("KZ", "CUSTOMS", bad)
    [result] = ingest([path], workspace)
    assert result.status == "rejected"
    found = {f.question: f for f in result.errors}
    assert set(found) == set(bad) - {"TOC.assistance#capacity", "top5#1"} | {"TOC.assistance", "top5"}
    sheet, cell = cell_of(path, "TOC.priority")
    f = found["TOC.priority"]
    assert (f.sheet, f.cell) == (sheet, cell)
    assert (
        str(f)
        == f"{path.name}: '{sheet}'!{cell} (TOC.priority): found '7', expected a rating from 1 to 5 or 'Not applicable'"
        or str(f)
        == f"{path.name}: {sheet}!{cell} (TOC.priority): found '7', expected a rating from 1 to 5 or 'Not applicable'"
    )
    assert "expected a number" in found["staff"].message
    assert "expected a date" in found["date"].message
    assert "at most 4000 characters" in found["TOC.challenges"].message
    assert "'Yes' or an empty cell" in found["TOC.assistance"].message
    assert found["top5"].cell == cell_of(path, "top5", "1")[1]
    rows, answers = stored(workspace)
    assert [r.status for r in rows] == ["rejected"]
    assert answers == {}  # nothing of a rejected return is stored
    assert len(rows[0].errors) == len(result.errors)


def test_rank_duplicates_and_components_not_asked_are_invalid(workspace, make_return):
    # MOE is not asked about container control; choosing it, and choosing a component twice, are errors
    path = make_return("KZ", "MOE", {"top5#1": "TOC.container", "top5#3": "top5-dup"}, name="moe.xlsx")
    wb = openpyxl.load_workbook(path)
    # make slot 3 repeat slot 2, as a careless respondent copying a cell would
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=4):
            if row[0].value == "top5" and row[1].value == "2":
                second = row[5].value
            if row[0].value == "top5" and row[1].value == "3":
                row[5].value = second
    wb.save(path)
    [result] = ingest([path], workspace)
    messages = [f.message for f in result.errors if f.question == "top5"]
    assert len(messages) == 2
    assert any("expected one of" in m for m in messages)
    assert any("not already chosen" in m for m in messages)


def test_russian_labels_codes_and_sloppy_typing_are_accepted(workspace, make_return):
    path = make_return(
        "KG",
        "MOH",
        {
            "DRUGS.priority": "  высокий ПРИОРИТЕТ ",
            "DRUGS.component.treatment": "5",
            "DRUGS.component.hiv": 4.0,
            "DRUGS.component.overdose": "не применимо",
            "sc_inclusion": "поддерживаем",
            "DRUGS.assistance#research": "да",
            "staff": "1 200",
            "date": "15.08.2020",
        },
    )
    [result] = ingest([path], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors]
    _, answers = stored(workspace)
    mine = answers[result.return_id]
    assert mine["DRUGS.priority"] == "4"
    assert mine["DRUGS.component.treatment"] == "5"
    assert mine["DRUGS.component.hiv"] == "4"
    assert mine["DRUGS.component.overdose"] == "na"
    assert mine["sc_inclusion"] == "support"
    assert "research" in mine["DRUGS.assistance"]
    assert mine["staff"] == 1200
    assert mine["date"] == "2020-08-15"


def test_inserted_and_resorted_rows_do_not_scramble_answers(workspace, make_return):
    path = make_return(
        "TJ",
        "DCA",
        {
            "DRUGS.priority": "2 - Low priority / 2 - Низкий приоритет",
            "DRUGS.component.precursors": "5 - Top priority / 5 - Наивысший приоритет",
        },
    )
    wb = openpyxl.load_workbook(path)
    sheet, _ = cell_of(path, "DRUGS.priority")
    ws = wb[sheet]
    ws.protection.sheet = False
    ws.insert_rows(5, amount=2)  # a respondent adds rows for notes
    ws.cell(row=5, column=4, value="our note")
    # ... and sorts the rows backwards (answers move with their hidden ids)
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4, max_row=ws.max_row)]
    for offset, values in enumerate(reversed(rows)):
        for col, value in enumerate(values, start=1):
            ws.cell(row=4 + offset, column=col).value = value  # value=None would not clear
    wb.save(path)
    [result] = ingest([path], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing]
    _, answers = stored(workspace)
    assert answers[result.return_id]["DRUGS.priority"] == "2"
    assert answers[result.return_id]["DRUGS.component.precursors"] == "5"


def test_deleted_metadata_sheet_is_rejected(workspace, make_return):
    path = make_return("KZ", "MFA")
    wb = openpyxl.load_workbook(path)
    del wb[META_SHEET]
    wb.save(path)
    [result] = ingest([path], workspace)
    assert result.status == "rejected"
    assert [f.code for f in result.errors] == ["no-metadata"]
    assert "freshly generated workbook" in result.errors[0].fix
    rows, answers = stored(workspace)
    assert [r.status for r in rows] == ["rejected"] and answers == {}


def test_edited_metadata_is_rejected(workspace, make_return):
    path = make_return("KZ", "MFA")
    wb = openpyxl.load_workbook(path)
    meta = wb[META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == "country":
            row[1].value = "KG"  # pretending to be another country's return
    wb.save(path)
    [result] = ingest([path], workspace)
    assert [f.code for f in result.errors] == ["seal-forged"]  # relabelled without the key: the seal says so


def test_return_from_another_round_is_rejected(workspace, make_return, tmp_path):
    path = make_return("KZ", "MFA")
    other = Workspace(
        root=tmp_path / "other",
        round="2019-round",
        countries=workspace.countries,
        institutions=workspace.institutions,
        configured=True,
    )
    [result] = ingest([path], other)
    assert [f.code for f in result.errors] == ["wrong-round"]
    assert result.errors[0].message == CATALOGUE["wrong-round"][0].format(found="test-round", expected="2019-round")


def test_non_xlsx_truncated_and_empty_files_are_reported_cleanly(workspace, make_return, tmp_path):
    good = make_return("KZ", "MFA")
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "letter.xlsx").write_text("Dear colleagues, please find attached...", encoding="utf-8")
    (folder / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    data = good.read_bytes()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    (folder / "empty.xlsx").write_bytes(b"")
    results = {r.file: r for r in ingest([folder], workspace)}
    assert {n: r.status for n, r in results.items()} == dict.fromkeys(
        ["empty.xlsx", "letter.xlsx", "old.xlsx", "truncated.xlsx"], "rejected"
    )
    assert all([f.code for f in r.errors] == ["not-xlsx"] for r in results.values())
    assert "old .xls" in results["old.xlsx"].errors[0].message
    assert "damaged or truncated" in results["truncated.xlsx"].errors[0].message
    rows, answers = stored(workspace)
    assert len(rows) == 4 and answers == {}


def test_zip_bomb_is_refused_before_parsing(workspace, make_return, tmp_path):
    good = make_return("KZ", "MFA")
    bomb = tmp_path / "bomb.xlsx"
    shutil.copy(good, bomb)
    with (
        zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("xl/media/big.bin", "w", force_zip64=True) as fh,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(260):  # 260 MB of zeros, a few hundred KB packed
            fh.write(chunk)
    assert bomb.stat().st_size < 2_000_000
    [result] = ingest([bomb], workspace)
    assert [f.code for f in result.errors] == ["zip-bomb"]


def test_size_limit(workspace, make_return):
    path = make_return("KZ", "MFA")
    [result] = ingest([path], workspace, max_size=1000)
    assert [f.code for f in result.errors] == ["too-large"]


def test_same_file_twice_is_a_no_op(workspace, make_return):
    path = make_return("KZ", "MFA")
    first = ingest([path], workspace)[0]
    copy = path.with_name("copy-of-return.xlsx")
    shutil.copy(path, copy)
    second = ingest([path, copy], workspace)
    assert first.status == "accepted"
    assert [r.status for r in second] == ["duplicate", "duplicate"]
    assert all(r.duplicate_of == first.return_id for r in second)
    rows, _ = stored(workspace)
    assert len(rows) == 1


def test_a_stored_file_is_not_read_again_unless_it_was_rejected(workspace, make_return, monkeypatch):
    """One word and one rule: bytes the store holds are "already ingested" whatever their
    verdict, found by their hash; only a rejected file is read again, since it may read
    differently now (its country added to consult.yaml)."""
    import consult.intake.parallel as module  # where the files are read

    good = make_return("KZ", "MFA")
    bad = make_return("KZ", "MOJ", {"JUSTICE.priority": "9"})
    first = {r.file: r for r in ingest([good, bad], workspace, workers=1)}
    read: list[str] = []
    real = module.read_return
    monkeypatch.setattr(module, "read_return", lambda path, *a, **k: read.append(path.name) or real(path, *a, **k))
    again = {r.file: r for r in ingest([good, bad], workspace, workers=1)}
    assert read == [bad.name]  # the accepted file was recognised by its hash alone
    assert {name: (r.status, r.duplicate_of) for name, r in again.items()} == {
        good.name: ("duplicate", first[good.name].return_id),
        bad.name: ("duplicate", first[bad.name].return_id),
    }
    assert all(r.ok for r in again.values())
    rows, _ = stored(workspace)
    assert len(rows) == 2


def test_newer_return_supersedes_older(workspace, make_return):
    old = make_return("KZ", "GPO", {"JUSTICE.priority": "2"}, seed=1)
    new = make_return("KZ", "GPO", {"JUSTICE.priority": "5"}, seed=2)
    r1 = ingest([old], workspace)[0]
    r2 = ingest([new], workspace)[0]
    assert r2.superseded == [r1.return_id]
    rows, answers = stored(workspace)
    by_id = {r.id: r for r in rows}
    assert by_id[r1.return_id].status == "superseded" and by_id[r1.return_id].superseded_by == r2.return_id
    assert by_id[r2.return_id].status == "accepted"
    with Store(workspace.db_path) as store:
        current = store.returns(current_only=True)
    assert [r.id for r in current] == [r2.return_id]
    assert answers[r1.return_id]["JUSTICE.priority"] == "2"  # kept for the record


def test_formula_without_cached_value_is_reported(workspace, make_return):
    path = make_return("KZ", "MFA", {"staff": "=10*2"})
    [result] = ingest([path], workspace)
    assert [f.code for f in result.errors] == ["formula"]
    assert result.errors[0].question == "staff"


def test_dry_run_stores_nothing(workspace, make_return):
    path = make_return("KZ", "MFA")
    [result] = ingest([path], workspace, dry_run=True)
    assert result.status == "accepted"
    rows, _ = stored(workspace)
    assert rows == []


def test_cli_ingest_table_json_and_exit_codes(cli, make_return, workspace):
    good = make_return("KZ", "MFA")
    bad = make_return("KZ", "MOJ", {"JUSTICE.priority": "9"})
    result = cli("ingest", str(good))
    assert result.exit_code == 0
    assert "accepted" in result.stdout
    result = cli("ingest", "--json", str(good), str(bad))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [d["status"] for d in data] == ["duplicate", "rejected"]
    assert data[1]["errors"][0]["question"] == "JUSTICE.priority"
    # a rejected return's screen output lists every problem, its missing answers too (as --json does)
    both = make_return("KZ", "MOH", {"JUSTICE.priority": "9"}, drop=["emerging"], seed=3)
    result = cli("ingest", str(both))
    assert result.exit_code == 1
    _sheet, cell = cell_of(both, "JUSTICE.priority")
    assert f"{cell} (JUSTICE.priority): found '9'" in result.stdout
    assert "(emerging)" in result.stdout and "1 error(s), 1 missing" in result.stdout
    # the same files again: one word and one rule whatever their verdict then, no problem listed twice
    result = cli("ingest", str(good), str(bad))
    assert result.exit_code == 0
    assert result.stdout.count("already ingested") == 2 and "found '9'" not in result.stdout
    assert re.search(r"as #\d+, rejected", result.stdout)
    assert result.stderr.strip().endswith("2 already ingested")


def test_status_and_returns_commands(cli, make_return, workspace):
    ingest([make_return("KZ", "MFA"), make_return("KZ", "MOH", drop=["emerging"])], workspace)
    result = cli("status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    kz = data["countries"]["KZ"]
    assert (kz["accepted"], kz["incomplete"], kz["invited"]) == (1, 1, len(workspace.invited_for("KZ")))
    assert kz["institutions"]["MFA"]["status"] == "accepted"
    assert kz["institutions"]["MOJ"]["status"] == "missing"
    assert data["countries"]["KG"]["missing"] == len(workspace.invited_for("KG"))
    table = cli("status")
    assert table.exit_code == 0 and "KZ" in table.stdout
    listing = json.loads(cli("returns", "--json").stdout)
    assert [r["institution"] for r in listing] == ["MFA", "MOH"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_long_format_neutralises_formulas(cli, make_return, workspace, tmp_path, fmt):
    path = make_return("KZ", "MFA", {"contact_name": "SECRET-NAME"})
    wb = openpyxl.load_workbook(path)
    sheet, ref = cell_of(path, "emerging")
    wb[sheet][ref].value = '=HYPERLINK("http://evil")'
    wb[sheet][ref].data_type = "s"  # text that looks like a formula, as typed after an apostrophe
    wb.save(path)
    [result] = ingest([path], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors]
    target = tmp_path / f"answers.{fmt}"
    result = cli("export", "--format", fmt, "--out", str(target))
    assert result.exit_code == 0, result.stdout
    if fmt == "csv":
        text = target.read_text(encoding="utf-8-sig")
        lines = text.splitlines()
        assert lines[0] == "country,institution,return_id,question_id,area,component,position,value,label,question"
        assert "'=HYPERLINK" in text
    else:
        wb = openpyxl.load_workbook(target)
        values = [c.value for row in wb.active.iter_rows() for c in row]
        assert '\'=HYPERLINK("http://evil")' in values
        text = " ".join(str(v) for v in values)
    assert "SECRET-NAME" not in text
    assert "TOC.priority" in text or "DRUGS.priority" in text


def _spawn_ingest(ws: Workspace, folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "consult",
            "--workspace",
            str(ws.root),
            "ingest",
            "--workers",
            "1",
            "--json",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _consistent(ws: Workspace) -> tuple[int, int]:
    conn = sqlite3.connect(ws.db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = conn.execute("SELECT COUNT(*) FROM answers WHERE return_id NOT IN (SELECT id FROM returns)")
        assert orphans.fetchone()[0] == 0
        # every accepted return has all of its answers: none was half-written
        counts = conn.execute(
            "SELECT r.id, COUNT(a.item_id) FROM returns r LEFT JOIN answers a ON a.return_id = r.id "
            "WHERE r.status = 'accepted' GROUP BY r.id"
        ).fetchall()
        assert all(n > 20 for _, n in counts), counts
        total = conn.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
        dupes = conn.execute("SELECT COUNT(*) - COUNT(DISTINCT sha256) FROM returns").fetchone()[0]
        return total, dupes
    finally:
        conn.close()


@pytest.mark.slow
def test_ingest_killed_mid_run_leaves_store_consistent(workspace, make_return, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i, inst in enumerate(workspace.invited_for("KZ") + workspace.invited_for("KG")):
        country = "KZ" if i < len(workspace.invited_for("KZ")) else "KG"
        shutil.copy(make_return(country, inst, seed=i), folder / f"{i:02d}.xlsx")
    n_files = len(list(folder.glob("*.xlsx")))
    proc = _spawn_ingest(workspace, folder)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some, not all, returns are committed
        if workspace.db_path.exists():
            try:
                total, _ = _consistent(workspace)
            except (sqlite3.OperationalError, AssertionError):
                total = 0
            if total >= 2:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    total, dupes = _consistent(workspace)
    assert 0 < total < n_files and dupes == 0
    # running again completes the job without duplicates
    results = ingest([folder], workspace)
    assert {r.status for r in results} <= {"accepted", "duplicate"}
    total, dupes = _consistent(workspace)
    assert total == n_files and dupes == 0


@pytest.mark.slow
def test_two_concurrent_ingests_do_not_corrupt(workspace, make_return, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    for i, inst in enumerate(workspace.invited_for("TJ")):
        shutil.copy(make_return("TJ", inst, seed=i), folder / f"{i:02d}.xlsx")
    procs = [_spawn_ingest(workspace, folder) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=120) in (0, 1)
    total, dupes = _consistent(workspace)
    assert total == len(workspace.invited_for("TJ")) and dupes == 0


def _rewrite_member(src: Path, dst: Path, member_suffix: str, payload: bytes) -> str:
    """Copy a workbook, replacing the first zip member ending with ``member_suffix``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        target = next(n for n in zin.namelist() if n.endswith(member_suffix))
        for info in zin.infolist():
            zout.writestr(info, payload if info.filename == target else zin.read(info.filename))
    return target


def test_damaged_sheet_xml_and_entity_bombs_are_rejected_cleanly(workspace, make_return, tmp_path):
    good = make_return("KZ", "MFA")
    garbage = tmp_path / "garbage.xlsx"
    _rewrite_member(good, garbage, "worksheets/sheet3.xml", b"<worksheet><sheetData><row>")
    laughs = tmp_path / "laughs.xlsx"
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
    )
    _rewrite_member(good, laughs, "worksheets/sheet3.xml", bomb)
    results = {r.file: r for r in ingest([garbage, laughs, good], workspace)}
    for name in ("garbage.xlsx", "laughs.xlsx"):
        assert results[name].status == "rejected"
        assert [f.code for f in results[name].errors] == ["not-xlsx"], [str(f) for f in results[name].errors]
        assert "cannot be read" in results[name].errors[0].message or "damaged" in results[name].errors[0].message
    assert "EntitiesForbidden" in results["laughs.xlsx"].errors[0].message  # defusedxml refused the entities
    assert results[good.name].status == "accepted"  # one bad file does not stop the run


def test_formula_with_saved_value_uses_the_value(workspace, make_return, tmp_path):
    """Excel saves a formula's last result; ingest takes that result and never evaluates."""
    path = make_return("KZ", "MFA", {"staff": 7})
    sheet, ref = cell_of(path, "staff")
    index = openpyxl.load_workbook(path, read_only=True).sheetnames.index(sheet) + 1  # openpyxl writes sheetN.xml
    member = f"worksheets/sheet{index}.xml"
    with zipfile.ZipFile(path) as zf:
        xml = zf.read(f"xl/{member}").decode()
    start = xml.index(f'<c r="{ref}"')
    end = xml.index("</c>", start) + len("</c>")
    formula_cell = f'<c r="{ref}" t="n"><f>SUM(20,22)</f><v>42</v></c>'
    target = tmp_path / "formula.xlsx"
    _rewrite_member(path, target, member, (xml[:start] + formula_cell + xml[end:]).encode())
    [result] = ingest([target], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors]
    _, answers = stored(workspace)
    assert answers[result.return_id]["staff"] == 42


def test_russian_only_workbook(cli, workspace, tmp_path):
    out = tmp_path / "ru"
    assert cli("generate", "-c", "KZ", "-i", "MOE", "--lang", "ru", "--out", str(out)).exit_code == 0
    from consult.definitions import bundled_definition
    from consult.example.filler import fill_workbook, form_of, sample_answers

    blank = out / "KZ" / "KZ-MOE.ru.xlsx"
    form, langs = form_of(blank, bundled_definition())
    assert langs == ["ru"]
    import random

    answers = sample_answers(form, langs, random.Random(3))
    answers["DRUGS.priority"] = "5 - Наивысший приоритет"
    path = fill_workbook(blank, answers, tmp_path / "ru-return.xlsx")
    [result] = ingest([path], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing]
    _, stored_answers = stored(workspace)
    assert stored_answers[result.return_id]["DRUGS.priority"] == "5"


def test_deleted_row_counts_as_blank_with_a_warning(workspace, make_return):
    path = make_return("KZ", "MFA")
    sheet, ref = cell_of(path, "emerging")
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    ws.protection.sheet = False
    ws.delete_rows(int(ref[1:]))
    wb.save(path)
    [result] = ingest([path], workspace)
    assert result.status == "incomplete"
    assert [f.question for f in result.missing] == ["emerging"]
    assert any(f.code == "row-deleted" and f.question == "emerging" for f in result.warnings)


def test_macro_enabled_copy_is_read_without_running_macros(workspace, make_return, tmp_path):
    """A return saved as .xlsm: the answers are read, the VBA project is neither run nor kept."""
    good = make_return("KZ", "MFA")
    xlsm = tmp_path / "KZ-MFA.xlsm"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "AutoOpen"\nShell "calc.exe"')
    [result] = ingest([xlsm], workspace)
    assert result.file == "KZ-MFA.xlsm" and result.status == "accepted", [str(f) for f in result.errors]
    rows, answers = stored(workspace)
    assert rows[0].file_name == "KZ-MFA.xlsm" and answers[rows[0].id]
