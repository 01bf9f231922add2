"""Shell completion of option values from the workspace: ``-c`` (its countries), ``-i`` (its
invited institutions), ``--lang`` (its definitions' languages).

The shell runs ``consult`` on every Tab, so each callback reads only ``consult.yaml`` (and, with
no workspace, the bundled framework) and never fails: a broken workspace completes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer


def _root(ctx: typer.Context) -> Path:
    """The ``--workspace`` typed so far on the command line, else CONSULT_WORKSPACE, else here."""
    typed = ctx.find_root().params.get("workspace")
    return Path(typed or os.environ.get("CONSULT_WORKSPACE") or ".")


def _settings(ctx: typer.Context) -> dict[str, Any]:
    try:
        import yaml

        data = yaml.safe_load((_root(ctx) / "consult.yaml").read_text(encoding="utf-8"))
    except Exception:  # no or broken consult.yaml: complete from the framework
        return {}
    return data if isinstance(data, dict) else {}


def _framework(ctx: typer.Context) -> dict[str, Any]:
    try:
        import yaml

        from consult.resources import data_dir

        folder = _settings(ctx).get("definitions")
        base = _root(ctx) / folder if isinstance(folder, str) else data_dir("questionnaires")
        data = yaml.safe_load((base / "framework.yaml").read_text(encoding="utf-8"))
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def _matching(values: list[Any], incomplete: str) -> list[str]:
    last = incomplete.rsplit(",", 1)[-1]  # -c KZ,K<Tab> completes the last item
    head = incomplete[: len(incomplete) - len(last)]
    return [head + str(v) for v in dict.fromkeys(values) if str(v).upper().startswith(last.upper())]


def complete_country(ctx: typer.Context, incomplete: str) -> list[str]:
    countries = _settings(ctx).get("countries") or [
        c.get("code") for c in _framework(ctx).get("countries") or [] if isinstance(c, dict)
    ]
    return _matching([c for c in countries if c], incomplete)


def complete_institution(ctx: typer.Context, incomplete: str) -> list[str]:
    settings = _settings(ctx)
    invited = settings.get("invited") or {}
    chosen = [c.upper() for v in ctx.params.get("country") or [] for c in str(v).split(",") if c]
    ids: list[Any] = []
    for code, insts in invited.items() if isinstance(invited, dict) else []:
        if not chosen or code in chosen:
            ids += insts or []
    if not ids:
        ids = settings.get("institutions") or [
            i.get("id") for i in _framework(ctx).get("institutions") or [] if isinstance(i, dict)
        ]
    return _matching([i for i in ids if i], incomplete)


def complete_language(ctx: typer.Context, incomplete: str) -> list[str]:
    languages = _framework(ctx).get("languages") or _settings(ctx).get("languages") or ["en", "ru"]
    return _matching(list(languages), incomplete)
