"""The mixture chart of a run's report (matplotlib figure on the Agg canvas: no display
needed, no ``pyplot``). The other charts are drawn with Pillow, much cheaper:
:mod:`gristmill.report.bar_charts` (funnel, removal reasons) and
:mod:`gristmill.report.signal_charts` (per-signal histograms), re-exported here."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gristmill.report.bar_charts import funnel_chart, reasons_chart
from gristmill.report.drawing import COLORS
from gristmill.report.signal_charts import signal_chart, single_bin

__all__ = ["funnel_chart", "mixture_chart", "reasons_chart", "signal_chart", "single_bin"]


def _subplots(figsize: tuple[float, float], columns: int = 1):
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, columns, squeeze=False)


def _png(figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


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
