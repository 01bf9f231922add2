"""The synthesis: what each country said, built once as a :class:`Document`, written twice.

This module is the one place that decides the order and content of sections. It reads the
round's data once (:func:`consult.analysis.data.load_round`), scores it once, and selects
answers by the role their question declares (``consult.definitions.roles``): no question id
appears here, so a questionnaire with other questions, areas or languages gets a synthesis
without a code change. Sections whose role the questionnaire does not use are left out.

Wording comes from ``report.yaml`` of the definitions (a language without a text falls back
to English). Personal data never gets here: it lives in the ``respondents`` table, which is
never read; quotes are attributed to institutions. Each free-text answer is quoted once,
under the area of the question it answers (or in its own section); keyword matches elsewhere
are counted, never quoted twice.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from consult import __version__
from consult.analysis import findings
from consult.analysis.data import CountryData, RoundData, load_round
from consult.analysis.results import AreaScore, ComponentScore, CountryScore, ScoreResult
from consult.analysis.robustness import SEED, CountryRobustness
from consult.analysis.scoring import LOW_EVIDENCE_N, score_round
from consult.definitions import Definition
from consult.definitions.framework import Framework, text
from consult.definitions.questionnaire import Question, Section
from consult.errors import ConsultError, UsageError
from consult.fileio import write_atomic
from consult.naming import tagged
from consult.report import markdown, word
from consult.report.document import Bullets, Document, Figure, Heading, Paragraph, Quote, Run, Table
from consult.report.translations import quote_id, translation_lookup
from consult.store import AnswerRow, Store
from consult.workspace import Workspace

FORMATS = ("md", "docx")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[A-Za-z]")


class NoReturnsError(ConsultError):
    """A country was asked for but has nothing to synthesize."""


@dataclass
class Written:
    path: Path
    country: str  # a country code, or "regional"
    format: str


@dataclass
class Texts:
    """The wording of one language, English where it has none (and which keys those were)."""

    definition: Definition
    lang: str
    fallbacks: set[str] = field(default_factory=set)

    def __call__(self, key: str, **fmt: Any) -> str:
        texts = self.definition.report_texts[key]
        value = texts.get(self.lang)
        if not value:
            self.fallbacks.add(key)
            value = texts["en"]
        return value.format(**fmt) if fmt else value


def fmt_score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def fmt_date(iso: str | None, pattern: str = "{dd}.{mm}.{year}", months: str = "") -> str:
    """A date as the document's language writes it (report.yaml ``date_format``, ``months``):
    30.09.2020 in Russian, 30 September 2020 in English."""
    if not iso:
        return "–"
    try:
        d = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    names = months.split() or [str(m) for m in range(1, 13)]
    return pattern.format(day=d.day, dd=f"{d.day:02d}", mm=f"{d.month:02d}", month=names[d.month - 1], year=d.year)


def quote_language(value: str, lang: str) -> str | None:
    """The quote's script, when it is not the document's (Cyrillic vs Latin): marked, kept verbatim."""
    cyr, lat = len(CYRILLIC.findall(value)), len(LATIN.findall(value))
    if cyr + lat == 0:
        return None
    script = "ru" if cyr > lat else "en"
    doc_script = "ru" if lang in ("ru", "kk", "ky", "tg") else "en"
    return script if script != doc_script else None


class Builder:
    """Builds the documents of one round in one language."""

    def __init__(
        self,
        data: RoundData,
        result: ScoreResult,
        lang: str,
        title: dict[str, str] | None = None,
        deadline: str | None = None,
        translations: dict[str, str] | None = None,
    ):
        self.translations = translations or {}
        self.data = data
        self.title = title or {}
        self.deadline = deadline
        self.result = result
        self.lang = lang
        self.definition = data.definition
        self.fw: Framework = data.definition.framework
        self.t = Texts(data.definition, lang)
        self.tables = 0
        self.figures = 0
        self.questions = {
            q.id: (sec, q) for sec in self.definition.questionnaire.sections for q in sec.questions
        }  # by question id: labels and choice lists of answers
        # sections built by their own modules (e.g. consult.report.change), each called with
        # (builder, document, country code or "regional") after the area ranking
        self.sections: list[Callable[[Builder, Document, str], list[Figure]]] = []

    # --- small helpers ---------------------------------------------------------------------
    def name(self, value: dict[str, str]) -> str:
        return text(value, self.lang)

    def institution(self, inst: str) -> str:
        entry = self.fw.institution_by_id.get(inst)
        return self.name(entry.name) if entry else inst

    def country(self, code: str) -> str:
        entry = self.fw.country_by_code.get(code)
        return self.name(entry.name) if entry else code

    def area_name(self, area_id: str, short: bool = False) -> str:
        area = self.fw.area_by_id.get(area_id)
        if area is None:
            return area_id
        return self.name(area.short if short else area.name)

    def date(self, iso: str | None) -> str:
        return fmt_date(iso, self.t("date_format"), self.t("months"))

    def next_table(self) -> int:
        self.tables += 1
        return self.tables

    def next_figure(self) -> int:
        self.figures += 1
        return self.figures

    def has_role(self, role: str) -> bool:
        return any(q.role == role for _, q in self.questions.values())

    def question_of(self, role: str) -> tuple[Section, Question] | None:
        return next(((s, q) for s, q in self.questions.values() if q.role == role), None)

    def choice_labels(self, answer_or_role: AnswerRow | str) -> dict[str, str]:
        qid = answer_or_role.question_id if isinstance(answer_or_role, AnswerRow) else None
        found = self.questions.get(qid or "") if qid else self.question_of(str(answer_or_role))
        if not found:
            return {}
        q = found[1]
        if q.choices == "@areas":
            return {a.id: self.name(a.short) for a in self.fw.areas}
        if q.choices == "@components":
            return {c.id: self.name(c.name) for a in self.fw.areas for c in a.components}
        return {c.code: self.name(c.label) for c in self.definition.questionnaire.choice_lists.get(q.choices or "", [])}

    def label_of(self, answer: AnswerRow) -> str:
        found = self.questions.get(answer.question_id or "")
        if not found:
            return answer.item_id
        label = self.name(found[1].label)
        area = self.area_name(answer.area) if answer.area else ""
        return label.replace("{area}", area).replace("{component}", "")

    def quote(self, cdata: CountryData, answer: AnswerRow) -> Quote | None:
        value = str(answer.value).strip()
        if len(value) < 3 or value in ("-", "—", "–"):
            return None
        inst = cdata.institution(answer)
        lang = quote_language(value, self.lang)
        translated = self.translations.get(quote_id(cdata.code, inst, answer.item_id, value)) if lang else None
        return Quote(value, self.institution(inst), lang, translated)

    def quotes(self, cdata: CountryData, answers: Iterable[AnswerRow]) -> list[Quote]:
        return [q for q in (self.quote(cdata, a) for a in answers) if q is not None]

    def counts(self, answers: Iterable[AnswerRow], labels: dict[str, str]) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for a in answers:
            for code in a.value if isinstance(a.value, list) else [a.value]:
                counts[str(code)] += 1
        order = list(labels)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], order.index(kv[0]) if kv[0] in order else 99))
        return [(labels.get(code, code), n) for code, n in ranked]

    def methodology(self, doc: Document) -> None:
        """Annex A from report.yaml's reader-facing method: headings, bullets, paragraphs."""
        body = self.t("methodology_body")
        para: list[str] = []
        bullets: list[str] = []

        def flush() -> None:
            if para:
                doc.add(Paragraph(_bold_runs(" ".join(para))))
                para.clear()
            if bullets:
                doc.add(Bullets([_bold_runs(b) for b in bullets]))
                bullets.clear()

        for line in body.splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):
                flush()
                doc.add(Heading(stripped.lstrip("#").strip(), 2))
            elif stripped.startswith("- "):
                if para:
                    flush()
                bullets.append(stripped[2:])
            elif not stripped:
                flush()
            elif bullets:  # a wrapped bullet line continues the bullet
                bullets[-1] += " " + stripped
            else:
                para.append(stripped)
        flush()

    # --- the country document --------------------------------------------------------------
    def country_document(self, code: str) -> tuple[Document, list[Figure]]:
        from consult.report.charts import area_chart

        t = self.t
        cdata = self.data.countries[code]
        cs = self.result.countries[code]
        if not cdata.returns:
            raise NoReturnsError(t("no_returns", country=code, round=self.data.round))
        country = self.country(code)
        doc = Document(
            title=t("country_title", country=country),
            subtitle=t("subtitle", programme=self.name(self.fw.title)),
            lang=self.lang,
            page_label=t("page"),
            header=t("country_title", country=country),
        )
        self.tables = self.figures = 0
        self.summary(doc, cs, cdata)
        self.facts(doc, cs, cdata)
        figure = self.ranking(doc, cs, country, area_chart)
        extra = [f for section in self.sections for f in section(self, doc, code)]
        self.area_by_area(doc, cs, cdata)
        for role, heading in (("emerging", "h_emerging"), ("proposal", "h_proposals")):
            if self.has_role(role):
                doc.add(Heading(t(heading)))
                quotes = self.quotes(cdata, [a for a in cdata.by_role(role) if not a.area])
                doc.add(*quotes) if quotes else doc.add(Paragraph.of(t("none_given"), style="note"))
        self.initiatives(doc, cdata)
        self.assistance(doc, cdata, country)
        self.crosscutting(doc, cdata)
        self.regional_views(doc, cdata)
        doc.add(Heading(t("h_annex_method")))
        self.methodology(doc)
        rob = self.robustness(code)
        adj = rob.rater_adjustment if rob else None
        if rob and adj:
            ranked_ids = [a.area for a in rob.ranked]
            note = findings.adjustment_sentence(adj.ranking, ranked_ids, adj.changes_top3, t, self.short_name)
            if note:
                doc.add(Paragraph.of(note))
        ratings = sum(a.n for a in cs.areas) + sum(c.n for c in cs.components)
        low = sum(1 for a in cs.areas if a.evidence == "low") + sum(1 for c in cs.components if c.evidence == "low")
        doc.add(Paragraph.of(t("round_numbers", returns=len(cdata.returns), ratings=ratings, low=low)))
        self.returns_annex(doc, cdata)
        self.other_answers(doc, cdata)
        return doc, [figure, *extra]

    def summary(self, doc: Document, cs: CountryScore, cdata: CountryData) -> None:
        t = self.t
        cov = cs.coverage
        sentences = [t("sum_coverage", responded=cov.responded, invited=cov.invited)]
        rob = self.robustness(cs.code)
        ranked = [a for a in cs.areas if a.rank is not None]
        sentences += self.stability_sentences(cs, ranked)  # the summary leads with the tiers
        if len(ranked) >= 2:
            first, second = ranked[0], ranked[1]
            sentences.append(
                t(
                    "sum_top_two",
                    first=self.name(first.name),
                    s1=fmt_score(first.score),
                    second=self.name(second.name),
                    s2=fmt_score(second.score),
                )
            )
        elif ranked:
            sentences.append(t("sum_top_one", first=self.name(ranked[0].name), s1=fmt_score(ranked[0].score)))
        else:
            sentences.append(t("sum_no_rank", n=LOW_EVIDENCE_N))
        if rob is not None:
            nonresp = findings.non_response_sentence(rob.ranked, cov.responded, cov.invited, t, self.short_name)
            alpha = findings.agreement_sentence(rob.agreement, t)
            sentences += [s for s in (nonresp, alpha) if s]
        if ranked:
            best = max(ranked, key=lambda a: (a.agreement or 0, a.score or 0))
            sentences.append(t("sum_agreement", area=self.name(best.short), pct=fmt_pct(best.agreement)))
        spread = [a for a in cs.areas if a.n >= 2 and a.spread]
        if spread:
            widest = max(spread, key=lambda a: a.spread or 0)
            values = [r.rating for r in widest.ratings]
            sentences.append(t("sum_disagreement", area=self.name(widest.short), low=min(values), high=max(values)))
        low = [self.name(a.short) for a in cs.areas if a.evidence == "low"]
        if low:
            sentences.append(t("sum_low", areas=", ".join(low), n=LOW_EVIDENCE_N))
        if cov.incomplete:
            sentences.append(t("sum_incomplete", count=cov.incomplete))
        doc.add(Heading(t("h_summary")), Bullets.of(sentences))

    def robustness(self, code: str) -> CountryRobustness | None:
        rob = self.result.robustness
        return rob.countries.get(code) if rob else None

    def short_name(self, area_id: str) -> str:
        return self.area_name(area_id, short=True)

    def stability_sentences(self, cs: CountryScore, ranked: list[AreaScore]) -> list[str]:
        """Which areas lead, which trail, how sure (consult.analysis.findings: the same words for
        every seed), and whether first place rests on single returns."""
        rob = self.robustness(cs.code)
        if rob is None or not ranked:
            return []
        t = self.t
        out = findings.ranking_sentences(findings.ranking_findings(rob.ranked), t, self.short_name)
        if rob.changes_top:
            out.append(t("sum_rests_on", institutions=" / ".join(self.institution(i) for i in rob.changes_top)))
        return out

    def facts(self, doc: Document, cs: CountryScore, cdata: CountryData) -> None:
        t = self.t
        cov = cs.coverage
        names = {i: self.institution(i) for i in cov.institutions}
        dates = [str(a.value) for a in cdata.by_role("completion_date") if a.value]
        responded = [names[i] for i in cov.with_status("accepted", "incomplete")]
        items: list[list[str | Run]] = [
            [Run(f"{t('facts_deadline')}: ", bold=True), self.date(self.deadline)],
            [Run(f"{t('facts_invited')}: ", bold=True), str(cov.invited)],
            [Run(f"{t('facts_responded')}: ", bold=True), f"{len(responded)} — {', '.join(responded) or t('none')}"],
            [
                Run(f"{t('facts_incomplete')}: ", bold=True),
                ", ".join(names[i] for i in cov.with_status("incomplete")) or t("none"),
            ],
            [
                Run(f"{t('facts_missing')}: ", bold=True),
                ", ".join(names[i] for i in cov.with_status("missing")) or t("none"),
            ],
        ]
        if self.has_role("completion_date"):
            items.insert(1, [Run(f"{t('facts_latest')}: ", bold=True), self.date(max(dates, default=None))])
        doc.add(Heading(t("h_facts")), Bullets.of(items))

    def ranking(self, doc: Document, cs: CountryScore, country: str, chart: Callable[..., bytes]) -> Figure:
        t = self.t
        doc.add(Heading(t("h_ranking")), Paragraph.of(t("ranking_intro", n=LOW_EVIDENCE_N)))
        rob = self.robustness(cs.code)

        def kept(a: AreaScore) -> str:
            if rob is None or a.rank is None:
                return ""
            ar = rob.area(a.id)
            if ar.tier is None or ar.p_top3 is None:
                return ""
            return f"{t('tier_' + ar.tier_label)} ({findings.fmt_p(ar.p_top3, t)})"

        rows = [
            [
                str(a.rank) if a.rank else "",
                self.name(a.name) + (" †" if a.evidence == "low" else ""),
                fmt_score(a.score),
                kept(a),
                fmt_pct(a.agreement),
                str(a.n),
                str(a.borda),
                str(a.mentions),
            ]
            for a in cs.areas
        ]
        any_low = any(a.evidence == "low" for a in cs.areas)
        doc.add(
            Table(
                [
                    t("col_rank"),
                    t("col_area"),
                    t("col_score"),
                    t("col_stability"),
                    t("col_agreement"),
                    t("col_n"),
                    t("col_borda"),
                    t("col_mentions"),
                ],
                rows,
                widths=[1.3, 5.4, 1.4, 1.9, 2.2, 0.9, 2.2, 1.7],
                align="rlrrrrrr",
                caption=t("table_caption", n=self.next_table(), country=country),
                note=" ".join([t("stability_note")] + ([t("low_evidence_note", n=LOW_EVIDENCE_N)] if any_low else [])),
            )
        )
        png = chart([(self.name(a.short), a.score, a.evidence == "low") for a in cs.areas if a.score is not None])
        figure = Figure(png, f"{cs.code}-area-scores.png", t("chart_caption", n=self.next_figure(), country=country))
        doc.add(figure)
        return figure

    def area_by_area(self, doc: Document, cs: CountryScore, cdata: CountryData) -> None:
        t = self.t
        doc.add(Heading(t("h_areas")))
        comps = {c.id: c for c in cs.components}
        assist = [a for a in cdata.by_role("assistance") if a.area]
        details = cdata.by_role("assistance_detail")
        challenges = cdata.by_role("challenge")
        for a in cs.areas:
            heading = (f"{a.rank}. " if a.rank else "") + self.name(a.name) + (" †" if a.evidence == "low" else "")
            doc.add(Heading(heading, 2))
            if a.score is None:
                doc.add(Paragraph.of(t("not_rated"), style="note"))
            else:
                rob = self.robustness(cs.code)
                interval = rob.area(a.id).score_interval if rob else None
                low, high = (fmt_score(interval[0]), fmt_score(interval[1])) if interval else ("–", "–")
                doc.add(
                    Paragraph.of(
                        t(
                            "area_figures",
                            score=fmt_score(a.score),
                            low=low,
                            high=high,
                            agreement=fmt_pct(a.agreement),
                            n=a.n,
                        )
                        + (" †" if a.evidence == "low" else "")
                    )
                )
                self.top_components(doc, a, comps)
                top = max((r.rating for r in a.ratings), default=None)
                highest = [f"{self.institution(r.institution)} ({r.rating})" for r in a.ratings if r.rating == top]
                if highest:
                    doc.add(Paragraph.of(Run(f"{t('highest_raters')}: ", bold=True), ", ".join(highest)))
            if self.has_role("assistance"):
                doc.add(Heading(t("asks"), 3))
                counted = self.counts([x for x in assist if x.area == a.id], self.choice_labels("assistance"))
                if counted:
                    listed = "; ".join(t("count_item", label=label, count=n) for label, n in counted)
                    doc.add(Paragraph.of(t("asks_counts", list=listed)))
                else:
                    doc.add(Paragraph.of(t("asks_none"), style="note"))
                doc.add(*self.quotes(cdata, [x for x in details if x.area == a.id]))
            if self.has_role("challenge"):
                doc.add(Heading(t("h_challenges"), 3))
                quotes = self.quotes(cdata, [x for x in challenges if x.area == a.id])
                doc.add(*quotes) if quotes else doc.add(Paragraph.of(t("no_quotes"), style="note"))
                elsewhere = sum(1 for e in a.excerpts if not e.question.startswith(f"{a.id}."))
                if elsewhere:
                    doc.add(Paragraph.of(t("mentions_elsewhere", count=elsewhere), style="note"))

    def top_components(self, doc: Document, a: AreaScore, comps: dict[str, Any]) -> None:
        scored = [comps[c] for c in a.top_components]
        if not scored:
            return
        # components by evidence tier: sufficient first, then low (marked)
        scored.sort(key=lambda c: (c.evidence != "sufficient",))
        lines = [
            self.t("component_line", name=self.name(c.name), score=fmt_score(c.score), n=c.n)
            + (" †" if c.evidence == "low" else "")
            for c in scored
        ]
        doc.add(Paragraph.of(Run(f"{self.t('top_components')}:", bold=True)), Bullets.of(lines))

    def initiatives(self, doc: Document, cdata: CountryData) -> None:
        if not self.has_role("initiative"):
            return
        doc.add(Heading(self.t("h_initiatives")))
        answers = cdata.by_role("initiative")
        any_quote = False
        for area in [None, *self.fw.areas]:
            mine = [a for a in answers if a.area == (area.id if area else None)]
            quotes = self.quotes(cdata, mine)
            if quotes:
                if area is not None:
                    doc.add(Heading(self.name(area.name), 3))
                doc.add(*quotes)
                any_quote = True
        if not any_quote:
            doc.add(Paragraph.of(self.t("none_given"), style="note"))

    def assistance(self, doc: Document, cdata: CountryData, country: str) -> None:
        if not self.has_role("assistance"):
            return
        t = self.t
        labels = self.choice_labels("assistance")
        per_area: dict[str, Counter[str]] = {a.id: Counter() for a in self.fw.areas}
        for ans in cdata.by_role("assistance"):
            if ans.area in per_area and isinstance(ans.value, list):
                per_area[ans.area].update(ans.value)
        shown = [a for a in self.fw.areas if per_area[a.id]]
        rows = []
        for code, label in labels.items():
            counts = [per_area[a.id][code] for a in shown]
            if sum(counts):
                rows.append((sum(counts), [label, *map(str, counts), str(sum(counts))]))
        rows.sort(key=lambda r: -r[0])
        doc.add(Heading(t("h_assistance")), Paragraph.of(t("assistance_intro")))
        if not rows:
            doc.add(Paragraph.of(t("none_given"), style="note"))
            return
        wide = len(shown) > 4
        doc.add(
            Table(
                [t("col_type"), *(self.area_name(a.id, short=True) for a in shown), t("col_total")],
                [r for _, r in rows],
                widths=[5.0, *([2.6] * len(shown)), 1.6],
                align="l" + "r" * (len(shown) + 1),
                caption=t("assistance_caption", n=self.next_table(), country=country),
                landscape=wide,
            )
        )

    def crosscutting(self, doc: Document, cdata: CountryData) -> None:
        if not (self.has_role("crosscutting") or self.has_role("crosscutting_note")):
            return
        t = self.t
        doc.add(Heading(t("h_crosscutting")))
        if self.has_role("crosscutting"):
            counted = self.counts(cdata.by_role("crosscutting"), self.choice_labels("crosscutting"))
            doc.add(Paragraph.of(t("crosscutting_intro")))
            doc.add(Bullets.of([t("count_item", label=label, count=n) for label, n in counted] or [t("none")]))
        notes = cdata.by_role("crosscutting_note")
        for qid in dict.fromkeys(a.question_id for a in notes):
            mine = [a for a in notes if a.question_id == qid]
            quotes = self.quotes(cdata, mine)
            if quotes:
                doc.add(Heading(self.label_of(mine[0]), 3), *quotes)

    def regional_views(self, doc: Document, cdata: CountryData) -> None:
        roles = ("regional_view", "regional_comment", "cooperation_areas", "cooperation_comment")
        found = next((self.question_of(r) for r in roles if self.has_role(r)), None)
        if found is None:
            return
        t = self.t
        doc.add(Heading(self.name(found[0].title)))
        for role in ("regional_view", "cooperation_areas"):
            view = self.question_of(role)
            if view is None:
                continue
            intro = self.name(view[1].label) if role == "regional_view" else t("cooperation_intro")
            counted = self.counts(cdata.by_role(role), self.choice_labels(role))
            doc.add(Paragraph.of(Run(intro, bold=role == "regional_view")))
            doc.add(Bullets.of([t("count_item", label=label, count=n) for label, n in counted] or [t("none")]))
            comment = "regional_comment" if role == "regional_view" else "cooperation_comment"
            quotes = self.quotes(cdata, cdata.by_role(comment))
            if quotes:
                doc.add(Heading(t("comments"), 3), *quotes)

    def returns_annex(self, doc: Document, cdata: CountryData) -> None:
        t = self.t
        given = {a.return_id: str(a.value) for a in cdata.by_role("completion_date")}
        status = {"accepted": t("status_accepted"), "incomplete": t("status_incomplete")}
        rows = [
            [
                self.institution(r.institution or ""),
                self.date(given.get(r.id)),
                self.date(r.received_at[:10]),
                status.get(r.status, r.status),
                r.file_name,
                r.sha256[:12],
            ]
            for r in cdata.returns
        ]
        doc.add(
            Heading(t("h_annex_returns")),
            Paragraph.of(t("returns_intro")),
            Table(
                [
                    t("col_institution"),
                    t("col_date_given"),
                    t("col_received"),
                    t("col_status"),
                    t("col_file"),
                    t("col_fingerprint"),
                ],
                rows,
                widths=[5.2, 2.6, 2.4, 2.0, 4.4, 3.0],
                caption=t("returns_caption", n=self.next_table(), country=self.country(cdata.code)),
            ),
            Paragraph.of(t("provenance", version=__version__), style="note"),
        )

    def other_answers(self, doc: Document, cdata: CountryData) -> None:
        answers = [a for a in cdata.by_role(None) if str(a.value).strip() not in ("", "-")]
        if not answers:
            return
        doc.add(Heading(self.t("h_annex_other")), Paragraph.of(self.t("other_intro")))
        for item_id in dict.fromkeys(a.item_id for a in answers):
            mine = [a for a in answers if a.item_id == item_id]
            labels = self.choice_labels(mine[0])
            lines: list[list[str | Run]] = []
            for a in mine:
                values = a.value if isinstance(a.value, list) else [a.value]
                shown = ", ".join(labels.get(str(v), str(v)) for v in values)
                lines.append([Run(f"{self.institution(cdata.institution(a))}: ", bold=True), shown])
            doc.add(Heading(self.label_of(mine[0]), 3), Bullets.of(lines))

    def regional_ranking_sentences(self) -> list[str]:
        """The regional tiers and what non-response could change (consult.analysis.findings)."""
        rob = self.result.robustness
        reg = rob.regional if rob else None
        if rob is None or reg is None:
            return []
        t = self.t
        out = findings.ranking_sentences(findings.ranking_findings(reg.ranked), t, self.short_name)
        countries = [rob.countries[c] for c in reg.countries if c in rob.countries]
        responded = sum(c.responded for c in countries)
        invited = sum(c.invited for c in countries)
        could = [a for a in reg.ranked if a.non_response and a.non_response.tier_could_change]
        if invited and responded < invited and could:
            ranges = ", ".join(
                f"{self.short_name(a.area)} {a.non_response.low:.0f}–{a.non_response.high:.0f}"  # type: ignore[union-attr]
                for a in could
            )
            rate = f"{responded / invited * 100:.0f}%"
            out.append(t("reg_nonresponse", responded=responded, invited=invited, rate=rate, ranges=ranges))
        return out

    # --- the regional document -------------------------------------------------------------
    def regional_document(self) -> tuple[Document, list[Figure]]:
        from consult.report.charts import heatmap

        t = self.t
        reg = self.result.regional
        assert reg is not None
        codes = reg.countries
        names = [self.country(c) for c in codes]
        self.tables = self.figures = 0
        doc = Document(
            title=t("regional_title"),
            subtitle=t("subtitle", programme=self.name(self.fw.title)),
            lang=self.lang,
            page_label=t("page"),
            header=self.name(self.title) if self.title else "",
        )
        summary = [t("reg_sum_countries", count=len(codes), countries=", ".join(names))]
        shared = [self.area_name(a) for a in reg.shared]
        summary.append(t("reg_sum_shared", areas=", ".join(shared)) if shared else t("reg_sum_no_shared"))
        summary += self.regional_ranking_sentences()
        if reg.outliers:
            o = reg.outliers[0]
            summary.append(
                t(
                    "reg_sum_outlier",
                    country=self.country(o.country),
                    area=self.area_name(o.area, short=True),
                    score=fmt_score(o.score),
                    others=fmt_score(o.others_mean),
                )
            )
        doc.add(Heading(t("h_summary")), Bullets.of(summary))
        ordered = sorted(reg.areas, key=lambda a: reg.ranking.index(a.id))
        wide = len(codes) > 4
        doc.add(Heading(t("h_matrix")))

        def cellv(score: float | None, n: int, low: bool) -> str:
            return "–" if score is None else f"{fmt_score(score)} ({n})" + (" †" if low else "")

        doc.add(
            Table(
                [t("col_area"), *names, t("col_mean")],
                [
                    [self.name(a.short)]
                    + [cellv(a.scores.get(c), a.n.get(c, 0), a.low_evidence.get(c, False)) for c in codes]
                    + [fmt_score(a.mean)]
                    for a in ordered
                ],
                widths=[5.0, *([2.3] * len(codes)), 1.6],
                align="l" + "r" * (len(codes) + 1),
                caption=t("matrix_caption", n=self.next_table()),
                note=t("low_evidence_note", n=LOW_EVIDENCE_N),
                landscape=wide,
            )
        )
        png = heatmap(
            [self.name(a.short) for a in ordered],
            names,
            [[a.scores.get(c) for c in codes] for a in ordered],
            [[a.low_evidence.get(c, False) for c in codes] for a in ordered],
        )
        figure = Figure(png, "regional-area-scores.png", t("heatmap_caption", n=self.next_figure()))
        doc.add(figure)
        extra = [f for section in self.sections for f in section(self, doc, REGIONAL)]
        doc.add(Heading(t("h_shared")), Paragraph.of(t("shared_intro", count=len(codes))))
        doc.add(Bullets.of(shared or [t("none")]))
        doc.add(Heading(t("h_outliers")), Paragraph.of(t("outliers_intro")))
        if reg.outliers:
            doc.add(
                Table(
                    [t("col_country"), t("col_area"), t("col_score"), t("col_others"), t("col_difference")],
                    [
                        [
                            self.country(o.country),
                            self.area_name(o.area, short=True),
                            fmt_score(o.score),
                            fmt_score(o.others_mean),
                            f"{o.difference:+.0f}",
                        ]
                        for o in reg.outliers
                    ],
                    widths=[3.5, 6.0, 1.8, 3.2, 2.4],
                    align="llrrr",
                    caption=t("outliers_caption", n=self.next_table()),
                )
            )
        else:
            doc.add(Bullets.of([t("none")]))
        self.components_compared(doc, codes, names, wide)
        self.assistance_compared(doc, codes, names, wide)
        self.views_compared(doc, codes, names, wide)
        self.coverage_compared(doc, codes, names, wide)
        doc.add(Heading(t("h_annex_method")))
        self.methodology(doc)
        doc.add(Paragraph.of(t("provenance", version=__version__), style="note"))
        return doc, [figure, *extra]

    def components_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool) -> None:
        t = self.t
        table: dict[str, dict[str, ComponentScore]] = {}
        for code in codes:
            for c in self.result.countries[code].components:
                if c.score is not None:
                    table.setdefault(c.id, {})[code] = c
        if not table:
            return

        def mean(cid: str) -> float:
            values = [c.score for c in table[cid].values() if c.score is not None]
            return sum(values) / len(values)

        def sufficient(cid: str) -> int:
            return sum(1 for c in table[cid].values() if c.evidence == "sufficient")

        # the components with sufficient evidence in most countries first, then by mean score
        top = sorted(table, key=lambda cid: (-sufficient(cid), -len(table[cid]), -mean(cid), cid))[:12]
        rows = []
        for cid in top:
            comp = self.fw.component_by_id[cid]
            cells = []
            for code in codes:
                got = table[cid].get(code)
                cells.append(
                    "–"
                    if got is None
                    else f"{fmt_score(got.score)} ({got.n})" + (" †" if got.evidence == "low" else "")
                )
            rows.append([f"{self.area_name(comp.area, short=True)}: {self.name(comp.name)}", *cells])
        doc.add(
            Heading(t("h_components_compared")),
            Paragraph.of(t("components_intro")),
            Table(
                [t("col_component"), *names],
                rows,
                widths=[7.0, *([2.3] * len(codes))],
                align="l" + "r" * len(codes),
                caption=t("components_caption", n=self.next_table()),
                note=t("low_evidence_note", n=LOW_EVIDENCE_N),
                landscape=wide,
            ),
        )

    def assistance_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool) -> None:
        if not self.has_role("assistance"):
            return
        t = self.t
        labels = self.choice_labels("assistance")
        per_country: dict[str, Counter[str]] = {}
        for code in codes:
            cdata = self.data.countries[code]
            asked: dict[str, set[str]] = {}
            for a in cdata.by_role("assistance"):
                for v in a.value if isinstance(a.value, list) else []:
                    asked.setdefault(v, set()).add(cdata.institution(a))
            per_country[code] = Counter({k: len(v) for k, v in asked.items()})
        rows = [
            [label, *(str(per_country[c][code_]) for c in codes)]
            for code_, label in labels.items()
            if any(per_country[c][code_] for c in codes)
        ]
        if not rows:
            return
        doc.add(
            Heading(t("h_assistance_compared")),
            Table(
                [t("col_type"), *names],
                rows,
                widths=[6.0, *([2.3] * len(codes))],
                align="l" + "r" * len(codes),
                caption=t("assistance_compared_caption", n=self.next_table()),
                landscape=wide,
            ),
        )

    def views_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool) -> None:
        for role in ("regional_view", "cooperation_areas"):
            found = self.question_of(role)
            if found is None:
                continue
            labels = self.choice_labels(role)
            counts = {
                code: Counter(
                    str(v)
                    for a in self.data.countries[code].by_role(role)
                    for v in (a.value if isinstance(a.value, list) else [a.value])
                )
                for code in codes
            }
            rows = [[label, *(str(counts[c][k]) for c in codes)] for k, label in labels.items()]
            if role == "regional_view":
                doc.add(Heading(self.name(found[0].title)))
            doc.add(
                Paragraph.of(Run(self.name(found[1].label), bold=True)),
                Table(
                    [self.t("col_view"), *names],
                    rows,
                    widths=[6.0, *([2.3] * len(codes))],
                    align="l" + "r" * len(codes),
                    caption=self.t("views_caption", n=self.next_table()),
                    landscape=wide,
                ),
            )

    def coverage_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool) -> None:
        t = self.t
        mark = {"accepted": "✓", "incomplete": "◐", "missing": "–"}
        covs = [self.data.coverage.countries[c] for c in codes]
        institutions = [i.id for i in self.fw.institutions if any(i.id in cov.institutions for cov in covs)]
        rows = [
            [self.institution(i)] + [mark[cov.institutions[i].status] if i in cov.institutions else "" for cov in covs]
            for i in institutions
        ]
        rows.append([t("row_responded"), *(f"{cov.responded} / {cov.invited}" for cov in covs)])
        doc.add(
            Heading(t("h_coverage")),
            Table(
                [t("col_institution"), *names],
                rows,
                widths=[7.0, *([2.3] * len(codes))],
                align="l" + "c" * len(codes),
                caption=t("coverage_caption", n=self.next_table()),
                note=t("coverage_note"),
                landscape=wide,
            ),
        )


