"""The words of a batch of documents, flattened into Arrow arrays for vectorised statistics.

Fused steps see the same documents one after another (gopher_quality, then
gopher_repetition, then fineweb get the survivors of the step before), so the words of the
last batch split in a process are kept and reused for any subset of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class BatchWords:
    """The words of a batch of documents, flattened for vectorised statistics.

    ``words`` holds every document's words end to end, ``doc`` the document each word
    belongs to and ``counts`` the number of words per document.
    """

    words: pa.Array
    doc: np.ndarray
    counts: np.ndarray

    @property
    def starts(self) -> np.ndarray:
        """Index in ``words`` of each document's first word."""
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)


class _LastBatch:
    """The words of the last batch split in this process, and how they were split."""

    rows: dict[str, int] = {}
    lists: pa.Array | None = None
    kind = ""


#: splits a whole batch: every text's words end to end, and the number per text
BatchSplit = Callable[[Sequence[str]], tuple[pa.Array, np.ndarray]]


def word_lists(
    texts: Sequence[str],
    split: Callable[[str], list[str]],
    kind: str,
    batch_split: BatchSplit | None = None,
) -> pa.Array:
    """``split(text)`` of every text as an Arrow list array; ``kind`` names the splitting,
    and the last batch's lists are reused when they were split the same way.
    ``batch_split``, when given, gives the same words for the whole batch at once."""
    last = _LastBatch
    if last.lists is not None and last.kind == kind:
        rows = [last.rows.get(text) for text in texts]
        if None not in rows:
            return last.lists.take(pa.array(rows, pa.int64()))
    if batch_split is not None:
        words, counts = batch_split(texts)
    else:
        split_texts = [split(text) for text in texts]
        counts = np.fromiter(map(len, split_texts), np.int64, len(texts))
        # one flat string array: about twice as fast as converting nested lists
        chained = itertools.chain.from_iterable(split_texts)
        words = pa.array(list(chained), type=pa.large_string())
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), words)
    last.rows = {text: row for row, text in enumerate(texts)}
    last.lists = lists
    last.kind = kind
    return lists


def batch_words(
    texts: Sequence[str],
    split: Callable[[str], list[str]],
    kind: str,
    batch_split: BatchSplit | None = None,
) -> BatchWords:
    """Split every text of a batch with ``split`` (named ``kind``), flattened."""
    lists = word_lists(texts, split, kind, batch_split)
    counts = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    return BatchWords(
        words=pc.list_flatten(lists),
        doc=np.repeat(np.arange(len(texts), dtype=np.int64), counts),
        counts=counts,
    )
