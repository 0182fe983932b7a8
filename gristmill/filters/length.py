"""Document length filter: characters and words, measured with Arrow kernels.

The simplest statistic-based filter of the survey (§4.1.2); Gopher (Rae et al. 2021,
Table A1) keeps documents of 50 to 100,000 words, which are the defaults here. Words are
whitespace-separated, except in scripts written without spaces (Chinese, Japanese, Thai...),
which are segmented into words (:func:`gristmill.segmentation.split_plain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from gristmill.filters.by_language import LanguageParameters
from gristmill.filters.decisions import first_failing
from gristmill.segmentation import count_plain_words
from gristmill.steps import Filter


class TextLength(LanguageParameters, Filter):
    """Keep documents whose word and character counts lie within bounds (Gopher defaults)."""

    name = "length"
    #: parameter → (signal, side) for ``gristmill calibrate``
    calibrated: ClassVar[dict[str, tuple[str, str]]] = {"min_words": ("words", "min")}

    min_words: int = Field(50, ge=0)
    max_words: int = Field(100_000, ge=1)
    min_chars: int = Field(0, ge=0)
    max_chars: int | None = Field(None, ge=1)

    def signals(self, batch: pa.Table) -> dict[str, np.ndarray]:
        text = batch.column("text")
        chars = pc.utf8_length(text).to_numpy(zero_copy_only=False)
        words = count_plain_words(text.to_pylist())
        return {"chars": chars.astype(np.int64), "words": words.astype(np.int64)}

    def thresholds(self) -> dict[str, list[float]]:
        chars = [self.min_chars] + ([self.max_chars] if self.max_chars is not None else [])
        return {"words": [self.min_words, self.max_words], "chars": chars}

    def decide(self, signals: dict[str, np.ndarray]) -> Sequence[str | None]:
        words, chars = signals["words"], signals["chars"]
        return first_failing(
            len(words),
            [
                (words < self.min_words, "too_few_words"),
                (words > self.max_words, "too_many_words"),
                (chars < self.min_chars, "too_few_chars"),
                (None if self.max_chars is None else chars > self.max_chars, "too_many_chars"),
            ],
        )
