"""Plain-text book reader: one document per file, Project Gutenberg boilerplate removed.

Decoding tries, in order: a byte-order mark (UTF-8, UTF-16/32), strict UTF-8, the
encoding a Gutenberg header declares (``Character set encoding: ISO-8859-1``; often
wrong, so only used when it decodes), then charset-normalizer. charset-normalizer cannot
tell the single-byte Latin code pages apart (it picks cp1250 for a cp1252 English novel
and cp1257 for Latin-1 French), so when it names such a code page for a language written
in Windows-1252 (English, French, German, Swedish, ...), cp1252 is used, as WHATWG
decoders do for every "latin1" label; cp1252 then Latin-1 are the last resort.
Newlines are normalised to ``\\n``.

Gutenberg cleaning follows the marker lists of c-w/gutenberg's ``strip_headers`` (which
the Standardized Project Gutenberg Corpus adapted), as regexes over whole lines: the
text starts after the last start marker in the first 100 K characters of the file (``*** START OF
THE/THIS PROJECT GUTENBERG EBOOK ... ***``, ``***START OF THE PROJECT GUTENBERG...``,
``*** START OF THE COPYRIGHTED PROJECT GUTENBERG ...``, and the 1990s ``*END*THE SMALL
PRINT! ...``) and stops at the first end marker after it (``*** END OF ...``, ``End of
the Project Gutenberg EBook of``, ``End of Project Gutenberg's``, ``END OF PROJECT
GUTENBERG``, ...), searched in the last 200 K characters first. A leading producer credit
(``Produced by ...``, ``E-text prepared by ...``) is dropped. Title, author, language,
release date and EBook number are read from the header into meta, with the encoding used
and ``gutenberg: true`` when markers were found.

Shards group small files (see :mod:`gristmill.io.file_groups`); a document's ordinal is
the file's index in its shard and its url the path relative to the input folder.
Skipped files, counted under ``books:<reason>``: ``not_a_file`` (a FIFO, device or
socket: never opened), ``unreadable`` (a file or folder that cannot be opened or listed),
``oversized`` (more than ``max_bytes`` decompressed), ``undecodable`` (NUL bytes: not a text file), ``empty`` (nothing left after
cleaning), ``corrupt_stream`` (a damaged ``.gz``/``.zst``/... file).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import charset_normalizer
import pyarrow as pa
from pydantic import Field

from gristmill.documents import BatchBuilder
from gristmill.io.base import Reader, ReaderCounts, Shard, expand_paths, input_problem
from gristmill.io.compression import COMPRESSED_SUFFIXES, CorruptStream, read_bounded
from gristmill.io.file_groups import grouped_shards, input_root

MIB = 1024 * 1024
#: characters searched for the start marker (headers, old "small print" included, are
#: under 30 KB) and, first, for the end marker (the licence footer is about 20 KB)
HEADER_WINDOW = 100_000
FOOTER_WINDOW = 200_000

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED_ENCODING = re.compile(rb"Character set encoding:[ \t]*([A-Za-z0-9_. -]+?)[ \t]*\r?\n")
#: Gutenberg's names for Latin-1, decoded as its superset cp1252 (smart quotes at 0x91-0x94)
_LATIN1_NAMES = re.compile(r"(?:iso[- ]?(?:latin[- ]?1|8859[- ]?1)|latin[- ]?1)$", re.I)

#: single-byte Latin-alphabet code pages, which charset-normalizer confuses with each other
_LATIN_CODE_PAGES = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin_1", "iso8859_2", "iso8859_3",
     "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15",
     "iso8859_16", "mac_latin2", "mac_roman", "mac_iceland", "mac_turkish", "cp437", "cp775",
     "cp850", "cp852", "cp858", "cp860", "cp861", "cp863", "cp865", "hp_roman8"}
)  # fmt: skip
#: languages whose legacy encoding is Windows-1252 / ISO-8859-1
_CP1252_LANGUAGES = frozenset(
    {"English", "French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Danish",
     "Norwegian", "Swedish", "Finnish", "Indonesian", "Unknown", ""}
)  # fmt: skip

_START_MARKER = re.compile(
    r"^[ \t]*\*+[ \t]*START OF[^\n]*?PROJECT GUTENBERG[^\n]*$"
    r"|^[ \t]*\*+[ \t]*BEGINNING OF[^\n]*?PROJECT GUTENBERG[^\n]*$"
    r"|^[ \t]*\*?END\*?[ \t]*THE SMALL PRINT[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_END_MARKER = re.compile(
    r"^[ \t]*\*+[ \t]*END OF[^\n]*?PROJECT GUTENBERG[^\n]*$"
    r"|^[ \t]*End of[ \t]+(?:the[ \t]+|this[ \t]+)?Project Gutenberg[^\n]*$"
    r"|^[ \t]*Ende dieses Project Gutenberg[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_CREDIT = re.compile(
    r"(?:produced by|transcribed (?:from|by)"
    r"|(?:this )?e-?(?:text|book) (?:was )?(?:prepared|produced|transcribed|created) by)\b",
    re.IGNORECASE,
)
_HEADER_FIELDS = {
    "title": re.compile(r"^Title:[ \t]*(\S[^\n]*(?:\n[ \t]+\S[^\n]*)*)", re.M),
    "author": re.compile(r"^Author:[ \t]*(\S[^\n]*(?:\n[ \t]+\S[^\n]*)*)", re.M),
    "language": re.compile(r"^Language:[ \t]*(\S[^\n]*)", re.M),
    "release_date": re.compile(r"^(?:Release|Posting) Date:[ \t]*(\S[^\n]*?)[ \t]*(?:\[|$)", re.M),
}
_EBOOK_NUMBER = re.compile(r"\[E-?(?:Book|Text)[ \t]*#[ \t]*(\d+)\]", re.IGNORECASE)


@dataclass
class CleanedBook:
    """A book's text after boilerplate removal, and what its header said."""

    text: str
    meta: dict[str, Any] = field(default_factory=dict)


