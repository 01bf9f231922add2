"""Drafter commands on results: ``score``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import app
from .common import (
    CountryOption,
    JsonOption,
    check_round_countries,
    handle_errors,
    out,
    print_json,
    split_csv,
    workspace,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import JustifyMethod

    from consult.analysis.results import CountryScore, ScoreResult
    from consult.analysis.robustness import CountryRobustness
    from consult.definitions.framework import Framework
    from consult.workspace import Workspace

SeedOption = Annotated[
    int | None,
    typer.Option(
        "--seed",
        metavar="N",
        help="Seed of the resampling figures (rank kept, weight draws); the words never depend on it.",
        show_default="the method's fixed seed",
    ),
]


def method_seed(seed: int | None) -> int:
    """The seed asked for, else the method's (imported here: the analysis imports NumPy)."""
    from consult.analysis.robustness import SEED

    return SEED if seed is None else seed


def fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def selected_countries(ws: Workspace, country: list[str] | None) -> list[str] | None:
    codes = [c.upper() for c in split_csv(country)]
    check_round_countries(ws, codes)
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
    "effective_n",
    "evidence",
    "agreement",
    "spread",
    "low_evidence",
    "borda",
    "mentions",
    "rank_kept",
    "verdict",
    "tier",
    "p_first",
    "p_top3",
    "rank_low",
    "rank_high",
    "score_low",
    "score_high",
    "rwg",
]


def score_rows(result: ScoreResult) -> list[list[Any]]:
    from consult.definitions.framework import text

    rows: list[list[Any]] = []
    for code, c in result.countries.items():
        rob = result.robustness.countries.get(code) if result.robustness else None
        for a in c.areas:
            ar = rob.area(a.id) if rob else None
            kept, verdict = (ar.bootstrap.keep_rank, ar.verdict) if ar else (None, None)
            head = [code, "area", a.id, a.id, text(a.name, "en"), a.rank, a.score, a.n, a.effective_n, a.evidence]
            ranks = (ar.rank_interval if ar else None) or (None, None)
            interval = (ar.score_interval if ar else None) or (None, None)
            method = [ar.tier, ar.p_first, ar.p_top3, *ranks, *interval, ar.rwg] if ar else [None] * 8
            rows.append([*head, a.agreement, a.spread, a.low_evidence, a.borda, a.mentions, kept, verdict, *method])
        for comp in c.components:
            head = [code, "component", comp.id, comp.area, text(comp.name, "en"), "", comp.score, comp.n]
            tail = [comp.effective_n, comp.evidence, comp.agreement, comp.spread, comp.low_evidence, comp.borda]
            rows.append([*head, *tail, comp.mentions, None, None, *[None] * 8])
    return rows


@app.command()
@handle_errors
def score(
    ctx: typer.Context,
    country: CountryOption = None,
    as_json: JsonOption = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Also write every score to this CSV file.")
    ] = None,
    top: Annotated[int, typer.Option(metavar="N", help="Components shown per country.")] = 5,
    seed: SeedOption = None,
) -> None:
    """Score priorities per country against the programme areas, with how sure each rank is.

    The method: docs/methodology.md (Annex A of every synthesis states it too)."""
    from consult.analysis.data import load_round
    from consult.analysis.export import neutralise
    from consult.analysis.scoring import score_round
    from consult.definitions.framework import text
    from consult.definitions.wording import Wording
    from consult.fileio import write_atomic
    from consult.workspace import open_store

    ws = workspace(ctx)
    codes = selected_countries(ws, country)
    with open_store(ws) as store:
        result = score_round(load_round(store, ws, codes), seed=method_seed(seed))
    if csv_file:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(SCORE_CSV_COLUMNS)
        writer.writerows([[neutralise(v) for v in row] for row in score_rows(result)])
        write_atomic(csv_file, "\ufeff" + buf.getvalue())
    if as_json:
        print_json(result.to_dict())
        return
    fw = ws.definition.framework
    say = Wording.of(ws.definition, "report", "en")  # the terminal speaks English

    def short(area_id: str) -> str:
        return text(fw.area_by_id[area_id].short, "en")

    for code, c in result.countries.items():
        rob = result.robustness.countries.get(code) if result.robustness else None
        _print_country(code, c, rob, fw, say, short, top)
    _print_regional(result, fw, say, short)
    if csv_file:
        out.print(f"Scores written to [bold]{csv_file}[/]")


