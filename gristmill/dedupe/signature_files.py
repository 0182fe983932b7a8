"""Reading MinHash signature files by document *node*: ``file number << 32 | row``.

The resolve phase never moves whole signatures through a shuffle: documents are named by
a 64-bit node (the position of their file in the resolve's file list, and their row), so
the few rows a candidate edge needs are read back from their own file by the task that
needs them. Files are the per-shard signature files of the run (written by ``collect``)
and the ``documents`` files of a dataset index; an empty shard's file (no rows, the
document schema) reads as no rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.storage import url_to_fs

ROW_BITS = 32
ROW_MASK = (1 << ROW_BITS) - 1


@dataclass(frozen=True)
class SignatureFile:
    """A file of signature rows; ``indexed`` for the documents of a dataset index."""

    path: str
    number: int
    indexed: bool = False


def node_keys(number: int, rows: int) -> np.ndarray:
    return (np.int64(number) << ROW_BITS) | np.arange(rows, dtype=np.int64)


def read_columns(path: str, columns: list[str]) -> pa.Table | None:
    """The columns of a signature file, or None for an empty shard's placeholder file."""
    fs, local = url_to_fs(path)
    with fs.open(local, "rb") as handle:
        parquet = pq.ParquetFile(handle)
        if parquet.metadata.num_rows == 0 or not set(columns) <= set(parquet.schema_arrow.names):
            return None
        return parquet.read(columns=columns)


def row_count(path: str) -> int:
    fs, local = url_to_fs(path)
    with fs.open(local, "rb") as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def list_matrix(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A fixed-size-list column as a 2-D numpy array (no copy when possible)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    width = column.type.list_size
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(column), width)


def fixed_list(matrix: np.ndarray) -> pa.FixedSizeListArray:
    """A 2-D numpy array as a fixed-size-list Arrow column."""
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


def rows_of(files: list[SignatureFile], nodes: np.ndarray, columns: list[str]) -> dict:
    """For ``nodes`` (any order), the requested columns of their rows: numpy arrays (2-D
    for list columns) aligned with ``nodes``."""
    numbers = nodes >> ROW_BITS
    found: dict[str, list[np.ndarray]] = {column: [] for column in columns}
    order = np.argsort(numbers, kind="stable")
    sorted_numbers = numbers[order]
    cuts = np.flatnonzero(np.diff(sorted_numbers)) + 1
    pieces = []
    for group in np.split(order, cuts):
        if len(group) == 0:
            continue
        table = read_columns(files[int(numbers[group[0]])].path, columns)
        if table is None:
            raise ValueError(f"{files[int(numbers[group[0]])].path}: rows requested from an empty file")
        rows = pa.array(nodes[group] & ROW_MASK)
        taken = table.take(rows)
        for column in columns:
            values = taken.column(column)
            if pa.types.is_fixed_size_list(values.type):
                found[column].append(list_matrix(values))
            else:
                found[column].append(values.to_numpy(zero_copy_only=False))
        pieces.append(group)
    if not pieces:
        return {column: np.empty(0) for column in columns}
    inverse = np.empty(len(nodes), dtype=np.int64)
    inverse[np.concatenate(pieces)] = np.arange(len(nodes))
    return {column: np.concatenate(parts)[inverse] for column, parts in found.items()}


def file_group_divisions(files: int, per_group: int) -> list[int]:
    """Node-key divisions that put ``per_group`` consecutive files in one partition."""
    firsts = list(range(0, files, per_group)) or [0]
    return [first << ROW_BITS for first in firsts] + [(max(files, 1) << ROW_BITS) - 1]
