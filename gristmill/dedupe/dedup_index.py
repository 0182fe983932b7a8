"""A persistent dataset-level dedup index: later runs dedup against earlier ones.

Like datatrove's MinHash/exact-dedup indexes, a run can save what it resolved (bucket keys,
signatures, ids) under an index folder, and later runs drop their documents that duplicate
an indexed one without reading the old data again. One folder serves several steps, each in
its own subfolder (``<index>/<step>/``) with ``index.json`` (the step parameters the keys
depend on: a mismatch is an error, not a silent miss) and one *part* per run that wrote to
it (``parts/<key>/``, named by the run's output location, so re-running the same pipeline
replaces its own part instead of deduplicating against itself).

Keys are stored range-partitioned: a part holds files ``k<bits>-p<n>.parquet`` with the
rows whose 64-bit key starts with the ``bits``-bit prefix ``n``, sorted by key, so a run
reads, per partition of its own shuffle, only the overlapping key range of every part —
nothing of the index is shuffled again.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from gristmill.storage import url_to_fs

INDEX_FILE = "index.json"
PARTS_DIR = "parts"
DOCUMENTS_DIR = "documents"
#: Rows of a part's range files that stay out of later dedups: documents the run that wrote
#: the part dropped because an older part already held them.
REDUNDANT_FILE = "redundant.parquet"
_RANGE_FILE = re.compile(r"^k(\d+)-p(\d+)\.parquet$")
FORMAT_VERSION = 1


class IndexMismatch(ValueError):
    """The index was written with other parameters than the step now uses."""


def index_under(path: str | None, base_dir: str | os.PathLike[str]) -> str | None:
    """An index path from a config: a relative one is relative to the config's folder."""
    if path is None or "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(os.fspath(base_dir), path))


def part_key(resolution_dir: str) -> str:
    """The part name of a run: a hash of where the run writes its resolution."""
    return xxhash.xxh3_64_hexdigest(resolution_dir.rstrip("/").encode("utf-8"))


def other_parts_state(index: str | None, step: str, resolution_dir: str) -> list[Any] | None:
    """The files other runs published to the index of ``step`` (relative path, size and
    modification time of each), for the resolution fingerprint: a resumed run dedups again
    when another run added to the index since. None without an index."""
    if index is None:
        return None
    fs, parts_dir = url_to_fs(posixpath.join(index.rstrip("/"), step, PARTS_DIR))
    if not fs.exists(parts_dir):
        return []
    own = part_key(resolution_dir)
    state = []
    for name, info in sorted(fs.find(parts_dir, detail=True).items()):
        relative = posixpath.relpath(name, parts_dir)
        if relative.split("/")[0] in (own, "") or relative.startswith("."):
            continue
        state.append([relative, info.get("size"), str(info.get("mtime", info.get("LastModified")))])
    return state


def key_range(bits: int, prefix: int) -> tuple[int, int]:
    """The ``[low, high)`` range of 64-bit keys whose ``bits``-bit prefix is ``prefix``."""
    if bits == 0:
        return 0, 1 << 64
    return prefix << (64 - bits), (prefix + 1) << (64 - bits)


def range_file_name(bits: int, prefix: int) -> str:
    return f"k{bits:02d}-p{prefix:06d}.parquet"


@dataclass(frozen=True)
class IndexPart:
    """One run's contribution to the index."""

    key: str
    path: str
    range_files: tuple[tuple[int, int, str], ...]
    documents: tuple[str, ...]
    redundant: str | None = None

    def files_overlapping(self, bits: int, prefix: int) -> list[str]:
        low, high = key_range(bits, prefix)
        found = []
        for file_bits, file_prefix, path in self.range_files:
            file_low, file_high = key_range(file_bits, file_prefix)
            if file_low < high and low < file_high:
                found.append(path)
        return found


