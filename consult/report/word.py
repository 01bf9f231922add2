"""Word rendering of a :class:`~consult.report.document.Document` with python-docx.

Real Word styles only (Title, Heading 1-3, Caption, Quote, List Bullet, a built-in table
style) so that drafters paste sections into the programme document and they take on its
styles. Printed as the office prints: A4, captions above tables, header rows repeated on
every page, rows never split across pages, explicit column widths that fit the text width
(wide tables get a landscape section), page numbers and a running header.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from docx import Document as new_docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, nsmap, qn
from docx.oxml.parser import oxml_parser
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run as DocxRun

from consult.fileio import save_atomic
from consult.report.document import (
    Block,
    Bullets,
    Contents,
    Document,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    Quote,
    Run,
    Table,
    clean,
)

TABLE_STYLE = "Light Grid Accent 1"
A4 = (Cm(21.0), Cm(29.7))
MARGIN = Cm(2.0)
FONT = "Calibri"
TABLE_PT = Pt(9.5)
LANG_TAGS = {"en": "en-GB", "ru": "ru-RU", "kk": "kk-KZ", "ky": "ky-KG", "tg": "tg-TJ", "uz": "uz-Latn-UZ"}


def lang_tag(lang: str) -> str:
    """The proofing language Word declares for the text (UN English is British)."""
    return LANG_TAGS.get(lang, lang)


def _declare_language(docx: DocxDocument, lang: str) -> None:
    """``w:lang`` of the document defaults and of every style that sets one: Word proofs the
    text in the document's language (a Russian synthesis declared en-US is all red underlines)."""
    tag = lang_tag(lang)
    styles = docx.styles.element
    for el in styles.iter(qn("w:lang")):
        el.set(qn("w:val"), tag)
        el.set(qn("w:eastAsia"), tag)
    normal = docx.styles["Normal"].element.get_or_add_rPr()
    if normal.find(qn("w:lang")) is None:
        el = OxmlElement("w:lang")
        el.set(qn("w:val"), tag)
        el.set(qn("w:eastAsia"), tag)
        normal.append(el)


def text_width(landscape: bool) -> float:
    """Usable width in cm between the margins."""
    return (29.7 if landscape else 21.0) - 2 * 2.0


# schema order (CT_PPr, CT_RPr) of the paragraph and run properties this module sets, and of
# those it finds next to them; a tag not listed counts as coming first
_PPR_ORDER = {
    qn(f"w:{tag}"): i for i, tag in enumerate(("pStyle", "keepNext", "pBdr", "shd", "spacing", "jc", "rPr", "sectPr"))
}
_RPR_ORDER = {
    qn(f"w:{tag}"): i for i, tag in enumerate(("rStyle", "rFonts", "b", "bCs", "i", "iCs", "sz", "szCs", "lang"))
}


_W = {"w": nsmap["w"]}


def _w(tag: str) -> BaseOxmlElement:
    """``OxmlElement(tag)`` for a ``w:`` tag given in Clark notation, without parsing the
    prefixed name again on each of the tens of thousands of calls a synthesis makes."""
    return oxml_parser.makeelement(tag, nsmap=_W)  # type: ignore[no-any-return]  # lxml is untyped here


def _property(parent: BaseOxmlElement, tag: str, order: dict[str, int]) -> BaseOxmlElement:
    """The ``tag`` child of a properties element, added in schema order if missing. What
    python-docx's property setters do, without their scan of every possible successor tag
    (thousands of times per synthesis, that scan was most of the time a Word file took)."""
    name = qn(tag)
    found = parent.find(name)
    if found is not None:
        return found  # type: ignore[no-any-return]  # lxml is untyped here
    element = _w(name)
    rank = order[name]
    for i, child in enumerate(parent):
        if order.get(child.tag, -1) > rank:
            parent.insert(i, element)
            return element
    parent.append(element)
    return element


def _properties(parent: BaseOxmlElement, tag: str) -> BaseOxmlElement:
    """The properties element (``w:pPr`` of a paragraph, ``w:rPr`` of a run), always its first
    child: found, or made there."""
    first = parent[0] if len(parent) else None
    if first is not None and first.tag == tag:
        return first  # type: ignore[no-any-return]  # lxml is untyped here
    element = _w(tag)
    parent.insert(0, element)
    return element


def _ppr(paragraph: DocxParagraph) -> BaseOxmlElement:
    return _properties(paragraph._p, _PPR)


def _rpr(run: DocxRun) -> BaseOxmlElement:
    return _properties(run._r, _RPR)


_P, _PPR, _PSTYLE, _R, _RPR, _T = (qn(f"w:{tag}") for tag in ("p", "pPr", "pStyle", "r", "rPr", "t"))


