"""The web channel: the questionnaire as an XLSForm (checked by pyxform itself) and the
KoboToolbox / ODK Central exports of its submissions ingested like returned workbooks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from test_ingest import stored
from typer.testing import CliRunner
from webexports import Submission, kobo_csv, kobo_table, kobo_xlsx, odk_csv, odk_table, submission

from consult.cli import app
from consult.definitions import bundled_definition, load_definition
from consult.definitions.questionnaire import Form, resolve
from consult.errors import CATALOGUE
from consult.forms.xlsform import build_xlsform, field_name, form_version, language_column, write_xlsforms
from consult.intake.ingest import ingest
from consult.intake.submissions import channel_of, is_export
from consult.store import Store
from consult.workspace import Workspace, init_workspace, open_workspace

OTHER = Path(__file__).parent / "data" / "otherprog"
# pyxform warnings this suite accepts, with the reason. None so far: any warning fails the test.
ACCEPTED_WARNINGS: dict[str, str] = {}


def convert(path: Path) -> tuple[str, list[str]]:
    pyxform = pytest.importorskip("pyxform.xls2xform")  # here, so the other tests run without it
    warnings: list[str] = []
    result = pyxform.convert(str(path), warnings=warnings)
    unexpected = [w for w in warnings if not any(key in w for key in ACCEPTED_WARNINGS)]
    return result.xform, unexpected


# --- the XLSForm --------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.pyxform
@pytest.mark.parametrize("source", ["bundled", "otherprog"])
def test_every_country_form_converts_with_pyxform_without_warnings(tmp_path: Path, source: str) -> None:
    definition = bundled_definition() if source == "bundled" else load_definition(OTHER)
    codes = [c.code for c in definition.framework.countries]
    written = write_xlsforms(definition, codes, {}, "r-2026", tmp_path)
    assert len(written) == len(codes)
    for xf, path in written:
        xform, warnings = convert(path)
        assert warnings == [], (path.name, warnings)
        for lang in definition.languages:  # every language of the definitions is a translation
            assert f'<translation lang="{language_column(lang)}"' in xform
        assert xf.form_id in xform
        assert f'version="{xf.version}"' in xform and xf.version.startswith(form_version(definition) + "-")
        assert "jr:requiredMsg" in xform  # required_message, in every language


def test_form_asks_each_institution_what_its_workbook_asks() -> None:
    d = bundled_definition()
    xf = build_xlsform(d, "KZ", ["MFA", "MOH", "DCA"], "r-2026")
    assert xf.settings["form_id"] == "consult_r_2026_KZ"
    assert xf.settings["version"] == xf.version and xf.version.startswith(d.hash[:16] + "-")
    # anything in the form changes the version (Central refuses a form id + version it has)
    assert build_xlsform(d, "KZ", ["MFA", "MOH"], "r-2026").version != xf.version
    assert build_xlsform(d, "KZ", ["MFA", "MOH", "DCA"], "r-2026").version == xf.version
    assert xf.settings["default_language"] == "English (en)"
    survey = {r["name"]: r for r in xf.survey if r["name"]}
    assert survey["date"]["required_message::Russian (ru)"] == "Это обязательный вопрос."
    assert survey["institution"]["type"] == "select_one institution"
    assert [c["name"] for c in xf.choices if c["list_name"] == "institution"] == ["MFA", "MOH", "DCA"]
    # every item of every institution's resolved form is a field; nothing else is asked
    asked = {i.id for inst in ("MFA", "MOH", "DCA") for i in resolve(d.questionnaire, d.framework, "KZ", inst).items}
    expected = {field_name(i) for i in asked if not i.startswith("top5")} | {f"top5_{k}" for k in range(1, 6)}
    data = {r["name"] for r in xf.survey if r["type"] not in ("begin_group", "end_group", "calculate")}
    assert data - {"institution"} == expected
    # areas and components are shown to the institutions asked about them, on their pick
    moh = resolve(d.questionnaire, d.framework, "KZ", "MOH")
    assert survey["JUSTICE"]["type"] == "begin_group"  # MFA and MOH are asked about justice, DCA is not
    assert survey["JUSTICE"]["relevant"] == "selected('MFA MOH', ${institution})"
    assert survey["JUSTICE_component_victims"]["relevant"] == "selected('MOH', ${institution})"
    assert survey["DRUGS_component_overdose"]["relevant"] == "selected('MOH DCA', ${institution})"
    assert survey["respondent"]["relevant"] == "${institution} != ''"
    assert survey["TOC_assistance_other"]["relevant"] == "selected(${TOC_assistance}, 'other')"
    assert survey["TOC_assistance_other"]["required"] == "yes"
    assert survey["staff"]["type"] == "integer" and survey["staff"]["constraint"] == ". >= 0"  # a count
    other = load_definition(OTHER)  # a count declared `integer: true` is an integer on the server
    counted = {
        r["name"]: r for r in build_xlsform(other, "UZ", [i.id for i in other.framework.institutions], "r").survey
    }
    assert counted["staff_count"]["type"] == "integer"
    assert survey["top5_3"]["constraint"] == ". != ${top5_1} and . != ${top5_2}"
    assert survey["top5_1"]["required"] == "yes" and "required" not in survey["top5_2"]
    assert survey["top5_1"]["choice_filter"] == "selected(asked_of, ${institution})"
    assert survey["TOC_priority"]["label::Russian (ru)"].startswith("Общий приоритет")
    components = [c for c in xf.choices if c["list_name"] == "components"]
    assert {c["name"] for c in components} == {ch.code for ch in moh.item_by_id["top5"].choices} | {
        ch.code
        for inst in ("MFA", "DCA")
        for ch in resolve(d.questionnaire, d.framework, "KZ", inst).item_by_id["top5"].choices
    }


def test_cli_writes_one_form_per_country(workspace: Workspace, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["-w", str(workspace.root), "xlsform", "-c", "KZ", "-c", "KG", "--out", str(tmp_path / "x"), "--json"]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(f["country"], Path(f["path"]).name) for f in listed] == [
        ("KZ", "KZ-xlsform.xlsx"),
        ("KG", "KG-xlsform.xlsx"),
    ]
    assert listed[0]["version"].startswith(workspace.definition.hash[:16] + "-")
    assert listed[0]["institutions"] == workspace.invited_for("KZ")
    bad = CliRunner().invoke(app, ["-w", str(workspace.root), "xlsform", "-c", "XX"])
    assert bad.exit_code == 2 and "unknown country XX" in bad.output


# --- exports ------------------------------------------------------------------------------------
@pytest.fixture
def web(workspace: Workspace, tmp_path: Path) -> dict:
    """The workspace's KZ form and a way to make valid submissions of it."""
    d = workspace.definition
    ((xf, path),) = write_xlsforms(d, ["KZ"], {"KZ": workspace.invited_for("KZ")}, workspace.round, tmp_path / "xf")
    counter = iter(range(1, 1000))

    def make(institution: str, seed: int = 1, time: str = "2020-09-10T08:00:00", **changes: object) -> Submission:
        form = resolve(d.questionnaire, d.framework, "KZ", institution)
        answers = valid_values(form, seed)
        personal = {i.id: answers.pop(i.id) for i in form.items if i.personal and i.id in answers}
        sub = submission(form, answers, personal, xf.version, workspace.round, f"inst-{next(counter):04d}", time)
        sub.values.update(changes)
        return sub

    return {"xlsform": path, "make": make, "definition": d, "version": xf.version}


