"""Shared fixtures: real workspaces, real generated workbooks, filled as a person would."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consult.cli import app
from consult.definitions import bundled_definition
from consult.example.filler import fill_workbook, form_of, sample_answers
from consult.forms.writer import generate, targets
from consult.workspace import Workspace, create_secret, init_workspace, open_workspace

ROUND = "test-round"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner, workspace: Workspace) -> Callable[..., Any]:
    """Run the real CLI against the test workspace."""

    def invoke(*args: str) -> Any:
        return runner.invoke(app, ["--workspace", str(workspace.root), *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def workspace(tmp_path: Path, forms: Path) -> Workspace:
    """A fresh workspace of round ROUND that generated ``forms``: it holds their seal key."""
    init_workspace(tmp_path / "ws", round_id=ROUND, countries=["KZ", "KG", "TJ"])
    ws = open_workspace(tmp_path / "ws")
    shutil.copy(forms.parent / "ws" / ".consult" / "secret", ws.secret_path)
    return ws


@pytest.fixture(scope="session")
def forms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blank questionnaires of round ROUND for every institution of KZ, KG and TJ (generated
    once per session: they only depend on the definitions and the round)."""
    base = tmp_path_factory.mktemp("forms")
    ws = Workspace(
        root=base / "ws",
        round=ROUND,
        countries=["KZ", "KG", "TJ"],
        institutions=[i.id for i in bundled_definition().framework.institutions],
    )
    d = bundled_definition()
    create_secret(ws.root)  # a key made with the workspace (as 'consult init' does): no old-style seals
    generate(d, ws, targets(ws, None, None), base / "forms", ["en", "ru"])
    return base / "forms"


@pytest.fixture
def make_return(forms: Path, tmp_path: Path, workspace: Workspace) -> Callable[..., Path]:
    """A filled return: complete valid answers (seeded), then ``overrides`` on top.

    ``overrides`` maps item ids (or ``item#part``) to what the person typed; ``None`` blanks a cell.
    ``drop`` removes answers entirely (left blank)."""
    counter = iter(range(10_000))

    def make(
        country: str,
        institution: str,
        overrides: dict[str, Any] | None = None,
        drop: list[str] | None = None,
        seed: int = 1,
        name: str | None = None,
    ) -> Path:
        blank = forms / country / f"{country}-{institution}.en-ru.xlsx"
        form, langs = form_of(blank, bundled_definition())
        answers = sample_answers(form, langs, random.Random(seed))
        for key in drop or []:
            for k in [k for k in answers if k == key or k.startswith(key + "#")]:
                del answers[k]
        answers.update(overrides or {})
        target = tmp_path / "returns" / (name or f"{country}-{institution}-{next(counter)}.xlsx")
        return fill_workbook(blank, answers, target)

    return make


# Tiers: a test that builds real workbooks or stores is "slow" (end to end, in CI); the rest test
# pure functions (value parsing, scoring rules, robustness, document blocks, YAML checks) and
# run in seconds: `python -m pytest -m "not slow"` (the pre-commit hook).
SLOW_FIXTURES = {"forms", "make_return", "workspace", "cli", "consulted", "kz", "other"}
# A test that runs LibreOffice (soffice) or pyxform carries that marker and `slow`: the fast tier
# (`-m "not slow"`) runs neither, and `-m libreoffice` / `-m pyxform` runs just those.
EXTERNAL_TOOLS = {"libreoffice", "pyxform"}
SLOW_MODULES = {"test_end_to_end", "test_generate", "test_store_migration", "test_generality"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        external = [m.name for m in item.iter_markers() if m.name in EXTERNAL_TOOLS]
        if external and item.get_closest_marker("slow") is None:
            raise pytest.UsageError(f"{item.nodeid} is marked {external[0]}: mark it slow too")