def _flag(run: DocxRun, tag: str) -> None:
    """``run.bold = True`` / ``run.italic = True`` (``tag`` "w:b" / "w:i")."""
    _property(_rpr(run), tag, _RPR_ORDER)


def _size(run: DocxRun, points: float) -> None:
    """``run.font.size = Pt(points)``: the size in half-points."""
    _property(_rpr(run), "w:sz", _RPR_ORDER).set(qn("w:val"), str(int(points * 2)))


def para(docx: DocxDocument, style: str | None = None, text: str = "") -> DocxParagraph:
    """A paragraph in a named style, at the end of the body. python-docx looks a style up by
    scanning every style on each call, and finds the body's end by scanning every paragraph
    before it (quadratic in a synthesis of thousands of paragraphs): the style ids are looked
    up once per document, and the paragraph goes straight before the final section mark."""
    body = docx.element.body
    end = docx.__dict__.get("_consult_end")
    if end is None or end.getparent() is not body:  # the sentinel sectPr stays the body's last child
        end = docx.__dict__["_consult_end"] = body.get_or_add_sectPr()
    element = _w(_P)
    end.addprevious(element)
    p = DocxParagraph(element, docx._body)
    if style:
        ids: dict[str, str] = docx.__dict__.setdefault("_consult_style_ids", {})
        if style not in ids:
            ids[style] = docx.styles[style].style_id
        ppr = _w(_PPR)
        p_style = _w(_PSTYLE)
        p_style.set(_VAL, ids[style])
        ppr.append(p_style)
        element.append(ppr)
    if text:
        add_text(p, text)
    return p


_VAL = qn("w:val")


def add_text(paragraph: DocxParagraph, text: str) -> DocxRun:
    """``paragraph.add_run(text)`` without python-docx's character-by-character append (its
    ``Run.text`` handles tabs and breaks one character at a time): text without them becomes
    one ``w:t`` directly; text with them takes the library's way."""
    if "\t" in text or "\n" in text or "\r" in text:
        return paragraph.add_run(text)
    r = _w(_R)
    paragraph._p.append(r)
    if text:
        t = _w(_T)
        t.text = text
        if len(text.strip()) < len(text):
            t.set(_SPACE, "preserve")
        r.append(t)
    return DocxRun(r, paragraph)


_SPACE = qn("xml:space")


def _runs(paragraph: DocxParagraph, parts: list[Run]) -> None:
    for r in parts:
        run = add_text(paragraph, clean(r.text))
        if r.bold:  # set only when on: setting None still adds an empty run-properties element
            _flag(run, "w:b")
        if r.italic:
            _flag(run, "w:i")


def _field_char(kind: str) -> BaseOxmlElement:
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), kind)
    return el


def _field(run: object, code: str, close: str = "end") -> None:
    """A Word field in ``run``: its start, its code, then ``close``: "end", or "separate" when
    the field's shown result follows in later runs (a table of contents), which then end it."""
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = code
    for el in (_field_char("begin"), instr, _field_char(close)):
        run._r.append(el)  # type: ignore[attr-defined]


def _page_setup(section: object, landscape: bool = False) -> None:
    width, height = A4
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT  # type: ignore[attr-defined]
    section.page_width, section.page_height = (height, width) if landscape else (width, height)  # type: ignore[attr-defined]
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)
    section.footer.is_linked_to_previous = True  # type: ignore[attr-defined]
    section.header.is_linked_to_previous = True  # type: ignore[attr-defined]


def _header_footer(docx: DocxDocument, doc: Document) -> None:
    section = docx.sections[0]
    head = section.header.paragraphs[0]
    head.text = clean(doc.header or doc.title)
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_text(foot, f"{clean(doc.page_label)} ")
    _field(foot.add_run(), "PAGE")


def _keep_with_next(paragraph: DocxParagraph) -> None:
    _property(_ppr(paragraph), "w:keepNext", _PPR_ORDER)


def _align_right(paragraph: DocxParagraph) -> None:
    _property(_ppr(paragraph), "w:jc", _PPR_ORDER).set(_VAL, "right")


CHAR_CM = 0.215  # width of a wide-ish character at 10.5 pt Calibri (Carlito); bold headers a little wider
PADDING_CM = 0.45  # cell margins


def min_widths(block: Table) -> list[float]:
    """Per column, the width (cm) of its longest word (header included): below it, words break."""
    columns = list(zip(block.header, *block.rows, strict=True)) if block.rows else [(h,) for h in block.header]
    need = []
    for values in columns:
        header, *cells = values
        words = [len(w) * 1.12 for w in clean(header).split()] + [len(w) for c in cells for w in clean(c).split()]
        longest = max(words, default=1.0)
        need.append(max(longest, 1.0) * CHAR_CM + PADDING_CM)
    return need


def needs_landscape(block: Table) -> bool:
    return block.landscape or sum(min_widths(block)) > text_width(False)


