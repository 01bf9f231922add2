"""What every command shares: consoles, global state, error handling, output helpers.

Results go to stdout, messages and progress to stderr, so ``--json`` output can be piped.
Exit codes: 0 success, 1 the data is wrong (or the machine refused), 2 usage error, 130
interrupted, 143 stopped by SIGTERM, 70 an unexpected crash (a bug).
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from consult import problems
from consult.errors import ConsultError, UsageError
from consult.locks import set_notice
from consult.workers import Terminated, stop_on_sigterm

from .complete import complete_country, complete_institution, complete_language

if TYPE_CHECKING:
    from consult.workspace import Workspace

# The command modules import the library inside each command, never at the top: `consult
# --help` and `consult status` then start without matplotlib, python-docx, lxml, numpy,
# jsonschema, openpyxl or XlsxWriter (tests/test_cli_startup.py pins that). locks and workers
# are the standard library only.

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 70
# faults of the machine, not of consult (exit 1, not a bug): what to do about each
ADVICE = {
    errno.ENOSPC: "the disk is full: free some space",
    errno.EDQUOT: "your disk quota is used up: free some space or ask for a larger quota",
    errno.EFBIG: "the file grew beyond the size this system allows (ulimit -f, or the file system's limit): "
    "raise the limit or write to another disk",
    errno.EROFS: "that place is read-only: work in a writable copy of the workspace, or choose another --out",
    errno.EACCES: "you may not write or read there: fix the permissions (chmod u+w), or choose another --out",
    errno.EPERM: "the system forbids it: fix the permissions, or choose another --out",
    errno.EIO: "the disk reported an error: check the drive (a removed USB stick or network share)",
    errno.EMFILE: "too many files are open: close other programs, or raise the limit (ulimit -n)",
    errno.ENFILE: "too many files are open on this computer: close other programs",
    errno.ENOMEM: "the computer ran out of memory: close other programs, or use --workers 1",
    errno.ENAMETOOLONG: "a file name or path is too long: choose a shorter --out folder",
    errno.ENOENT: "a file or folder is missing (moved or deleted while the command ran?)",
    errno.ENOTDIR: "a path that should be a folder is a file: choose another --out folder",
    errno.EISDIR: "a path that should be a file is a folder: choose another --out",
    errno.EEXIST: "a file is in the way: move it aside",
}
ENVIRONMENT_ERRNOS = set(ADVICE)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
InstitutionOption = Annotated[
    list[str] | None,
    typer.Option(
        "--institution",
        "-i",
        metavar="ID",
        help="Institution id (e.g. MOH); repeatable: -i MOH -i MFA, or -i MOH,MFA.",
        autocompletion=complete_institution,
    ),
]
CountryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--country",
        "-c",
        metavar="CC",
        help="Country code (ISO alpha-2); repeatable: -c KZ -c KG, or -c KZ,KG.",
        autocompletion=complete_country,
    ),
]

LangsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--lang",
        metavar="LANG[,LANG]",
        help="Languages side by side, e.g. en,ru (or one: ru).",
        show_default="the workspace's",
        autocompletion=complete_language,
    ),
]
LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        metavar="LANG",
        help="Language of the document: any language of the definitions (en, ru, …).",
        autocompletion=complete_language,
    ),
]


LANG_ENV = "CONSULT_LANG"


def problem_lang() -> str:
    """The language of the problems a command reports (each finding's message and fix, on the
    terminal and in ``--json``): the environment variable CONSULT_LANG (``en``, ``ru``), English
    when it is unset. It is the reader's, not the round's, so it is no setting of consult.yaml;
    the language of a document or a form is each command's own ``--lang``."""
    lang = os.environ.get(LANG_ENV, "").strip().lower() or problems.DEFAULT
    if lang != problems.DEFAULT and lang not in problems.languages():
        raise UsageError(
            f"{LANG_ENV}={lang}: problems are worded in {', '.join(problems.languages())}; "
            f"set one of them, or unset {LANG_ENV} for English"
        )
    return lang


def _waiting(what: str, seconds: float) -> None:
    err.print(f"[yellow]waiting for another consult command ({seconds:.0f} s): it is using {escape(what)}[/]")


set_notice(_waiting)


@dataclass
class State:
    workspace: Path = Path(".")
    debug: bool = False


CURRENT = State()  # set by the root callback, for commands that take no context

F = TypeVar("F", bound=Callable[..., Any])


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State()


def workspace(ctx: typer.Context) -> Workspace:
    """The workspace of ``--workspace``; says so when it runs on defaults (no consult.yaml)."""
    from consult.workspace import open_workspace

    ws = open_workspace(state(ctx).workspace)
    if not ws.configured:
        err.print(
            f"[dim]No consult.yaml in {ws.root.resolve()}: using the defaults (round {ws.round}, "
            f"{len(ws.countries)} countries). 'consult init' names the round.[/]"
        )
    return ws


