"""Build one packed output shard from the precomputed plan: a Dask task per shard.

The plan (``out/work/mixture/plan.arrow``) lists every piece (the part of one document
inside one row) in stream order with its token shard, document, offset and position;
shard *k* covers rows ``[k·R, (k+1)·R)`` of the stream, so its task reads only the plan
slice of those rows and copies the pieces' tokens (memory-mapped token shards) into an
``R x row_length`` array — memory stays bounded by the shard size. Every row holds one
source (``source``); ``doc_start`` marks the tokens where a document, or the rest of one,
begins (the mask for attention that must not cross documents) and ``num_tokens`` counts
the tokens that are not padding. Every column has a fixed size per row, so a default
``DataLoader`` collate stacks rows read through ``datasets`` without a custom function.

Shards are Arrow IPC *stream* files, uncompressed, one record batch: the format
``datasets.Dataset.from_file`` reads and that maps into memory without a copy (every
``.arrow`` file gristmill writes is an IPC stream). They are written atomically, hashed
(sha256), and marked done for resume.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from gristmill.io.writers import write_marker
from gristmill.mixture.arrow_files import map_table, write_file_atomically

PLAN_SCHEMA = pa.schema(
    [
        ("source", pa.int16()),
        ("file", pa.int32()),
        ("row", pa.int32()),
        ("offset", pa.int64()),
        ("n_tokens", pa.int32()),
        ("position", pa.int64()),
    ]
)


def shard_schema(dtype: str, row_length: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field(
                "input_ids",
                pa.list_(pa.from_numpy_dtype(np.dtype(dtype)), row_length),
                nullable=False,
            ),
            pa.field("num_tokens", pa.int32(), nullable=False),
            pa.field("source", pa.int16(), nullable=False),
            pa.field("doc_start", pa.list_(pa.bool_(), row_length), nullable=False),
        ]
    )


@dataclass(frozen=True)
class ShardTask:
    index: int
    url: str
    plan_url: str
    plan_start: int
    plan_stop: int
    row_start: int
    rows: int
    row_length: int
    token_urls: tuple[str, ...]
    dtype: str
    pad_id: int
    num_sources: int
    fingerprint: str


class TokenShards:
    """Random access to documents of the token shards (``input_ids`` of row ``r``)."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        self.urls = urls
        self._open: dict[int, tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]] = {}

    def tokens(self, file: int, row: int) -> np.ndarray:
        if file not in self._open:
            self._open[file] = self._load(self.urls[file])
        starts, chunks = self._open[file]
        chunk = int(np.searchsorted(starts, row, side="right")) - 1
        offsets, values = chunks[chunk]
        local = row - int(starts[chunk])
        return values[offsets[local] : offsets[local + 1]]

    @staticmethod
    def _load(url: str) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        column = map_table(url).column("input_ids")
        chunks = []
        starts = [0]
        for chunk in column.chunks:
            offsets = chunk.offsets.to_numpy()
            chunks.append((offsets, chunk.values.to_numpy(zero_copy_only=False)))
            starts.append(starts[-1] + len(chunk))
        return np.asarray(starts[:-1], dtype=np.int64), chunks


def build_rows(task: ShardTask, plan: pa.Table, shards: TokenShards) -> tuple[pa.Table, dict]:
    """The shard's rows as a table, and per-source token counts."""
    length = task.row_length
    begin = task.row_start * length
    buffer = np.full(task.rows * length, task.pad_id, dtype=task.dtype)
    doc_start = np.zeros(task.rows * length, dtype=bool)
    row_source = np.full(task.rows, -1, dtype=np.int16)
    num_tokens = np.zeros(task.rows, dtype=np.int32)
    by_source = np.zeros(task.num_sources, dtype=np.int64)
    columns = [plan.column(name).to_numpy() for name in
               ("source", "file", "row", "offset", "n_tokens", "position")]  # fmt: skip
    for source, file, row, offset, size, position in zip(*(c.tolist() for c in columns),
                                                          strict=True):  # fmt: skip
        tokens = shards.tokens(file, row)
        if offset + size > tokens.size:
            raise ValueError(
                f"{shards.urls[file]} row {row}: {tokens.size} tokens, the plan takes "
                f"[{offset}, {offset + size}); the token shards changed since the plan was made"
            )
        local = position - begin
        buffer[local : local + size] = tokens[offset : offset + size]
        doc_start[local] = True
        row_source[local // length] = source
        num_tokens[local // length] += size
        by_source[source] += size
    if (row_source < 0).any():
        empty = int(np.argmax(row_source < 0)) + task.row_start
        raise ValueError(f"{task.url}: the plan puts no tokens in row {empty}")
    table = pa.Table.from_arrays(
        [
            pa.FixedSizeListArray.from_arrays(pa.array(buffer), length),
            pa.array(num_tokens),
            pa.array(row_source),
            pa.FixedSizeListArray.from_arrays(pa.array(doc_start), length),
        ],
        schema=shard_schema(task.dtype, length),
    )
    return table, {"tokens_by_source": by_source.tolist(), "tokens": int(by_source.sum())}


def write_shard(task: ShardTask) -> dict[str, Any]:
    """Build and write shard ``task.index``; returns rows, sha256 and token counts."""
    started = time.perf_counter()
    plan = map_table(task.plan_url).slice(task.plan_start, task.plan_stop - task.plan_start)
    table, counts = build_rows(task, plan, TokenShards(task.token_urls))
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(1, table.num_rows))
    data = sink.getvalue()
    digest = hashlib.sha256(memoryview(data)).hexdigest()
    write_file_atomically(task.url, data)
    record = {
        "index": task.index,
        "rows": table.num_rows,
        "bytes": data.size,
        "sha256": digest,
        **counts,
        "seconds": round(time.perf_counter() - started, 4),
    }
    write_marker(task.url, {"fingerprint": task.fingerprint, "stats": record})
    return record
