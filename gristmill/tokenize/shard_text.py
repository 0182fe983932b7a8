"""Stream ``id``/``text`` batches out of the pipeline's final shards, whatever their format.

The document stages write Arrow IPC (default), Parquet or gzipped JSONL
(:mod:`gristmill.io.writers`); tokenizer sampling and encoding read them in bounded batches
so a shard of any size never sits in memory whole.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.io.writers import iter_arrow_batches
from gristmill.storage import open_url

COLUMNS = ("id", "text")


def iter_text_batches(url: str, max_rows: int = 1024) -> Iterator[pa.Table]:
    """Tables with the ``id`` and ``text`` columns of the shard at ``url``."""
    if url.endswith(".arrow"):
        for batch in iter_arrow_batches(url, max_rows):
            yield batch.select(list(COLUMNS))
    elif url.endswith(".parquet"):
        with open_url(url, "rb") as handle:
            reader = pq.ParquetFile(handle)
            for record_batch in reader.iter_batches(batch_size=max_rows, columns=list(COLUMNS)):
                yield pa.Table.from_batches([record_batch])
    elif url.endswith(".jsonl.gz"):
        yield from _jsonl_batches(url, max_rows)
    else:
        raise ValueError(
            f"{url}: cannot read documents from this shard; the tokenizer reads the "
            "output formats arrow, parquet and jsonl (.jsonl.gz)"
        )


def _jsonl_batches(url: str, max_rows: int) -> Iterator[pa.Table]:
    ids: list[str] = []
    texts: list[str] = []
    with open_url(url, "rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                ids.append(row["id"])
                texts.append(row["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(
                    f"{url}:{line_number}: not a gristmill document: {error}"
                ) from None
            if len(ids) >= max_rows:
                yield pa.table({"id": ids, "text": pa.array(texts, pa.large_string())})
                ids, texts = [], []
    if ids:
        yield pa.table({"id": ids, "text": pa.array(texts, pa.large_string())})
