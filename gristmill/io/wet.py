"""WET reader: the plain text CommonCrawl extracted from each page, one document per record.

A WET file is a WARC file of ``conversion`` records (CommonCrawl's text extraction of each
HTML response, one UTF-8 block per page), like datatrove's ``WarcReader`` reads them from
``*.warc.wet.gz``. The text is taken as is (decoded as UTF-8 with U+FFFD for bad bytes,
surrounding white space stripped); the url is ``WARC-Target-URI``, and ``meta`` keeps the
WARC date, record id, the id of the response it was converted from (``WARC-Refers-To``)
and CommonCrawl's language guess (``WARC-Identified-Content-Language``) when present. A record with a run of four or more
bytes that are not UTF-8 is a damaged span and is skipped as ``invalid_utf8`` (CommonCrawl
writes WET as UTF-8; a stray bad byte is still replaced by U+FFFD).
Files are plain, gzip or zstd, and damage is counted and skipped as
:mod:`gristmill.io.archive_stream` describes. The ordinal is the record's index in the file.

Skipped records, counted under ``wet:<reason>``: ``warcinfo`` and any other record type
by its name, ``empty_text``, ``too_large`` (over ``max_text_bytes``), ``truncated``,
``invalid_utf8``, ``corrupt_stream`` and ``corrupt_record`` (also a record whose Content-Length overruns
into the next one, or whose block fails its ``WARC-Block-Digest``), ``not_a_file`` and
``unreadable`` (one per input file).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa
from fastwarc.warc import WarcRecord, WarcRecordType
from pydantic import Field

from gristmill.documents import BatchBuilder
from gristmill.io.archive_stream import ArchiveStream, iter_warc_records, target_uri
from gristmill.io.base import Reader, ReaderCounts, Shard, input_problem, open_binary
from gristmill.io.warc import record_type_name

#: this many invalid bytes in a row are a damaged span, not a stray bad byte
_DAMAGED_RUN = re.compile("\ufffd{4,}")


class WetReader(Reader):
    """Read CommonCrawl WET files (WARC ``conversion`` records); one shard per file."""

    format: ClassVar[str] = "wet"
    suffixes: ClassVar[tuple[str, ...]] = (".wet", ".wet.gz", ".wet.zst")

    max_text_bytes: int = Field(
        16 * 1024 * 1024, gt=0, description="larger conversion records are skipped"
    )

    def read(self, shard: Shard, counts: ReaderCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(shard.source, shard.name, self.batch_docs, self.batch_bytes)
        ordinals = itertools.count()  # running over the shard's files: ordinals never repeat
        for url in shard.paths:
            problem = input_problem(url)
            if problem is not None:
                counts["records"] += 1
                counts.skip(f"{self.format}:{problem}", url, next(ordinals))
                continue
            with open_binary(url, compression=None) as raw:
                stream = ArchiveStream(raw)
                if not stream.peek_head(1) and not stream.damaged:
                    continue  # an empty file holds no records
                records = iter_warc_records(
                    stream, counts, self.format, ordinals, url, self.max_text_bytes
                )
                for ordinal, record in records:
                    counts["records"] += 1
                    outcome = self._document(record)
                    if isinstance(outcome, str):
                        record_url = target_uri(record.headers.get("WARC-Target-URI"))
                        counts.skip(f"{self.format}:{outcome}", url, ordinal, record_url)
                        continue
                    batch = builder.add(ordinal, *outcome)
                    if batch is not None:
                        yield batch
        batch = builder.flush()
        if batch is not None:
            yield batch

    def _document(self, record: WarcRecord) -> tuple[str, str | None, dict[str, Any]] | str:
        """``(text, url, meta)`` of a conversion record, or the reason it is skipped."""
        record_type = record.record_type
        headers = record.headers
        if headers.get("Content-Length") is None:
            return "truncated"  # the file ends inside the record's header block
        if record_type != WarcRecordType.conversion:
            return record_type_name(record_type)
        length = record.content_length
        if length > self.max_text_bytes:
            return "too_large"
        try:
            block = record.reader.read(length)
        except OSError:
            return "truncated"
        if len(block) < length:
            return "truncated"
        text = block.decode("utf-8", errors="replace").strip()
        if not text:
            return "empty_text"
        if len(_DAMAGED_RUN.findall(text)) > block.count(b"\xef\xbf\xbd" * 4):
            return "invalid_utf8"  # a run of bytes that are not UTF-8: a damaged span
        meta: dict[str, Any] = {
            "warc_date": headers.get("WARC-Date"),
            "warc_record_id": headers.get("WARC-Record-ID"),
        }
        refers_to = headers.get("WARC-Refers-To")
        if refers_to:
            meta["warc_refers_to"] = refers_to
        languages = headers.get("WARC-Identified-Content-Language")
        if languages:
            meta["languages"] = languages
        content_type = headers.get("Content-Type")
        if content_type:
            meta["content_type"] = content_type
        return text, target_uri(headers.get("WARC-Target-URI")), meta
