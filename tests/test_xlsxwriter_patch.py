"""The XlsxWriter patch (consult/forms/xlsxwriter_patch.py) overrides private methods: a new
XlsxWriter that renames one, or changes what it takes, must fail here by name, not as a
workbook that openpyxl misreads or a TypeError deep in ``consult generate``."""

from __future__ import annotations

import inspect
import io
import zipfile

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from consult.forms.xlsxwriter_patch import PATCHED, READS, PatchedWorksheet


def test_the_patched_private_methods_still_exist_with_the_parameters_the_patch_relies_on() -> None:
    for name, params in PATCHED.items():
        method = getattr(Worksheet, name, None)
        assert callable(method), f"XlsxWriter {xlsxwriter.__version__}: Worksheet.{name} is gone; revise the patch"
        found = tuple(inspect.signature(method).parameters)
        assert found[: len(params)] == params, (
            f"XlsxWriter {xlsxwriter.__version__}: Worksheet.{name}{found} no longer starts with {params}; "
            "revise consult/forms/xlsxwriter_patch.py"
        )
        required = [
            p.name
            for p in list(inspect.signature(method).parameters.values())[len(params) :]
            if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        assert not required, f"Worksheet.{name} now requires {required}, which the patch does not pass"
    sheet = Worksheet()
    missing = [a for a in READS if not hasattr(sheet, a)]
    assert not missing, f"XlsxWriter {xlsxwriter.__version__}: Worksheet has no {missing}; revise the patch"


def test_the_major_version_is_the_one_the_patch_was_checked_against() -> None:
    assert xlsxwriter.__version__.split(".")[0] == "3", "a new major XlsxWriter: check the patch, then the pin"


def _sheet_xml(**fit: int) -> str:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("S", worksheet_class=PatchedWorksheet)
    ws.set_column(3, 4, 20)  # two alike neighbours
    ws.set_paper(9)
    ws.fit_to_pages(fit.get("width", 1), fit.get("height", 0))
    ws.data_validation(0, 0, 0, 0, {"validate": "list", "source": "=$Z$1:$Z$3"})
    ws.data_validation(1, 0, 1, 0, {"validate": "decimal", "criteria": ">=", "value": "=LEN(A1)"})
    wb.close()
    with zipfile.ZipFile(buffer) as z:
        return z.read("xl/worksheets/sheet1.xml").decode()


def test_what_the_patch_changes_is_in_the_file() -> None:
    xml = _sheet_xml()  # a sheet without cells, too: XlsxWriter writes a bare <sheetData/>
    assert "<sheetData/>" in xml
    assert '<col min="4" max="4"' in xml and '<col min="5" max="5"' in xml  # one <col> per column
    assert 'fitToWidth="1" fitToHeight="0"' in xml  # written in full, the default 1 too
    assert "<formula1>$Z$1:$Z$3</formula1>" in xml  # a range: passed through as it is
    assert "<formula1>LEN(A1)</formula1>" in xml  # a function call: through XlsxWriter's own preparation
