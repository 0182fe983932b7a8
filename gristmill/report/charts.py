"""PNG charts of a run's stats (matplotlib figures on the Agg canvas: no display needed).

Figures are made without ``pyplot`` (no figure manager, nothing to close). The per-signal
histograms, a run's most numerous charts, are drawn on one reused figure of fixed margins
(:class:`SignalCanvas`): text metrics are cached per canvas, and no second layout pass is
needed to trim the margins, which made them about 2.5x cheaper to draw.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

COLORS = ["#3b6ea8", "#d9822b", "#4d9a5b", "#b04a5a", "#7b5ea7", "#8c6d46", "#5aa3a3"]


def _subplots(figsize: tuple[float, float], columns: int = 1):
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, columns, squeeze=False)


def _png(figure, dpi: int = 110, tight: bool = True) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buffer.getvalue()


class SignalCanvas:
    """One figure for a series of signal histograms, cleared between them. Its margins are
    fixed: room for the title, the y label, and rotated category labels below."""

    def __init__(self) -> None:
        self.figure, axes = _subplots((4.2, 2.5))
        self.axis = axes[0][0]
        self.figure.subplots_adjust(left=0.16, right=0.97, bottom=0.2, top=0.88)

    def clear(self):
        self.axis.clear()  # keeps tick parameters: reset those a chart may change
        self.axis.set_xscale("linear")
        self.axis.tick_params(axis="x", rotation=0)
        return self.axis


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


def single_bin(summary: dict[str, Any]) -> bool:
    """All values in one bin (a constant, a boolean that never varies): a histogram would
    show one bar, so the report states the value instead."""
    if summary["kind"] == "numeric":
        return len(summary["bins"]) <= 1
    if summary["kind"] == "categorical":
        return len(summary["counts"]) <= 1
    return True


def signal_chart(
    column: str, summary: dict[str, Any], dpi: int = 72, canvas: SignalCanvas | None = None
) -> bytes | None:
    """A histogram of one signal, documents kept and removed by the step stacked in two
    colours; the step's thresholds as dashed red lines. None for a single-bin signal. Pass
    the same ``canvas`` to draw a series of them cheaply."""
    if single_bin(summary):
        return None
    canvas = canvas or SignalCanvas()
    axis = canvas.clear()
    if summary["kind"] == "categorical":
        items = sorted(summary["counts"].items(), key=lambda item: -item[1])[:20]
        axis.bar([k for k, _ in items], [v for _, v in items], color=COLORS[0])
        axis.tick_params(axis="x", rotation=60, labelsize=6)
    else:
        edges = summary["edges"]
        removed_bins = summary.get("removed_bins", {})
        used = sorted(int(i) for i in summary["bins"])
        low_edge = edges[used[0]] if edges[used[0]] is not None else (summary["min"] or 0.0)
        lefts, widths, kept, removed = [], [], [], []
        for index in used:
            left = edges[index] if edges[index] is not None else low_edge
            right = (
                edges[index + 1] if edges[index + 1] is not None else (summary["max"] or left) + 1
            )
            lefts.append(left)
            widths.append(max(right - left, 1e-9))
            gone = removed_bins.get(str(index), 0)
            removed.append(gone)
            kept.append(summary["bins"][str(index)] - gone)
        style = {"width": widths, "align": "edge", "edgecolor": "white"}
        axis.bar(lefts, kept, color=COLORS[0], label="kept", **style)
        if any(removed):
            axis.bar(lefts, removed, bottom=kept, color=COLORS[1], label="removed", **style)
            axis.legend(fontsize=7, frameon=False)
        right_end = max(left + width for left, width in zip(lefts, widths, strict=True))
        if lefts and min(lefts) > 0 and right_end / min(lefts) > 50:
            axis.set_xscale("log")
            axis.xaxis.set_minor_formatter(NullFormatter())
        _draw_reference(axis, summary, lefts, widths, sum(kept) + sum(removed))
        for threshold in summary.get("thresholds", []):
            axis.axvline(threshold, color="#c0392b", linestyle="--", linewidth=1.2)
    axis.set_title(column, fontsize=9, y=1.0)  # a fixed place: no layout pass to find one
    axis.set_ylabel("documents", fontsize=8)
    axis.tick_params(labelsize=7)
    return _png(canvas.figure, dpi, tight=False)


def _draw_reference(axis, summary: dict[str, Any], lefts, widths, total: float) -> None:
    """Outline the reference text's distribution per language (its quantiles, from the
    calibration file) over the run's bins, scaled to the run's document count."""
    for number, (language, quantiles) in enumerate(sorted(summary.get("reference", {}).items())):
        points = np.asarray(quantiles, dtype=np.float64)
        probabilities = np.linspace(0.0, 1.0, len(points))
        edges = np.asarray(lefts, dtype=np.float64)
        cdf_left = np.interp(edges, points, probabilities, left=0.0, right=1.0)
        cdf_right = np.interp(
            edges + np.asarray(widths), points, probabilities, left=0.0, right=1.0
        )
        axis.bar(lefts, (cdf_right - cdf_left) * total, width=widths, align="edge", fill=False,
                 edgecolor=COLORS[(number + 1) % len(COLORS)], linewidth=1.2,
                 label=f"reference {language}")  # fmt: skip
    if summary.get("reference"):
        axis.legend(fontsize=7)


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
