"""The syntheses of a round: which documents, built once each as a :class:`Document`, written
as Markdown and Word.

This module is the orchestration: it reads the round's data once
(:func:`consult.analysis.data.load_round`), scores it once, builds one document per country
with returns (and the regional one), and writes them through :func:`write_document`, in forked
worker processes when there are several, all published together. What a document says, and
in which order, is :mod:`consult.report.country` and :mod:`consult.report.regional`, joined in
:class:`Builder`; their small words are :mod:`consult.report.formats`.

Wording comes from ``report.yaml`` of the definitions (a language without a text falls back
to English). Personal data never gets here: it lives in the ``respondents`` table, which is
never read; quotes are attributed to institutions.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, NamedTuple

from consult.analysis.data import RoundData, load_round
from consult.analysis.robustness import SEED
from consult.analysis.scoring import score_round
from consult.definitions import Definition
from consult.definitions.wording import Wording
from consult.definitions.wording import format_date as fmt_date  # the one date formatter
from consult.errors import UsageError
from consult.fileio import Staging, staged_writes
from consult.naming import tagged
from consult.report import markdown, word
from consult.report.base import REGIONAL, ExtraSection, NoReturnsError
from consult.report.country import CountrySections
from consult.report.document import Document, Figure
from consult.report.formats import fmt_pct, fmt_score, plain_label, quote_language, rate, rating_words
from consult.report.regional import RegionalSections
from consult.report.translations import translation_lookup
from consult.store import Store
from consult.workers import ProcessJob, can_fork, result, worker_pool
from consult.workspace import Workspace

__all__ = [  # the names other modules and tests import from here, wherever they now live
    "FORMATS",
    "REGIONAL",
    "Builder",
    "NoReturnsError",
    "Written",
    "check_language",
    "countries_with_returns",
    "fmt_date",
    "fmt_pct",
    "fmt_score",
    "no_returns_message",
    "plain_label",
    "quote_language",
    "rate",
    "rating_words",
    "synthesize",
    "write_document",
]

FORMATS = ("md", "docx")


@dataclass
class Written:
    """One file a synthesis run wrote (``on_file`` hears of each as it is written)."""

    path: Path
    country: str  # a country code, or "regional"
    format: str


class Builder(CountrySections, RegionalSections):
    """Builds the documents of one round in one language: a country's
    (:meth:`~CountrySections.country_document`) and the regional one
    (:meth:`~RegionalSections.regional_document`)."""


def check_language(definition: Definition, lang: str) -> list[str]:
    """Labels and texts ``lang`` lacks (English is shown for them); a language the definitions
    do not have at all is a usage error."""
    if lang not in definition.languages:
        raise UsageError(f"--lang {lang}: the definitions have {', '.join(definition.languages)}")
    return definition.missing_labels(lang) if lang != "en" else []


def write_document(
    doc: Document, figures: list[Figure], stem: str, out: Path, formats: list[str], staging: Staging
) -> list[Path]:
    """Write one document's files into ``staging`` (moved to ``out`` when the run is done)."""
    paths = []
    if "md" in formats:
        for figure in figures:
            staging.write(out / figure.name, figure.png)
        paths.append(staging.write(out / f"{stem}.md", markdown.render(doc)))
    if "docx" in formats:
        target = out / f"{stem}.docx"
        word.render(doc, staging.path(target))
        paths.append(target)
    return paths


def synthesize(
    store: Store,
    ws: Workspace,
    countries: Iterable[str],
    regional: bool = False,
    formats: Iterable[str] = FORMATS,
    lang: str = "en",
    out: Path = Path("synthesis"),
    definition: Definition | None = None,
    on_file: Callable[[Written], None] | None = None,
    skipped: list[str] | None = None,
    workers: int | None = None,
    seed: int = SEED,
    sections: list[ExtraSection] | None = None,
) -> list[Written]:
    """Write the syntheses; countries without returns are listed in ``skipped``. ``seed`` is that
    of the seeded resampling figures (``consult synthesize --seed``); no word depends on it.
    ``sections``: sections of their own modules, added after the area ranking (consult.report.change)."""
    definition = definition or ws.definition
    check_language(definition, lang)
    formats = list(formats)
    codes = list(countries)
    # the renderers' libraries load in a thread while the round is loaded and scored (NumPy and
    # SQLite release the interpreter lock): loaded once, here, before worker processes fork
    warm = threading.Thread(target=_import_renderers, daemon=True)
    warm.start()
    # one load and one scoring pass serve every document (the regional one needs every country)
    data = load_round(store, ws, None if regional else codes or None, definition)
    result = score_round(data, seed=seed)
    warm.join()
    builder = Builder(data, result, lang, ws.title, ws.deadline, translation_lookup(ws, lang), list(ws.countries))
    builder.sections += sections or []
    written: list[Written] = []

    def done(code: str, paths: list[Path]) -> None:
        for path in paths:
            w = Written(path, code, path.suffix.lstrip("."))
            written.append(w)
            if on_file:
                on_file(w)

    jobs = [c for c in codes if c in data.countries and data.countries[c].returns]
    if skipped is not None:
        skipped += [c for c in codes if c not in jobs]
    if regional and data.with_returns:
        jobs.append(REGIONAL)
    elif regional and skipped is not None:
        skipped.append(REGIONAL)
    # every file of the run is staged, then all are moved into place together: a run that
    # fails or is killed leaves the previous syntheses as they were, with no partial file
    with staged_writes(out) as staging:
        for code, paths in _write_all(builder, _largest_first(jobs, data), out, formats, workers, staging):
            done(code, paths)
    order = {code: i for i, code in enumerate(jobs)}  # the listing in the order asked, whoever wrote what
    return sorted(written, key=lambda w: order[w.country])


