"""Web-archive files as record streams that survive damage: WARC by FastWARC, ARC by warcio.

Files may be plain, gzip (one member per record, as the WARC 1.1 standard recommends in
its annex D, or one member for the whole file) or zstd (with the dictionary frame of the
IIPC WARC-zstd proposal). FastWARC, given such a file, ends *silently* where a gzip file is
cut and raises on a corrupt member, losing the rest of the file (FastWARC 2.0, measured).
So the file is decompressed here, member by member, remembering where each member starts:
a member that fails to decode, or a file that ends inside one, ends the stream for the
parser and is counted once as ``corrupt_stream``; a record the parser rejects is counted
once as ``corrupt_record``. Reading then resumes at the next gzip member that decodes and
starts with a record header (or, in a plain file, at the next ``WARC/`` line), so one bad
member costs one record, not the rest of the file. Each such break also takes one
ordinal, so the ordinals of the records after it do not depend on the repair.

A WARC record whose Content-Length overruns into the next record (a declared length too
long by a few bytes or by 2 GB) would swallow that record's headers and text into its own
payload, or skip whatever follows it. So every record's block is scanned for an embedded
record header — a ``WARC/x.y`` line followed by a header block with ``WARC-Type`` and
``Content-Length`` — as it is read: blocks up to the reader's payload limit are frozen
(read into memory, then re-read by the reader), larger ones are scanned while they are
skipped. An overrun record is counted once as ``corrupt_record`` (or under the reason its
reader gave it, when it was too large to read) and reading resumes exactly at the embedded
header, which is then read once (issue 16, D6/D7); the same holds for a plain ARC file's
records and the next ARC header line. A record carrying a
``WARC-Block-Digest`` whose block does not match it is ``corrupt_record`` too: in a plain
file that is the only sign of flipped bytes. So is a block holding a fragment of another
record's header (two CRLF-ended header lines, the first a ``WARC-`` one: found by the fuzz
tier in spliced input). In a compressed file a record is handed on
only once the member holding it has passed its check (decoding ahead to the member's end,
at most four payload limits: a whole-file gzip larger than that is handed on unverified),
since a flipped bit in deflate data decodes into garbage that only the CRC reveals.

ARC files (the Internet Archive's pre-WARC format, which FastWARC does not read) go to
warcio on the raw file: its per-member gzip reading tolerates ARC headers whose length
does not cover the record separator (seen in real Heritrix ARCs), which a plain parse of
the decoded stream does not.
"""

from __future__ import annotations

import bisect
import io
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import zstandard
from fastwarc.warc import ArchiveIterator, WarcRecord
from warcio.archiveiterator import ArchiveIterator as WarcioArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from gristmill.io.base import ReaderCounts

READ_BYTES = 1 << 16
_FEED_BYTES = 1 << 14
_SCAN_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
_GZIP_MEMBER = b"\x1f\x8b\x08"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE = re.compile(rb"[\x50-\x5f]\x2a\x4d\x18")
_WARC_LINE = re.compile(rb"\nWARC/\d+\.\d+\r?\n")
#: the start of an ARC v1/v2 record header line: URL, IP address, 14-digit date, mime type
_ARC_HEADER = re.compile(rb"\S+ \S+ \d{14} \S")
#: decoded bytes looked at to tell whether a member starts a record (ARC header lines
#: begin with the URL, which can be long)
_HEAD_BYTES = 4096
#: member starts remembered for resynchronisation (the parsers read ahead 64 KiB)
_MEMBER_MEMORY = 8192
#: a record header line, at the start of a line, inside another record's block
_EMBEDDED_WARC_LINE = re.compile(rb"(?:^|\n)(WARC/\d+\.\d+\r?\n)")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_TYPE_HEADER = re.compile(rb"(?im)^WARC-Type:")
_LENGTH_HEADER = re.compile(rb"(?im)^Content-Length:")
#: header lines, the last one possibly cut anywhere
_HEADER_LINES = re.compile(rb"(?:[A-Za-z0-9-]+:[^\r\n]*\r?\n)*(?:[A-Za-z0-9-]*(?::[^\r\n]*)?\r?)")
#: two header lines of another record, the first a ``WARC-`` one (a spliced fragment)
_HEADER_FRAGMENT = re.compile(
    rb"(?:^|\n)WARC-[A-Za-z-]+: [^\r\n]*\r\n(?:WARC-[A-Za-z-]+|Content-Type|Content-Length): "
)
#: longest WARC header block looked for (real ones are under 2 KiB)
_MAX_HEADER_BYTES = 1 << 16
_SCAN_CHUNK = 1 << 20

