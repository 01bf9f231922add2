"""``consult quotes export|import``: the translators' round trip for quotes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consult.errors import UsageError

from . import app
from .common import EXIT_DATA, JsonOption, err, handle_errors, out, print_json, problem_lang, workspace
from .complete import complete_language

if TYPE_CHECKING:  # the CLI imports the library lazily, inside each command
    from consult.workspace import Workspace

quotes_app = typer.Typer(
    help="Translate quotes: export those not in the synthesis language, import the translations.",
    no_args_is_help=True,
)
app.add_typer(quotes_app, name="quotes")

LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        metavar="LANG",
        help="The synthesis language the quotes are translated into.",
        autocompletion=complete_language,
    ),
]


def _check_lang(ws: Workspace, lang: str) -> None:
    languages = ws.definition.languages
    if lang not in languages:
        raise UsageError(f"--lang {lang}: the definitions have {', '.join(languages)}")


@quotes_app.command("export")
@handle_errors
def export_cmd(
    ctx: typer.Context,
    lang: LangOption = "en",
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Workbook to write.",
            show_default="WORKSPACE/translations/quotes.LANG.xlsx",
        ),
    ] = None,
) -> None:
    """Write every quote not in LANG to a workbook (id, country, institution, area, original,
    an empty translation column) for the office's translators."""
    from consult.analysis.data import load_round
    from consult.naming import tagged
    from consult.report.translations import export_quotes
    from consult.workspace import open_store

    ws = workspace(ctx)
    _check_lang(ws, lang)
    target = out_file or ws.root / "translations" / tagged("quotes", lang, ".xlsx")
    with open_store(ws) as store:
        n = export_quotes(load_round(store, ws), lang, target)
    out.print(f"Wrote {n} quote(s) to translate into '{lang}' to [bold]{target}[/]")


@quotes_app.command("import")
@handle_errors
def import_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The filled workbook.", exists=True, dir_okay=False)],
    lang: LangOption = "en",
    as_json: JsonOption = False,
) -> None:
    """Read the translations back; the synthesis then shows each translation with the original beneath.

    Checked like a return: unknown ids and edited originals are reported with their cell, and
    nothing is stored unless every row is right (exit 1)."""
    from consult.analysis.data import load_round
    from consult.report.translations import import_quotes
    from consult.workspace import open_store

    ws = workspace(ctx)
    _check_lang(ws, lang)
    with open_store(ws) as store:
        result = import_quotes(ws, load_round(store, ws), lang, path)
    words = problem_lang()  # the problems' language; --lang is the translations'
    if as_json:
        print_json({"imported": result.imported, "errors": [f.to_dict(words) for f in result.errors]})
    else:
        for f in result.errors:
            err.print(f"[red]✗[/] {f.text_in(words)}  [dim]({f.fix_in(words)})[/]")
        if not result.errors:
            out.print(f"Imported {result.imported} translation(s) into '{lang}'.")
    if result.errors:
        raise typer.Exit(EXIT_DATA)
