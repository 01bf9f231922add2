"""Help that shows what a user types, not Python types.

Typer (0.2x) prints a type column built from the annotations (``--debug <bool>``,
``<list[Path]>``) and writes a required argument as ``{paths}...``. Our options and arguments
carry a metavar saying what to type (``-c CC``, ``PATH...``); these small overrides make the
help show exactly that: a flag shows nothing after its name, a metavar is shown as written.
They touch only help rendering, and only where this Typer has those hooks (older Typer
versions print no type column). ``tests/test_cli_help.py`` pins the result on the real help.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    from typer import core

    option = getattr(core, "TyperOption", None)
    argument = getattr(core, "TyperArgument", None)
    if option is not None and hasattr(option, "display_type_rich"):
        shown = option.display_type_rich

        def option_type(self: Any, ctx: Any) -> str | None:
            if getattr(self, "is_flag", False) and self.metavar is None:
                return None  # --debug, --json: nothing to type after the name
            typed: str | None = shown(self, ctx)
            return typed

        option.display_type_rich = option_type
    if argument is not None and hasattr(argument, "display_type_rich"):
        shown_arg = argument.display_type_rich

        def argument_type(self: Any, ctx: Any) -> str | None:
            return None if self.metavar is not None else shown_arg(self, ctx)  # the name column shows it

        argument.display_type_rich = argument_type
    if argument is not None and hasattr(argument, "_usage_display_name"):
        usage = argument._usage_display_name

        def usage_name(self: Any) -> str:
            return str(self.metavar) if self.metavar is not None else str(usage(self))

        argument._usage_display_name = usage_name
