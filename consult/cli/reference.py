"""Write docs/cli.md, the command-line reference, from the commands' own ``--help``.

The reference is generated rather than written so that it cannot drift from the code: every
command and sub-command gets a section holding its help exactly as a user sees it, rendered at a
fixed width with colour off so the file is the same on every machine. ``tests/test_docs.py``
regenerates it and fails when the committed file differs. Run after changing a command::

    python -m consult.cli.reference          # rewrites docs/cli.md
    python -m consult.cli.reference --check  # exit 1 if docs/cli.md is out of date
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from consult.fileio import write_atomic

from . import app

WIDTH = 100
ENV = {"COLUMNS": str(WIDTH), "LINES": "50", "TERM": "dumb", "NO_COLOR": "1", "CONSULT_WORKSPACE": None}
TARGET = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
COMMAND = "python -m consult.cli.reference"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def commands() -> Iterator[list[str]]:
    """Every visible command path, depth first in --help order: [], [init], ..., [definitions, update]."""

    def walk(command: Any, path: list[str]) -> Iterator[list[str]]:
        yield path
        if hasattr(command, "list_commands"):  # a group (Typer vendors its own click: no isinstance)
            ctx = command.make_context("consult", [], resilient_parsing=True)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def help_text(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="consult", env=ENV)
    if result.exit_code != 0:
        raise RuntimeError(f"consult {' '.join(path)} --help exited {result.exit_code}: {result.output}")
    lines = [line.rstrip() for line in _ANSI.sub("", result.output).splitlines()]
    return "\n".join(lines).strip("\n")


def render() -> str:
    """The whole of docs/cli.md."""
    paths = list(commands())
    out = [
        "# Command-line reference",
        "",
        f"Generated from each command's `--help` ({WIDTH} columns) by `{COMMAND}`; do not edit it by hand:",
        "change the command's help in `consult/cli/` and run the script (a test fails while this file",
        "and the commands disagree). The README's [Commands](../README.md#commands) table says the same",
        "in one line per command, with the exit codes.",
        "",
        " · ".join(f"[{' '.join(['consult', *p])}](#{'-'.join(['consult', *p])})" for p in paths),
    ]
    for path in paths:
        out += ["", f"## {' '.join(['consult', *path])}", "", "```text", help_text(path), "```"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--check"]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if args:
        print(f"usage: {COMMAND} [--check]", file=sys.stderr)
        return 2
    write_atomic(TARGET, text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