def fit_widths(block: Table, available: float) -> list[float]:
    """Column widths (cm) within ``available`` in which no word has to break: every column is
    at least as wide as its longest word (header included); what is left goes to the columns
    in proportion to the widths the builder proposed."""
    need = min_widths(block)
    proposed = list(block.widths)
    total_need = sum(need)
    if total_need >= available:
        return [n * available / total_need for n in need]
    widths = [max(n, p) for n, p in zip(need, proposed, strict=True)]
    excess = sum(widths) - available
    if excess > 0:  # shrink the columns that have slack, in proportion to their slack
        slack = [w - n for w, n in zip(widths, need, strict=True)]
        total_slack = sum(slack) or 1.0
        widths = [w - excess * sl / total_slack for w, sl in zip(widths, slack, strict=True)]
    return widths


def _table(docx: DocxDocument, block: Table) -> DocxTable:
    """A table as real Word rows (repeated header, rows never split, fixed widths in both the
    grid, which LibreOffice reads, and the cells, which Word reads). The rows are written as one
    piece of WordprocessingML and parsed once: python-docx's cell-by-cell API builds each
    element through several lookups and was most of the time a synthesis took."""
    if block.caption:
        _keep_with_next(para(docx, "Caption", clean(block.caption)))
    table = docx.add_table(rows=0, cols=len(block.header))
    table.style = TABLE_STYLE
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [int(Cm(w).twips) for w in fit_widths(block, text_width(needs_landscape(block)))]
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(width))
    size = round(TABLE_PT.pt * 2)  # half-points
    rows = [_row_xml(block.header, widths, "", size, header=True)]
    rows += [_row_xml(values, widths, block.align, size) for values in block.rows]
    body = parse_xml(f"<w:tbl {nsdecls('w')}>{''.join(rows)}</w:tbl>")
    for row in list(body):
        table._tbl.append(row)
    return _table_end(docx, block, table)


def _row_xml(values: list[str], widths: list[int], align: str, size: int, header: bool = False) -> str:
    """One ``w:tr``: every cell one compact paragraph (no spacing, single line) of one run of
    ``size`` half-points, bold in the header, right-aligned where ``align`` says "r"."""
    flags = '<w:tblHeader w:val="true"/>' if header else ""
    cells = []
    for i, (value, width) in enumerate(zip(values, widths, strict=True)):
        jc = '<w:jc w:val="right"/>' if align[i : i + 1] == "r" else ""
        bold = "<w:b/>" if header else ""
        cells.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
            f'<w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>{jc}</w:pPr>'
            f'<w:r><w:rPr>{bold}<w:sz w:val="{size}"/></w:rPr>{_run_text(clean(value))}</w:r></w:p></w:tc>'
        )
    return f'<w:tr><w:trPr>{flags}<w:cantSplit w:val="true"/></w:trPr>{"".join(cells)}</w:tr>'


def _run_text(text: str) -> str:
    """A run's content as python-docx's ``Run.text`` writes it: line breaks as ``w:br``, tabs
    as ``w:tab``, the rest as ``w:t`` with its spaces kept."""
    parts = []
    for k, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if k:
            parts.append("<w:br/>")
        for j, piece in enumerate(line.split("\t")):
            if j:
                parts.append("<w:tab/>")
            if piece:
                parts.append(f'<w:t xml:space="preserve">{xml_escape(piece)}</w:t>')
    return "".join(parts)


def _table_end(docx: DocxDocument, block: Table, table: DocxTable) -> DocxTable:
    if block.note:
        note = para(docx, "Caption")
        _flag(add_text(note, clean(block.note)), "w:i")
    if block.source:
        _source(docx, block.source)
    return table


def _source(docx: DocxDocument, text: str) -> None:
    p = para(docx)
    run = add_text(p, clean(text))
    _size(run, 8.5)
    _flag(run, "w:i")


def _quote(docx: DocxDocument, block: Quote) -> None:
    """A quote's text is kept with its attribution (never an attribution alone at a page top)."""
    if block.translation:
        p = para(docx, "Quote")
        add_text(p, clean(block.translation))
        _keep_with_next(p)
        original = para(docx, "Quote")
        _flag(add_text(original, clean(block.text)), "w:i")
        _keep_with_next(original)
    else:
        p = para(docx, "Quote")
        add_text(p, clean(block.text))
        _keep_with_next(p)
    who = para(docx, "Quote")
    _flag(add_text(who, f"— {clean(block.attribution)}" + (f" [{block.lang}]" if block.lang else "")), "w:i")
    _align_right(who)