#: what the record parsers raise on input they cannot parse
PARSE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    EOFError,
    ArchiveLoadFailed,
    zlib.error,
)

RecordStart = Callable[[bytes], bool]
Decoder = Callable[[], Any]


def target_uri(value: str | None) -> str | None:
    """A ``WARC-Target-URI`` without the angle brackets of the WARC 1.0 grammar
    (``<http://...>``), which wget and other WARC/1.0 writers keep (WARC 1.1 dropped them)."""
    if value and value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    return value


def is_warc_start(prefix: bytes) -> bool:
    return prefix.startswith(b"WARC/")


def is_arc_start(prefix: bytes) -> bool:
    return prefix.startswith(b"filedesc://") or _ARC_HEADER.match(prefix) is not None


class ArchiveStream(io.RawIOBase):
    """The decompressed bytes of an archive file, for a record parser.

    ``kind`` is ``gzip``, ``zstd`` or ``plain`` (by the file's magic bytes, not its name).
    A member that fails to decode, or a file that ends inside one, ends the stream (the
    parser sees EOF) and sets :attr:`damaged`; :meth:`resync` moves on to the next member
    that starts a record. ``tell()`` is the offset in the decompressed stream.
    """

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self._pending = raw.read(READ_BYTES)  # compressed input, decoded up to _pending_at
        self._pending_at = 0
        self._raw_offset = 0  # file offset of _pending[_pending_at]
        self._out = bytearray()  # decoded bytes not yet handed out
        self._handed = 0  # decoded bytes handed out: tell()
        self._eof = False
        self.damaged = False
        self._damage_offset = 0
        self._member_offset = 0
        self._decoder: Any = None
        # (decoded offset, file offset) of member starts; of resume points when plain
        self._members: deque[tuple[int, int]] = deque(maxlen=_MEMBER_MEMORY)
        self._resume_floor = 0
        #: decoded offset up to which every member has passed its check
        self._verified_to = 0
        self._zstd = zstandard.ZstdDecompressor()
        if self._pending.startswith(GZIP_MAGIC):
            self.kind = "gzip"
        elif self._pending.startswith(ZSTD_MAGIC) or _ZSTD_SKIPPABLE.match(self._pending):
            self.kind = "zstd"
        else:
            self.kind = "plain"
            self._members.append((0, 0))

    # -- io.RawIOBase -------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._handed

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while not self._eof:
                self._fill()
            size = len(self._out)
        while len(self._out) < size and not self._eof:
            self._fill()
        data = bytes(self._out[:size])
        del self._out[:size]
        self._handed += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def peek_head(self, size: int) -> bytes:
        """The next ``size`` decoded bytes, without consuming them."""
        while len(self._out) < size and not self._eof:
            self._fill()
        return bytes(self._out[:size])

    # -- decoding -----------------------------------------------------------------------
    def _fill(self) -> None:
        if self.kind == "plain":
            data = self._pending[self._pending_at :] or self.raw.read(READ_BYTES)
            self._pending, self._pending_at = b"", 0
            self._raw_offset += len(data)
            self._out += data
            self._eof = not data
            return
        if self._decoder is None and not self._start_member():
            return
        if self._pending_at >= len(self._pending):
            self._pending, self._pending_at = self.raw.read(READ_BYTES), 0
            if not self._pending:  # the file ends inside a member
                self._damage(self._member_offset)
                return
        # input is fed in slices: what a decoder leaves over is copied on every call
        piece = memoryview(self._pending)[self._pending_at : self._pending_at + _FEED_BYTES]
        decoder = self._decoder
        try:
            if self.kind == "gzip":
                chunk = decoder.decompress(piece, READ_BYTES)
                left = decoder.unused_data if decoder.eof else decoder.unconsumed_tail
            else:  # zstd
                chunk = decoder.decompress(piece)
                left = decoder.unused_data if decoder.eof else b""
        except (zlib.error, zstandard.ZstdError):
            self._damage(self._member_offset)
            return
        consumed = len(piece) - len(left)
        self._pending_at += consumed
        self._raw_offset += consumed
        self._out += chunk
        if decoder.eof:  # the member's check (gzip CRC32, zstd checksum when written) passed
            self._decoder = None
            self._verified_to = self._handed + len(self._out)

    def _start_member(self) -> bool:
        """Begin the next gzip member or zstd frame; False at the end or on damage."""
        while True:
            if len(self._pending) - self._pending_at < 12:
                more = self.raw.read(READ_BYTES)
                self._pending, self._pending_at = self._pending[self._pending_at :] + more, 0
            if self._pending_at >= len(self._pending):
                self._eof = True
                return False
            if self.kind == "zstd" and _ZSTD_SKIPPABLE.match(self._pending, self._pending_at):
                self._skippable_frame()
                continue
            magic = GZIP_MAGIC if self.kind == "gzip" else ZSTD_MAGIC
            if not self._pending.startswith(magic, self._pending_at):
                self._damage(self._raw_offset)  # garbage where a member should start
                return False
            self._member_offset = self._raw_offset
            self._members.append((self._handed + len(self._out), self._raw_offset))
            self._decoder = self.new_decoder()
            return True

    def _skippable_frame(self) -> None:
        """Skip a zstd skippable frame; one at the start of a file holds its dictionary."""
        pending = self._pending[self._pending_at :]
        size = int.from_bytes(pending[4:8], "little")
        while len(pending) < 8 + size:
            more = self.raw.read(max(READ_BYTES, 8 + size - len(pending)))
            if not more:
                break
            pending += more
        content = pending[8 : 8 + size]
        if self._raw_offset == 0 and content:
            try:
                if content.startswith(ZSTD_MAGIC):
                    content = zstandard.ZstdDecompressor().decompress(content)
                dictionary = zstandard.ZstdCompressionDict(content)
                self._zstd = zstandard.ZstdDecompressor(dict_data=dictionary)
            except zstandard.ZstdError:
                pass  # not a dictionary: the frames will tell
        skipped = min(len(pending), 8 + size)
        self._pending, self._pending_at = pending[skipped:], 0
        self._raw_offset += skipped

    def new_decoder(self) -> Any:
        if self.kind == "gzip":
            return zlib.decompressobj(31)
        return self._zstd.decompressobj()

    def _damage(self, offset: int) -> None:
        self.damaged = True
        self._damage_offset = offset
        self._eof = True

    # -- resynchronisation --------------------------------------------------------------
    def resync(self, last_good: int, is_record_start: RecordStart) -> bool:
        """Move past damage to the next member (or plain ``WARC/`` line) starting a record.

        ``last_good`` is the decoded offset of the last record parsed; the scan starts
        after the member holding it, or after the damaged member. Returns False when no
        record follows (the stream then stays at its end).
        """
        start = self._damage_offset if self.damaged else self._file_offset_of(last_good)
        start = max(start + 1, self._resume_floor)
        candidate = find_record_start(self.raw, start, self.kind, self.new_decoder, is_record_start)
        if candidate is None:
            self._eof = True
            return False
        self.raw.seek(candidate)
        self._pending, self._pending_at = b"", 0
        self._raw_offset = candidate
        self._decoder = None
        self._out.clear()
        self._eof = False
        self.damaged = False
        self._resume_floor = candidate + 1
        if self.kind == "plain":
            self._members.append((self._handed, candidate))
        return True

    def verified(self, offset: int, max_ahead: int) -> bool | None:
        """Whether the member holding decoded ``offset`` passed its check: decodes ahead
        (buffered, not handed out) to that member's end. True for a plain file; None when
        the member ends more than ``max_ahead`` bytes further (a whole-file gzip)."""
        if self.kind == "plain":
            return True
        while self._verified_to <= offset and not self._eof and len(self._out) < max_ahead:
            self._fill()
        if self._verified_to > offset:
            return True
        return False if self._eof else None

    def seek_decoded(self, offset: int) -> None:
        """Continue reading at decoded ``offset`` (not before the last member remembered):
        a plain file seeks, a compressed one decodes its member again up to ``offset``."""
        index = bisect.bisect_right(self._members, (offset, float("inf"))) - 1
        member_decoded, member_raw = self._members[max(index, 0)]
        while self._members and self._members[-1][0] >= (
            offset if self.kind == "plain" else member_decoded
        ):
            self._members.pop()  # re-added below or when the member is decoded again
        self._pending, self._pending_at = b"", 0
        self._decoder = None
        self._out.clear()
        self._eof = False
        self.damaged = False
        if self.kind == "plain":
            position = member_raw + (offset - member_decoded)
            self.raw.seek(position)
            self._raw_offset, self._handed = position, offset
            self._members.append((offset, position))
            return
        self.raw.seek(member_raw)
        self._raw_offset, self._handed = member_raw, member_decoded
        skip = offset - member_decoded
        while skip > 0:
            data = self.read(min(skip, _SCAN_CHUNK))
            if not data:
                break
            skip -= len(data)

    def seek_next_header(self, start: int) -> bool:
        """Move to the first embedded record header at or after decoded offset ``start``;
        False (and the stream at its end, or damaged) when there is none."""
        self.seek_decoded(start)
        window, window_start = b"", start
        while True:
            data = self.read(_SCAN_CHUNK)
            if not data:
                return False
            window += data
            found = find_embedded_header(window)
            if found is not None:
                self.seek_decoded(window_start + found)
                return True
            keep = min(len(window), _MAX_HEADER_BYTES)
            window_start += len(window) - keep
            window = window[len(window) - keep :]

    def _file_offset_of(self, decoded: int) -> int:
        index = bisect.bisect_right(self._members, (decoded, float("inf"))) - 1
        if index < 0:
            return 0
        member_decoded, member_raw = self._members[index]
        if self.kind == "plain":
            return member_raw + (decoded - member_decoded)
        return member_raw


