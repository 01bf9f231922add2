"""The :class:`Workspace` object: one consultation round in one folder, as every command sees it.

It says where the round's files are (:mod:`consult.workspace.layout`), which definitions the
round runs with, and what ``consult.yaml`` settled (round, title, deadline, languages, the
countries and institutions invited). Reading and writing ``consult.yaml`` is
:mod:`consult.workspace.settings`'s; opening the store, :mod:`consult.workspace.opening`'s.

Why a module of its own: every command receives a ``Workspace`` and most only read it, so the
object stays small and cheap to import (``consult status`` must start fast), while validating
settings, the seal key and the store live in the modules that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from consult.definitions import Definition, bundled_definition, load_definition
from consult.seal import SealKey
from consult.workspace.keys import create_secret, has_history, load_secret
from consult.workspace.layout import DB, PRIVATE, SECRET, SNAPSHOTS

DEFAULT_ROUND = "roca-2021-2025"
DEFAULT_TITLE = {
    "en": "National consultations on the UNODC Programme for Central Asia 2021-2025",
    "ru": "Национальные консультации по Программе ЮНОДК для Центральной Азии на 2021-2025 годы",
}


@dataclass
class Workspace:
    """A round's folder and its settings, as :func:`~consult.workspace.open_workspace` read
    them from ``consult.yaml`` (or the defaults of the definitions, without one)."""

    root: Path
    round: str = DEFAULT_ROUND
    title: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TITLE))
    deadline: str | None = None
    contact: str | None = None
    languages: list[str] = field(default_factory=lambda: ["en", "ru"])
    countries: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)
    invited: dict[str, list[str]] = field(default_factory=dict)
    configured: bool = False
    definitions_dir: Path | None = None  # the workspace's own YAML definitions; None: bundled

    @property
    def db_path(self) -> Path:
        return self.root / DB

    @property
    def snapshots_dir(self) -> Path:
        """Copies of every definition a workbook was generated from (by hash)."""
        return self.root / SNAPSHOTS

    @property
    def secret_path(self) -> Path:
        return self.root / PRIVATE / SECRET

    @cached_property
    def seal_key(self) -> SealKey:
        """The key that seals this workspace's forms; a workspace made before keys existed gets
        one on first use (forms it generated before then keep their old seal, accepted with a
        warning)."""
        return load_secret(self.root) or create_secret(self.root, legacy=has_history(self.root))

    @cached_property
    def definition(self) -> Definition:
        """The definitions every command of this workspace uses."""
        if self.definitions_dir is None:
            return bundled_definition()
        return load_definition(self.definitions_dir)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or next(iter(self.title.values()), "")

    def invited_for(self, country: str) -> list[str]:
        """Institutions invited in ``country`` (the per-country list, else the common one)."""
        return list(self.invited.get(country, self.institutions))

    def to_config(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "round": self.round,
            "title": self.title,
            "deadline": self.deadline,
            "contact": self.contact,
        }
        if self.definitions_dir is not None:
            folder, root = self.definitions_dir.resolve(), self.root.resolve()
            data["definitions"] = str(folder.relative_to(root) if folder.is_relative_to(root) else folder)
        data.update(
            languages=self.languages, countries=self.countries, institutions=self.institutions, invited=self.invited
        )
        return data
