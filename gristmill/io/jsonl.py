"""JSON Lines reader: one JSON object per line, plain or gz/bz2/xz/zst compressed.

Follows the layout of datatrove's ``JsonlReader`` and Dolma's document files
(``{"id", "text", "source", "metadata", ...}``): ``text_field`` gives the text,
``url_field`` the url, the other fields go to meta (see :mod:`gristmill.io.fields`).
A document's ordinal is its 0-based line number in the decompressed file, so ids survive
blank lines and skipped records. Lines are parsed with orjson.

Skipped records, counted under ``jsonl:<reason>``:

- ``invalid_json``: not JSON, or JSON that is not an object (lone UTF-16 surrogate
  escapes such as ``"\\ud800"`` are rejected here too: they cannot be encoded as UTF-8);
- ``invalid_utf8``: bytes that are not UTF-8 (RFC 8259 requires UTF-8). The default
  ``invalid_utf8: skip`` drops the record; ``replace`` keeps it with U+FFFD in place of the
  bad bytes and ``meta["utf8_replaced"] = true``, and does not count it;
- ``missing_text``: the text field is absent, null or not a string;
- ``empty_text``: the text is empty or whitespace only (datatrove skips these too);
- ``oversized``: a line longer than ``max_line_bytes`` (dropped as it streams);
- ``corrupt_stream``: a damaged or truncated compressed file. The damaged span — from the
  start of the compressed unit (gzip member, zstd frame, bz2/xz stream) that fails its
  check to the failure — is never parsed: each of its lines is counted here, plus one
  record standing for the unreadable rest; the lines of the verified units before it are
  read as usual (see :mod:`gristmill.io.compression`);
- ``not_a_file`` (a FIFO, device or socket among the inputs: never opened) and
  ``unreadable`` (a file that cannot be opened): one record per file.

Blank lines are not records. A ``.json`` file is read as JSON Lines too (the usual layout
of Hugging Face dumps); a file that is one JSON array yields ``invalid_json`` records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import orjson
import pyarrow as pa
from pydantic import Field

from gristmill.documents import BatchBuilder
from gristmill.io.base import ReaderCounts, Shard, input_problem
from gristmill.io.compression import COMPRESSED_SUFFIXES, CorruptStream, iter_chunks, iter_lines
from gristmill.io.fields import FieldMapping

UTF8_REPLACED_KEY = "utf8_replaced"


class JsonlReader(FieldMapping):
    """Read JSON Lines files; one shard per file."""

    format: ClassVar[str] = "jsonl"
    suffixes: ClassVar[tuple[str, ...]] = tuple(
        base + compression
        for base in (".jsonl", ".json", ".ndjson")
        for compression in ("", *COMPRESSED_SUFFIXES)
    )

    invalid_utf8: Literal["skip", "replace"] = "skip"
    max_line_bytes: int = Field(64 * 1024 * 1024, gt=0, description="longest line read")

    def read(self, shard: Shard, counts: ReaderCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(shard.source, shard.name, self.batch_docs, self.batch_bytes)
        line_number = 0  # running over the shard's files, so ordinals never repeat
        for url in shard.paths:
            problem = input_problem(url)
            if problem is not None:
                counts["records"] += 1
                counts.skip(f"{self.format}:{problem}", url, line_number)
                line_number += 1
                continue
            lines = iter_lines(iter_chunks(url), self.max_line_bytes)
            try:
                for line in lines:
                    ordinal = line_number
                    line_number += 1
                    if line is not None and (not line or line.isspace()):
                        continue
                    counts["records"] += 1
                    document = self._document(line)
                    if isinstance(document, str):
                        counts.skip(f"{self.format}:{document}", url, ordinal)
                        continue
                    text, url_value, meta = document
                    batch = builder.add(ordinal, text, url_value, meta)
                    if batch is not None:
                        yield batch
            except CorruptStream as damage:
                # the lines of the damaged span, then one record for the unreadable rest
                for _ in range(damage.damaged_lines + 1):
                    counts["records"] += 1
                    counts.skip(f"{self.format}:corrupt_stream", url, line_number)
                    line_number += 1
            except PermissionError:  # lost its permissions since the check
                counts["records"] += 1
                counts.skip(f"{self.format}:unreadable", url, line_number)
                line_number += 1
        batch = builder.flush()
        if batch is not None:
            yield batch

    def _document(self, line: bytes | None) -> tuple[str, str | None, dict[str, Any]] | str:
        """``(text, url, meta)`` of one line, or the reason it is skipped."""
        if line is None:
            return "oversized"
        replaced = False
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                if self.invalid_utf8 == "skip":
                    return "invalid_utf8"
                try:
                    record = orjson.loads(line.decode("utf-8", errors="replace"))
                except orjson.JSONDecodeError:
                    return "invalid_json"
                replaced = True
            else:
                return "invalid_json"
        if not isinstance(record, dict):
            return "invalid_json"
        text = self.text_of(record)
        if not isinstance(text, str):
            return "missing_text"
        if not text or text.isspace():
            return "empty_text"
        meta = self.meta_of(record)
        if replaced:
            meta[UTF8_REPLACED_KEY] = True
        return text, self.url_of(record), meta
