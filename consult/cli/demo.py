"""``consult demo``: the whole path on the bundled example, in one command."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from consult.errors import ConsultError

from . import app
from .common import handle_errors, out

DEMO_MARK = ".consult-demo"
EARLIER = "round-2016"  # the example's earlier round, on its older questionnaire (examples/round-2016)


def readme() -> Path | None:
    """The README installed with the package (a wheel carries it in its data), else the checkout's."""
    from consult.resources import data_dir

    try:
        candidates = [data_dir("docs") / "README.md"]
    except ConsultError:
        candidates = []
    candidates.append(Path(__file__).resolve().parents[2] / "README.md")
    return next((p for p in candidates if p.is_file()), None)


def _step(title: str) -> None:
    from rich.rule import Rule

    out.print(Rule(f"[bold]{title}"))


def _run(args: list[str], allow: tuple[int, ...] = (0,)) -> None:
    """Run a consult command in-process, exactly as a user would type it."""
    try:
        code = app(args, prog_name="consult", standalone_mode=False)
        if isinstance(code, int) and code not in allow:
            raise ConsultError(f"'consult {' '.join(args)}' failed with exit code {code}")
    except SystemExit as exc:  # typer.Exit from a command
        code = exc.code or 0
        if code not in allow:
            raise ConsultError(f"'consult {' '.join(args)}' failed with exit code {code}") from exc
    except typer.Exit as exc:
        if exc.exit_code not in allow:
            raise ConsultError(f"'consult {' '.join(args)}' failed with exit code {exc.exit_code}") from exc


@app.command()
@handle_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for the demo workspace.")] = Path(
        "consult-demo"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing demo folder.")] = False,
) -> None:
    """Run the whole consultation on the bundled example, in ./consult-demo.

    Workspace, generate, ingest, status, score, the comparison with the earlier (2016) round,
    synthesize (per country and regional, Markdown and Word)."""
    from consult.example.builder import EXAMPLE_KEY
    from consult.resources import data_dir
    from consult.workspace import create_secret

    examples = data_dir("examples")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force and not (out_dir / DEMO_MARK).exists():  # never delete a real workspace unasked
            raise ConsultError(f"{out_dir} exists and is not an earlier demo; choose another --out or use --force")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / DEMO_MARK).write_text("written by consult demo; safe to delete\n", encoding="utf-8")
    shutil.copy(examples / "consult.yaml", out_dir / "consult.yaml")
    create_secret(out_dir, secret=EXAMPLE_KEY.secret)  # the example returns are sealed with the public example key
    ws = ["--workspace", str(out_dir)]
    _step("1. Facilitator: the questionnaires (one per institution and country)")
    _run([*ws, "generate", "--all", "--out", str(out_dir / "forms")])
    _step("2. Drafter: ingest the returned workbooks (one incomplete, one superseded)")
    _run([*ws, "ingest", str(examples / "returns")], allow=(0, 1))
    _step("3. Coverage")
    _run([*ws, "status"])
    _step("4. Scores (method: docs/methodology.md)")
    _run([*ws, "score", "--csv", str(out_dir / "scores.csv")])
    earlier = out_dir / EARLIER
    _step("5. The earlier round (2016, an older questionnaire) and what changed since")
    earlier.mkdir()
    shutil.copy(examples / EARLIER / "consult.yaml", earlier / "consult.yaml")
    shutil.copytree(examples / EARLIER / "questionnaires", earlier / "questionnaires")
    create_secret(earlier, secret=EXAMPLE_KEY.secret)
    _run(["--workspace", str(earlier), "ingest", str(examples / EARLIER / "returns")])
    _run(["compare", str(earlier), str(out_dir)])
    _step("6. Synthesis: per country and regional, Markdown and Word, with the change since 2016")
    _run(
        [
            *ws,
            "synthesize",
            "--all",
            "--regional",
            "--format",
            "md,docx",
            "--out",
            str(out_dir / "synthesis"),
            "--compare",
            str(earlier),
        ]
    )
    _run([*ws, "export", "--format", "csv"])
    _step("Done")
    skip = {"forms", ".consult", "questionnaires", "definitions", EARLIER}  # counted below, or internal
    files = sorted(
        p
        for p in out_dir.rglob("*")
        if p.is_file()
        and not skip & set(p.relative_to(out_dir).parts)
        and not p.name.endswith(("-wal", "-shm"))  # SQLite's working files, not outputs
        and p.name != DEMO_MARK
    )
    for p in files:
        out.print(f"  {p}")
    n_forms = len(list((out_dir / "forms").rglob("*.xlsx")))
    out.print(
        f"\n{n_forms} questionnaires in {out_dir / 'forms'}; open [bold]{out_dir / 'synthesis'}[/] for the "
        f"syntheses (English; 'consult -w {out_dir} synthesize --all --regional --compare {out_dir / EARLIER} "
        "--lang ru' adds the Russian ones beside them)."
    )
    guide = readme()
    where = f"section 'Workflow' of {guide}" if guide else "'consult COMMAND --help'"
    out.print(f"Next: 'consult --help' lists the commands; the workflow step by step is in {where}.")
