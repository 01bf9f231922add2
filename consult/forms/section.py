"""A section sheet of the questionnaire: its questions, their answer cells and guidance.

One sheet per section of the form (see :mod:`consult.forms.writer` for the layout the reader
relies on): a heading, the column headings, then per question a row with its number and label
in each language, its answer cell (styled, and validated by :mod:`consult.forms.validations`)
and its guidance; a multiple choice or a ranking is a locked title row followed by one answer
row per choice or per ranked slot.

Why a module of its own: a section sheet is the one part of the workbook that the reader reads
back (hidden ids in columns A and B, the answer column), so it is kept apart from the cover and
the print setup, which can change freely.
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.format import Format

from consult.definitions.framework import text
from consult.definitions.qtypes import CELL, CHOICES, SLOTS
from consult.definitions.questionnaire import Form, Item
from consult.definitions.wording import Wording, joined
from consult.forms.layout import FIRST_ROW, HEADER_ROW, Layout
from consult.forms.printing import PageText, printable
from consult.forms.sheet import Sheet, get_column_letter, protect
from consult.forms.styles import ANSWER_WIDTH, HINT_WIDTH, LABELS_WIDTH, NO_WIDTH, RANK_ANSWER_WIDTH
from consult.forms.validations import VALIDATIONS, AnswerCell, Lists, Validations, choice_label
from consult.forms.xlsxwriter_patch import PatchedWorksheet


def _options_hint(item: Item, langs: list[str], tx: Wording) -> str:
    """The options of a top-N ranking or a single-answer question, for the printout (a
    drop-down list is not printed; ratings are explained on the cover)."""
    if not item.qtype.options_hint or not item.choices:
        return ""
    return "\n".join(
        tx.one("options_hint", lang, options="; ".join(text(c.label, lang) for c in item.choices)) for lang in langs
    )


def question_number(form: Form, item_id: str) -> str:
    """The number the form shows for a question ("3.2": the third section's second question),
    computed from the form rather than kept on its items, which every workbook of the same
    form shares (``form_for`` caches it)."""
    for index, section in enumerate(form.sections, start=1):
        for n, item in enumerate(section.items, start=1):
            if item.id == item_id:
                return f"{index}.{n}"
    return item_id


def _when_hint(item: Item, form: Form, langs: list[str], tx: Wording) -> str:
    """ "Required if the answer to 2.9 is: Other", each language naming the choices in its own words."""
    when = item.when
    if not when or not when.question:
        return ""
    target = form.item_by_id.get(when.question)
    if target is None:
        return ""
    codes = [when.equals] if when.equals else (when.in_ or ([when.includes] if when.includes else []))
    number = question_number(form, target.id)
    lines = {}
    for lang in langs:
        quote = "«{}»" if lang == "ru" else "'{}'"
        names = [quote.format(text(c.label, lang)) for c in target.choices if c.code in codes]
        lines[lang] = tx.one("required_if", lang, question=number, choices=tx.one("word_or", lang).join(names))
    return joined(lines, langs, "\n")


def _headers(layout: Layout, langs: list[str], tx: Wording) -> dict[int, str]:
    """Column -> heading of a section sheet (the two hidden key columns keep their machine names)."""
    headers = {1: "item_id", 2: "part", 3: tx.joined("col_no", langs=langs)}
    for col, lang in zip(layout.label_cols, langs, strict=True):
        question = tx.one("col_question", lang)
        headers[col] = f"{question} ({lang.upper()})" if len(langs) > 1 else question
    headers[layout.answer_col] = tx.joined("col_answer", langs=langs)
    headers[layout.hint_col] = tx.joined("col_hint", langs=langs)
    return headers


def write_section(
    wb: xlsxwriter.Workbook,
    formats: dict[str, Format],
    title: str,
    form: Form,
    index: int,
    layout: Layout,
    lists: Lists,
    langs: list[str],
    tx: Wording,
    page: PageText,
) -> None:
    """Section ``index`` (from 1) of ``form`` as the sheet ``title`` of ``wb``, its drop-downs'
    options added to ``lists``."""
    section = form.sections[index - 1]
    ws = wb.add_worksheet(title, worksheet_class=PatchedWorksheet)
    dvs = Validations(langs, tx)
    ac = layout.answer_col
    hc = layout.hint_col
    letter = get_column_letter(ac)
    ranked = any(item.qtype.layout == SLOTS for item in section.items)
    widths = {3: float(NO_WIDTH)} | {col: LABELS_WIDTH / len(langs) for col in layout.label_cols}
    # the answer cell shows the chosen option: wider where options are whole component names
    widths[ac] = RANK_ANSWER_WIDTH if ranked else ANSWER_WIDTH
    widths[hc] = HINT_WIDTH
    sheet = Sheet(ws, formats, widths, hidden=(1, 2))

    sheet.merge(1, 3, hc, joined(section.title, langs), "heading")
    sheet.merge(2, 3, hc, tx.joined("required_legend", langs=langs), "legend")
    sheet.fit(1)
    sheet.fit(2)
    for col, value in _headers(layout, langs, tx).items():
        sheet.put(HEADER_ROW, col, value, "header")
    sheet.fit(HEADER_ROW)

    yes = tx.joined("choice_yes", langs=langs)
    row = FIRST_ROW
    shown_hint: tuple[str, str] | None = None  # a guidance text is written once per run of rows
    for n, item in enumerate(section.items, start=1):
        qtype = item.qtype
        number = f"{index}.{n}"
        mark = "\u00a0*" if item.required else ""  # no-break space: the star never wraps alone
        # a date's guidance follows the cell's format (ISO in every language); a choice the
        # printout cannot show as a drop-down is listed in the guidance (top-5, single answers)
        guide = qtype.guidance
        guidance = tx.joined(guide, langs=langs, sep="\n") if guide else joined(item.hint, langs, "\n")
        hint = "\n".join(filter(None, [guidance, _options_hint(item, langs, tx), _when_hint(item, form, langs, tx)]))
        if item.component and (item.qid, hint) == shown_hint:
            hint = ""  # the same guidance on every component row only repeats itself
        else:
            shown_hint = (item.qid, hint)

        def put(
            r: int,
            part: str,
            labels: dict[str, str],
            numbering: str,
            answer: str,
            bold: bool = False,
            indent: bool = False,
            item: Item = item,
        ) -> None:
            sheet.put(r, 1, item.id)
            sheet.put(r, 2, part)
            sheet.put(r, 3, numbering, "bold" if bold else "body")
            for col, lang in zip(layout.label_cols, langs, strict=True):
                sheet.put(r, col, text(labels, lang), "bold" if bold else "indent" if indent else "body")
            sheet.put(r, ac, None, answer)

        if qtype.layout != CELL:  # a title row, then one answer row per choice or per slot
            labels = {lang: item.label.get(lang, "") + mark for lang in item.label}
            put(row, "", labels, number, "locked", bold=True)
            sheet.put(row, hc, hint, "small")
            sheet.fit(row)
            row += 1
            if qtype.layout == CHOICES:
                rng = lists.range_for("yes", [yes])
                for choice in item.choices:
                    put(row, choice.code, choice.label, "", qtype.style, indent=True)
                    dvs.add("yes", f"{letter}{row}", validate="list", source=rng)
                    sheet.fit(row, {ac: yes})
                    row += 1
            else:
                key = f"rank:{item.id}"
                options = [choice_label(c, langs) for c in item.choices]
                rng = lists.range_for(key, options)
                longest = max(options, key=len, default="")
                for pos in range(1, item.size + 1):
                    slot = {lang: tx.one("rank_slot", lang, n=pos) for lang in langs}
                    put(row, str(pos), slot, "", qtype.style, indent=True)
                    dvs.add(key, f"{letter}{row}", validate="list", source=rng)
                    sheet.fit(row, {ac: longest})
                    row += 1
            continue

        labels = {lang: item.label.get(lang, "") + mark for lang in item.label}
        put(row, "", labels, number, qtype.style)
        sheet.put(row, hc, hint, "small")
        widest, minimum = VALIDATIONS[qtype.validation](AnswerCell(item, f"{letter}{row}", dvs, lists, langs, tx))
        extra = {} if widest is None else {ac: widest}
        sheet.fit(row, extra, minimum)
        row += 1
    dvs.write(ws)
    ws.freeze_panes(FIRST_ROW - 1, 2)
    printable(ws, page, title_row=HEADER_ROW)
    protect(ws)
