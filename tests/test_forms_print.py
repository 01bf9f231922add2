"""The questionnaire on paper: every generated and example workbook, reopened and measured.

A ministry prints the questionnaire to discuss it and sends the filled file back; these
tests check what the printout would show, on the real files: rows tall enough for their
wrapped text (estimated here independently of the writer, from characters per line at the
column width), A4 landscape one page wide with country, institution and page number on
every page, named fonts, tab names that fit, no round slug, and, where LibreOffice is
installed, the page count of a real PDF.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from consult.definitions import bundled_definition
from consult.forms.writer import generate, targets
from consult.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples" / "returns").rglob("*.xlsx"))
SLUG = "test-round-slug"
DEADLINE = "2020-09-30"

# The test's own estimate, independent of consult.forms.fit and a little more lenient than
# it: an Arial 10 character takes at most 1/1.1 of a width unit (measured in LibreOffice:
# Latin ~1/1.3, Cyrillic ~1/1.15), a line at least 1.2 times the font size.
CHARS_PER_UNIT = 1.1
LINE = 1.2


def lines_for(value: str, width: float, size: float) -> int:
    per_line = max(1, int((width - 1) * CHARS_PER_UNIT * 10 / size))
    return sum(max(1, math.ceil(len(p) / per_line)) for p in value.split("\n"))


def width_of(ws: Worksheet, col: int) -> float:
    dim = ws.column_dimensions.get(get_column_letter(col))
    return dim.width if dim is not None and dim.width else 8.43


def hidden(ws: Worksheet, col: int) -> bool:
    dim = ws.column_dimensions.get(get_column_letter(col))
    return bool(dim is not None and dim.hidden)


def dropdown_options(wb: openpyxl.Workbook, ws: Worksheet) -> dict[str, list[str]]:
    """cell ref -> the options its drop-down list can put in the cell."""
    out: dict[str, list[str]] = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type != "list" or not dv.formula1:
            continue
        sheet, ref = dv.formula1.rsplit("!", 1)
        lists = wb[sheet.strip("'")]
        options = [str(c.value) for row in lists[ref.replace("$", "")] for c in row if c.value is not None]
        for rng in dv.sqref.ranges:
            c1, r1, c2, r2 = range_boundaries(str(rng))
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    out[f"{get_column_letter(c)}{r}"] = options
    return out


def visible_sheets(wb: openpyxl.Workbook) -> Iterator[Worksheet]:
    return (ws for ws in wb.worksheets if ws.sheet_state == "visible")


def too_short_rows(path: Path) -> list[str]:
    """Every row (sheet!row) whose stored height is less than its wrapped text needs."""
    wb = openpyxl.load_workbook(path)
    problems = []
    for ws in visible_sheets(wb):
        options = dropdown_options(wb, ws)
        merged = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
        for row in ws.iter_rows():
            height = ws.row_dimensions[row[0].row].height or 15.0
            for cell in row:
                if hidden(ws, cell.column):
                    continue
                texts = [str(cell.value)] if cell.value is not None else []
                texts += options.get(cell.coordinate, [])
                if not texts:
                    continue
                m = merged.get((cell.row, cell.column))
                width = (
                    sum(width_of(ws, c) for c in range(m.min_col, m.max_col + 1)) if m else width_of(ws, cell.column)
                )
                size = float(cell.font.sz or 11)
                need = max(lines_for(t, width, size) for t in texts) * size * LINE
                if height < need:
                    problems.append(f"{path.name}!{ws.title}!{cell.coordinate}: {height} pt < {need:.1f} pt")
    return problems


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bilingual and Russian-only questionnaires of a round with a slug and a deadline."""
    base = tmp_path_factory.mktemp("printed")
    d = bundled_definition()
    ws = Workspace(
        root=base / "ws",
        round=SLUG,
        deadline=DEADLINE,
        contact="ROCA team, consultation@example.org",
        countries=["KZ", "AZ"],
        institutions=["MOIA", "FIU", "MFA"],
    )
    generate(d, ws, targets(ws, None, None), base / "bi", ["en", "ru"])
    generate(d, ws, targets(ws, ["KZ"], ["MOIA"]), base / "ru", ["ru"])
    return {
        "bi": base / "bi" / "KZ" / "KZ-MOIA.en-ru.xlsx",
        "bi_fiu": base / "bi" / "KZ" / "KZ-FIU.en-ru.xlsx",
        "bi_az": base / "bi" / "AZ" / "AZ-MFA.en-ru.xlsx",
        "ru": base / "ru" / "KZ" / "KZ-MOIA.ru.xlsx",
    }


