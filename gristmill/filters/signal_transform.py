"""A :class:`~gristmill.steps.Transform` that also reports per-document signal columns.

Line-removing steps (C4 cleaning, keyword and boilerplate removal) both rewrite text and
measure something per document (sentences kept, bad words found); with ``keep_signals``
those measurements become ``<step>_<signal>`` columns like a Filter's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from gristmill.steps import StepResult, Transform, drop_emptied, split_by_reasons


class SignalTransform(Transform):
    """Subclasses implement ``clean_batch``: new texts, reasons, counters and signals."""

    def clean_batch(
        self, batch: pa.Table
    ) -> tuple[list[str], list[str | None], Counter, dict[str, np.ndarray]]:
        raise NotImplementedError

    def rewrite(self, batch: pa.Table) -> tuple[list[str], Sequence[str | None], Counter]:
        texts, reasons, counters, _ = self.clean_batch(batch)
        return texts, reasons, counters

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(kept=batch)
        texts, reasons, counters, signals = self.clean_batch(batch)
        index = batch.schema.get_field_index("text")
        batch = batch.set_column(index, "text", pa.array(texts, type=pa.large_string()))
        if keep_signals:
            for signal, values in signals.items():
                batch = batch.append_column(f"{step_id}_{signal}", pa.array(values))
        result = split_by_reasons(batch, reasons, step_id)
        result.counters.update(counters)
        return drop_emptied(result, step_id)
