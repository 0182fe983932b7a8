"""Helpers for reader tests: read every shard of a source and check the accounting."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from gristmill.documents import DOC_SCHEMA, decode_meta
from gristmill.io.base import Reader, ReaderCounts


def read_source(
    reader: Reader, paths: list[str], source: str = "test"
) -> tuple[list[dict[str, Any]], ReaderCounts, list[pa.Table]]:
    """All documents of a source (meta decoded), the reader counts, and the raw batches."""
    counts = ReaderCounts()
    batches = [
        batch for shard in reader.shards(source, paths) for batch in reader.read(shard, counts)
    ]
    for batch in batches:
        assert batch.schema.equals(DOC_SCHEMA), batch.schema
        assert batch.num_rows > 0
    documents = [
        {**row, "source": str(row["source"]), "meta": decode_meta(row["meta"])}
        for batch in batches
        for row in batch.to_pylist()
    ]
    assert_accounting(documents, counts)
    return documents, counts, batches


def assert_accounting(documents: list[dict[str, Any]], counts: ReaderCounts) -> None:
    """records == emitted documents + every skip reason, and ids are unique."""
    skipped = sum(value for key, value in counts.items() if key != "records")
    assert counts["records"] == len(documents) + skipped, dict(counts)
    ids = [document["id"] for document in documents]
    assert len(set(ids)) == len(ids), "duplicate document ids"


def golden_view(
    documents: list[dict[str, Any]], counts: ReaderCounts, *, text_chars: int | None = None
) -> dict[str, Any]:
    """What a golden file stores: the documents (texts cut if asked) and the counts."""
    return {
        "documents": [
            {
                "id": document["id"],
                "url": document["url"],
                "text": document["text"] if text_chars is None else document["text"][:text_chars],
                "meta": document["meta"],
            }
            for document in documents
        ],
        "counts": dict(sorted(counts.items())),
    }