def valid_values(form: Form, seed: int) -> dict[str, object]:
    """Stored-form values (codes, lists, numbers) for every item, valid and complete."""
    rng = random.Random(seed)
    out: dict[str, object] = {}
    for item in form.items:
        if item.type in ("rating", "single"):
            out[item.id] = rng.choice([c.code for c in item.choices if c.code != "na"])
        elif item.type == "multiple":
            codes = [c.code for c in item.choices if c.code != "other"]
            out[item.id] = sorted(rng.sample(codes, 2), key=[c.code for c in item.choices].index)
        elif item.type == "rank":
            out[item.id] = [c.code for c in rng.sample(item.choices, item.size)]
        elif item.type == "number":
            out[item.id] = rng.randint(1, 99)
        elif item.type == "date":
            out[item.id] = "2020-09-01"
        elif item.when is None or item.when.holds(out.get(item.when.question or "")):  # relevant
            out[item.id] = f"answer {rng.randint(1, 999)}"
    return out


def expected(sub: Submission, d, institution: str) -> dict[str, object]:
    form = resolve(d.questionnaire, d.framework, "KZ", institution)
    out: dict[str, object] = {}
    for item in form.items:
        if item.personal:
            continue
        if item.type == "rank":
            out[item.id] = [sub.values[f"top5_{k}"] for k in range(1, item.size + 1)]
        elif field_name(item.id) in sub.values:
            value = sub.values[field_name(item.id)]
            if item.type == "number":  # the server's XML text, a number once read
                value = float(value) if "." in str(value) else int(value)
            out[item.id] = value.split() if item.type == "multiple" else value
    return out


