"""A consult.db written by release 0.1.0 (the demo's store, before answers carried question ids
and roles) upgrades in place: same returns, same answers, now with question id and role, and
the same scores as a store ingested by this release."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

from consult.analysis.scoring import score
from consult.example.builder import EXAMPLE_KEY
from consult.intake.ingest import ingest
from consult.store import SCHEMA_VERSION
from consult.workspace import create_secret, open_store, open_workspace

RELEASE = Path(__file__).parent / "data" / "release-0.1.0"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def old_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "old"
    (root / "definitions").mkdir(parents=True)
    (root / "consult.db").write_bytes(gzip.decompress((RELEASE / "consult.db.gz").read_bytes()))
    shutil.copy(RELEASE / "consult.yaml", root / "consult.yaml")
    for snapshot in RELEASE.glob("*.json"):
        shutil.copy(snapshot, root / "definitions" / snapshot.name)
    return root


def test_release_0_1_0_store_upgrades_in_place(tmp_path: Path) -> None:
    root = old_workspace(tmp_path)
    before = sqlite3.connect(root / "consult.db")
    assert before.execute("PRAGMA user_version").fetchone()[0] == 1
    old_rows = before.execute("SELECT return_id, item_id, value FROM answers ORDER BY 1, 2").fetchall()
    before.close()
    ws = open_workspace(root)
    with open_store(ws) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rows = store.conn.execute("SELECT return_id, item_id, value, question_id, role FROM answers ORDER BY 1, 2")
        upgraded = rows.fetchall()
        assert store.roles_missing() == []
        dates = {r.file_name: r.respondent_date for r in store.returns()}  # schema 3: from the completion_date role
        assert dates["KZ-MOH-v2.xlsx"] == "2020-08-23" and all(dates.values())
        assert store.integrity_ok()
    assert [r[:3] for r in upgraded] == old_rows  # nothing lost or changed
    by_item = {r[1]: (r[3], r[4]) for r in upgraded}
    assert by_item["TOC.priority"] == ("priority", "area_priority")
    assert by_item["DRUGS.component.treatment"] == ("component", "component_priority")
    assert by_item["TOC.challenges"] == ("challenges", "challenge")
    assert by_item["top5"] == ("top5", "ranking")
    assert by_item["institution_name"] == ("institution_name", "")  # no role: kept, never scored


def test_upgraded_store_scores_like_a_fresh_ingest(tmp_path: Path) -> None:
    ws_old = open_workspace(old_workspace(tmp_path))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(RELEASE / "consult.yaml", fresh / "consult.yaml")
    create_secret(fresh, secret=EXAMPLE_KEY.secret)  # the example returns are sealed with it (as in 'consult demo')
    ws_new = open_workspace(fresh)
    ingest([EXAMPLES / "returns"], ws_new)
    with open_store(ws_old) as store:
        old = score(store, ws_old)
    with open_store(ws_new) as store:
        new = score(store, ws_new)
    for code in ("KZ", "KG", "TJ"):
        a = [(x["id"], x["score"], x["n"], x["borda"]) for x in old["countries"][code]["areas"]]
        b = [(x["id"], x["score"], x["n"], x["borda"]) for x in new["countries"][code]["areas"]]
        assert a == b and any(s for _, s, _, _ in a)
