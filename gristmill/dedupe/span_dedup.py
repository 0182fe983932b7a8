"""Cross-corpus sentence-level de-duplication: repeated spans removed across the whole run.

The sentence granularity of the survey's de-duplication step (§4.1.2), in two variants:

- ``method: sentences`` follows datatrove's ``SentenceDedup``: documents are split into
  sentences (lines for code-like text, see :mod:`gristmill.dedupe.sentences`), every window of
  ``n_sentences`` (3) consecutive normalised sentences is hashed, and every occurrence of a
  window but the first is removed. "First" is a deterministic order that does not depend on
  how the corpus is split into shards: the highest source priority, then the document whose
  text hashes lowest, then the id, then the position in the document.
- ``method: ccnet_lines`` follows CCNet (Wenzek et al. 2020, §3.1, ``dedup.py``): lines are
  normalised (lower case, accents stripped, digits → 0, punctuation removed) and hashed; a
  line found in more than one document is removed from every document, its first copy too,
  as in the paper's two-pass setting. A line repeated inside one document only is left to
  the ``repetition`` step.

``collect`` writes one row per window (hash, position, document rank), ``resolve`` shuffles
them by hash on the Dask cluster and writes, per shard, the windows or lines to remove;
``apply`` cuts them out (:mod:`gristmill.dedupe.span_removal`) and drops documents left
with fewer than ``min_doc_words`` words (datatrove's default 50; words counted as datatrove
counts them, by :mod:`gristmill.segmentation`, with Chinese, Japanese and Thai segmented)
as ``<step>:too_short``.
Counters: ``spans_removed``, ``units_removed``, ``chars_removed``, ``docs_changed``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import xxhash
from pydantic import Field

from gristmill.dedupe.ngrams import MAX_NGRAM, window_hashes
from gristmill.dedupe.sentences import DocumentUnits, UnitKind, batch_units
from gristmill.dedupe.shard_parts import files_with_rows, read_shard_part, write_shard_parts
from gristmill.dedupe.span_removal import remove_spans
from gristmill.segmentation import count_words
from gristmill.steps import GlobalStep, StepResult, split_by_reasons
from gristmill.storage import options_for

REMOVALS_DIR = "removals"


class SpanDedup(GlobalStep):
    """Remove sentence spans (datatrove) or lines (CCNet) repeated across documents."""

    name = "span_dedup"

    method: Literal["sentences", "ccnet_lines"] = "sentences"
    n_sentences: int = Field(3, ge=1, le=MAX_NGRAM)
    unit: UnitKind = "auto"
    min_doc_words: int = Field(50, ge=0)

    def _units(self, texts: list[str]) -> list[DocumentUnits]:
        if self.method == "ccnet_lines":
            return batch_units(texts, "lines", strip_accents=True, digits_to_zero=True)
        return batch_units(texts, self.unit)

    def _windows(self, units: DocumentUnits) -> tuple[np.ndarray, np.ndarray]:
        """Window hashes of a document and the position (keyed-unit index) of each."""
        hashes = units.hashes[units.keyed()]
        if self.method == "ccnet_lines":
            unique, first = np.unique(hashes, return_index=True)
            return unique, first
        windows = window_hashes(hashes, [self.n_sentences])[self.n_sentences]
        return windows, np.arange(len(windows))

    def collect(self, batch: pa.Table) -> pa.Table:
        texts = batch.column("text").to_pylist()
        rows, hashes, positions, ranks = [], [], [], []
        for row, (text, units) in enumerate(zip(texts, self._units(texts), strict=True)):
            windows, starts = self._windows(units)
            if len(windows) == 0:  # a sentinel, so that every document is accounted for
                windows, starts = np.zeros(1, np.uint64), np.full(1, -1)
            rows.append(np.full(len(windows), row))
            hashes.append(windows)
            positions.append(starts)
            ranks.append(np.full(len(windows), xxhash.xxh3_64_intdigest(text.encode("utf-8")),
                                 dtype=np.uint64))  # fmt: skip
        if not rows:
            return pa.table({"id": pa.array([], pa.string()), "hash": pa.array([], pa.uint64()),
                             "position": pa.array([], pa.int32()),
                             "rank": pa.array([], pa.uint64())})  # fmt: skip
        return pa.table(
            {
                "id": batch.column("id").take(pa.array(np.concatenate(rows))),
                "hash": np.concatenate(hashes).astype(np.uint64),
                "position": np.concatenate(positions).astype(np.int32),
                "rank": np.concatenate(ranks),
            }
        )

    def resolve(self, signature_paths: list[str], resolution_dir: str) -> dict[str, Any]:
        import dask.dataframe as dd

        paths = files_with_rows(signature_paths)
        if not paths:
            return {}
        signatures = dd.read_parquet(paths, storage_options=options_for(paths[0]))
        signatures = signatures[signatures["position"] >= 0]
        partitions = max(1, min(signatures.npartitions, 256))
        shuffled = signatures.shuffle(on="hash", npartitions=partitions)
        finder = _repeated_lines if self.method == "ccnet_lines" else _repeated_windows
        removals = shuffled.map_partitions(finder, meta=_REMOVAL_META)
        write_shard_parts(removals, resolution_dir, REMOVALS_DIR)
        return {}

    def load(self, resolution_dir: str, shard_key: str) -> dict[str, np.ndarray]:
        column = "hash" if self.method == "ccnet_lines" else "position"
        table = read_shard_part(resolution_dir, REMOVALS_DIR, shard_key, ["id", column])
        if table is None:
            return {}
        frame = table.to_pandas()
        return {
            doc_id: np.unique(group.to_numpy())
            for doc_id, group in frame.groupby("id", sort=False)[column]
        }

    def apply(self, batch: pa.Table, state: dict[str, np.ndarray], step_id: str) -> StepResult:
        if not state or batch.num_rows == 0:
            return StepResult(kept=batch)
        ids = batch.column("id").to_pylist()
        rows = [row for row, doc_id in enumerate(ids) if doc_id in state]
        if not rows:
            return StepResult(kept=batch)
        texts = batch.column("text").to_pylist()
        counters: Counter = Counter()
        changed = []
        for row, units in zip(rows, self._units([texts[row] for row in rows]), strict=True):
            removed_units = self._removed_units(units, state[ids[row]])
            if not removed_units:
                continue
            counters["spans_removed"] += len(state[ids[row]])
            counters["units_removed"] += len(removed_units)
            new_text = remove_spans(texts[row], [units.spans[i] for i in removed_units])
            counters["chars_removed"] += len(texts[row]) - len(new_text)
            counters["docs_changed"] += 1
            texts[row] = new_text
            changed.append(row)
        reasons: list[str | None] = [None] * len(ids)
        if changed:
            words = count_words([texts[row] for row in changed])
            for row, count in zip(changed, words, strict=True):
                if count < self.min_doc_words:
                    reasons[row] = "too_short"
        batch = batch.set_column(
            batch.schema.get_field_index("text"), "text", pa.array(texts, pa.large_string())
        )
        result = split_by_reasons(batch, reasons, step_id)
        result.counters.update(counters)
        return result

    def _removed_units(self, units: DocumentUnits, removals: np.ndarray) -> list[int]:
        keyed = units.keyed()
        if self.method == "ccnet_lines":
            return [int(i) for i in keyed[np.isin(units.hashes[keyed], removals)]]
        removed: set[int] = set()
        for position in removals:
            removed.update(int(i) for i in keyed[position : position + self.n_sentences])
        return sorted(removed)


_REMOVAL_META = pd.DataFrame(
    {
        "id": pd.Series([], dtype="string"),
        "shard": pd.Series([], dtype="string"),
        "position": pd.Series([], dtype="int32"),
        "hash": pd.Series([], dtype="uint64"),
    }
)


def _removal_frame(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": rows["id"].astype("string"),
            "shard": rows["shard"].astype("string"),
            "position": rows["position"].astype("int32"),
            "hash": rows["hash"].astype("uint64"),
        }
    ).reset_index(drop=True)


def _repeated_windows(frame: pd.DataFrame) -> pd.DataFrame:
    """Every occurrence of a window hash but the first (priority, rank, id, position)."""
    frame = frame[frame.duplicated("hash", keep=False)]
    if frame.empty:
        return _REMOVAL_META.copy()
    ordered = frame.sort_values(
        ["hash", "priority", "rank", "id", "position"],
        ascending=[True, False, True, True, True],
    )
    return _removal_frame(ordered[ordered.duplicated("hash", keep="first")])


def _repeated_lines(frame: pd.DataFrame) -> pd.DataFrame:
    """Every occurrence of a line hash found in more than one document (CCNet)."""
    frame = frame[frame.duplicated("hash", keep=False)]
    if frame.empty:
        return _REMOVAL_META.copy()
    documents = frame.groupby("hash")["id"].transform("nunique")
    return _removal_frame(frame[documents > 1])