def test_kobo_csv_submissions_become_returns_of_their_institution(workspace, web, tmp_path) -> None:
    moh, mfa = web["make"]("MOH", 1), web["make"]("MFA", 2)
    export = kobo_csv(kobo_table(web["xlsform"], [moh, mfa]), tmp_path / "in" / "kz-kobo.csv")
    assert is_export(export)
    results = ingest([export], workspace)
    results.sort(key=lambda r: r.file)  # one submission time: ordered by content, not by row
    assert [(r.status, r.country, r.institution, r.file) for r in results] == [
        ("accepted", "KZ", "MOH", f"kobo:{moh.instance}"),
        ("accepted", "KZ", "MFA", f"kobo:{mfa.instance}"),
    ], [str(f) for r in results for f in r.errors + r.missing]
    rows, answers = stored(workspace)
    rows.sort(key=lambda r: r.file_name)
    assert answers[rows[0].id] == expected(moh, web["definition"], "MOH")
    assert answers[rows[1].id] == expected(mfa, web["definition"], "MFA")
    assert {channel_of(r.file_name) for r in rows} == {r.channel for r in rows} == {"kobo"}  # the column
    assert rows[0].generated_at == "2020-09-10T08:00:00"  # the submission time
    with Store(workspace.db_path) as store:  # personal data stays in its own table
        assert store.respondent(rows[0].id)["contact_email"] == moh.values["contact_email"]
    assert "contact_email" not in answers[rows[0].id]


def test_kobo_xlsx_and_odk_csv_without_group_names_read_the_same(workspace, web, tmp_path) -> None:
    a, b = web["make"]("MOH", 3), web["make"]("DCA", 4)
    kobo_xlsx(kobo_table(web["xlsform"], [a], multiple_select="summary"), tmp_path / "in" / "kobo.xlsx")
    odk_csv(odk_table(web["xlsform"], [b], group_paths=False), tmp_path / "in" / "odk.csv")
    results = ingest([tmp_path / "in"], workspace)  # a folder: both found, sniffed as exports
    assert sorted((r.status, r.institution, channel_of(r.file)) for r in results) == [
        ("accepted", "DCA", "odk"),
        ("accepted", "MOH", "kobo"),
    ]
    rows, answers = stored(workspace)
    by_inst = {r.institution: answers[r.id] for r in rows}
    assert {r.institution: r.channel for r in rows} == {"MOH": "kobo", "DCA": "odk"}  # stored as a column
    assert by_inst["MOH"] == expected(a, web["definition"], "MOH")
    assert by_inst["DCA"] == expected(b, web["definition"], "DCA")
    listed = CliRunner().invoke(app, ["-w", str(workspace.root), "returns", "--json"])
    assert {r["channel"] for r in json.loads(listed.stdout)} == {"kobo", "odk"}
    table = CliRunner().invoke(app, ["-w", str(workspace.root), "returns"])
    assert "Channel" in table.stdout and "odk" in table.stdout


