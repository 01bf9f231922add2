"""The store: which return is current (by date, not by arrival), returns for a country outside
the round, store faults as clear errors with nothing half-written, and read-only workspaces."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from consult.definitions import bundled_definition
from consult.errors import CATALOGUE
from consult.example.filler import fill_workbook, form_of, sample_answers
from consult.forms.writer import generate
from consult.intake.ingest import ingest
from consult.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError
from consult.workspace import Workspace, open_store

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_permissions = pytest.mark.skipif(AS_ROOT, reason="root ignores file permissions")


def set_saved_time(path: Path, when: str) -> Path:
    """Rewrite docProps/core.xml ``dcterms:modified``, as another save by Excel would."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(<)", rf"\g<1>{when}\g<2>", data.decode())
                assert when in text
                data = text.encode()
            out.writestr(info, data)
    path.write_bytes(buf.getvalue())
    return path


def rows_of(ws: Workspace) -> dict[str, Any]:
    with Store(ws.db_path) as store:
        return {r.file_name: r for r in store.returns()}


# --- item 3: which return is current ------------------------------------------------------


def test_newer_by_respondent_date_stays_current_when_older_file_arrives_later(workspace, make_return, cli):
    newer = make_return("KZ", "MFA", {"date": "2020-09-20", "TOC.priority": "5"}, name="KZ-MFA (2).xlsx")
    older = make_return("KZ", "MFA", {"date": "2020-09-01", "TOC.priority": "1"}, name="KZ-MFA.xlsx")
    results = ingest([newer.parent], workspace)  # alphabetical: "KZ-MFA (2).xlsx" comes first
    assert [r.file for r in results] == ["KZ-MFA (2).xlsx", "KZ-MFA.xlsx"]
    first, second = results
    assert second.status == "accepted" and second.superseded == []
    assert second.superseded_by == first.return_id
    assert second.why == "completed 2020-09-20 after 2020-09-01"
    rows = rows_of(workspace)
    assert rows["KZ-MFA (2).xlsx"].status == "accepted"
    assert rows["KZ-MFA.xlsx"].status == "superseded"
    assert rows["KZ-MFA.xlsx"].superseded_by == first.return_id
    assert rows["KZ-MFA.xlsx"].respondent_date == "2020-09-01"
    with open_store(workspace) as store:
        cur = store.returns(current_only=True)
        assert [r.file_name for r in cur] == ["KZ-MFA (2).xlsx"]
        assert {a.item_id: a.value for a in store.answers([cur[0].id])}["TOC.priority"] == "5"
    listing = cli("returns", "--json")
    assert listing.exit_code == 0
    why = {d["file_name"]: d["why"] for d in json.loads(listing.stdout)}
    assert why["KZ-MFA.xlsx"] == f"#{first.return_id} is newer: completed 2020-09-20 after 2020-09-01"
    assert why["KZ-MFA (2).xlsx"] == "newest of 2: completed 2020-09-20 after 2020-09-01"
    table = cli("returns").stdout
    assert f"#{second.return_id} KZ-MFA.xlsx: superseded: #{first.return_id} is newer: completed 2020-09-20" in table
    ingest_table = cli("ingest", str(older))
    assert "already ingested" in ingest_table.stdout


def test_ingest_says_when_an_older_file_arrives_later(workspace, make_return, cli):
    newer = make_return("KZ", "MOH", {"date": "2020-09-20"})
    older = make_return("KZ", "MOH", {"date": "2020-09-01"})
    assert cli("ingest", str(newer)).exit_code == 0
    result = cli("ingest", "--json", str(older))
    assert result.exit_code == 0  # an older file is no data error: it is kept for the record
    [data] = json.loads(result.stdout)
    assert (data["status"], data["superseded_by"], data["why"]) == (
        "accepted",
        1,
        "completed 2020-09-20 after 2020-09-01",
    )
    again = make_return("KZ", "MOH", {"date": "2020-08-01"})
    table = cli("ingest", str(again)).stdout
    assert "older than #1, which stays current" in re.sub(r"[\s│]+", " ", table)


def test_saved_time_decides_when_the_dates_are_equal_then_ingest_order(workspace, make_return):
    later = set_saved_time(make_return("KZ", "GPO", {"TOC.priority": "5"}), "2020-09-10T12:00:00Z")
    earlier = set_saved_time(make_return("KZ", "GPO", {"TOC.priority": "1"}), "2020-09-10T08:30:00Z")
    [a] = ingest([later], workspace)
    [b] = ingest([earlier], workspace)
    assert b.superseded_by == a.return_id
    assert b.why == "saved 2020-09-10 12:00 UTC after 2020-09-10 08:30 UTC"
    assert rows_of(workspace)[later.name].saved_at == "2020-09-10T12:00:00+00:00"
    # no date tells them apart: the one ingested later is current
    same1 = set_saved_time(make_return("KZ", "FIU", seed=3), "2020-09-10T08:30:00Z")
    same2 = set_saved_time(make_return("KZ", "FIU", seed=4), "2020-09-10T08:30:00Z")
    [c] = ingest([same1], workspace)
    [d] = ingest([same2], workspace)
    assert d.superseded == [c.return_id] and d.why == f"same completion date: received after #{c.return_id}"


