"""Word output of the syntheses, built with python-docx from the same context as the Markdown.

Real Word styles only (Title, Heading 1-3, Caption, Quote, List Bullet, a built-in table
style), page numbers in the footer: drafters paste sections into the programme document and
they take on its styles without reformatting.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from consult.fileio import save_atomic

TABLE_STYLE = "Light Grid Accent 1"
INLINE = re.compile(r"(\*\*[^*]+\*\*|\*[^*]+\*|`[^`]+`)")


def _inline(paragraph: Any, value: str) -> None:
    """Add ``value`` with Markdown **bold**, *italic* and `code` as runs."""
    for part in INLINE.split(value):
        if not part:
            continue
        if part.startswith("**"):
            paragraph.add_run(part[2:-2]).bold = True
        elif part.startswith("`"):
            paragraph.add_run(part[1:-1]).font.name = "Consolas"
        elif part.startswith("*") and len(part) > 2:
            paragraph.add_run(part[1:-1]).italic = True
        else:
            paragraph.add_run(part)


def _page_numbers(doc: DocumentType, label: str) -> None:
    footer = doc.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(f"{label} ")
    run = footer.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _table(
    doc: DocumentType,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    caption: str | None = None,
    numeric_from: int = 99,
    widths: Sequence[float] | None = None,
) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = TABLE_STYLE
    for cell, value in zip(table.rows[0].cells, header, strict=True):
        cell.text = str(value)
        cell.paragraphs[0].runs[0].bold = True
    for row in rows:
        cells = table.add_row().cells
        for i, (cell, value) in enumerate(zip(cells, row, strict=True)):
            cell.text = str(value)
            if i >= numeric_from:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths:  # Word reads cell widths, LibreOffice the grid: set both
        table.autofit = False
        for i, width in enumerate(widths):
            table.columns[i].width = Cm(width)
            for cell in table.columns[i].cells:
                cell.width = Cm(width)
    if caption:
        doc.add_paragraph(caption, style="Caption")


def _quote(doc: DocumentType, q: dict[str, str]) -> None:
    p = doc.add_paragraph(style="Quote")
    p.add_run(q["text"])
    p.add_run(f" — {q['institution']}").italic = True


def _markdown(doc: DocumentType, body: str) -> None:
    """The methodology annex: headings, bullets, indented formulas and paragraphs."""
    para: list[str] = []

    def flush() -> None:
        if para:
            _inline(doc.add_paragraph(), " ".join(para))
            para.clear()

    for line in body.splitlines():
        if line.startswith("#"):
            flush()
            doc.add_heading(line.lstrip("#").strip(), level=3)
        elif line.lstrip().startswith("- "):
            flush()
            _inline(doc.add_paragraph(style="List Bullet"), line.strip()[2:])
        elif line.startswith("    ") and line.strip():
            flush()
            run = doc.add_paragraph().add_run(line.strip())
            run.font.name = "Consolas"
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
    flush()


def _new(title: str, subtitle: str, page: str) -> DocumentType:
    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.author = "consult"
    doc.core_properties.comments = subtitle
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.2)
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.add_heading(title, level=0)
    _inline(doc.add_paragraph(), f"*{subtitle}*")
    _page_numbers(doc, page)
    return doc


def _picture(doc: DocumentType, png: bytes, caption: str) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(15))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(caption, style="Caption")


def _quotes(doc: DocumentType, quotes: list[dict[str, str]], empty: str | None = None) -> None:
    for q in quotes:
        _quote(doc, q)
    if not quotes and empty:
        doc.add_paragraph(empty).runs[0].italic = True


def country_docx(ctx: dict[str, Any], png: bytes, path: Path) -> Path:
    t = ctx["t"]
    doc = _new(t("country_title", country=ctx["country"]), t("subtitle", programme=ctx["programme"]), t("page"))
    doc.add_heading(t("h_facts"), level=1)
    for label, value in (
        (t("facts_round"), f"{ctx['round']} — {ctx['round_title']}"),
        (t("facts_deadline"), ctx["deadline"]),
        (t("facts_latest"), ctx["latest"]),
        (t("facts_invited"), str(ctx["invited"])),
        (t("facts_responded"), f"{len(ctx['responded'])} — {', '.join(ctx['responded']) or t('none')}"),
        (t("facts_incomplete"), ", ".join(ctx["incomplete"]) or t("none")),
        (t("facts_missing"), ", ".join(ctx["missing"]) or t("none")),
    ):
        _inline(doc.add_paragraph(style="List Bullet"), f"**{label}:** {value}")
    doc.add_heading(t("h_ranking"), level=1)
    doc.add_paragraph(t("ranking_intro"))
    _table(
        doc,
        [
            t("col_rank"),
            t("col_area"),
            t("col_score"),
            t("col_agreement"),
            t("col_n"),
            t("col_borda"),
            t("col_mentions"),
        ],
        [
            [
                a["rank"],
                a["name"] + (" †" if a["low"] else ""),
                a["score"],
                a["agreement"],
                a["n"],
                a["borda"],
                a["mentions"],
            ]
            for a in ctx["areas"]
        ],
        t("table_caption", country=ctx["country"]) + (f" {t('low_evidence_note')}" if ctx["any_low"] else ""),
        numeric_from=2,
        widths=[1.6, 6.7, 1.6, 2.0, 1.2, 1.9, 1.8],
    )
    _picture(doc, png, t("chart_caption", country=ctx["country"]))
    doc.add_heading(t("h_areas"), level=1)
    for a in ctx["areas"]:
        doc.add_heading(f"{a['rank']}. {a['name']}", level=2)
        if a["rated"]:
            _inline(
                doc.add_paragraph(),
                f"**{t('col_score')}:** {a['score']}{' †' if a['low'] else ''} · "
                f"**{t('col_agreement')}:** {a['agreement']} · **{t('col_n')}:** {a['n']}",
            )
            if a["top_components"]:
                comps = "; ".join(f"{c['name']} ({c['score']}, n={c['n']})" for c in a["top_components"])
                _inline(doc.add_paragraph(), f"**{t('top_components')}:** {comps}")
            if a["highest"]:
                _inline(doc.add_paragraph(), f"**{t('highest_raters')}:** {', '.join(a['highest'])}")
        else:
            _inline(doc.add_paragraph(), f"*{t('not_rated')}*")
        doc.add_heading(t("challenges"), level=3)
        _quotes(doc, a["quotes"], t("no_quotes"))
    if ctx["other_quotes"]:
        doc.add_heading(t("other_quotes"), level=2)
        _quotes(doc, ctx["other_quotes"])
    doc.add_heading(t("h_assistance"), level=1)
    doc.add_paragraph(t("assistance_intro"))
    _table(
        doc,
        [t("col_type"), *ctx["assistance_areas"], t("col_total")],
        [[r["label"], *r["counts"], r["total"]] for r in ctx["assistance"]],
        numeric_from=1,
    )
    if ctx["assistance_other"]:
        doc.add_heading(t("assistance_other"), level=3)
        _quotes(doc, ctx["assistance_other"])
    doc.add_heading(t("h_crosscutting"), level=1)
    doc.add_paragraph(t("crosscutting_intro"))
    for c in ctx["crosscutting"] or [{"label": t("none"), "count": ""}]:
        doc.add_paragraph(f"{c['label']}: {c['count']}", style="List Bullet")
    for group in ctx["crosscutting_texts"]:
        if group["quotes"]:
            doc.add_heading(group["title"], level=3)
            _quotes(doc, group["quotes"])
    doc.add_heading(t("h_south_caucasus"), level=1)
    doc.add_paragraph(t("sc_intro"))
    for c in ctx["sc"] or [{"label": t("none"), "count": ""}]:
        doc.add_paragraph(f"{c['label']}: {c['count']}", style="List Bullet")
    if ctx["sc_comments"]:
        doc.add_heading(t("comments"), level=3)
        _quotes(doc, ctx["sc_comments"])
    doc.add_paragraph(t("interregional_intro"))
    for c in ctx["interregional"] or [{"label": t("none"), "count": ""}]:
        doc.add_paragraph(f"{c['label']}: {c['count']}", style="List Bullet")
    _quotes(doc, ctx["interregional_comments"])
    doc.add_heading(t("h_annex_method"), level=1)
    _markdown(doc, ctx["methodology"])
    doc.add_paragraph(ctx["round_numbers"])
    doc.add_heading(t("h_annex_returns"), level=1)
    doc.add_paragraph(t("returns_intro"))
    _table(
        doc,
        [t("col_file"), t("col_institution"), t("col_sha"), t("col_received"), t("col_status")],
        [[r["file"], r["institution"], r["sha"], r["received"], r["status"]] for r in ctx["returns"]],
    )
    _inline(doc.add_paragraph(), f"*{ctx['generated_by']}*")
    return save_atomic(path, lambda tmp: doc.save(str(tmp)))


def regional_docx(ctx: dict[str, Any], png: bytes, path: Path) -> Path:
    t = ctx["t"]
    doc = _new(
        t("regional_title"),
        f"{t('subtitle', programme=ctx['programme'])} — {t('facts_round')}: {ctx['round']}",
        t("page"),
    )
    doc.add_heading(t("h_matrix"), level=1)
    _table(
        doc,
        [t("col_area"), *ctx["codes"], t("col_mean")],
        [[r["name"], *r["scores"], r["mean"]] for r in ctx["rows"]],
        t("matrix_caption"),
        numeric_from=1,
    )
    _picture(doc, png, t("heatmap_caption"))
    doc.add_heading(t("h_shared"), level=1)
    doc.add_paragraph(t("shared_intro"))
    for a in ctx["shared"] or [t("none")]:
        doc.add_paragraph(a, style="List Bullet")
    doc.add_heading(t("h_outliers"), level=1)
    doc.add_paragraph(t("outliers_intro"))
    if ctx["outliers"]:
        _table(
            doc,
            [t("col_country"), t("col_area"), t("col_score"), t("col_others"), t("col_difference")],
            [[o["country"], o["area"], o["score"], o["others"], o["difference"]] for o in ctx["outliers"]],
            numeric_from=2,
        )
    else:
        doc.add_paragraph(t("none"), style="List Bullet")
    doc.add_heading(t("h_coverage"), level=1)
    _table(
        doc,
        [t("col_country"), t("facts_invited"), t("facts_responded")],
        [[c["country"], c["invited"], c["responded"]] for c in ctx["coverage"]],
        numeric_from=1,
    )
    doc.add_heading(t("h_annex_method"), level=1)
    _markdown(doc, ctx["methodology"])
    _inline(doc.add_paragraph(), f"*{ctx['generated_by']}*")
    return save_atomic(path, lambda tmp: doc.save(str(tmp)))