def orientations(blocks: list[Block]) -> list[bool]:
    """Landscape or not, per block: a wide table is landscape, and so are the headings and
    short paragraphs (intro, caption) right before it, so that a section break never strands
    a heading at the foot of a portrait page above a table that starts on the next one."""
    wide = [isinstance(b, Table) and needs_landscape(b) for b in blocks]
    for i, b in enumerate(blocks):
        if not wide[i] or not isinstance(b, Table):
            continue
        j = i - 1
        while (
            j >= 0
            and not wide[j]
            and (
                isinstance(blocks[j], Heading)
                or (isinstance(blocks[j], Paragraph) and len("".join(r.text for r in blocks[j].parts)) < 400)  # type: ignore[union-attr]
            )
        ):
            wide[j] = True
            j -= 1
    return wide


def _contents(docx: DocxDocument, doc: Document, block: Contents) -> None:
    """A TOC field with the section titles already in it: printed as is, or updated in Word
    (F9) to get page numbers."""
    _keep_with_next(para(docx, "Heading 1", clean(block.title)))
    entries = doc.sections() or [""]
    for i, entry in enumerate(entries):
        p = para(docx)
        p.paragraph_format.space_after = Pt(2)
        if i == 0:
            _field(p.add_run(), 'TOC \\o "1-1" \\h \\z \\u', close="separate")
        add_text(p, clean(entry))
        if i == len(entries) - 1:
            p.add_run()._r.append(_field_char("end"))


def _figure(docx: DocxDocument, block: Figure) -> None:
    _keep_with_next(para(docx, "Caption", clean(block.caption)))
    docx.add_picture(io.BytesIO(block.png), width=Cm(min(block.width_cm, text_width(False))))
    picture = docx.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if block.source:
        _keep_with_next(picture)
    for doc_pr in picture._p.iter(qn("wp:docPr")):
        doc_pr.set("descr", clean(block.alt or block.caption))
        doc_pr.set("title", clean(block.caption))
    if block.source:
        _source(docx, block.source)


def _paragraph(docx: DocxDocument, block: Paragraph) -> None:
    style = {"caption": "Caption", "note": None, "body": None, "source": None, "draft": None}[block.style]
    p = para(docx, style)
    _runs(p, block.parts)
    text = "".join(r.text for r in block.parts).rstrip()
    if text.endswith(":") or block.style == "caption":  # an intro line belongs to what follows it
        _keep_with_next(p)
    if block.style in ("note", "source"):
        for run in p.runs:
            _flag(run, "w:i")
            _size(run, 9 if block.style == "note" else 8.5)
    elif block.style == "draft":  # shaded, with a left rule: the drafter sees what to edit
        p_pr = p._p.get_or_add_pPr()
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:color"), "auto")
        shd.set(qn("w:fill"), "FFF2CC")
        borders = OxmlElement("w:pBdr")
        left = OxmlElement("w:left")
        for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "6"), ("w:color", "BF8F00")):
            left.set(qn(key), value)
        borders.append(left)
        p_pr.append(borders)
        p_pr.append(shd)


def build(doc: Document) -> DocxDocument:
    docx = new_docx()
    docx.core_properties.title = clean(doc.title)
    docx.core_properties.author = ""
    docx.core_properties.comments = clean(doc.subtitle)
    docx.core_properties.language = lang_tag(doc.lang)
    _declare_language(docx, doc.lang)
    normal = docx.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    docx.styles["List Bullet"].paragraph_format.space_after = Pt(2)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Caption", "Quote"):
        docx.styles[name].font.name = FONT
    _page_setup(docx.sections[0])
    _header_footer(docx, doc)
    para(docx, "Title", clean(doc.title))
    add_text(docx.add_paragraph(), clean(doc.subtitle)).italic = True
    if doc.status:
        add_text(para(docx), clean(doc.status)).bold = True
    if doc.purpose:
        para(docx, None, clean(doc.purpose))
    landscape = False
    for block, wide in zip(doc.blocks, orientations(doc.blocks), strict=True):
        if wide != landscape:
            _page_setup(docx.add_section(WD_SECTION.NEW_PAGE), landscape=wide)
            landscape = wide
        if isinstance(block, Heading):
            _keep_with_next(para(docx, f"Heading {block.level}", clean(block.text)))
        elif isinstance(block, Paragraph):
            _paragraph(docx, block)
        elif isinstance(block, Bullets):
            for item in block.items:
                _runs(para(docx, "List Bullet"), item)
        elif isinstance(block, Table):
            _table(docx, block)
        elif isinstance(block, Quote):
            _quote(docx, block)
        elif isinstance(block, Figure):
            _figure(docx, block)
        elif isinstance(block, Contents):
            _contents(docx, doc, block)
        elif isinstance(block, PageBreak):
            docx.add_page_break()
    return docx


def render(doc: Document, path: Path) -> Path:
    docx = build(doc)
    return save_atomic(path, lambda tmp: docx.save(str(tmp)))
