"""`consult synthesize`: reopen the Word files, read the Markdown, compare with `consult score`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm

from consult.definitions import bundled_definition
from consult.definitions import bundled_definition as _bundled
from consult.definitions.roles import QUOTED
from consult.definitions.wording import Wording
from consult.intake.ingest import ingest
from consult.workspace import open_store


def t(key: str, lang: str, **fmt: object) -> str:
    """The wording the documents use (report.yaml), for building expectations."""
    return Wording.of(_bundled(), "report", lang)(key, **fmt)


MARKERS = {
    "contact_name": "PERSONAL-NAME-7f3a",
    "contact_email": "marker.7f3a@example.org",
    "contact_phone": "+7 777 PHONE-7F3A",
    "contact_position": "POSITION-MARKER-7f3a",
}


@pytest.fixture
def consulted(workspace, make_return):
    """KZ and KG with a few returns each; every respondent block carries unique markers."""
    plan = [
        ("KZ", "MOH", {"DRUGS.priority": "5", "DRUGS.challenges": "ВИЧ среди людей, употребляющих наркотики."}),
        ("KZ", "CUSTOMS", {"TOC.priority": "4 - High priority / 4 - Высокий приоритет", "DRUGS.priority": "2"}),
        ("KZ", "DCA", {"DRUGS.priority": "4", "emerging": "Darknet sales of synthetic drugs."}),
        ("KG", "BORDER", {"TOC.priority": "5"}),
        ("KG", "MOJ", {"JUSTICE.priority": "5"}),
    ]
    paths = [make_return(c, i, {**MARKERS, **extra}, seed=n) for n, (c, i, extra) in enumerate(plan)]
    results = ingest(paths, workspace)
    assert all(r.status == "accepted" for r in results), [str(f) for r in results for f in r.errors]
    return workspace


def headings(doc: Document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def all_text(path: Path) -> str:
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as zf:
            return " ".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".xml"))
    return path.read_text(encoding="utf-8")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def body_until(doc: Document, heading: str) -> list[str]:
    """Paragraph and table texts of the Word body before ``heading`` (in document order)."""
    out = []
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        text = "".join(node.text or "" for node in block.iter(W + "t"))
        if tag == "p" and text == heading:
            break
        out.append(text)
    return out


def test_country_docx_has_styles_ranking_chart_and_annexes(consulted, cli, tmp_path):
    out = tmp_path / "syn"
    result = cli("synthesize", "--country", "KZ", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    full = json.loads(cli("score", "--json").stdout)
    scores, robustness = full["countries"]["KZ"], full["robustness"]["countries"]["KZ"]
    doc = Document(str(out / "KZ-synthesis.en.docx"))
    heads = headings(doc)
    assert heads[0] == ("Title", "National consultation: Kazakhstan")
    assert ("Heading 1", t("h_findings", "en")) in heads
    assert ("Heading 1", t("h_annex_method", "en")) in heads
    assert ("Heading 1", t("h_annex_returns", "en")) in heads
    assert any(style == "Heading 2" for style, _ in heads)
    # the ranking table: one row per area, in the order and with the scores of `consult score`
    ranking = doc.tables[0]
    assert ranking.style.name == "Light Grid Accent 1"
    rows = [[c.text for c in r.cells] for r in ranking.rows[1:]]
    assert len(rows) == 6
    for row, area in zip(rows, scores["areas"], strict=True):
        assert row[1].rstrip(" †") == area["name"]["en"]
        assert row[1].endswith(" †") == (area["evidence"] == "low")
        assert row[0] == (str(area["rank"]) if area["rank"] else "")  # low evidence: listed, not ranked
        robust = next(r for r in robustness["areas"] if r["area"] == area["id"])
        score = "–" if area["score"] is None else f"{area['score']:.0f}" + (" †" if area["evidence"] == "low" else "")
        if robust["score_interval"] and area["evidence"] != "low":  # the 90% interval beside the score
            score += f" ({robust['score_interval'][0]:.0f}–{robust['score_interval'][1]:.0f})"
        assert row[2] == score
        assert row[5] == str(area["n"])
        # the tier and P(top 3), from the same analysis as `consult score --json`
        assert row[3] == (robust["tier_label"] if robust["tier"] else "")
        assert row[4] == (f"{robust['p_top3']:.2f}" if robust["tier"] and robust["p_top3"] is not None else "")
    drugs = next(a for a in scores["areas"] if a["id"] == "DRUGS")
    assert drugs["score"] == pytest.approx((100 * 2 + 25 * 1 + 75 * 2) / 5)  # MOH 5, CUSTOMS 2, DCA 4
    assert doc.inline_shapes and doc.inline_shapes[0].width > 0
    assert any(p.style.name == "Caption" for p in doc.paragraphs)
    assert any(p.style.name == "Quote" and "ВИЧ среди людей" in p.text for p in doc.paragraphs)
    annex = doc.tables[-1]
    shas = {r.sha256[:12] for r in _current(consulted, "KZ")}
    assert {row.cells[-1].text for row in annex.rows[1:]} == shas
    footer_xml = doc.sections[0].footer._element.xml
    assert "PAGE" in footer_xml


def _current(ws, country):
    from consult.store import Store

    with Store(ws.db_path) as store:
        return store.returns(current_only=True, countries=[country])


def test_markdown_carries_the_same_facts(consulted, cli, tmp_path):
    out = tmp_path / "syn"
    assert cli("synthesize", "-c", "KZ", "--format", "md", "--out", str(out)).exit_code == 0
    md = (out / "KZ-synthesis.en.md").read_text(encoding="utf-8")
    scores = json.loads(cli("score", "--json", "-c", "KZ").stdout)["countries"]["KZ"]
    for area in scores["areas"]:
        line = next(x for x in md.splitlines() if x.startswith(f"| {area['rank'] or ' '} | {area['name']['en']}"))
        low = " †" if area["evidence"] == "low" else ""
        assert f"| {area['score']:.0f}{low}" in line if area["score"] is not None else "| – |" in line
    assert "![" in md and (out / "KZ-area-scores.en.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "> ВИЧ среди людей, употребляющих наркотики." in md
    assert "> — Ministry of Health [ru]" in md  # a quote in the other language is marked, kept verbatim
    assert "(r − 1) / 4 × 100" in md  # the methodology annex
    for r in _current(consulted, "KZ"):
        assert r.sha256[:12] in md and r.file_name in md
    assert not (out / "KZ-synthesis.en.docx").exists()


def test_russian_headings_and_names(consulted, cli, tmp_path):
    out = tmp_path / "both"
    assert cli("synthesize", "-c", "KG", "--out", str(out)).exit_code == 0
    english = {p.name: p.read_bytes() for p in out.iterdir()}
    assert cli("synthesize", "-c", "KG", "--lang", "ru", "--out", str(out)).exit_code == 0
    # the README's two lines, one folder: Russian beside English, nothing overwritten
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in english} == english
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"KG-{stem}.{lang}.{ext}"
        for lang in ("en", "ru")
        for stem, ext in (("synthesis", "md"), ("synthesis", "docx"), ("area-scores", "png"))
    )
    md = (out / "KG-synthesis.ru.md").read_text(encoding="utf-8")
    assert "(KG-area-scores.ru.png)" in md
    fw = bundled_definition().framework
    assert md.startswith(f"# {t('country_title', 'ru', country='Кыргызстан')}")
    assert f"## {t('h_findings', 'ru')}" in md and f"## {t('h_annex_method', 'ru')}" in md
    assert fw.area_by_id["JUSTICE"].name["ru"] in md
    doc = Document(str(out / "KG-synthesis.ru.docx"))
    assert ("Heading 1", t("h_annex_returns", "ru")) in headings(doc)


def test_no_personal_data_in_any_output(consulted, cli, tmp_path):
    out = tmp_path / "all"
    assert cli("synthesize", "--all", "--regional", "--out", str(out)).exit_code == 0
    cli("export", "--format", "xlsx", "--out", str(out / "answers.xlsx"))
    cli("score", "--csv", str(out / "scores.csv"))
    files = [p for p in out.rglob("*") if p.suffix in (".md", ".docx", ".csv")]
    assert len(files) >= 7
    for path in files:
        body = all_text(path)
        for marker in MARKERS.values():
            assert marker not in body, f"{marker} leaked into {path.name}"
    for output in (cli("score", "--json").stdout, cli("returns", "--json").stdout, cli("status", "--json").stdout):
        assert not any(m in output for m in MARKERS.values())


def test_regional_synthesis(consulted, cli, tmp_path):
    out = tmp_path / "reg"
    assert cli("synthesize", "--regional", "--out", str(out)).exit_code == 0
    md = (out / "regional-synthesis.en.md").read_text(encoding="utf-8")
    scores = json.loads(cli("score", "--json").stdout)["regional"]
    assert scores["countries"] == ["KZ", "KG"]
    header = next(x for x in md.splitlines() if x.startswith("| Programme area"))
    assert "| Kazakhstan |" in header and "| Kyrgyzstan |" in header and "Tajikistan" not in header
    toc = next(a for a in scores["areas"] if a["id"] == "TOC")
    row = next(x for x in md.splitlines() if x.startswith("| Organized crime |"))

    def shown(code: str) -> str:
        low = " †" if toc["low_evidence"][code] else ""
        return f"{toc['scores'][code]:.0f} ({toc['n'][code]}){low}"

    # the regional mean leaves out the scores marked † (they are not country positions)
    solid = [toc["scores"][c] for c in ("KZ", "KG") if toc["scores"][c] is not None and not toc["low_evidence"][c]]
    mean = f"{sum(solid) / len(solid):.0f}" if solid else "–"
    assert row == f"| Organized crime | {shown('KZ')} | {shown('KG')} | {mean} |"
    assert "| Ministry of Health | ✓ |" in md  # the institution x country coverage table
    doc = Document(str(out / "regional-synthesis.en.docx"))
    assert doc.inline_shapes, "the heat map is embedded"
    assert (out / "regional-area-scores.en.png").exists()


def test_country_without_returns_is_a_clear_message(consulted, cli, tmp_path):
    out = tmp_path / "none"
    result = cli("synthesize", "-c", "TJ", "--out", str(out))
    assert result.exit_code == 1
    assert "TJ has no accepted or incomplete return" in result.stderr
    assert not out.exists() or not any(out.iterdir())
    both = cli("synthesize", "-c", "TJ", "-c", "KZ", "--out", str(out), "--json")
    assert both.exit_code == 0
    assert {w["country"] for w in json.loads(both.stdout)} == {"KZ"}


def test_usage_errors(cli):
    assert cli("synthesize").exit_code == 2
    assert cli("synthesize", "--all", "--lang", "fr").exit_code == 2
    assert cli("synthesize", "--all", "--format", "pdf").exit_code == 2


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed here")
def test_word_file_opens_in_libreoffice(consulted, cli, tmp_path):
    out = tmp_path / "lo"
    assert cli("synthesize", "-c", "KZ", "--format", "docx", "--out", str(out)).exit_code == 0
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(out / "KZ-synthesis.en.docx")],
        check=True,
        capture_output=True,
        timeout=240,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = (out / "KZ-synthesis.en.pdf").read_bytes()
    pages = pdf.count(b"/Type/Page") - pdf.count(b"/Type/Pages")
    assert pdf.startswith(b"%PDF") and 3 <= pages <= 25, pages  # the pages, not an error page or a runaway


def test_word_is_printable_a4_with_fitting_tables(consulted, cli, tmp_path):
    out = tmp_path / "print"
    assert cli("synthesize", "-c", "KZ", "--regional", "--format", "docx", "--out", str(out)).exit_code == 0
    for name in ("KZ-synthesis.en.docx", "regional-synthesis.en.docx"):
        doc = Document(str(out / name))
        for section in doc.sections:
            short, long = sorted((section.page_width, section.page_height))
            assert (round(short / Cm(1), 1), round(long / Cm(1), 1)) == (21.0, 29.7)  # A4, not Letter
        text_widths = [s.page_width - s.left_margin - s.right_margin for s in doc.sections]
        assert doc.tables
        for table in doc.tables:
            grid = [
                int(c.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w"))
                for c in table._tbl.tblGrid.findall(
                    "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}gridCol"
                )
            ]
            assert all(w > 0 for w in grid)
            assert sum(grid) * 635 <= max(text_widths) + 635 * 20  # twips -> EMU; within the text width
            header_xml = table.rows[0]._tr.xml
            assert "w:tblHeader" in header_xml and "w:cantSplit" in header_xml
            for row in table.rows[1:]:
                assert "w:cantSplit" in row._tr.xml
            # a caption sits above every table (UN style)
            previous = table._tbl.getprevious()
            assert previous is not None and "Caption" in previous.xml


def test_no_tool_internals_in_the_body_and_each_quote_once(consulted, cli, tmp_path):
    out = tmp_path / "clean"
    assert cli("synthesize", "-c", "KZ", "--out", str(out)).exit_code == 0
    doc = Document(str(out / "KZ-synthesis.en.docx"))
    body = " ".join(body_until(doc, t("h_annex_returns", "en")))
    for internal in ("consult score", "consult.db", "framework.yaml", "taxonomy.yaml", "`", "test-round", ".xlsx"):
        assert internal not in body, internal
    doc_quotes = [p.text for p in doc.paragraphs if p.style.name == "Quote" and not p.text.startswith("— ")]
    attributions = [p.text for p in doc.paragraphs if p.style.name == "Quote" and p.text.startswith("— ")]
    assert len(doc_quotes) == len(attributions)
    # every quotable answer is quoted exactly once (an institution may give one text to two questions)
    fw = _bundled().framework
    expected: Counter[tuple[str, str]] = Counter()
    with open_store(consulted) as store:
        rets = {r.id: r for r in store.returns(current_only=True, countries=["KZ"])}
        for a in store.answers(rets):
            if a.role in QUOTED and len(str(a.value).strip()) >= 3:
                expected[(str(a.value).strip(), fw.institution_by_id[rets[a.return_id].institution].name["en"])] += 1
    found = Counter(
        (q, who.removeprefix("— ").removesuffix(" [ru]")) for q, who in zip(doc_quotes, attributions, strict=True)
    )
    assert found == expected


def test_hostile_answers_and_file_names_cannot_change_the_document(workspace, make_return, cli, tmp_path):
    hostile = (
        "Line one\n# not a heading\n<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[click](javascript:alert(3)) ![x](http://evil.example/x.png) | a | b |"
    )
    path = make_return("KZ", "MOH", {"DRUGS.challenges": hostile}, name="KZ-MOH \x1b[31mred|pipe.xlsx")
    assert ingest([path], workspace)[0].status == "accepted"
    out = tmp_path / "hostile"
    result = cli("synthesize", "-c", "KZ", "--out", str(out))
    assert result.exit_code == 0, result.stderr  # a control character in a file name does not stop Word output
    md = (out / "KZ-synthesis.en.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "<img" not in md
    assert not re.search(r"(?<!\\)\]\((javascript|http)", md)  # no live link or remote image
    assert "&lt;script&gt;" in md
    quote = md[md.index("> Line one") :].split("\n\n")[0]
    assert all(line.startswith(">") for line in quote.splitlines())  # every line stays in the blockquote
    assert "> \\# not a heading" in quote
    row = next(line for line in md.splitlines() if "red" in line and "pipe.xlsx" in line)
    assert row.count(" | ") == 3 and "\x1b" not in row  # 4 cells (audit annex): the pipe is escaped, ESC dropped
    doc = Document(str(out / "KZ-synthesis.en.docx"))
    assert any("<script>" in p.text for p in doc.paragraphs if p.style.name == "Quote")  # plain text in Word


def test_quotes_translation_round_trip(consulted, cli, tmp_path):
    from openpyxl import load_workbook

    sheet_path = tmp_path / "quotes.xlsx"
    assert cli("quotes", "export", "--lang", "en", "--out", str(sheet_path)).exit_code == 0
    wb = load_workbook(sheet_path)
    ws = wb["quotes"]
    header = [c.value for c in ws[1]]
    assert header == ["id", "country", "institution", "area", "question", "language", "original", "translation"]
    rows = {r[6].value: r for r in ws.iter_rows(min_row=2)}
    assert "ВИЧ среди людей, употребляющих наркотики." in rows
    assert all(r[5].value == "ru" for r in rows.values())  # only quotes not in English are exported
    row = rows["ВИЧ среди людей, употребляющих наркотики."]
    row[7].value = "HIV among people who use drugs."
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    # a careless translator edits an original and invents an id: refused with the cells, nothing stored
    bad = load_workbook(filled)
    bad["quotes"].cell(row=row[0].row, column=7).value = "ВИЧ"
    bad["quotes"].append(["QDEADBEEF00", "KZ", "MOH", "", "", "ru", "x", "y"])
    bad.save(tmp_path / "bad.xlsx")
    refused = cli("quotes", "import", str(tmp_path / "bad.xlsx"), "--lang", "en", "--json")
    assert refused.exit_code == 1
    problems = json.loads(refused.stdout)["errors"]
    assert {(p["code"], p["cell"]) for p in problems} == {
        ("quote-edited", f"G{row[0].row}"),
        ("quote-unknown", f"A{bad['quotes'].max_row}"),
    }
    assert not (consulted.root / "translations" / "quotes-en.json").exists()
    # a file exported for English, imported as Russian: one line naming the file's language
    wrong = cli("quotes", "import", str(filled), "--lang", "ru")
    assert wrong.exit_code == 1 and "no quote has the id" not in wrong.stderr
    assert "this file is for English (en), not Russian (ru)" in " ".join(wrong.stderr.split())
    assert cli("quotes", "import", str(filled), "--lang", "en").exit_code == 0
    # the default name carries the language, as every output does
    assert cli("quotes", "export", "--lang", "ru").exit_code == 0
    assert (consulted.root / "translations" / "quotes.ru.xlsx").is_file()
    out = tmp_path / "tr"
    assert cli("synthesize", "-c", "KZ", "--out", str(out)).exit_code == 0
    md = (out / "KZ-synthesis.en.md").read_text(encoding="utf-8")
    assert "> HIV among people who use drugs.\n>\n> *ВИЧ среди людей, употребляющих наркотики.*" in md
    doc = Document(str(out / "KZ-synthesis.en.docx"))
    texts = [p.text for p in doc.paragraphs if p.style.name == "Quote"]
    at = texts.index("HIV among people who use drugs.")
    assert texts[at + 1] == "ВИЧ среди людей, употребляющих наркотики."