def test_same_answers_by_excel_and_by_kobo_score_the_same(workspace, make_return, web, tmp_path) -> None:
    path = make_return("KZ", "MOH", seed=5)
    assert ingest([path], workspace)[0].status == "accepted"
    rows, answers = stored(workspace)
    with Store(workspace.db_path) as store:
        personal = store.respondent(rows[0].id) or {}
    d = web["definition"]
    form = resolve(d.questionnaire, d.framework, "KZ", "MOH")
    sub = submission(form, answers[rows[0].id], personal, web["version"], workspace.round, "x1", "2020-09-01T10:00:00")
    init_workspace(tmp_path / "ws2", round_id=workspace.round, countries=["KZ", "KG", "TJ"])
    ws2 = open_workspace(tmp_path / "ws2")
    export = kobo_csv(kobo_table(web["xlsform"], [sub]), tmp_path / "kobo.csv")
    assert ingest([export], ws2)[0].status == "accepted"
    assert stored(ws2)[1][1] == answers[rows[0].id]
    scores = [
        json.loads(CliRunner().invoke(app, ["-w", str(w), "score", "-c", "KZ", "--json"]).stdout)
        for w in (workspace.root, ws2.root)
    ]
    assert scores[0] == scores[1]


def test_deleted_column_renamed_choice_and_unknown_version(workspace, web, tmp_path) -> None:
    good = web["make"]("MOH", 6)
    renamed = web["make"]("MFA", 7, TOC_assistance="legislative training")  # 'capacity' renamed on the server
    old = web["make"]("DCA", 8, consult_version="0123456789abcdef")
    rows = kobo_table(web["xlsform"], [good, renamed, old], groups=True, drop=("TOC_challenges",))  # column deleted
    export = kobo_csv(rows, tmp_path / "kz.csv")
    results = {r.institution: r for r in ingest([export], workspace)}

    assert results["MOH"].status == "incomplete"
    assert [str(f) for f in results["MOH"].warnings if f.code == "column-deleted"] == [
        f"kz.csv (TOC.challenges): {CATALOGUE['column-deleted'][0]}"
    ]
    assert [str(f) for f in results["MOH"].missing] == ["kz.csv: row 2 (TOC.challenges): required answer is blank"]

    mfa = results["MFA"]
    assert mfa.status == "rejected"
    invalid = [f for f in mfa.errors if f.code == "invalid-value"]
    assert len(invalid) == 1
    assert str(invalid[0]).startswith(
        "kz.csv: row 3, column TOC/TOC_assistance (TOC.assistance): found 'training', expected one of"
    )
    assert invalid[0].to_dict()["row"] == 3 and invalid[0].cell == "TOC/TOC_assistance"

    dca = results["DCA"]
    assert dca.status == "rejected"
    message = CATALOGUE["wrong-form-version"][0].format(
        found="0123456789abcdef", expected=web["definition"].hash[:16], detail=""
    )
    assert [str(f) for f in dca.errors] == [f"kz.csv: row 4, column consult_version: {message}"]
    stored_rows, answers = stored(workspace)
    assert [r.status for r in stored_rows if r.institution in ("MFA", "DCA")] == ["rejected", "rejected"]
    assert all(answers.get(r.id) is None for r in stored_rows if r.status == "rejected")


def test_reexport_is_a_no_op_and_later_submission_supersedes(workspace, web, tmp_path) -> None:
    early = web["make"]("MOH", 9, time="2020-09-01T09:00:00")
    late = web["make"]("MOH", 10, time="2020-09-05T09:00:00")
    rows = kobo_table(web["xlsform"], [late, early])  # newest first, as a sorted table might be
    first = ingest([kobo_csv(rows, tmp_path / "a.csv")], workspace)
    assert [(r.file, r.status) for r in first] == [
        (f"kobo:{early.instance}", "accepted"),
        (f"kobo:{late.instance}", "accepted"),
    ]
    assert first[1].superseded == [first[0].return_id]
    # the same submissions again: as CSV, as XLS, with other options: nothing changes
    again = ingest([kobo_csv(rows, tmp_path / "b.csv")], workspace)
    as_xlsx = ingest(
        [kobo_xlsx(kobo_table(web["xlsform"], [early, late], groups=True), tmp_path / "c.xlsx")], workspace
    )
    assert {r.status for r in again + as_xlsx} == {"duplicate"}
    current = [r for r in stored(workspace)[0] if r.status == "accepted"]
    assert [r.file_name for r in current] == [f"kobo:{late.instance}"]


