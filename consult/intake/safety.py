"""File safety: refuse what is not a plausible .xlsx before any XML parser sees it."""

from __future__ import annotations

import io
import zipfile

from consult.errors import Finding, finding

MAX_SIZE = 20 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200


def check_file(name: str, data: bytes, max_unpacked: int = MAX_UNPACKED) -> Finding | None:
    """The finding that refuses ``data`` as a workbook, or None when it is a plausible .xlsx."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        detail = "it is an old .xls or a password-protected workbook"
    elif data[:4] == b"%PDF":
        detail = "it is a PDF document"
    elif data[:4] != b"PK\x03\x04":
        detail = "it is not a zip-based Office file" if data else "the file is empty"
    else:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = zf.infolist()
                names = {i.filename for i in infos}
                unpacked = sum(i.file_size for i in infos)
                packed = sum(i.compress_size for i in infos) or 1
                if unpacked > max_unpacked or (unpacked > 10_000_000 and unpacked / packed > MAX_RATIO):
                    return finding("zip-bomb", file=name, size=unpacked, limit=max_unpacked)
                if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
                    detail = "it is a zip archive but not an Excel workbook (a .docx or renamed .zip?)"
                else:
                    return None
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            detail = f"the file is damaged or truncated: {exc}"
    return finding("not-xlsx", file=name, detail=detail)
