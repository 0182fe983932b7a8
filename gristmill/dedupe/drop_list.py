"""Resolutions that drop whole documents: written once, read per shard.

A global step that removes documents (exact or MinHash dedup, dataset-level dedup) resolves
to a table ``(id, shard, duplicate_of)`` of the documents to drop. It is written as a Parquet
dataset partitioned by shard bucket, so that each ``apply`` task reads only its own part.
"""

from __future__ import annotations

import posixpath

import pyarrow as pa
import pyarrow.dataset as ds
from fsspec.core import url_to_fs

from gristmill.steps import StepResult, shard_bucket, split_by_reasons

DROP_LIST_DIR = "drops"


def load_drop_list(resolution_dir: str, shard_key: str) -> dict[str, str]:
    """``{id: duplicate_of}`` for the documents of one shard to drop (empty if none)."""
    fs, root = url_to_fs(resolution_dir)
    part = posixpath.join(root, DROP_LIST_DIR, f"shard={shard_bucket(shard_key)}")
    if not fs.exists(part):
        return {}
    table = ds.dataset(part, filesystem=fs, format="parquet").to_table(
        columns=["id", "duplicate_of"]
    )
    return dict(zip(table.column("id").to_pylist(), table.column("duplicate_of").to_pylist(), strict=True))


def apply_drop_list(
    batch: pa.Table, drops: dict[str, str], step_id: str, reason: str
) -> StepResult:
    """Drop the listed documents under ``<step_id>:<reason>``, recording ``duplicate_of``."""
    if not drops or batch.num_rows == 0:
        return StepResult(kept=batch)
    ids = batch.column("id").to_pylist()
    result = split_by_reasons(batch, [reason if i in drops else None for i in ids], step_id)
    if result.rejected is not None:
        kept_ids = [drops[i] for i in result.rejected.column("id").to_pylist()]
        result.rejected = result.rejected.append_column(
            "duplicate_of", pa.array(kept_ids, type=pa.string())
        )
    return result
