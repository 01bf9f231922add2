"""Worker processes that live and die with their command (ingest, generate, synthesize).

A command that hands work to other processes must not leave them behind: killed by
``kill -9``, stopped by SIGTERM (what ``timeout`` sends) or Ctrl-C, or failing, its workers
stop at once, never write anything after the command has exited and never wait forever on a
queue nobody feeds. :func:`worker_pool` gives that:

* each worker asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``),
  and watches its parent as well (other systems, or a parent that died before the request
  took effect): a worker of a ``kill -9``-ed command is gone within a second;
* a worker ignores Ctrl-C (the command handles it for all) and dies on SIGTERM;
* when the ``with`` block ends by an exception (including :class:`Terminated`, which the CLI
  raises on SIGTERM), the workers are killed and pending work is dropped, instead of
  ``ProcessPoolExecutor``'s default of finishing every queued task first;
* a worker that dies on its own (out of memory) fails the command with :class:`WorkerDied`,
  never a hang.

Workers write only into staging folders (:func:`consult.fileio.staged_writes`), which the
command moves into place when every worker has finished, so a killed command leaves no
partial output.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from typing import Any, Generic, TypeVar

from consult.errors import ConsultError

T = TypeVar("T")
R = TypeVar("R")
PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """The command received SIGTERM: unwind like Ctrl-C (roll back, remove staging, kill
    workers), then exit 143."""


class WorkerDied(ConsultError):
    """A worker process ended without finishing its work (killed by the system, say)."""


class ProcessJob(Generic[T]):
    """What every process of one command's pool works from (the definitions, the builder of a
    round), set once in each process: by the parent before it forks (a forked worker inherits
    it for free) or by a worker's initializer (a spawned one receives it pickled). One typed
    holder for the three commands that use workers, so that a worker that runs before its job
    is set says so instead of failing on ``None``."""

    def __init__(self, what: str):
        self.what = what
        self._job: T | None = None

    def set(self, job: T) -> None:
        self._job = job

    def get(self) -> T:
        if self._job is None:
            raise RuntimeError(f"a worker ran before it was given its {self.what}")
        return self._job


_held = 0  # > 0 while files are being moved into place: SIGTERM waits until they all are
_pending: list[int] = []


def _terminate(signum: int, _frame: object) -> None:
    if _held:
        _pending.append(signum)
        return
    raise Terminated(f"stopped by signal {signum}")


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold SIGTERM for the few milliseconds a run's outputs are moved into place, so that a
    stopped run publishes all of them or none; the signal takes effect right after."""
    global _held
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending:
            signum = _pending.pop()
            _pending.clear()
            raise Terminated(f"stopped by signal {signum}")


def stop_on_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated` in this (the command's) process, so that its
    clean-up runs instead of the process vanishing mid-write."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


def _start_worker(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """The first thing every worker runs: tie its life to ``parent``, then ``initializer``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the command handles it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the command's handler
    if sys.platform.startswith("linux"):
        try:  # the kernel sends SIGKILL when the parent goes: immediate, no polling
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(1)
    # and a watchdog where prctl is missing (or the forking thread ended before the parent)
    threading.Thread(target=_watch_parent, args=(parent,), name="consult-parent-watch", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _watch_parent(parent: int, every: float = 0.5) -> None:
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class WorkerPool:
    """A few worker processes; use :func:`worker_pool` to make one."""

    def __init__(self, executor: ProcessPoolExecutor, workers: int):
        self.executor = executor
        self.workers = workers

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        return self.executor.submit(fn, *args)

    def imap(self, fn: Callable[[T], R], items: Iterable[T], ahead: int | None = None) -> Iterator[R]:
        """``fn(item)`` for every item, in order, with at most ``ahead`` items in flight (so
        memory stays flat however many items there are; ``Executor.map`` submits them all)."""
        limit = ahead or self.workers * 2
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(self.executor.submit(fn, item))
            if len(pending) >= limit:
                yield result(pending.popleft())
        while pending:
            yield result(pending.popleft())

    def kill(self) -> None:
        """Stop every worker now and drop the work not yet started."""
        processes = dict(getattr(self.executor, "_processes", None) or {})
        for process in processes.values():
            with suppress(OSError, ValueError, AttributeError):
                process.kill()
        self.executor.shutdown(wait=True, cancel_futures=True)
        for process in processes.values():
            with suppress(OSError, ValueError, AssertionError):
                process.join(5)


def result(future: Future[R]) -> R:
    """The result of a worker's task; a worker that died is a :class:`WorkerDied`."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise WorkerDied(
            "a worker process of this command ended unexpectedly (killed by the system, perhaps for lack of "
            "memory): nothing of the unfinished step was written. Run the command again, with fewer workers "
            "(--workers 1) if it happens again."
        ) from exc


@contextmanager
def worker_pool(
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    fork: bool = False,
) -> Iterator[WorkerPool]:
    """``workers`` processes that die with this one. ``fork=True`` starts them by fork (they
    share what this process has built; the caller checks :func:`can_fork`); otherwise by the
    platform's default. Leaving the block normally waits for the work submitted; leaving it by
    an exception kills the workers at once."""
    context = multiprocessing.get_context("fork") if fork else None
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )
    pool = WorkerPool(executor, workers)
    try:
        yield pool
    except BaseException:
        pool.kill()
        raise
    executor.shutdown(wait=True)
