"""Encode one cleaned shard into token ids: a Dask map task per shard.

Documents are streamed in batches through the tokenizer (loaded once per worker, see
:mod:`gristmill.tokenize.model`), an EOS id is appended to every document (and BOS put
in front when asked), and ``out/tokens/<source>/<shard>.arrow`` is written atomically with
columns ``id, source, input_ids, n_tokens`` — ``input_ids`` as ``uint16`` when the
vocabulary fits, else ``int32`` — followed by its ``.done`` marker, so a re-run skips
shards already encoded with the same tokenizer and input.
"""

from __future__ import annotations

import base64
import itertools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from gristmill.io.writers import ShardWriter, write_marker
from gristmill.tokenize.model import load_tokenizer
from gristmill.tokenize.shard_text import iter_text_batches


def token_schema(dtype: str) -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("source", pa.dictionary(pa.int32(), pa.string()), nullable=False),
            pa.field("input_ids", pa.list_(pa.from_numpy_dtype(np.dtype(dtype))), nullable=False),
            pa.field("n_tokens", pa.int32(), nullable=False),
        ]
    )


@dataclass(frozen=True)
class EncodeTask:
    source: str
    data_url: str
    token_url: str
    model_url: str
    backend: str
    sha256: str
    eos_id: int
    bos_id: int | None
    dtype: str
    batch_docs: int
    threads: int
    fingerprint: str


def encode_texts(
    encoded: list[list[int]], eos_id: int, bos_id: int | None, dtype: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten per-document ids, adding EOS (and BOS); returns offsets, values, raw ids."""
    extra = 1 + (bos_id is not None)
    lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
    raw = np.fromiter(
        itertools.chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum())
    )
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths + extra, out=offsets[1:])
    values = np.empty(int(offsets[-1]), dtype=dtype)
    added = np.zeros(values.size, dtype=bool)
    added[offsets[1:] - 1] = True
    values[offsets[1:] - 1] = eos_id
    if bos_id is not None:
        added[offsets[:-1]] = True
        values[offsets[:-1]] = bos_id
    values[~added] = raw
    return offsets, values, raw


def encode_shard(task: EncodeTask) -> dict[str, Any]:
    """Encode the shard at ``task.data_url``; returns counts and the ids used."""
    tokenizer = load_tokenizer(task.model_url, task.backend, task.sha256)
    schema = token_schema(task.dtype)
    if np.iinfo(np.dtype(task.dtype)).max < tokenizer.vocab_size - 1:
        raise ValueError(f"vocabulary of {tokenizer.vocab_size} ids does not fit {task.dtype}")
    used = np.zeros(tokenizer.vocab_size, dtype=bool)
    stats = {"source": task.source, "docs": 0, "tokens": 0, "bytes": 0, "byte_tokens": 0}
    encode_s = encode_cpu_s = 0.0
    writer = ShardWriter(task.token_url, "arrow")
    writer.write(schema.empty_table())
    try:
        for batch in iter_text_batches(task.data_url, task.batch_docs):
            texts = batch.column("text").to_pylist()
            started, cpu = time.perf_counter(), time.process_time()
            encoded = tokenizer.encode_batch(texts, task.threads)
            encode_s += time.perf_counter() - started
            encode_cpu_s += time.process_time() - cpu
            offsets, values, raw = encode_texts(encoded, task.eos_id, task.bos_id, task.dtype)
            used[raw] = True
            stats["docs"] += batch.num_rows
            stats["tokens"] += int(values.size)
            stats["bytes"] += sum(len(text.encode("utf-8")) for text in texts)
            stats["byte_tokens"] += int(tokenizer.byte_mask[raw].sum())
            writer.write(_token_batch(batch, task.source, offsets, values, schema))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    stats["encode_s"] = round(encode_s, 4)
    stats["encode_cpu_s"] = round(encode_cpu_s, 4)
    stats["used_ids"] = base64.b64encode(np.packbits(used).tobytes()).decode("ascii")
    write_marker(task.token_url, {"fingerprint": task.fingerprint, "stats": stats})
    return stats


def used_ids(stats: dict[str, Any], vocab_size: int) -> np.ndarray:
    """The boolean "id occurs" vector stored in an encoding record."""
    packed = np.frombuffer(base64.b64decode(stats["used_ids"]), dtype=np.uint8)
    return np.unpackbits(packed)[:vocab_size].astype(bool)


def _token_batch(
    batch: pa.Table, source: str, offsets: np.ndarray, values: np.ndarray, schema: pa.Schema
) -> pa.Table:
    rows = batch.num_rows
    lengths = np.diff(offsets).astype(np.int32)
    input_ids = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values))
    source_column = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(rows, dtype=np.int32)), pa.array([source], pa.string())
    )
    return pa.Table.from_arrays(
        [batch.column("id").cast(pa.string()), source_column, input_ids, pa.array(lengths)],
        schema=schema,
    )
