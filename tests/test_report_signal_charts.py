"""The report's signal histograms (Pillow): a PNG of the report's size, with its marks."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gristmill.report.signal_charts import (
    COLORS,
    HEIGHT,
    THRESHOLD_COLOR,
    WIDTH,
    nice_ticks,
    signal_chart,
)


@pytest.mark.parametrize(("low", "high"), [(0, 1), (0, 97), (3.2, 10.1), (0, 1e6), (-5, 5)])
def test_nice_ticks_cover_the_range_in_round_steps(low, high) -> None:
    ticks = nice_ticks(low, high)
    assert low <= ticks[0] and ticks[-1] <= high
    assert 3 <= len(ticks) <= 11
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    (step,) = steps
    mantissa = step / 10 ** int(f"{step:e}".split("e")[1])
    assert round(mantissa, 6) in (1, 2, 2.5, 5)


def _pixels(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    return image


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def test_a_numeric_signal_shows_kept_removed_and_its_threshold() -> None:
    summary = {
        "kind": "numeric",
        "edges": [0.0, 1.0, 2.0, 3.0, 4.0],
        "bins": {"0": 5, "1": 9, "3": 2},
        "removed_bins": {"0": 5, "1": 1},
        "min": 0.2,
        "max": 3.9,
        "thresholds": [1.5],
    }
    colors = {color for _, color in _pixels(signal_chart("web · x", summary)).getcolors(10**6)}
    assert {_rgb(COLORS[0]), _rgb(COLORS[1]), _rgb(THRESHOLD_COLOR)} <= colors


def test_a_categorical_signal_is_bars_and_a_flat_one_is_no_chart() -> None:
    summary = {"kind": "categorical", "counts": {"en": 20, "de": 2, "fr": 1}}
    colors = {color for _, color in _pixels(signal_chart("web · lang", summary)).getcolors(10**6)}
    assert _rgb(COLORS[0]) in colors and _rgb(COLORS[1]) not in colors
    assert signal_chart("web · lang", {"kind": "categorical", "counts": {"en": 3}}) is None


def test_the_funnel_and_reasons_charts_draw_each_source_in_its_colour() -> None:
    from gristmill.report.bar_charts import funnel_chart, reasons_chart

    stage = {"stage": "lid", "docs_in": 10, "docs_out": 7, "removed": {"lid:wrong_language": 3}}
    clean = {"stage": "c4", "docs_in": 4, "docs_out": 4, "removed": {}}
    stats = {"sources": {"web": {"stages": [stage]}, "books": {"stages": [clean]}}}
    funnel = Image.open(io.BytesIO(funnel_chart(stats))).convert("RGB")
    assert funnel.width > funnel.height
    colors = {color for _, color in funnel.getcolors(10**6)}
    assert {_rgb(COLORS[0]), _rgb(COLORS[1])} <= colors
    reasons = Image.open(io.BytesIO(reasons_chart(stats))).convert("RGB")
    assert _rgb(COLORS[0]) in {color for _, color in reasons.getcolors(10**6)}
    assert reasons_chart({"sources": {"books": {"stages": [clean]}}}) is None
