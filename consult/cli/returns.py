"""Drafter commands on returns: ``ingest``, ``status``, ``returns``, ``export``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from consult.errors import UsageError
from consult.errors import printable as shown
from consult.intake.safety import MAX_SIZE

from . import app
from .common import (
    EXIT_DATA,
    CountryOption,
    JsonOption,
    LangOption,
    err,
    handle_errors,
    out,
    print_json,
    problem_lang,
    progress,
    split_csv,
    workspace,
)

if TYPE_CHECKING:
    from consult.intake.ingest import IngestResult

STATUS_STYLE = {
    "accepted": "[green]accepted[/]",
    "incomplete": "[yellow]incomplete[/]",
    "rejected": "[red]rejected[/]",
    "duplicate": "[dim]already ingested[/]",
    "superseded": "[dim]superseded[/]",
    "unreadable": "[red]not read[/]",
    "held": "[yellow]held[/]",
}
WORD = {"duplicate": "already ingested", "unreadable": "not read"}  # the table's words, in the summary too


@app.command()
@handle_errors
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...",
            help="Returned workbooks (.xlsx, .xlsm), KoboToolbox/ODK Central exports (.csv, .xlsx, .zip), folders.",
            show_default=False,
        ),
    ],
    strict: Annotated[bool, typer.Option("--strict", help="Reject returns with required answers missing.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the files, store nothing.")] = False,
    workers: Annotated[
        int | None, typer.Option(metavar="N", help="Reader processes.", show_default="one per CPU, up to 4")
    ] = None,
    max_size: Annotated[int, typer.Option(metavar="BYTES", help="Largest file accepted.")] = MAX_SIZE,
    accept_fewer: Annotated[
        bool,
        typer.Option(
            "--accept-fewer",
            help="Apply web submissions with fewer answers than the current version of the same submission "
            "(held otherwise).",
        ),
    ] = False,
    include_rejected: Annotated[
        bool,
        typer.Option(
            "--include-rejected",
            help="Count submissions the server's reviewers rejected (Kobo 'Not approved', Central 'Rejected').",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Read returned workbooks and web exports (KoboToolbox, ODK Central) into the store.

    Every problem of every file is listed at once, with its cell.

    Exit 0 when every file was accepted or already ingested, 1 when any was rejected or incomplete.
    """
    from consult.intake.ingest import discover
    from consult.intake.ingest import ingest as run_ingest

    ws = workspace(ctx)
    found = discover(paths)  # once: the library ingests exactly these files
    if not found.files and not found.problems:
        raise UsageError("no .xlsx or .csv files found in " + ", ".join(shown(str(p)) for p in paths))
    with progress(len(found.files) + len(found.problems), "Ingesting", enabled=not as_json) as advance:
        results = run_ingest(
            found,
            ws,
            strict=strict,
            dry_run=dry_run,
            workers=workers,
            max_size=max_size,
            on_file=lambda r: advance(escape(shown(r.file))),
            accept_fewer=accept_fewer,
            include_rejected=include_rejected,
        )
    lang = problem_lang()
    if as_json:
        print_json([r.to_dict(lang) for r in results])
    else:
        held = sum(1 for r in results if r.status == "held")
        if held:  # first: answers were about to be lost
            out.print(
                f"[yellow]{held} web submission(s) held, not applied: fewer answers than the current version of "
                "the same submission (see below; --accept-fewer applies them)[/]"
            )
        title = "Dry run: nothing stored" if dry_run else f"Ingested into {ws.db_path}"
        rows: list[tuple[str, str, str, str, str]] = [
            (shown(r.file), r.country or "", r.institution or "", r.status, _notes(r)) for r in results
        ]
        _listing(title, rows)
        for r in results:  # every problem of every file, at once: what --json and 'consult feedback' show
            if r.status == "duplicate":
                continue  # listed when it was first ingested
            for f in r.errors:
                out.print(f"[red]✗[/] {escape(shown(f.text_in(lang)))}  [dim]({escape(shown(f.fix_in(lang)))})[/]")
            for f in r.missing:
                out.print(f"[yellow]…[/] {escape(shown(f.text_in(lang)))}")
            for f in r.warnings:
                out.print(f"[dim]! {escape(shown(f.text_in(lang)))}[/]")
        counts = {s: sum(1 for r in results if r.status == s) for s in STATUS_STYLE}  # the table's words
        err.print(", ".join(f"{n} {WORD.get(s, s)}" for s, n in counts.items() if n))
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_DATA)


TABLE_UP_TO = 100  # files; a longer listing is printed as aligned lines (a rich table of 1,000 rows takes a second)


def _notes(r: IngestResult) -> str:
    """The last column of the ingest table: what became of one file, in a few words."""
    problems = []
    if r.status == "duplicate":
        problems.append(f"as #{r.duplicate_of}" + (", rejected" if r.errors else ""))
    else:
        if r.errors:
            problems.append(f"{len(r.errors)} error(s)")
        if r.missing:
            problems.append(f"{len(r.missing)} missing")
    if r.superseded:
        problems.append(f"supersedes #{', #'.join(map(str, r.superseded))} ({r.why})")
    if r.superseded_by:
        problems.append(f"older than #{r.superseded_by}, which stays current ({r.why})")
    return ", ".join(problems)


