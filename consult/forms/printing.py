"""How a questionnaire prints: A4 landscape, one page wide, and whose form it is on every page.

Institutions print the questionnaire to discuss it, and a loose page must still say whose it
is: every sheet carries the country and the institution in its header and the page number in
its footer (:func:`page_text`, worked out once per form), set up by :func:`printable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from xlsxwriter.worksheet import Worksheet

from consult.definitions import Definition
from consult.definitions.questionnaire import Form
from consult.definitions.wording import Wording, joined
from consult.forms.fit import FONT_NAME

HEADER_LIMIT = 180  # characters of names in a page header (Excel: 255 with the font codes)


@dataclass
class PageText:
    """What every printed page carries: country and institution above, page number below."""

    header_left: str
    header_right: str
    footer_right: str

    @cached_property
    def header(self) -> str:
        return _header_footer(self.header_left, self.header_right)

    @cached_property
    def footer(self) -> str:
        return _header_footer("&A", self.footer_right)


def header_text(value: str) -> str:
    """Text for a page header or footer: '&' is a control character there."""
    return value.replace("&", "&&")


def _header_footer(left: str, right: str) -> str:
    """A page header or footer as Excel stores it: left and right parts, in Arial 8 (the
    space ends the size code, so that a text starting with a digit is not read as one)."""
    font = f'&"{FONT_NAME},Regular"&8 '
    packed = f"&L{font}{left}&R{font}{right}"
    if len(packed) > 255:
        raise ValueError(f"page header over Excel's 255 characters: {packed[:80]}...")
    return packed


def page_text(form: Form, definition: Definition, langs: list[str], tx: Wording) -> PageText:
    fw = definition.framework
    country = fw.country_by_code[form.country]
    inst = fw.institution_by_id[form.institution]
    names = langs
    if len(joined(country.name, langs) + joined(inst.name, langs)) > HEADER_LIMIT:
        names = langs[:1]  # Excel refuses a header over 255 characters, font codes included
    return PageText(
        header_left=header_text(joined(country.name, names)),
        header_right=header_text(joined(inst.name, names)),
        footer_right=tx.joined("page_of", langs=langs, page="&P", pages="&N"),
    )


def printable(ws: Worksheet, page: PageText, title_row: int | None = None, one_page: bool = False) -> None:
    """A4 landscape, one page wide (``one_page``: and one page tall), header and footer on every
    page: institutions print the questionnaire to discuss it, and a loose page must still say
    whose it is."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 1 if one_page else 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if title_row:
        ws.repeat_rows(title_row - 1)
    ws.set_header(page.header, {"margin": 0.25})
    ws.set_footer(page.footer, {"margin": 0.25})
