"""Exact document de-duplication by a hash of the normalised text.

The document-level exact dedup of the survey (§4.1.2), as in CCNet and Dolma: hash the
normalised text (xxh3-128), group equal hashes across all shards and sources on the Dask
cluster, keep one document per group by a deterministic rule — the highest source
priority, then the smallest id — and drop the rest as ``<step>:duplicate``.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xxhash

from gristmill.dedupe.drop_list import DROP_LIST_DIR, apply_drop_list, load_drop_list
from gristmill.steps import GlobalStep, StepResult

_WHITESPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s]")
_DIGITS = re.compile(r"\d")


class ExactDedup(GlobalStep):
    """Drop documents whose normalised text equals that of a preferred document."""

    name = "exact_dedup"

    lowercase: bool = True
    collapse_whitespace: bool = True
    strip_punctuation: bool = False
    digits_to_zero: bool = False
    unicode_form: str | None = "NFKC"

    def normalize(self, text: str) -> str:
        if self.unicode_form:
            text = unicodedata.normalize(self.unicode_form, text)
        if self.lowercase:
            text = text.lower()
        if self.strip_punctuation:
            text = _PUNCTUATION.sub("", text)
        if self.digits_to_zero:
            text = _DIGITS.sub("0", text)
        if self.collapse_whitespace:
            text = _WHITESPACE.sub(" ", text).strip()
        return text

    def collect(self, batch: pa.Table) -> pa.Table:
        high = np.empty(batch.num_rows, dtype=np.uint64)
        low = np.empty(batch.num_rows, dtype=np.uint64)
        for index, text in enumerate(batch.column("text").to_pylist()):
            digest = xxhash.xxh3_128_intdigest(self.normalize(text).encode("utf-8"))
            high[index] = digest >> 64
            low[index] = digest & 0xFFFF_FFFF_FFFF_FFFF
        return pa.table({"id": batch.column("id"), "hash_high": high, "hash_low": low})

    def resolve(self, signature_paths: list[str], resolution_dir: str) -> dict[str, Any]:
        import dask.dataframe as dd

        signatures = dd.read_parquet(signature_paths)
        partitions = max(1, min(signatures.npartitions, 64))
        shuffled = signatures.shuffle(on="hash_high", npartitions=partitions)
        drops = shuffled.map_partitions(_duplicates_in_partition, meta=_DROP_META)
        drops.to_parquet(
            posixpath.join(resolution_dir, DROP_LIST_DIR),
            partition_on=["shard"],
            write_index=False,
        )
        return {}

    def load(self, resolution_dir: str, shard_key: str) -> dict[str, str]:
        return load_drop_list(resolution_dir, shard_key)

    def apply(self, batch: pa.Table, state: dict[str, str], step_id: str) -> StepResult:
        return apply_drop_list(batch, state, step_id, "duplicate")


_DROP_META = pd.DataFrame(
    {
        "id": pd.Series([], dtype="string"),
        "duplicate_of": pd.Series([], dtype="string"),
        "shard": pd.Series([], dtype="string"),
    }
)


def _duplicates_in_partition(frame: pd.DataFrame) -> pd.DataFrame:
    """Within one hash partition: every document but the preferred one of its group."""
    if frame.empty:
        return _DROP_META.copy()
    ordered = frame.sort_values(
        ["hash_high", "hash_low", "priority", "id"], ascending=[True, True, False, True]
    )
    groups = ordered.groupby(["hash_high", "hash_low"], sort=False)["id"]
    kept = groups.transform("first")
    duplicate = ordered["id"] != kept
    return pd.DataFrame(
        {
            "id": ordered["id"][duplicate].astype("string"),
            "duplicate_of": kept[duplicate].astype("string"),
            "shard": ordered["shard"][duplicate].astype("string"),
        }
    ).reset_index(drop=True)
