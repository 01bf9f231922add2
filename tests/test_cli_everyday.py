"""Everyday use of the command line: it starts without the heavy libraries, its help shows what
a user types, option values complete from the workspace, and its messages name the real state.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli import app

HEAVY = ("matplotlib", "docx", "lxml", "numpy", "jsonschema", "openpyxl", "xlsxwriter", "pandas", "jinja2")
COMMANDS = [
    [],
    ["init"],
    ["validate"],
    ["generate"],
    ["xlsform"],
    ["ingest"],
    ["status"],
    ["returns"],
    ["export"],
    ["feedback"],
    ["score"],
    ["synthesize"],
    ["demo"],
    ["quotes"],
    ["quotes", "export"],
    ["quotes", "import"],
    ["compare"],
    ["definitions"],
    ["definitions", "update"],
]


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}
    )


def heavy_after(code: str, cwd: Path | None = None) -> list[str]:
    """The heavy modules loaded once ``code`` has run in a fresh interpreter."""
    probe = f"import sys\n{code}\nprint('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = run("-c", probe, cwd=cwd)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("HEAVY:"))
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def test_importing_the_cli_imports_no_heavy_library() -> None:
    assert heavy_after("import consult.cli") == []


def test_ingest_reads_workbooks_with_lxml_alone() -> None:
    """`consult ingest` parses returns with lxml: openpyxl (a third of its start-up, once) and
    the writers' libraries are not imported to read them (dates follow consult.intake.serials)."""
    assert heavy_after("import consult.intake.ingest, consult.intake.submissions") == ["lxml"]


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_help_and_status_import_no_heavy_library(tmp_path: Path) -> None:
    """What every command pays before doing anything: `--help` and `status` (the commands a user
    runs most) need none of the document, workbook or numeric libraries."""
    assert run("-m", "consult", "init", str(tmp_path / "ws")).returncode == 0
    calls = "from consult.cli import app\n"
    for args in (["--help"], ["-w", str(tmp_path / "ws"), "status"], ["-w", str(tmp_path / "ws"), "generate", "-h"]):
        calls += f"try:\n    app({args!r}, prog_name='consult')\nexcept SystemExit as e:\n    assert e.code == 0, e\n"
    assert heavy_after(calls) == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "consult")
