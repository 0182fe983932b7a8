"""The document schema and batch helpers.

A *document batch* is a ``pyarrow.Table`` with the columns of :data:`DOC_SCHEMA`
(``id, source, text, url, meta``) plus any signal columns steps add
(``<step>_<signal>``). Ids are ``{source}/{shard}/{ordinal}``: the same input gives
the same id on every run, so outputs can be compared and resumed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

DOC_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("meta", pa.string()),
    ]
)
DOC_COLUMNS = tuple(DOC_SCHEMA.names)

#: Default batch bounds: a reader flushes a batch at whichever it reaches first.
DEFAULT_BATCH_DOCS = 1024
DEFAULT_BATCH_BYTES = 1024 * 1024


def document_id(source: str, shard: str, ordinal: int) -> str:
    """The stable id of the ``ordinal``-th record of ``shard`` in ``source``."""
    return f"{source}/{shard}/{ordinal}"


def empty_batch(schema: pa.Schema = DOC_SCHEMA) -> pa.Table:
    return schema.empty_table()


def encode_meta(meta: Mapping[str, Any] | None) -> str | None:
    """Meta is stored as compact JSON with sorted keys (byte-stable across runs)."""
    if not meta:
        return None
    try:
        return orjson.dumps(meta, option=orjson.OPT_SORT_KEYS, default=str).decode("utf-8")
    except TypeError:  # integers beyond 64 bits and other values orjson refuses
        return json.dumps(
            meta, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
        )


def decode_meta(meta: str | None) -> dict[str, Any]:
    return json.loads(meta) if meta else {}


def make_batch(
    ids: list[str],
    source: str,
    texts: list[str],
    urls: list[str | None],
    metas: list[str | None],
) -> pa.Table:
    """Build a batch of the document schema from plain Python lists."""
    n = len(ids)
    source_array = pa.DictionaryArray.from_arrays(
        pa.array([0] * n, type=pa.int32()), pa.array([source], type=pa.string())
    )
    return pa.Table.from_arrays(
        [
            pa.array(ids, type=pa.string()),
            source_array,
            pa.array(texts, type=pa.large_string()),
            pa.array(urls, type=pa.string()),
            pa.array(metas, type=pa.string()),
        ],
        schema=DOC_SCHEMA,
    )


class BatchBuilder:
    """Accumulates documents of one shard and hands out bounded batches.

    ``add`` returns a full batch when the document or byte bound is reached, else None;
    ``flush`` returns what is left. Readers use it so that memory stays bounded whatever
    the size of the shard.
    """

    def __init__(
        self,
        source: str,
        shard: str,
        max_docs: int = DEFAULT_BATCH_DOCS,
        max_bytes: int = DEFAULT_BATCH_BYTES,
    ) -> None:
        self.source = source
        self.shard = shard
        self.max_docs = max_docs
        self.max_bytes = max_bytes
        self._reset()

    def _reset(self) -> None:
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._urls: list[str | None] = []
        self._metas: list[str | None] = []
        self._bytes = 0

    def add(
        self,
        ordinal: int,
        text: str,
        url: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> pa.Table | None:
        self._ids.append(document_id(self.source, self.shard, ordinal))
        self._texts.append(text)
        self._urls.append(url)
        self._metas.append(encode_meta(meta))
        self._bytes += len(text)
        if len(self._ids) >= self.max_docs or self._bytes >= self.max_bytes:
            return self.flush()
        return None

    def flush(self) -> pa.Table | None:
        if not self._ids:
            return None
        batch = make_batch(self._ids, self.source, self._texts, self._urls, self._metas)
        self._reset()
        return batch


def text_bytes(batch: pa.Table) -> int:
    """UTF-8 bytes of the text column (what throughput and the funnel count)."""
    if batch.num_rows == 0:
        return 0
    return int(pc.sum(pc.binary_length(batch.column("text"))).as_py() or 0)
