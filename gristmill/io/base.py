"""The reader contract: sources are split into shards, shards are streamed as batches.

A :class:`Reader` is a frozen pydantic model whose fields are the ``reader:`` block of a
source in the pipeline YAML. ``shards()`` lists the units of work (usually one file each);
``read()`` streams one shard as bounded document batches and counts every record it
skips under ``<format>:<reason>`` (e.g. ``warc:revisit``), so nothing is lost silently.
Paths are local paths/globs or any fsspec URL (``s3://``, ``gs://``, ``memory://``).

Every skip is also recorded as a :class:`SkippedRecord` (reason, ordinal, url, input
file), which the segment task writes to ``rejected/<source>/read/`` like any stage's
removals (issue 15). Before a reader opens an input it calls :func:`input_problem`: only
regular files are opened (``stat`` first, so a FIFO, device or socket among the inputs
cannot block ``open``); anything else is skipped as ``not_a_file``, and a file or folder
that cannot be opened or listed as ``unreadable`` — one per path, never failing the other
files of the shard. Folders that cannot be listed are kept in the file list for that reason.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem
from pydantic import BaseModel, ConfigDict, Field

from gristmill.documents import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_DOCS
from gristmill.storage import open_url, url_to_fs


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


#: reasons shared by every reader (see :func:`input_problem`)
NOT_A_FILE = "not_a_file"
UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """One record or file a reader skipped: where it was and why."""

    #: ``<format>:<reason>``, the key it is counted under
    reason: str
    #: its ordinal in the shard (the id it would have had), or None
    ordinal: int | None
    #: the input file (url) it came from
    path: str
    #: the record's own url (web) or path inside the archive/tree, when known
    url: str | None = None
    #: what went wrong, when a reason needs more words (a decoder message, the columns seen)
    detail: str | None = None


class ReaderCounts(Counter):
    """Records skipped by a reader, by ``<format>:<reason>``; ``records`` counts all seen.

    With ``record_skips`` (what the segment task asks for, to write ``rejected/``),
    ``skipped`` lists each skip of :meth:`skip` since the last :meth:`drain_skipped`;
    without it only the counts are kept, so a caller that never drains (a model trainer
    reading a whole source) does not hold one object per skipped record.
    """

    def __init__(self, *args, record_skips: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.record_skips = record_skips
        self.skipped: list[SkippedRecord] = []

    def skip(
        self,
        reason: str,
        path: str,
        ordinal: int | None = None,
        url: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Count one skipped record under ``reason`` and remember where it was."""
        self[reason] += 1
        if self.record_skips:
            self.skipped.append(SkippedRecord(reason, ordinal, path, url, detail))

    def drain_skipped(self) -> list[SkippedRecord]:
        skipped, self.skipped = self.skipped, []
        return skipped


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

    A folder is walked recursively and filtered by ``suffixes`` (when given); a local
    subfolder that cannot be listed is kept as an entry of its own (whatever its name), so
    that the reader counts it as ``unreadable``. Non-regular files (FIFOs, devices) are
    listed too, for the reader to count as ``not_a_file``. A path that matches nothing is
    an error: a typo in a config must not produce an empty run.
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
                if isinstance(fs, LocalFileSystem):
                    for folder in unlistable_folders(match):
                        found[folder] = 0
            else:
                found[_full_url(fs, match)] = int(fs.size(match) or 0)
    return sorted(found.items())


def unlistable_folders(top: str) -> list[str]:
    """Folders under a local ``top`` that cannot be listed (fsspec's walk skips them silently)."""
    failed: list[str] = []

    def record(error: OSError) -> None:
        if error.filename is not None:
            failed.append(os.fsdecode(error.filename))

    for _ in os.walk(top, onerror=record):
        pass
    return failed


def input_problem(url: str) -> str | None:
    """Why an input cannot be read as a file (``not_a_file``, ``unreadable``), or None.

    Local paths are ``stat``-ed before anything opens them: only a regular file is then
    opened (non-blocking, so nothing can hang) to prove it readable. A folder in the file
    list is one that could not be listed (``unreadable``), or else ``not_a_file``. Remote
    filesystems are asked for the entry's type.
    """
    fs, path = url_to_fs(url)
    if not isinstance(fs, LocalFileSystem):
        try:
            kind = fs.info(path).get("type")
        except OSError:  # PermissionError, or gone since the listing
            return UNREADABLE
        return None if kind in ("file", None) else NOT_A_FILE
    try:
        mode = os.stat(path).st_mode
    except OSError:  # vanished, a dangling link, or a folder above it cannot be searched
        return UNREADABLE
    if stat.S_ISDIR(mode):
        try:
            os.listdir(path)
        except OSError:
            return UNREADABLE
        return NOT_A_FILE
    if not stat.S_ISREG(mode):
        return NOT_A_FILE
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return UNREADABLE
    os.close(descriptor)
    return None


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
    return open_url(url, "rb", compression=compression).open()
