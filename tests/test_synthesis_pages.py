"""The syntheses as a reader sees them: the demo round's KZ, KG and regional documents in
English and Russian, rendered to PDF with LibreOffice, read page by page (pdftotext); and the
document model they are rendered from, for what a caption promises about its table's order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document as open_docx
from typer.testing import CliRunner

from consult.analysis.data import load_round
from consult.analysis.scoring import score_round
from consult.cli import app
from consult.definitions.wording import Wording
from consult.report.document import Document, Table
from consult.report.synthesis import Builder
from consult.workspace import open_store, open_workspace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.libreoffice,
    pytest.mark.skipif(
        shutil.which("soffice") is None or shutil.which("pdftotext") is None,
        reason="LibreOffice or poppler's pdftotext is not installed here",
    ),
]

DOCS = ("KZ", "KG", "regional")
LANGS = ("en", "ru")
HACKS = re.compile(r"\w\((?:s|es|а|ов|и|ы|я|ей|ий)\)")  # "institution(s)", "раз(а)"


def t(key: str, lang: str, **fmt: Any) -> str:
    from consult.definitions import bundled_definition

    return Wording.of(bundled_definition(), "report", lang)(key, **fmt)


def found(folder: Path, stem: str) -> Path:
    """The Word file of a document, whatever language suffix the file naming adds."""
    matches = sorted(folder.glob(f"{stem}-synthesis*.docx"))
    assert matches, f"no {stem} synthesis in {folder}"
    return matches[0]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (document, language): the .docx, its PDF's pages as text, and its headings."""
    root = tmp_path_factory.mktemp("pages")
    runner = CliRunner()
    demo = root / "demo"
    result = runner.invoke(app, ["demo", "--out", str(demo)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out: dict[tuple[str, str], dict[str, Any]] = {}
    pdfs = root / "pdf"
    pdfs.mkdir()
    for lang in LANGS:
        folder = root / lang
        args = ["--workspace", str(demo), "synthesize", "--all", "--regional", "--lang", lang, "--out", str(folder)]
        assert runner.invoke(app, [*args, "--format", "docx"], catch_exceptions=False).exit_code == 0
        for stem in DOCS:
            target = pdfs / f"{stem}-{lang}.docx"
            shutil.copy(found(folder, stem), target)
            out[(stem, lang)] = {"docx": target}
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(pdfs),
            *(str(v["docx"]) for v in out.values()),
        ],
        check=True,
        capture_output=True,
        timeout=600,
        env={**os.environ, "HOME": str(root)},
    )
    for entry in out.values():
        pdf = entry["docx"].with_suffix(".pdf")
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True)
        entry["pages"] = text.stdout.split("\f")[:-1] if text.stdout.endswith("\f") else text.stdout.split("\f")
        doc = open_docx(str(entry["docx"]))
        entry["headings"] = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading") and p.text]
    out_models: dict[tuple[str, str], Document] = {}
    ws = open_workspace(demo)
    with open_store(ws) as store:
        data = load_round(store, ws, None, ws.definition)
    result_ = score_round(data)
    for lang in LANGS:
        builder = Builder(data, result_, lang, ws.title, ws.deadline, {}, list(ws.countries))
        for stem in DOCS:
            doc = builder.regional_document()[0] if stem == "regional" else builder.country_document(stem)[0]
            out_models[(stem, lang)] = doc
    for key, entry in out.items():
        entry["model"] = out_models[key]
    return out


def lines(page: str) -> list[str]:
    """The content lines of a page: blank lines, the running header and the page number dropped."""
    rows = [re.sub(r"\s+", " ", x).strip() for x in page.splitlines()]
    rows = [x for x in rows if x]
    if rows and re.fullmatch(r"(Page|Стр\.) \d+", rows[-1]):
        rows = rows[:-1]
    return rows[1:]  # the running header


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", DOCS)
def test_page_one_holds_the_summary_and_the_ranking(rendered, stem, lang):
    entry = rendered[(stem, lang)]
    page1 = re.sub(r"\s+", " ", entry["pages"][0])
    assert t("h_summary", lang) in page1
    first = next(b for b in entry["model"].blocks if isinstance(b, Table))
    assert first.caption and first.caption in page1, "Table 1 starts on page 1"
    for row in first.rows:  # every row of it, to the last
        assert row[-1] in page1
    assert (first.source or first.note)[:40] in page1, "Table 1 ends on page 1"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", DOCS)
