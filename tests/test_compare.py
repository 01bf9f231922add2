"""Round to round: mappings between definition versions, `consult compare`, the synthesis
section and `consult definitions update`, on the bundled example's two rounds (2016 on its own
older questionnaire, 2020 on the current one) and on mappings broken on purpose."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from docx import Document
from typer.testing import CliRunner

from consult.analysis.compare import compare_rounds, compare_workspaces, load_rounds, map_country
from consult.analysis.data import load_round
from consult.analysis.mapped import map_return_answers
from consult.analysis.scoring import score_round
from consult.cli import app
from consult.definitions import load_definition
from consult.definitions.mapping import Mapping, load_mapping
from consult.definitions.schema import validate_paths
from consult.example.builder import EXAMPLE_KEY
from consult.store import AnswerRow
from consult.workspace import create_secret, open_store, open_workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EARLIER = EXAMPLES / "round-2016"
MAPPING = ROOT / "questionnaires" / "mappings" / "roca-programme-2015-2019.yaml"


# --------------------------------------------------------------------------- the mapping file


def test_bundled_mapping_is_valid_and_covers_every_kind_of_change():
    files, findings = validate_paths([MAPPING.parent])
    assert files == [MAPPING]
    assert [f for f in findings if f.severity == "error"] == []
    m = load_mapping(MAPPING)
    kinds = {r.kind for rules in m.rules.values() for r in rules.values()}
    assert kinds == {"same", "renamed", "merged_into", "split_into", "dropped"}
    assert m.targets("areas", "CT") == ("TERRORISM",)
    assert m.sources("areas", "DRUGS") == ["DRUGTRAF", "HEALTH"]
    assert m.targets("areas", "LAW") == ("CORRUPTION", "JUSTICE")
    assert m.institution("MVD") == "MOIA" and m.institution("STATCOM") is None
    assert m.not_comparable("areas", ["TOC", "RESEARCH"]) == ["RESEARCH"]


def _broken(tmp_path: Path, edit: callable) -> tuple[Path, list]:  # type: ignore[valid-type]
    """A copy of the bundled definitions and the 2016 ones, the mapping edited as text."""
    shutil.copytree(ROOT / "questionnaires", tmp_path / "q" / "questionnaires")
    shutil.copytree(EARLIER / "questionnaires", tmp_path / "examples" / "round-2016" / "questionnaires")
    path = tmp_path / "q" / "questionnaires" / "mappings" / MAPPING.name
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path, validate_paths([path])[1]


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_validate_reports_every_id_left_unaccounted_with_its_line(tmp_path):
    def edit(text: str) -> str:
        text = text.replace("  TOC.maritime: dropped\n", "")  # an earlier id forgotten
        text = text.replace("    - JUSTICE.vaw\n", "")  # a later id forgotten
        return text.replace("definitions: ../../examples", "definitions: ../../../examples")

    path, findings = _broken(tmp_path, edit)
    texts = [str(f) for f in findings]
    assert any("earlier component 'TOC.maritime' is not accounted for" in t for t in texts), texts
    assert any("later component 'JUSTICE.vaw' is not accounted for" in t for t in texts), texts
    assert all(f.file == str(path) and f.line for f in findings)
    assert len([f for f in findings if f.severity == "error"]) == 2


def test_validate_names_a_wrong_target_where_it_is_written(tmp_path):
    def edit(text: str) -> str:
        text = text.replace("CT.ftf: {renamed: TERRORISM.returning_ftf}", "CT.ftf: {renamed: TERRORISM.returning_ft}")
        text = text.replace("LAW.aml: {renamed: CORRUPTION.aml_cft}", "LAW.aml: {renamed: CORRUPTION.uncac}")
        text = text.replace("  institutions: [MOE, SEC, FORENSIC]", "  institutions: [MOE, SEC, FORENSIC, MFA]")
        return text.replace("definitions: ../../examples", "definitions: ../../../examples")

    path, findings = _broken(tmp_path, edit)
    by_code = {}
    for f in findings:
        by_code.setdefault(f.code, []).append(f)
    unknown = by_code["unknown-ref"][0]
    assert unknown.line == _line_of(path, "CT.ftf:") and "TERRORISM.returning_ftf" in unknown.fix
    conflict = by_code["mapping-conflict"][0]  # two earlier ids renamed onto one: a merge, said as such
    assert "merged_into: CORRUPTION.uncac" in conflict.fix
    assert by_code["mapping-new-mapped"][0].line == _line_of(path, "institutions: [MOE, SEC, FORENSIC, MFA]")


def test_validate_checks_the_framework_ids_and_warns_without_the_earlier_definitions(tmp_path):
    path, findings = _broken(
        tmp_path,
        lambda t: t.replace("to: roca-programme-2021-2025", "to: roca-programme-2020").replace(
            "definitions: ../../examples", "definitions: ../../nowhere"
        ),
    )
    assert any(f.code == "mapping-framework" and f.line == _line_of(path, "to: roca") for f in findings)
    warning = next(f for f in findings if f.code == "mapping-no-earlier")
    assert warning.severity == "warning"


def test_schema_errors_of_a_mapping_carry_the_yaml_line(tmp_path):
    path, findings = _broken(
        tmp_path,
        lambda t: t.replace("LAW: {split_into: [CORRUPTION, JUSTICE], rule: copy}", "LAW: {split_into: [CORRUPTION]}"),
    )
    assert findings and findings[0].code == "schema" and findings[0].line == _line_of(path, "LAW: {split_into")


# ------------------------------------------------------------------- answers read through it


def _answer(area: str | None, component: str | None, role: str, value: object, rid: int = 1) -> AnswerRow:
    return AnswerRow(rid, f"{area}.x", "area", area, component, "rating", value, None, None, None, "x", role)


def test_merged_ratings_are_averaged_split_copied_and_picks_follow():
    m = load_mapping(MAPPING)
    rows = [
        _answer("DRUGTRAF", None, "area_priority", "5"),
        _answer("HEALTH", None, "area_priority", "2"),
        _answer("LAW", None, "area_priority", "4"),
        _answer("DRUGTRAF", "DRUGTRAF.interdiction", "component_priority", "5"),
        _answer("DRUGTRAF", "DRUGTRAF.controlled_delivery", "component_priority", "na"),
        _answer("TOC", "TOC.maritime", "component_priority", "5"),
        _answer(
            None, None, "ranking", ["TOC.border_container", "DRUGTRAF.interdiction", "DRUGTRAF.controlled_delivery"]
        ),
    ]
    out = {(a.role, a.area, a.component): a.value for a in map_return_answers(rows, m)}
    assert out[("area_priority", "DRUGS", None)] == 3.5  # the mean of the merged parts, once
    assert out[("area_priority", "CORRUPTION", None)] == "4" == out[("area_priority", "JUSTICE", None)]
    assert out[("component_priority", "DRUGS", "DRUGS.supply_reduction")] == "5"  # 'na' part left out
    assert not any(k[2] == "TOC.maritime" or (k[2] or "").startswith("TOC.mari") for k in out)  # dropped
    assert out[("ranking", None, None)] == ["TOC.border", "DRUGS.supply_reduction"]


# ------------------------------------------------------------------------ the two example rounds


def _earlier_workspace(root: Path, returns: list[Path] | None = None) -> Path:
    root.mkdir(parents=True)
    shutil.copy(EARLIER / "consult.yaml", root / "consult.yaml")
    shutil.copytree(EARLIER / "questionnaires", root / "questionnaires")
    create_secret(root, secret=EXAMPLE_KEY.secret)
    runner = CliRunner()
    result = runner.invoke(
        app, ["-w", str(root), "ingest", *map(str, returns or [EARLIER / "returns"])], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stdout
    return root


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("rounds")
    earlier = _earlier_workspace(base / "earlier")
    later = base / "later"
    later.mkdir()
    shutil.copy(EXAMPLES / "consult.yaml", later / "consult.yaml")
    create_secret(later, secret=EXAMPLE_KEY.secret)
    CliRunner().invoke(app, ["-w", str(later), "ingest", str(EXAMPLES / "returns")], catch_exceptions=False)
    return earlier, later


@pytest.mark.slow
def test_the_2016_returns_are_built_by_the_example_builder_from_their_own_questionnaire(tmp_path):
    from consult.example.builder import build_examples
    from consult.example.filler import read_meta_from

    definition = load_definition(EARLIER / "questionnaires")
    files = sorted((EARLIER / "returns").rglob("*.xlsx"))
    assert len(files) == 15
    assert {read_meta_from(f)["definition_hash"] for f in files} == {definition.hash}
    shutil.copytree(EARLIER / "questionnaires", tmp_path / "questionnaires")
    shutil.copy(EARLIER / "scenario.yaml", tmp_path / "scenario.yaml")
    built = build_examples(tmp_path / "scenario.yaml", tmp_path, load_definition(tmp_path / "questionnaires"))
    assert sorted(r.path.name for r in built) == sorted(f.name for f in files)
    from test_end_to_end import answer_cells  # the same check as the 2020 round's

    for r in built:
        committed = EARLIER / r.path.relative_to(tmp_path)
        assert answer_cells(r.path) == answer_cells(committed), committed.name
    assert (tmp_path / "consult.yaml").read_text(encoding="utf-8") == (EARLIER / "consult.yaml").read_text(
        encoding="utf-8"
    )


@pytest.mark.slow
def test_compare_gives_every_area_its_change_with_uncertainty(rounds):
    earlier, later = rounds
    result = compare_workspaces(earlier, later)
    assert set(result.countries) == {"KZ", "KG", "TJ"}
    assert result.not_comparable == ["RESEARCH"]
    assert result.dropped == {"areas": [], "components": ["TOC.maritime"], "institutions": ["STATCOM"]}
    for code, c in result.countries.items():
        assert {a.id for a in c.areas} == {"TOC", "DRUGS", "CORRUPTION", "TERRORISM", "JUSTICE", "RESEARCH"}
        for a in c.areas:
            if a.id == "RESEARCH":
                assert not a.comparable and a.change.value is None and a.rank_move is None
                continue
            lo, hi = a.change.interval
            assert lo <= a.change.value <= hi, (code, a.id)
            assert 0.0 <= a.change.p_rose <= 1.0
            assert a.change.value == pytest.approx(a.later.score - a.earlier.score)
    kz = result.countries["KZ"]
    # terrorism was fifth of five in 2016 and is second now: a clear rise, three places up
    terrorism = kz.area("TERRORISM")
    assert terrorism.change.direction == "rose" and terrorism.rank_move == 3
    assert (terrorism.earlier.tier_label, terrorism.later.tier_label) == ("trailing", "leading")
    assert kz.common == ["CUSTOMS", "GPO", "MFA", "MOIA"]  # MVD answered in 2016 as MVD: renamed, the same ministry
    assert "TOC.mla" in kz.entered and "TOC.untoc" in kz.left
    # Tajikistan's organized crime: the ministries that rated it low in 2016 did not answer again;
    # the two institutions that answered in both rounds show no clear rise
    toc = result.countries["TJ"].area("TOC")
    assert toc.change.direction == "rose" and toc.respondents_only
    assert toc.common.direction != "rose"
    assert not kz.area("TOC").respondents_only
    assert "RESEARCH.forensics" in result.countries["TJ"].new_themes


@pytest.mark.slow
def test_the_later_round_is_scored_as_the_rankings_score_it(rounds):
    earlier, later = rounds
    before, after, mapping = load_rounds(earlier, later)
    result = compare_rounds(before, after, mapping)
    scores = score_round(after)
    for code, c in result.countries.items():
        assert scores.robustness is not None
        verdicts = {a.area: a.verdict for a in scores.robustness.countries[code].areas}
        assert {a.id: a.later.verdict for a in c.areas} == verdicts, code
        tiers = {a.area: (a.tier, a.tier_label, a.score_interval) for a in scores.robustness.countries[code].areas}
        assert {a.id: (a.later.tier, a.later.tier_label, a.later.score_interval) for a in c.areas} == tiers, code
        official = {a.id: (a.score, a.rank, a.n) for a in scores.countries[code].areas}
        mine = {a.id: (a.later.score, a.later.rank, a.later.n) for a in c.areas}
        for area, (score, rank, n) in official.items():
            assert mine[area][1:] == (rank, n), (code, area)
            assert mine[area][0] == pytest.approx(score), (code, area)


@pytest.mark.slow
def test_merged_areas_count_each_institution_once(rounds):
    earlier, later = rounds
    before, after, mapping = load_rounds(earlier, later)
    fw = after.definition.framework
    kz = map_country(before.countries["KZ"], mapping, fw, after.definition.taxonomy, 5)
    raw = {}
    for a in before.countries["KZ"].by_role("area_priority"):
        raw.setdefault(before.countries["KZ"].institution(a), {})[a.area] = int(a.value)
    for inst, ratings in raw.items():
        parts = [ratings[x] for x in ("DRUGTRAF", "HEALTH") if x in ratings]
        later_id = mapping.institution(inst) or inst
        if parts:
            expected = sum((r - 1) / 4 * 100 for r in parts) / len(parts)
            assert kz.areas[(later_id, "DRUGS")] == pytest.approx(expected)


@pytest.mark.slow
def test_compare_command_json_and_table(rounds):
    earlier, later = rounds
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(earlier), str(later), "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    tj = data["countries"]["TJ"]
    toc = next(a for a in tj["areas"] if a["id"] == "TOC")
    assert toc["respondents_only"] is True and toc["direction"] == "rose"
    assert set(toc) >= {"p_rose", "change_interval", "rank_move", "common_institutions", "earlier", "later"}
    assert tj["respondents"]["common"] == ["DCA", "MFA"]
    assert data["regional"][0]["countries"] == ["KZ", "KG", "TJ"]
    table = runner.invoke(app, ["compare", str(earlier), str(later)], catch_exceptions=False, terminal_width=200)
    assert "‡" in table.stdout and "comes only from a different set of respondents" in table.stdout
    assert "Entered the top 5 components" in table.stdout
    missing = runner.invoke(app, ["compare", str(earlier / "nowhere"), str(later)])
    assert missing.exit_code == 1


@pytest.mark.slow
def test_compare_without_a_mapping_between_different_frameworks_says_how_to_fix(rounds, tmp_path):
    earlier, later = rounds
    other = tmp_path / "later"
    shutil.copytree(later, other)
    shutil.copytree(ROOT / "questionnaires", other / "questionnaires", ignore=shutil.ignore_patterns("mappings"))
    with (other / "consult.yaml").open("a", encoding="utf-8") as fh:
        fh.write("definitions: questionnaires\n")
    result = CliRunner().invoke(app, ["compare", str(earlier), str(other)])
    assert result.exit_code == 1
    assert "no mapping from framework 'roca-programme-2015-2019'" in result.output
    assert "--mapping" in result.output
    ok = CliRunner().invoke(app, ["compare", str(earlier), str(other), "--mapping", str(MAPPING), "--json"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_synthesis_carries_the_change_section(rounds, tmp_path, lang):
    earlier, later = rounds
    out = tmp_path / "synthesis"
    result = CliRunner().invoke(
        app,
        [
            "-w",
            str(later),
            "synthesize",
            "-c",
            "TJ",
            "--regional",
            "--lang",
            lang,
            "--out",
            str(out),
            "--compare",
            str(earlier),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    heading = {"en": "Change since the last consultation", "ru": "Изменения со времени предыдущих консультаций"}[lang]
    md = (out / f"TJ-synthesis.{lang}.md").read_text(encoding="utf-8")
    section = md.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    other_respondents = {"en": "comes only from a different set of respondents", "ru": "лишь другим составом"}[lang]
    assert other_respondents in section
    assert f"TJ-change.{lang}.png" in section and (out / f"TJ-change.{lang}.png").read_bytes()[:4] == b"\x89PNG"
    assert "+26" in section  # organized crime, 70 -> 96
    doc = Document(str(out / f"TJ-synthesis.{lang}.docx"))
    assert any(p.text == heading and p.style.name.startswith("Heading") for p in doc.paragraphs)
    assert len(doc.inline_shapes) == 2  # the area chart and the slope chart
    regional = (out / f"regional-synthesis.{lang}.md").read_text(encoding="utf-8")
    assert heading in regional


# ------------------------------------------------------------------------ definitions update


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".consult" not in p.parts and not p.name.startswith("consult.db")
    }


@pytest.mark.slow
def test_definitions_update_dry_run_changes_nothing_then_update_keeps_and_maps_returns(tmp_path):
    first = sorted((EARLIER / "returns" / "KZ").glob("*.xlsx"))
    ws = _earlier_workspace(tmp_path / "ws", [p for p in first if p.stem in ("KZ-MFA", "KZ-CUSTOMS")])
    runner = CliRunner()
    before = _digest(ws)
    dry = runner.invoke(app, ["-w", str(ws), "definitions", "update", "--dry-run", "--json"], catch_exceptions=False)
    assert dry.exit_code == 0
    plan = json.loads(dry.stdout)
    assert plan["renamed_institutions"] == {"MVD": "MOIA"} and plan["dropped_institutions"] == ["STATCOM"]
    assert plan["returns_mapped"] == 2 and plan["dry_run"] is True
    assert _digest(ws) == before and not (ws / ".consult" / "snapshots").exists()

    done = runner.invoke(app, ["-w", str(ws), "definitions", "update", "--json"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    snapshot = Path(json.loads(done.stdout)["snapshot"])
    assert (snapshot / "consult.db").is_file() and (snapshot / "questionnaires" / "framework.yaml").is_file()
    assert yaml.safe_load((snapshot / "consult.yaml").read_text(encoding="utf-8"))["institutions"][1] == "MVD"
    config = yaml.safe_load((ws / "consult.yaml").read_text(encoding="utf-8"))
    assert "MOIA" in config["institutions"] and "MVD" not in config["institutions"]
    assert config["definitions"] == "questionnaires"
    assert open_workspace(ws).definition.framework.id == "roca-programme-2021-2025"
    assert runner.invoke(app, ["-w", str(ws), "validate"]).exit_code == 0

    # late returns on the old (2016) form: accepted, stored under their own version, read mapped
    late_files = [str(p) for p in first if p.stem not in ("KZ-MFA", "KZ-CUSTOMS")]
    late = runner.invoke(app, ["-w", str(ws), "ingest", *late_files])
    assert late.exit_code == 0, late.output
    assert "KZ-MVD.xlsx" in late.output and "MVD is not invited" not in late.output  # MOIA's, by its old id
    assert "STATCOM is not invited" in late.output  # the office the mapping dropped is not invited
    opened = open_workspace(ws)
    with open_store(opened) as store:
        data = load_round(store, opened)
    kz = data.countries["KZ"]
    status = data.coverage.countries["KZ"].institutions
    assert status["MOIA"].status == "accepted" and "MVD" not in status  # the renamed ministry, counted once
    assert sorted(kz.institution_of.values()) == ["CUSTOMS", "GPO", "MFA", "MOIA", "STATCOM"]
    scored = score_round(data, robust=False).countries["KZ"]
    # the mapped scores are those `consult compare` computes for the 2016 round
    reference = tmp_path / "ref"
    _earlier_workspace(reference)
    later = tmp_path / "later"
    later.mkdir()
    shutil.copy(EXAMPLES / "consult.yaml", later / "consult.yaml")
    create_secret(later, secret=EXAMPLE_KEY.secret)
    runner.invoke(app, ["-w", str(later), "ingest", str(EXAMPLES / "returns" / "KZ")], catch_exceptions=False)
    compared = compare_workspaces(reference, later).countries["KZ"]
    for area in ("TOC", "DRUGS", "CORRUPTION", "TERRORISM", "JUSTICE"):
        assert scored.area(area).score == pytest.approx(compared.area(area).earlier.score), area
        assert scored.area(area).n == compared.area(area).earlier.n


def test_a_new_workspace_copies_the_bundled_mapping_and_validates_it_whole(tmp_path):
    from consult.workspace import init_workspace

    init_workspace(tmp_path / "ws")
    files, findings = validate_paths([tmp_path / "ws" / "questionnaires"])
    assert tmp_path / "ws" / "questionnaires" / "mappings" / MAPPING.name in files
    assert not [f for f in findings if f.code.startswith("mapping") or "mappings" in f.file]


def test_a_split_with_rule_none_gives_its_parts_no_earlier_figure():
    m = Mapping.from_dict(
        {
            "mapping": {"from": "a", "to": "b"},
            "areas": {"LAW": {"split_into": ["CORRUPTION", "JUSTICE"], "rule": "none"}, "CT": "dropped"},
        }
    )
    assert m.targets("areas", "LAW") == () and m.rule("areas", "LAW").targets == ("CORRUPTION", "JUSTICE")
    assert m.not_comparable("areas", ["CORRUPTION", "JUSTICE"]) == ["CORRUPTION", "JUSTICE"]
    out = map_return_answers([_answer("LAW", None, "area_priority", "5"), _answer("CT", None, "area_priority", "4")], m)
    assert [a for a in out if a.role == "area_priority"] == []


def test_identity_mapping_maps_every_id_onto_itself():
    m = Mapping.identity("x")
    assert m.is_identity and m.targets("areas", "TOC") == ("TOC",) and m.sources("components", "A.b") == ["A.b"]
