"""Resolutions read back per shard: a Parquet dataset partitioned by shard bucket.

A global step's resolve phase writes what each shard's ``apply`` needs (spans to cut,
n-grams that matched) as one dask dataframe partitioned on the ``shard`` column the runner
adds to signatures, so an ``apply`` task reads only its own part (as
:mod:`gristmill.dedupe.drop_list` does for whole documents).
"""

from __future__ import annotations

import posixpath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.steps import shard_bucket
from gristmill.storage import options_for, url_to_fs


def write_shard_parts(frame: Any, resolution_dir: str, name: str) -> None:
    """Write a dask dataframe with a ``shard`` column under ``resolution_dir/name``."""
    frame.to_parquet(
        posixpath.join(resolution_dir, name),
        partition_on=["shard"],
        write_index=False,
        storage_options=options_for(resolution_dir),
    )


def read_shard_part(
    resolution_dir: str, name: str, shard_key: str, columns: list[str]
) -> pa.Table | None:
    """The rows of one shard (None when the resolution has none for it)."""
    fs, root = url_to_fs(resolution_dir)
    part = posixpath.join(root, name, f"shard={shard_bucket(shard_key)}")
    if not fs.exists(part):
        return None
    import pyarrow.dataset as ds  # here, not at import: pyarrow.dataset imports pandas

    table = ds.dataset(part, filesystem=fs, format="parquet").to_table(columns=columns)
    return table if table.num_rows else None


def files_with_rows(paths: list[str]) -> list[str]:
    """The signature files that hold rows (a shard left empty before ``collect`` has a file
    with no rows and the document schema, which must not reach a dask read)."""
    kept = []
    for path in paths:
        fs, root = url_to_fs(path)
        if fs.exists(root) and pq.read_metadata(root, filesystem=fs).num_rows > 0:
            kept.append(path)
    return kept