def test_saved_time_is_read_safely(workspace, make_return):
    from consult.intake.reader import saved_time

    path = make_return("KZ", "MFA")
    assert saved_time(set_saved_time(path, "2020-09-10T08:30:00Z").read_bytes()) == "2020-09-10T08:30:00+00:00"
    assert saved_time(set_saved_time(path, "2999-01-01T00:00:00Z").read_bytes()) is None  # a wrong clock
    assert saved_time(set_saved_time(path, "yesterday").read_bytes()) is None
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("docProps/core.xml", bomb)
    assert saved_time(buf.getvalue()) is None


def v2_store(path: Path) -> None:
    """A store of schema 2 (before respondent dates and saved times), as the previous release wrote it."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    rows = [(1, "KZ-MFA.xlsx", "2020-09-20", "superseded", 2), (2, "KZ-MFA-old.xlsx", "2020-09-01", "accepted", None)]
    for rid, name, date, status, by in rows:
        conn.execute(
            "INSERT INTO returns (id, file_name, sha256, size, country, institution, round, received_at, status, "
            "superseded_by) VALUES (?, ?, ?, 1, 'KZ', 'MFA', 'test-round', '2020-10-01', ?, ?)",
            (rid, name, f"sha{rid}", status, by),
        )
        conn.execute(
            "INSERT INTO answers (return_id, item_id, type, value, question_id, role) "
            "VALUES (?, 'date', 'date', ?, 'date', 'completion_date')",
            (rid, json.dumps(date)),
        )
        conn.execute(
            "INSERT INTO answers (return_id, item_id, area, type, value, question_id, role) "
            "VALUES (?, 'TOC.priority', 'TOC', 'rating', '\"4\"', 'priority', 'area_priority')",
            (rid,),
        )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


def test_store_of_schema_2_upgrades_to_3_keeping_everything(workspace, cli):
    workspace.db_path.unlink()
    v2_store(workspace.db_path)
    result = cli("returns", "--json")  # a read command upgrades a writable store once
    assert result.exit_code == 0, result.stderr
    data = {d["id"]: d for d in json.loads(result.stdout)}
    assert {i: (d["status"], d["respondent_date"], d["saved_at"]) for i, d in data.items()} == {
        1: ("superseded", "2020-09-20", None),
        2: ("accepted", "2020-09-01", None),
    }  # statuses as they were stored: the upgrade never re-decides history
    with Store(workspace.db_path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 3
        assert len(store.answers([1, 2])) == 4
        assert store.integrity_ok()


# --- item 5: a return for a country outside the round ------------------------------------


def test_return_for_a_country_outside_the_round_is_refused_everywhere(workspace, cli, tmp_path):
    d = bundled_definition()
    outside = Workspace(root=workspace.root, round=workspace.round, institutions=workspace.institutions)
    [made] = generate(d, outside, [("UZ", "MFA")], tmp_path / "uz", ["en", "ru"])  # same key, same round
    form, langs = form_of(made.path, d)
    import random

    path = fill_workbook(made.path, sample_answers(form, langs, random.Random(1)), tmp_path / "UZ-MFA.xlsx")
    result = cli("ingest", "--json", str(path))
    assert result.exit_code == 1
    [data] = json.loads(result.stdout)
    assert data["status"] == "rejected"
    assert [e["code"] for e in data["errors"]] == ["outside-round"]
    assert data["errors"][0]["message"] == CATALOGUE["outside-round"][0].format(
        country="UZ", round=workspace.round, countries="KZ, KG, TJ"
    )
    listing = json.loads(cli("returns", "--json").stdout)
    assert [(r["country"], r["status"]) for r in listing] == [("UZ", "rejected")]
    assert "not in round" in listing[0]["why"]
    status = json.loads(cli("status", "--json").stdout)
    assert "UZ" not in status["countries"] and status["totals"]["accepted"] == 0
    assert "UZ" not in json.loads(cli("score", "--json").stdout)["countries"]
    out = tmp_path / "export.csv"
    assert cli("export", "--out", str(out)).exit_code == 0
    assert "UZ" not in out.read_text(encoding="utf-8-sig")
    with Store(workspace.db_path) as store:
        assert store.answers([r.id for r in store.returns()]) == []


# --- item 11: store faults are clear errors, nothing half-written ------------------------


def snapshot(ws: Workspace) -> list[tuple]:
    with Store(ws.db_path) as store:
        rows = store.conn.execute("SELECT id, status, superseded_by FROM returns ORDER BY id").fetchall()
        n = store.conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        assert store.integrity_ok()
    return [tuple(r) for r in rows] + [("answers", n)]


def test_disk_full_while_storing_a_return_is_a_clear_error_and_stores_nothing(workspace, make_return, cli, monkeypatch):
    first = make_return("KZ", "MFA", {"date": "2020-09-01"})
    assert cli("ingest", str(first)).exit_code == 0
    before = snapshot(workspace)
    connect = Store._connect

    def full_disk(self: Store, timeout: float) -> sqlite3.Connection:
        conn = connect(self, timeout)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full: not one more page
        return conn

    monkeypatch.setattr(Store, "_connect", full_disk)
    newer = make_return("KZ", "MFA", {"date": "2020-09-30"})
    result = cli("ingest", str(newer))
    assert result.exit_code == 1
    assert "is full" in result.stderr and "nothing of this step was stored" in result.stderr
    assert "Free some disk space" in result.stderr and "Internal error" not in result.stderr
    monkeypatch.undo()
    assert snapshot(workspace) == before  # the earlier return is still current, with all its answers


@needs_permissions
def test_read_only_store_file_is_a_clear_error_for_ingest(workspace, make_return, cli):
    os.chmod(workspace.db_path, 0o444)
    try:
        result = cli("ingest", str(make_return("KZ", "MFA")))
        assert result.exit_code == 1
        assert "is read-only: nothing was stored" in result.stderr
    finally:
        os.chmod(workspace.db_path, 0o644)


def test_writing_through_a_read_only_store_is_a_store_error(workspace):
    with Store(workspace.db_path, readonly=True) as store, pytest.raises(StoreError) as info, store.transaction() as c:
        c.execute("DELETE FROM returns")
    assert info.value.kind == "readonly" and "is read-only" in str(info.value)


@pytest.mark.parametrize("damage", ["truncated", "garbage-page", "not-a-database"])
def test_damaged_store_is_a_clear_error_in_every_command(workspace, make_return, cli, damage, tmp_path):
    for inst in ("MFA", "MOH", "GPO", "FIU"):
        assert cli("ingest", str(make_return("KZ", inst))).exit_code == 0
    data = bytearray(workspace.db_path.read_bytes())
    assert not Path(str(workspace.db_path) + "-wal").exists()  # checkpointed: the damage is in the file itself
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbage-page":
        page = int.from_bytes(data[16:18], "big")
        for start in range(page, len(data), page):
            data[start : start + 100] = b"\xa5" * 100
    else:
        data[:16] = b"definitely not  "
    workspace.db_path.write_bytes(bytes(data))
    for args in (
        ["status"],
        ["returns"],
        ["score"],
        ["export", "--out", str(tmp_path / "x.csv")],
        ["synthesize", "--all", "--out", str(tmp_path / "syn")],
        ["ingest", str(make_return("KZ", "MOJ"))],
    ):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert "is damaged" in result.stderr and "Restore it from a backup" in result.stderr, args
        assert "Internal error" not in result.stderr
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("table", ["returns", "answers", "respondents"])
def test_dropped_table_is_a_clear_error(workspace, make_return, cli, table, tmp_path):
    assert cli("ingest", str(make_return("KZ", "MFA"))).exit_code == 0
    conn = sqlite3.connect(workspace.db_path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()
    for args in (["status"], ["score"], ["export", "--out", str(tmp_path / "x.csv")], ["returns"]):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert f"is missing its table(s) {table}" in " ".join(result.stderr.split()), args
    result = cli("ingest", str(make_return("KZ", "MOH")))
    assert result.exit_code == 1 and "is missing its table(s)" in " ".join(result.stderr.split())


def test_sqlite_error_of_our_own_is_still_a_bug(workspace, cli, monkeypatch):
    def broken(self: Store, *args: Any, **kwargs: Any) -> Any:
        self.conn.execute("SELEC nonsense")

    monkeypatch.setattr(Store, "returns", broken)
    result = cli("returns")
    assert result.exit_code == 70 and "Internal error" in result.stderr


# --- item 12: a read-only workspace can be read -------------------------------------------


def files_state(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file with its time, mode and bytes. As root, permissions do not stop SQLite from
    making its shared-memory side files in a read-only folder (as any other user it cannot, and
    the store is then read as immutable): those are left out there."""
    side = ("consult.db-shm", "consult.db-wal") if AS_ROOT else ()
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_mode, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in side
    }


