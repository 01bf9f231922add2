"""What the robustness figures allow a drafter to say, as data and as sentences.

``consult score`` and the syntheses must say the same thing, in every language, and nothing
the data do not support. This module turns the figures of docs/methodology.md section 13 into
findings (which areas lead, trail, are tied; whether first place is settled; what non-response
could change; agreement; the rater-adjustment check) and renders them through wording keys
(``words_*`` in report.yaml) so that an office can reword them. Every word is derived from
exact probabilities or fixed-stream Monte Carlo figures, thresholds 0.95 / 0.05, so the
sentences are the same for every ``--seed``. Probabilities are printed floored to two decimals
(a "≥ 0.95" is never rounded up into truth) and at most 0.99.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from consult.analysis.agreement import Agreement
from consult.analysis.probabilities import SEPARATE

FIRST_SETTLED = 0.95  # first place is stated when P(first) reaches this
CONTENDER = 0.05  # an area with at least this P(first) is named as a contender for first place

Text = Callable[..., str]  # a wording lookup: key and format fields -> text in the document's language


class AreaFigures(Protocol):
    @property
    def area(self) -> str: ...
    @property
    def tier(self) -> int | None: ...
    @property
    def p_first(self) -> float | None: ...
    @property
    def p_top3(self) -> float | None: ...
    @property
    def p_above_next(self) -> float | None: ...


@dataclass(frozen=True)
class RankingFindings:
    leading: tuple[str, ...]
    middle: tuple[str, ...]
    trailing: tuple[str, ...]
    leading_p: float | None  # smallest P(top 3) among the leading areas
    trailing_p: float | None  # smallest P(not top 3) among the trailing areas
    first: str | None  # the area first with P >= FIRST_SETTLED
    first_p: float | None
    contenders: tuple[tuple[str, float], ...]  # (area, P(first)) when first place is open
    ties: tuple[tuple[str, ...], ...]  # runs of neighbours in one tier the data cannot order

    def to_dict(self) -> dict[str, Any]:
        return {
            "leading": list(self.leading),
            "middle": list(self.middle),
            "trailing": list(self.trailing),
            "leading_p": self.leading_p,
            "trailing_p": self.trailing_p,
            "first": self.first,
            "first_p": self.first_p,
            "contenders": [list(c) for c in self.contenders],
            "ties": [list(t) for t in self.ties],
        }


def ranking_findings(areas: Sequence[AreaFigures]) -> RankingFindings:
    """Findings from the ranked areas in the method's order (areas without a tier are skipped)."""
    ranked = [a for a in areas if a.tier is not None]
    lead = [a for a in ranked if a.tier == 1]
    trail = [a for a in ranked if a.tier == 3]
    first = next((a for a in ranked if (a.p_first or 0) >= FIRST_SETTLED), None)
    contenders = () if first else tuple((a.area, a.p_first or 0.0) for a in ranked if (a.p_first or 0) >= CONTENDER)
    ties: list[tuple[str, ...]] = []
    run: list[str] = []
    for i, a in enumerate(ranked):
        nxt = ranked[i + 1] if i + 1 < len(ranked) else None
        run.append(a.area)
        if nxt is None or nxt.tier != a.tier or (a.p_above_next or 0) >= SEPARATE:
            if len(run) > 1:
                ties.append(tuple(run))
            run = []
    return RankingFindings(
        leading=tuple(a.area for a in lead),
        middle=tuple(a.area for a in ranked if a.tier == 2),
        trailing=tuple(a.area for a in trail),
        leading_p=min((a.p_top3 or 0.0 for a in lead), default=None),
        trailing_p=min((1.0 - (a.p_top3 or 0.0) for a in trail), default=None),
        first=first.area if first else None,
        first_p=first.p_first if first else None,
        contenders=tuple(sorted(contenders, key=lambda c: -c[1])),
        ties=tuple(ties),
    )


def floor2(p: float) -> float:
    """A probability for a "≥" statement: floored to two decimals, at most 0.99."""
    return min(math.floor(p * 100 + 1e-9) / 100, 0.99)


def fmt_p(p: float, t: Text) -> str:
    """Two decimals, the language's decimal sign, a true minus sign (alpha can be negative)."""
    return f"{p:.2f}".replace(".", t("words_decimal")).replace("-", "−")


def join(names: Sequence[str], t: Text) -> str:
    """ "a", "a and b", "a, b and c" in the document's language."""
    if len(names) <= 1:
        return "".join(names)
    word = t("words_and")
    if any(f" {word.strip()} " in f" {n} " for n in names):  # "Research and forensics and Justice" is ambiguous
        return ", ".join(names)
    return ", ".join(names[:-1]) + word + names[-1]


def ranking_sentences(f: RankingFindings, t: Text, name: Callable[[str], str]) -> list[str]:
    """The ranking summary: tiers first, then first place, then ties."""
    parts = []
    if f.leading:
        key = "words_leading_one" if len(f.leading) == 1 else "words_leading_many"
        parts.append(t(key, areas=join([name(a) for a in f.leading], t), p=fmt_p(floor2(f.leading_p or 0), t)))
    if f.trailing:
        key = "words_trailing_one" if len(f.trailing) == 1 else "words_trailing_many"
        parts.append(t(key, areas=join([name(a) for a in f.trailing], t), p=fmt_p(floor2(f.trailing_p or 0), t)))
    out = parts
    if not f.leading and not f.trailing and (f.middle or f.contenders):
        out.append(t("words_no_tiers"))
    if f.first:
        out.append(t("words_first", area=name(f.first), p=fmt_p(floor2(f.first_p or 0), t)))
    elif len(f.contenders) > 1:
        listed = ", ".join(f"{name(a)} {fmt_p(p, t)}" for a, p in f.contenders)
        out.append(t("words_first_open", areas=listed))
    if f.ties:
        out.append(t("words_tied", groups="; ".join(join([name(a) for a in run], t) for run in f.ties)))
    return out


def non_response_sentence(
    areas: Sequence[Any], responded: int, invited: int, t: Text, name: Callable[[str], str]
) -> str | None:
    """One sentence with the response rate and the areas whose tier non-response could change
    (``areas``: objects with ``area``, ``tier`` and ``non_response``)."""
    if not invited or responded >= invited:
        return None
    rate = f"{responded / invited * 100:.0f}%"
    could = [a for a in areas if a.tier is not None and a.non_response and a.non_response.tier_could_change]
    missing = invited - responded
    if not could:
        return t("words_nonresponse_none", missing=missing, invited=invited, rate=rate)
    ranges = ", ".join(f"{name(a.area)} {a.non_response.low:.0f}–{a.non_response.high:.0f}" for a in could)
    return t("words_nonresponse", missing=missing, invited=invited, rate=rate, ranges=ranges)


def agreement_sentence(agreement: Agreement, t: Text) -> str | None:
    alpha = agreement.krippendorff_alpha_ordinal
    if alpha is None:
        return None
    if agreement.interval is None:
        return t("words_alpha_point", alpha=fmt_p(alpha, t), raters=agreement.raters)
    lo, hi = agreement.interval
    return t("words_alpha", alpha=fmt_p(alpha, t), low=fmt_p(lo, t), high=fmt_p(hi, t), raters=agreement.raters)


def adjustment_sentence(
    adjusted: Sequence[str] | None, method: Sequence[str], changes: bool, t: Text, name: Callable[[str], str]
) -> str | None:
    if not changes or not adjusted:
        return None
    return t(
        "words_adjusted",
        adjusted=join([name(a) for a in adjusted[:3]], t),
        method=join([name(a) for a in method[:3]], t),
    )
