"""``consult synthesize``: per-country and regional syntheses in Markdown and Word."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from consult.errors import UsageError

from . import app
from .analysis import SeedOption, method_seed, selected_countries
from .common import (
    EXIT_DATA,
    CountryOption,
    JsonOption,
    LangOption,
    err,
    handle_errors,
    out,
    print_json,
    progress,
    split_csv,
    warn_missing_labels,
    workspace,
)


@app.command()
@handle_errors
def synthesize(
    ctx: typer.Context,
    country: CountryOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Every country with at least one return.")] = False,
    regional: Annotated[bool, typer.Option("--regional", help="Also the regional comparison.")] = False,
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", metavar="md,docx", help="md, docx or both.", show_default="md,docx"),
    ] = None,
    lang: LangOption = "en",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Output folder.", show_default="WORKSPACE/synthesis"),
    ] = None,
    as_json: JsonOption = False,
    seed: SeedOption = None,
    compare_with: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            metavar="DIR",
            file_okay=False,
            help="Workspace of the earlier round: adds 'Change since the last consultation'.",
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            metavar="FILE",
            dir_okay=False,
            help="Mapping YAML for --compare (default: the definitions' own).",
        ),
    ] = None,
) -> None:
    """Write OUT/CC-synthesis.LANG.md and .docx per country; --regional: regional-synthesis.LANG.md/.docx.

    The language is in every name (KZ-synthesis.en.docx, KZ-synthesis.ru.docx): one folder holds both.
    Numbers are those of `consult score`; quotes are attributed to institutions, never to persons.
    """
    from rich.table import Table

    from consult.report.synthesis import FORMATS, check_language, countries_with_returns, no_returns_message
    from consult.report.synthesis import synthesize as run_synthesize
    from consult.workspace import open_store

    ws = workspace(ctx)
    formats = split_csv(fmt) or list(FORMATS)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UsageError(f"--format {', '.join(bad)}: use md, docx or md,docx")
    warn_missing_labels(lang, check_language(ws.definition, lang))
    codes = selected_countries(ws, country) or []
    if not (codes or all_ or regional):
        raise UsageError("say what to write: --country CC, --all, and/or --regional")
    dest = out_dir or ws.root / "synthesis"
    skipped: list[str] = []
    sections: list[Any] = []
    if compare_with is not None:
        from consult.report.change import change_section

        sections.append(change_section(compare_with, ws, lang, mapping))
    with open_store(ws) as store:
        if all_:
            codes = list(dict.fromkeys(codes + countries_with_returns(store, ws)))
        total = len(codes) * len(formats) + (len(formats) if regional else 0)
        with progress(total, "Writing", enabled=not as_json) as advance:
            written = run_synthesize(
                store,
                ws,
                codes,
                regional=regional,
                formats=formats,
                lang=lang,
                out=dest,
                on_file=lambda w: advance(w.path.name),
                skipped=skipped,
                seed=method_seed(seed),
                sections=sections,
            )
    for code in skipped:
        if code == "regional":
            err.print("[yellow]No country has returns yet: no regional synthesis written (see consult status).[/]")
        else:
            err.print(f"[yellow]{no_returns_message(ws, code)}[/]")
    if as_json:
        print_json([{"path": str(w.path), "country": w.country, "format": w.format} for w in written])
    elif not written:
        err.print("Nothing written: ingest the returns first ('consult ingest inbox/'), then 'consult status'.")
    else:
        table = Table(title=f"{len(written)} file(s) written to {dest}")
        table.add_column("Country")
        table.add_column("Format")
        table.add_column("File")
        for w in written:
            table.add_row(w.country, w.format, str(w.path))
        out.print(table)
    if not written:
        raise typer.Exit(EXIT_DATA)
