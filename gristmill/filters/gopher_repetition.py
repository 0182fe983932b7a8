"""Gopher repetition filter: repeated lines, paragraphs and n-grams (Rae et al. 2021).

Rae et al., "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
appendix A.1.1 and Table A1: remove a document when duplicate lines or paragraphs make up
more than 30 % of them or 20 % of its characters; when the most frequent 2-, 3- or 4-gram
covers more than 20 %, 18 % or 16 % of the characters; or when repeated 5- to 10-grams cover
more than 15 %, 14 %, 13 %, 12 %, 11 % or 10 % of them. Counting follows datatrove's
``GopherRepetitionFilter`` (lines split on runs of newlines, paragraphs on blank lines,
words as spaCy's English tokenizer splits them, repeated n-grams counted greedily from the
left, skipping over each repeat), so decisions agree with datatrove's. N-grams are hashed
in numpy over the whole batch (64-bit polynomial hashes of word ids); only positions whose
n-gram occurs more than once in its document go through the greedy scan.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator, model_validator

from gristmill.filters.by_language import LanguageParameters
from gristmill.filters.decisions import above, first_failing, ratio
from gristmill.segmentation import BatchWords, split_batch
from gristmill.steps import Filter

_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
#: odd 64-bit multipliers of the n-gram hash (one per position in the n-gram)
_MULTIPLIERS = np.random.default_rng(20211208).integers(1, 2**63, size=64, dtype=np.uint64) | 1


def duplicate_counts(items: list[str]) -> tuple[int, int]:
    """Number and total length of items equal to an earlier item (every item but the
    first of its kind)."""
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))


def paragraphs_of(text: str) -> list[str]:
    """``text`` stripped and split on runs of two or more newlines."""
    text = text.strip()
    if "\n\n\n" in text:
        return _PARAGRAPH_BREAK.split(text)
    return text.split("\n\n")  # every break is exactly two newlines: the same split


def lines_of(text: str) -> list[str]:
    """``text`` split on runs of newlines (as ``re.split(r"\\n+", text)``: an empty first or
    last item where the text starts or ends with a newline, none in between)."""
    parts = text.split("\n")
    lines = [part for part in parts if part]
    if not parts[0]:
        lines.insert(0, "")
    if len(parts) > 1 and not parts[-1]:
        lines.append("")
    return lines


class _NgramIndex:
    """Word ids, lengths and document bounds of a batch, for n-gram statistics."""

    def __init__(self, split: BatchWords) -> None:
        encoded = pc.dictionary_encode(split.words)
        self.ids = encoded.indices.to_numpy(zero_copy_only=False).astype(np.uint64) + np.uint64(1)
        lengths = pc.utf8_length(split.words).to_numpy(zero_copy_only=False).astype(np.int64)
        self.length_sums = np.concatenate([[0], np.cumsum(lengths)])
        self.doc = split.doc
        self.doc_starts = split.starts
        self.doc_counts = split.counts
        self.doc_ends = (split.starts + split.counts)[split.doc]
        # the document number enters every hash, so equal n-grams of two documents differ
        self._hash = split.doc.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        self._hash_n = 0

    def _hashes(self, n: int) -> np.ndarray:
        """Hash of the n-gram starting at each word (grown one word at a time)."""
        while self._hash_n < n:
            offset = self._hash_n
            self._hash[: len(self._hash) - offset] += self.ids[offset:] * _MULTIPLIERS[offset]
            self._hash_n += 1
        return self._hash

    def _chars(self, positions: np.ndarray, n: int) -> np.ndarray:
        """Characters of the n-grams' words (without separators)."""
        return self.length_sums[positions + n] - self.length_sums[positions]

    def sweep(self, top: set[int], repeated: set[int]) -> dict[str, np.ndarray]:
        """Per document, characters of the most frequent n-gram (``top_<n>``) and of
        repeated n-grams (``dup_<n>``), for every n asked.

        Equal n-grams are grouped by hashing (Arrow's dictionary encoding numbers the
        groups in order of first occurrence, in linear time; a sort was 20x slower). An
        n-gram can occur twice only where its (n-1)-word prefix does, so after the smallest
        n only the positions of repeated n-grams are grouped again.
        """
        results: dict[str, np.ndarray] = {}
        if not top and not repeated:
            return results
        positions = np.arange(len(self.ids), dtype=np.int64)
        for n in range(min(top | repeated), max(top | repeated) + 1):
            positions = positions[positions + n <= self.doc_ends[positions]]
            key = pa.array(self._hashes(n)[positions], type=pa.uint64())
            group = pc.dictionary_encode(key).indices.to_numpy(zero_copy_only=False)
            group = group.astype(np.int64, copy=False)
            sizes = np.bincount(group, minlength=0)
            if n in top:
                # a group's first position: where its number exceeds every number before it
                seen = np.maximum.accumulate(group)
                is_first = np.ones(len(group), dtype=bool)
                is_first[1:] = group[1:] > seen[:-1]
                results[f"top_{n}"] = self._top_chars(n, positions[is_first], sizes)
            positions = positions[sizes[group] > 1]  # still in text order
            if n in repeated:
                results[f"dup_{n}"] = self._repeated_chars(n, positions)
        return results

    def _top_chars(self, n: int, first: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """datatrove's rule: the n-gram counted most often (ties to the one seen first), its
        length with spaces times its count. Documents whose n-grams all differ fall back to
        their first n-gram. ``first`` and ``sizes`` are each group's first position and
        count, groups numbered in order of first occurrence."""
        size = len(self.doc_counts)
        has_ngram = self.doc_counts >= n
        out = np.zeros(size, dtype=np.float64)
        out[has_ngram] = self._chars(self.doc_starts[has_ngram], n) + (n - 1)
        repeated = sizes > 1
        first, sizes = first[repeated], sizes[repeated]
        if len(first):
            doc = self.doc[first]
            best = np.lexsort((first, -sizes, doc))
            winners = best[np.concatenate([[True], doc[best][1:] != doc[best][:-1]])]
            out[doc[winners]] = (self._chars(first[winners], n) + (n - 1)) * sizes[winners]
        return out

    def _repeated_chars(self, n: int, positions: np.ndarray) -> np.ndarray:
        """datatrove's ``find_all_duplicate``: scan from the left, count an n-gram seen
        before and jump past it. Only ``positions`` (n-grams occurring twice or more, in
        text order) can be repeats, so only they are scanned."""
        out = np.zeros(len(self.doc_counts), dtype=np.float64)
        if len(positions) == 0:
            return out
        docs = self.doc[positions]
        bounds = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]])).tolist()
        bounds.append(len(positions))
        keys = self._hashes(n)[positions].tolist()
        chars = self._chars(positions, n).tolist()
        starts = positions.tolist()
        for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
            seen: set[int] = set()
            total = 0
            index = begin
            while index < end:
                if keys[index] in seen:
                    total += chars[index]
                    # jump past the repeat: to the first candidate at or after its end
                    index = bisect_left(starts, starts[index] + n, index + 1, end)
                else:
                    seen.add(keys[index])
                    index += 1
            out[docs[begin]] = total
        return out


