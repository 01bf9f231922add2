"""The synthesis of one country: its sections, in order, from the executive summary to the
audit annex.

The order and content of a country's document is decided here and only here
(:meth:`CountrySections.country_document`); the pieces shared with the regional document are
:class:`consult.report.base.BuilderBase`'s. Each free-text answer is quoted once, under the
area of the question it answers (or in its own section); keyword matches elsewhere are
counted, never quoted twice. Sections whose role the questionnaire does not use are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from consult import __version__
from consult.analysis import findings
from consult.analysis.data import CountryData
from consult.analysis.results import AreaScore, CountryScore
from consult.analysis.scoring import LOW_EVIDENCE_N
from consult.definitions.roles import QUOTED
from consult.report.base import BuilderBase, NoReturnsError
from consult.report.document import Bullets, Document, Figure, Heading, Paragraph, Quote, Run, Table
from consult.report.formats import fmt_pct, fmt_score, quote_language, rate, rating_words


class CountrySections(BuilderBase):
    """The document of one country (``country_document``) and its sections."""

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
        self.summary(doc, cs)
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
            note = findings.adjustment_sentence(adj.ranking, ranked_ids, adj.changes_top3, t, self.text_name)
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

    def summary(self, doc: Document, cs: CountryScore) -> None:
        t = self.t
        cov = cs.coverage
        ranked = [a for a in cs.areas if a.rank is not None]
        rob = self.robustness(cs.code)
        # the ranking words are the method's (consult.analysis.findings): tiers, first place, ties,
        # with their probabilities; the response rate comes with what non-response could change
        nonresp = (
            findings.non_response_sentence(rob.ranked, cov.responded, cov.invited, t, self.text_name)
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

    def stability_sentences(self, cs: CountryScore, ranked: list[AreaScore]) -> list[str]:
        """Which areas lead, which trail, how sure (consult.analysis.findings: the same words for
        every seed), and whether first place rests on single returns."""
        rob = self.robustness(cs.code)
        if rob is None or not ranked:
            return []
        t = self.t
        out = findings.ranking_sentences(findings.ranking_findings(rob.ranked), t, self.text_name)
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

    def area_by_area(
        self, doc: Document, cs: CountryScore, cdata: CountryData, country: str, chart: Callable[..., bytes]
    ) -> Figure:
        """The findings: the chart of the area scores, then one subsection per area."""
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
        for a in cs.areas:
            self.area_section(doc, cs, cdata, a)
        return figure

    def area_section(self, doc: Document, cs: CountryScore, cdata: CountryData, a: AreaScore) -> None:
        """One area: what its ratings say, its top components and highest raters, the
        assistance asked for and the challenges quoted."""
        t = self.t
        heading = (f"{a.rank}. " if a.rank else "") + self.name(a.name) + (" †" if a.evidence == "low" else "")
        doc.add(Heading(heading, 2))
        counted = (
            self.counts([x for x in cdata.by_role("assistance") if x.area == a.id], self.choice_labels("assistance"))
            if self.has_role("assistance")
            else []
        )
        area_quotes = (
            self.quotes(cdata, [x for x in cdata.by_role("challenge") if x.area == a.id])
            if self.has_role("challenge")
            else []
        )
        doc.add(Paragraph.of(" ".join(self.area_finding(cs, a, counted, area_quotes))))
        if a.score is not None:
            self.top_components(doc, a, {c.id: c for c in cs.components})
            top = max((r.rating for r in a.ratings), default=None)
            highest = [self.institution(r.institution) for r in a.ratings if r.rating == top]
            if highest and top is not None:
                level = self.rating_labels().get(str(top), str(top))
                doc.add(Paragraph.of(Run(f"{t('highest_raters', level=level)}: ", bold=True), ", ".join(highest)))
        if self.has_role("assistance"):
            doc.add(Heading(t("asks"), 3))
            if counted:
                listed = "; ".join(t("count_item", label=label, count=n) for label, n in counted)
                doc.add(Paragraph.of(t("asks_counts", list=listed)))
            else:
                doc.add(Paragraph.of(t("asks_none"), style="note"))
            other = self.quotes(cdata, [x for x in cdata.by_role("assistance_detail") if x.area == a.id])
            if other:
                doc.add(Paragraph.of(Run(t("other_assistance"), bold=True)), *other)
        if self.has_role("challenge"):
            doc.add(Heading(t("h_challenges"), 3))
            doc.add(*area_quotes) if area_quotes else doc.add(Paragraph.of(t("no_quotes"), style="note"))
            elsewhere = sum(1 for e in a.excerpts if not e.question.startswith(f"{a.id}."))
            if elsewhere:
                doc.add(Paragraph.of(t("mentions_elsewhere", count=elsewhere), style="note"))

    def area_finding(
        self, cs: CountryScore, a: AreaScore, counted: list[tuple[str, int]], area_quotes: list[Quote]
    ) -> list[str]:
        """The sentences of an area's finding: its score and agreement, what non-response
        could change, the lead institutions missing, the assistance asked for, the quotes."""
        t = self.t
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
            words.append(t("nonresponse_range", count=nr.missing_asked, low=fmt_score(nr.low), high=fmt_score(nr.high)))
            if nr.tier_could_change:
                words.append(t("nonresponse_tier"))
        missing, incomplete = self.lead_status(a.id, cs.code)
        if missing:
            words.append(t("lead_missing", institution=", ".join(self.institution(i) for i in missing)))
        if incomplete:
            words.append(t("lead_incomplete", institution=", ".join(self.institution(i) for i in incomplete)))
        if counted:
            labels = [label.lower() if self.lang == "en" else label for label, _ in counted[:2]]
            words.append(t("finding_assist", list=self.join(labels)))
        if area_quotes:
            words.append(t("finding_quotes", count=len({q.attribution for q in area_quotes})))
        return words

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
