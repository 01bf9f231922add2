"""Atomic file writes: a reader never sees half a file, a crash never leaves one for long.

Two ways to write:

* :func:`atomic_path` / :func:`write_atomic` / :func:`save_atomic`, one file: written beside
  its target, fsynced, renamed over it.
* :func:`staged_writes`, many files at once (``consult generate``, ``consult synthesize``):
  written into one staging folder, flushed to disk together (one ``syncfs`` on Linux instead
  of an fsync per file), then renamed over their targets. Each target keeps the one-file
  guarantee; see there for what a run as a whole does and does not guarantee.

Temporary files and staging folders are named ``.consult-tmp.HOST.PID.*`` and
``.consult-staging.HOST.PID.*``: a command killed before it could remove them (``kill -9``,
a power cut) leaves them behind, and the next command that writes into the same folder
removes those whose process is gone (:func:`remove_stale`), never another running
command's.

Permissions: a written file gets what the umask allows (0666 & ~umask, as any program's
file), so colleagues on a shared drive can open the syntheses; a file holding personal data
is written with ``private=True`` and is readable by its owner only (0600).
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

TMP_PREFIX = ".consult-tmp."
STAGING_PREFIX = ".consult-staging."
PRIVATE_MODE = 0o600
FOREIGN_STALE_AFTER = 2 * 24 * 3600  # another computer's leftovers (a shared drive): removed after two days
_OWNED = re.compile(r"^\.consult-(?:tmp|staging)\.(?P<host>[A-Za-z0-9-]*)\.(?P<pid>\d+)\.")
_cleaned: set[Path] = set()  # folders already swept by this process


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]


def owned_name(prefix: str, name: str = "") -> str:
    """A hidden name that says which process made it: ``PREFIX.HOST.PID.RANDOM[.name]``."""
    tail = f".{name[-80:]}" if name else ""
    return f"{prefix}{_host()}.{os.getpid()}.{secrets.token_hex(4)}{tail}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: alive
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary file or staging folder left by a command that is gone:
    made on this computer by a process that no longer runs, or on another one days ago."""
    match = _OWNED.match(path.name)
    if match is None:
        return False
    if match["host"] == _host():
        return int(match["pid"]) != os.getpid() and not _alive(int(match["pid"]))
    try:
        age = (now or time.time()) - path.lstat().st_mtime
    except OSError:
        return False
    return age > FOREIGN_STALE_AFTER


