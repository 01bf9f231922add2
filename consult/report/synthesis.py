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
import hashlib
import multiprocessing
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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
from consult.definitions.plurals import plurals
from consult.definitions.questionnaire import Question, Section
from consult.definitions.roles import QUOTED
from consult.errors import ConsultError, UsageError
from consult.fileio import Staging, staged_writes
from consult.naming import tagged
from consult.report import markdown, word
from consult.report.document import (
    Bullets,
    Contents,
    Document,
    Figure,
    Heading,
    Paragraph,
    Quote,
    Run,
    Table,
)
from consult.report.translations import quote_id, translation_lookup
from consult.store import AnswerRow, Store
from consult.workers import can_fork, result, worker_pool
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
        lang = self.lang
        if not value:
            self.fallbacks.add(key)
            value, lang = texts["en"], "en"
        value = plurals(value, lang, fmt)
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


_SPECIFY = re.compile(r"\s*\((?:please specify|specify|укажите|уточните)[^)]*\)", re.IGNORECASE)


def plain_label(label: str) -> str:
    """A choice label as a report shows it: "Other (please specify)" is an instruction to the
    respondent, so the report says "Other"."""
    return _SPECIFY.sub("", label).strip()


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def rating_words(label: str) -> str:
    """ "5 - Very high priority" -> "5 – very high priority" (the level, as a sentence says it)."""
    match = re.match(r"^\s*(\d+)\s*[-–—]\s*(.+)$", label)
    return f"{match.group(1)} – {match.group(2)[:1].lower()}{match.group(2)[1:]}" if match else label


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
        invited_countries: list[str] | None = None,
    ):
        self.translations = translations or {}
        self.invited_countries = invited_countries or []
        self.abbreviations: list[dict[str, Any]] = data.definition.data_file("report").get("abbreviations") or []
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
        return {
            c.code: plain_label(self.name(c.label))
            for c in self.definition.questionnaire.choice_lists.get(q.choices or "", [])
        }

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

    # --- shared pieces ---------------------------------------------------------------------
    def join(self, names: list[str], quoted: bool = True) -> str:
        """Names in a sentence: «A», «B» и «C» in Russian, A, B and C in English."""
        if quoted and self.lang == "ru":
            names = [f"«{n}»" for n in names]
        if len(names) <= 1:
            return "".join(names)
        return f"{', '.join(names[:-1])} {self.t('and')} {names[-1]}"

    def lead_institutions(self, area_id: str, invited: Iterable[str]) -> list[str]:
        """The institutions that lead an area in a country: the invited ones with the highest
        weight for it, when that weight is above the default (the framework's lead roles)."""
        weights = {
            i: self.fw.institution_by_id[i].areas[area_id].weight
            for i in invited
            if i in self.fw.institution_by_id and area_id in self.fw.institution_by_id[i].areas
        }
        top = max(weights.values(), default=1.0)
        return [i for i, w in weights.items() if w == top and top > 1.0]

    def lead_status(self, area_id: str, code: str) -> tuple[list[str], list[str]]:
        """(lead institutions that did not respond, lead institutions whose return is incomplete)."""
        cov = self.data.coverage.countries[code]
        leads = self.lead_institutions(area_id, cov.institutions)
        missing = [i for i in leads if cov.institutions[i].status == "missing"]
        incomplete = [i for i in leads if cov.institutions[i].status == "incomplete"]
        return missing, incomplete

    def cover(self, doc: Document, stamp: str) -> None:
        doc.status = self.t("status_line", version=stamp, date=self.date(dt.date.today().isoformat()))
        doc.purpose = self.t("cover_purpose")

    def front_matter(self, doc: Document) -> None:
        """After page 1: the contents and the abbreviations (report.yaml ``abbreviations``)."""
        doc.add(Contents(self.t("h_contents")))
        rows = sorted([self.name(a["code"]), self.name(a["meaning"])] for a in self.abbreviations)
        if rows:
            doc.add(
                Heading(self.t("h_abbreviations")),
                Table(
                    [self.t("col_abbreviation"), self.t("col_meaning")],
                    rows,
                    widths=[3.0, 14.0],
                    caption=self.t("abbreviations_caption"),
                    sort=(0, "asc"),
                ),
            )

    def quote_legend(self, doc: Document, quotes: list[Quote]) -> None:
        """Says what the [ru]/[en] tags mean and whether the translation is pending or done."""
        other = [q for q in quotes if q.lang]
        if not other:
            return
        code = Counter(q.lang for q in other).most_common(1)[0][0] or ""
        names = dict(pair.split("=", 1) for pair in self.t("other_lang_name").split())
        done = sum(1 for q in other if q.translation)
        texts = [self.t("quote_legend", count=len(other), other=names.get(code, code), code=code)]
        if done == 0:
            texts.append(self.t("quote_pending"))
        elif done < len(other):
            texts.append(self.t("quote_partial", done=done))
        else:
            texts.append(self.t("quote_done"))
        doc.add(Paragraph.of(" ".join(texts)))

    def stamp(self, returns: Iterable[Any]) -> str:
        """The document's version: a short digest of the returns it rests on (a new or replaced
        return gives a new version; the same returns the same one)."""
        digest = hashlib.sha256("".join(sorted(r.sha256 for r in returns)).encode()).hexdigest()
        return digest[:6]

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
        self.cover(doc, self.stamp(cdata.returns))
        self.summary(doc, cs, cdata)
        self.ranking(doc, cs, country)
        self.next_steps(doc, cs)
        self.front_matter(doc)
        self.facts(doc, cs, cdata)
        self.limitations(doc, cs)
        extra = [f for section in self.sections for f in section(self, doc, code)]
        figure = self.area_by_area(doc, cs, cdata, country, area_chart)
        for role, heading in (("emerging", "h_emerging"), ("proposal", "h_proposals")):
            if self.has_role(role):
                doc.add(Heading(t(heading)))
                quotes = self.quotes(cdata, [a for a in cdata.by_role(role) if not a.area])
                doc.add(*quotes) if quotes else doc.add(Paragraph.of(t("none_given"), style="note"))
        self.initiatives(doc, cdata)
        self.assistance(doc, cdata, country)
        self.crosscutting(doc, cdata)
        self.regional_views(doc, cdata)
        self.conclusions(doc, cs, cdata, country)
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
        self.audit_annex(doc, cdata)
        return doc, [figure, *extra]

    def source(self, cdata: CountryData) -> str:
        return self.t("source_returns", count=len(cdata.returns), country=self.country(cdata.code))

    def summary(self, doc: Document, cs: CountryScore, cdata: CountryData) -> None:  # noqa: ARG002 (cdata unused: drop it once this file's parallel edits are merged)
        t = self.t
        cov = cs.coverage
        ranked = [a for a in cs.areas if a.rank is not None]
        rob = self.robustness(cs.code)
        # the ranking words are the method's (consult.analysis.findings): tiers, first place, ties,
        # with their probabilities; the response rate comes with what non-response could change
        nonresp = (
            findings.non_response_sentence(rob.ranked, cov.responded, cov.invited, t, self.short_name)
            if rob is not None
            else None
        )
        rate_ = fmt_pct(rate(cov.responded, cov.invited))
        # the non-response sentence states the response rate; without it, the coverage does
        sentences = [] if nonresp else [t("sum_coverage", responded=cov.responded, invited=cov.invited, rate=rate_)]
        if ranked:
            sentences += self.stability_sentences(cs, ranked)
        else:
            sentences.append(t("sum_no_rank", n=LOW_EVIDENCE_N))
        if nonresp:
            sentences.append(nonresp)
        rated = [a for a in ranked if a.agreement is not None]
        if rated:
            best = max(a.agreement or 0 for a in rated)
            tops = [self.name(a.short) for a in rated if a.agreement == best]
            if len(tops) == 1:
                sentences.append(t("sum_agreement_one", areas=self.join(tops), pct=fmt_pct(best)))
            else:
                sentences.append(t("sum_agreement_tie", count=len(tops), areas=self.join(tops), pct=fmt_pct(best)))
        sentences += self.disagreement(cs)
        low = [self.name(a.short) for a in cs.areas if a.evidence == "low"]
        if low:
            sentences.append(t("sum_low", count=len(low), areas=self.join(low), n=LOW_EVIDENCE_N))
        doc.add(Heading(t("h_summary")), Bullets.of(sentences))  # incomplete returns: in the limitations

    def disagreement(self, cs: CountryScore) -> list[str]:
        """ "Views differ most" only where they do: the widest range of ratings (2 points or
        more), naming every area that shares it."""
        ranges = {
            a.id: (min(r.rating for r in a.ratings), max(r.rating for r in a.ratings)) for a in cs.areas if a.n >= 2
        }
        if not ranges:
            return []
        widest = max(hi - lo for lo, hi in ranges.values())
        if widest < 2:  # no area's ratings are 2 points apart: nothing to single out on page 1
            return []
        items = [
            f"{self.join([self.area_name(aid, short=True)])} ({lo}–{hi})"
            for aid, (lo, hi) in ranges.items()
            if hi - lo == widest
        ]
        lo, hi = next((lo, hi) for lo, hi in ranges.values() if hi - lo == widest)
        if len(items) == 1:
            name = self.join([self.area_name(next(a for a, (x, y) in ranges.items() if y - x == widest), short=True)])
            return [self.t("sum_disagreement", area=name, low=lo, high=hi)]
        return [self.t("sum_disagreement_many", items=self.join(items, quoted=False))]

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

    def next_steps(self, doc: Document, cs: CountryScore) -> None:
        t = self.t
        ranked = [a for a in cs.areas if a.rank is not None]
        items = []
        if ranked:
            items.append(t("next_focus", areas=self.join([self.name(a.short) for a in ranked[:2]])))
        missing = [self.institution(i) for i in cs.coverage.with_status("missing")]
        if missing:
            items.append(t("next_missing", count=len(missing), institutions=", ".join(missing)))
        items.append(t("next_validate"))
        doc.add(Heading(t("h_next_steps"), 2), Bullets.of(items))

    def facts(self, doc: Document, cs: CountryScore, cdata: CountryData) -> None:
        """The consultation: how forms were sent, in which languages, the follow-up, the
        response rate (the method narrative), then the facts as a list."""
        t = self.t
        cov = cs.coverage
        names = {i: self.institution(i) for i in cov.institutions}
        dates = sorted(str(a.value)[:10] for a in cdata.by_role("completion_date") if a.value)
        responded = [names[i] for i in cov.with_status("accepted", "incomplete")]
        doc.add(Heading(t("h_facts")))
        doc.add(
            Paragraph.of(
                t(
                    "method_sent",
                    languages=t("doc_languages"),
                    invited=cov.invited,
                    country=self.country(cdata.code),
                    deadline=self.date(self.deadline),
                )
            )
        )
        if dates:
            doc.add(
                Paragraph.of(
                    t(
                        "method_response",
                        responded=cov.responded,
                        invited=cov.invited,
                        rate=fmt_pct(rate(cov.responded, cov.invited)),
                        first=self.date(dates[0]),
                        last=self.date(dates[-1]),
                    )
                )
            )
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
            items.insert(1, [Run(f"{t('facts_latest')}: ", bold=True), self.date(dates[-1] if dates else None)])
        doc.add(Bullets.of(items))
        quotes = [q for q in (self.quote(cdata, a) for a in cdata.by_role(*QUOTED)) if q is not None]
        self.quote_legend(doc, quotes)

    def limitations(self, doc: Document, cs: CountryScore) -> None:
        t = self.t
        cov = cs.coverage
        items = [
            t(
                "lim_nonresponse",
                missing=cov.invited - cov.responded,
                invited=cov.invited,
                rate=fmt_pct(rate(cov.responded, cov.invited)),
            )
        ]
        lead_missing = [self.name(a.short) for a in cs.areas if self.lead_status(a.id, cs.code)[0]]
        if lead_missing:
            items[0] += " " + t("lim_lead", areas=self.join(lead_missing))
        if cov.incomplete:
            items.append(t("lim_incomplete", count=cov.incomplete))
        items += [t("lim_self"), t("lim_weak", n=LOW_EVIDENCE_N), t("lim_keywords")]
        rob = self.robustness(cs.code)
        alpha = findings.agreement_sentence(rob.agreement, t) if rob is not None else None
        if alpha:
            items.append(alpha)
        doc.add(Heading(t("h_limitations")), Bullets.of(items))

    def ranking(self, doc: Document, cs: CountryScore, country: str) -> None:
        t = self.t
        rob = self.robustness(cs.code)

        def cells(a: AreaScore) -> list[str]:
            ar = rob.area(a.id) if rob is not None and a.score is not None else None
            score = fmt_score(a.score) + (" †" if a.evidence == "low" else "")
            if ar is not None and ar.score_interval and a.evidence != "low":
                lo, hi = ar.score_interval
                score += f" ({lo:.0f}–{hi:.0f})"
            tier = t(f"tier_{ar.tier_label}") if ar is not None and ar.tier else ""
            p3 = findings.fmt_p(ar.p_top3, t) if ar is not None and ar.tier and ar.p_top3 is not None else ""
            return [score, tier, p3]

        rows = [
            [
                str(a.rank) if a.rank else "",
                self.name(a.name) + (" †" if a.evidence == "low" else ""),
                *cells(a),
                str(a.n),
            ]
            for a in cs.areas
        ]
        any_low = any(a.evidence == "low" for a in cs.areas)
        cdata = self.data.countries[cs.code]
        doc.add(
            Table(
                [
                    t("col_rank"),
                    t("col_area"),
                    t("col_score"),
                    t("col_tier"),
                    t("col_p_top3"),
                    t("col_n"),
                ],
                rows,
                widths=[1.2, 9.0, 2.4, 2.0, 1.6, 0.8],
                align="rlrlrr",
                caption=t("table_caption", n=self.next_table(), country=country),
                note=" ".join(
                    [t("ranking_note", n=LOW_EVIDENCE_N)]
                    + ([t("low_evidence_note", n=LOW_EVIDENCE_N)] if any_low else [])
                ),
                source=self.source(cdata),
                sort=(2, "desc"),
            )
        )

    def area_by_area(  # noqa: C901 (to split with this file's parallel rework, not under it)
        self, doc: Document, cs: CountryScore, cdata: CountryData, country: str, chart: Callable[..., bytes]
    ) -> Figure:
        t = self.t
        doc.add(Heading(t("h_findings")))
        png = chart([(self.name(a.short), a.score, a.evidence == "low") for a in cs.areas if a.score is not None])
        figure = Figure(
            png,
            f"{cs.code}-area-scores.png",
            t("chart_caption", n=self.next_figure(), country=country),
            alt=t("chart_alt", country=country),
            source=self.source(cdata),
        )
        doc.add(figure)
        if any(a.evidence == "low" for a in cs.areas) or any(c.evidence == "low" for c in cs.components):
            doc.add(Paragraph.of(t("low_evidence_note", n=LOW_EVIDENCE_N), style="note"))
        comps = {c.id: c for c in cs.components}
        assist = [a for a in cdata.by_role("assistance") if a.area]
        details = cdata.by_role("assistance_detail")
        challenges = cdata.by_role("challenge")
        levels = self.rating_labels()
        for a in cs.areas:
            heading = (f"{a.rank}. " if a.rank else "") + self.name(a.name) + (" †" if a.evidence == "low" else "")
            doc.add(Heading(heading, 2))
            words: list[str] = []
            if a.score is None:
                words.append(t("not_rated"))
            else:
                words.append(
                    t(
                        "finding_rated",
                        area=self.name(a.short),
                        score=fmt_score(a.score),
                        n=a.n,
                        agreement=fmt_pct(a.agreement),
                    )
                )
                words.append(t("finding_votes", borda=a.borda, mentions=a.mentions))
                if a.evidence == "low":
                    words.append(t("finding_weak"))
            ar = rob.area(a.id) if (rob := self.robustness(cs.code)) is not None else None
            nr = ar.non_response if ar is not None else None
            if nr is not None and nr.missing_asked:
                words.append(
                    t("nonresponse_range", count=nr.missing_asked, low=fmt_score(nr.low), high=fmt_score(nr.high))
                )
                if nr.tier_could_change:
                    words.append(t("nonresponse_tier"))
            missing, incomplete = self.lead_status(a.id, cs.code)
            if missing:
                words.append(t("lead_missing", institution=", ".join(self.institution(i) for i in missing)))
            if incomplete:
                words.append(t("lead_incomplete", institution=", ".join(self.institution(i) for i in incomplete)))
            counted = (
                self.counts([x for x in assist if x.area == a.id], self.choice_labels("assistance"))
                if self.has_role("assistance")
                else []
            )
            if counted:
                words.append(
                    t(
                        "finding_assist",
                        list=self.join([label.lower() if self.lang == "en" else label for label, _ in counted[:2]]),
                    )
                )
            area_quotes = (
                self.quotes(cdata, [x for x in challenges if x.area == a.id]) if self.has_role("challenge") else []
            )
            if area_quotes:
                words.append(t("finding_quotes", count=len({q.attribution for q in area_quotes})))
            doc.add(Paragraph.of(" ".join(words)))
            if a.score is not None:
                self.top_components(doc, a, comps)
                top = max((r.rating for r in a.ratings), default=None)
                highest = [self.institution(r.institution) for r in a.ratings if r.rating == top]
                if highest and top is not None:
                    level = levels.get(str(top), str(top))
                    doc.add(Paragraph.of(Run(f"{t('highest_raters', level=level)}: ", bold=True), ", ".join(highest)))
            if self.has_role("assistance"):
                doc.add(Heading(t("asks"), 3))
                if counted:
                    listed = "; ".join(t("count_item", label=label, count=n) for label, n in counted)
                    doc.add(Paragraph.of(t("asks_counts", list=listed)))
                else:
                    doc.add(Paragraph.of(t("asks_none"), style="note"))
                other = self.quotes(cdata, [x for x in details if x.area == a.id])
                if other:
                    doc.add(Paragraph.of(Run(t("other_assistance"), bold=True)), *other)
            if self.has_role("challenge"):
                doc.add(Heading(t("h_challenges"), 3))
                doc.add(*area_quotes) if area_quotes else doc.add(Paragraph.of(t("no_quotes"), style="note"))
                elsewhere = sum(1 for e in a.excerpts if not e.question.startswith(f"{a.id}."))
                if elsewhere:
                    doc.add(Paragraph.of(t("mentions_elsewhere", count=elsewhere), style="note"))
        return figure

    def rating_labels(self) -> dict[str, str]:
        """Rating code -> its words without the number ("5" -> "very high priority")."""
        found = self.question_of("area_priority")
        if not found:
            return {}
        labels = self.choice_labels("area_priority")
        return {code: rating_words(label) for code, label in labels.items()}

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
        all_weak = all(c.evidence == "low" for c in scored)
        title = self.t("top_components_weak", n=LOW_EVIDENCE_N) if all_weak else self.t("top_components")
        doc.add(Paragraph.of(Run(f"{title}:", bold=True)), Bullets.of(lines))

    def conclusions(self, doc: Document, cs: CountryScore, cdata: CountryData, country: str) -> None:
        """Drafted from the figures, marked as a draft: the office rewrites these paragraphs."""
        t = self.t
        ranked = [a for a in cs.areas if a.rank is not None]
        paras = []
        if ranked:
            paras.append(
                t("rec_priorities", country=country, areas=self.join([self.name(a.short) for a in ranked[:3]]))
            )
        low = [self.name(a.short) for a in cs.areas if a.evidence == "low"]
        if low:
            paras.append(t("rec_weak", areas=self.join(low)))
        if self.has_role("assistance"):
            counted = self.counts(cdata.by_role("assistance"), self.choice_labels("assistance"))
            if counted:
                paras.append(
                    t(
                        "rec_assist",
                        list=self.join([label.lower() if self.lang == "en" else label for label, _ in counted[:3]]),
                    )
                )
        if cs.coverage.with_status("missing"):
            paras.append(t("rec_missing"))
        doc.add(Heading(t("h_conclusions")))
        for text_ in paras:
            doc.add(Paragraph([Run(t("draft_mark"), bold=True), Run(text_)], style="draft"))

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
                source=self.source(self.data.countries[cdata.code]),
                sort=(len(shown) + 1, "desc"),
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
        if not any(self.has_role(r) for r in roles):
            return
        t = self.t
        doc.add(Heading(t("h_regional_views")))
        for role in ("regional_view", "cooperation_areas"):
            view = self.question_of(role)
            if view is None:
                continue
            counted = self.counts(cdata.by_role(role), self.choice_labels(role))
            doc.add(Paragraph.of(t("question_asked", question=self.name(view[1].label))))
            doc.add(Bullets.of([t("count_item", label=label, count=n) for label, n in counted] or [t("none")]))
            comment = "regional_comment" if role == "regional_view" else "cooperation_comment"
            quotes = self.quotes(cdata, cdata.by_role(comment))
            if quotes:
                doc.add(Heading(t("comments"), 3), *quotes)

    def returns_annex(self, doc: Document, cdata: CountryData) -> None:
        """Annex B: who answered and when they completed the form (the respondent's date,
        not the date the office ingested the file)."""
        t = self.t
        given = {a.return_id: str(a.value) for a in cdata.by_role("completion_date")}
        status = {"accepted": t("status_accepted"), "incomplete": t("status_incomplete")}
        order = {i.id: n for n, i in enumerate(self.fw.institutions)}
        returns = sorted(cdata.returns, key=lambda r: order.get(r.institution or "", 999))
        rows = [
            [self.institution(r.institution or ""), self.date(given.get(r.id)), status.get(r.status, r.status)]
            for r in returns
        ]
        doc.add(
            Heading(t("h_annex_returns")),
            Paragraph.of(t("returns_intro")),
            Table(
                [t("col_institution"), t("col_date_given"), t("col_status")],
                rows,
                widths=[9.0, 4.0, 3.0],
                caption=t("returns_caption", n=self.next_table(), country=self.country(cdata.code)),
                source=self.source(cdata),
            ),
        )

    def audit_annex(self, doc: Document, cdata: CountryData) -> None:
        """The last annex: file names, dates of receipt and SHA-256 fingerprints (for audit only)."""
        t = self.t
        returns = sorted(cdata.returns, key=lambda r: (r.received_at, r.id))
        rows = [
            [self.institution(r.institution or ""), self.date(r.received_at[:10]), r.file_name, r.sha256[:12]]
            for r in returns
        ]
        doc.add(
            Heading(t("h_annex_audit")),
            Paragraph.of(t("audit_intro")),
            Table(
                [t("col_institution"), t("col_received"), t("col_file"), t("col_fingerprint")],
                rows,
                widths=[5.2, 2.6, 5.6, 3.2],
                caption=t("audit_caption", n=self.next_table(), country=self.country(cdata.code)),
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
                tag = quote_language(shown, self.lang)  # the same [ru]/[en] tag as the quotes
                lines.append(
                    [
                        Run(f"{self.institution(cdata.institution(a))}: ", bold=True),
                        shown + (f" [{tag}]" if tag else ""),
                    ]
                )
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
        self.cover(doc, self.stamp(r for c in codes for r in self.data.countries[c].returns))
        invited = list(self.invited_countries or codes)
        absent = [self.country(c) for c in invited if c not in codes]
        covs = [self.data.coverage.countries[c] for c in codes]
        responded, asked = sum(c.responded for c in covs), sum(c.invited for c in covs)
        summary = [
            t(
                "reg_sum_countries",
                responded=len(codes),
                invited=len(invited),
                countries=", ".join(names),
                missing=t("reg_missing", countries=", ".join(absent)) if absent else t("reg_no_missing"),
            ),
        ]
        rrob = self.result.robustness.regional if self.result.robustness else None
        said_by_method = rrob is not None and any(  # the method's non-response sentence gives the rate
            a.non_response and a.non_response.tier_could_change for a in rrob.ranked
        )
        if not said_by_method or responded >= asked:
            summary.append(
                t("reg_sum_institutions", responded=responded, invited=asked, rate=fmt_pct(rate(responded, asked)))
            )
        shared = [self.area_name(a) for a in reg.shared]
        summary.append(t("reg_sum_shared", areas=", ".join(shared)) if shared else t("reg_sum_no_shared"))
        summary += self.regional_ranking_sentences()  # the method's words (consult.analysis.findings)
        solid = [
            (o, others)
            for o in sorted(reg.outliers, key=lambda o: -abs(o.difference))
            if not self.weak_cell(o.country, o.area)
            and (others := self.solid_others_mean(o.country, o.area)) is not None
            and abs(o.score - others) >= 25
        ]
        if solid:
            o, others = solid[0]
            sentence = t(
                "reg_sum_outlier",
                country=self.country(o.country),
                area=self.join([self.area_name(o.area, short=True)]),
                score=fmt_score(o.score),
                others=fmt_score(others),
            )
            missing = self.lead_status(o.area, o.country)[0]
            if missing:
                sentence += t("reg_outlier_caveat", institution=", ".join(self.institution(i) for i in missing))
            summary.append(sentence)
        summary.append(t("reg_next"))
        doc.add(Heading(t("h_summary")), Bullets.of(summary))
        ordered = sorted(reg.areas, key=lambda a: (self.regional_mean(a) is None, -(self.regional_mean(a) or 0)))
        wide = len(codes) > 4
        source = t("source_regional", count=len(codes))

        def cellv(score: float | None, n: int, low: bool) -> str:
            return "–" if score is None else f"{fmt_score(score)} ({n})" + (" †" if low else "")

        doc.add(
            Table(
                [t("col_area"), *names, t("col_mean")],
                [
                    [self.name(a.short)]
                    + [cellv(a.scores.get(c), a.n.get(c, 0), a.low_evidence.get(c, False)) for c in codes]
                    + [fmt_score(self.regional_mean(a))]
                    for a in ordered
                ],
                widths=[5.0, *([2.3] * len(codes)), 2.2],
                align="l" + "r" * (len(codes) + 1),
                caption=t("matrix_caption", n=self.next_table()),
                note=t("low_evidence_note", n=LOW_EVIDENCE_N),
                landscape=wide,
                source=source,
                sort=(len(codes) + 1, "desc"),
            )
        )
        self.front_matter(doc)
        doc.add(Heading(t("h_matrix")))
        png = heatmap(
            [self.name(a.short) for a in ordered],
            names,
            [[a.scores.get(c) for c in codes] for a in ordered],
            [[a.low_evidence.get(c, False) for c in codes] for a in ordered],
        )
        figure = Figure(
            png,
            "regional-area-scores.png",
            t("heatmap_caption", n=self.next_figure()),
            alt=t("heatmap_alt"),
            source=source,
        )
        doc.add(figure, Paragraph.of(t("low_evidence_note", n=LOW_EVIDENCE_N), style="note"))
        extra = [f for section in self.sections for f in section(self, doc, REGIONAL)]
        doc.add(Heading(t("h_shared")), Paragraph.of(t("shared_intro", count=len(codes))))
        doc.add(Bullets.of(shared or [t("none")]))
        doc.add(Heading(t("h_outliers")), Paragraph.of(t("outliers_intro")))
        if reg.outliers:
            outliers = sorted(reg.outliers, key=lambda o: -abs(o.difference))
            doc.add(
                Table(
                    [t("col_country"), t("col_area"), t("col_score"), t("col_others"), t("col_difference")],
                    [
                        [
                            self.country(o.country),
                            self.area_name(o.area, short=True),
                            fmt_score(o.score) + (" †" if self.weak_cell(o.country, o.area) else ""),
                            fmt_score(o.others_mean) + (" †" if self.others_weak(o.country, o.area) else ""),
                            f"{o.difference:+.0f}",
                        ]
                        for o in outliers
                    ],
                    widths=[3.5, 6.0, 1.8, 3.2, 2.4],
                    align="llrrr",
                    caption=t("outliers_caption", n=self.next_table()),
                    note=t("outliers_note", n=LOW_EVIDENCE_N),
                    source=source,
                    sort=(4, "absdesc"),
                )
            )
        else:
            doc.add(Bullets.of([t("none")]))
        self.components_compared(doc, codes, names, wide, source)
        self.assistance_compared(doc, codes, names, wide, source)
        self.views_compared(doc, codes, names, wide, source)
        self.qualitative(doc, codes, names, wide, source)
        self.coverage_compared(doc, codes, names, wide, source)
        doc.add(
            Heading(t("h_limitations")), Bullets.of([t("reg_lim", n=LOW_EVIDENCE_N), t("lim_self"), t("lim_keywords")])
        )
        recs = []
        if shared:
            recs.append(t("reg_rec_shared", areas=self.join([self.area_name(a, short=True) for a in reg.shared])))
        recs.append(t("reg_rec_country"))
        if absent:
            recs.append(t("rec_missing"))
        doc.add(Heading(t("h_conclusions")))
        for text_ in recs:
            doc.add(Paragraph([Run(t("draft_mark"), bold=True), Run(text_)], style="draft"))
        doc.add(Heading(t("h_annex_method")))
        self.methodology(doc)
        doc.add(Paragraph.of(t("reg_method_note")), Paragraph.of(t("provenance", version=__version__), style="note"))
        return doc, [figure, *extra]

    def weak_cell(self, code: str, area_id: str) -> bool:
        reg = self.result.regional
        area = next((a for a in reg.areas if a.id == area_id), None) if reg else None
        return bool(area and area.low_evidence.get(code, False))

    def others_weak(self, code: str, area_id: str) -> bool:
        reg = self.result.regional
        area = next((a for a in reg.areas if a.id == area_id), None) if reg else None
        return bool(
            area and any(v for c, v in area.low_evidence.items() if c != code and area.scores.get(c) is not None)
        )

    def solid_others_mean(self, code: str, area_id: str) -> float | None:
        """The mean of the other countries' scores on sufficient evidence (None: there is none)."""
        reg = self.result.regional
        area = next((a for a in reg.areas if a.id == area_id), None) if reg else None
        if area is None:
            return None
        values = [
            v for c, v in area.scores.items() if c != code and v is not None and not area.low_evidence.get(c, False)
        ]
        return sum(values) / len(values) if values else None

    def regional_mean(self, area: Any) -> float | None:
        """The mean of the countries' scores on sufficient evidence (a † cell is not averaged)."""
        values = [v for c, v in area.scores.items() if v is not None and not area.low_evidence.get(c, False)]
        return sum(values) / len(values) if values else None

    def qualitative(self, doc: Document, codes: list[str], names: list[str], wide: bool, source: str) -> None:
        """What the countries said: mentions of each area in free text, proposals, emerging
        threats (a few quotes per country, the rest in the country syntheses), cross-cutting issues."""
        t = self.t
        doc.add(Heading(t("h_qualitative")))
        self.quote_legend(  # the quotes shown below: at most three per country and question
            doc,
            [
                q
                for c in codes
                for role in ("proposal", "emerging")
                if self.has_role(role)
                for q in self.quotes(
                    self.data.countries[c], [a for a in self.data.countries[c].by_role(role) if not a.area]
                )[:3]
            ],
        )
        scores = {c: {a.id: a for a in self.result.countries[c].areas} for c in codes}
        rows = [
            [self.name(area.short), *(str(scores[c][area.id].mentions) if area.id in scores[c] else "–" for c in codes)]
            for area in self.fw.areas
        ]
        doc.add(
            Heading(t("h_shared_challenges"), 2),
            Paragraph.of(t("shared_challenges_intro")),
            Table(
                [t("col_area"), *names],
                rows,
                widths=[6.0, *([2.3] * len(codes))],
                align="l" + "r" * len(codes),
                caption=t("mentions_caption", n=self.next_table()),
                landscape=wide,
                source=source,
            ),
        )
        for role, heading in (("proposal", "h_reg_proposals"), ("emerging", "h_reg_emerging")):
            if not self.has_role(role):
                continue
            doc.add(Heading(t(heading), 2))
            any_quote = False
            for code, name in zip(codes, names, strict=True):
                cdata = self.data.countries[code]
                quotes = self.quotes(cdata, [a for a in cdata.by_role(role) if not a.area])
                if not quotes:
                    continue
                any_quote = True
                for q in quotes:
                    q.attribution = f"{q.attribution}, {name}"
                doc.add(Heading(name, 3), *quotes[:3])
                if len(quotes) > 3:
                    doc.add(Paragraph.of(t("reg_quotes_more", count=len(quotes) - 3), style="note"))
            if not any_quote:
                doc.add(Paragraph.of(t("none_given"), style="note"))
        if self.has_role("crosscutting"):
            labels = self.choice_labels("crosscutting")
            counts = {
                c: Counter(
                    str(v)
                    for a in self.data.countries[c].by_role("crosscutting")
                    for v in (a.value if isinstance(a.value, list) else [a.value])
                )
                for c in codes
            }
            rows = [
                [label, *(str(counts[c][k]) for c in codes)]
                for k, label in labels.items()
                if any(counts[c][k] for c in codes)
            ]
            if rows:
                doc.add(
                    Heading(t("h_reg_crosscutting"), 2),
                    Table(
                        [t("col_issue"), *names],
                        rows,
                        widths=[6.0, *([2.3] * len(codes))],
                        align="l" + "r" * len(codes),
                        caption=t("crosscutting_caption", n=self.next_table()),
                        landscape=wide,
                        source=source,
                    ),
                )

    def components_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool, source: str) -> None:
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
                source=source,
            ),
        )

    def assistance_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool, source: str) -> None:
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
                source=source,
            ),
        )

    def views_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool, source: str) -> None:
        first = True
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
            if first:
                doc.add(Heading(self.t("h_regional_views")))
                first = False
            header = self.t("col_area") if role == "cooperation_areas" else self.t("col_view")
            doc.add(
                Paragraph.of(self.t("question_asked", question=self.name(found[1].label))),
                Table(
                    [header, *names],
                    rows,
                    widths=[6.0, *([2.3] * len(codes))],
                    align="l" + "r" * len(codes),
                    caption=self.t("views_caption", n=self.next_table(), question=self.t(f"views_{role}")),
                    landscape=wide,
                    source=source,
                ),
            )

    def coverage_compared(self, doc: Document, codes: list[str], names: list[str], wide: bool, source: str) -> None:
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
                source=source,
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
    out, formats, staging = _JOB["out"], _JOB["formats"], _JOB["staging"]
    if code == REGIONAL:
        doc, figures = builder.regional_document()
        return code, write_document(
            doc, _tagged(figures, builder.lang), "regional-synthesis." + builder.lang, out, formats, staging
        )
    doc, figures = builder.country_document(code)
    return code, write_document(
        doc, _tagged(figures, builder.lang), f"{code}-synthesis.{builder.lang}", out, formats, staging
    )