def _bold_runs(value: str) -> list[Run]:
    """``**bold**`` in report.yaml's method text becomes a bold run (the only markup it uses)."""
    parts = re.split(r"(\*\*[^*]+\*\*)", value)
    return [Run(p[2:-2], bold=True) if p.startswith("**") else Run(p) for p in parts if p]


def check_language(definition: Definition, lang: str) -> list[str]:
    """Labels and texts ``lang`` lacks (English is shown for them); a language the definitions
    do not have at all is a usage error."""
    if lang not in definition.languages:
        raise UsageError(f"--lang {lang}: the definitions have {', '.join(definition.languages)}")
    return definition.missing_labels(lang) if lang != "en" else []


def write_document(doc: Document, figures: list[Figure], stem: str, out: Path, formats: list[str]) -> list[Path]:
    paths = []
    if "md" in formats:
        for figure in figures:
            write_atomic(out / figure.name, figure.png)
        paths.append(write_atomic(out / f"{stem}.md", markdown.render(doc)))
    if "docx" in formats:
        paths.append(word.render(doc, out / f"{stem}.docx"))
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
    sections: list[Callable[[Builder, Document, str], list[Figure]]] | None = None,
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
    builder = Builder(data, result, lang, ws.title, ws.deadline, translation_lookup(ws, lang))
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
    for code, paths in _write_all(builder, jobs, out, formats, workers):
        done(code, paths)
    return written