class BookReader(Reader):
    """Read plain-text books (``.txt``, optionally compressed), one document per file."""

    format: ClassVar[str] = "books"
    suffixes: ClassVar[tuple[str, ...]] = (".txt", *(".txt" + s for s in COMPRESSED_SUFFIXES))

    max_bytes: int = Field(64 * MIB, gt=0, description="larger books are skipped (oversized)")
    shard_bytes: int = Field(64 * MIB, gt=0, description="bytes of books per shard at most")
    shard_files: int = Field(10_000, gt=0, description="books per shard at most")
    strip_gutenberg: bool = True

    def shards(self, source: str, paths: list[str]) -> list[Shard]:
        files = expand_paths(paths, self.suffixes)
        return grouped_shards(source, files, input_root(paths), self.shard_files, self.shard_bytes)

    def read(self, shard: Shard, counts: ReaderCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(shard.source, shard.name, self.batch_docs, self.batch_bytes)
        members = shard.members or tuple(url.rsplit("/", 1)[-1] for url in shard.paths)
        for ordinal, (url, relative) in enumerate(zip(shard.paths, members, strict=True)):
            counts["records"] += 1
            book = self._book(url)
            if isinstance(book, str):
                counts.skip(f"{self.format}:{book}", url, ordinal, relative)
                continue
            batch = builder.add(ordinal, book.text, relative, book.meta)
            if batch is not None:
                yield batch
        batch = builder.flush()
        if batch is not None:
            yield batch

    def _book(self, url: str) -> CleanedBook | str:
        """The cleaned book at ``url``, or the reason it is skipped."""
        problem = input_problem(url)
        if problem is not None:
            return problem
        try:
            data = read_bounded(url, self.max_bytes)
        except CorruptStream:
            return "corrupt_stream"
        except PermissionError:  # lost its permissions since the check
            return "unreadable"
        if data is None:
            return "oversized"
        decoded = decode_text(data)
        if decoded is None:
            return "undecodable"
        text, encoding = decoded
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        book = strip_gutenberg(text) if self.strip_gutenberg else CleanedBook(text.strip())
        if not book.text or book.text.isspace():
            return "empty"
        book.meta["encoding"] = encoding
        return book


def decode_text(data: bytes) -> tuple[str, str] | None:
    """``(text, encoding)`` of a text file's bytes; None for binary data (NUL bytes)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in (_declared_encoding(data), _detected_encoding(data), "cp1252"):
        if encoding is None:
            continue
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1"), "latin-1"


def _declared_encoding(data: bytes) -> str | None:
    """The codec a Gutenberg header declares in its first 16 KiB, if Python knows it."""
    match = _DECLARED_ENCODING.search(data, 0, 16384)
    if match is None:
        return None
    name = match.group(1).decode("ascii").strip()
    if _LATIN1_NAMES.match(name):
        return "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _detected_encoding(data: bytes) -> str | None:
    """charset-normalizer's guess, with Western text in a Latin code page read as cp1252."""
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    language = best.language.rstrip("—")
    if best.encoding in _LATIN_CODE_PAGES and language in _CP1252_LANGUAGES:
        return "cp1252"
    return best.encoding


def strip_gutenberg(text: str) -> CleanedBook:
    """Remove Project Gutenberg's header, footer and producer credit (see module doc)."""
    starts = list(_START_MARKER.finditer(text, 0, HEADER_WINDOW))
    after_first_start = starts[0].end() if starts else 0
    # The footer (licence, ~20 KB) follows the end marker: look near the end first.
    end = _END_MARKER.search(text, max(after_first_start, len(text) - FOOTER_WINDOW))
    if end is None:
        end = _END_MARKER.search(text, after_first_start)
    if not starts and end is None:
        return CleanedBook(text.strip())
    # the last start marker before the end: "*** START OF ..." then "*END*THE SMALL PRINT"
    before_end = [m for m in starts if end is None or m.end() <= end.start()]
    start = before_end[-1] if before_end else None
    body_start = start.end() if start else 0
    body_end = end.start() if end else len(text)
    body = _drop_credit(text[body_start:body_end].strip())
    meta = _header_meta(text[:body_start]) if start else {}
    meta["gutenberg"] = True
    return CleanedBook(body, meta)


def _drop_credit(body: str) -> str:
    """Drop a first paragraph that only credits the producers of the e-text."""
    if not _CREDIT.match(body):
        return body
    paragraph_end = body.find("\n\n")
    return "" if paragraph_end < 0 else body[paragraph_end:].strip()


def _header_meta(header: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key, pattern in _HEADER_FIELDS.items():
        match = pattern.search(header)
        if match:
            meta[key] = " ".join(match.group(1).split())
    number = _EBOOK_NUMBER.search(header)
    if number:
        meta["gutenberg_id"] = int(number.group(1))
    return meta
