"""The reader contract: sources are split into shards, shards are streamed as batches.

A :class:`Reader` is a frozen pydantic model whose fields are the ``reader:`` block of a
source in the pipeline YAML. ``shards()`` lists the units of work (usually one file each);
``read()`` streams one shard as bounded document batches and counts every record it
skips under ``<format>:<reason>`` (e.g. ``warc:revisit``), so nothing is lost silently.
Paths are local paths/globs or any fsspec URL (``s3://``, ``gs://``, ``memory://``).
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import fsspec
import pyarrow as pa
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from pydantic import BaseModel, ConfigDict, Field

from gristmill.documents import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_DOCS


@dataclass(frozen=True)
class Shard:
    """One unit of work: a file (or a group of small files) of one source.

    ``name`` is stable across runs and goes into document ids; ``paths`` are full fsspec
    URLs; ``root`` is the common folder the names were made relative to.
    """

    source: str
    name: str
    paths: tuple[str, ...]
    size: int = 0
    root: str = ""
    #: for a shard grouping several small files: their paths relative to ``root``
    members: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"


class ReaderCounts(Counter):
    """Records skipped by a reader, by ``<format>:<reason>``; ``records`` counts all seen."""


class Reader(BaseModel):
    """Base of all readers. Subclasses set ``format`` and implement ``read``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: ClassVar[str] = ""
    #: file name suffixes that ``shards`` keeps when a path is a folder
    suffixes: ClassVar[tuple[str, ...]] = ()

    batch_docs: int = Field(DEFAULT_BATCH_DOCS, gt=0, description="documents per batch at most")
    batch_bytes: int = Field(DEFAULT_BATCH_BYTES, gt=0, description="text bytes per batch at most")

    def shards(self, source: str, paths: list[str]) -> list[Shard]:
        """One shard per matched file, named by its path relative to the common root."""
        files = expand_paths(paths, self.suffixes)
        return shards_per_file(source, files)

    def read(self, shard: Shard, counts: ReaderCounts) -> Iterator[pa.Table]:
        raise NotImplementedError


def expand_paths(paths: list[str], suffixes: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    """Expand globs and folders into a sorted list of ``(url, size)``.

    A folder is walked recursively and filtered by ``suffixes`` (when given). A path that
    matches nothing is an error: a typo in a config must not produce an empty run.
    """
    found: dict[str, int] = {}
    for path in paths:
        fs, _ = url_to_fs(path)
        if any(ch in path for ch in "*?["):
            matched = fs.glob(path)
        else:
            matched = [fs._strip_protocol(path)] if fs.exists(path) else []
        if not matched:
            raise FileNotFoundError(f"no input matches {path!r}")
        for match in matched:
            if fs.isdir(match):
                entries = fs.find(match, detail=True)
                for sub in sorted(entries):
                    if not suffixes or sub.endswith(suffixes):
                        found[_full_url(fs, sub)] = int(entries[sub].get("size") or 0)
            else:
                found[_full_url(fs, match)] = int(fs.size(match) or 0)
    return sorted(found.items())


def _full_url(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """Local files stay plain paths; other filesystems keep their protocol."""
    if isinstance(fs, LocalFileSystem):
        return path
    return fs.unstrip_protocol(path)


def strip_protocol(url: str) -> str:
    return url.split("://", 1)[1] if "://" in url else url


def common_root(urls: list[str]) -> str:
    stripped = [strip_protocol(u) for u in urls]
    if len(stripped) == 1:
        return posixpath.dirname(stripped[0])
    return posixpath.commonpath(stripped)


def shard_name(relative: str) -> str:
    """A shard name usable inside an id: no slashes, stable, readable."""
    return relative.strip("/").replace("/", "__") or "shard"


def shards_per_file(source: str, files: list[tuple[str, int]]) -> list[Shard]:
    if not files:
        return []
    root = common_root([u for u, _ in files])
    shards = []
    seen: set[str] = set()
    for url, size in files:
        relative = posixpath.relpath(strip_protocol(url), root) if root else strip_protocol(url)
        name = shard_name(relative)
        while name in seen:  # pragma: no cover - only with odd roots
            name += "_"
        seen.add(name)
        shards.append(Shard(source=source, name=name, paths=(url,), size=size, root=root))
    return shards


def open_binary(url: str, compression: str | None = "infer"):
    """Open a file for binary reading, decompressing by suffix (gz, bz2, zst, xz)."""
    return fsspec.open(url, "rb", compression=compression).open()
