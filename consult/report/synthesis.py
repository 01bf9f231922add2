"""The synthesis: what each country said, ready to paste into the programme document.

One *context* (a plain dict) per document is built here from :func:`consult.scoring.score`
and the stored answers; the Markdown templates (``templates/*.md.j2``) and the Word writer
(:mod:`consult.docx_render`) both render that same context, so the two formats cannot
disagree, and every number comes from the scoring result (formatted only here, at display).

Personal data never gets here: it lives in the ``respondents`` table, which this module
never reads; quotes are attributed to institutions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from consult import __version__
from consult.analysis.coverage import current_returns
from consult.analysis.scoring import score
from consult.definitions import Definition, load_yaml_data
from consult.definitions.framework import Framework, text
from consult.definitions.taxonomy import Taxonomy
from consult.errors import ConsultError
from consult.fileio import write_atomic
from consult.resources import data_dir
from consult.store import AnswerRow, ReturnRow, Store
from consult.workspace import Workspace

FORMATS = ("md", "docx")
QUOTE_SOURCES = ("challenges", "proposals", "emerging")


class NoReturnsError(ConsultError):
    """A country was asked for but has nothing to synthesize."""


@dataclass
class Written:
    path: Path
    country: str  # a country code, or "regional"
    format: str


@cache
def report_messages() -> dict[str, dict[str, str]]:
    return load_yaml_data("report")["messages"]


def t(key: str, lang: str, **fmt: Any) -> str:
    """A fixed synthesis text in ``lang`` (questionnaires/report.yaml)."""
    texts = report_messages()[key]
    value = texts.get(lang) or texts["en"]
    return value.format(**fmt) if fmt else value


def fmt_score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def methodology(lang: str) -> str:
    """The method annex: docs/methodology.md in English, its translation from report.yaml."""
    body = t("methodology_body", lang) if lang != "en" else ""
    if not body:
        source = data_dir("docs") / "methodology.md"
        body = source.read_text(encoding="utf-8")
        body = re.sub(r"\A# .*\n+", "", body)  # the document title becomes the annex heading
    return re.sub(r"^## ", "### ", body.strip(), flags=re.MULTILINE)  # sections sit under the annex heading


def _institution(fw: Framework, inst: str | None, lang: str) -> str:
    entry = fw.institution_by_id.get(inst or "")
    return text(entry.name, lang) if entry else (inst or "?")


def _quotes(
    answers: list[AnswerRow], returns: dict[int, ReturnRow], fw: Framework, taxonomy: Taxonomy, lang: str
) -> tuple[dict[str, list[dict[str, str]]], list[dict[str, str]]]:
    """Challenges and proposals, verbatim, grouped by area (area sections belong to their area;
    overall texts go to every area the taxonomy finds in them, or to "other")."""
    by_area: dict[str, list[dict[str, str]]] = {a.id: [] for a in fw.areas}
    other: list[dict[str, str]] = []
    for a in answers:
        qid = a.item_id.split(".")[-1]
        if a.type != "text" or qid not in QUOTE_SOURCES or not isinstance(a.value, str):
            continue
        value = a.value.strip()
        if len(value) < 3:
            continue
        quote = {"institution": _institution(fw, returns[a.return_id].institution, lang), "text": value}
        if a.area:
            by_area.setdefault(a.area, []).append(quote)
            continue
        areas = sorted(
            {m.area for m in taxonomy.matches(value)}, key=lambda x: fw.area_order(x) if x in fw.area_by_id else 99
        )
        for area in areas:
            by_area.setdefault(area, []).append(quote)
        if not areas:
            other.append(quote)
    return by_area, other


def _choice_counts(answers: list[AnswerRow], qid: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for a in answers:
        if a.item_id == qid:
            for code in a.value if isinstance(a.value, list) else [a.value]:
                counts[str(code)] += 1
    return [
        {"label": labels.get(code, code), "count": n}
        for code, n in sorted(
            counts.items(), key=lambda kv: (-kv[1], list(labels).index(kv[0]) if kv[0] in labels else 99)
        )
    ]


def _texts(
    answers: list[AnswerRow], qid: str, returns: dict[int, ReturnRow], fw: Framework, lang: str
) -> list[dict[str, str]]:
    return [
        {"institution": _institution(fw, returns[a.return_id].institution, lang), "text": str(a.value).strip()}
        for a in answers
        if a.item_id == qid and str(a.value).strip() not in ("", "-")
    ]


def country_context(
    store: Store,
    ws: Workspace,
    code: str,
    result: dict[str, Any],
    lang: str,
    definition: Definition,
    taxonomy: Taxonomy,
) -> dict[str, Any]:
    fw = definition.framework
    qn = definition.questionnaire
    data = result["countries"][code]
    rets = current_returns(store, ws, [code])
    if not rets:
        raise NoReturnsError(t("no_returns", "en", country=code, round=ws.round))
    by_id = {r.id: r for r in rets}
    answers = store.answers(by_id)
    country = text(fw.country_by_code[code].name, lang)
    cov = data["coverage"]
    names = {i: _institution(fw, i, lang) for i in cov["institutions"]}
    quotes, other = _quotes(answers, by_id, fw, taxonomy, lang)
    comp_by_id = {c["id"]: c for c in data["components"]}
    areas = []
    for a in data["areas"]:
        comps = [comp_by_id[c] for c in a["top_components"]]
        top_rating = max((r["rating"] for r in a["ratings"]), default=None)
        areas.append(
            {
                "id": a["id"],
                "rank": a["rank"] or "–",
                "name": text(a["name"], lang),
                "short": text(a["short"], lang),
                "score": fmt_score(a["score"]),
                "agreement": fmt_pct(a["agreement"]),
                "n": a["n"],
                "borda": a["borda"],
                "mentions": a["mentions"],
                "low": a["low_evidence"] and a["n"] > 0,
                "rated": a["score"] is not None,
                "top_components": [
                    {"name": text(c["name"], lang), "score": fmt_score(c["score"]), "n": c["n"]} for c in comps
                ],
                "highest": [
                    f"{_institution(fw, r['institution'], lang)} ({r['rating']})"
                    for r in a["ratings"]
                    if r["rating"] == top_rating
                ],
                "quotes": quotes.get(a["id"], []),
            }
        )
    assist_labels = {c.code: text(c.label, lang) for c in qn.choice_lists.get("assistance", [])}
    assistance_rows: list[dict[str, Any]] = []
    per_area: dict[str, Counter[str]] = {a.id: Counter() for a in fw.areas}
    for ans in answers:
        if ans.item_id.endswith(".assistance") and ans.area in per_area and isinstance(ans.value, list):
            per_area[ans.area].update(ans.value)
    shown_areas = [a for a in fw.areas if per_area[a.id]]
    for code_, label in assist_labels.items():
        counts = [per_area[a.id][code_] for a in shown_areas]
        if sum(counts):
            assistance_rows.append({"label": label, "counts": counts, "total": sum(counts)})
    assistance_rows.sort(key=lambda r: -r["total"])
    cc_labels = {c.code: text(c.label, lang) for c in qn.choice_lists.get("crosscutting", [])}
    sc_labels = {c.code: text(c.label, lang) for c in qn.choice_lists.get("sc_inclusion", [])}
    area_labels = {a.id: text(a.short, lang) for a in fw.areas}
    status_label = {"accepted": t("status_accepted", lang), "incomplete": t("status_incomplete", lang)}
    ratings_used = sum(a["n"] for a in data["areas"]) + sum(c["n"] for c in data["components"])
    low = sum(1 for a in data["areas"] if a["low_evidence"] and a["n"]) + sum(
        1 for c in data["components"] if c["low_evidence"] and c["n"]
    )
    return {
        "lang": lang,
        "t": lambda key, **kw: t(key, lang, **kw),
        "code": code,
        "country": country,
        "programme": text(fw.title, lang),
        "round": ws.round,
        "round_title": ws.title_in(lang),
        "latest": cov["latest"] or "–",
        "deadline": ws.deadline or "–",
        "invited": cov["invited"],
        "responded": [names[i] for i, s in cov["institutions"].items() if s != "missing"],
        "incomplete": [names[i] for i, s in cov["institutions"].items() if s == "incomplete"],
        "missing": [names[i] for i, s in cov["institutions"].items() if s == "missing"],
        "areas": areas,
        "any_low": any(a["low"] for a in areas),
        "other_quotes": other,
        "assistance_areas": [text(a.short, lang) for a in shown_areas],
        "assistance": assistance_rows,
        "assistance_other": [q for a in fw.areas for q in _texts(answers, f"{a.id}.assistance_other", by_id, fw, lang)],
        "crosscutting": _choice_counts(answers, "crosscutting", cc_labels),
        "crosscutting_texts": [
            {"title": t(f"q_{q}", lang), "quotes": _texts(answers, q, by_id, fw, lang)}
            for q in ("gender", "human_rights", "lnob")
        ],
        "sc": _choice_counts(answers, "sc_inclusion", sc_labels),
        "sc_comments": _texts(answers, "sc_comments", by_id, fw, lang),
        "interregional": _choice_counts(answers, "interregional", area_labels),
        "interregional_comments": _texts(answers, "interregional_comments", by_id, fw, lang),
        "chart": f"{code}-area-scores.png",
        "chart_scores": [(text(a["short"], lang), a["score"], a["low_evidence"]) for a in data["areas"]],
        "methodology": methodology(lang),
        "round_numbers": t("round_numbers", lang, returns=len(rets), ratings=ratings_used, low=low),
        "returns": [
            {
                "file": r.file_name,
                "sha": r.sha256[:12],
                "received": r.received_at[:10],
                "institution": names.get(r.institution or "", r.institution or ""),
                "status": status_label.get(r.status, r.status),
            }
            for r in rets
        ],
        "generated_by": t("generated_by", lang, version=__version__),
    }


def regional_context(ws: Workspace, result: dict[str, Any], lang: str, definition: Definition) -> dict[str, Any]:
    fw = definition.framework
    reg = result["regional"]
    codes = reg["countries"]
    names = {c: text(fw.country_by_code[c].name, lang) for c in codes}
    rows = [
        {
            "name": text(a["short"], lang),
            "scores": [fmt_score(a["scores"].get(c)) for c in codes],
            "mean": fmt_score(a["mean"]),
        }
        for a in sorted(reg["areas"], key=lambda a: reg["ranking"].index(a["id"]))
    ]
    return {
        "lang": lang,
        "t": lambda key, **kw: t(key, lang, **kw),
        "programme": text(fw.title, lang),
        "round": ws.round,
        "round_title": ws.title_in(lang),
        "codes": codes,
        "countries": [names[c] for c in codes],
        "rows": rows,
        "shared": [text(fw.area_by_id[a].name, lang) for a in reg["shared"]],
        "outliers": [
            {
                "country": names[o["country"]],
                "area": text(fw.area_by_id[o["area"]].short, lang),
                "score": fmt_score(o["score"]),
                "others": fmt_score(o["others_mean"]),
                "difference": f"{o['difference']:+.0f}",
            }
            for o in reg["outliers"]
        ],
        "coverage": [
            {
                "country": names[c],
                "invited": result["countries"][c]["coverage"]["invited"],
                "responded": result["countries"][c]["coverage"]["responded"],
            }
            for c in codes
        ],
        "heatmap": "regional-area-scores.png",
        "matrix": {
            "areas": [r["name"] for r in rows],
            "countries": codes,
            "values": [
                [a["scores"].get(c) for c in codes]
                for a in sorted(reg["areas"], key=lambda a: reg["ranking"].index(a["id"]))
            ],
        },
        "methodology": methodology(lang),
        "generated_by": t("generated_by", lang, version=__version__),
    }


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_markdown(template: str, context: dict[str, Any]) -> str:
    return _environment().get_template(template).render(**context)


def synthesize(
    store: Store,
    ws: Workspace,
    countries: Iterable[str],
    regional: bool = False,
    formats: Iterable[str] = FORMATS,
    lang: str = "en",
    out: Path = Path("synthesis"),
    definition: Definition | None = None,
    taxonomy: Taxonomy | None = None,
    on_file: Callable[[Written], None] | None = None,
    skipped: list[str] | None = None,
) -> list[Written]:
    """Write the syntheses; countries without returns are listed in ``skipped``."""
    from consult.report.charts import area_chart, heatmap
    from consult.report.word import country_docx, regional_docx

    definition = definition or ws.definition
    taxonomy = taxonomy or definition.taxonomy
    formats = list(formats)
    codes = list(countries)
    # one scoring pass serves every document (the regional one needs every country)
    result = score(store, ws, None if regional else codes or None, definition, taxonomy)
    written: list[Written] = []

    def done(w: Written) -> None:
        written.append(w)
        if on_file:
            on_file(w)

    for code in codes:
        try:
            ctx = country_context(store, ws, code, result, lang, definition, taxonomy)
        except NoReturnsError:
            if skipped is not None:
                skipped.append(code)
            continue
        png = area_chart(ctx["chart_scores"], t("chart_caption", lang, country=ctx["country"]))
        if "md" in formats:
            write_atomic(out / ctx["chart"], png)
            done(
                Written(
                    write_atomic(out / f"{code}-synthesis.md", render_markdown("country-synthesis.md.j2", ctx)),
                    code,
                    "md",
                )
            )
        if "docx" in formats:
            done(Written(country_docx(ctx, png, out / f"{code}-synthesis.docx"), code, "docx"))
    if regional:
        ctx = regional_context(ws, result, lang, definition)
        if ctx["codes"]:
            png = heatmap(ctx["matrix"], t("heatmap_caption", lang))
            if "md" in formats:
                write_atomic(out / ctx["heatmap"], png)
                done(
                    Written(
                        write_atomic(out / "regional-synthesis.md", render_markdown("regional-synthesis.md.j2", ctx)),
                        "regional",
                        "md",
                    )
                )
            if "docx" in formats:
                done(Written(regional_docx(ctx, png, out / "regional-synthesis.docx"), "regional", "docx"))
        elif skipped is not None:
            skipped.append("regional")
    return written


def countries_with_returns(store: Store, ws: Workspace) -> list[str]:
    present = {r.country for r in current_returns(store, ws)}
    return [c for c in ws.countries if c in present]