def remove_stale(folder: Path) -> list[Path]:
    """Remove what killed commands left in ``folder`` (once per folder and process)."""
    key = folder.absolute()
    if key in _cleaned:
        return []
    _cleaned.add(key)
    removed = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith((TMP_PREFIX, STAGING_PREFIX))]
    except OSError:
        return []
    for entry in entries:
        path = Path(entry.path)
        if not is_stale(path):
            continue
        with suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def umask() -> int:
    """The process umask. Linux says it in /proc; elsewhere it is set and set back (which a
    file created by another thread at that instant would notice: consult writes from one)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def file_mode(private: bool = False) -> int:
    """0600 for personal data; otherwise what the umask allows of 0666."""
    return PRIVATE_MODE if private else 0o666 & ~umask()


@contextmanager
def atomic_path(target: Path, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` with the
    mode :func:`file_mode` gives."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent)
    tmp_path = target.parent / owned_name(TMP_PREFIX, target.name)
    fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    os.close(fd)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
            _set_mode(fh.fileno(), tmp_path, file_mode(private))
        os.replace(tmp_path, target)
    finally:
        with suppress(FileNotFoundError):
            tmp_path.unlink()


def _set_mode(fd: int, path: Path, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows
        os.chmod(path, mode)


def write_atomic(target: Path, data: bytes | str, encoding: str = "utf-8", private: bool = False) -> Path:
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(target, private) as tmp:
        tmp.write_bytes(payload)
    return target


def save_atomic(target: Path, save: Callable[[Path], None], private: bool = False) -> Path:
    """Run ``save(tmp_path)`` (e.g. ``workbook.save``) and move the result into place."""
    with atomic_path(target, private) as tmp:
        save(tmp)
    return target


class Staging:
    """Files waiting in a staging folder for :func:`staged_writes` to move them into place."""

    def __init__(self, root: Path, folder: Path, private: bool = False):
        self.root = root
        self.folder = folder
        self.mode = file_mode(private)

    def path(self, target: Path) -> Path:
        """Where to write the new ``target`` (a path under the root); it is moved into place
        when the ``with`` block ends without an error. The staged path depends only on the
        target, so a worker process (forked with this object) may write there too: every
        file in the staging folder is moved into place."""
        absolute = target.absolute()
        root = self.root.absolute()
        if not absolute.is_relative_to(root) or not target.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"{target} is outside {self.root}: a rename would not be atomic")
        staged = self.folder / absolute.relative_to(root)
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def write(self, target: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
        """Stage ``data`` for ``target``: nothing is visible at ``target`` until the ``with``
        block ends without an error."""
        staged = self.path(target)
        staged.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
        return target


@contextmanager
def staged_writes(root: Path, private: bool = False) -> Iterator[Staging]:
    """Write many files under ``root``, each atomically, with one flush to disk for them all.

    Files are written into a hidden staging folder inside ``root`` (the same file system as
    their targets, so a rename is atomic). When the block ends without an error they are
    flushed to disk together, renamed over their targets one by one, and the renames flushed.
    On Linux each flush is one ``syncfs(2)`` of the file system; elsewhere every file, and
    then every target folder, is fsynced as :func:`atomic_path` does.

    What remains guaranteed: at every instant, also after a crash or a power loss, each
    target holds either its previous complete content or its new complete content, never a
    partial file (the data is on disk before any rename); when the block returns, every
    file is on disk under its name. Nothing is renamed before every file is written, so
    the outputs of a run appear together: a run that fails or is killed while writing
    leaves every target as it was. A crash during the renames themselves (milliseconds)
    leaves some targets new and the others old (each of them whole). A killed run leaves
    its ``.consult-staging.*`` folder, which the next run writing into ``root`` removes. If
    the block raises, nothing is renamed and the staging folder is removed.
    """
    root.mkdir(parents=True, exist_ok=True)
    remove_stale(root)
    folder = root / owned_name(STAGING_PREFIX)
    folder.mkdir(mode=0o700)
    try:
        staging = Staging(root, folder, private)
        yield staging
        # every file in the folder is an output of this run: also those that worker processes
        # wrote there (a forked worker's registrations stay in its own copy of ``staging``)
        pending = [
            (staged, root / staged.relative_to(folder))
            for staged in sorted(folder.rglob("*"))
            if staged.is_file() and not staged.name.startswith(TMP_PREFIX)
        ]
        if not pending:
            return
        for staged, _ in pending:
            os.chmod(staged, staging.mode)
        per_file = not _syncfs(folder)
        if per_file:
            for staged, _ in pending:
                _fsync(staged)
        targets = {target.parent for _, target in pending}
        for parent in sorted(targets):
            parent.mkdir(parents=True, exist_ok=True)
        from consult.workers import uninterrupted

        with uninterrupted():  # all of them or none, also when SIGTERM arrives now
            for staged, target in pending:
                os.replace(staged, target)
        if (per_file or not _syncfs(root)) and os.name != "nt":  # Windows cannot open a folder to fsync it
            for parent in sorted(targets):
                _fsync(parent)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(path: Path) -> bool:
    """Flush the whole file system that holds ``path`` (Linux ``syncfs(2)``): one call for
    any number of files. False where it is not available; the caller then fsyncs each file."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return bool(syncfs(fd) == 0)
    finally:
        os.close(fd)
