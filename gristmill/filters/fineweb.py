"""FineWeb quality filter: line-level heuristics of the FineWeb dataset (Penedo et al. 2024).

Penedo et al., "The FineWeb Datasets: Decanting the Web for the Finest Text Data at Scale"
(§3.5, custom filters), as implemented by datatrove's ``FineWebQualityFilter``: remove a
document when fewer than 12 % of its non-empty lines end with terminal punctuation, when
more than 67 % of them are at most 30 characters long, when lines repeated verbatim hold
more than 1 % of its characters (newlines not counted), or when it has more than 0.3
newlines per word (list-like pages). Words are split as datatrove splits them (spaCy's
English rules, :mod:`gristmill.segmentation`); the defaults are datatrove's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pyarrow as pa
from pydantic import Field

from gristmill.filters.by_language import LanguageParameters
from gristmill.filters.decisions import first_failing, ratio
from gristmill.filters.gopher_repetition import duplicate_counts
from gristmill.segmentation import TERMINAL_PUNCTUATION, count_words
from gristmill.steps import Filter


class FineWebQuality(LanguageParameters, Filter):
    """FineWeb's line-punctuation, short-line, duplicate-line and list-ratio rules.

    Signals: ``lines`` (non-empty lines), ``line_punct_ratio``, ``short_line_ratio``,
    ``char_dup_ratio``, ``list_ratio``. Reasons: ``empty``, ``line_punct_ratio``,
    ``short_line_ratio``, ``char_dup_ratio``, ``list_ratio``.
    """

    name = "fineweb"
    #: parameter → (signal, side) for ``gristmill calibrate``
    calibrated: ClassVar[dict[str, tuple[str, str]]] = {
        "line_punct_thr": ("line_punct_ratio", "min"),
        "short_line_thr": ("short_line_ratio", "max"),
        "char_duplicates_ratio": ("char_dup_ratio", "max"),
        "new_line_ratio": ("list_ratio", "max"),
    }

    line_punct_thr: float = Field(0.12, ge=0, le=1)
    line_punct_exclude_zero: bool = False
    stop_chars: tuple[str, ...] | None = Field(
        None, description="line endings that count as punctuation (default: sentence terminals)"
    )
    short_line_thr: float = Field(0.67, ge=0, le=1)
    short_line_length: int = Field(30, ge=0)
    char_duplicates_ratio: float = Field(0.01, ge=0)
    new_line_ratio: float = Field(0.3, ge=0)

    def signals(self, batch: pa.Table) -> dict[str, np.ndarray]:
        texts = batch.column("text").to_pylist()
        size = len(texts)
        stop_chars = tuple(self.stop_chars or sorted(TERMINAL_PUNCTUATION))
        limit = self.short_line_length
        lines, punct, short, dup_chars, chars, newlines = np.zeros((6, size), np.float64)
        for index, text in enumerate(texts):
            kept = [line for line in text.split("\n") if line.strip()]
            lines[index] = len(kept)
            punct[index] = sum(line.endswith(stop_chars) for line in kept)
            short[index] = sum(len(line) <= limit for line in kept)
            dup_chars[index] = duplicate_counts(kept)[1]
            newlines[index] = text.count("\n")
            chars[index] = len(text) - newlines[index]
        words = count_words(texts)
        return {
            "lines": lines.astype(np.int64),
            "line_punct_ratio": ratio(punct, lines),
            "short_line_ratio": ratio(short, lines),
            "char_dup_ratio": ratio(dup_chars, chars),
            "list_ratio": ratio(newlines, words),
        }

    def decide(self, signals: dict[str, np.ndarray]) -> Sequence[str | None]:
        punct = signals["line_punct_ratio"]
        few_punct = punct < self.line_punct_thr
        if self.line_punct_exclude_zero:
            few_punct &= punct != 0
        return first_failing(
            len(punct),
            [
                (signals["lines"] == 0, "empty"),
                (few_punct, "line_punct_ratio"),
                (signals["short_line_ratio"] > self.short_line_thr, "short_line_ratio"),
                (signals["char_dup_ratio"] > self.char_duplicates_ratio, "char_dup_ratio"),
                (signals["list_ratio"] > self.new_line_ratio, "list_ratio"),
            ],
        )
