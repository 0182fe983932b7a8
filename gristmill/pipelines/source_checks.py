"""Fail a run whose source yielded nothing because every record was skipped for one reason.

A ``text_field`` that matches no field, a wrong ``format`` or a folder of the wrong files
makes the reader skip every record under one reason (``jsonl:missing_text``). Counting them
keeps the accounting right, but a run that "succeeds" with zero documents of a source is an
operator mistake hidden behind exit code 0. After the read phase, such a source fails the
run with the reason, the count and — for record formats — the field names its records
actually have, read from the first records of its first shard.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.io.base import Shard
from gristmill.io.compression import CorruptStream, iter_chunks, iter_lines
from gristmill.storage import url_to_fs

#: records sampled for the field names a source's records have
SAMPLED_RECORDS = 100
_SAMPLED_LINE_BYTES = 16 * 2**20
_READ_STAGE = "read"


class SourceYieldedNothing(RuntimeError):
    """Every record of a source was skipped for the same reason."""


def check_sources_yielded(
    sources: list[Any], records: list[dict[str, Any]], shards: dict[str, list[Shard]]
) -> None:
    """Raise :class:`SourceYieldedNothing` for the first source (a ``SourceConfig``) whose
    read stage, over all its shards in ``records``, skipped every record for one reason."""
    for source in sources:
        read_in, read_out, removed = 0, 0, Counter()
        for record in records:
            if record["source"] != source.name or record["segment"] != 0:
                continue
            for stage in record["stages"]:
                if stage["stage"] == _READ_STAGE:
                    read_in += stage["docs_in"]
                    read_out += stage["docs_out"]
                    removed.update(stage["removed"])
        if read_in == 0 or read_out != 0 or len(removed) != 1:
            continue
        ((reason, count),) = removed.items()
        message = (
            f"source {source.name!r}: all {count:,} records were skipped as {reason!r}; "
            "the run would have no documents of this source"
        )
        fields = fields_seen(source.format, shards[source.name])
        if fields is not None:
            message += f". Fields of its records: {', '.join(fields) or '(none)'}"
        text_field = getattr(source.reader, "text_field", None)
        if text_field is not None:
            message += f"; reader option text_field is {text_field!r}"
        raise SourceYieldedNothing(message)


def fields_seen(fmt: str, shards: list[Shard]) -> list[str] | None:
    """Field names of the first records of the first shard (JSON Lines keys, Parquet or
    Arrow columns) in first-seen order; None for formats without named fields."""
    if not shards or not shards[0].paths:
        return None
    url = shards[0].paths[0]
    if fmt == "jsonl":
        return _jsonl_fields(url)
    if fmt in ("parquet", "arrow"):
        try:
            return _columnar_schema(url, fmt).names
        except (OSError, pa.ArrowException):
            return None
    return None


def _jsonl_fields(url: str) -> list[str]:
    seen: dict[str, None] = {}
    sampled = 0
    try:
        for line in iter_lines(iter_chunks(url), _SAMPLED_LINE_BYTES):
            if not line or line.isspace():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                seen.update(dict.fromkeys(record))
            sampled += 1
            if sampled >= SAMPLED_RECORDS:
                break
    except (CorruptStream, OSError):
        pass
    return list(seen)


def _columnar_schema(url: str, fmt: str) -> pa.Schema:
    fs, path = url_to_fs(url)
    with fs.open(path, "rb") as handle:
        if fmt == "parquet":
            return pq.read_schema(handle)
        try:
            return pa.ipc.open_file(handle).schema
        except pa.ArrowInvalid:
            handle.seek(0)
            return pa.ipc.open_stream(handle).schema
