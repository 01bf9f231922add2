"""The section "Change since the last consultation" of the syntheses (``synthesize --compare``).

Built from a :class:`consult.analysis.compare.Comparison` into the same blocks as the rest of
the document, so Markdown and Word render it alike; its wording is ``change.yaml`` of the
definitions (every language of the framework). It is its own module, hooked into the synthesis
by one call, so that the synthesis can be reworded and reordered without touching it.

What it says, per country: who answered in both rounds, each clear change in words (with its
interval and the share of resamples in which the score rose), the areas without a clear
change, rank moves, where a change comes only from a different set of respondents, a table of
both rounds, a slope chart, the components entering and leaving the top five, and new themes
in the free text. Regionally: the mean of the country scores in both rounds.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from consult.analysis.compare import AreaChange, Change, Comparison, CountryChange
from consult.definitions import Definition
from consult.definitions.framework import text
from consult.definitions.wording import Wording
from consult.report.base import BuilderBase
from consult.report.document import Bullets, Document, Figure, Heading, Paragraph, Table
from consult.report.formats import fmt_pct, fmt_score
from consult.workspace import Workspace, open_workspace

DPI = 150
UP, DOWN, FLAT = "#1F4E79", "#B03A2E", "#8C8C8C"
# The last column of a change table, (its heading's text key, width, alignment): a country's notes,
# or the number of countries behind a regional mean.
LastColumn = tuple[str, float, str]
NOTES: LastColumn = ("change_col_note", 3.2, "l")
COUNTRIES: LastColumn = ("change_col_countries", 2.0, "r")


def _signed(value: float) -> str:
    return f"{value:+.0f}".replace("-", "−")


def _score_cell(score: float | None, rank: int | None) -> str:
    """A round's score in the change table, with its rank where it has one: "62 (2)"."""
    return "–" if score is None else f"{score:.0f}" + (f" ({rank})" if rank else "")


def _spread(values: list[float], gap: float) -> list[float]:
    """Label positions for ``values`` (sorted high to low), at least ``gap`` apart."""
    placed: list[float] = []
    for v in values:
        placed.append(min(v, placed[-1] - gap) if placed else v)
    return placed


def slope_chart(
    rows: list[tuple[str, float, float, str]], labels: tuple[str, str], low: set[str] | None = None
) -> bytes:
    """Each comparable area as a line from its earlier to its current score (0-100), coloured by
    the direction of the change (rose, fell, unclear: grey), labelled on both sides."""
    low = low or set()
    scores = [v for r in rows for v in r[1:3]] or [0.0, 100.0]
    top = min(100.0, max(scores)) + 4
    bottom = max(0.0, min(scores) - 8)
    gap = (top - bottom) / 16
    height = 3.6
    fig = MplFigure(figsize=(7.0, height))
    FigureCanvasAgg(fig)
    width_label = max((len(r[0]) for r in rows), default=10) + 6
    right = max(0.45, 1 - (0.25 + 0.075 * width_label) / 7.0)
    ax = fig.add_axes((0.16, 0.12, right - 0.16, 0.84))
    colour = {name: {"rose": UP, "fell": DOWN}.get(d, FLAT) for name, _, _, d in rows}
    for name, before, after, direction in rows:
        ax.plot(
            [0, 1], [before, after], color=colour[name], linewidth=2.2 if direction != "unclear" else 1.3, marker="o"
        )
    by_after = sorted(rows, key=lambda r: -r[2])
    for (name, _, after, _), y in zip(by_after, _spread([r[2] for r in by_after], gap), strict=True):
        mark = " †" if name in low else ""
        ax.text(1.05, y, f"{after:.0f}  {name}{mark}", ha="left", va="center", fontsize=8.5, color=colour[name])
    by_before = sorted(rows, key=lambda r: -r[1])
    for (name, before, _, _), y in zip(by_before, _spread([r[1] for r in by_before], gap), strict=True):
        ax.text(-0.05, y, f"{before:.0f}", ha="right", va="center", fontsize=8.5, color=colour[name])
    ax.set_xlim(-0.2, 1.0)
    ax.set_ylim(bottom - gap * len(rows) / 2, top)
    ax.set_xticks([0, 1], list(labels))
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


