"""Build one packed output shard from the precomputed plan: a Dask task per shard.

The plan (``out/work/mixture/plan.arrow``) lists every document instance in stream order
with its token shard, row and start position; shard *k* covers rows ``[k·R, (k+1)·R)`` of
the stream, so its task reads only the plan slice overlapping them and copies those
documents' tokens (memory-mapped token shards) into an ``R x row_length`` array — memory
stays bounded by the shard size. Each row records where documents start (``doc_starts``,
0 also when the row begins inside a document) and their sources (``doc_sources``), so a
trainer can mask attention across documents, and ``num_tokens`` (the rest is padding).

Shards are Arrow IPC *stream* files, uncompressed, one record batch: the format
``datasets.Dataset.from_file`` reads and that maps into memory without a copy. They are
written atomically, hashed (sha256), and marked done for resume.
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
            pa.field("doc_starts", pa.list_(pa.int32()), nullable=False),
            pa.field("doc_sources", pa.list_(pa.int16()), nullable=False),
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
        column = map_table(url, stream=False).column("input_ids")
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
    stop = begin + task.rows * length
    buffer = np.full(task.rows * length, task.pad_id, dtype=task.dtype)
    valid = np.zeros(task.rows * length, dtype=bool)
    by_source = np.zeros(task.num_sources, dtype=np.int64)
    sources = plan.column("source").to_numpy()
    files = plan.column("file").to_numpy()
    rows = plan.column("row").to_numpy()
    sizes = plan.column("n_tokens").to_numpy()
    positions = plan.column("position").to_numpy()
    for source, file, row, size, position in zip(
        sources.tolist(),
        files.tolist(),
        rows.tolist(),
        sizes.tolist(),
        positions.tolist(),
        strict=True,
    ):
        tokens = shards.tokens(file, row)
        if tokens.size != size:
            raise ValueError(
                f"{shards.urls[file]} row {row}: {tokens.size} tokens, the plan says {size}; "
                "the token shards changed since the plan was made"
            )
        low, high = max(position, begin), min(position + size, stop)
        buffer[low - begin : high - begin] = tokens[low - position : high - position]
        valid[low - begin : high - begin] = True
        by_source[source] += high - low
    starts, segment_sources = _segments(task, sources, sizes, positions)
    num_tokens = valid.reshape(task.rows, length).sum(axis=1).astype(np.int32)
    input_ids = pa.FixedSizeListArray.from_arrays(pa.array(buffer), length)
    table = pa.Table.from_arrays(
        [input_ids, pa.array(num_tokens), starts, segment_sources],
        schema=shard_schema(task.dtype, length),
    )
    return table, {"tokens_by_source": by_source.tolist(), "tokens": int(valid.sum())}


def _segments(
    task: ShardTask, sources: np.ndarray, sizes: np.ndarray, positions: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    """Per row: offsets where a document (or the rest of one) starts, and its source."""
    length = task.row_length
    begin = task.row_start * length
    ends = positions + sizes
    # a document starting inside this shard
    inside = positions >= begin
    seg_row = (positions[inside] - begin) // length
    seg_offset = (positions[inside] - begin) % length
    seg_source = sources[inside]
    # a row whose first token belongs to a document that started before the row
    row_first = begin + np.arange(task.rows, dtype=np.int64) * length
    covering = np.searchsorted(positions, row_first, side="right") - 1
    has_doc = covering >= 0
    has_doc[has_doc] = (positions[covering[has_doc]] < row_first[has_doc]) & (
        ends[covering[has_doc]] > row_first[has_doc]
    )
    cont_rows = np.nonzero(has_doc)[0]
    all_rows = np.concatenate([seg_row, cont_rows])
    all_offsets = np.concatenate([seg_offset, np.zeros(cont_rows.size, dtype=np.int64)])
    all_sources = np.concatenate([seg_source, sources[covering[cont_rows]]])
    order = np.lexsort((all_offsets, all_rows))
    counts = np.bincount(all_rows, minlength=task.rows)
    list_offsets = np.zeros(task.rows + 1, dtype=np.int32)
    np.cumsum(counts, out=list_offsets[1:])
    starts = pa.ListArray.from_arrays(
        pa.array(list_offsets), pa.array(all_offsets[order].astype(np.int32))
    )
    segment_sources = pa.ListArray.from_arrays(
        pa.array(list_offsets), pa.array(all_sources[order].astype(np.int16))
    )
    return starts, segment_sources


def write_shard(task: ShardTask) -> dict[str, Any]:
    """Build and write shard ``task.index``; returns rows, sha256 and token counts."""
    started = time.perf_counter()
    plan = map_table(task.plan_url, stream=False).slice(
        task.plan_start, task.plan_stop - task.plan_start
    )
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
