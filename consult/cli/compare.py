"""``consult compare``: what changed since the last consultation (two rounds, two workspaces)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from consult.definitions.framework import text

from . import app
from .common import CountryOption, JsonOption, handle_errors, out, print_json, split_csv, workspace

MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        "-m",
        metavar="FILE",
        dir_okay=False,
        help="Mapping YAML between the two definition versions.",
        show_default="the later definitions' mappings/ file from the earlier framework",
    ),
]


def _num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.0f}" if sign else f"{value:.0f}"


def _change(value: float | None, interval: tuple[float, float] | None) -> str:
    if value is None:
        return "–"
    return f"{value:+.0f}" + (f" [{interval[0]:+.0f}, {interval[1]:+.0f}]" if interval else "")


def _tier(value: int | None) -> str:
    return {1: "L", 2: "M", 3: "T"}.get(value or 0, "–")


def _rank(value: int | None) -> str:
    return f"#{value}" if value is not None else "–"


@app.command(short_help="What changed since the last consultation: two rounds, per country and regionally.")
@handle_errors
def compare(
    earlier: Annotated[
        Path, typer.Argument(metavar="EARLIER", file_okay=False, help="Workspace of the earlier round.")
    ],
    later: Annotated[Path, typer.Argument(metavar="LATER", file_okay=False, help="Workspace of the later round.")],
    mapping: MappingOption = None,
    country: CountryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per country and regionally: each area's score and rank in both rounds, the change with
    P(it rose) and an interval, rank moves, components entering or leaving the top 5, new
    themes, and whether a change comes only from a different set of respondents.

    The rounds are read in the later definitions' ids through the mapping (README, 'Round to round').
    """
    from consult.analysis.compare import compare_rounds, load_rounds

    before, after, found = load_rounds(earlier, later, mapping)
    codes = [c.upper() for c in split_csv(country)] or None
    result = compare_rounds(before, after, found, codes)
    if as_json:
        print_json(result.to_dict())
        return
    fw = after.definition.framework
    efw = before.definition.framework
    alone = [c for c in (codes or after.with_returns) if c not in result.countries]

    def name(ident: str, lang: str = "en") -> str:
        comp = fw.component_by_id.get(ident)
        if comp:
            return text(comp.short or comp.name, lang)
        area = fw.area_by_id.get(ident)
        return text(area.short, lang) if area else ident

    out.print(
        f"[bold]{before.round}[/] ({efw.id}) → [bold]{after.round}[/] ({fw.id})"
        + (f", mapping {result.mapping_file}" if result.mapping_file else ", same framework")
    )
    for code, c in result.countries.items():
        table = Table(title=f"{text(c.name, 'en')} ({code})", title_justify="left", box=box.SIMPLE_HEAD)
        for col in ("Area", "Earlier", "Now", "Tier", "Change [95%]", "P(rose)", "Move", ""):
            table.add_column(col, justify="left" if col in ("Area", "") else "right", no_wrap=col != "Area")
        for a in c.areas:
            notes = []
            if not a.comparable:
                notes.append("new")
            if a.respondents_only:
                notes.append("‡")
            if "low" in (a.earlier.evidence, a.later.evidence) and a.comparable:
                notes.append("†")
            table.add_row(
                name(a.id),
                f"{_num(a.earlier.score)} {_rank(a.earlier.rank)}",
                f"{_num(a.later.score)} {_rank(a.later.rank)}",
                f"{_tier(a.earlier.tier) if a.comparable else ''}→{_tier(a.later.tier)}",
                _change(a.change.value, a.change.interval),
                "–" if a.change.p_rose is None else f"{a.change.p_rose:.0%}",
                "–" if a.rank_move is None else f"{a.rank_move:+d}" if a.rank_move else "=",
                " ".join(notes),
            )
        out.print(table)
        only_e = ", ".join(sorted(set(c.earlier_institutions) - set(c.later_institutions))) or "none"
        only_l = ", ".join(sorted(set(c.later_institutions) - set(c.earlier_institutions))) or "none"
        out.print(
            f"  Answered in both rounds: {', '.join(c.common) or 'none'}"
            f"; only {before.round}: {only_e}; only {after.round}: {only_l}"
        )
        out.print(f"  Entered the top 5 components: {', '.join(name(x) for x in c.entered) or 'none'}")
        out.print(f"  Left the top 5: {', '.join(name(x) for x in c.left) or 'none'}")
        themes = sorted(c.new_themes, key=lambda x: -c.themes[x]["later"])[:5]
        listed = ", ".join(f"{name(x)} ({c.themes[x]['later']})" for x in themes)
        out.print(f"  New themes in free text (mentions): {listed or 'none'}")
    table = Table(title="Regional (mean of country scores)", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("Area", "Earlier", "Now", "Change [95%]", "P(rose)", "Move"):
        table.add_column(col, justify="left" if col == "Area" else "right", no_wrap=col != "Area")
    for r in result.regional:
        move = None if r.earlier_rank is None or r.later_rank is None else r.earlier_rank - r.later_rank
        table.add_row(
            name(r.id),
            f"{_num(r.earlier)} {_rank(r.earlier_rank)}",
            f"{_num(r.later)} {_rank(r.later_rank)}",
            _change(r.change.value, r.change.interval),
            "–" if r.change.p_rose is None else f"{r.change.p_rose:.0%}",
            "–" if move is None else f"{move:+d}" if move else "=",
        )
    out.print(table)
    if alone:
        out.print(f"No returns in both rounds (not compared): {', '.join(alone)}")
    if result.not_comparable:
        out.print(f"Not comparable (no earlier figure): {', '.join(name(x) for x in result.not_comparable)}")
    dropped = [x for kind in ("areas", "components", "institutions") for x in result.dropped[kind]]
    if dropped:
        out.print(f"Dropped since {before.round}: {', '.join(dropped)}")
    out.print(
        f"Earlier: {before.round}; now: {after.round}; #rank among areas with sufficient evidence; Move: places "
        "gained among the areas both rounds have. Tier: L leading, M middle, T trailing (whether the area is in "
        "the top three), then → now. ‡ the change comes only from a different set of respondents "
        "(the institutions that answered in both rounds do not show it); † low evidence in a round; new: no "
        "earlier figure. "
        "Change = later − earlier score (0–100), in the later definitions' ids and weights; the interval and "
        f"P(rose) come from {result.draws} resamples of each round's institutions (docs/methodology.md)."
    )


definitions_app = typer.Typer(help="The workspace's questionnaire definitions across versions.", no_args_is_help=True)
app.add_typer(definitions_app, name="definitions")


@definitions_app.command("update")
@handle_errors
def definitions_update(
    ctx: typer.Context,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            metavar="DIR",
            file_okay=False,
            help="The newer definitions folder.",
            show_default="the bundled definitions",
        ),
    ] = None,
    mapping: MappingOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Bring this workspace to a newer definition set, through the mapping between the two.

    Returns already ingested keep their version and are read through the mapping; late
    returns on the old forms are still accepted and mapped. consult.yaml, the definitions
    folder and consult.db are first copied to .consult/snapshots/.
    """
    from consult.update import apply_update, plan_update

    ws = workspace(ctx)
    plan = plan_update(ws, to, mapping)
    if not dry_run:
        apply_update(ws, plan)
    if as_json:
        print_json({**plan.to_dict(), "dry_run": dry_run})
        return
    for line in plan.lines():
        out.print(f"  {'would: ' if dry_run else ''}{line}")
    if dry_run:
        out.print("Nothing changed (--dry-run).")
    else:
        out.print(f"Updated. The earlier state is in {plan.snapshot}; run 'consult validate' and 'consult generate'.")
