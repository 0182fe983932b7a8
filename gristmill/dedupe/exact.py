"""Exact document de-duplication by a hash of the normalised text.

The document-level exact dedup of the survey (§4.1.2), as in CCNet and Dolma: hash the
normalised text (xxh3-128), group equal hashes across all shards and sources on the Dask
cluster, keep one document per group by a deterministic rule — the highest source
priority, then the smallest id — and drop the rest as ``<step>:duplicate``. With an
``index`` folder (:mod:`~gristmill.dedupe.dedup_index`), documents whose hash an earlier run
kept are dropped as ``<step>:duplicate_of_index``, and this run's kept hashes are added.
"""

from __future__ import annotations

import os
import posixpath
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xxhash
from pydantic import Field

from gristmill.dedupe.dedup_index import (
    DedupIndex,
    IndexPart,
    index_under,
    other_parts_state,
    part_key,
    range_file_name,
    read_key_range,
    write_parquet,
)
from gristmill.dedupe.drop_list import Drop, apply_drops, load_drops, write_drop_list
from gristmill.dedupe.signature_files import read_columns, row_count
from gristmill.steps import GlobalStep, StepResult

_WHITESPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s]")
_DIGITS = re.compile(r"\d")
#: Signature rows per partition of the resolve (about 100 MB of pandas each).
ROWS_PER_PARTITION = 1_000_000


class ExactDedup(GlobalStep):
    """Drop documents whose normalised text equals that of a preferred document."""

    name = "exact_dedup"

    lowercase: bool = True
    collapse_whitespace: bool = True
    strip_punctuation: bool = False
    digits_to_zero: bool = False
    unicode_form: str | None = "NFKC"
    index: str | None = Field(
        None, description="dataset index folder: dedup against it (and add this run to it)"
    )
    update_index: bool = Field(True, description="add this run's kept hashes to the index")

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

    def with_base_dir(self, base_dir: str | os.PathLike[str]) -> ExactDedup:
        """The same step with a relative ``index`` made relative to ``base_dir`` (the folder
        of the config file that names it)."""
        return self.model_copy(update={"index": index_under(self.index, base_dir)})

    def index_params(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"index", "update_index"})

    def collect(self, batch: pa.Table) -> pa.Table:
        digests = [
            xxhash.xxh3_128_intdigest(self.normalize(text).encode("utf-8"))
            for text in batch.column("text").to_pylist()
        ]
        high = np.array([d >> 64 for d in digests], dtype=np.uint64)
        low = np.array([d & 0xFFFF_FFFF_FFFF_FFFF for d in digests], dtype=np.uint64)
        return pa.table({"id": batch.column("id"), "hash_high": high, "hash_low": low})

    def resolution_state(self, resolution_dir: str) -> Any:
        return other_parts_state(self.index, self.name, resolution_dir)

    def resolve(self, signature_paths: list[str], resolution_dir: str) -> dict[str, Any]:
        import dask
        import dask.dataframe as dd

        index = DedupIndex(self.index, self.name, self.index_params()) if self.index else None
        own_key = part_key(resolution_dir)
        parts = index.parts(exclude=own_key) if index is not None and index.check(
            create=self.update_index
        ) else []
        paths = sorted(set(signature_paths))
        rows = sum(row_count(path) for path in paths)
        bits = min(12, max(0, int(np.ceil(np.log2(max(1, rows / ROWS_PER_PARTITION))))))
        staging = index.staging(own_key) if index is not None and self.update_index else None

        signatures = dd.from_map(_read_hashes, paths, bits=bits, meta=_HASH_META)
        by_range = signatures.set_index("part", divisions=list(range((1 << bits) + 1)))
        drops = by_range.map_partitions(
            _duplicates_in_range, dask.delayed(parts, pure=True), bits, staging, meta=_DROP_META
        )
        try:
            shuffle = {"dataframe.shuffle.method": "tasks" if rows < 1_000_000 else "p2p"}
            with dask.config.set(shuffle):
                _, reasons = dask.compute(
                    write_drop_list(drops, resolution_dir), drops["reason"].value_counts()
                )
        except BaseException:
            if index is not None and staging is not None:
                index.discard(staging)
            raise
        if index is not None and staging is not None:
            index.publish(staging, own_key)
        counts = {str(k): int(v) for k, v in reasons.items()}
        return {
            "index_parts": len(parts),
            "dropped": sum(counts.values()),
            "dropped_against_index": counts.get("duplicate_of_index", 0),
        }

    def load(self, resolution_dir: str, shard_key: str) -> dict[str, Drop]:
        return load_drops(resolution_dir, shard_key, "duplicate")

    def apply(self, batch: pa.Table, state: dict[str, Drop], step_id: str) -> StepResult:
        return apply_drops(batch, state, step_id)