class ChangeSection:
    """Adds the section to a country or the regional synthesis (``builder.sections``)."""

    def __init__(self, comparison: Comparison, definition: Definition, lang: str, earlier_title: str = ""):
        self.c = comparison
        self.lang = lang
        self.t = Wording.of(definition, "change", lang)
        self.earlier_title = earlier_title or comparison.earlier_round

    def __call__(self, builder: BuilderBase, doc: Document, code: str) -> list[Figure]:
        if code == "regional":
            return self.regional(builder, doc)
        country = self.c.countries.get(code)
        if country is None:  # no returns from it in the earlier round: said, not left out silently
            doc.add(Heading(self.t("h_change")), Paragraph.of(self.t("change_no_earlier", earlier=self.earlier_title)))
            return []
        return self.country(builder, doc, country)

    # ------------------------------------------------------------------------------ a country
    def intro(self, doc: Document) -> None:
        mapping = self.c.mapping_file.rsplit("/", 1)[-1] if self.c.mapping_file else self.t("change_same_framework")
        doc.add(
            Heading(self.t("h_change")),
            Paragraph.of(self.t("change_intro", earlier=self.earlier_title, mapping=mapping)),
        )

    def country(self, b: BuilderBase, doc: Document, c: CountryChange) -> list[Figure]:
        t = self.t
        self.intro(doc)
        none = b.t("none")

        def insts(ids: list[str]) -> str:
            return ", ".join(b.institution(i) for i in ids) or none

        only_e = sorted(set(c.earlier_institutions) - set(c.later_institutions))
        only_l = sorted(set(c.later_institutions) - set(c.earlier_institutions))
        doc.add(
            Paragraph.of(t("change_respondents", common=insts(c.common), earlier=insts(only_e), later=insts(only_l)))
        )
        sentences = []
        unclear = []
        for a in c.areas:
            if not a.comparable or a.change.value is None:
                continue
            name = b.area_name(a.id, short=True)
            ch = a.change
            if ch.direction in ("rose", "fell") and ch.interval:
                sentences.append(
                    t(
                        f"change_{ch.direction}",
                        area=name,
                        s1=fmt_score(a.earlier.score),
                        s2=fmt_score(a.later.score),
                        delta=_signed(ch.value or 0.0),
                        lo=_signed(ch.interval[0]),
                        hi=_signed(ch.interval[1]),
                        p=fmt_pct(ch.p_rose),
                    )
                )
            else:
                unclear.append(f"{b.text_name(a.id)} ({_signed(ch.value or 0.0)})")
        if unclear:
            sentences.append(t("change_unclear", areas=", ".join(unclear)))
        for a in c.areas:
            if a.rank_move:
                sentences.append(
                    t(
                        "change_rank_move",
                        area=b.area_name(a.id, short=True),
                        r1=a.earlier.comparable_rank,
                        r2=a.later.comparable_rank,
                    )
                )
        tiers = [
            f"{b.text_name(a.id)} {self.tier(a.earlier.tier)} → {self.tier(a.later.tier)}"
            for a in c.areas
            if a.comparable and a.earlier.tier != a.later.tier
        ]
        if tiers:
            sentences.append(t("change_tiers", items="; ".join(tiers)))
        for a in c.areas:
            if a.respondents_only:
                sentences.append(
                    t("change_respondents_only", area=b.area_name(a.id, short=True), common=self.common_words(a))
                )
        new = [b.text_name(a.id) for a in c.areas if not a.comparable]
        if new:
            sentences.append(t("change_new_area", areas=", ".join(new)))
        doc.add(Bullets.of(sentences))
        self.table(b, doc, c)
        figure = self.chart(b, c)
        doc.add(figure)
        doc.add(Bullets.of(self.components(b, c)))
        return [figure]

    def tier(self, tier: int | None) -> str:
        return self.t(f"change_tier_{tier}" if tier in (1, 2, 3) else "change_tier_none")

    @staticmethod
    def change_cell(value: float | None, interval: tuple[float, float] | None) -> str:
        """The change and its 95% interval in one cell: "+16 (+0 … +25)"."""
        if value is None:
            return "–"
        return _signed(value) + (f" ({_signed(interval[0])} … {_signed(interval[1])})" if interval else "")

    def common_words(self, a: AreaChange) -> str:
        common = a.common
        if common.value is None:
            return self.t("change_common_none")
        delta = _signed(common.value)
        if common.direction in ("rose", "fell"):
            return self.t("change_common_opposite", delta=delta)
        return self.t("change_common_unclear", delta=delta)

    def table(self, b: BuilderBase, doc: Document, c: CountryChange) -> None:
        t = self.t
        rows = []
        for a in c.areas:
            notes = []
            if not a.comparable:
                notes.append(t("change_note_new"))
            if a.respondents_only:
                notes.append(t("change_note_respondents"))
            low = a.comparable and "low" in (a.earlier.evidence, a.later.evidence)
            if low:
                notes.append(t("change_note_low"))
            earlier = _score_cell(a.earlier.score, a.earlier.rank) if a.comparable else "–"
            name = b.area_name(a.id, short=True) + (" †" if low else "")
            rows.append(self.row(name, earlier, _score_cell(a.later.score, a.later.rank), a.change, "; ".join(notes)))
        caption = t("change_table_caption", n=b.next_table(), country=b.country(c.code))
        doc.add(self.change_table(rows, NOTES, caption, t("change_table_note")))

    def row(self, name: str, earlier: str, later: str, change: Change, last: str) -> list[str]:
        """A row of the change table: the area, its score (and rank) in each round, the change and
        its interval, the share of draws in which it rose, and the last column's text."""
        return [name, earlier, later, self.change_cell(change.value, change.interval), fmt_pct(change.p_rose), last]

    def change_table(self, rows: list[list[str]], last: LastColumn, caption: str, note: str) -> Table:
        """Both rounds side by side, a country's or the region's: the same columns but the last."""
        t = self.t
        key, width, align = last
        columns = ["change_col_area", "change_col_earlier", "change_col_later", "change_col_change", "change_col_p"]
        return Table(
            [*(t(column) for column in columns), t(key)],
            rows,
            widths=[4.6, 2.1, 2.1, 3.4, 1.6, width],
            align="lrrrr" + align,
            caption=caption,
            note=note,
        )

    def chart(self, b: BuilderBase, c: CountryChange) -> Figure:
        rows = [
            (b.area_name(a.id, short=True), a.earlier.score, a.later.score, a.change.direction)
            for a in c.areas
            if a.comparable and a.earlier.score is not None and a.later.score is not None
        ]
        low = {
            b.area_name(a.id, short=True)
            for a in c.areas
            if a.comparable and "low" in (a.earlier.evidence, a.later.evidence)
        }
        png = slope_chart(
            [(n, float(e or 0), float(lt or 0), d) for n, e, lt, d in rows],
            (self.t("change_earlier_label"), self.t("change_later_label")),
            low,
        )
        return Figure(
            png, f"{c.code}-change.png", self.t("change_chart_caption", n=b.next_figure(), country=b.country(c.code))
        )

    def components(self, b: BuilderBase, c: CountryChange) -> list[str]:
        t = self.t
        fw = b.fw

        def comp(ident: str, mark_new: bool = False) -> str:
            entry = fw.component_by_id.get(ident)
            name = text(entry.short or entry.name, self.lang) if entry else ident
            return name + (f" ({t('change_new_component')})" if mark_new and ident in c.new_components else "")

        out = []
        if c.entered:
            out.append(t("change_entered", items="; ".join(comp(x, True) for x in c.entered)))
        if c.left:
            out.append(t("change_left", items="; ".join(comp(x) for x in c.left)))
        themes = sorted(c.new_themes, key=lambda x: (-c.themes[x]["later"], x))[:6]
        if themes:
            out.append(t("change_themes", items="; ".join(f"{comp(x)} ({c.themes[x]['later']})" for x in themes)))
        faded = sorted(c.faded_themes, key=lambda x: (-c.themes[x]["earlier"], x))[:4]
        if faded:
            out.append(t("change_faded", items="; ".join(comp(x) for x in faded)))
        dropped = [x for kind in ("areas", "components", "institutions") for x in self.c.dropped.get(kind, [])]
        if dropped:
            names = [text(self.c.earlier_names[x], self.lang) if x in self.c.earlier_names else x for x in dropped]
            out.append(t("change_dropped", items="; ".join(names)))
        return out

    # ------------------------------------------------------------------------------- regional
    def regional(self, b: BuilderBase, doc: Document) -> list[Figure]:
        t = self.t
        self.intro(doc)
        rows = []
        for r in self.c.regional:
            earlier, later = _score_cell(r.earlier, r.earlier_rank), _score_cell(r.later, r.later_rank)
            countries = str(len(r.countries)) if r.countries else t("change_note_new")
            rows.append(self.row(b.area_name(r.id, short=True), earlier, later, r.change, countries))
        caption = t("change_regional_caption", n=b.next_table())
        doc.add(self.change_table(rows, COUNTRIES, caption, t("change_regional_note")))
        sentences = []
        for code, c in self.c.countries.items():
            for a in c.areas:
                if a.respondents_only:
                    words = t(
                        "change_respondents_only", area=b.area_name(a.id, short=True), common=self.common_words(a)
                    )
                    sentences.append(f"{b.country(code)}: {words}")
        if sentences:
            doc.add(Bullets.of(sentences))
        return []


def change_section(earlier_root: Path, ws: Workspace, lang: str, mapping: Path | None = None) -> ChangeSection:
    """The section comparing workspace ``ws`` with the earlier round at ``earlier_root``."""
    from consult.analysis.compare import compare_rounds, load_rounds

    before, after, found = load_rounds(earlier_root, ws.root, mapping)
    comparison = compare_rounds(before, after, found)
    title = open_workspace(earlier_root).title_in(lang)
    return ChangeSection(comparison, after.definition, lang, f"{title}, {before.round}")
