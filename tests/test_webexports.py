# ruff: noqa: F811  (the web fixture is imported from test_xlsform and named by each test)
"""Issue 19: every export a KoboToolbox or ODK Central user can make of the form is read with
every answer equal to what was submitted, or refused naming its real cause with nothing stored.
The exports are made as the servers' own export code makes them (``webexports``)."""

from __future__ import annotations

import json
import shutil

import pytest
from test_ingest import stored
from test_xlsform import expected, valid_values, web  # noqa: F401  (web is a fixture)
from typer.testing import CliRunner
from webexports import (
    form_of,
    kobo_csv,
    kobo_table,
    kobo_xlsx,
    odk_csv,
    odk_table,
    odk_zip,
    submission,
)

from consult.cli import app
from consult.definitions.questionnaire import resolve
from consult.intake.ingest import ingest
from consult.intake.submissions import is_export
from consult.intake.web.metadata import moment as _moment
from consult.workspace import Workspace, open_workspace


def current(ws: Workspace) -> dict[str, dict[str, object]]:
    """The answers that count, per stored name (channel:root id)."""
    rows, answers = stored(ws)
    return {r.file_name: answers.get(r.id, {}) for r in rows if r.status in ("accepted", "incomplete")}


def statuses(ws: Workspace) -> list[tuple[str, str]]:
    return sorted((r.file_name, r.status) for r in stored(ws)[0])


# --- every option of the two export dialogs ----------------------------------------------
KOBO_OPTIONS = [
    pytest.param(
        fmt, groups, sep, multiple, types, id=f"{fmt}-{'groups' + sep if groups else 'names'}-{multiple}{types}"
    )
    for fmt in ("csv", "xlsx")
    for groups, sep in ((False, "/"), (True, "/"), (True, "__"), (True, " > "), (False, "__"))
    for multiple in ("both", "summary", "details")
    for types in (("", "-typed") if fmt == "xlsx" else ("",))
]


@pytest.mark.parametrize(("fmt", "groups", "sep", "multiple", "types"), KOBO_OPTIONS)
def test_every_kobo_export_option_reads_every_answer(workspace, web, tmp_path, fmt, groups, sep, multiple, types):
    subs = [web["make"]("MOH", 21), web["make"]("DCA", 22, time="2020-09-11T08:00:00")]
    subs[0].values["TOC_challenges"] = "=SUM(A1) is how they wrote it"  # XlsxWriter makes it a formula
    subs[1].values["TOC_challenges"] = "n/a"  # a text answer like any other
    subs[0].values["TOC_initiatives"] = "{=an array formula to XlsxWriter}"
    subs[1].values["TOC_initiatives"] = "https://example.org/a link, to XlsxWriter"
    rows = kobo_table(web["xlsform"], subs, groups=groups, group_sep=sep, multiple_select=multiple)
    path = tmp_path / f"kobo.{fmt}"
    if fmt == "csv":
        kobo_csv(rows, path)
        assert path.read_bytes().startswith(b'"consult_version";"') and b'"\r\n"' in path.read_bytes()
    else:
        kobo_xlsx(rows, path, types_as_text=not types, xlsform=web["xlsform"])
    assert is_export(path)
    results = ingest([path], workspace)
    assert [r.status for r in results] == ["accepted", "accepted"], [str(f) for r in results for f in r.errors]
    got = current(workspace)
    for sub, inst in zip(subs, ("MOH", "DCA"), strict=True):
        assert got[f"kobo:{sub.instance}"] == expected(sub, web["definition"], inst)
    assert got[f"kobo:{subs[0].instance}"]["TOC.challenges"] == "=SUM(A1) is how they wrote it"
    assert got[f"kobo:{subs[1].instance}"]["TOC.challenges"] == "n/a"
    assert got[f"kobo:{subs[0].instance}"]["TOC.initiatives"] == "{=an array formula to XlsxWriter}"


@pytest.mark.parametrize("kind", ["csv", "zip"])
@pytest.mark.parametrize("group_paths", [True, False])
@pytest.mark.parametrize("split", [False, True])
def test_every_central_export_option_reads_every_answer(workspace, web, tmp_path, kind, group_paths, split):
    subs = [web["make"]("MOH", 23), web["make"]("MFA", 24, time="2020-09-12T08:00:00")]
    subs[0].values["TOC_challenges"] = "n/a"
    subs[1].values["TOC_challenges"] = 'a "quoted", comma\nand a second line'
    rows = odk_table(web["xlsform"], subs, group_paths=group_paths, split=split)
    assert rows[1][0] == "2020-09-12T08:00:00.000Z"  # newest first
    if kind == "csv":
        path = odk_csv(rows, tmp_path / "consult.csv")
    else:
        path = odk_zip(rows, tmp_path / "in" / "consult_test_round_KZ.zip", "consult_test_round_KZ")
    results = ingest([tmp_path / "in"] if kind == "zip" else [path], workspace)  # a .zip in a folder is found
    assert [r.status for r in results] == ["accepted", "accepted"], [str(f) for r in results for f in r.errors]
    got = current(workspace)
    assert got[f"odk:{subs[0].instance}"] == expected(subs[0], web["definition"], "MOH")
    assert got[f"odk:{subs[1].instance}"] == expected(subs[1], web["definition"], "MFA")
    assert got[f"odk:{subs[0].instance}"]["TOC.challenges"] == "n/a"


