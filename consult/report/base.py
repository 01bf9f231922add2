"""What both syntheses rest on: the round and its scores in one language, and the pieces
every document uses (names, choice labels, quotes, the cover, the contents and abbreviations,
the method annex).

The documents themselves are built by :mod:`consult.report.country` (one per country) and
:mod:`consult.report.regional` (the comparison of countries), each a set of sections over this
base; :class:`consult.report.synthesis.Builder` joins them. Answers are selected by the role
their question declares (``consult.definitions.roles``), never by a question id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from consult.analysis.data import CountryData, RoundData
from consult.analysis.results import ScoreResult
from consult.analysis.robustness import CountryRobustness
from consult.definitions.framework import Framework, text
from consult.definitions.questionnaire import Question, Section
from consult.definitions.wording import Wording
from consult.errors import ConsultError
from consult.report.document import Bullets, Contents, Document, Figure, Heading, Paragraph, Quote, Table
from consult.report.formats import bold_runs, plain_label, quote_language
from consult.report.translations import quote_id
from consult.store import AnswerRow

REGIONAL = "regional"  # the job and file-name stem of the regional synthesis


class NoReturnsError(ConsultError):
    """A country was asked for but has nothing to synthesize."""


# A section of its own module (e.g. consult.report.change): called with the builder, the
# document and a country code (or REGIONAL) after the area ranking; returns its figures.
ExtraSection = Callable[["BuilderBase", Document, str], list[Figure]]


class BuilderBase:
    """The round, its scores and the wording of one language; the pieces both documents use."""

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
        self.t = Wording.of(data.definition, "report", lang)
        self.tables = 0
        self.figures = 0
        self.questions = {
            q.id: (sec, q) for sec in self.definition.questionnaire.sections for q in sec.questions
        }  # by question id: labels and choice lists of answers
        # sections built by their own modules (e.g. consult.report.change), each called with
        # (builder, document, country code or "regional") after the area ranking
        self.sections: list[ExtraSection] = []

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
        return self.t.date(iso)

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
                doc.add(Paragraph(bold_runs(" ".join(para))))
                para.clear()
            if bullets:
                doc.add(Bullets([bold_runs(b) for b in bullets]))
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
        """Names in a sentence: «A», «B» и «C» in Russian, A, B and C in English; unquoted names
        that hold the word "and" themselves are listed with commas only ("Research and forensics
        and Justice" would read as three names)."""
        marked = quoted and self.lang == "ru"
        if marked:
            names = [f"«{n}»" for n in names]
        if len(names) <= 1:
            return "".join(names)
        word = self.t("and")
        if not marked and any(f" {word} " in f" {n} " for n in names):
            return ", ".join(names)
        return f"{', '.join(names[:-1])} {word} {names[-1]}"

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

    def robustness(self, code: str) -> CountryRobustness | None:
        rob = self.result.robustness
        return rob.countries.get(code) if rob else None

    def short_name(self, area_id: str) -> str:
        return self.area_name(area_id, short=True)

    def text_name(self, area_id: str) -> str:
        """An area's short name in running text, as :meth:`join` writes names: «Терроризм» in
        Russian (a name, capitalised, so quoted), Terrorism in English."""
        return self.join([self.short_name(area_id)])