def _largest_first(jobs: list[str], data: RoundData) -> list[str]:
    """The regional synthesis (the most to draw), then countries by their number of returns:
    the processes that share the documents finish together when the big ones go first."""
    size = {code: len(data.countries[code].returns) for code in jobs if code != REGIONAL}
    return sorted(jobs, key=lambda code: (code != REGIONAL, -size.get(code, 0)))


class Drafted(NamedTuple):
    """One document as a process reports it back: its country code (or "regional") and its files."""

    code: str
    paths: list[Path]


@dataclass
class _Job:
    """What every process writing documents shares: set in the parent before forking, so a
    worker inherits the built round instead of receiving it pickled. ``jobs`` and ``next`` (a
    counter in shared memory) exist only when several processes take documents."""

    builder: Builder
    out: Path
    formats: list[str]
    staging: Staging
    jobs: list[str] = field(default_factory=list)
    next: Any = None  # multiprocessing.Value("i"): the index of the next document to take


_JOB: ProcessJob[_Job] = ProcessJob("synthesis job")  # set before forking: the workers inherit it


def _import_renderers() -> None:
    """matplotlib (the charts): about half a second of imports that every process writing a
    document would otherwise pay again after forking."""
    import_module("consult.report.charts")


def _write_one(code: str) -> Drafted:
    """Build and write one document (in this process, or a forked worker that inherited the
    builder: the round is loaded and scored once, in the parent)."""
    job = _JOB.get()
    builder = job.builder
    if code == REGIONAL:
        doc, figures = builder.regional_document()
        stem = "regional-synthesis." + builder.lang
    else:
        doc, figures = builder.country_document(code)
        stem = f"{code}-synthesis.{builder.lang}"
    return Drafted(code, write_document(doc, _tagged(figures, builder.lang), stem, job.out, job.formats, job.staging))


def _tagged(figures: list[Figure], lang: str) -> list[Figure]:
    """Every file of a synthesis carries its language (KZ-synthesis.en.md, KZ-area-scores.en.png:
    consult/naming.py), so the Russian run never overwrites the English one; the Markdown links
    the renamed chart."""
    for figure in figures:
        figure.name = tagged(figure.name.removesuffix(".png"), lang, ".png")
    return figures


def _next_job() -> str | None:
    """The next document nobody has taken yet (the counter is shared by every process)."""
    counter, jobs = _JOB.get().next, _JOB.get().jobs
    with counter.get_lock():
        i = counter.value
        counter.value += 1
    return jobs[i] if i < len(jobs) else None


def _write_taken() -> list[Drafted]:
    """Take documents off the shared list and write them until none is left."""
    written = []
    while (code := _next_job()) is not None:
        written.append(_write_one(code))
    return written


def _write_all(
    builder: Builder, jobs: list[str], out: Path, formats: list[str], workers: int | None, staging: Staging
) -> Iterator[Drafted]:
    """Documents are independent: with several, forked worker processes write some while this
    process writes the others (charts and Word building are CPU-bound; a forked worker shares
    the scored round for free, and this process working too keeps one process fewer in memory).
    Each process takes the next document when it is done with one, so that none waits while
    another still has several to write. Where processes cannot fork, or with few documents,
    one process writes them in order."""
    _JOB.set(_Job(builder, out, formats, staging))
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(jobs) >= 4 else 1
    if workers <= 1 or not can_fork():
        yield from map(_write_one, jobs)
        return
    context = multiprocessing.get_context("fork")
    _JOB.get().jobs, _JOB.get().next = jobs, context.Value("i", 0)
    with worker_pool(workers - 1, fork=True) as pool:
        pending = [pool.submit(_write_taken) for _ in range(workers - 1)]
        while (code := _next_job()) is not None:
            yield _write_one(code)
        for future in pending:
            yield from result(future)


def countries_with_returns(store: Store, ws: Workspace) -> list[str]:
    from consult.analysis.coverage import current_returns

    present = {r.country for r in current_returns(store, ws)}
    return [c for c in ws.countries if c in present]


def no_returns_message(ws: Workspace, code: str) -> str:
    return Wording.of(ws.definition, "report", "en")("no_returns", country=code, round=ws.round)