def test_a_named_central_zip_is_read_and_one_without_its_table_refused(workspace, web, tmp_path):
    sub = web["make"]("MOH", 25)
    rows = odk_table(web["xlsform"], [sub])
    good = odk_zip(rows, tmp_path / "KZ.zip", "consult_test_round_KZ")
    assert [r.status for r in ingest([good], workspace)] == ["accepted"]
    empty = odk_zip(rows, tmp_path / "media-only.zip", "consult_test_round_KZ", main=False)
    (refused,) = ingest([empty], workspace)
    assert refused.status == "rejected" and [f.code for f in refused.errors] == ["export-no-main"]
    assert "media/readme.txt" in str(refused.errors[0])
    assert len(stored(workspace)[0]) == 1  # the refused file stored nothing


# --- what was mis-read before --------------------------------------------------------------
def test_kobo_xls_after_csv_of_the_same_submissions_is_a_no_op(workspace, web, tmp_path):
    sub = web["make"]("MOH", 26)
    sub.values["TOC_initiatives"] = "=a formula? no, an answer"
    assert [r.status for r in ingest([kobo_csv(kobo_table(web["xlsform"], [sub]), tmp_path / "k.csv")], workspace)] == [
        "accepted"
    ]
    again = ingest([kobo_xlsx(kobo_table(web["xlsform"], [sub], groups=True), tmp_path / "k.xlsx")], workspace)
    assert [r.status for r in again] == ["duplicate"]
    assert current(workspace)[f"kobo:{sub.instance}"]["TOC.initiatives"] == "=a formula? no, an answer"


def test_an_unmatched_header_refuses_the_file_and_keeps_the_good_answers(workspace, web, tmp_path):
    sub = web["make"]("MOH", 27)
    ingest([kobo_csv(kobo_table(web["xlsform"], [sub]), tmp_path / "a.csv")], workspace)
    before = current(workspace)
    rows = kobo_table(web["xlsform"], [sub], groups=True, group_sep="__")
    rows[0][rows[0].index("TOC__TOC_priority")] = "TOC__TOC_prio"  # a column renamed by hand
    (result,) = ingest([kobo_csv(rows, tmp_path / "b.csv")], workspace)
    assert result.status == "rejected" and [f.code for f in result.errors] == ["export-unmatched"]
    assert "'TOC__TOC_prio'" in str(result.errors[0])
    assert current(workspace) == before


def test_labels_export_is_refused_saying_export_with_xml_values(workspace, web, tmp_path):
    sub = web["make"]("MOH", 28)
    rows = kobo_table(web["xlsform"], [sub], lang="label::English (en)")
    (result,) = ingest([kobo_csv(rows, tmp_path / "labels.csv")], workspace)
    assert result.status == "rejected" and [f.code for f in result.errors] == ["export-labels"]
    assert "XML values and headers" in result.errors[0].fix
    assert stored(workspace)[0] == []


def test_encrypted_submissions_without_passphrase_are_refused_with_that_cause(workspace, web, tmp_path):
    sub = web["make"]("MOH", 29)
    sub.status = "not decrypted"
    (result,) = ingest([odk_csv(odk_table(web["xlsform"], [sub]), tmp_path / "enc.csv")], workspace)
    assert result.status == "rejected" and [f.code for f in result.errors] == ["not-decrypted"]
    assert "passphrase" in str(result.errors[0]) and stored(workspace)[0] == []


def test_duplicated_column_is_refused_never_first_wins(workspace, web, tmp_path):
    sub = web["make"]("MOH", 30)
    rows = odk_table(web["xlsform"], [sub])
    at = rows[0].index("TOC-TOC_priority")
    rows = [[*row, row[at] if n == 0 else "1"] for n, row in enumerate(rows)]
    (result,) = ingest([odk_csv(rows, tmp_path / "dup.csv")], workspace)
    assert [f.code for f in result.errors] == ["export-duplicate-column"]
    assert "'TOC-TOC_priority' appears 2 times" in str(result.errors[0]) and stored(workspace)[0] == []


