"""A small, safe reader of the few parts of an .xlsx that a return needs, with lxml.

Why not openpyxl (used before): its read-only mode builds a Python object per cell and per
style and trusts each sheet's declared ``<dimension>``; reading a return took ~40 ms, ten times
the cost of parsing the XML. Here lxml (C) parses each part and Python touches only the
cells of the columns asked for (the hidden id, the part and the answer column). Every row
present is read, whatever ``<dimension>`` says.

Untrusted input: :func:`consult.intake.safety.check_file` has looked at the zip directory
before this module opens anything; every part is read through zipfile, which never yields
more than the size the directory declares; the XML parser neither loads a DTD nor resolves
entities nor touches the network, and a part that declares a DTD at all is refused (Excel
never writes one). Parts larger than :data:`STREAM_ABOVE` are parsed incrementally so that
memory stays bounded by a row, not by the part.

Cell values follow openpyxl's conventions (``<v>`` numbers as int or float, dates from
date-formatted numbers, booleans, shared and inline strings), so the value parsers in
:mod:`consult.intake.values` see what they saw before, with two differences that make the
stored text what the respondent sees: strings have Excel's ``_xHHHH_`` escapes decoded
(``_x000D_`` is a carriage return; openpyxl leaves them as typed), and an error cell
(``t="e"``) is an :class:`~consult.intake.values.ExcelError`, which no answer may be. A
formula's saved result is its value; the formula text is returned beside it and is never
evaluated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import posixpath
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any, NamedTuple

from lxml import etree

from consult.intake.serials import (
    BUILTIN_DATE_FORMATS,
    MAC_1904,
    WINDOWS_1900,
    from_serial,
    is_date_format,
    is_duration_format,
)
from consult.intake.values import ExcelError, decode_escapes

MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
STREAM_ABOVE = 8 * 1024 * 1024  # parts larger than this (unpacked) are parsed row by row

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
_PARSER = etree.XMLParser(collect_ids=False, **_PARSER_OPTIONS)


class Damaged(Exception):
    """A part of the workbook that cannot be read (bad XML, a missing part, a DTD)."""


class Cell(NamedTuple):
    """One cell: its value (a formula's saved result) and its formula text, if any."""

    value: Any
    formula: str | None
    array: bool = False  # an array formula ({=...}): a KoboToolbox XLS answer written as one


def column_index(letters: str) -> int:
    """'A' -> 1, 'F' -> 6, 'AA' -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _refuse_dtd(tree: Any, part: str) -> None:
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None:
        raise Damaged(f"EntitiesForbidden: {part} declares a DTD or entities, which no workbook part has")


def _text(node: Any, tags: _Tags | None = None) -> str:
    """A string item's text (``<t>`` and rich-text runs; not phonetic hints) as Excel shows it:
    ``_xHHHH_`` escapes decoded (:func:`~consult.intake.values.decode_escapes`)."""
    if tags is None:
        tags = _Tags(node.tag[: node.tag.index("}") + 1] if node.tag.startswith("{") else "")
    parts = []
    for child in node:
        tag = child.tag
        if tag == tags.t:
            parts.append(child.text or "")
        elif tag == tags.r:
            for t in child:
                if t.tag == tags.t:
                    parts.append(t.text or "")
    return decode_escapes(parts[0] if len(parts) == 1 else "".join(parts))


class XlsxReader:
    """The sheets of one workbook, read lazily; raises :class:`Damaged` for unreadable parts."""

    def __init__(self, data: bytes):
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise Damaged(f"{type(exc).__name__}: {exc}") from exc
        self._names = set(self._zip.namelist())
        self._strings: list[str] | None = None
        self._styles: tuple[set[int], set[int]] | None = None
        self.epoch = WINDOWS_1900
        self.sheets: dict[str, str] = {}  # sheet name -> part name, in workbook order
        self._read_workbook()

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def close(self) -> None:
        self._zip.close()

    # --- parts -----------------------------------------------------------------------------
    def _open(self, part: str) -> IO[bytes]:
        if part not in self._names:
            raise Damaged(f"KeyError: the part {part} is missing")
        try:
            return self._zip.open(part)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise Damaged(f"{type(exc).__name__}: {part}: {exc}") from exc

    def _root(self, part: str) -> Any:
        """A whole (small) part as an element tree."""
        try:
            with self._open(part) as fh:
                data = fh.read()
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise Damaged(f"XMLSyntaxError: {part}: {exc}") from exc
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:  # bad CRC, truncated deflate stream
            raise Damaged(f"{type(exc).__name__}: {part}: {exc}") from exc
        _refuse_dtd(root.getroottree(), part)
        return root

    def _elements(self, part: str, name: str) -> Iterator[Any]:
        """Every element called ``name`` (any namespace) of a part: from a tree for small
        parts (fastest), incrementally for large ones (memory bounded by one element)."""
        size = self._zip.getinfo(part).file_size if part in self._names else 0
        if size <= STREAM_ABOVE:
            root = self._root(part)
            for ns in MAIN_NS:
                found = root.iter(f"{{{ns}}}{name}")
                first = next(found, None)
                if first is not None:
                    yield first
                    yield from found
                    return
            return
        for _event, element in self._iterparse(part, ("end",), [f"{{{ns}}}{name}" for ns in MAIN_NS]):
            yield element

    def _iterparse(self, part: str, events: tuple[str, ...], names: list[str]) -> Iterator[tuple[str, Any]]:
        """``(event, element)`` of a part as its XML streams in: a DTD is refused at the first
        element, each element is dropped once its "end" has been handled (memory bounded by
        one element), and parser or zip errors become :class:`Damaged`."""
        fh = self._open(part)
        try:
            checked = False
            for event, element in etree.iterparse(fh, events=events, tag=names, **_PARSER_OPTIONS):
                if not checked:
                    _refuse_dtd(element.getroottree(), part)
                    checked = True
                yield event, element
                if event == "end":
                    element.clear(keep_tail=False)
                    parent = element.getparent()
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            raise Damaged(f"XMLSyntaxError: {part}: {exc}") from exc
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Damaged(f"{type(exc).__name__}: {part}: {exc}") from exc
        finally:
            fh.close()

    def _read_workbook(self) -> None:
        root = self._root("xl/workbook.xml")
        rels = self._rels("xl/workbook.xml")
        for node in root.iter():
            name = _local(node.tag)
            if name == "workbookPr" and node.get("date1904", "").lower() in ("1", "true"):
                self.epoch = MAC_1904
            elif name == "sheet":
                rid = next((v for k, v in node.attrib.items() if k.endswith("}id")), None)
                target = rels.get(rid or "")
                if target is not None and node.get("name") is not None:
                    self.sheets[str(node.get("name"))] = target

    def _rels(self, part: str) -> dict[str, str]:
        """Relationship id -> part name, for the relationships of ``part``."""
        folder, base = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", base + ".rels")
        if rels_part not in self._names:
            return {}
        found = {}
        for node in self._root(rels_part).iter(f"{{{REL_NS}}}Relationship"):
            target = node.get("Target") or ""
            if node.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[node.get("Id") or ""] = path
        return found

    def _shared_strings(self) -> list[str]:
        if self._strings is None:
            part = next((p for p in self._rels("xl/workbook.xml").values() if p.endswith("sharedStrings.xml")), None)
            part = part or ("xl/sharedStrings.xml" if "xl/sharedStrings.xml" in self._names else None)
            self._strings = [_text(si) for si in self._elements(part, "si")] if part is not None else []
        return self._strings

    def _date_styles(self) -> tuple[set[int], set[int]]:
        """Indices of cell formats that show numbers as dates (and as durations), by the rules of
        consult.intake.serials (openpyxl's, checked against it by tests/test_serials.py)."""
        if self._styles is None:
            dates: set[int] = set()
            durations: set[int] = set()
            if "xl/styles.xml" in self._names:
                root = self._root("xl/styles.xml")
                custom = {}
                for node in root.iter():
                    if _local(node.tag) == "numFmt":
                        custom[node.get("numFmtId")] = node.get("formatCode")
                xfs = next((n for n in root.iter() if _local(n.tag) == "cellXfs"), None)
                for idx, xf in enumerate(xfs if xfs is not None else []):
                    fid = xf.get("numFmtId", "0")
                    fmt = custom.get(fid)
                    if fmt is None and fid.isdigit():
                        fmt = BUILTIN_DATE_FORMATS.get(int(fid))
                    if is_date_format(fmt):
                        dates.add(idx)
                    if is_duration_format(fmt):
                        durations.add(idx)
            self._styles = (dates, durations)
        return self._styles

    # --- cells -----------------------------------------------------------------------------
    def rows(self, sheet: str, columns: Iterable[int]) -> Iterator[tuple[int, dict[int, Cell]]]:
        """(row number, {column: Cell}) for every row present in ``sheet`` with a cell in
        ``columns``, in file order. Row and column numbers come from the cells' references
        (or their position, where a writer left the references out)."""
        wanted = set(columns)
        part = self.sheets[sheet]
        if part in self._names and self._zip.getinfo(part).file_size > STREAM_ABOVE:
            yield from self._stream_rows(part, wanted)
            return
        row_no = 0
        tags: _Tags | None = None
        for row in self._elements(part, "row"):
            if tags is None or not row.tag.startswith(tags.ns):
                tags = _Tags(row.tag[: -len("row")])
            r = row.get("r")
            row_no = int(r) if r is not None and r.isdigit() else row_no + 1
            col = 0
            found: dict[int, Cell] = {}
            for c in row:
                if c.tag != tags.c:
                    continue
                col = _column(c, col)
                if col in wanted:
                    found[col] = self._cell(c, tags)
            if found:
                yield row_no, found

    def _stream_rows(self, part: str, wanted: set[int]) -> Iterator[tuple[int, dict[int, Cell]]]:
        """:meth:`rows` for a large part: cells are handled and dropped one by one as the XML
        streams in, so memory is bounded by one cell, even for a hostile row of a million cells."""
        names = [f"{{{ns}}}{x}" for ns in MAIN_NS for x in ("row", "c")]
        tags: _Tags | None = None
        row_no = col = 0
        found: dict[int, Cell] = {}
        for event, el in self._iterparse(part, ("start", "end"), names):
            if tags is None or not el.tag.startswith(tags.ns):
                tags = _Tags(el.tag[: el.tag.index("}") + 1])
            if el.tag == tags.row:
                if event == "start":
                    r = el.get("r")
                    row_no = int(r) if r is not None and r.isdigit() else row_no + 1
                    col, found = 0, {}
                elif found:
                    yield row_no, found
            elif event == "end":  # a complete cell
                col = _column(el, col)
                if col in wanted:
                    found[col] = self._cell(el, tags)

    def _cell(self, c: Any, tags: _Tags) -> Cell:
        kind = c.get("t", "n")
        raw: str | None = None
        formula: str | None = None
        array = False
        inline = None
        for child in c:
            tag = child.tag
            if tag == tags.v:
                raw = child.text
            elif tag == tags.f:
                formula = child.text or ""
                array = child.get("t") == "array"
            elif tag == tags.inline:
                inline = child
        if kind == "inlineStr":
            return Cell(_text(inline, tags) if inline is not None else None, formula, array)
        if not raw:
            return Cell(None, formula, array)
        value: Any = raw
        if kind == "n":
            value = self._numeric(raw, c.get("s"))
        elif kind == "s":
            strings = self._shared_strings()
            if not raw.strip().isdigit() or int(raw) >= len(strings):
                raise Damaged(f"IndexError: shared string {raw[:20]!r} does not exist")
            value = strings[int(raw)]
        elif kind == "b":
            value = raw.strip() in ("1", "true")
        elif kind == "e":  # an error value (a formula's cached #DIV/0!): never an answer
            value = ExcelError(raw.strip())
        elif kind == "str":  # a formula's text result: an ST_Xstring like any other string
            value = decode_escapes(raw)
        elif kind == "d":
            try:
                value = dt.datetime.fromisoformat(raw.strip())
            except ValueError:
                value = raw
        return Cell(value, formula, array)

    def _numeric(self, raw: str, style: str | None) -> Any:
        """A number cell's value: a date or time where its style is a date format."""
        value = _number(raw)
        if isinstance(value, (int, float)) and style and style.isdigit():
            dates, durations = self._date_styles()
            if int(style) in dates:  # else (out of range) keep the number: the value check says what is wrong
                with contextlib.suppress(OverflowError, ValueError):
                    return from_serial(value, self.epoch, duration=int(style) in durations)
        return value


class _Tags:
    """The qualified tag names of one namespace (transitional or strict), compared as strings."""

    def __init__(self, ns: str):
        self.ns = ns
        self.c, self.v, self.f, self.inline, self.t, self.r = (ns + x for x in ("c", "v", "f", "is", "t", "r"))
        self.row = ns + "row"


_DIGITS = "0123456789"
_COLUMNS: dict[str, int] = {}  # 'F' -> 6, filled as met (a sheet uses a handful of columns)


def _column(c: Any, previous: int) -> int:
    """The column of a ``<c>`` element: from its reference, else the one after ``previous``."""
    ref = c.get("r")
    if ref is None:
        return previous + 1
    letters = ref.rstrip(_DIGITS)
    known = _COLUMNS.get(letters)
    return known if known is not None else _column_of(letters, previous)


def _column_of(letters: str, previous: int) -> int:
    """The column of a cell reference's letters; a malformed reference counts as the next cell."""
    clean = letters.lstrip("$").rstrip("$")
    if not (1 <= len(clean) <= 3 and clean.isascii() and clean.isalpha()):
        return previous + 1
    col = column_index(clean)
    if len(_COLUMNS) < 20_000:
        _COLUMNS[letters] = col
    return col


def _number(text: str) -> int | float | str:
    """openpyxl's cast: int unless the text has a point or an exponent; text that is no number stays text."""
    try:
        if "." in text or "E" in text or "e" in text:
            return float(text)
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text
