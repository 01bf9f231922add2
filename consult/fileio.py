"""Atomic file writes: a reader never sees half a file, a crash never leaves one.

Two ways to write:

* :func:`atomic_path` / :func:`write_atomic` / :func:`save_atomic`, one file: written beside
  its target, fsynced, renamed over it.
* :func:`staged_writes`, many files at once (``consult generate``): written into one staging
  folder, flushed to disk together (one ``syncfs`` on Linux instead of an fsync per file),
  then renamed over their targets. Each target keeps the one-file guarantee; see there for
  what a run as a whole does and does not guarantee.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING_PREFIX = ".consult-staging-"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(target: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)
    return target


def save_atomic(target: Path, save: Callable[[Path], None]) -> Path:
    """Run ``save(tmp_path)`` (e.g. ``workbook.save``) and move the result into place."""
    with atomic_path(target) as tmp:
        save(tmp)
    return target


class Staging:
    """Files waiting in a staging folder for :func:`staged_writes` to move them into place."""

    def __init__(self, root: Path, folder: Path):
        self.root = root
        self.folder = folder
        self.pending: list[tuple[Path, Path]] = []  # (staged file, target)

    def write(self, target: Path, data: bytes) -> None:
        """Stage ``data`` for ``target`` (a path under the root): nothing is visible at
        ``target`` until the ``with`` block ends without an error."""
        if not target.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"{target} is outside {self.root}: a rename would not be atomic")
        staged = self.folder / f"{len(self.pending):05d}-{target.name}"
        with open(staged, "wb") as fh:
            fh.write(data)
        self.pending.append((staged, target))


@contextmanager
def staged_writes(root: Path) -> Iterator[Staging]:
    """Write many files under ``root``, each atomically, with one flush to disk for them all.

    Files are written into a hidden staging folder inside ``root`` (the same file system as
    their targets, so a rename is atomic). When the block ends without an error they are
    flushed to disk together, renamed over their targets one by one, and the renames flushed.
    On Linux each flush is one ``syncfs(2)`` of the file system; elsewhere every file, and
    then every target folder, is fsynced as :func:`atomic_path` does.

    What remains guaranteed: at every instant, also after a crash or a power loss, each
    target holds either its previous complete content or its new complete content, never a
    partial file (the data is on disk before any rename); when the block returns, every
    file is on disk under its name. What a run no longer is: all or nothing across files.
    A crash during the renames leaves some targets new and the others old (each of them
    whole); a crash before them leaves every target as it was, plus a
    ``.consult-staging-*`` folder that no command reads and that may be deleted. If the
    block raises, nothing is renamed and the staging folder is removed.
    """
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    try:
        staging = Staging(root, folder)
        yield staging
        if not staging.pending:
            return
        per_file = not _syncfs(folder)
        if per_file:
            for staged, _ in staging.pending:
                _fsync(staged)
        targets = {target.parent for _, target in staging.pending}
        for parent in sorted(targets):
            parent.mkdir(parents=True, exist_ok=True)
        for staged, target in staging.pending:
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