def test_a_huge_cell_refuses_its_file_only_and_nul_is_flagged_with_its_cell(workspace, web, tmp_path):
    a, b, c = web["make"]("MOH", 31), web["make"]("MFA", 32), web["make"]("DCA", 33)
    b.values["TOC_challenges"] = "x" * 140_000
    c.values["TOC_initiatives"] = "before\x00after"
    odk_csv(odk_table(web["xlsform"], [a]), tmp_path / "in" / "a.csv")
    odk_csv(odk_table(web["xlsform"], [b]), tmp_path / "in" / "b.csv")
    odk_csv(odk_table(web["xlsform"], [c]), tmp_path / "in" / "c.csv")
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "ingest", str(tmp_path / "in"), "--json"])
    assert result.exit_code == 1, result.output  # a data problem, not a crash (70)
    by_file = {r["file"]: r for r in json.loads(result.stdout)}
    assert by_file["b.csv"]["errors"][0]["code"] == "export-cell-too-large"
    assert by_file[f"odk:{a.instance}"]["status"] == "accepted"
    nul = by_file[f"odk:{c.instance}"]
    assert nul["status"] == "rejected"
    assert [(e["code"], e["cell"], e["params"]["found"]) for e in nul["errors"]] == [
        ("export-control", "TOC-TOC_initiatives", "NUL")
    ]


# --- newer is decided by content ------------------------------------------------------------
def test_central_downloads_named_x_and_x_1_give_one_store_in_any_order(workspace, web, tmp_path):
    first = web["make"]("MOH", 34)
    edited = first.edited("edit-0001", TOC_challenges="corrected on the server")
    before = odk_table(web["xlsform"], [first])  # downloaded before the edit
    after = odk_table(web["xlsform"], [edited])  # and again after it: the browser says "(1)"
    stores = []
    for n, (x, x1) in enumerate(((before, after), (after, before))):
        folder = tmp_path / f"dl{n}"
        odk_csv(x, folder / "consult_test_round_KZ.csv")
        odk_csv(x1, folder / "consult_test_round_KZ (1).csv")
        ws_root = tmp_path / f"ws{n}"
        shutil.copytree(workspace.root, ws_root)
        ws = open_workspace(ws_root)
        ingest([folder], ws)
        stores.append(current(ws))
    # and one file at a time, in both orders
    for n, order in enumerate(((before, after), (after, before))):
        ws_root = tmp_path / f"one{n}"
        shutil.copytree(workspace.root, ws_root)
        ws = open_workspace(ws_root)
        for k, rows in enumerate(order):
            ingest([odk_csv(rows, tmp_path / f"one{n}-{k}.csv")], ws)
        stores.append(current(ws))
    assert all(s == stores[0] for s in stores)
    assert stores[0][f"odk:{first.instance}"]["TOC.challenges"] == "corrected on the server"


def test_kobo_edit_with_its_root_uuid_is_newer_in_any_order(workspace, web, tmp_path):
    first = web["make"]("MFA", 35)
    edited = first.edited("kobo-edit-1", TOC_initiatives="edited in Kobo")
    old, new = kobo_table(web["xlsform"], [first]), kobo_table(web["xlsform"], [edited])
    ingest([kobo_csv(new, tmp_path / "new.csv")], workspace)
    ingest([kobo_csv(old, tmp_path / "old.csv")], workspace)  # the older export read later
    assert current(workspace)[f"kobo:{first.instance}"]["TOC.initiatives"] == "edited in Kobo"


def test_an_edit_with_fewer_answers_is_held_unless_accepted(workspace, web, tmp_path):
    sub = web["make"]("MOH", 36)
    ingest([odk_csv(odk_table(web["xlsform"], [sub]), tmp_path / "a.csv")], workspace)
    thinner = sub.edited("edit-0002", TOC_initiatives=None, TOC_challenges=None)
    path = odk_csv(odk_table(web["xlsform"], [thinner]), tmp_path / "b.csv")
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "ingest", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0].startswith("1 web submission(s) held, not applied"), result.output
    assert current(workspace)[f"odk:{sub.instance}"]["TOC.initiatives"] == sub.values["TOC_initiatives"]
    ok = CliRunner().invoke(app, ["-w", str(workspace.root), "ingest", str(path), "--accept-fewer"])
    assert "held" not in ok.stdout.splitlines()[0]
    assert "TOC.initiatives" not in current(workspace)[f"odk:{sub.instance}"]


