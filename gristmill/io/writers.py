"""Atomic shard writers (Arrow IPC, Parquet, JSONL.gz) and completion markers.

A shard is written to a temporary name beside its destination and renamed when complete;
a ``<shard>.done`` marker (JSON: config fingerprint and the shard's stats) is written after
the rename. A shard without a matching marker is incomplete and is redone on resume.
Output bytes depend only on the rows written (no timestamps), so runs are byte-identical.

Every ``.arrow`` file gristmill writes is an Arrow IPC *stream* (what
``datasets.Dataset.from_file`` and ``pyarrow.ipc.open_stream`` read, and what the mixture
shards for the trainer must be), so one call opens any of them; the readers here also
accept the IPC *file* format (``ARROW1`` magic) that earlier versions wrote.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from typing import Any, Literal

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from gristmill.documents import DOC_SCHEMA
from gristmill.records import read_json, write_bytes
from gristmill.storage import open_url, url_to_fs

OutputFormat = Literal["arrow", "parquet", "jsonl"]
SUFFIXES: dict[str, str] = {"arrow": ".arrow", "parquet": ".parquet", "jsonl": ".jsonl.gz"}
MARKER_SUFFIX = ".done"


def format_of(url: str) -> OutputFormat | None:
    """The output format a shard name's suffix promises, or None for another suffix."""
    for fmt, suffix in SUFFIXES.items():
        if url.endswith(suffix):
            return fmt  # type: ignore[return-value]
    return None


class ShardWriter:
    """Stream batches into one output shard; ``close()`` publishes it atomically.

    The first batch fixes the schema; later batches are conformed to it (same columns,
    same types). A shard that received no rows is still written, with the document schema,
    so that "no documents" and "not done" stay distinguishable.
    """

    def __init__(self, url: str, fmt: OutputFormat = "arrow") -> None:
        if fmt not in SUFFIXES:
            raise ValueError(f"unknown output format {fmt!r}; allowed: {', '.join(SUFFIXES)}")
        named = format_of(url)
        if named is not None and named != fmt:  # the bytes must match the extension
            raise ValueError(f"{url}: a {named} name for a shard written as {fmt}")
        self.url = url
        self.format = fmt
        self.fs, self.path = url_to_fs(url)
        self.tmp_path = f"{self.path}.tmp-{uuid.uuid4().hex[:12]}"
        self.schema: pa.Schema | None = None
        self.rows = 0
        self._file = None
        self._writer: Any = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _open(self, schema: pa.Schema) -> None:
        self.fs.makedirs(self.fs._parent(self.path), exist_ok=True)
        self.schema = schema
        self._file = self.fs.open(self.tmp_path, "wb")
        if self.format == "arrow":
            self._writer = ipc.new_stream(self._file, schema)
        elif self.format == "parquet":
            self._writer = pq.ParquetWriter(self._file, schema, compression="zstd")
        else:
            self._writer = gzip.GzipFile(fileobj=self._file, mode="wb", mtime=0, filename="")

    def write(self, batch: pa.Table) -> None:
        if self._writer is None:
            self._open(batch.schema)
        elif batch.schema != self.schema:
            batch = conform(batch, self.schema)
        if batch.num_rows == 0:
            return
        self.rows += batch.num_rows
        if self.format == "jsonl":
            lines = [
                json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)
                for row in batch.to_pylist()
            ]
            self._writer.write(("\n".join(lines) + "\n").encode("utf-8"))
        else:
            self._writer.write_table(batch)

    def close(self) -> int:
        if self._writer is None:
            self._open(DOC_SCHEMA)
        self._writer.close()
        self._file.close()
        self.fs.mv(self.tmp_path, self.path)
        return self.rows

    def abort(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
                self._file.close()
        finally:
            if self.fs.exists(self.tmp_path):
                self.fs.rm(self.tmp_path)


def conform(batch: pa.Table, schema: pa.Schema) -> pa.Table:
    """Give ``batch`` exactly the columns and types of ``schema``."""
    if set(batch.schema.names) != set(schema.names):
        raise ValueError(
            f"batch columns {batch.schema.names} differ from the shard's {schema.names}"
        )
    return batch.select(schema.names).cast(schema)


def write_marker(url: str, payload: dict[str, Any]) -> None:
    """Write ``<url>.done`` atomically after the shard itself is in place."""
    write_bytes(url + MARKER_SUFFIX, json.dumps(payload, sort_keys=True).encode("utf-8"))


def read_marker(url: str) -> dict[str, Any] | None:
    return read_json(url + MARKER_SUFFIX)


def read_table(url: str) -> pa.Table:
    """Read a whole shard written by :class:`ShardWriter` (any format, by suffix)."""
    with open_url(url, "rb") as handle:
        if url.endswith(".arrow"):
            schema, batches = open_ipc(handle)
            return pa.Table.from_batches(list(batches), schema)
        if url.endswith(".parquet"):
            return pq.read_table(handle)
    with open_url(url, "rb", compression="gzip") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return pa.Table.from_pylist(rows)


def iter_arrow_batches(url: str, max_rows: int = 1024):
    """Stream an Arrow IPC shard as tables of at most ``max_rows`` rows."""
    with open_url(url, "rb") as handle:
        for record_batch in iter_ipc_batches(handle):
            for offset in range(0, max(record_batch.num_rows, 1), max_rows):
                piece = record_batch.slice(offset, max_rows)
                if piece.num_rows:
                    yield pa.Table.from_batches([piece])


IPC_FILE_MAGIC = b"ARROW1"


def open_ipc(handle) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The schema and record batches of an open Arrow IPC stream or file (by the magic)."""
    head = handle.read(len(IPC_FILE_MAGIC))
    handle.seek(0)
    if head == IPC_FILE_MAGIC:
        reader = ipc.open_file(handle)
        return reader.schema, (reader.get_batch(i) for i in range(reader.num_record_batches))
    stream = ipc.open_stream(handle)
    return stream.schema, iter(stream)


def iter_ipc_batches(handle) -> Iterator[pa.RecordBatch]:
    """The record batches of an open Arrow IPC stream or file."""
    return open_ipc(handle)[1]
