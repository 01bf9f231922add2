"""XlsxWriter's worksheet, patched in three private methods for the questionnaires.

The writer adds the cover (:mod:`consult.forms.writer`) and every section sheet (:mod:`consult.forms.section`)
with ``worksheet_class=PatchedWorksheet``.
What it changes, and why:

* ``Worksheet._write_cols``: one ``<col>`` element per column. XlsxWriter writes alike
  neighbours as one range (``min="4" max="5"``), which openpyxl files under the first column
  alone, so the second would read as hidden no more, or as of the default width (the example
  returns and the feedback workbooks are filled with openpyxl).
* ``XMLwriter._xml_empty_tag`` for ``<pageSetup>``: "fit to N pages" is written in full.
  XlsxWriter leaves out a ``fitToWidth`` or ``fitToHeight`` of 1 (the file format's default),
  which openpyxl then reads as unset, and the example returns, filled with openpyxl, keep what
  it reads.
* ``Worksheet._prepare_formula``: a data validation's formula without a function call (ours
  are ranges and numbers) skips XlsxWriter's search for newer Excel functions, some 150 regular
  expressions per formula, a third of the time of a workbook otherwise.

They are private methods, so a new XlsxWriter may rename them or change what they take: the
major version is pinned (``xlsxwriter>=3.1.9,<4`` in pyproject.toml, the oldest release the writer was run with), and
tests/test_xlsxwriter_patch.py fails by name when a patched method or an attribute it reads
is gone or takes other arguments (tests/test_generate.py and tests/test_forms_print.py check
the result in the files). Checked against XlsxWriter 3.1.9, 3.2.0 and 3.3.1 (that test and
tests/test_generate.py pass with each), and with 3.1.0 and 3.1.1 by that test alone (the
writer needs ``very_hidden()``, which they lack): their ``_prepare_formula`` takes no
``expand_future_functions``, so the patch passes on whatever arguments it is given.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.worksheet import Worksheet

# what the patch overrides or calls, with the parameters it relies on (tests/test_xlsxwriter_patch.py)
PATCHED = {
    "_write_cols": ("self",),
    "_write_col_info": ("self", "col_min", "col_max", "col_info"),
    "_prepare_formula": ("self", "formula"),
    "_xml_empty_tag": ("self", "tag", "attributes"),
}
READS = ("col_info", "fit_page", "fit_width", "fit_height")  # worksheet attributes the patch reads


class PatchedWorksheet(Worksheet):  # type: ignore[misc]  # XlsxWriter ships no type hints
    """XlsxWriter's worksheet with the three changes of this module's docstring."""

    def _write_cols(self) -> None:
        if self.col_info:
            self._xml_start_tag("cols")
            for col in sorted(self.col_info):
                self._write_col_info(col, col, self.col_info[col])
            self._xml_end_tag("cols")

    def _prepare_formula(self, formula: str, *args: Any, **kwargs: Any) -> str:
        if "(" not in formula and not formula.startswith("{"):
            return formula.removeprefix("=")
        return str(super()._prepare_formula(formula, *args, **kwargs))

    def _xml_empty_tag(self, tag: str, attributes: Any = None) -> None:
        if tag == "pageSetup" and self.fit_page:
            attributes = [(k, v) for k, v in attributes or [] if k not in ("fitToWidth", "fitToHeight")]
            attributes[1:1] = [("fitToWidth", self.fit_width), ("fitToHeight", self.fit_height)]
        super()._xml_empty_tag(tag, [] if attributes is None else attributes)  # a bare tag: <sheetData/>
