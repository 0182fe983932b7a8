"""WARC and ARC reader: HTTP responses that carry HTML, turned into main text.

Records are parsed by FastWARC (WARC 0.18–1.1; Bevendorff et al., OSSYM 2021) and, for the
pre-WARC ARC format (Internet Archive ARC v1/v2, which FastWARC does not read), by warcio.
Like datatrove's ``WarcReader`` only ``response`` records become documents (plus
``resource`` records holding HTML, which are archived pages without an HTTP envelope); the
HTTP body is de-chunked (``Transfer-Encoding: chunked``, RFC 9112 §7.1, raw body kept when
the chunking is malformed, as many crawlers store it de-chunked) and decoded
(``Content-Encoding`` gzip, deflate, br, zstd), its charset resolved and its main text
extracted (:mod:`gristmill.io.html`). Unlike datatrove, only 2xx answers are kept: redirects
and error pages are boilerplate, not text.

Files may be plain, gzip or zstd, whatever their names say; a damaged file is read up to
the damage and resumed after it (:mod:`gristmill.io.archive_stream`). A document's ordinal
is the index of its record in the file (a break takes one ordinal), so ids are stable.
ARC is told from WARC by content (``filedesc://`` or an ARC header line first), not name.

Skipped records, counted under ``warc:<reason>`` (``records`` counts every record):

- by record type: ``request``, ``revisit``, ``metadata``, ``warcinfo``, ``conversion``,
  ``continuation``, ``resource`` (not HTML), ``unknown_type``;
- ``http_status``: an HTTP status outside 200–299; ``malformed_http``: unparsable HTTP
  headers;
- ``non_html``: a payload that is not HTML by its Content-Type (PDF, images, CSS, DNS, ...)
  or, when the type is missing or generic, by sniffing;
- ``too_large``: a payload (raw or decoded) over ``max_payload_bytes``;
- ``truncated``: a record shorter than its Content-Length (the file ends inside it);
- ``decode_error``: a Content-Encoding that cannot be decoded (unknown, or br without
  brotli installed, or corrupt);
- ``invalid_utf8``: a page that declares UTF-8 but holds a run of bytes that are not
  UTF-8 (a damaged span: kept, it would be mojibake or a run of U+FFFD);
- ``not_a_file`` / ``unreadable``: an input that is not a regular file, or cannot be read;
- ``empty_payload``; ``empty_text`` / ``short_text``: the extracted text is empty or shorter
  than ``min_text_chars``; ``extract_error``: the extractor raised;
- ``corrupt_stream`` / ``corrupt_record``: a damaged compressed member, or a record the
  parser rejects (one count per break; reading resumes at the next good record).

Each document's meta names the ``extractor`` that produced its text and carries the
extraction signals (:class:`gristmill.io.html.Extraction`), which later filters can
threshold without re-reading the HTML: ``extract_page_chars`` (visible text of the whole
page), ``extract_text_share`` (share of it kept; both left out with ``page_signals: false``
for the resiliparse and trafilatura extractors, which then parse each page once), and for
the default extractor ``extract_link_density`` (link text share of the kept text) and
``extract_doubtful`` (the boilerplate stage was unsure: the main-content pass nearly
emptied the page, or no block read as content, as on hub pages of link titles). They are
meta fields rather than ``extract_*`` columns because a reader's batches keep the document
schema that every source shares; a step may lift them into columns.

A page that declares UTF-8 (HTTP header or ``<meta>``) but has a few scattered invalid
bytes among valid multi-byte UTF-8 is *repaired*: decoded as UTF-8 with U+FFFD for each
bad sequence, with ``meta["utf8_replaced"] = true`` (the count of such documents is a
query on meta), instead of being handed to charset detection, which read such pages as
cp1252 mojibake (issue 16). A declared-UTF-8 page without any valid multi-byte sequence is
a mislabel and goes to detection as before.

Records that the crawler itself truncated (``WARC-Truncated``, e.g. CommonCrawl's payload
limit) are kept: their HTML prefix is good text; ``meta["warc_truncated"]`` says why.
"""

