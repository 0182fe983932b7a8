"""Parquet and Arrow IPC readers: record batches streamed and mapped in Arrow compute.

Parquet files are read with ``ParquetFile.iter_batches`` (only the needed columns when
``meta_fields`` is given) and Arrow IPC files in either the file (``ARROW1``, random
access, Feather v2) or the stream format, batch by batch, as datatrove's ``ParquetReader``
and Hugging Face ``datasets`` do. Text, url and id columns are mapped with the options of
:class:`~gristmill.io.fields.FieldMapping`; ids are rebuilt as ``{source}/{shard}/{row}``
with ``row`` the 0-based row number in the file, and an input id (``id_field``) is kept in
``meta["orig_id"]`` — also when the input already has gristmill's schema, since an id
must name the shard that produced it. A null cell is an absent field: it does not appear
in meta. Selection, ids and urls are vectorised; only meta is built per row (it is JSON of
arbitrary columns).

Skipped rows, counted under ``<format>:<reason>`` (format ``parquet`` or ``arrow``):
``missing_text`` (null text), ``empty_text`` (empty or whitespace only), ``invalid_utf8``
(a binary text column whose value is not UTF-8), ``corrupt_file`` (a file Arrow cannot
decode, or a record batch that fails Arrow's full validation — offsets, UTF-8 — which
a flipped byte in an IPC file produces and which would otherwise crash or segfault the
mapping: counted once, and once in ``records``; the rows decoded before are kept),
``schema_mismatch`` (a file whose text column is absent or not of a text type: the file is
quarantined — counted once, with its columns in the rejected row's ``meta.detail`` — and
the other files are read; issue 16), ``not_a_file`` and ``unreadable`` (see
:func:`gristmill.io.base.input_problem`). Each skipped row is recorded with its row number.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from gristmill.documents import DOC_SCHEMA, encode_meta
from gristmill.io.base import ReaderCounts, Shard, input_problem
from gristmill.io.fields import FieldMapping
from gristmill.storage import open_url

_TEXT_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_BINARY_TYPES = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_binary_view)
#: errors of Arrow's decoders on a damaged file
_DECODE_ERRORS = (pa.ArrowException, OSError)


class ColumnarReader(FieldMapping):
    """Shared mapping of Arrow record batches onto the document schema."""

    def open_batches(self, handle: Any) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """The schema and record batches of an open file (Arrow errors mean a bad file)."""
        raise NotImplementedError

    def read(self, shard: Shard, counts: ReaderCounts) -> Iterator[pa.Table]:
        row = 0  # running over the shard's files, so ids never repeat
        for url in shard.paths:
            problem = input_problem(url)
            if problem is not None:
                self._count_file(counts, problem, url, row)
                row += 1
                continue
            with open_url(url, "rb") as handle:
                try:
                    schema, batches = self.open_batches(handle)
                except _DECODE_ERRORS as error:
                    self._count_file(counts, "corrupt_file", url, row, str(error))
                    row += 1
                    continue
                mismatch = self.schema_mismatch(schema, url)
                if mismatch is not None:
                    self._count_file(counts, "schema_mismatch", url, row, mismatch)
                    row += 1
                    continue
                while True:
                    try:
                        batch = next(batches)
                    except StopIteration:
                        break
                    except _DECODE_ERRORS as error:
                        self._count_file(counts, "corrupt_file", url, row, str(error))
                        row += 1
                        break
                    try:  # damaged offsets or UTF-8 would crash (or segfault) the mapping
                        batch.validate(full=True)
                    except pa.ArrowInvalid as error:
                        self._count_file(counts, "corrupt_file", url, row, str(error))
                        row += 1
                        break
                    for start in range(0, batch.num_rows, self.batch_docs):
                        part = batch.slice(start, self.batch_docs)
                        table = self._documents(shard, part, row, counts, url)
                        row += part.num_rows
                        yield from _split_by_text_bytes(table, self.batch_bytes)

    def needed_columns(self, schema: pa.Schema) -> list[str] | None:
        """Columns to read (None: all of them, when every field goes to meta)."""
        if self.meta_fields is None:
            return None
        wanted = [*self.mapped_fields(), *self.meta_fields]
        return [name for name in schema.names if name in wanted]

    def _count_file(
        self, counts: ReaderCounts, reason: str, url: str, row: int, detail: str | None = None
    ) -> None:
        """One record for a whole file (or its unreadable rest), at row number ``row``."""
        counts["records"] += 1
        counts.skip(f"{self.format}:{reason}", url, row, detail=detail)

    def schema_mismatch(self, schema: pa.Schema, url: str) -> str | None:
        """Why a file's schema cannot give documents (no text column, a non-text type)."""
        if self.text_field not in schema.names:
            return (
                f"{url}: reader option text_field={self.text_field!r} names no column; "
                f"columns are {schema.names}"
            )
        text_type = schema.field(self.text_field).type
        if pa.types.is_dictionary(text_type):
            text_type = text_type.value_type
        if not any(check(text_type) for check in _TEXT_TYPES + _BINARY_TYPES):
            return (
                f"{url}: column {self.text_field!r} (text_field) has type {text_type}, "
                "not a string or binary type"
            )
        return None

    def _documents(
        self,
        shard: Shard,
        batch: pa.RecordBatch,
        first_row: int,
        counts: ReaderCounts,
        url: str,
    ) -> pa.Table:
        """Map one record batch to a document table, recording the rows it drops."""
        rows = batch.num_rows
        counts["records"] += rows
        text, invalid_utf8 = self._text_column(batch.column(self.text_field))
        present = pc.is_valid(text)
        blank = pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))
        keep = pc.and_(present, pc.invert(pc.fill_null(blank, False)))
        if keep.true_count < rows:
            present_rows = present.to_numpy(zero_copy_only=False)
            for index in np.flatnonzero(~keep.to_numpy(zero_copy_only=False)).tolist():
                if not present_rows[index]:
                    reason = "invalid_utf8" if invalid_utf8[index] else "missing_text"
                else:
                    reason = "empty_text"
                counts.skip(f"{self.format}:{reason}", url, first_row + index)

        row_numbers = pa.array(np.arange(first_row, first_row + rows, dtype=np.int64))
        ids = pc.binary_join_element_wise(
            f"{shard.source}/{shard.name}/", pc.cast(row_numbers, pa.string()), ""
        )
        kept = batch.filter(keep)
        count = kept.num_rows
        urls = self._url_column(kept, count)
        metas = self._meta_column(kept)
        source = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(count, dtype=np.int32)), pa.array([shard.source], pa.string())
        )
        return pa.Table.from_arrays(
            [
                pc.cast(ids.filter(keep), pa.string()),
                source,
                pc.cast(text.filter(keep), pa.large_string()),
                urls,
                metas,
            ],
            schema=DOC_SCHEMA,
        )

    def _text_column(self, column: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """The text as large_string, and which binary values were not UTF-8 (now null)."""
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        try:
            return pc.cast(column, pa.large_string()), np.zeros(len(column), dtype=bool)
        except pa.ArrowInvalid:
            if not any(check(column.type) for check in _BINARY_TYPES):
                raise
        values = column.to_pylist()
        decoded = [_utf8_or_none(value) for value in values]
        invalid = np.array(
            [
                value is not None and text is None
                for value, text in zip(values, decoded, strict=True)
            ],
            dtype=bool,
        )
        return pa.array(decoded, pa.large_string()), invalid

    def _url_column(self, kept: pa.RecordBatch, count: int) -> pa.Array:
        if self.url_field is None or self.url_field not in kept.schema.names:
            return pa.nulls(count, pa.string())
        column = kept.column(self.url_field)
        try:
            return pc.cast(column, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.array([self.url_of({self.url_field: v}) for v in column.to_pylist()])

    def _meta_column(self, kept: pa.RecordBatch) -> pa.Array:
        text_only = {self.text_field, self.url_field}
        names = [name for name in kept.schema.names if name not in text_only]
        if not names:
            return pa.nulls(kept.num_rows, pa.string())
        records: list[dict[str, Any]] = kept.select(names).to_pylist()
        metas = [
            encode_meta(self.meta_of({k: v for k, v in record.items() if v is not None}))
            for record in records
        ]
        return pa.array(metas, pa.string())


class ParquetReader(ColumnarReader):
    """Read Parquet files, one shard per file, streaming their row groups."""

    format: ClassVar[str] = "parquet"
    suffixes: ClassVar[tuple[str, ...]] = (".parquet", ".pq")

    def open_batches(self, handle: Any) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        parquet = pq.ParquetFile(handle)
        schema = parquet.schema_arrow
        columns = self.needed_columns(schema)
        return schema, iter(parquet.iter_batches(batch_size=self.batch_docs, columns=columns))


class ArrowReader(ColumnarReader):
    """Read Arrow IPC files (file format, Feather v2, or stream format), one shard per file."""

    format: ClassVar[str] = "arrow"
    suffixes: ClassVar[tuple[str, ...]] = (".arrow", ".arrows", ".feather", ".ipc")

    def open_batches(self, handle: Any) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        try:
            file_reader = ipc.open_file(handle)
        except pa.ArrowInvalid:  # not the file format: try the stream format
            handle.seek(0)
            stream_reader = ipc.open_stream(handle)
            return stream_reader.schema, iter(stream_reader)
        batches = (file_reader.get_batch(i) for i in range(file_reader.num_record_batches))
        return file_reader.schema, batches


def _utf8_or_none(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _split_by_text_bytes(table: pa.Table, max_bytes: int) -> Iterator[pa.Table]:
    """Cut a table into slices of at most ``max_bytes`` of text (a longer row goes alone)."""
    if table.num_rows == 0:
        return
    lengths = pc.binary_length(table.column("text")).to_numpy(zero_copy_only=False)
    if int(lengths.sum()) <= max_bytes:
        yield table
        return
    start = 0
    size = 0
    for index, length in enumerate(lengths.tolist()):
        if index > start and size + length > max_bytes:
            yield table.slice(start, index - start)
            start, size = index, 0
        size += length
    yield table.slice(start, table.num_rows - start)
