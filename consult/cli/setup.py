"""Facilitator commands: ``init``, ``validate``, ``generate``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consult.errors import Finding, UsageError

from . import app
from .common import (
    EXIT_DATA,
    CountryOption,
    InstitutionOption,
    JsonOption,
    LangsOption,
    check_round_countries,
    err,
    handle_errors,
    out,
    print_json,
    problem_lang,
    progress,
    split_csv,
    state,
    warn_missing_labels,
    workspace,
)

if TYPE_CHECKING:
    from consult.forms.writer import Generated


@app.command()
@handle_errors
def init(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Argument(metavar="[DIR]", help="Folder to create (default: the workspace).", show_default=False),
    ] = None,
    round_id: Annotated[
        str | None, typer.Option("--round", metavar="ID", help="Round id written into every workbook.")
    ] = None,
    title: Annotated[str | None, typer.Option(metavar="TEXT", help="Title of the consultation.")] = None,
    deadline: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="Return deadline.")] = None,
    country: CountryOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing consult.yaml.")] = False,
    definitions: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Definitions folder to copy into the workspace.",
            show_default="the bundled questionnaire",
        ),
    ] = None,
    bundled: Annotated[
        bool, typer.Option("--bundled", help="Use the installed package's definitions; copy nothing.")
    ] = False,
) -> None:
    """Create a workspace: consult.yaml, consult.db and questionnaires/ (this round's copy of the definitions).

    consult.yaml holds the round, deadline, countries and invited institutions; edit it, then 'consult validate'."""
    from consult.definitions import bundled_definition, load_definition
    from consult.workspace import init_workspace

    root = directory or state(ctx).workspace
    when = None
    if deadline:
        try:
            when = dt.date.fromisoformat(deadline)
        except ValueError as exc:
            raise UsageError(f"--deadline {deadline!r} is not a date; use YYYY-MM-DD") from exc
        if when < dt.date.today():
            err.print(
                f"[yellow]Warning: the deadline {when.isoformat()} is in the past; every workbook will show it. "
                "If that is a typo, correct 'deadline:' in consult.yaml before 'consult generate'.[/]"
            )
    fw = (load_definition(definitions) if definitions else bundled_definition()).framework
    codes = [c.upper() for c in split_csv(country)]
    unknown = [c for c in codes if c not in fw.country_by_code]
    if unknown:
        raise UsageError(f"unknown country {', '.join(unknown)}; use one of {', '.join(fw.country_by_code)}")
    ws = init_workspace(root, round_id, title, when, codes or None, force, definitions, copy=not bundled)
    where = f"; its questionnaire is in {ws.definitions_dir}" if ws.definitions_dir else ""
    out.print(
        f"Created workspace [bold]{root}[/] (round [bold]{ws.round}[/], {len(ws.countries)} countries, "
        f"{len(ws.institutions)} institutions{where}). Edit {root / 'consult.yaml'} to tune it."
    )


@app.command()
@handle_errors
def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="YAML files or folders to check (default: the workspace's definitions and its consult.yaml, "
            "else the bundled definitions).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check YAML definitions against the schema, the roles and cross-references.

    Without PATH: the workspace's definitions (consult.yaml 'definitions') and consult.yaml itself
    (unknown countries, institutions, languages), else the bundled definitions.
    Every problem is reported as file:line:column: message. Exit 0 when valid (warnings allowed), 1 when not.
    """
    from consult.definitions.schema import validate_paths
    from consult.workspace import workspace_definitions_dir

    for p in paths or []:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
    settings = None
    if not paths:
        folder = workspace_definitions_dir(state(ctx).workspace)
        paths = [folder] if folder else None
        settings = state(ctx).workspace / "consult.yaml"
    files, findings = validate_paths(paths)
    if settings is not None and settings.is_file():
        files.append(settings)
        if not any(f.severity == "error" for f in findings):  # consult.yaml is checked against valid definitions
            findings += _settings_findings(state(ctx).workspace)
    errors = [f for f in findings if f.severity == "error"]
    lang = problem_lang()
    if as_json:
        print_json([f.to_dict(lang) for f in findings])
    else:
        for f in findings:
            colour = "red" if f.severity == "error" else "yellow"
            label = "" if f.severity == "error" else "warning: "
            out.print(f"{f.location}: [{colour}]{label}{_esc(f.message_in(lang))}[/]")
            out.print(f"    [dim]fix: {_esc(f.fix_in(lang))}[/]")
        status = "[green]valid[/]" if not errors else f"[red]{len(errors)} problem(s)[/]"
        warned = len(findings) - len(errors)
        err.print(f"{len(files)} file(s) checked: {status}" + (f", {warned} warning(s)" if warned else ""))
    if errors:
        raise typer.Exit(EXIT_DATA)


def _settings_findings(root: Path) -> list[Finding]:
    """consult.yaml's own problems (schema, unknown countries, institutions, languages), located
    at its lines as every command would report them."""
    from consult.workspace import WorkspaceError, open_workspace

    try:
        open_workspace(root)
    except WorkspaceError as exc:
        return list(exc.findings)
    return []


def _esc(value: str) -> str:
    from rich.markup import escape

    return escape(value)


@app.command()
@handle_errors
def generate(
    ctx: typer.Context,
    country: CountryOption = None,
    institution: InstitutionOption = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every invited institution in every country of the workspace.")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", help="Output folder.", show_default="WORKSPACE/forms")
    ] = None,
    lang: LangsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write one Excel questionnaire per country and institution: OUT/CC/CC-INST.LANGS.xlsx.

    The languages side by side are in the name: forms/KZ/KZ-MFA.en-ru.xlsx, forms/KZ/KZ-MFA.ru.xlsx."""
    from rich.table import Table

    from consult.forms.writer import generate as generate_workbooks
    from consult.forms.writer import targets

    st = state(ctx)
    ws = workspace(ctx)
    definition = ws.definition
    fw = definition.framework
    countries = [c.upper() for c in split_csv(country)]
    institutions = [i.upper() for i in split_csv(institution)]
    if not (all_ or countries or institutions):
        raise UsageError("say which questionnaires to write: --all, or --country/--institution")
    check_round_countries(ws, countries)
    bad = [i for i in institutions if i not in fw.institution_by_id]
    if bad:
        raise UsageError(f"unknown institution {', '.join(bad)}; use one of {', '.join(fw.institution_by_id)}")
    langs = split_csv(lang) or ws.languages
    bad = [x for x in langs if x not in fw.languages]
    if bad:
        raise UsageError(f"language {', '.join(bad)} is not in the framework; available: {', '.join(fw.languages)}")
    for code in langs:
        warn_missing_labels(code, definition.missing_labels(code) if code != "en" else [])
    pairs = targets(ws, countries or None, institutions or None)
    if not pairs:
        raise UsageError("nothing to generate: no invited institution matches --country/--institution")
    dest = out_dir or st.workspace / "forms"
    with progress(len(pairs), "Generating", enabled=not as_json) as advance:
        results = generate_workbooks(
            definition, ws, pairs, dest, langs, on_file=lambda g: advance(f"{g.country}-{g.institution}")
        )
    if as_json:
        print_json(
            [
                {
                    "path": str(r.path),
                    "country": r.country,
                    "institution": r.institution,
                    "questions": r.items,
                    "sheets": r.sheets,
                }
                for r in results
            ]
        )
        return
    table = Table(title=f"{len(results)} questionnaire(s) written to {dest}")
    table.add_column("Country")
    table.add_column("Institutions")
    table.add_column("Files", justify="right")
    table.add_column("Questions", justify="right")
    by_country: dict[str, list[Generated]] = {}
    for r in results:
        by_country.setdefault(r.country, []).append(r)
    for code, rows in by_country.items():
        table.add_row(code, ", ".join(r.institution for r in rows), str(len(rows)), str(sum(r.items for r in rows)))
    out.print(table)
