"""PNG charts of a run's stats (matplotlib figures on the Agg canvas: no display needed).

Figures are made without ``pyplot`` (no figure manager, nothing to close). The per-signal
histograms, a run's most numerous charts, are drawn by :mod:`gristmill.report.signal_charts`
(Pillow, about 20x cheaper than a matplotlib figure each).
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gristmill.report.signal_charts import COLORS, signal_chart, single_bin

__all__ = ["funnel_chart", "mixture_chart", "reasons_chart", "signal_chart", "single_bin"]


def _subplots(figsize: tuple[float, float], columns: int = 1):
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, columns, squeeze=False)


def _png(figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def funnel_chart(stats: dict[str, Any]) -> bytes:
    """Documents left after each stage, one panel per source."""
    sources = list(stats["sources"].items())
    figure, axes = _subplots((4.2 * max(1, len(sources)), 3.4), max(1, len(sources)))
    for index, (name, source) in enumerate(sources):
        axis = axes[0][index]
        stages = source["stages"]
        labels = ["records"] + [stage["stage"] for stage in stages]
        values = [stages[0]["docs_in"] if stages else 0] + [stage["docs_out"] for stage in stages]
        axis.bar(range(len(values)), values, color=COLORS[index % len(COLORS)])
        for position, value in enumerate(values):
            axis.text(position, value, f"{value:,}", ha="center", va="bottom", fontsize=8)
        axis.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
        title = f"{name}: documents"
        if source.get("tokens"):
            title += f" ({source['tokens']:,} tokens out)"
        axis.set_title(title, fontsize=10)
        axis.set_ylim(0, max(values + [1]) * 1.15)
    figure.suptitle("Funnel: documents through the stages", fontsize=11, y=1.04)
    return _png(figure)


def reasons_chart(stats: dict[str, Any]) -> bytes | None:
    rows = [
        (f"{name} · {reason}", count, index)
        for index, (name, source) in enumerate(stats["sources"].items())
        for stage in source["stages"]
        for reason, count in stage["removed"].items()
    ]
    if not rows:
        return None
    rows.sort(key=lambda row: row[1])
    figure, axes = _subplots((7.5, 0.32 * len(rows) + 1.2))
    axis = axes[0][0]
    axis.barh(
        [row[0] for row in rows],
        [row[1] for row in rows],
        color=[COLORS[row[2] % len(COLORS)] for row in rows],
    )
    for position, row in enumerate(rows):
        axis.text(row[1], position, f" {row[1]:,}", va="center", fontsize=8)
    axis.set_xlabel("documents removed")
    axis.set_title("Removal reasons", fontsize=11)
    axis.tick_params(axis="y", labelsize=8)
    return _png(figure)


def mixture_chart(weights: dict[str, float], realised: dict[str, float]) -> bytes | None:
    names = sorted(set(weights) | set(realised))
    if not names:
        return None
    figure, axes = _subplots((5.5, 3))
    axis = axes[0][0]
    positions = range(len(names))
    axis.bar(
        [p - 0.2 for p in positions],
        [weights.get(n, 0) for n in names],
        0.4,
        label="weight",
        color=COLORS[0],
    )
    axis.bar(
        [p + 0.2 for p in positions],
        [realised.get(n, 0) for n in names],
        0.4,
        label="realised token share",
        color=COLORS[1],
    )
    axis.set_xticks(list(positions), names)
    axis.legend(fontsize=8)
    axis.set_title("Mixture: configured weights vs realised tokens", fontsize=10)
    return _png(figure)