def find_record_start(
    raw: BinaryIO, start: int, kind: str, new_decoder: Decoder, is_record_start: RecordStart
) -> int | None:
    """The file offset, from ``start`` on, of the next gzip member or zstd frame that
    decodes whole and starts a record, or of the next ``WARC/`` line in a plain file."""
    try:
        if kind == "plain":
            return _find_warc_line(raw, start)
        magic = _GZIP_MEMBER if kind == "gzip" else ZSTD_MAGIC
        position = start
        while True:
            raw.seek(position)
            block = raw.read(_SCAN_BYTES + 16)
            found = block.find(magic)
            while 0 <= found < _SCAN_BYTES:
                if _member_starts_record(raw, position + found, new_decoder, is_record_start):
                    return position + found
                found = block.find(magic, found + 1)
            if len(block) <= _SCAN_BYTES:
                return None
            position += _SCAN_BYTES
    except OSError:  # the file cannot be read past this point
        return None


def _find_warc_line(raw: BinaryIO, start: int) -> int | None:
    position = start - 1  # a record starts after a newline: read from the byte before
    while True:
        raw.seek(position)
        block = raw.read(_SCAN_BYTES + 16)
        match = _WARC_LINE.search(block)
        if match is not None and match.start() < _SCAN_BYTES:
            return position + match.start() + 1
        if len(block) <= _SCAN_BYTES:
            return None
        position += _SCAN_BYTES


