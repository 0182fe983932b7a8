"""Per-signal histograms of the report, drawn straight onto a Pillow image as PNG.

A run has dozens of signal columns (31 for web text through lid, Gopher, C4 and FineWeb),
each a small histogram: drawn with matplotlib they cost about 45 ms each (ticks, text
layout), most of the fixed cost of a small run. This module draws the same chart — bars of
documents kept and removed by the step, stacked; the step's thresholds as dashed red
lines; the calibration reference outlined per language; a log x axis for values spanning
more than 50x — with Pillow's primitives and the DejaVu Sans font that matplotlib ships, in
about 2 ms.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from gristmill.report.drawing import COLORS, font, nice_ticks, tick_label, to_png, turned_text

THRESHOLD_COLOR = "#c0392b"
#: 4.2 x 2.5 inches at 72 dpi, the size the report's grid lays out
WIDTH, HEIGHT = 302, 180
LEFT, RIGHT, TOP = 44, 8, 20


class _Plot:
    """Data-to-pixel mapping of one chart's plot area."""

    def __init__(self, x_low: float, x_high: float, y_high: float, log_x: bool, bottom: int):
        self.log_x = log_x
        self.x_low, self.x_high = (
            (math.log10(x_low), math.log10(x_high)) if log_x else (x_low, x_high)
        )
        self.y_high = y_high
        self.box = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - bottom)

    def x(self, value: float) -> float:
        value = math.log10(max(value, 1e-300)) if self.log_x else value
        left, _, right, _ = self.box
        span = (self.x_high - self.x_low) or 1.0
        return left + (value - self.x_low) / span * (right - left)

    def y(self, value: float) -> float:
        _, top, _, bottom = self.box
        return bottom - value / (self.y_high or 1.0) * (bottom - top)


def _frame(draw: ImageDraw.ImageDraw, plot: _Plot, title: str) -> None:
    left, top, right, bottom = plot.box
    draw.rectangle(plot.box, outline="black", width=1)
    draw.text(((left + right) / 2, top - 4), title, fill="black", font=font(9), anchor="ms")
    for tick in nice_ticks(0, plot.y_high, 4):
        y = plot.y(tick)
        draw.line((left - 3, y, left, y), fill="black")
        draw.text((left - 5, y), tick_label(tick), fill="black", font=font(7), anchor="rm")


def _y_label(image: Image.Image, bottom: int) -> None:
    turned = turned_text("documents", 8, 90)
    image.paste(turned, (2, int((TOP + HEIGHT - bottom - turned.height) / 2)), turned)


def _x_ticks(draw: ImageDraw.ImageDraw, plot: _Plot, low: float, high: float) -> None:
    if plot.log_x:
        ticks = [
            10.0**k for k in range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)
        ]
    else:
        ticks = nice_ticks(low, high, 5)
    _, _, _, bottom = plot.box
    for tick in ticks:
        x = plot.x(tick)
        if plot.box[0] - 0.5 <= x <= plot.box[2] + 0.5:
            draw.line((x, bottom, x, bottom + 3), fill="black")
            draw.text((x, bottom + 4), tick_label(tick), fill="black", font=font(7), anchor="mt")


def _legend(draw: ImageDraw.ImageDraw, plot: _Plot, entries: list[tuple[str, str, bool]]) -> None:
    """Entries ``(label, colour, filled)`` stacked at the plot's top right."""
    _, top, right, _ = plot.box
    face = font(7)
    width = max(int(face.getlength(label)) for label, _, _ in entries) + 20
    for row, (label, color, filled) in enumerate(entries):
        y = top + 5 + row * 10
        x = right - width - 4
        draw.rectangle((x, y, x + 11, y + 6), fill=color if filled else None, outline=color)
        draw.text((x + 15, y + 3), label, fill="black", font=face, anchor="lm")


def categories_png(title: str, counts: list[tuple[str, int]]) -> bytes:
    """Bars of the most frequent categories, labels turned 60 degrees below them."""
    bottom = 40
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    plot = _Plot(-0.5, len(counts) - 0.5, max(value for _, value in counts) * 1.05, False, bottom)
    for position, (_, value) in enumerate(counts):
        draw.rectangle((plot.x(position - 0.4), plot.y(value), plot.x(position + 0.4),
                        plot.y(0)), fill=COLORS[0])  # fmt: skip
    _frame(draw, plot, title)
    for position, (label, _) in enumerate(counts):
        turned = turned_text(str(label)[:10], 7, 60)
        x = plot.x(position)
        image.paste(turned, (int(x - turned.width + 4), plot.box[3] + 2), turned)
    _y_label(image, bottom)
    return to_png(image)


