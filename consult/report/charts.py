"""Charts for the syntheses, as PNG bytes (matplotlib, Agg backend: no display needed).

Deterministic output (fixed size and DPI, no software/date metadata) so that re-running a
synthesis on the same store gives the same files.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DPI = 150
BAR = "#1F4E79"
LOW = "#9DB7D5"


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def area_chart(scores: list[tuple[str, float | None, bool]]) -> bytes:
    """Horizontal bars of area scores in ranked order; low-evidence bars lighter and hatched.
    No title: the document's caption names the figure (a title in the image would repeat it)."""
    labels = [name for name, _, _ in scores][::-1]
    values = [value or 0.0 for _, value, _ in scores][::-1]
    lows = [low for _, _, low in scores][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(labels) + 1.2))
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
    fig, ax = plt.subplots(figsize=(1.1 * len(countries) + 3.5, 0.5 * len(areas) + 1.5))
    image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(countries)), countries)
    ax.set_yticks(range(len(areas)), areas)
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if v is not None:
                label = f"{v:.0f}" + (" †" if low[i][j] else "")
                ax.text(j, i, label, ha="center", va="center", fontsize=9, color="white" if v > 60 else "black")
    ax.tick_params(axis="x", labelrotation=30 if len(countries) > 4 else 0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return _png(fig)