class GopherRepetition(LanguageParameters, Filter):
    """Gopher's repetition rules with the published thresholds (Rae et al. 2021, Table A1).

    Signals: ``dup_para_frac``, ``dup_para_char_frac``, ``dup_line_frac``,
    ``dup_line_char_frac``, ``top_<n>_gram_char_frac`` and ``dup_<n>_gram_char_frac``.
    A removed document's reason names the first rule it fails (``dup_line_frac``,
    ``top_2_gram``, ``dup_5_gram``, ...); an empty document is removed as ``empty``.
    """

    name = "gopher_repetition"
    #: parameter → (signal, side) for ``gristmill calibrate``
    calibrated: ClassVar[dict[str, tuple[str, str]]] = {
        key: (key, "max")
        for key in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")
    }

    dup_para_frac: float | None = Field(0.3, ge=0)
    dup_para_char_frac: float | None = Field(0.2, ge=0)
    dup_line_frac: float | None = Field(0.3, ge=0)
    dup_line_char_frac: float | None = Field(0.2, ge=0)
    top_n_grams: dict[int, float] = Field(default_factory=lambda: {2: 0.2, 3: 0.18, 4: 0.16})
    dup_n_grams: dict[int, float] = Field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    )

    @field_validator("top_n_grams", "dup_n_grams")
    @classmethod
    def _sizes_in_range(cls, value: dict[int, float]) -> dict[int, float]:
        if any(not 1 <= n <= len(_MULTIPLIERS) for n in value):
            raise ValueError(f"n-gram sizes must lie between 1 and {len(_MULTIPLIERS)}")
        return value

    def thresholds(self) -> dict[str, list[float]]:
        """The line/paragraph fractions (``calibrated``) and the n-gram limits by signal."""
        marks = super().thresholds()
        marks.update({f"top_{n}_gram_char_frac": [v] for n, v in self.top_n_grams.items()})
        marks.update({f"dup_{n}_gram_char_frac": [v] for n, v in self.dup_n_grams.items()})
        return marks

    @model_validator(mode="after")
    def _same_sizes_in_every_language(self) -> GopherRepetition:
        """Each n-gram size is a signal column; an output shard has one set of columns."""
        for language, block in self.by_language.items():
            for key in ("top_n_grams", "dup_n_grams"):
                if key in block and {int(n) for n in block[key]} != set(getattr(self, key)):
                    raise ValueError(
                        f"by_language.{language}.{key}: use the n-gram sizes of the step "
                        f"({sorted(getattr(self, key))}); only the limits can differ"
                    )
        return self

    def signals(self, batch: pa.Table) -> dict[str, np.ndarray]:
        texts = batch.column("text").to_pylist()
        size = len(texts)
        counts = np.zeros((7, size), dtype=np.float64)
        for index, text in enumerate(texts):
            paragraphs = paragraphs_of(text)
            lines = lines_of(text)
            counts[0, index] = len(paragraphs)
            counts[1:3, index] = duplicate_counts(paragraphs)
            counts[3, index] = len(lines)
            counts[4:6, index] = duplicate_counts(lines)
            counts[6, index] = len(text)
        chars = counts[6]
        signals = {
            "dup_para_frac": ratio(counts[1], counts[0]),
            "dup_para_char_frac": ratio(counts[2], chars),
            "dup_line_frac": ratio(counts[4], counts[3]),
            "dup_line_char_frac": ratio(counts[5], chars),
        }
        ngrams = _NgramIndex(split_batch(texts)).sweep(set(self.top_n_grams), set(self.dup_n_grams))
        for n in sorted(self.top_n_grams):
            signals[f"top_{n}_gram_char_frac"] = ratio(ngrams[f"top_{n}"], chars)
        for n in sorted(self.dup_n_grams):
            signals[f"dup_{n}_gram_char_frac"] = ratio(ngrams[f"dup_{n}"], chars)
        signals["chars"] = chars.astype(np.int64)
        return signals

    def decide(self, signals: dict[str, np.ndarray]) -> Sequence[str | None]:
        checks = [
            (signals["chars"] == 0, "empty"),
            (above(signals, "dup_para_frac", self.dup_para_frac), "dup_para_frac"),
            (above(signals, "dup_para_char_frac", self.dup_para_char_frac), "dup_para_char_frac"),
            (above(signals, "dup_line_frac", self.dup_line_frac), "dup_line_frac"),
            (above(signals, "dup_line_char_frac", self.dup_line_char_frac), "dup_line_char_frac"),
        ]
        for n, limit in sorted(self.top_n_grams.items()):
            checks.append((above(signals, f"top_{n}_gram_char_frac", limit), f"top_{n}_gram"))
        for n, limit in sorted(self.dup_n_grams.items()):
            checks.append((above(signals, f"dup_{n}_gram_char_frac", limit), f"dup_{n}_gram"))
        return first_failing(len(signals["chars"]), checks)
