"""The README's examples are the code's real output: its `consult score --json` example is
checked value by value against the bundled example returns, and every command it names exists."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consult.cli import app
from consult.example.builder import EXAMPLE_KEY
from consult.workspace import create_secret

ROOT = Path(__file__).resolve().parents[1]


def json_example() -> Any:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("`consult score --json`") :]
    return json.loads(re.search(r"```json\n(.*?)\n```", block, re.S).group(1))  # type: ignore[union-attr]


def same(shown: Any, real: Any, path: str = "") -> None:
    """Every value the README shows equals the real one (lists: the first elements shown)."""
    if isinstance(shown, dict):
        assert isinstance(real, dict), path
        for key, value in shown.items():
            assert key in real, f"{path}.{key} is not in the output"
            same(value, real[key], f"{path}.{key}")
    elif isinstance(shown, list) and shown and isinstance(shown[0], dict):
        assert len(real) >= len(shown), path
        for i, value in enumerate(shown):
            same(value, real[i], f"{path}[{i}]")
    elif isinstance(shown, float):
        assert real == pytest.approx(shown), path
    else:
        assert real == shown, path


@pytest.mark.slow
def test_readme_score_json_is_the_real_output(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(ROOT / "examples" / "consult.yaml", ws / "consult.yaml")
    create_secret(ws, secret=EXAMPLE_KEY.secret)  # the example returns' seal key, as 'consult demo' installs it
    runner = CliRunner()
    assert runner.invoke(app, ["-w", str(ws), "ingest", str(ROOT / "examples" / "returns")]).exit_code in (0, 1)
    real = json.loads(runner.invoke(app, ["-w", str(ws), "score", "--json"]).stdout)
    same(json_example(), real)


def test_every_command_in_the_readme_exists() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `consult (\w+)", text, re.M))
    result = CliRunner().invoke(app, ["--help"])
    for command in named:
        assert command in result.stdout, command
        assert CliRunner().invoke(app, [command, "--help"]).exit_code == 0