def _tagged(figures: list[Figure], lang: str) -> list[Figure]:
    """Every file of a synthesis carries its language (KZ-synthesis.en.md, KZ-area-scores.en.png:
    consult/naming.py), so the Russian run never overwrites the English one; the Markdown links
    the renamed chart."""
    for figure in figures:
        figure.name = tagged(figure.name.removesuffix(".png"), lang, ".png")
    return figures


def _next_job() -> str | None:
    """The next document nobody has taken yet (the counter is shared by every process)."""
    counter, jobs = _JOB["next"], _JOB["jobs"]
    with counter.get_lock():
        i = counter.value
        counter.value += 1
    return jobs[i] if i < len(jobs) else None


def _write_taken() -> list[tuple[str, list[Path]]]:
    """Take documents off the shared list and write them until none is left."""
    written = []
    while (code := _next_job()) is not None:
        written.append(_write_one(code))
    return written


def _write_all(
    builder: Builder, jobs: list[str], out: Path, formats: list[str], workers: int | None, staging: Staging
) -> Iterator[tuple[str, list[Path]]]:
    """Documents are independent: with several, forked worker processes write some while this
    process writes the others (charts and Word building are CPU-bound; a forked worker shares
    the scored round for free, and this process working too keeps one process fewer in memory).
    Each process takes the next document when it is done with one, so that none waits while
    another still has several to write. Where processes cannot fork, or with few documents,
    one process writes them in order."""
    _JOB.update(builder=builder, out=out, formats=formats, staging=staging)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(jobs) >= 4 else 1
    if workers <= 1 or not can_fork():
        yield from map(_write_one, jobs)
        return
    context = multiprocessing.get_context("fork")
    _JOB.update(jobs=jobs, next=context.Value("i", 0))
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
    return Texts(ws.definition, "en")("no_returns", country=code, round=ws.round)