from __future__ import annotations

import codecs
import io
import itertools
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
import zstandard
from fastwarc.warc import WarcRecord, WarcRecordType
from pydantic import Field

from gristmill.documents import BatchBuilder
from gristmill.io.archive_stream import (
    GZIP_MAGIC,
    PARSE_ERRORS,
    ArchiveStream,
    is_arc_start,
    is_warc_start,
    iter_arc_records,
    iter_warc_records,
    target_uri,
)
from gristmill.io.base import Reader, ReaderCounts, Shard, input_problem, open_binary
from gristmill.io.html import (
    DEFAULT_EXTRACTOR,
    HTML_MEDIA_TYPES,
    UNKNOWN_MEDIA_TYPES,
    DoubtfulFallback,
    Extraction,
    Extractor,
    charset_from_content_type,
    charset_from_meta,
    decode_html,
    extract,
    looks_like_html,
    media_type,
)

try:  # brotli is optional: without it, br-encoded payloads are counted as decode_error
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None


@dataclass(slots=True)
class HttpPayload:
    """What the document decision needs from a response record, whatever its parser."""

    url: str | None
    status: int | None
    content_type: str | None
    identified_type: str | None
    transfer_encoding: str | None
    content_encoding: str | None
    #: the body length the record declares, -1 when unknown
    length: int
    read_body: Callable[[int], bytes]
    meta: dict[str, Any] = field(default_factory=dict)


#: skip reasons by record type (FastWARC's record types are not hashable: keyed by value)
_RECORD_TYPE_NAMES = {
    int(WarcRecordType.warcinfo): "warcinfo",
    int(WarcRecordType.response): "response",
    int(WarcRecordType.resource): "resource",
    int(WarcRecordType.request): "request",
    int(WarcRecordType.metadata): "metadata",
    int(WarcRecordType.revisit): "revisit",
    int(WarcRecordType.conversion): "conversion",
    int(WarcRecordType.continuation): "continuation",
}
_KNOWN_TYPE_REASONS = frozenset(_RECORD_TYPE_NAMES.values())


def record_type_name(record_type: WarcRecordType) -> str:
    """The skip reason of a record type: its name, or ``unknown_type``."""
    return _RECORD_TYPE_NAMES.get(int(record_type), "unknown_type")