def numeric_png(
    title: str,
    lefts: list[float],
    widths: list[float],
    kept: list[int],
    removed: list[int],
    thresholds: list[float],
    reference: dict[str, list[float]],
) -> bytes:
    """Bins ``[left, left + width)`` of kept and removed documents, stacked; thresholds
    dashed; the reference quantiles per language as outlined bars scaled to the run's
    documents."""
    bottom = 18
    right_end = max(left + width for left, width in zip(lefts, widths, strict=True))
    log_x = min(lefts) > 0 and right_end / min(lefts) > 50
    total = sum(kept) + sum(removed)
    outlines = _reference_heights(reference, lefts, widths, total)
    marks = [t for t in thresholds if math.isfinite(t)]
    low = (
        min([min(lefts), *marks]) if not log_x else min([min(lefts), *[t for t in marks if t > 0]])
    )
    high = max([right_end, *marks])
    margin = 0.0 if log_x else (high - low) * 0.04
    y_high = max([k + r for k, r in zip(kept, removed, strict=True)]
                 + [max(h) for _, h in outlines]) * 1.05  # fmt: skip
    x_low, x_high = (low / 1.3, high * 1.3) if log_x else (low - margin, high + margin)
    plot = _Plot(x_low, x_high, y_high, log_x, bottom)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    for left, width, kept_count, removed_count in zip(lefts, widths, kept, removed, strict=True):
        x0, x1 = plot.x(left), max(plot.x(left + width) - 1, plot.x(left) + 1)
        draw.rectangle((x0, plot.y(kept_count), x1, plot.y(0)), fill=COLORS[0])
        if removed_count:
            draw.rectangle((x0, plot.y(kept_count + removed_count), x1, plot.y(kept_count)),
                           fill=COLORS[1])  # fmt: skip
    for number, (_, heights) in enumerate(outlines):
        color = COLORS[(number + 1) % len(COLORS)]
        for left, width, height in zip(lefts, widths, heights, strict=True):
            if height > 0:
                draw.rectangle((plot.x(left), plot.y(height), plot.x(left + width), plot.y(0)),
                               outline=color)  # fmt: skip
    _, top, _, plot_bottom = plot.box
    for threshold in marks:
        x = plot.x(threshold)
        if not plot.box[0] <= x <= plot.box[2]:
            continue  # not on a log axis (a threshold at or below zero)
        for y in range(top, plot_bottom, 6):
            draw.line((x, y, x, min(y + 3, plot_bottom)), fill=THRESHOLD_COLOR, width=1)
    _frame(draw, plot, title)
    _x_ticks(draw, plot, x_low, x_high)
    entries = [("kept", COLORS[0], True)]
    if any(removed):
        entries.append(("removed", COLORS[1], True))
    entries += [(f"reference {language}", COLORS[(number + 1) % len(COLORS)], False)
                for number, (language, _) in enumerate(outlines)]  # fmt: skip
    if len(entries) > 1:
        _legend(draw, plot, entries)
    _y_label(image, bottom)
    return to_png(image)


def _reference_heights(
    reference: dict[str, list[float]], lefts: list[float], widths: list[float], total: float
) -> list[tuple[str, list[float]]]:
    """Per language, the reference's share of each bin (from its quantiles, interpolated)
    times the run's document count."""
    outlines = []
    edges = np.asarray(lefts, dtype=np.float64)
    for language, quantiles in sorted(reference.items()):
        points = np.asarray(quantiles, dtype=np.float64)
        probabilities = np.linspace(0.0, 1.0, len(points))
        cdf_left = np.interp(edges, points, probabilities, left=0.0, right=1.0)
        cdf_right = np.interp(
            edges + np.asarray(widths), points, probabilities, left=0.0, right=1.0
        )
        outlines.append((language, ((cdf_right - cdf_left) * total).tolist()))
    return outlines


def single_bin(summary: dict[str, Any]) -> bool:
    """All values in one bin (a constant, a boolean that never varies): a histogram would
    show one bar, so the report states the value instead."""
    if summary["kind"] == "numeric":
        return len(summary["bins"]) <= 1
    if summary["kind"] == "categorical":
        return len(summary["counts"]) <= 1
    return True


def signal_chart(column: str, summary: dict[str, Any]) -> bytes | None:
    """A histogram of one signal (see the module) as PNG; None for a single-bin signal."""
    if single_bin(summary):
        return None
    if summary["kind"] == "categorical":
        items = sorted(summary["counts"].items(), key=lambda item: -item[1])[:20]
        return categories_png(column, items)
    edges = summary["edges"]
    removed_bins = summary.get("removed_bins", {})
    used = sorted(int(i) for i in summary["bins"])
    low_edge = edges[used[0]] if edges[used[0]] is not None else (summary["min"] or 0.0)
    lefts, widths, kept, removed = [], [], [], []
    for index in used:
        left = edges[index] if edges[index] is not None else low_edge
        right = edges[index + 1] if edges[index + 1] is not None else (summary["max"] or left) + 1
        lefts.append(left)
        widths.append(max(right - left, 1e-9))
        gone = removed_bins.get(str(index), 0)
        removed.append(gone)
        kept.append(summary["bins"][str(index)] - gone)
    return numeric_png(column, lefts, widths, kept, removed, list(summary.get("thresholds", [])),
                       summary.get("reference", {}))  # fmt: skip