# --- reviewers' decisions ----------------------------------------------------------------------
def test_reviewers_rejections_are_recorded_not_counted_unless_included(workspace, web, tmp_path):
    kobo_no = web["make"]("MOH", 37)
    kobo_no.review = "not_approved"
    kobo_hold = web["make"]("MFA", 38)
    kobo_hold.review = "on_hold"
    odk_no = web["make"]("DCA", 39)
    odk_no.review = "rejected"
    k = kobo_csv(kobo_table(web["xlsform"], [kobo_no, kobo_hold]), tmp_path / "k.csv")
    o = odk_csv(odk_table(web["xlsform"], [odk_no]), tmp_path / "o.csv")
    results = {r.institution: r for r in ingest([k, o], workspace)}
    assert results["MOH"].status == "rejected" and results["MOH"].errors[0].code == "review-rejected"
    assert "Not approved" in str(results["MOH"].errors[0]) or "not_approved" in str(results["MOH"].errors[0])
    assert results["DCA"].status == "rejected" and "'rejected'" in str(results["DCA"].errors[0])
    assert results["MFA"].status == "accepted" and [w.code for w in results["MFA"].warnings] == ["review-doubt"]
    assert set(current(workspace)) == {f"kobo:{kobo_hold.instance}"}
    listed = CliRunner().invoke(app, ["-w", str(workspace.root), "returns"])
    assert "rejected" in listed.stdout
    again = ingest([k, o], workspace, include_rejected=True)
    assert {r.institution: r.status for r in again} == {"MOH": "accepted", "MFA": "duplicate", "DCA": "accepted"}
    assert len(current(workspace)) == 3


# --- redeploys ---------------------------------------------------------------------------------
def test_a_submission_of_an_earlier_deployment_is_read_and_says_its_version(workspace, web, tmp_path):
    earlier = web["version"].split("-")[0] + "-0badc0de"  # the same questionnaire, another invited list
    sub = web["make"]("MOH", 40, consult_version=earlier)
    (result,) = ingest([odk_csv(odk_table(web["xlsform"], [sub]), tmp_path / "e.csv")], workspace)
    assert result.status == "accepted"
    (said,) = [w for w in result.warnings if w.code == "form-version-earlier"]
    assert earlier in str(said) and web["version"] in str(said)
    assert current(workspace)[f"odk:{sub.instance}"] == expected(sub, web["definition"], "MOH")


def test_central_timestamps_are_read_without_python_311():
    assert _moment("2026-05-04T09:12:45.123Z").isoformat() == "2026-05-04T09:12:45"
    assert _moment("2026-05-04T09:12:45.1+02:00").isoformat() == "2026-05-04T07:12:45"
    assert _moment("2026-05-04T09:12:45").isoformat() == "2026-05-04T09:12:45"


def test_submissions_of_an_earlier_questionnaire_are_read_against_it(workspace, tmp_path):
    """The form deployed before the questionnaire changed: its submissions are read with the
    questions they were asked (``consult xlsform`` keeps the definition, as ``generate`` does)."""
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "xlsform", "-c", "KZ", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    old = workspace.definition
    form = resolve(old.questionnaire, old.framework, "KZ", "MOH")
    xlsform = tmp_path / "x" / "KZ-xlsform.xlsx"
    version = form_of(xlsform).version
    answers = valid_values(form, 41)
    personal = {i.id: answers.pop(i.id) for i in form.items if i.personal and i.id in answers}
    sub = submission(form, answers, personal, version, workspace.round, "before-change", "2020-09-10T08:00:00")
    export = odk_csv(odk_table(xlsform, [sub]), tmp_path / "old.csv")
    yaml_path = workspace.definitions_dir / "questionnaire.yaml"
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8").replace("(approximate)", "(an estimate)"), encoding="utf-8"
    )
    changed = open_workspace(workspace.root)
    assert changed.definition.hash != old.hash
    (read,) = ingest([export], changed)
    assert read.status == "accepted", [str(f) for f in read.errors]
    rows, answers_stored = stored(changed)
    assert rows[0].definition_hash == old.hash
    assert answers_stored[rows[0].id] == expected(sub, old, "MOH")


def test_a_rejection_after_acceptance_withdraws_the_submission(workspace, web, tmp_path):
    sub = web["make"]("MOH", 42)
    ingest([odk_csv(odk_table(web["xlsform"], [sub]), tmp_path / "a.csv")], workspace)
    assert set(current(workspace)) == {f"odk:{sub.instance}"}
    sub.review = "rejected"  # the reviewers decided later; the next download says so
    (later,) = ingest([odk_csv(odk_table(web["xlsform"], [sub]), tmp_path / "b.csv")], workspace)
    assert later.status == "rejected" and later.superseded == [1]
    assert current(workspace) == {}
    assert statuses(workspace) == [(f"odk:{sub.instance}", "rejected"), (f"odk:{sub.instance}", "superseded")]