class DedupIndex:
    """The index folder of one step: parameters, parts, and writing a new part."""

    def __init__(self, path: str, step: str, params: dict[str, Any]) -> None:
        self.root = posixpath.join(path.rstrip("/"), step)
        self.step = step
        self.params = params
        self.fs, self.local_root = url_to_fs(self.root)

    def _path(self, *parts: str) -> str:
        return posixpath.join(self.local_root, *parts)

    def check(self, create: bool) -> bool:
        """Validate ``index.json`` against the parameters (create it when ``create``);
        returns whether the index exists."""
        descriptor = self._path(INDEX_FILE)
        expected = {"format": FORMAT_VERSION, "step": self.step, "params": self.params}
        if self.fs.exists(descriptor):
            with self.fs.open(descriptor, "r") as handle:
                found = json.load(handle)
            if found != json.loads(json.dumps(expected)):
                raise IndexMismatch(
                    f"dedup index {self.root}: written with {found.get('params')}, "
                    f"this step uses {self.params}; use another index folder"
                )
            return True
        if not create:
            return False
        self.fs.makedirs(self.local_root, exist_ok=True)
        temporary = descriptor + f".tmp-{uuid.uuid4().hex[:8]}"
        with self.fs.open(temporary, "w") as handle:
            json.dump(expected, handle, indent=2, sort_keys=True)
        self.fs.mv(temporary, descriptor)
        return True

    def parts(self, exclude: str | None = None) -> list[IndexPart]:
        """Published parts, sorted by key, without the part named ``exclude``."""
        parts_dir = self._path(PARTS_DIR)
        if not self.fs.exists(parts_dir):
            return []
        found = []
        for entry in sorted(self.fs.ls(parts_dir, detail=False)):
            name = posixpath.basename(entry.rstrip("/"))
            if name.startswith(".") or name == exclude:
                continue
            found.append(self._read_part(name, entry))
        return found

    def _read_part(self, name: str, path: str) -> IndexPart:
        range_files = []
        documents: list[str] = []
        for entry in sorted(self.fs.ls(path, detail=False)):
            base = posixpath.basename(entry)
            match = _RANGE_FILE.match(base)
            if match:
                range_files.append((int(match[1]), int(match[2]), self._url(entry)))
        documents_dir = posixpath.join(path, DOCUMENTS_DIR)
        if self.fs.exists(documents_dir):
            documents = [
                self._url(entry)
                for entry in sorted(self.fs.ls(documents_dir, detail=False))
                if entry.endswith(".parquet")
            ]
        redundant = posixpath.join(path, REDUNDANT_FILE)
        return IndexPart(
            name,
            self._url(path),
            tuple(range_files),
            tuple(documents),
            self._url(redundant) if self.fs.exists(redundant) else None,
        )

    def _url(self, path: str) -> str:
        return path if self.root == self.local_root else self.fs.unstrip_protocol(path)

    def staging(self, key: str) -> str:
        """A fresh folder to write a part into before :meth:`publish`."""
        path = self._path(PARTS_DIR, f".staging-{key}-{uuid.uuid4().hex[:8]}")
        self.fs.makedirs(path, exist_ok=True)
        return self._url(path)

    def discard(self, staging: str) -> None:
        """Remove a staged part after a failed resolve."""
        _, staged = url_to_fs(staging)
        if self.fs.exists(staged):
            self.fs.rm(staged, recursive=True)

    def publish(self, staging: str, key: str) -> None:
        """Replace part ``key`` by the staged folder."""
        _, staged = url_to_fs(staging)
        target = self._path(PARTS_DIR, key)
        if self.fs.exists(target):
            self.fs.rm(target, recursive=True)
        self.fs.mv(staged, target, recursive=True)


def read_key_range(
    paths: list[str], key_column: str, bits: int, prefix: int, columns: list[str]
) -> pa.Table:
    """The rows of range files whose ``key_column`` lies in the range of ``prefix``."""
    if not paths:
        return pa.table({column: [] for column in columns})
    import pyarrow.dataset as ds  # here, not at import: pyarrow.dataset imports pandas

    low, high = key_range(bits, prefix)
    fs, _ = url_to_fs(paths[0])
    dataset = ds.dataset([url_to_fs(p)[1] for p in paths], filesystem=fs, format="parquet")
    condition = ds.field(key_column) >= pa.scalar(low, pa.uint64())
    if high < 1 << 64:
        condition = condition & (ds.field(key_column) < pa.scalar(high, pa.uint64()))
    return dataset.to_table(columns=columns, filter=condition)


def write_parquet(table: pa.Table, url: str) -> None:
    """Write one index file atomically (temp name, then rename)."""
    fs, path = url_to_fs(url)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with fs.open(temporary, "wb") as handle:
        pq.write_table(table, handle, compression="zstd", row_group_size=65536)
    fs.mv(temporary, path)
