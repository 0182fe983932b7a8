"""An example of a custom step that lives outside gristmill (see tests/test_python_api.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from gristmill.pipelines.registry import register_step
from gristmill.steps import Filter


@register_step("shouting")
class Shouting(Filter):
    """Drop documents whose share of upper-case letters is above ``max_upper_ratio``."""

    max_upper_ratio: float = Field(0.5, ge=0, le=1)

    def signals(self, batch: pa.Table) -> dict[str, np.ndarray]:
        texts = batch.column("text")
        letters = pc.count_substring_regex(texts, r"\p{L}").to_numpy(zero_copy_only=False)
        upper = pc.count_substring_regex(texts, r"\p{Lu}").to_numpy(zero_copy_only=False)
        return {"upper_ratio": upper / np.maximum(letters, 1)}

    def decide(self, signals: dict[str, np.ndarray]) -> Sequence[str | None]:
        return ["too_loud" if r > self.max_upper_ratio else None for r in signals["upper_ratio"]]


@register_step("pause")
class Pause(Filter):
    """Wait ``seconds`` per batch and keep everything (a stand-in for a slow step)."""

    seconds: float = Field(0.2, ge=0)

    def signals(self, batch: pa.Table) -> dict[str, np.ndarray]:
        import time

        time.sleep(self.seconds)
        return {}

    def decide(self, signals: dict[str, np.ndarray]) -> Sequence[str | None]:
        return []

    def process(self, batch, step_id, keep_signals=True):
        from gristmill.steps import StepResult

        self.signals(batch)
        return StepResult(kept=batch)