def _listing(title: str, rows: list[tuple[str, str, str, str, str]]) -> None:
    """One line per file: a table for a handful, aligned plain lines for a whole inbox."""
    header = ("File", "Country", "Institution", "Status", "Problems")
    if len(rows) <= TABLE_UP_TO:
        from rich.table import Table

        table = Table(title=title)
        for col in header:
            table.add_column(col)
        for file, country, inst, state, problems in rows:
            table.add_row(escape(file), country, inst, STATUS_STYLE.get(state, state), escape(problems))
        out.print(table)
        return
    words = [(f, c, i, WORD.get(st, st), p) for f, c, i, st, p in rows]
    widths = [max(len(h), *(len(w[k]) for w in words)) for k, h in enumerate(header[:4])]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, [*widths, 0], strict=True)).rstrip()]
    for (file, country, inst, state, problems), (*_, word, _p) in zip(rows, words, strict=True):
        styled = STATUS_STYLE.get(state, state) + " " * (widths[3] - len(word))
        cells = [
            escape(file.ljust(widths[0])),
            country.ljust(widths[1]),
            inst.ljust(widths[2]),
            styled,
            escape(problems),
        ]
        lines.append("  ".join(cells).rstrip())
    out.print("\n".join(lines))


@app.command()
@handle_errors
def status(ctx: typer.Context, country: CountryOption = None, as_json: JsonOption = False) -> None:
    """Coverage: countries x invited institutions, accepted / incomplete / rejected / missing."""
    from rich.table import Table

    from consult.analysis.coverage import coverage
    from consult.workspace import open_store

    ws = workspace(ctx)
    codes = [c.upper() for c in split_csv(country)] or None
    with open_store(ws) as store:
        cov = coverage(store, ws, codes).to_dict()
        rejected = (  # institutions whose only files were rejected: ✗, not · (read only when there are any)
            {(r.country, r.institution) for r in store.returns(countries=codes) if r.status == "rejected"}
            if cov["totals"]["rejected"]
            else set()
        )
    if as_json:
        print_json(cov)
        return
    institutions = sorted(
        {i for c in cov["countries"].values() for i in c["institutions"]},
        key=lambda i: ws.institutions.index(i) if i in ws.institutions else 999,
    )
    from rich import box

    # no vertical rules, shared padding: twelve institutions and the counts fit 100 columns whole
    table = Table(
        title=f"Round {ws.round}: returns per country and institution", box=box.SIMPLE_HEAD, collapse_padding=True
    )
    table.add_column("", no_wrap=True)  # the country code
    for inst in institutions:
        table.add_column(inst, justify="center")
    for head in ("✓", "◐", "·"):  # the counts, headed by the legend's marks: twelve institutions fit 100 columns
        table.add_column(head, justify="right", no_wrap=True)
    table.add_column("latest", no_wrap=True)
    marks = {"accepted": "[green]✓[/]", "incomplete": "[yellow]◐[/]", "rejected": "[red]✗[/]", "missing": "[dim]·[/]"}

    def mark(code: str, inst_id: str, inst: dict[str, Any]) -> str:
        fb = inst.get("feedback")
        sent = " ✉" if fb and not fb["answered"] else ""  # feedback sent, no new file since
        state = "rejected" if inst["status"] == "missing" and (code, inst_id) in rejected else inst["status"]
        return marks[state] + sent

    for code, c in cov["countries"].items():
        row = [code] + [mark(code, i, c["institutions"][i]) if i in c["institutions"] else "" for i in institutions]
        row += [str(c["accepted"]), str(c["incomplete"]), str(c["missing"]), (c["latest"] or "-")[:10]]
        table.add_row(*row)
    out.print(table)
    t = cov["totals"]
    only_rejected = sum(
        1
        for code, c in cov["countries"].items()
        for i, inst in c["institutions"].items()
        if inst["status"] == "missing" and (code, i) in rejected
    )
    out.print(
        f"✓ accepted {t['accepted']}  ◐ incomplete {t['incomplete']}  ✗ rejected, nothing usable yet {only_rejected}  "
        f"· missing {t['missing'] - only_rejected}  (blank: not invited there)\n"
        f"{t['invited']} invited; {t['rejected']} rejected file(s), {t['superseded']} superseded "
        "('consult returns' lists every file, 'consult feedback' writes the corrections to send)"
    )
    waiting = sum(
        1
        for c in cov["countries"].values()
        for i in c["institutions"].values()
        if i.get("feedback") and not i["feedback"]["answered"]
    )
    if waiting:
        out.print(f"✉ feedback sent, no new file since: {waiting} institution(s) ('consult returns' has the dates)")


