"""A corpus of hostile and odd returns, built at test time from a real filled return (no
binary blobs in the repository): what a careless sender, another spreadsheet program or an
attacker may send. :func:`build` writes it and says what ingest must make of each file.

Expectations:
``same``     accepted, and every stored answer equal to those of the pristine return;
``rejected`` refused and recorded as rejected, no answer stored;
``unreadable`` not read on this computer (not a regular file, a link loop), nothing stored.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


Change = Callable[[str, bytes], "bytes | None"]


def rewrite(src: Path, dst: Path, change: Change, extra: dict[str, bytes] | None = None) -> Path:
    """Copy a workbook zip member by member through ``change(name, data)`` (None drops the
    member), adding ``extra`` members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def _sheets(change: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda name, data: change(data) if name.startswith("xl/worksheets/sheet") else data


def stale_dimension(data: bytes) -> bytes:
    """What some writers leave: every sheet claims to be the single cell A1."""
    return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)


def no_dimension(data: bytes) -> bytes:
    return re.sub(rb'<dimension ref="[^"]*"/>', b"", data)


def comments_in_rows(data: bytes) -> bytes:
    return data.replace(b"<row ", b"<!-- a comment --><row ").replace(b"</c>", b"</c><!-- x -->")


def prefixed_namespace(data: bytes) -> bytes:
    """The same sheet with the main namespace bound to a prefix (``<x:row>``), as some tools write."""
    text = data.decode("utf-8")
    text = re.sub(r"<(/?)([A-Za-z][\w]*)(?=[\s>/])", r"<\1x:\2", text)
    text = text.replace(f'xmlns="{SHEET_NS}"', f'xmlns:x="{SHEET_NS}"', 1)
    return text.encode("utf-8")


def shared_strings(src: Path, dst: Path) -> Path:
    """Move every inline string into a shared-string table, as Excel saves a workbook."""
    table: list[str] = []
    index: dict[str, int] = {}

    def to_shared(m: re.Match[bytes]) -> bytes:
        attrs, text = m.group(1).decode(), m.group(2).decode()
        if text not in index:
            index[text] = len(table)
            table.append(text)
        attrs = attrs.replace('t="inlineStr"', 't="s"')
        return f"<c{attrs}><v>{index[text]}</v></c>".encode()

    pattern = re.compile(rb"<c([^>]*t=\"inlineStr\"[^>]*)><is><t(?: [^>]*)?>([^<]*)</t></is></c>")

    def change(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/sheet"):
            return pattern.sub(to_shared, data)
        if name == "[Content_Types].xml":
            return data.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            )
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            )
        return data

    with zipfile.ZipFile(src) as zin:  # first pass fills the table
        for n in zin.namelist():
            if n.startswith("xl/worksheets/sheet"):
                pattern.sub(to_shared, zin.read(n))
    items = "".join(f'<si><t xml:space="preserve">{t}</t></si>' for t in table)
    sst = f'<sst xmlns="{SHEET_NS}" count="{len(table)}" uniqueCount="{len(table)}">{items}</sst>'
    return rewrite(src, dst, change, {"xl/sharedStrings.xml": sst.encode()})


def macro_enabled(src: Path, dst: Path) -> Path:
    def change(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return data.replace(
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            )
        return data

    return rewrite(src, dst, change, {"xl/vbaProject.bin": b'Attribute VB_Name = "AutoOpen"\nShell "calc.exe"'})


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="4"><c r="A4" t="inlineStr"><is><t>&x;</t></is></c></row></sheetData></worksheet>'
)


def _replace_sheet(payload: bytes, which: str = "xl/worksheets/sheet3.xml") -> Callable[[str, bytes], bytes]:
    return lambda name, data: payload if name == which else data


def unknown_ids(count: int) -> Callable[[bytes], bytes]:
    """Rows of ids no form knows, appended to a question sheet (a flood of problems)."""

    def change(data: bytes) -> bytes:
        rows = "".join(
            f'<row r="{1000 + i}"><c r="A{1000 + i}" t="inlineStr"><is><t>bogus.{i}</t></is></c></row>'
            for i in range(count)
        )
        return data.replace(b"</sheetData>", rows.encode() + b"</sheetData>", 1) if b"item_id" in data else data

    return change


def answer_cell(path: Path, item: str, part: str | None = None) -> tuple[str, str]:
    """(sheet XML member, cell reference) of an item's answer cell in a filled return, found the
    way ingest finds it: by the hidden id in column A (and the part in column B)."""
    import openpyxl  # only here: the rest of the corpus is built from bytes

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        for index, ws in enumerate(wb.worksheets, start=1):
            if ws.title.startswith("_"):
                continue
            for r, row in enumerate(ws.iter_rows(max_col=2, values_only=True), start=1):
                if row and row[0] == item and (row[1] == part or (part is None and row[1] is None)):
                    return f"xl/worksheets/sheet{index}.xml", f"F{r}"
    finally:
        wb.close()
    raise AssertionError(f"{item} not found in {path.name}")