def test_no_heading_ends_a_page_and_no_attribution_starts_one(rendered, stem, lang):
    entry = rendered[(stem, lang)]
    heads = [re.sub(r"\s+", " ", h).strip() for h in entry["headings"]]
    sections = entry["model"].sections()
    for number, page in enumerate(entry["pages"][:-1], start=1):
        body = lines(page)
        if not body:
            continue
        last = body[-1]
        if last in sections and len(body) > 1 and body[-2] in sections:
            continue  # an entry of the contents, not a heading
        stranded = [h for h in heads if len(last) > 3 and h.endswith(last)]
        assert not stranded, f"page {number} ends with the heading {stranded[0]!r}"
        assert not lines(entry["pages"][number])[0].startswith("— "), f"page {number + 1} starts with an attribution"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", DOCS)
def test_no_plural_hacks_and_no_questionnaire_text(rendered, stem, lang):
    text = re.sub(r"\s+", " ", "\n".join(rendered[(stem, lang)]["pages"]))
    assert not HACKS.findall(text)
    heads = rendered[(stem, lang)]["headings"]
    for leak in ("please specify", "укажите", "Your view on", "Ваше мнение о"):
        assert not any(leak in h for h in heads), leak  # a question is never a heading
    assert "please specify" not in text and "(укажите)" not in text  # instructions to respondents
    assert not re.search(r"(?<![“«])(Your view on|Ваше мнение о)", text)  # quoted as a question, if at all
    if lang == "ru":
        for calque in (r"\bравно\b", "Место сохраняется", "Краткое изложение", "не является выводом"):
            assert not re.search(calque, text), calque
        assert "Резюме" in text
    if stem == "regional":
        assert "Annex B" not in text and "приложении Б" not in text  # the regional document has no Annex B


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", DOCS)
def test_the_document_declares_its_language_and_pictures_have_alt_text(rendered, stem, lang):
    with zipfile.ZipFile(rendered[(stem, lang)]["docx"]) as zf:
        styles = zf.read("word/styles.xml").decode()
        body = zf.read("word/document.xml").decode()
    tags = set(re.findall(r'<w:lang w:val="([^"]+)"', styles))
    assert tags == ({"ru-RU"} if lang == "ru" else {"en-GB"}), tags
    alts = re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', body)
    assert alts and all(len(a) > 20 for a in alts)


def numeric(cell: str) -> float | None:
    match = re.match(r"^[+-]?\d+(?:[.,]\d+)?", cell.strip())
    return float(match.group(0).replace(",", ".")) if match else None


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", DOCS)
def test_every_table_caption_matches_its_order(rendered, stem, lang):
    """A table that promises an order (``sort``) is in that order; every other table's caption
    says which order it follows (the programme's, the questionnaire's, of receipt...)."""
    doc: Document = rendered[(stem, lang)]["model"]
    phrases = {
        "en": ("in order of", "in the order of", "by size", "by number of", "alphabetical", "most requested first"),
        "ru": ("в порядке", "по числу", "в алфавитном", "по убыванию"),
    }[lang]
    captions = []
    for block in doc.blocks:
        if not isinstance(block, Table):
            continue
        captions.append(block.caption)
        assert block.caption, f"a table without a caption: {block.header}"
        if block.sort is None:
            assert any(p in block.caption for p in phrases), f"the caption does not say the order: {block.caption}"
            continue
        column, direction = block.sort
        values = [row[column] for row in block.rows]
        if direction == "asc":
            assert values == sorted(values), block.caption
            continue
        numbers = [numeric(v) for v in values]
        present = [n for n in numbers if n is not None]
        key = [abs(n) for n in present] if direction == "absdesc" else present
        assert key == sorted(key, reverse=True), (block.caption, values)
        assert numbers[: len(present)] == present, f"unscored rows come last: {block.caption}"
        assert any(p in block.caption for p in phrases), block.caption
    assert len(captions) == len(set(captions)), "two tables share a caption"


def test_weak_scores_are_marked_with_their_legend_wherever_they_appear(rendered):
    for (stem, lang), entry in rendered.items():
        doc: Document = entry["model"]
        legend = t("low_evidence_note", lang, n=3)[:30]
        for block in doc.blocks:
            if isinstance(block, Table) and any("†" in c for row in block.rows for c in row):
                assert "†" in block.note, (stem, lang, block.caption)
        text = "\n".join(entry["pages"])
        if "†" in text:
            assert legend in re.sub(r"\s+", " ", text), (stem, lang)
