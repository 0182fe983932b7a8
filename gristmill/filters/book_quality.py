"""Book heuristics: whole-book checks for digitised books (Project Gutenberg and the like).

Books are long, edited prose, so the document-level rules of Gopher (Rae et al. 2021,
Table A1) apply to them with the published thresholds: a minimum length, a mean word
length of 3 to 10 characters and at least 80 % of words containing a letter. Two rules
catch what digitised collections add and web rules do not: catalogues, indexes and tables
(lines made mostly of figures, as in PG-19's exclusion of non-narrative volumes, Rae et
al. 2020) and OCR or encoding debris (upper-case runs, symbols and U+FFFD replacement
characters). Their thresholds were chosen here and checked on the 31 Gutenberg novels of
the shared evaluation data, which all pass. Words are whitespace-separated, as book-scale
statistics do not need spaCy's splitting; all counts are Arrow kernels over the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from gristmill.filters.decisions import above, below, first_failing, ratio
from gristmill.steps import Filter


def _kept_chars(text: pa.Array | pa.ChunkedArray, removed: str) -> np.ndarray:
    """Characters left once the matches of the RE2 pattern ``removed`` are cut."""
    left = pc.replace_substring_regex(text, removed, "")
    return pc.utf8_length(left).to_numpy(zero_copy_only=False).astype(np.int64)


def _per_document(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum ``values`` (one per line or word) over each document's ``counts`` items."""
    doc = np.repeat(np.arange(len(counts)), counts)
    return np.bincount(doc, weights=values.astype(np.float64), minlength=len(counts))


class BookQuality(Filter):
    """Length, word-shape, numeric-line and debris rules for books.

    Signals: ``words``, ``mean_word_length``, ``alpha_words_ratio``, ``numeric_lines_ratio``
    (of non-empty lines: lines with a digit and at most three letters), ``uppercase_ratio``
    (of letters) and ``symbol_ratio`` (symbols, private-use and replacement characters, of
    all characters). Reasons: the parameter name of the first failing threshold.
    """

    name = "book_quality"

    min_words: int | None = Field(1000, ge=0)
    min_mean_word_length: float | None = Field(3, ge=0)
    max_mean_word_length: float | None = Field(10, ge=0)
    min_alpha_words_ratio: float | None = Field(0.8, ge=0, le=1)
    max_numeric_lines_ratio: float | None = Field(0.3, ge=0, le=1)
    max_uppercase_ratio: float | None = Field(0.3, ge=0, le=1)
    max_symbol_ratio: float | None = Field(0.01, ge=0, le=1)

    def signals(self, batch: pa.Table) -> dict[str, np.ndarray]:
        text = batch.column("text")
        words = pc.utf8_split_whitespace(text)
        word_counts = pc.list_value_length(words).to_numpy(zero_copy_only=False)
        flat_words = pc.list_flatten(words)
        word_lengths = pc.utf8_length(flat_words).to_numpy(zero_copy_only=False)
        alpha_words = pc.match_substring_regex(flat_words, r"\pL").to_numpy(zero_copy_only=False)

        lines = pc.split_pattern(text, "\n")
        line_counts = pc.list_value_length(lines).to_numpy(zero_copy_only=False)
        flat_lines = pc.list_flatten(lines)
        non_empty = pc.match_substring_regex(flat_lines, r"\S").to_numpy(zero_copy_only=False)
        line_letters = _kept_chars(flat_lines, r"[^\pL]+")
        has_digit = pc.match_substring_regex(flat_lines, r"\d").to_numpy(zero_copy_only=False)
        numeric = non_empty & has_digit & (line_letters <= 3)

        letters = _kept_chars(text, r"[^\pL]+")
        chars = pc.utf8_length(text).to_numpy(zero_copy_only=False)
        return {
            "words": word_counts.astype(np.int64),
            "mean_word_length": ratio(
                _per_document(word_lengths, word_counts), word_counts, empty=np.nan
            ),  # fmt: skip
            "alpha_words_ratio": ratio(_per_document(alpha_words, word_counts), word_counts),
            "numeric_lines_ratio": ratio(
                _per_document(numeric, line_counts), _per_document(non_empty, line_counts)
            ),  # fmt: skip
            "uppercase_ratio": ratio(_kept_chars(text, r"[^\p{Lu}]+"), letters),
            "symbol_ratio": ratio(_kept_chars(text, r"[^\pS\p{Co}\x{FFFD}]+"), chars),
        }

    def decide(self, signals: dict[str, np.ndarray]) -> Sequence[str | None]:
        return first_failing(
            len(signals["words"]),
            [
                (below(signals, "words", self.min_words), "min_words"),
                (
                    below(signals, "mean_word_length", self.min_mean_word_length),
                    "min_mean_word_length",
                ),
                (
                    above(signals, "mean_word_length", self.max_mean_word_length),
                    "max_mean_word_length",
                ),
                (
                    below(signals, "alpha_words_ratio", self.min_alpha_words_ratio),
                    "min_alpha_words_ratio",
                ),
                (
                    above(signals, "numeric_lines_ratio", self.max_numeric_lines_ratio),
                    "max_numeric_lines_ratio",
                ),
                (
                    above(signals, "uppercase_ratio", self.max_uppercase_ratio),
                    "max_uppercase_ratio",
                ),
                (above(signals, "symbol_ratio", self.max_symbol_ratio), "max_symbol_ratio"),
            ],
        )