REGIONAL = "regional"
_JOB: dict[str, Any] = {}


def _import_renderers() -> None:
    """matplotlib (the charts): about half a second of imports that every process writing a
    document would otherwise pay again after forking."""
    import_module("consult.report.charts")


def _write_one(code: str) -> tuple[str, list[Path]]:
    """Build and write one document (in this process, or a forked worker that inherited the
    builder: the round is loaded and scored once, in the parent)."""
    builder: Builder = _JOB["builder"]
    out, formats = _JOB["out"], _JOB["formats"]
    if code == REGIONAL:
        doc, figures = builder.regional_document()
        return code, write_document(
            doc, _tagged(figures, builder.lang), "regional-synthesis." + builder.lang, out, formats
        )
    doc, figures = builder.country_document(code)
    return code, write_document(doc, _tagged(figures, builder.lang), f"{code}-synthesis.{builder.lang}", out, formats)


def _tagged(figures: list[Figure], lang: str) -> list[Figure]:
    """Every file of a synthesis carries its language (KZ-synthesis.en.md, KZ-area-scores.en.png:
    consult/naming.py), so the Russian run never overwrites the English one; the Markdown links
    the renamed chart."""
    for figure in figures:
        figure.name = tagged(figure.name.removesuffix(".png"), lang, ".png")
    return figures


def _write_all(
    builder: Builder, jobs: list[str], out: Path, formats: list[str], workers: int | None
) -> Iterator[tuple[str, list[Path]]]:
    """Documents are independent: with several, forked worker processes write some while this
    process writes the others (charts and Word building are CPU-bound; a forked worker shares
    the scored round for free, and this process working too keeps one process fewer in memory).
    Where processes cannot fork, or with few documents, one process writes them in order."""
    _JOB.update(builder=builder, out=out, formats=formats)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(jobs) >= 4 else 1
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_write_one, jobs)
        return
    forked, here = jobs[: len(jobs) * (workers - 1) // workers], jobs[len(jobs) * (workers - 1) // workers :]
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        pending = [pool.submit(_write_one, code) for code in forked]
        yield from map(_write_one, here)
        for future in pending:
            yield future.result()


def countries_with_returns(store: Store, ws: Workspace) -> list[str]:
    from consult.analysis.coverage import current_returns

    present = {r.country for r in current_returns(store, ws)}
    return [c for c in ws.countries if c in present]


def no_returns_message(ws: Workspace, code: str) -> str:
    return Texts(ws.definition, "en")("no_returns", country=code, round=ws.round)
