"""Charts for the syntheses, as PNG bytes (matplotlib, Agg backend: no display needed).

Deterministic output (fixed size and DPI, no software/date metadata) so that re-running a
synthesis on the same store gives the same files.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 150
BAR = "#1F4E79"
LOW = "#9DB7D5"


CHAR_IN = 0.092  # width of a (Cyrillic, DejaVu Sans) label character at 10 pt, in inches


def _figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas without pyplot (no global state, no GUI, and pyplot's import
    alone costs about a second)."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    """PNG bytes with fixed margins (``bbox_inches="tight"`` would draw everything twice)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def area_chart(scores: list[tuple[str, float | None, bool]]) -> bytes:
    """Horizontal bars of area scores in ranked order; low-evidence bars lighter and hatched.
    No title: the document's caption names the figure (a title in the image would repeat it)."""
    labels = [name for name, _, _ in scores][::-1]
    values = [value or 0.0 for _, value, _ in scores][::-1]
    lows = [low for _, _, low in scores][::-1]
    height = 0.45 * len(labels) + 0.9
    fig = _figure(7.0, height)
    left = min(0.55, (0.3 + CHAR_IN * max((len(x) for x in labels), default=1)) / 7.0)
    ax = fig.add_axes((left, 0.55 / height, 0.93 - left, 1 - 0.75 / height))
    bars = ax.barh(labels, values, color=[LOW if low else BAR for low in lows])
    for bar, low, (_, value, _) in zip(bars, lows, scores[::-1], strict=True):
        if low:
            bar.set_hatch("//")
        ax.text(
            bar.get_width() + 1,
            bar.get_y() + bar.get_height() / 2,
            "–" if value is None else f"{value:.0f}" + (" †" if low else ""),
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, 110)
    ax.set_xlabel("0-100")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def heatmap(areas: list[str], countries: list[str], values: list[list[float | None]], low: list[list[bool]]) -> bytes:
    """Areas x countries (country names), annotated with the scores, † where evidence is low;
    blank where a country gave no rating."""
    grid = [[float("nan") if v is None else v for v in row] for row in values]
    label_in = 0.3 + CHAR_IN * max((len(x) for x in areas), default=1)
    width, height = 1.1 * len(countries) + label_in + 1.3, 0.5 * len(areas) + 1.4
    fig = _figure(width, height)
    bottom = (0.9 if len(countries) > 4 else 0.5) / height
    ax = fig.add_axes((label_in / width, bottom, (width - label_in - 1.3) / width, 1 - bottom - 0.2 / height))
    cax = fig.add_axes(((width - 1.0) / width, bottom, 0.18 / width, 1 - bottom - 0.2 / height))
    image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(countries)), countries)
    ax.set_yticks(range(len(areas)), areas)
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if v is not None:
                label = f"{v:.0f}" + (" †" if low[i][j] else "")
                ax.text(j, i, label, ha="center", va="center", fontsize=9, color="white" if v > 60 else "black")
    ax.tick_params(axis="x", labelrotation=30 if len(countries) > 4 else 0)
    fig.colorbar(image, cax=cax)
    return _png(fig)
