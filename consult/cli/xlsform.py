"""Facilitator command ``xlsform``: the questionnaire as XLSForms for KoboToolbox / ODK Central."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult.errors import UsageError

from . import app
from .common import (
    CountryOption,
    JsonOption,
    check_round_countries,
    handle_errors,
    out,
    print_json,
    split_csv,
    state,
    workspace,
)


@app.command()
@handle_errors
def xlsform(
    ctx: typer.Context,
    country: CountryOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", help="Output folder.", show_default="WORKSPACE/xlsform")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write one XLSForm per country (OUT/CC-xlsform.xlsx) to deploy on KoboToolbox or ODK Central.

    The respondent picks the institution from the country's invited ones and sees what its
    workbook asks; 'consult ingest' reads the server's CSV/XLS export of the submissions."""
    from consult.forms.xlsform import write_xlsforms
    from consult.workspace import remember_definition

    ws = workspace(ctx)
    definition = ws.definition
    countries = [c.upper() for c in split_csv(country)] or list(ws.countries)
    check_round_countries(ws, countries)
    if not countries:
        raise UsageError("no country: name one with --country, or list them in consult.yaml")
    invited = {c: ws.invited_for(c) for c in countries}
    dest = out_dir or state(ctx).workspace / "xlsform"
    written = write_xlsforms(definition, countries, invited, ws.round, dest)
    remember_definition(ws, definition)  # its submissions stay readable after the questionnaire changes
    if as_json:
        print_json(
            [
                {
                    "path": str(path),
                    "country": xf.country,
                    "form_id": xf.form_id,
                    "version": xf.version,
                    "institutions": xf.institutions,
                    "questions": xf.questions,
                }
                for xf, path in written
            ]
        )
        return
    # lines, not a table: the form_id is what a facilitator copies into the server, whole at any width
    out.print(f"{len(written)} XLSForm(s) written to {dest}")
    width = max(len(xf.form_id) for xf, _ in written)
    for xf, path in written:
        out.print(
            f"  {xf.country}  [bold]{xf.form_id.ljust(width)}[/]  version {xf.version}  {xf.questions} questions, "
            f"{len(xf.institutions)} institution(s): {', '.join(xf.institutions)}  → {path.name}"
        )