def with_cell(src: Path, dst: Path, item: str, cell: str, part: str | None = None) -> Path:
    """A copy of a filled return whose answer cell for ``item`` is replaced by raw sheet XML:
    ``cell`` is the ``<c>`` element's attributes and content with ``{ref}`` for its reference,
    e.g. ``'<c r="{ref}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'`` (what Excel saves for a formula
    that failed) or an inline string holding ``_xHHHH_`` escapes, as Excel writes them."""
    member, ref = answer_cell(src, item, part)

    def change(name: str, data: bytes) -> bytes:
        if name != member:
            return data
        xml = data.decode("utf-8")
        start = xml.index(f'<c r="{ref}"')
        end = xml.index(">", start)
        end = end + 1 if xml[end - 1] == "/" else xml.index("</c>", start) + len("</c>")
        return (xml[:start] + cell.replace("{ref}", ref) + xml[end:]).encode("utf-8")

    return rewrite(src, dst, change)


def inline(text: str) -> str:
    """An inline-string cell holding ``text`` exactly as written in the XML (escapes and all)."""
    return f'<c r="{{ref}}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


# Odd values in a return's answer cells: each must refuse the return, with the cell.
ODD_CELLS = {
    "range-spaced.xlsx": ("TOC.priority", inline("3 - 4")),
    "range-wide.xlsx": ("DRUGS.priority", inline("1 - 5")),
    "range-en-dash.xlsx": ("JUSTICE.priority", inline("3\u2013 4")),
    "error-typed.xlsx": ("TOC.challenges", '<c r="{ref}" t="e"><v>#REF!</v></c>'),
    "error-cached.xlsx": ("DRUGS.challenges", '<c r="{ref}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'),
    "error-as-text.xlsx": ("emerging", inline("#N/A")),
    "error-in-rating.xlsx": ("TOC.priority", '<c r="{ref}" t="e"><f>VLOOKUP(1,A1:A2,3)</f><v>#N/A</v></c>'),
    "escaped-nul.xlsx": ("TOC.challenges", inline("a_x0000_b")),
    "escaped-bell.xlsx": ("DRUGS.challenges", inline("ring_x0007_")),
    "c1-control.xlsx": ("emerging", inline("csi\u009b2J")),
}


def ods_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", b"<office:document-content/>")
        zf.writestr("META-INF/manifest.xml", b"<manifest/>")
    return buf.getvalue()


def repetitive(src: Path, dst: Path) -> Path:
    """A workbook under the size limit whose one member unpacks 1000 times: the ratio rule."""
    return rewrite(src, dst, lambda n, d: d, {"xl/media/filler.bin": b"A" * 30_000_000})


def build(folder: Path, base: Path, other: Path) -> dict[str, str]:
    """Write the corpus into ``folder``; ``base`` and ``other`` are two valid filled returns
    (of different institutions). Returns file name -> expectation."""
    folder.mkdir(parents=True, exist_ok=True)
    expect: dict[str, str] = {}

    def add(name: str, what: str) -> Path:
        expect[name] = what
        return folder / name

    rewrite(base, add("stale-dimension.xlsx", "same"), _sheets(stale_dimension))
    rewrite(base, add("no-dimension.xlsx", "same"), _sheets(no_dimension))
    rewrite(base, add("comments.xlsx", "same"), _sheets(comments_in_rows))
    rewrite(base, add("prefixed.xlsx", "same"), _sheets(prefixed_namespace))
    shared_strings(base, add("shared-strings.xlsx", "same"))
    macro_enabled(base, add("macro.xlsm", "same"))
    shutil.copy(other, add("evil\x1b[2J\x1b]0;pwned\x07name.xlsx", "same"))

    for name, (item, cell) in ODD_CELLS.items():
        with_cell(base, add(name, "rejected"), item, cell)
    rewrite(base, add("laughs.xlsx", "rejected"), _replace_sheet(LAUGHS))
    rewrite(base, add("xxe.xlsx", "rejected"), _replace_sheet(XXE))
    rewrite(base, add("garbage-xml.xlsx", "rejected"), _replace_sheet(b"<worksheet><sheetData><row>"))
    rewrite(base, add("no-metadata.xlsx", "rejected"), lambda n, d: None if n.endswith("sheet12.xml") else d)
    rewrite(base, add("flood.xlsx", "rejected"), _sheets(unknown_ids(2000)))
    rewrite(base, add("many-unknown.xlsx", "rejected"), _sheets(unknown_ids(30)))
    data = base.read_bytes()
    add("truncated.xlsx", "rejected").write_bytes(data[: len(data) // 2])
    add("empty.xlsx", "rejected").write_bytes(b"")
    add("letter.xlsx", "rejected").write_text("Dear colleagues, please find attached...", encoding="utf-8")
    add("old.xls", "rejected").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    add("scan.xlsx", "rejected").write_bytes(b"%PDF-1.4\n%...")
    add("KZ-MFA.ods", "rejected").write_bytes(ods_bytes())
    repetitive(base, add("repetitive.xlsx", "rejected"))
    os.mkfifo(add("pipe.xlsx", "unreadable"))
    os.symlink("/dev/zero", add("zero.xlsx", "unreadable"))
    os.symlink("loop.xlsx", add("loop.xlsx", "unreadable"))
    (folder / "folder.xlsx").mkdir()  # a folder with a workbook's name: searched, not read
    shutil.copy(other, folder / "folder.xlsx" / "inside-copy.xlsx")
    expect["inside-copy.xlsx"] = "duplicate"
    return expect