def make_read_only(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        os.chmod(p, mode & ~0o222)


def make_writable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        os.chmod(p, p.stat().st_mode | 0o200)


def test_read_only_copy_of_a_workspace_serves_every_read_command(workspace, make_return, runner, tmp_path):
    from consult.cli import app

    for inst in ("MFA", "MOH", "GPO"):
        assert ingest([make_return("KZ", inst)], workspace)[0].status == "accepted"
    copy = tmp_path / "shared-drive" / "ws"
    shutil.copytree(workspace.root, copy)
    assert not Path(str(copy / "consult.db") + "-wal").exists()
    make_read_only(copy)  # chmod -R a-w
    before = files_state(copy)
    try:
        outputs = {}
        for args in (
            ["status", "--json"],
            ["returns", "--json"],
            ["score", "--json"],
            ["export", "--out", str(tmp_path / "out" / "answers.csv")],
            ["synthesize", "--all", "--format", "md", "--out", str(tmp_path / "out" / "syn")],
        ):
            result = runner.invoke(app, ["-w", str(copy), *args])
            assert result.exit_code == 0, (args, result.stdout, result.stderr)
            outputs[args[0]] = result.stdout
        assert files_state(copy) == before  # nothing written: no WAL switch, no side files, no key made
        original = runner.invoke(app, ["-w", str(workspace.root), "score", "--json"])
        assert json.loads(outputs["score"]) == json.loads(original.stdout)
        assert json.loads(outputs["status"])["totals"]["accepted"] == 3
        assert (tmp_path / "out" / "syn" / "KZ-synthesis.en.md").is_file()
    finally:
        make_writable(copy)


def test_read_command_in_a_workspace_without_a_store_creates_nothing(tmp_path, runner):
    from consult.cli import app

    root = tmp_path / "empty"
    root.mkdir()
    result = runner.invoke(app, ["-w", str(root), "status", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["totals"]["accepted"] == 0
    assert list(root.iterdir()) == []


@needs_permissions
def test_read_only_copy_of_an_old_store_says_it_needs_an_upgrade(workspace, tmp_path, runner):
    from consult.cli import app

    workspace.db_path.unlink()
    v2_store(workspace.db_path)
    copy = tmp_path / "ro" / "ws"
    shutil.copytree(workspace.root, copy)
    make_read_only(copy)
    try:
        result = runner.invoke(app, ["-w", str(copy), "status"])
        assert result.exit_code == 1
        text = " ".join(result.stderr.split())
        assert "must be upgraded once before it can be read" in text and "where the workspace is writable" in text
    finally:
        make_writable(copy)


def test_full_disk_while_writing_an_export_is_a_clear_error(workspace, make_return, cli, tmp_path, monkeypatch):
    import errno

    from consult.analysis import export

    assert cli("ingest", str(make_return("KZ", "MFA"))).exit_code == 0

    def full(target: Path, *args: Any, **kwargs: Any) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(export, "write_atomic", full)
    result = cli("export", "--out", str(tmp_path / "answers.csv"))
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr and "Internal error" not in result.stderr
    assert not (tmp_path / "answers.csv").exists()


def test_a_resend_with_fewer_answers_warns_and_the_earlier_version_can_be_restored(workspace, make_return, cli):
    """Issue 12: the replace rule stands, but it is said; and `consult returns --restore` undoes it."""
    full = make_return("KZ", "MOH", {"date": "2020-08-01"}, name="KZ-MOH.xlsx")
    thin = make_return(
        "KZ", "MOH", {"date": "2020-08-20"}, drop=["DRUGS.challenges", "top5", "emerging"], name="KZ-MOH-resent.xlsx"
    )
    first, second = ingest([full], workspace)[0], ingest([thin], workspace)[0]
    assert second.superseded == [first.return_id]
    warned = [w for w in second.warnings if w.code == "fewer-answers"]
    assert warned and warned[0].params["old"] == first.return_id
    assert f"consult returns --restore {first.return_id}" in warned[0].fix
    restored = cli("returns", "--restore", str(first.return_id), "--json")
    assert restored.exit_code == 0, restored.stderr
    rows = {r["id"]: r for r in json.loads(restored.stdout)}
    assert rows[first.return_id]["status"] == "accepted" and rows[second.return_id]["status"] == "superseded"
    assert "made current again by hand" in rows[first.return_id]["why"]
    assert cli("returns", "--restore", str(first.return_id)).exit_code == 1  # already current: said, not done
    assert cli("returns", "--restore", "9999").exit_code == 1