def test_help_shows_what_a_user_types(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = result.stdout
    assert not re.search(r"<(bool|str|int|path|list\[[^]]*\])>", text), text  # no Python types
    assert "{" not in text.split("\n\n")[0] + text.split("Usage:")[1].splitlines()[0]  # no {paths}... in usage


def test_repeatable_options_say_how_to_repeat() -> None:
    text = CliRunner().invoke(app, ["generate", "--help"], env={"COLUMNS": "200"}).stdout
    assert "-c KZ -c KG" in text and "-i MOH -i MFA" in text and "LANG[,LANG]" in text
    assert "Usage: consult ingest [OPTIONS] PATH..." in CliRunner().invoke(app, ["ingest", "--help"]).stdout
    ingest = " ".join(CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "web exports (KoboToolbox, ODK Central)" in ingest


def test_validate_help_and_description_agree() -> None:
    text = " ".join(CliRunner().invoke(app, ["validate", "--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "the workspace's definitions and its consult.yaml, else the bundled definitions" in text
    assert "Without PATH: the workspace's definitions" in text


def complete(words: str, cwd: Path) -> list[str]:
    """What the shell gets on Tab after ``words`` (bash protocol, as `--install-completion` sets up)."""
    index = len(words.split()) - (not words.endswith(" "))  # the word being completed
    done = run(
        "-m",
        "consult",
        cwd=cwd,
        env={"_CONSULT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(index)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_option_values_complete_from_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("-m", "consult", "init", str(ws), "-c", "KZ", "-c", "TJ").returncode == 0
    config = ws / "consult.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "invited:\n  TJ: [MFA, MOH]\n", encoding="utf-8")
    assert complete("consult generate -c ", ws) == ["KZ", "TJ"]
    assert complete(f"consult -w {ws} status -c ", tmp_path) == ["KZ", "TJ"]  # -w typed before
    assert complete("consult generate -c TJ -i M", ws) == ["MFA", "MOH"]  # TJ's invited ones
    assert "MOJ" in complete("consult generate -c KZ -i M", ws)
    assert complete("consult synthesize --lang ", ws) == ["en", "ru"]
    assert complete("consult synthesize -c KZ,", ws) == ["KZ,KZ", "KZ,TJ"]


def write_settings(ws: Path, text: str) -> None:
    (ws / "consult.yaml").write_text(text, encoding="utf-8")


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_validate_checks_consult_yaml_with_lines(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("-m", "consult", "init", str(ws), "-c", "KZ", "--bundled").returncode == 0
    runner = CliRunner()
    assert runner.invoke(app, ["-w", str(ws), "validate"]).exit_code == 0
    write_settings(ws, "round: r1\ncountries: [KZ, KG]\ninstitutions: [MFA, NOPE]\ninvited:\n  UZ: [MFA]\n")
    result = runner.invoke(app, ["-w", str(ws), "validate"])
    assert result.exit_code == 1
    assert re.search(r"consult\.yaml:3:\d+: .*NOPE", result.stdout), result.stdout
    assert re.search(r"consult\.yaml:5:\d+: .*UZ", result.stdout), result.stdout
    listed = json.loads(runner.invoke(app, ["-w", str(ws), "validate", "--json"]).stdout)
    errors = {(Path(f["file"]).name, f["line"]) for f in listed if f["severity"] == "error"}
    assert errors == {("consult.yaml", 3), ("consult.yaml", 5)}


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_countries_outside_the_round_are_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("-m", "consult", "init", str(ws), "-c", "KZ", "-c", "KG").returncode == 0
    runner = CliRunner()
    for command in (["generate", "-c", "UZ"], ["xlsform", "-c", "UZ"], ["generate", "-c", "KZ,UZ", "-i", "MFA"]):
        result = runner.invoke(app, ["-w", str(ws), *command])
        assert result.exit_code == 2, (command, result.stdout)
        said = " ".join(result.stderr.split())
        assert "country UZ is not in round roca-2021-2025 (KZ, KG)" in said
        assert "add it to 'countries' in consult.yaml" in said
    assert not (ws / "forms").exists() and not (ws / "xlsform").exists()
    assert runner.invoke(app, ["-w", str(ws), "generate", "-c", "XX"]).exit_code == 2  # not a country at all


def test_a_deadline_in_the_past_is_warned_about(tmp_path: Path) -> None:
    runner = CliRunner()
    past = runner.invoke(app, ["init", str(tmp_path / "old"), "--deadline", "2020-09-30"])
    assert past.exit_code == 0 and "the deadline 2020-09-30 is in the past" in " ".join(past.stderr.split())
    soon = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    future = runner.invoke(app, ["init", str(tmp_path / "new"), "--deadline", soon])
    assert future.exit_code == 0 and "in the past" not in future.stderr


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_feedback_score_and_status_on_an_empty_round(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("-m", "consult", "init", str(ws), "-c", "KZ").returncode == 0
    runner = CliRunner()
    fb = runner.invoke(app, ["-w", str(ws), "feedback"])
    assert fb.exit_code == 0
    assert "No returns yet" in fb.stdout and "accepted" not in fb.stdout
    score = runner.invoke(app, ["-w", str(ws), "score"])
    assert score.exit_code == 0 and "First place" not in score.stdout
    status = " ".join(runner.invoke(app, ["-w", str(ws), "status"], env={"COLUMNS": "200"}).stdout.split())
    assert "✗ rejected" in status and "blank: not invited" in status


def test_a_whole_inbox_is_listed_as_aligned_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few files get a table; hundreds get one aligned line each (a table of a thousand rows
    takes a second to draw), with the same words."""
    import io

    from rich.console import Console

    from consult.cli import returns

    def listed(n: int) -> str:
        buffer = io.StringIO()
        monkeypatch.setattr(returns, "out", Console(file=buffer, width=200, highlight=False, soft_wrap=True))
        rows = [(f"{i:04d}-KZ-MFA.xlsx", "KZ", "MFA", "accepted", "") for i in range(n - 2)]
        rows += [
            ("[x]-KG-MOJ.xlsx", "KG", "MOJ", "duplicate", "as #3, rejected"),
            ("y.xlsx", "", "", "rejected", "2 error(s)"),
        ]
        returns._listing("Ingested into consult.db", rows)
        return buffer.getvalue()

    assert "┃" in listed(10)  # a table
    many = listed(returns.TABLE_UP_TO + 1).splitlines()
    assert "┃" not in "".join(many) and len(many) == returns.TABLE_UP_TO + 3  # title, header, one line per file
    assert many[1].split() == ["File", "Country", "Institution", "Status", "Problems"]
    assert many[-2].split() == ["[x]-KG-MOJ.xlsx", "KG", "MOJ", "already", "ingested", "as", "#3,", "rejected"]
    assert len({line.index("accepted") for line in many if "accepted" in line}) == 1  # aligned


def test_a_schema_pass_is_remembered_a_problem_never(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up skips jsonschema for content that passed once; content with a problem is
    checked, and reported, every time."""
    from consult.definitions.schema import check_schema
    from consult.definitions.yamlsource import parse_yaml

    monkeypatch.setenv("CONSULT_CACHE_DIR", str(tmp_path / "cache"))
    passed = tmp_path / "cache" / "schema-passed"
    good = parse_yaml("round: r1\ncountries: [KZ]\n", "consult.yaml")
    assert check_schema(good, "consult") == [] and len(list(passed.iterdir())) == 1
    assert check_schema(good, "consult") == []
    bad = parse_yaml("round: r1\ncountries: [KZ]\nnope: 1\n", "consult.yaml")
    for _ in range(2):
        [problem] = check_schema(bad, "consult")
        assert problem.line == 3 and "nope" in problem.message
    assert len(list(passed.iterdir())) == 1


@pytest.mark.slow  # builds a workspace or workbooks, or starts Python
def test_xlsform_prints_each_form_id_whole_at_any_width(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("-m", "consult", "init", str(ws), "--round", "a-rather-long-round-name-2027", "-c", "KZ").returncode == 0
    result = CliRunner().invoke(app, ["-w", str(ws), "xlsform"], env={"COLUMNS": "50"})
    assert result.exit_code == 0
    assert "consult_a_rather_long_round_name_2027_KZ" in result.stdout.replace("\n", "")  # wrapped, never cut
    assert "…" not in result.stdout