def _member_starts_record(
    raw: BinaryIO, offset: int, new_decoder: Decoder, is_record_start: RecordStart
) -> bool:
    raw.seek(offset)
    decoder = new_decoder()
    head = b""
    while not decoder.eof:
        data = raw.read(READ_BYTES)
        if not data:
            return False
        try:
            out = decoder.decompress(data)
        except (zlib.error, zstandard.ZstdError):
            return False
        if len(head) < _HEAD_BYTES:
            head += out[: _HEAD_BYTES - len(head)]
    return is_record_start(head)


def find_embedded_header(data: bytes) -> int | None:
    """Offset of the first WARC record header in ``data`` that starts a line: a
    ``WARC/x.y`` line, then header lines with ``WARC-Type`` and ``Content-Length``, or
    only header lines (one ``WARC-`` among them) up to the end of ``data``, which cut it."""
    position = data.find(b"WARC/")
    while position >= 0:
        match = _EMBEDDED_WARC_LINE.match(data, max(position - 1, 0))
        position = data.find(b"WARC/", position + 1)
        if match is None:
            continue
        start = match.start(1)
        end = _HEADER_END.search(data, start, start + _MAX_HEADER_BYTES)
        if end is None:  # a header block cut by the end of the data: header lines only
            block = data[match.end(1) : start + _MAX_HEADER_BYTES]
            if _HEADER_LINES.fullmatch(block) and b"WARC-" in block:
                return start
            continue
        block = data[start : end.start()]
        if _TYPE_HEADER.search(block) and _LENGTH_HEADER.search(block):
            return start
    return None