def check_round_countries(ws: Workspace, codes: list[str]) -> None:
    """Refuse a country outside the round: its forms would be written, and its returns then
    rejected by this same workspace."""
    fw = ws.definition.framework
    unknown = [c for c in codes if c not in fw.country_by_code]
    if unknown:
        raise UsageError(f"unknown country {', '.join(unknown)}; this round has {', '.join(ws.countries)}")
    outside = [c for c in codes if c not in ws.countries]
    if outside:
        raise UsageError(
            f"country {', '.join(outside)} is not in round {ws.round} ({', '.join(ws.countries)}); "
            "add it to 'countries' in consult.yaml first, then run the command again"
        )


def handle_errors(func: F) -> F:
    """Turn library errors into one clean line and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = next((v for v in [*args, *kwargs.values()] if isinstance(v, typer.Context)), None)
        debug = state(ctx).debug if ctx else CURRENT.debug
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except UsageError as exc:
            err.print(f"[red]Usage error:[/] {exc}", markup=True, highlight=False)
            raise typer.Exit(EXIT_USAGE) from exc
        except ConsultError as exc:
            err.print(f"[red]Error:[/] {escape(_in_problem_lang(exc))}")
            raise typer.Exit(EXIT_DATA) from exc
        except sqlite3.Error as exc:  # a fault of consult.db outside the Store's own guard
            from consult.store import store_fault

            fault = store_fault(exc, "consult.db")
            if fault is None:
                raise_bug(exc, debug)
            err.print(f"[red]Error:[/] {escape(str(fault))}")
            raise typer.Exit(EXIT_DATA) from exc
        except OSError as exc:  # the machine refused (full disk, size limit, permissions): not a bug
            err.print(f"[red]Error:[/] {escape(os_error_message(exc))}")
            raise typer.Exit(EXIT_DATA) from exc
        except Terminated:
            err.print("[yellow]Stopped (SIGTERM).[/] Nothing of the unfinished step was written.")
            raise typer.Exit(143) from None
        except KeyboardInterrupt:
            err.print("[yellow]Interrupted.[/] Work finished so far is kept.")
            raise typer.Exit(130) from None
        except Exception as exc:  # a crash is a bug; say so, and keep the traceback for --debug
            raise_bug(exc, debug)

    return wrapper  # type: ignore[return-value]


def _in_problem_lang(exc: ConsultError) -> str:
    """The error's words, its findings in the problem language (English if CONSULT_LANG is wrong:
    the error is what the user needs to read now)."""
    try:
        return exc.text_in(problem_lang())
    except UsageError:
        return str(exc)


def install_process_handlers() -> None:
    """For a real ``consult`` process: SIGTERM (as ``timeout`` sends) unwinds like Ctrl-C
    (workers killed, transaction rolled back, staging removed), and the echo of an OS fault
    already reported (a half-written zip closed at exit on a full disk) is not printed again
    as "Exception ignored in ..."."""
    stop_on_sigterm()
    default = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, OSError) and unraisable.exc_value.errno in ENVIRONMENT_ERRNOS:
            return
        default(unraisable)

    sys.unraisablehook = hook


def os_error_message(exc: OSError) -> str:
    """What the operating system refused, where, and what to do: one line, no traceback."""
    where = f" {exc.filename}" if exc.filename else ""
    what = exc.strerror or str(exc)
    advice = ADVICE.get(exc.errno or 0, "check the disk, the file and its permissions")
    return (
        f"cannot write or read{where}: {what}. Nothing was half-written (the previous files are as they were); "
        f"{advice}, then run the command again."
    )


def raise_bug(exc: Exception, debug: bool) -> NoReturn:
    """Report a crash as the bug it is (exit 70), with the traceback only under --debug."""
    if debug:
        traceback.print_exception(exc)
    err.print(
        f"[red]Internal error (a bug in consult):[/] {type(exc).__name__}: {escape(str(exc))}\n"
        "Re-run with --debug for the traceback and report it."
    )
    raise typer.Exit(EXIT_BUG) from exc


def escape(value: str) -> str:
    from rich.markup import escape as _escape

    return _escape(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def _no_progress(_desc: str = "") -> None:
    return None


@contextmanager
def progress(total: int, label: str, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr when there is enough work to watch; ``advance(desc)`` steps it."""
    if not enabled or total <= 3:
        yield _no_progress
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[item]}"),
        console=err,
        transient=False,
    )
    with bar:
        task = bar.add_task(label, total=total, item="")

        def advance(desc: str = "") -> None:
            bar.update(task, advance=1, item=desc)

        yield advance


def warn_missing_labels(lang: str, missing: list[str]) -> None:
    """Say which texts a partly translated language lacks (English is shown for them)."""
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        err.print(f"[yellow]{len(missing)} label(s) have no '{lang}' text; English is used for: {escape(shown)}[/]")


def split_csv(values: list[str] | None) -> list[str]:
    """Accept both ``--lang en,ru`` and ``--lang en --lang ru``."""
    items: list[str] = []
    for v in values or []:
        items += [x.strip() for x in v.split(",") if x.strip()]
    return items