class WarcReader(Reader):
    """Read WARC and ARC files (plain, gzip, zstd); one shard per file."""

    format: ClassVar[str] = "warc"
    suffixes: ClassVar[tuple[str, ...]] = (
        ".warc", ".warc.gz", ".warc.zst", ".arc", ".arc.gz",
    )  # fmt: skip

    extractor: Extractor = Field(
        DEFAULT_EXTRACTOR,
        description="main-text extractor: resiliparse + boilerplate classification, "
        "resiliparse's main-content heuristics alone, or trafilatura",
    )
    doubtful_fallback: DoubtfulFallback = Field(
        "page",
        description="resiliparse_boilerplate on pages its main-content pass nearly empties: "
        "classify the whole page's blocks, or hand the page to trafilatura",
    )
    page_signals: bool = Field(
        True,
        description="measure the whole page's visible text (meta extract_page_chars and "
        "extract_text_share): a second extraction pass of every page for the resiliparse "
        "and trafilatura extractors; resiliparse_boilerplate always measures it",
    )
    min_text_chars: int = Field(1, ge=1, description="shorter extracted texts are skipped")
    max_payload_bytes: int = Field(
        16 * 1024 * 1024, gt=0, description="larger payloads (raw or decoded) are skipped"
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
                head = stream.peek_head(4096)
                if not head and not stream.damaged:
                    continue  # an empty file holds no records
                if head:
                    arc = not is_warc_start(head) and is_arc_start(head)
                else:  # damaged from its first byte: the name is all there is to go by
                    arc = url.endswith((".arc", ".arc.gz"))
                if arc:
                    records = iter_arc_records(
                        stream, counts, self.format, ordinals, url, self.max_payload_bytes
                    )
                else:
                    records = iter_warc_records(
                        stream, counts, self.format, ordinals, url, self.max_payload_bytes
                    )
                to_payload = _arc_payload if arc else _warc_payload
                for ordinal, record in records:
                    counts["records"] += 1
                    outcome = to_payload(record)
                    record_url = outcome.url if isinstance(outcome, HttpPayload) else None
                    if isinstance(outcome, HttpPayload):
                        outcome = self._document(outcome)
                    if isinstance(outcome, str):
                        counts.skip(f"{self.format}:{outcome}", url, ordinal, record_url)
                        continue
                    batch = builder.add(ordinal, *outcome)
                    if batch is not None:
                        yield batch
        batch = builder.flush()
        if batch is not None:
            yield batch

    def _document(self, payload: HttpPayload) -> tuple[str, str | None, dict[str, Any]] | str:
        """``(text, url, meta)`` of a response, or the reason it is skipped."""
        if payload.status is not None and not 200 <= payload.status < 300:
            return "http_status"
        mime = media_type(payload.content_type)
        if mime in UNKNOWN_MEDIA_TYPES:
            mime = media_type(payload.identified_type)
        sniff = mime in UNKNOWN_MEDIA_TYPES
        if not sniff and mime not in HTML_MEDIA_TYPES:
            return "non_html"
        limit = self.max_payload_bytes
        if payload.length > limit:
            return "too_large"
        # no more than the record declares: a buffer of the limit's size for every record
        # cost a 16 MiB allocation each (page faults where the C allocator maps it)
        wanted = limit if payload.length < 0 else min(limit, payload.length)
        try:
            body = payload.read_body(wanted + 1)
        except PARSE_ERRORS:
            return "truncated"
        if len(body) > limit:
            return "too_large"
        if 0 <= len(body) < payload.length:
            return "truncated"
        if payload.transfer_encoding and "chunked" in payload.transfer_encoding.lower():
            body = dechunk(body)
        if payload.content_encoding:
            decoded = decode_content(body, payload.content_encoding, limit)
            if decoded is None:
                return "decode_error"
            if len(decoded) > limit:
                return "too_large"
            body = decoded
        if not body:
            return "empty_payload"
        if sniff:
            if not looks_like_html(body):
                return "non_html"
            mime = "text/html"
        http_charset = charset_from_content_type(payload.content_type)
        decoded_page = _decode_page(body, http_charset)
        if decoded_page is None:
            return "invalid_utf8"
        html, charset, repaired = decoded_page
        if repaired:
            payload.meta[UTF8_REPLACED_KEY] = True
        try:
            extraction = self.extract(html)
        except ImportError:
            raise
        except Exception:  # an extractor bug on one page must not end the shard
            return "extract_error"
        text = extraction.text
        if not text:
            return "empty_text"
        if len(text) < self.min_text_chars:
            return "short_text"
        meta = payload.meta
        meta["content_type"] = mime
        meta["charset"] = charset
        if payload.status is not None:
            meta["http_status"] = payload.status
        meta["extractor"] = extraction.extractor
        meta.update(extraction.signals())
        return text, payload.url, meta

    def extract(self, html: str) -> Extraction:
        """The main text of a decoded page and its extraction signals."""
        return extract(html, self.extractor, self.doubtful_fallback, self.page_signals)


UTF8_REPLACED_KEY = "utf8_replaced"
#: this many invalid bytes in a row are a damaged span, not a stray bad byte
_DAMAGED_RUN = re.compile("\ufffd{4,}")
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")


def _decode_page(body: bytes, http_charset: str | None) -> tuple[str, str, bool] | None:
    """``(html, charset, repaired)`` of a page (:func:`decode_html`, with the repair of
    declared UTF-8 described in the module docstring), None for a damaged UTF-8 page.

    A page declaring UTF-8 is decoded as UTF-8 once: when that fails, neither the repair
    nor charset detection tries it again."""
    declared = http_charset or charset_from_meta(body)
    utf8_invalid = False
    if declared == "utf-8":
        try:
            html = body.decode("utf-8")
        except UnicodeDecodeError:
            utf8_invalid = True
        else:
            if not body.startswith(codecs.BOM_UTF8):  # decode_html drops a byte order mark
                return html, "utf-8", False
    if utf8_invalid:
        repaired = _declared_utf8_repair(body)
        if repaired == "damaged":
            return None
        if repaired is not None:
            return repaired, "utf-8", True
    html, charset = decode_html(body, http_charset, utf8_invalid=utf8_invalid)
    return html, charset, False


def _declared_utf8_repair(body: bytes) -> str | None:
    """The repaired text of a page declaring UTF-8, which does not decode as UTF-8, with a
    few invalid bytes; "damaged" for one with a run of them, None when it is not really
    UTF-8."""
    text = body.decode("utf-8", errors="replace")
    valid_multibyte = len(_NON_ASCII.findall(text))
    if valid_multibyte == 0:
        return None  # a mislabelled single-byte page: detection decodes it
    if len(_DAMAGED_RUN.findall(text)) > body.count(b"\xef\xbf\xbd" * 4):
        return "damaged"
    replaced = text.count("\ufffd") - body.count(b"\xef\xbf\xbd")
    return text if replaced <= valid_multibyte else None


def _warc_payload(record: WarcRecord) -> HttpPayload | str:
    """The response of a FastWARC record, or why it is skipped."""
    record_type = record.record_type
    if record_type != WarcRecordType.response and record_type != WarcRecordType.resource:
        untyped = record_type == WarcRecordType.unknown or record_type == WarcRecordType.no_type
        if untyped and record.headers.get("Content-Length") is None:
            return "truncated"  # the file ends inside the record's header block
        return record_type_name(record_type)
    headers = record.headers
    if headers.get("Content-Length") is None:
        return "truncated"
    status = transfer_encoding = content_encoding = None
    content_type = headers.get("Content-Type")
    if record.is_http:
        try:  # quirks mode: ClueWeb09 and other old crawls end HTTP header lines with LF
            record.parse_http(quirks_mode=True)
        except PARSE_ERRORS:
            return "malformed_http"
        http = record.http_headers
        if http is None or http.status_code is None:
            return "malformed_http"
        status = http.status_code
        content_type = http.get("Content-Type")
        transfer_encoding = http.get("Transfer-Encoding")
        content_encoding = http.get("Content-Encoding")
    elif (
        record_type == WarcRecordType.resource and media_type(content_type) not in HTML_MEDIA_TYPES
    ):
        return "resource"
    meta: dict[str, Any] = {
        "warc_date": headers.get("WARC-Date"),
        "warc_record_id": headers.get("WARC-Record-ID"),
    }
    truncated = headers.get("WARC-Truncated")
    if truncated:
        meta["warc_truncated"] = truncated
    reader = record.reader
    return HttpPayload(
        url=target_uri(headers.get("WARC-Target-URI")),
        status=status,
        content_type=content_type,
        identified_type=headers.get("WARC-Identified-Payload-Type"),
        transfer_encoding=transfer_encoding,
        content_encoding=content_encoding,
        length=record.content_length,
        read_body=reader.read,
        meta=meta,
    )


def _arc_payload(record: Any) -> HttpPayload | str:
    """The response of a warcio ARC record (ARC has no record ids: warcio's are random)."""
    record_type = record.rec_type
    if record_type != "response":
        return record_type if record_type in _KNOWN_TYPE_REASONS else "unknown_type"
    headers = record.rec_headers
    http = record.http_headers
    status = None
    content_type = headers.get_header("Content-Type")
    transfer_encoding = content_encoding = None
    length = record.length
    if http is not None:
        length -= http.total_len
        code = http.get_statuscode()
        if not code or not code.isdigit():
            return "malformed_http"
        status = int(code)
        content_type = http.get_header("Content-Type")
        transfer_encoding = http.get_header("Transfer-Encoding")
        content_encoding = http.get_header("Content-Encoding")
    return HttpPayload(
        url=target_uri(headers.get_header("WARC-Target-URI")),
        status=status,
        content_type=content_type,
        identified_type=None,
        transfer_encoding=transfer_encoding,
        content_encoding=content_encoding,
        length=length,
        read_body=record.raw_stream.read,
        meta={"warc_date": headers.get_header("WARC-Date")},
    )


def dechunk(body: bytes) -> bytes:
    """Undo HTTP/1.1 chunked transfer coding (RFC 9112 §7.1).

    A body that is not well-formed chunking is returned as stored (crawlers often store
    the body de-chunked and keep the header); a body cut inside a chunk keeps what it has
    (crawlers truncate long payloads).
    """
    parts: list[bytes] = []
    position, end = 0, len(body)
    while position < end:
        line_end = body.find(b"\n", position)
        if line_end < 0:
            break  # cut inside a size line
        size_field = body[position:line_end].split(b";", 1)[0].strip()
        if not size_field or size_field.lstrip(b"0123456789abcdefABCDEF"):
            return body
        size = int(size_field, 16)
        if size == 0:
            return b"".join(parts)
        start = line_end + 1
        parts.append(body[start : start + size])
        position = start + size
        if position >= end:
            break  # cut inside (or right after) a chunk
        if body.startswith(b"\r\n", position):
            position += 2
        elif body.startswith(b"\n", position):
            position += 1
        else:
            return body  # chunk data longer than its size says
    return b"".join(parts) if parts else body


def _looks_like_markup(data: bytes) -> bool:
    return data[:512].lstrip().startswith(b"<")


def decode_content(body: bytes, content_encoding: str, limit: int) -> bytes | None:
    """Undo an HTTP Content-Encoding (codings applied in order, undone in reverse).

    Returns None when the body cannot be decoded. A body that already is markup is kept as
    is (many archives store payloads decoded but keep the header: ClueWeb09, CommonCrawl).
    At most ``limit + 1`` bytes are decoded, so the caller can tell an oversized payload,
    and a compressed stream cut short (a truncated payload) gives what it has.
    """
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        if coding in ("", "identity", "none") or _looks_like_markup(body):
            continue
        if coding in ("gzip", "x-gzip", "deflate", "x-deflate"):
            decoded = _inflate(body, limit)
        elif coding == "br":
            decoded = _unbrotli(body, limit)
        elif coding in ("zstd", "x-zstd"):
            decoded = _unzstd(body, limit)
        else:
            decoded = None
        if decoded is None:
            return None
        body = decoded
    return body


def _inflate(body: bytes, limit: int) -> bytes | None:
    # gzip (with its header), zlib, or the raw deflate some servers send for "deflate"
    for wbits in (31, 15, -15):
        if wbits == 31 and not body.startswith(GZIP_MAGIC):
            continue
        try:
            return zlib.decompressobj(wbits).decompress(body, limit + 1)
        except zlib.error:
            continue
    return None


def _unbrotli(body: bytes, limit: int) -> bytes | None:
    if brotli is None:
        return None
    try:
        return brotli.Decompressor().process(body, output_buffer_limit=limit + 1)
    except brotli.error:
        return None


def _unzstd(body: bytes, limit: int) -> bytes | None:
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)) as reader:
            return reader.read(limit + 1)
    except zstandard.ZstdError:
        return None
