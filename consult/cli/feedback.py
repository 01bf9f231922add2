"""``consult feedback``: each institution's own workbook back, its problems marked, with a note."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from consult.errors import UsageError

from . import app
from .common import (
    EXIT_DATA,
    CountryOption,
    InstitutionOption,
    JsonOption,
    LangsOption,
    err,
    handle_errors,
    out,
    print_json,
    split_csv,
    workspace,
)

if TYPE_CHECKING:
    from consult.feedback.workbook import Feedback


@app.command()
@handle_errors
def feedback(
    ctx: typer.Context,
    country: CountryOption = None,
    institution: InstitutionOption = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Also accepted returns with warnings the institution can act on.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Output folder.", show_default="WORKSPACE/feedback"),
    ] = None,
    lang: LangsOption = None,
    search: Annotated[
        list[Path] | None,
        typer.Option(
            "--from",
            metavar="DIR",
            help="Folder holding the returned files, if they moved since ingest; repeatable.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Each institution its own workbook back, problems marked: OUT/CC/CC-INST-feedback.LANGS.xlsx.

        For every institution whose latest return is rejected or incomplete (--all: or has warnings to act on).

        Its answers in a fresh copy of its form, each problem cell marked with a note, a first sheet listing them.

        A file that could not be read gets a blank form saying why.
    Beside each: CC-INST-feedback.LANGS.txt, the covering note.

    --lang: the languages of the notes and lists (default: the form's own).

        Exit 0; 1 when a return could not be given feedback (the reason is shown); 2 usage error.
    """
    from rich.table import Table

    from consult.feedback.workbook import feedback as run_feedback
    from consult.workspace import open_store

    ws = workspace(ctx)
    fw = ws.definition.framework
    countries = [c.upper() for c in split_csv(country)]
    institutions = [i.upper() for i in split_csv(institution)]
    bad = [c for c in countries if c not in fw.country_by_code]  # a return from outside the round gets feedback too
    if bad:
        raise UsageError(f"unknown country {', '.join(bad)}; use one of {', '.join(fw.country_by_code)}")
    bad = [i for i in institutions if i not in fw.institution_by_id]
    if bad:
        raise UsageError(f"unknown institution {', '.join(bad)}; use one of {', '.join(fw.institution_by_id)}")
    langs = split_csv(lang) or None
    bad = [x for x in langs or [] if x not in fw.languages]
    if bad:
        raise UsageError(f"language {', '.join(bad)} is not in the framework; available: {', '.join(fw.languages)}")
    missing = [str(p) for p in search or [] if not p.exists()]
    if missing:
        raise UsageError(f"no such folder: {', '.join(missing)}")
    dest = out_dir or ws.root / "feedback"
    with open_store(ws, write=True) as store:  # it records what it wrote
        results = run_feedback(
            ws, store, dest, countries or None, institutions or None, all_, langs, search or [], on_file=_progress
        )
        received = len(store.returns(countries=countries or None))
    if as_json:
        print_json([r.to_dict() for r in results])
    elif not results and not received:
        out.print("No returns yet, so no feedback to write: ingest the returned files first ('consult ingest inbox/').")
    elif not results:
        hint = "" if all_ else " (--all also writes it for accepted returns with warnings to act on)"
        out.print(
            f"No return needs feedback: every institution's latest return by e-mail is accepted{hint}; "
            "web submissions are corrected in the web form."
        )
    else:
        table = Table(title=f"Feedback written to {dest}")
        for col in ("Country", "Institution", "Return", "Status", "Problems", "File"):
            table.add_column(col)
        for r in results:
            what = str(len(r.problems)) if r.kind == "corrections" else ("unreadable" if r.kind == "blank" else "-")
            where = escape(str(r.path)) if r.path else f"[red]not written:[/] {escape(r.reason)}"
            table.add_row(r.country or "?", r.institution or escape(r.file), f"#{r.return_id}", r.status, what, where)
        out.print(table)
    if any(r.kind == "skipped" for r in results):
        raise typer.Exit(EXIT_DATA)


def _progress(result: Feedback) -> None:
    if result.kind == "skipped":
        err.print(f"[yellow]! #{result.return_id} {escape(result.file)}: {escape(result.reason)}[/]")
