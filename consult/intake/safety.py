"""File safety: read only regular files, never more than a limit, and refuse what is not a
plausible .xlsx before any XML parser sees it."""

from __future__ import annotations

import errno
import io
import os
import stat
import zipfile
from pathlib import Path

from consult.errors import Finding, finding
from consult.problems import Phrase, phrase

MAX_SIZE = 20 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed, checked for files that unpack to more than RATIO_FLOOR
RATIO_FLOOR = 10_000_000

# Problems of this machine, not of the file sent: such a file is reported, never stored.
LOCAL_PROBLEMS = frozenset({"permission", "not-regular", "link-loop", "unreadable"})

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class Refused(Exception):
    """A file that is not read at all; ``finding`` says why."""

    def __init__(self, finding: Finding, size: int = 0):
        super().__init__(str(finding))
        self.finding = finding
        self.size = size


def _kind(mode: int) -> list[Phrase]:
    if stat.S_ISDIR(mode):
        return [phrase("a_folder")]
    if stat.S_ISFIFO(mode):
        return [phrase("a_fifo")]
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return [phrase("a_device")]
    if stat.S_ISSOCK(mode):
        return [phrase("a_socket")]
    return [phrase("not_regular")]


def local_problem(path: Path, exc: OSError, kind: str = "file") -> Finding:
    """The finding for an OSError met while opening ``path`` (``kind``: a file or a folder)
    here: permissions, a link loop..."""
    name = path.name or str(path)
    what = [phrase("this_folder")] if kind == "folder" else [phrase("this_file")]
    if isinstance(exc, PermissionError):
        return finding("permission", file=name, kind=what)
    if exc.errno == errno.ELOOP:
        return finding("link-loop", file=name)
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return finding("unreadable", file=name, kind=what, detail=[phrase("dangling_link")])
    return finding("unreadable", file=name, kind=what, detail=exc.strerror or str(exc))


def read_bounded(path: Path, max_size: int) -> bytes:
    """The content of a regular file, at most ``max_size`` bytes of it (else :class:`Refused`).

    Opened without blocking (a FIFO would otherwise wait forever for a writer), checked to
    be a regular file on the open descriptor (not by a separate stat that could race), and
    read by bytes actually read, never by the size the file system claims (``/dev/zero``
    claims 0 bytes)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise Refused(local_problem(path, exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(finding("not-regular", file=path.name, kind=_kind(info.st_mode)))
        if info.st_size > max_size:
            raise Refused(finding("too-large", file=path.name, size=info.st_size, limit=max_size), info.st_size)
        chunks: list[bytes] = []
        total = 0
        while total <= max_size:
            chunk = os.read(fd, min(1 << 20, max_size + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_size:  # the file grew while being read
            raise Refused(finding("too-large", file=path.name, size=total, limit=max_size), total)
        return b"".join(chunks)
    except OSError as exc:
        raise Refused(local_problem(path, exc)) from None
    finally:
        os.close(fd)


def check_file(name: str, data: bytes, max_unpacked: int = MAX_UNPACKED) -> Finding | None:
    """The finding that refuses ``data`` as a workbook, or None when it is a plausible .xlsx."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        detail = [phrase("old_xls")]
    elif data[:4] == b"%PDF":
        detail = [phrase("pdf")]
    elif data[:4] != b"PK\x03\x04":
        detail = [phrase("not_zip")] if data else [phrase("empty_file")]
    else:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = zf.infolist()
                names = {i.filename for i in infos}
                unpacked = sum(i.file_size for i in infos)
                packed = sum(i.compress_size for i in infos) or 1
                if unpacked > max_unpacked:
                    return finding("zip-bomb", file=name, size=unpacked, limit=max_unpacked)
                if unpacked > RATIO_FLOOR and unpacked / packed > MAX_RATIO:
                    ratio = unpacked // packed
                    return finding(
                        "zip-ratio", file=name, size=unpacked, ratio=ratio, limit=MAX_RATIO, floor=RATIO_FLOOR
                    )
                if _is_ods(zf, names):
                    detail = [phrase("ods")]
                elif "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
                    detail = [phrase("zip_not_excel")]
                else:
                    return None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            detail = [phrase("truncated", error=str(exc))]
    return finding("not-xlsx", file=name, detail=detail)


def _is_ods(zf: zipfile.ZipFile, names: set[str]) -> bool:
    """An OpenDocument spreadsheet (LibreOffice's .ods): its first member says so."""
    if "mimetype" in names and zf.getinfo("mimetype").file_size < 200:
        return zf.read("mimetype").strip() == ODS_MIMETYPE
    return "content.xml" in names and "xl/workbook.xml" not in names and "META-INF/manifest.xml" in names