def _block_problem(record: WarcRecord, body_limit: int) -> tuple[str, str] | None:
    """``(reason, detail)`` when a record's block cannot be trusted, else None; the block
    is read into memory to check it (the reader then reads it again).

    Blocks over ``body_limit`` are left to :func:`_rest_overruns` after the reader."""
    length = record.content_length
    if not 0 <= length <= body_limit:
        return None
    record.freeze()
    block = record.reader.read()
    record.reader.seek(0)
    if find_embedded_header(block) is not None:
        return "corrupt_record", "its Content-Length runs into the next record's header"
    if b"WARC-" in block and _HEADER_FRAGMENT.search(block):
        return "corrupt_record", "its block holds header lines of another record"
    if len(block) < length:
        return "truncated", f"the file ends {length - len(block)} bytes before the record does"
    if record.headers.get("WARC-Block-Digest") and not record.verify_block_digest(consume=False):
        return "corrupt_record", "its block does not match its WARC-Block-Digest"
    return None


def _rest_overruns(record: WarcRecord) -> bool:
    """Read what is left of a large record's block; True when it holds a record header."""
    tail = b""
    while data := record.reader.read(_SCAN_CHUNK):
        window = tail + data
        if find_embedded_header(window) is not None:
            return True
        tail = window[-_MAX_HEADER_BYTES:]
    return False


def _count_break(
    counts: ReaderCounts, fmt: str, reason: str, ordinals: Iterator[int], path: str
) -> None:
    counts["records"] += 1
    counts.skip(f"{fmt}:{reason}", path, next(ordinals))


def iter_warc_records(
    stream: ArchiveStream,
    counts: ReaderCounts,
    fmt: str,
    ordinals: Iterator[int],
    path: str,
    body_limit: int,
) -> Iterator[tuple[int, WarcRecord]]:
    """``(ordinal, record)`` for every WARC record; breaks are counted and resynced over.

    Records are parsed by FastWARC in its strict mode: its quirks mode would skip garbage
    between records silently (FastWARC 2.0, measured), where here it is counted. HTTP
    payloads are left encoded (the caller decodes them). Blocks are checked for overruns
    and digests (see the module docstring); ``body_limit`` is the largest block frozen.
    """
    last_good = stream.tell()
    while True:
        failed = False
        overrun_from = None
        try:
            for record in ArchiveIterator(
                stream, parse_http=False, auto_decode="none", quirks_mode=False,
                stream_detect=False,
            ):  # fmt: skip
                ordinal = next(ordinals)
                problem = _block_problem(record, body_limit)
                if problem is None and stream.verified(record.stream_pos, 4 * body_limit) is False:
                    problem = "corrupt_stream", "its compressed member fails its check"
                if problem is not None:
                    reason, detail = problem
                    counts["records"] += 1
                    url = target_uri(record.headers.get("WARC-Target-URI"))
                    counts.skip(f"{fmt}:{reason}", path, ordinal, url, detail)
                    if reason == "corrupt_stream":
                        break  # counted again below as the break it is
                    if reason == "corrupt_record":
                        overrun_from = record.stream_pos
                        break
                    continue
                yield ordinal, record
                last_good = record.stream_pos  # FastWARC counts from the stream's tell()
                if record.content_length > body_limit and _rest_overruns(record):
                    overrun_from = record.stream_pos
                    break
        except PARSE_ERRORS:
            failed = True
        if overrun_from is not None:
            if stream.seek_next_header(overrun_from + 1):
                last_good = stream.tell()
                continue
            if not stream.damaged:
                return
        if not stream.damaged and not failed:
            return
        _count_break(
            counts, fmt, "corrupt_stream" if stream.damaged else "corrupt_record", ordinals, path
        )
        if not stream.resync(last_good, is_warc_start):
            return
        last_good = stream.tell()


