"""The document model and its renderers, as pure functions: escaping, widths, one structure."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document as Docx

from consult.definitions.wording import format_date as fmt_date
from consult.report import markdown, word
from consult.report.document import Bullets, Document, Heading, Paragraph, Quote, Run, Table, clean
from consult.report.formats import quote_language


def doc(*blocks: object) -> Document:
    d = Document(title="T", subtitle="S", lang="en", page_label="Page")
    d.add(*blocks)  # type: ignore[arg-type]
    return d


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("[click](javascript:x)", "\\[click\\](javascript:x)"),
        ("a | b", "a \\| b"),
        ("*not bold* _nor this_", "\\*not bold\\* \\_nor this\\_"),
        ("cost (approx.) 5%", "cost (approx.) 5%"),  # harmless punctuation stays readable
        ("bell\x07 and esc\x1b[31m", "bell and esc\\[31m"),
    ],
)
def test_markdown_escapes_what_respondents_type(text: str, shown: str) -> None:
    assert markdown.escape(text) == shown


def test_quote_lines_stay_in_the_blockquote_and_cannot_start_blocks() -> None:
    md = markdown.render(doc(Quote("first\n# heading?\n- list?\n1. numbered?", "Ministry")))
    block = md[md.index("> first") :].strip().splitlines()
    assert block == ["> first", "> \\# heading?", "> \\- list?", "> 1\\. numbered?", "> — Ministry"]


def test_table_cells_stay_on_one_line_and_keep_their_count() -> None:
    md = markdown.render(doc(Table(["A", "B"], [["x\ny", "p|q"]], widths=[3, 3], align="lr", caption="Table 1. C")))
    lines = md.splitlines()
    head = lines.index("| A | B |")
    assert lines[head + 1] == "|---|---:|"
    assert lines[head + 2] == "| x y | p\\|q |"
    assert lines[head - 2] == "**Table 1. C**"  # the caption above the table


def test_same_blocks_same_structure_in_both_formats(tmp_path: Path) -> None:
    d = doc(
        Heading("Section"),
        Paragraph.of(Run("Bold: ", bold=True), "plain"),
        Bullets.of(["one", "two"]),
        Quote("Текст ответа", "Министерство", lang="ru"),
    )
    md = markdown.render(d)
    assert "## Section" in md and "**Bold:** plain" in md and "- one\n- two" in md and "— Министерство [ru]" in md
    docx = Docx(str(word.render(d, tmp_path / "d.docx")))
    styles = [(p.style.name, p.text) for p in docx.paragraphs]
    assert ("Heading 1", "Section") in styles and ("List Bullet", "two") in styles
    assert ("Quote", "Текст ответа") in styles and ("Quote", "— Министерство [ru]") in styles


def test_fitted_widths_never_break_a_word_and_fit_the_page() -> None:
    table = Table(["Место", "Согласованность оценок"], [["1", "100%"]], widths=[0.5, 0.5])
    widths = word.fit_widths(table, word.text_width(False))
    assert widths[1] >= len("Согласованность") * word.CHAR_CM  # the longest word fits its column
    wide = Table(["x"] * 12, [["Transboundary"] * 12], widths=[1.0] * 12)
    assert word.needs_landscape(wide)
    assert sum(word.fit_widths(wide, word.text_width(True))) <= word.text_width(True) + 1e-9


def test_dates_and_quote_languages() -> None:
    assert fmt_date("2020-09-30", "{dd}.{mm}.{year}") == "30.09.2020"
    assert fmt_date("2020-09-30", "{day} {month} {year}", "Jan Feb Mar Apr May Jun Jul Aug September Oct Nov Dec") == (
        "30 September 2020"
    )
    assert quote_language("Контрабанда героина", "en") == "ru"
    assert quote_language("Smuggling of heroin", "en") is None
    assert quote_language("Smuggling of heroin", "ru") == "en"
    assert clean("a\x00b\x1bc") == "abc"