def test_a_returned_workbook_is_not_taken_for_an_export(workspace, make_return) -> None:
    assert not is_export(make_return("KZ", "MOH"))


def test_an_export_of_another_form_is_refused_clearly(workspace, tmp_path) -> None:
    export = odk_csv([["SubmissionDate", "name", "KEY"], ["2020-01-01T00:00:00Z", "x", "uuid:1"]], tmp_path / "o.csv")
    (result,) = ingest([export], workspace)
    assert result.status == "rejected"
    assert [f.code for f in result.errors] == ["export-not-consult"]
    assert stored(workspace)[0] == []  # refused: nothing stored


def test_odk_submission_of_another_round_or_an_unknown_institution_is_refused(workspace, web, tmp_path) -> None:
    other_round = web["make"]("MOH", 11, consult_round="roca-2019")
    renamed = web["make"]("MFA", 12)
    renamed.values["institution"] = "MINFA"  # the institution choice renamed on the server
    export = odk_csv(odk_table(web["xlsform"], [renamed, other_round]), tmp_path / "odk.csv")
    results = ingest([export], workspace)
    assert [r.status for r in results] == ["rejected", "rejected"]
    round_msg = CATALOGUE["wrong-round"][0].format(found="roca-2019", expected=workspace.round)
    assert [str(f) for f in results[0].errors] == [f"odk.csv: row 3: {round_msg}"]
    (unknown,) = results[1].errors
    assert unknown.code == "unknown-institution" and unknown.cell == "institution" and unknown.row == 2
    assert "'MINFA' is not one of the form's institutions (MFA, " in str(unknown)


def test_submission_for_a_country_outside_the_round_is_refused(workspace, tmp_path) -> None:
    """Issue 11, item 5: as a workbook for a country outside the round is, not stored as a warning."""
    d = workspace.definition
    ((xf, path),) = write_xlsforms(d, ["UZ"], {"UZ": ["MOH"]}, workspace.round, tmp_path / "xf")
    form = resolve(d.questionnaire, d.framework, "UZ", "MOH")
    answers = valid_values(form, 1)
    personal = {i.id: answers.pop(i.id) for i in form.items if i.personal and i.id in answers}
    sub = submission(form, answers, personal, xf.version, workspace.round, "inst-uz", "2020-09-10T08:00:00")
    (result,) = ingest([odk_csv(odk_table(path, [sub]), tmp_path / "uz.csv")], workspace)
    assert result.status == "rejected" and [f.code for f in result.errors] == ["outside-round"]
    rows, answers_stored = stored(workspace)
    assert [(r.country, r.status) for r in rows] == [("UZ", "rejected")] and not answers_stored


def test_a_rejected_submission_without_instance_id_keeps_its_channel(workspace, web, tmp_path) -> None:
    """Its stored name is the export's row (no root id to name it by), but the channel column
    says it came by KoboToolbox: listed as such, and never sent a feedback workbook."""
    from consult.feedback.returned import due

    nameless = web["make"]("MOH", 5)
    nameless.instance = ""
    results = ingest([kobo_csv(kobo_table(web["xlsform"], [nameless]), tmp_path / "in" / "kz.csv")], workspace)
    assert [(r.status, [f.code for f in r.errors]) for r in results] == [("rejected", ["no-instance-id"])]
    rows, _ = stored(workspace)
    assert [(r.file_name, r.channel) for r in rows] == [("kz.csv row 2", "kobo")]
    listed = CliRunner().invoke(app, ["-w", str(workspace.root), "returns", "--json"])
    assert [r["channel"] for r in json.loads(listed.stdout)] == ["kobo"]
    assert due(rows, workspace) == []