#: an ARC v1 record header line inside another record's content: URL, IP, date, type, length
_EMBEDDED_ARC_HEADER = re.compile(rb"\n(\S+ \S+ \d{14} \S+ \d+\r?\n)")


def _arc_content_overruns(record: Any, body_limit: int) -> bool:
    """Read a plain ARC record's content (keeping up to ``body_limit + 1`` bytes for the
    reader, scanning the rest); True when it holds the next record's header line."""
    content = record.raw_stream.read(body_limit + 1)
    overruns = _EMBEDDED_ARC_HEADER.search(content) is not None
    tail = content[-_MAX_HEADER_BYTES:]
    while not overruns and (data := record.raw_stream.read(_SCAN_CHUNK)):
        overruns = _EMBEDDED_ARC_HEADER.search(tail + data) is not None
        tail = (tail + data)[-_MAX_HEADER_BYTES:]
    record.raw_stream = io.BytesIO(content)
    return overruns


def _find_arc_header(raw: BinaryIO, record_offset: int) -> int | None:
    """File offset of the first ARC header line after the one at ``record_offset``."""
    position = record_offset
    while True:
        raw.seek(position)
        block = raw.read(_SCAN_CHUNK + _MAX_HEADER_BYTES)
        match = _EMBEDDED_ARC_HEADER.search(block)
        if match is not None:
            return position + match.start(1)
        if len(block) <= _SCAN_CHUNK:
            return None
        position += _SCAN_CHUNK


def iter_arc_records(
    stream: ArchiveStream,
    counts: ReaderCounts,
    fmt: str,
    ordinals: Iterator[int],
    path: str,
    body_limit: int,
) -> Iterator[tuple[int, Any]]:
    """``(ordinal, record)`` for every ARC record, as warcio's WARC-converted records.

    warcio reads the raw file (gzip member by member) from the stream's file; a gzip
    member it cannot read is counted as ``corrupt_stream`` and skipped by resync. In a
    plain ARC file a record whose length overruns into the next record's header line is
    ``corrupt_record`` and reading resumes at that line (as for WARC; a gzip member bounds
    an overrun by itself).
    """
    raw = stream.raw
    source: Any = stream if stream.kind == "zstd" else raw
    start = floor = 0
    while True:
        if source is raw:
            raw.seek(start)
        iterator = WarcioArchiveIterator(source, arc2warc=True)
        last_good = start
        overrun_at = None
        try:
            for record in iterator:
                ordinal = next(ordinals)
                record_offset = start + iterator.offset  # get_record_offset() would consume it
                if stream.kind == "plain" and _arc_content_overruns(record, body_limit):
                    counts["records"] += 1
                    url = target_uri(record.rec_headers.get_header("WARC-Target-URI"))
                    detail = "its length runs into the next record's header line"
                    counts.skip(f"{fmt}:corrupt_record", path, ordinal, url, detail)
                    overrun_at = _find_arc_header(raw, record_offset)
                    break
                yield ordinal, record
                last_good = start + iterator.get_record_offset()
        except PARSE_ERRORS:
            reason = "corrupt_record" if stream.kind == "plain" else "corrupt_stream"
            _count_break(counts, fmt, reason, ordinals, path)
        else:
            if overrun_at is None:
                return
            start = overrun_at
            continue
        if stream.kind != "gzip":
            return
        candidate = find_record_start(
            raw, max(last_good + 1, floor), "gzip", stream.new_decoder, is_arc_start
        )
        if candidate is None:
            return
        start, floor = candidate, candidate + 1
