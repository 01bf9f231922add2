"""What changed since the last consultation: two rounds compared through a declared mapping.

Both rounds are read in the later definitions' ids (:mod:`consult.definitions.mapping`), with
the later framework's weights and the later keyword taxonomy, so that a change is a change of
answers, not of weights or keywords. For each country and area (docs/methodology.md, "Change
since the last consultation", states the rules for readers):

* an institution's **mapped rating** of a later area is the mean of its ratings of the earlier
  areas that map onto it (merged areas: one institution counts once); a ``split_into`` with
  rule ``copy`` gives each part the earlier rating; ``none`` gives the parts no earlier figure;
  components alike; ranking points of a split component are shared equally among its parts;
* the **score** of each round is the method's weighted mean, its **rank** the method's rule
  (score, Borda points, n, framework order; sufficient evidence only);
* the **change** is later minus earlier; its uncertainty comes from the rankings' resampling:
  the institutions of each round are resampled with replacement (2,000 draws, fixed seed, the
  two rounds independently, since they are two samples), the change is computed in every draw,
  and we report P(the score rose) (share of draws with a positive change) and the 2.5-97.5
  percentile interval of the change. A change is **clear** when P(rose) >= 0.9 (rose) or <= 0.1
  (fell);
* **respondents**: the institutions that answered in both rounds (earlier ids mapped); the
  change is computed again on them alone, and a clear change that is not also clear, in the
  same direction, on the common institutions is said to come from a different set of
  respondents;
* **themes**: keyword-taxonomy mentions per area and component in each round's free text; a
  component mentioned now and never in the earlier round is a new theme.

The package is cut by responsibility; every name is importable from ``consult.analysis.compare``
itself: :mod:`~consult.analysis.compare.rounds` (a round read in the later ids:
:class:`MappedCountry`, :func:`map_country`; both rounds loaded, :func:`load_rounds`),
:mod:`~consult.analysis.compare.figures` (an area's :class:`Side` in a round, the resampled
scores, the :class:`Change`), :mod:`~consult.analysis.compare.changes` (the result records:
:class:`AreaChange`, :class:`CountryChange`, :class:`RegionalChange`, :class:`Comparison`) and
:mod:`~consult.analysis.compare.engine` (:func:`compare_country`, :func:`compare_rounds`,
:func:`compare_workspaces`).
"""

from __future__ import annotations

from consult.analysis.compare.changes import AreaChange, Comparison, CountryChange, RegionalChange
from consult.analysis.compare.engine import (
    STREAM_EARLIER,
    STREAM_LATER,
    TOP_COMPONENTS,
    compare_country,
    compare_rounds,
    compare_workspaces,
)
from consult.analysis.compare.figures import CLEAR, Change, FloatArray, Side
from consult.analysis.compare.rounds import MappedCountry, load_rounds, map_country

__all__ = [
    "CLEAR",
    "STREAM_EARLIER",
    "STREAM_LATER",
    "TOP_COMPONENTS",
    "AreaChange",
    "Change",
    "Comparison",
    "CountryChange",
    "FloatArray",
    "MappedCountry",
    "RegionalChange",
    "Side",
    "compare_country",
    "compare_rounds",
    "compare_workspaces",
    "load_rounds",
    "map_country",
]
