"""Drafter commands on results: ``score`` and ``synthesize``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import JustifyMethod
from rich.table import Table

from consult.analysis.export import neutralise
from consult.analysis.scoring import score as run_score
from consult.definitions.framework import text
from consult.errors import UsageError
from consult.fileio import write_atomic
from consult.workspace import open_store

from . import app
from .common import CountryOption, JsonOption, handle_errors, out, print_json, split_csv, workspace


def fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def selected_countries(ws: Any, country: list[str] | None) -> list[str] | None:
    codes = [c.upper() for c in split_csv(country)]
    bad = [c for c in codes if c not in ws.countries]
    if bad:
        raise UsageError(f"country {', '.join(bad)} is not in this workspace ({', '.join(ws.countries)})")
    return codes or None


SCORE_CSV_COLUMNS = [
    "country",
    "level",
    "id",
    "area",
    "name",
    "rank",
    "score",
    "n",
    "agreement",
    "spread",
    "low_evidence",
    "borda",
    "mentions",
]


def score_rows(result: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for code, c in result["countries"].items():
        for a in c["areas"]:
            rows.append(
                [
                    code,
                    "area",
                    a["id"],
                    a["id"],
                    text(a["name"], "en"),
                    a["rank"],
                    a["score"],
                    a["n"],
                    a["agreement"],
                    a["spread"],
                    a["low_evidence"],
                    a["borda"],
                    a["mentions"],
                ]
            )
        for comp in c["components"]:
            rows.append(
                [
                    code,
                    "component",
                    comp["id"],
                    comp["area"],
                    text(comp["name"], "en"),
                    "",
                    comp["score"],
                    comp["n"],
                    comp["agreement"],
                    comp["spread"],
                    comp["low_evidence"],
                    comp["borda"],
                    comp["mentions"],
                ]
            )
    return rows


@app.command()
@handle_errors
def score(
    ctx: typer.Context,
    country: CountryOption = None,
    as_json: JsonOption = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write every score to this CSV file.")] = None,
    top: Annotated[int, typer.Option(help="Components shown per country.")] = 5,
) -> None:
    """Score priorities per country against the programme areas (method: docs/methodology.md)."""
    ws = workspace(ctx)
    codes = selected_countries(ws, country)
    with open_store(ws) as store:
        result = run_score(store, ws, codes)
    if csv_file:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(SCORE_CSV_COLUMNS)
        writer.writerows([[neutralise(v) for v in row] for row in score_rows(result)])
        write_atomic(csv_file, "\ufeff" + buf.getvalue())
    if as_json:
        print_json(result)
        return
    fw = ws.definition.framework
    for code, c in result["countries"].items():
        cov = c["coverage"]
        name = text(fw.country_by_code[code].name, "en")
        table = Table(title=f"{name} ({code}): {cov['responded']} of {cov['invited']} institutions responded")
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("#", "right"),
            ("Area", "left"),
            ("Score", "right"),
            ("n", "right"),
            ("Agreement", "right"),
            ("Spread", "right"),
            ("Borda", "right"),
            ("Mentions", "right"),
            ("", "left"),
        )
        for col, just in columns:
            table.add_column(col, justify=just)
        for a in c["areas"]:
            table.add_row(
                str(a["rank"] or "–"),
                text(a["short"], "en"),
                fmt(a["score"]),
                str(a["n"]),
                pct(a["agreement"]),
                fmt(a["spread"]),
                str(a["borda"]),
                str(a["mentions"]),
                "[yellow]![/]" if a["low_evidence"] else "",
            )
        out.print(table)
        if any(a["low_evidence"] for a in c["areas"]):
            out.print("  [yellow]![/] low evidence: fewer than 3 ratings")
        comps = [x for x in c["components"] if x["score"] is not None][:top]
        if comps:
            out.print(
                "  Top components: "
                + "; ".join(f"{text(x['name'], 'en')} ({fmt(x['score'])}, n={x['n']})" for x in comps)
            )
        out.print()
    reg = result["regional"]
    if len(reg["countries"]) > 1:
        table = Table(title="Regional comparison: area scores by country")
        table.add_column("Area")
        for code in reg["countries"]:
            table.add_column(code, justify="right")
        table.add_column("Mean", justify="right")
        for a in reg["areas"]:
            table.add_row(text(a["short"], "en"), *[fmt(a["scores"].get(c)) for c in reg["countries"]], fmt(a["mean"]))
        out.print(table)
        if reg["shared"]:
            out.print(
                "Shared priorities (top 3 in most countries): "
                + ", ".join(text(fw.area_by_id[a].short, "en") for a in reg["shared"])
            )
    if csv_file:
        out.print(f"Scores written to [bold]{csv_file}[/]")
