"""Waiting for another consult command: file locks for read-modify-write of workspace files,
and the notice a person sees while a command waits.

Two commands that read a file, change it and write it back (``consult quotes import`` merging
translations into ``quotes-LANG.json``) would lose one command's changes if they interleaved;
:func:`file_lock` makes the second wait for the first. The store has its own lock (SQLite's,
see :mod:`consult.store`), and reports its waits through the same :func:`waiting` notice, so a
person always reads "waiting for another consult command (… s)" instead of silence.

The library never prints: the CLI installs the notice with :func:`set_notice`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from consult.errors import ConsultError

DEFAULT_TIMEOUT = 60.0
TIMEOUT_ENV = "CONSULT_LOCK_TIMEOUT"  # seconds a command waits for another before giving up
FIRST_NOTICE = 1.0  # a wait shorter than this is not worth a word
NOTICE_EVERY = 5.0

_notice: Callable[[str, float], None] | None = None


class LockTimeout(ConsultError):
    """Another command held the lock for longer than the timeout."""

    def __init__(self, what: str, waited: float):
        super().__init__(
            f"another consult command is still using {what} after {waited:.0f} s: nothing was changed. Wait until "
            f"it finishes (or stop it), then run this command again; {TIMEOUT_ENV}=SECONDS waits longer."
        )
        self.what = what
        self.waited = waited


def set_notice(notice: Callable[[str, float], None] | None) -> None:
    """``notice(what, seconds)`` is called while a command waits for a lock (the CLI prints it)."""
    global _notice
    _notice = notice


def lock_timeout() -> float:
    """How long to wait for another command: ``CONSULT_LOCK_TIMEOUT`` seconds, else 60."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value >= 0 else DEFAULT_TIMEOUT


class Waiting:
    """The clock of one wait: says so after a second, then every few seconds."""

    def __init__(self, what: str, timeout: float | None = None):
        self.what = what
        self.timeout = lock_timeout() if timeout is None else timeout
        self.start = time.monotonic()
        self.next_notice = FIRST_NOTICE

    @property
    def waited(self) -> float:
        return time.monotonic() - self.start

    def tick(self) -> None:
        """Called after each failed try: raises :class:`LockTimeout` when time is up."""
        waited = self.waited
        if waited >= self.timeout:
            raise LockTimeout(self.what, waited)
        if waited >= self.next_notice:
            if _notice is not None:
                _notice(self.what, waited)
            self.next_notice = (waited // NOTICE_EVERY + 1) * NOTICE_EVERY


@contextmanager
def file_lock(path: Path, what: str, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing, never deleted: deleting a lock
    file lets two commands lock two different files). Waits, with notices, while another
    command holds it; :class:`LockTimeout` after ``timeout`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        clock = Waiting(what, timeout)
        while not _try_lock(fd):
            clock.tick()
            time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


try:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