def _print_country(
    code: str,
    c: CountryScore,
    rob: CountryRobustness | None,
    fw: Framework,
    say: Callable[..., str],
    short: Callable[[str], str],
    top: int,
) -> None:
    """One country of ``consult score``: its table of areas, the method's words, its top components."""
    from rich import box
    from rich.table import Table

    from consult.analysis import findings
    from consult.definitions.framework import text

    cov = c.coverage
    name = text(fw.country_by_code[code].name, "en")
    table = Table(
        title=f"{name} ({code}): {cov.responded} of {cov.invited} institutions responded",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("#", "right"),
        ("Area", "left"),
        ("Score", "right"),
        ("90%", "right"),
        ("Tier", "left"),
        ("P top 3", "right"),
        ("n", "right"),
        ("4–5", "right"),
        ("Borda", "right"),
        ("Ment.", "right"),
        ("", "left"),
    )
    for col, just in columns:
        table.add_column(col, justify=just, min_width={"Area": 14, "Tier": 8}.get(col))
    for a in c.areas:
        ar = rob.area(a.id) if rob else None
        iv = ar.score_interval if ar else None
        table.add_row(
            str(a.rank or ""),
            text(a.short, "en"),
            fmt(a.score),
            f"{fmt(iv[0])}–{fmt(iv[1])}" if iv else "",
            ar.tier_label if ar and ar.tier else "",
            fmt(ar.p_top3, 2) if ar else "",
            str(a.n),
            pct(a.agreement),
            str(a.borda),
            str(a.mentions),
            "[yellow]†[/]" if a.evidence == "low" else "",
        )
    out.print(table)
    if rob:
        words: list[str | None] = list(findings.ranking_sentences(findings.ranking_findings(rob.ranked), say, short))
        words += [findings.non_response_sentence(rob.ranked, cov.responded, cov.invited, say, short)]
        words += [findings.agreement_sentence(rob.agreement, say)]
        adj = rob.rater_adjustment
        if adj:
            ranked_ids = [x.area for x in rob.ranked]
            words += [findings.adjustment_sentence(adj.ranking, ranked_ids, adj.changes_top3, say, short)]
        for sentence in words:
            if sentence:
                out.print(f"  {sentence}", highlight=False)
    if any(a.evidence == "low" for a in c.areas):
        out.print("  [yellow]†[/] low evidence (fewer than 3 ratings or one dominant weight): listed, not ranked")
    if rob and rob.changes_top and any(a.rank for a in c.areas):  # a first place to rest on
        out.print(f"  First place rests on single returns: without {', '.join(rob.changes_top)} another area leads")
    comps = [x for x in c.components if x.score is not None][:top]
    if comps:
        out.print(
            "  Top components: "
            + "; ".join(
                f"{text(x.name, 'en')} ({fmt(x.score)}, n={x.n}{', †' if x.evidence == 'low' else ''})" for x in comps
            )
        )
    out.print()


def _print_regional(result: ScoreResult, fw: Framework, say: Callable[..., str], short: Callable[[str], str]) -> None:
    """The regional part of ``consult score``: area scores side by side, and the shared priorities."""
    from rich.table import Table

    from consult.analysis import findings
    from consult.definitions.framework import text

    reg = result.regional
    if reg and len(reg.countries) > 1:
        table = Table(title="Regional comparison: area scores by country (n)")
        table.add_column("Area")
        for code in reg.countries:
            table.add_column(code, justify="right")
        table.add_column("Mean", justify="right")
        for ra in reg.areas:
            cells = [
                "–"
                if ra.scores.get(cc) is None
                else f"{fmt(ra.scores[cc])} ({ra.n[cc]})" + (" †" if ra.low_evidence[cc] else "")
                for cc in reg.countries
            ]
            table.add_row(text(ra.short, "en"), *cells, fmt(ra.mean))
        out.print(table)
        rreg = result.robustness.regional if result.robustness else None
        if rreg:
            for sentence in findings.ranking_sentences(findings.ranking_findings(rreg.ranked), say, short):
                out.print(sentence, highlight=False)
        if reg.shared:
            out.print(
                "Shared priorities (top 3, on sufficient evidence, in most countries): "
                + ", ".join(text(fw.area_by_id[a].short, "en") for a in reg.shared)
            )