_HASH_META = pd.DataFrame(
    {
        "part": pd.Series([], dtype="int64"),
        "hash_high": pd.Series([], dtype="uint64"),
        "hash_low": pd.Series([], dtype="uint64"),
        "id": pd.Series([], dtype="string"),
        "priority": pd.Series([], dtype="int64"),
        "shard": pd.Series([], dtype="string"),
    }
)
_DROP_META = pd.DataFrame(
    {
        "id": pd.Series([], dtype="string"),
        "duplicate_of": pd.Series([], dtype="string"),
        "reason": pd.Series([], dtype="string"),
        "shard": pd.Series([], dtype="string"),
    }
)


def _read_hashes(path: str, bits: int) -> pd.DataFrame:
    """One signature file (an empty shard's placeholder file reads as no rows)."""
    table = read_columns(path, ["hash_high", "hash_low", "id", "priority", "shard"])
    if table is None:
        return _HASH_META.copy()
    high = table.column("hash_high").to_numpy()
    frame = table.to_pandas().astype(_HASH_META.dtypes.drop("part").to_dict())
    frame.insert(0, "part", (high >> np.uint64(64 - bits)).astype(np.int64) if bits else 0)
    return frame


def _duplicates_in_range(
    frame: pd.DataFrame, parts: list[IndexPart], bits: int, staging: str | None
) -> pd.DataFrame:
    """Within one hash range: every document but the preferred one of its group, and every
    document whose hash the index holds."""
    if frame.empty:
        return _DROP_META.copy()
    prefix = int(frame.index[0])
    frame = frame.reset_index(drop=True).assign(indexed=False)
    indexed = [
        read_key_range(
            part.files_overlapping(bits, prefix), "hash_high", bits, prefix,
            ["hash_high", "hash_low", "id"],
        ).to_pandas()
        for part in parts
    ]  # fmt: skip
    indexed = [rows for rows in indexed if len(rows)]
    if indexed:
        rows = pd.concat(indexed, ignore_index=True).astype(
            {"hash_high": "uint64", "hash_low": "uint64", "id": "string"}
        )
        frame = pd.concat(
            [frame, rows.assign(priority=0, shard="", indexed=True)], ignore_index=True
        )
    ordered = frame.sort_values(
        ["hash_high", "hash_low", "indexed", "priority", "id"],
        ascending=[True, True, False, False, True],
    )
    groups = ordered.groupby(["hash_high", "hash_low"], sort=False)
    kept_id = groups["id"].transform("first")
    kept_indexed = groups["indexed"].transform("first").astype(bool)
    duplicate = (ordered["id"] != kept_id) | (kept_indexed & ~ordered["indexed"].astype(bool))
    duplicate &= ~ordered["indexed"].astype(bool)
    if staging is not None:
        survivors = ordered[~duplicate & ~ordered["indexed"].astype(bool)]
        write_parquet(
            pa.table(
                {
                    "hash_high": survivors["hash_high"].to_numpy(dtype=np.uint64),
                    "hash_low": survivors["hash_low"].to_numpy(dtype=np.uint64),
                    "id": pa.array(survivors["id"].to_numpy(dtype=object), pa.string()),
                }
            ),
            posixpath.join(staging, range_file_name(bits, prefix)),
        )
    return pd.DataFrame(
        {
            "id": ordered["id"][duplicate].astype("string"),
            "duplicate_of": kept_id[duplicate].astype("string"),
            "reason": np.where(kept_indexed[duplicate], "duplicate_of_index", "duplicate"),
            "shard": ordered["shard"][duplicate].astype("string"),
        }
    ).astype(_DROP_META.dtypes.to_dict()).reset_index(drop=True)