@app.command("returns")
@handle_errors
def list_returns(
    ctx: typer.Context,
    country: CountryOption = None,
    current: Annotated[
        bool, typer.Option("--current", help="Only the returns that count (not superseded or rejected).")
    ] = False,
    restore: Annotated[
        int | None,
        typer.Option("--restore", metavar="ID", help="Make an earlier (superseded) version current again."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every return received, with its history (superseded and rejected versions too).

    --restore ID makes a superseded version current again (say a resent return lost answers);
    the version it replaces is kept, and the listing says it was restored by hand."""
    from rich.table import Table

    from consult.errors import finding
    from consult.store import explain
    from consult.workspace import open_store

    ws = workspace(ctx)
    if restore is not None:
        today = dt.date.today().isoformat()
        note = finding("restored", severity="warning", date=today)
        with open_store(ws, write=True) as store:
            replaced = store.restore(restore, note)
        err.print(
            f"#{restore} is current again; "
            + (f"#{', #'.join(map(str, replaced))} kept as superseded" if replaced else "nothing replaced")
        )
    codes = [c.upper() for c in split_csv(country)] or None
    with open_store(ws) as store:
        rows = store.returns(countries=codes)
        sent: dict[int, list[dict[str, Any]]] = {}  # return id -> the feedback written about it
        for written in store.feedback(codes):
            sent.setdefault(written.return_id, []).append(written.to_dict())
    lang = problem_lang()
    why = explain(rows, lang)  # from every return of the institution, also when only the current ones are listed
    if current:
        rows = [r for r in rows if r.status in ("accepted", "incomplete")]
    if as_json:
        print_json(
            [
                {
                    **r.to_dict(lang),
                    "why": why.get(r.id, ""),
                    "feedback": sent.get(r.id, []),
                }
                for r in rows
            ]
        )
        return
    columns = ("#", "File", "Channel", "Country", "Institution", "Received", "Status", "sha256")
    cells = []
    for r in rows:
        st: str = r.status
        if r.superseded_by:
            st += f" by #{r.superseded_by}"
        if r.status == "rejected":
            st += f" ({len(r.errors)} error(s))"
        for f in sent.get(r.id, []):  # the history: when feedback was sent about this return
            st += f"; ✉ sent {f['written_at'][:10]} ({f['problems']})"
        cells.append(
            (
                str(r.id),
                shown(r.file_name),
                r.channel,
                r.country or "",
                r.institution or "",
                r.received_at[:10],
                st,
                r.sha256[:8],
            )
        )
    title = f"{len(rows)} return(s), round {ws.round}"
    if len(rows) <= RICH_TABLE_UP_TO:
        table = Table(title=title)
        for col in columns:
            table.add_column(col)
        for r, row in zip(rows, cells, strict=True):
            status = STATUS_STYLE.get(r.status, r.status) + escape(row[6][len(r.status) :]).replace("; ✉", "\n✉")
            table.add_row(*(escape(c) for c in row[:6]), status, row[7])
        out.print(table)
    else:  # a long history: aligned columns in one write, linear and fast (a rich table is ~1 ms a row)
        write_columns(title, columns, cells)
    lines = [  # below the table, whole: why a return counts or not, at any terminal width
        f"#{r.id} {shown(r.file_name)}: {r.status}: {shown(why[r.id])}" for r in rows if why.get(r.id)
    ]
    if lines:
        out.file.write("\n".join(lines) + "\n")
        out.file.flush()


RICH_TABLE_UP_TO = 500  # rows: beyond this, a listing is searched (grep, less) rather than read


def write_columns(title: str, columns: tuple[str, ...], cells: Sequence[tuple[str, ...]]) -> None:
    """A plain table: one line per row, columns aligned, written at once."""
    widths = [len(c) for c in columns]
    for row in cells:
        for i, value in enumerate(row):
            if len(value) > widths[i]:
                widths[i] = len(value)
    last = len(columns) - 1

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v if i == last else v.ljust(widths[i]) for i, v in enumerate(values))

    text = [title, line(columns), "  ".join("-" * w for w in widths)]
    text += [line(row) for row in cells]
    out.file.write("\n".join(text) + "\n")
    out.file.flush()


@app.command()
@handle_errors
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="csv|xlsx", help="File format.")] = "csv",
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Output file.", show_default="WORKSPACE/export/answers.LANG.FORMAT"
        ),
    ] = None,
    lang: LangOption = "en",
    country: CountryOption = None,
) -> None:
    """All current answers in long format: WORKSPACE/export/answers.LANG.FORMAT.

    Columns: country, institution, question, area, component, value, label (in LANG)."""
    from consult.analysis.export import export_answers
    from consult.naming import tagged
    from consult.workspace import open_store

    if fmt not in ("csv", "xlsx"):
        raise UsageError(f"--format {fmt!r}: use csv or xlsx")
    ws = workspace(ctx)
    target = out_file or ws.root / "export" / tagged("answers", lang, f".{fmt}")
    with open_store(ws) as store:
        n = export_answers(store, ws, target, fmt, lang, [c.upper() for c in split_csv(country)] or None)
    out.print(f"Wrote {n} answer row(s) to [bold]{target}[/]")
