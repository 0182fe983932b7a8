"""Resolutions that drop whole documents: written once, read per shard.

A global step that removes documents (exact or MinHash dedup, dataset-level dedup) resolves
to a table ``(id, shard, duplicate_of[, reason, cluster_size])`` of the documents to drop.
It is written as a Parquet dataset partitioned by shard bucket, so that each ``apply`` task
reads only its own part. Dropped documents carry the id of the document kept in their place
in a ``duplicate_of`` column and in their ``meta`` (``duplicate_of``, ``cluster_size``), so
that the rejected output (``write_rejected``) lets a user audit every cluster.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.steps import StepResult, shard_bucket, split_by_reasons
from gristmill.storage import options_for, url_to_fs

if TYPE_CHECKING:
    import pandas as pd

DROP_LIST_DIR = "drops"


@dataclass(frozen=True)
class Drop:
    """Why one document goes: the kept twin, the reason, the size of the cluster."""

    duplicate_of: str
    reason: str
    cluster_size: int | None = None


def write_drop_list(drops: Any, resolution_dir: str) -> Any:
    """The delayed write of ``drops`` (a dask dataframe with a ``shard`` column) as the drop
    list. The rows are shuffled on their shard first, so that each shard's rows are in one
    partition: the dataset then holds one file per shard, not one per (partition, shard)
    pair — a number that grows with the square of the corpus (partitions and shards both
    grow with it). Drop rows are few (one per duplicate), so the task-based shuffle moves
    them: the peer-to-peer one's fixed start-up would cost more than the move."""
    if drops.npartitions > 1:
        drops = drops.shuffle(on="shard", shuffle_method="tasks")
    return drops.to_parquet(
        posixpath.join(resolution_dir, DROP_LIST_DIR),
        storage_options=options_for(resolution_dir),
        partition_on=["shard"],
        write_index=False,
        compute=False,
    )


def write_drop_table(drops: pd.DataFrame, resolution_dir: str) -> None:
    """Write ``drops`` (a pandas frame with a ``shard`` column) as the drop list, in the
    layout of :func:`write_drop_list`: one ``shard=<bucket>`` folder of Parquet per shard."""
    fs, root = url_to_fs(resolution_dir)
    table = pa.Table.from_pandas(drops, preserve_index=False)
    pq.write_to_dataset(
        table,
        posixpath.join(root, DROP_LIST_DIR),
        partition_cols=["shard"],
        filesystem=fs,
        basename_template="part-{i}.parquet",
    )


def load_drop_table(resolution_dir: str, bucket: str, bucket_is_hashed: bool = False) -> dict:
    """The drop rows of one shard as ``{column: list}`` (empty dict if none); ``bucket`` is
    the shard key, or its :func:`shard_bucket` when ``bucket_is_hashed``."""
    fs, root = url_to_fs(resolution_dir)
    name = bucket if bucket_is_hashed else shard_bucket(bucket)
    part = posixpath.join(root, DROP_LIST_DIR, f"shard={name}")
    if not fs.exists(part):
        return {}
    import pyarrow.dataset as ds  # here, not at import: pyarrow.dataset imports pandas

    dataset = ds.dataset(part, filesystem=fs, format="parquet")
    columns = [c for c in ("id", "duplicate_of", "reason", "cluster_size") if c in dataset.schema.names]
    return dataset.to_table(columns=columns).to_pydict()


def load_drop_list(resolution_dir: str, shard_key: str) -> dict[str, str]:
    """``{id: duplicate_of}`` for the documents of one shard to drop (empty if none)."""
    table = load_drop_table(resolution_dir, shard_key)
    if not table:
        return {}
    return dict(zip(table["id"], table["duplicate_of"], strict=True))


def load_drops(resolution_dir: str, shard_key: str, default_reason: str) -> dict[str, Drop]:
    """``{id: Drop}`` for the documents of one shard to drop (empty if none)."""
    table = load_drop_table(resolution_dir, shard_key)
    if not table:
        return {}
    count = len(table["id"])
    reasons = table.get("reason", [default_reason] * count)
    sizes = table.get("cluster_size", [None] * count)
    return {
        doc_id: Drop(twin, reason or default_reason, size)
        for doc_id, twin, reason, size in zip(
            table["id"], table["duplicate_of"], reasons, sizes, strict=True
        )
    }


def apply_drop_list(
    batch: pa.Table, drops: dict[str, str], step_id: str, reason: str
) -> StepResult:
    """Drop the listed documents under ``<step_id>:<reason>``, recording ``duplicate_of``."""
    return apply_drops(batch, {i: Drop(twin, reason) for i, twin in drops.items()}, step_id)


def apply_drops(batch: pa.Table, drops: dict[str, Drop], step_id: str) -> StepResult:
    """Drop the listed documents under ``<step_id>:<their reason>``; the rejected rows get
    a ``duplicate_of`` column and ``duplicate_of`` (and ``cluster_size``) in their meta."""
    if not drops or batch.num_rows == 0:
        return StepResult(kept=batch)
    ids = batch.column("id").to_pylist()
    reasons = [drops[i].reason if i in drops else None for i in ids]
    result = split_by_reasons(batch, reasons, step_id)
    if result.rejected is not None:
        rejected = result.rejected
        dropped = [drops[i] for i in rejected.column("id").to_pylist()]
        metas = [
            _audit_meta(meta, drop)
            for meta, drop in zip(rejected.column("meta").to_pylist(), dropped, strict=True)
        ]
        rejected = rejected.set_column(
            rejected.schema.get_field_index("meta"), "meta", pa.array(metas, pa.string())
        )
        result.rejected = rejected.append_column(
            "duplicate_of", pa.array([d.duplicate_of for d in dropped], type=pa.string())
        )
    return result


def _audit_meta(meta: str | None, drop: Drop) -> str:
    values = json.loads(meta) if meta else {}
    values["duplicate_of"] = drop.duplicate_of
    if drop.cluster_size is not None:
        values["cluster_size"] = int(drop.cluster_size)
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
