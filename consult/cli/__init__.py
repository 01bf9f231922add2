"""The ``consult`` command line: a thin Typer layer over the library."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from consult import __version__

from . import common, helptext
from .common import State

helptext.install()

app = typer.Typer(
    name="consult",
    help="Run a national consultation: generate bilingual Excel questionnaires, ingest the "
    "returns, score priorities against the programme areas and write the synthesis.\n\n"
    "Problems in the data (validate, ingest, returns, quotes import) are worded in English; "
    "set the environment variable CONSULT_LANG=ru to have their messages and fixes in Russian.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"consult {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace",
            "-w",
            envvar="CONSULT_WORKSPACE",
            file_okay=False,
            metavar="DIR",
            help="Workspace folder (consult.yaml, consult.db).",
            show_default="current directory",
        ),
    ] = Path("."),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[  # noqa: ARG001 (acted on by its eager callback, _version)
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Global options apply to every command."""
    ctx.obj = State(workspace=workspace, debug=debug)
    common.CURRENT = ctx.obj


# Each module registers its commands on import; this order is the order of --help.
for _module in ("setup", "xlsform", "returns", "feedback", "analysis", "synthesis", "compare", "quotes", "demo"):
    importlib.import_module(f"{__name__}.{_module}")


def main() -> None:
    common.install_process_handlers()
    app(prog_name="consult")
