"""The look of a questionnaire workbook: its cell styles and column widths, in one place.

The section sheets, the cover and the feedback copy of a form (:mod:`consult.feedback.workbook`,
which adds sheets with openpyxl) must look alike; keeping every style here, the XlsxWriter
formats beside their openpyxl twins, lets no one drift from the others unseen.
"""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Font, PatternFill

from consult.forms.fit import BODY_SIZE, FONT_NAME

# Every font is named: a cell whose font has no name prints in the viewer's fallback (often serif).
_FONT = {"font_name": FONT_NAME, "font_size": BODY_SIZE}
_WRAP = {"text_wrap": True, "valign": "top"}
_BOX = {"border": 1, "border_color": "#BFBFBF", "pattern": 1}
# The cell styles of the workbook, by name (XlsxWriter format properties).
STYLES: dict[str, dict[str, Any]] = {
    "heading": {**_FONT, **_WRAP, "font_size": 13, "bold": True, "font_color": "#1F4E79"},
    "legend": {**_FONT, **_WRAP, "font_size": 9, "italic": True},
    "header": {**_FONT, **_WRAP, "bold": True, "font_color": "#FFFFFF", "pattern": 1, "bg_color": "#1F4E79"},
    "body": {**_FONT, **_WRAP},
    "bold": {**_FONT, **_WRAP, "bold": True},
    "indent": {**_FONT, **_WRAP, "indent": 1},
    "small": {**_FONT, **_WRAP, "font_size": 9, "font_color": "#404040"},
    "input": {**_FONT, **_WRAP, **_BOX, "bg_color": "#FFF2CC", "locked": False},  # yellow, unlocked
    "input_date": {**_FONT, **_WRAP, **_BOX, "bg_color": "#FFF2CC", "locked": False, "num_format": "yyyy-mm-dd"},
    "locked": {**_FONT, **_WRAP, **_BOX, "bg_color": "#EDEDED"},  # the title row of a multi-row question
}
# The same look as openpyxl objects, for sheets added with openpyxl to a generated workbook
# (consult.feedback.workbook): kept beside STYLES so that the two cannot drift apart unseen.
BODY = Font(name=FONT_NAME, size=BODY_SIZE)
BOLD = Font(name=FONT_NAME, size=BODY_SIZE, bold=True)
HEADING = Font(name=FONT_NAME, size=13, bold=True, color="1F4E79")
HEADER_FONT = Font(name=FONT_NAME, size=BODY_SIZE, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
# (font size, bold) of each style, for row heights; the styles an empty cell is written in
FONTS = {name: (float(spec["font_size"]), bool(spec.get("bold"))) for name, spec in STYLES.items()}
SHOWN_EMPTY = {name for name, spec in STYLES.items() if "pattern" in spec or "border" in spec}
# Column widths (Excel units, about one Arial 10 character each): landscape A4, one page wide.
NO_WIDTH = 8
ANSWER_WIDTH = 44
RANK_ANSWER_WIDTH = 56
HINT_WIDTH = 28
LABELS_WIDTH = 80  # shared by the label columns: 40 each when bilingual, 80 when one language
DIGIT_PIXELS = 7  # an Arial 10 digit, the unit of column widths
