"""The package layout is the pipeline: a stage imports only the stages before it.

The order is the one the README draws. A module-level import that runs back up the pipeline
(``intake`` importing ``feedback``, ``workspace`` importing ``intake``…) is what turned the
0.2 layout into a tangle, so the test reads every import of every module, including the
imports deferred inside functions, and fails on the first one that points downstream.
"""

from __future__ import annotations

import ast
from pathlib import Path

import consult

PACKAGE = Path(consult.__file__).parent

# Lowest first. Modules of one layer may import each other; a layer imports only lower ones.
STAGES: list[set[str]] = [
    {"errors", "problems", "types", "resources", "fileio", "locks", "workers", "seal", "naming"},
    {"definitions"},
    {"store"},
    {"workspace", "update"},
    {"forms"},
    {"intake"},
    {"analysis"},
    {"report"},
    {"feedback"},
    {"example"},
    {"cli", "__main__"},
]


def _stage(name: str) -> int:
    for rank, names in enumerate(STAGES):
        if name in names:
            return rank
    raise AssertionError(f"consult.{name} is in no stage of tests/test_architecture.py: place it in STAGES")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(node.lineno, n.split(".")[1]) for n in names if n.startswith("consult.") and n.count(".") >= 1]
    return found


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0].removesuffix(".py")


def test_every_top_level_module_has_a_stage() -> None:
    tops = {_top(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE}
    for name in sorted(tops):
        _stage(name)


def test_no_import_runs_back_up_the_pipeline() -> None:
    backwards = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue  # the package's public surface re-exports from every stage
        here = _top(path)
        for line, target in _imports(path):
            if _stage(target) > _stage(here):
                backwards.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports consult.{target}")
    assert not backwards, "imports that run back up the pipeline:\n" + "\n".join(backwards)


# The public surface: a name added or removed here is a decision, recorded in CHANGELOG.md.
PUBLIC_API = [
    "ConsultError",
    "Definition",
    "Finding",
    "Workspace",
    "__version__",
    "apply_update",
    "bundled_definition",
    "compare_workspaces",
    "coverage",
    "export_answers",
    "export_quotes",
    "feedback",
    "form_for",
    "generate",
    "import_quotes",
    "ingest",
    "init_workspace",
    "load_definition",
    "load_mapping",
    "load_round",
    "open_workspace",
    "plan_update",
    "score_round",
    "synthesize",
    "validate_paths",
    "write_xlsforms",
]


def test_public_api_is_pinned_and_every_name_resolves() -> None:
    assert sorted(consult.__all__) == PUBLIC_API
    for name in consult.__all__:
        assert getattr(consult, name) is not None, name


def test_one_version_source() -> None:
    """pyproject.toml takes the version from the package, so the two cannot disagree."""
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert 'path = "consult/__init__.py"' in pyproject
    assert "\nversion =" not in pyproject.split("[tool.")[0]
