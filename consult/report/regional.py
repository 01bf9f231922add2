"""The regional synthesis: the countries side by side, from the shared priorities to coverage.

Built from the regional scores (:class:`consult.analysis.results.RegionalScore`) and every
country's answers, in the same blocks as a country's document; the order and content are
decided here (:meth:`RegionalSections.regional_document`). A cell resting on low evidence is
marked and never averaged.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from consult import __version__
from consult.analysis import findings
from consult.analysis.results import ComponentScore
from consult.analysis.scoring import LOW_EVIDENCE_N
from consult.report.base import REGIONAL, BuilderBase
from consult.report.document import Bullets, Document, Figure, Heading, Paragraph, Run, Table
from consult.report.formats import fmt_pct, fmt_score, rate


class RegionalSections(BuilderBase):
    """The regional document (``regional_document``) and its sections."""

    def regional_ranking_sentences(self) -> list[str]:
        """The regional tiers and what non-response could change (consult.analysis.findings)."""
        rob = self.result.robustness
        reg = rob.regional if rob else None
        if rob is None or reg is None:
            return []
        t = self.t
        out = findings.ranking_sentences(findings.ranking_findings(reg.ranked), t, self.text_name)
        countries = [rob.countries[c] for c in reg.countries if c in rob.countries]
        responded = sum(c.responded for c in countries)
        invited = sum(c.invited for c in countries)
        could = [(a, a.non_response) for a in reg.ranked if a.non_response and a.non_response.tier_could_change]
        if invited and responded < invited and could:
            ranges = ", ".join(f"{self.text_name(a.area)} {nr.low:.0f}–{nr.high:.0f}" for a, nr in could)
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
        summary.append(t("reg_sum_shared", areas=self.join(shared)) if shared else t("reg_sum_no_shared"))
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