def test_generated_rows_fit_their_wrapped_text_and_dropdown_options(forms, printed):
    paths = sorted(forms.glob("*/*.xlsx")) + list(printed.values())
    problems = [p for path in paths for p in too_short_rows(path)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_example_returns_rows_fit_their_answers():
    assert len(EXAMPLES) >= 15
    problems = [p for path in EXAMPLES for p in too_short_rows(path)]
    assert not problems, "\n".join(problems[:20])


def check_print_settings(path: Path, country: str, institution: str) -> None:
    wb = openpyxl.load_workbook(path)
    sheets = list(visible_sheets(wb))
    assert len(sheets) >= 4
    for ws in sheets:
        where = f"{path.name}!{ws.title}"
        assert ws.page_setup.paperSize == 9, where  # A4
        assert ws.page_setup.orientation == "landscape", where
        assert ws.sheet_properties.pageSetUpPr.fitToPage, where
        assert ws.page_setup.fitToWidth == 1, where
        cover = ws.title == wb.worksheets[0].title
        assert ws.page_setup.fitToHeight == (1 if cover else 0), where  # the cover on one page, sections flow
        header = f"{ws.oddHeader.left.text} {ws.oddHeader.center.text} {ws.oddHeader.right.text}"
        footer = f"{ws.oddFooter.left.text} {ws.oddFooter.center.text} {ws.oddFooter.right.text}"
        assert country in header and institution in header, where
        assert "&P" in footer and "&N" in footer, where
        for part in (ws.oddHeader, ws.oddFooter):
            assert len(part.to_tree("oddHeader").text or "") <= 255, where  # Excel's limit
        assert ws.oddHeader.left.font and ws.oddHeader.left.font.startswith("Arial"), where
        if not cover:
            assert ws.print_title_rows, where  # the column headings repeat on every page
        unnamed = [c.coordinate for row in ws.iter_rows() for c in row if c.value is not None and not c.font.name]
        assert not unnamed, f"{where}: cells without a font name {unnamed[:5]}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_returns_keep_print_settings(path):
    d = bundled_definition()
    country, institution = path.name.split(".")[0].split("-")[:2]
    check_print_settings(
        path,
        d.framework.country_by_code[country].name["en"],
        d.framework.institution_by_id[institution].name["ru"],
    )


def test_generated_print_settings_bilingual_and_russian(printed):
    check_print_settings(printed["bi"], "Kazakhstan / Казахстан", "Ministry of Internal Affairs")
    check_print_settings(printed["ru"], "Казахстан", "Министерство внутренних дел")


def respondent_texts(path: Path) -> str:
    """Everything a respondent can read: visible cells, tab names, headers and footers."""
    wb = openpyxl.load_workbook(path)
    parts = []
    for ws in visible_sheets(wb):
        parts.append(ws.title)
        parts += [str(h.text) for hf in (ws.oddHeader, ws.oddFooter) for h in (hf.left, hf.center, hf.right) if h.text]
        for row in ws.iter_rows():
            parts += [str(c.value) for c in row if c.value is not None and not hidden(ws, c.column)]
    return "\n".join(parts)


def test_no_round_slug_and_dates_and_titles_per_language(printed):
    d = bundled_definition()
    for path in printed.values():
        assert SLUG not in respondent_texts(path), path.name
        assert d.questionnaire.id not in respondent_texts(path), path.name
    bi = respondent_texts(printed["bi"])
    assert "30 September 2020" in bi and "30.09.2020" in bi
    assert d.questionnaire.title["en"] in bi and d.questionnaire.title["ru"] in bi
    ru = respondent_texts(printed["ru"])
    assert "30.09.2020" in ru and "September" not in ru
    assert d.questionnaire.title["ru"] in ru and d.questionnaire.title["en"] not in ru
    cover = openpyxl.load_workbook(printed["ru"]).worksheets[0]
    assert cover.title == "Титульный лист"
    assert "A1:B1" in {str(m) for m in cover.merged_cells.ranges}  # the title spans the page
    bi_cover = openpyxl.load_workbook(printed["bi"]).worksheets[0]
    assert bi_cover.row_dimensions[1].height >= 2 * 13  # one line per language at least


def test_tab_names_fit_and_speak_the_forms_language(printed):
    bi = openpyxl.load_workbook(printed["bi"]).sheetnames
    ru = openpyxl.load_workbook(printed["ru"]).sheetnames
    for name in bi + ru:
        assert len(name) <= 31, name
    visible_bi = [n for n in bi if not n.startswith("_")]
    visible_ru = [n for n in ru if not n.startswith("_")]
    assert all(re.search("[a-z]", n, re.I) and re.search("[а-я]", n, re.I) for n in visible_bi), visible_bi
    assert not any(re.search("[a-z]", n, re.I) for n in visible_ru), visible_ru
    assert any(n.endswith(" South Caucasus · Южный Кавказ") for n in bi), bi


def test_component_guidance_is_written_once_per_area(printed):
    wb = openpyxl.load_workbook(printed["bi"])
    for ws in visible_sheets(wb):
        hints = [row[6].value for row in ws.iter_rows(min_row=4) if row[0].value and ".component." in str(row[0].value)]
        if hints:
            assert hints[0] and not any(hints[1:]), ws.title


def test_south_caucasus_and_central_asia_get_their_own_question(printed):
    kz = respondent_texts(printed["bi_fiu"])
    az = respondent_texts(printed["bi_az"])
    assert "working with South Caucasus counterparts" in kz and "shared with Central Asia" not in kz
    assert "shared with Central Asia" in az and "working with South Caucasus counterparts" not in az
    assert "Central Asia and the South Caucasus" in kz and "Central Asia and the South Caucasus" in az


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_example_institutions_write_their_own_sentences():
    """No sentence of one institution's return appears in another institution's return."""
    by_text: dict[str, set[str]] = {}
    for path in EXAMPLES:
        wb = openpyxl.load_workbook(path)
        meta = {r[0]: r[1] for r in wb["_consult"].iter_rows(values_only=True)}
        col = openpyxl.utils.column_index_from_string(meta["answer_column"])
        who = f"{meta['country']}-{meta['institution']}"
        for ws in visible_sheets(wb):
            for row in ws.iter_rows(min_row=4, max_col=col):
                value = row[col - 1].value
                if row[0].value and isinstance(value, str) and len(value) > 40 and "@" not in value:
                    by_text.setdefault(value, set()).add(who)
    shared = {t: sorted(w) for t, w in by_text.items() if len(w) > 1 and not t.startswith(("Ministry", "Министерство"))}
    shared = {t: w for t, w in shared.items() if "/" not in t}  # drop-down labels are shared by design
    assert not shared, shared
    assert len(by_text) > 100


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed here")
@pytest.mark.parametrize("kind", ["bi", "ru"])
def test_questionnaire_prints_within_a_page_bound(printed, kind, tmp_path):
    """LibreOffice prints each sheet one page wide: a page per section at least, and no
    runaway page count (unset heights and widths once printed 39 pages of overprinted text)."""
    path = printed[kind]
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        timeout=240,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pages = pdf_pages((tmp_path / path.with_suffix(".pdf").name).read_bytes())
    sheets = len([s for s in openpyxl.load_workbook(path).worksheets if s.sheet_state == "visible"])
    assert sheets <= pages <= (12 if kind == "bi" else 11), pages


def test_printout_shows_the_choices_a_dropdown_hides_and_one_date_format(printed):
    """A printed form cannot open a drop-down: the top-5 ranking and the single-answer South
    Caucasus question list their options in the guidance; the date guidance follows the cell's
    format (ISO) in every language; the cover says what the form is for, how long it takes, and
    that free-text answers are quoted with attribution to the institution."""
    d = bundled_definition()
    questions = {q.id: q for s in d.questionnaire.sections for q in s.questions}
    sc = questions["sc_inclusion"]
    sc_options = d.questionnaire.choice_lists[str(sc.choices)]
    for key, lang in (("bi", "en"), ("bi", "ru"), ("ru", "ru")):
        texts = respondent_texts(printed[key])
        word = {"en": "Options: ", "ru": "Варианты: "}[lang]
        assert word + "; ".join(c.label[lang] for c in sc_options) in texts, (key, lang)
        top5 = next(t for t in texts.split("\n") if t.startswith(word) and t.count(";") >= 5)
        assert len(top5.split("; ")) >= 6  # the components of the institution's areas
        assert {"en": "Time needed", "ru": "Время заполнения"}[lang] in texts
        assert {"en": "attributed to your institution", "ru": "со ссылкой на ваше ведомство"}[lang] in texts
        assert "ДД.ММ.ГГГГ" not in texts
    wb = openpyxl.load_workbook(printed["ru"])
    date_cells = {
        c.number_format
        for ws in visible_sheets(wb)
        for row in ws.iter_rows()
        for c in row
        if "yy" in str(c.number_format).lower()
    }
    assert date_cells == {"yyyy-mm-dd"}, date_cells  # the cell shows what the guidance says
    bi = respondent_texts(printed["bi"])
    assert "Format YYYY-MM-DD" in bi and "Формат ГГГГ-ММ-ДД" in bi
