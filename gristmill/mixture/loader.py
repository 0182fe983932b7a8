"""The trainer side: stream the packed shards as numpy batches, sharded by rank, resumable.

Shards are memory-mapped (Arrow IPC stream files, uncompressed): a batch inside one shard
is a view of the mapped file, nothing is copied or decoded. Rows are consumed in stream
order in *steps* of ``batch_size x world_size`` rows; rank ``r`` takes rows
``[step·B·W + r·B, step·B·W + (r+1)·B)``, so ranks never overlap, together they cover every
row, and every step is a prefix of the stream (which respects the mixture).
``state_dict()`` saves the next row; ``load_state_dict()`` resumes exactly there — also
with another world size, when the position falls on a step boundary of the new layout.
``torch_dataset(loader)`` wraps it as a ``torch.utils.data.IterableDataset`` when torch is
installed (DataLoader workers take every n-th step, so the order is unchanged); token ids
come as ``torch.int64`` (what ``nn.Embedding`` and ``cross_entropy`` take) unless another
``dtype`` is asked for.

Before a shard is first used, its sha256 is checked against the manifest (once per file
version and process; ``verify=False`` skips it): a damaged shard raises
:class:`ShardIntegrityError` instead of yielding token ids that were never written.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterator
from typing import Any

import numpy as np

from gristmill.mixture.arrow_files import local_path, map_table, open_source
from gristmill.mixture.manifest import load_manifest

STATE_FORMAT = "gristmill-loader/1"
_VERIFIED: set[tuple[str, int, int, str]] = set()  # (path, size, mtime_ns, sha256) checked


class ShardIntegrityError(ValueError):
    """A shard differs from the sha256 (or row count) the manifest recorded for it."""


def check_shard(url: str, expected_sha256: str) -> None:
    """Raise :class:`ShardIntegrityError` unless the file at ``url`` has this sha256.

    A local file already checked in this process, unchanged since (size, mtime), is not
    hashed again."""
    path = local_path(url)
    version = None
    if path is not None:
        stat = os.stat(path)
        version = (path, stat.st_size, stat.st_mtime_ns, expected_sha256)
        if version in _VERIFIED:
            return
    digest = hashlib.sha256()
    source = open_source(url)
    try:
        view = memoryview(source.read_buffer())
        for start in range(0, len(view), 64 * 2**20):
            digest.update(view[start : start + 64 * 2**20])
    finally:
        source.close()
    if digest.hexdigest() != expected_sha256:
        raise ShardIntegrityError(
            f"{url}: sha256 {digest.hexdigest()} differs from {expected_sha256} recorded in "
            "the manifest: the shard is damaged or was replaced; rewrite it (re-run the "
            "mixture stage) or check every shard with `gristmill verify`"
        )
    if version is not None:
        _VERIFIED.add(version)


class _MappedShard:
    """One shard's columns as numpy arrays over the memory map."""

    def __init__(self, url: str, row_length: int, rows: int) -> None:
        table = map_table(url)
        if table.num_rows != rows:
            raise ShardIntegrityError(f"{url}: {table.num_rows} rows, the manifest says {rows}")
        self.table = table
        self.input_ids = _fixed_rows(table.column("input_ids"), row_length)
        self.num_tokens = table.column("num_tokens").to_numpy()
        self.source = table.column("source").to_numpy()
        self.doc_start = table.column("doc_start")


def _fixed_rows(column, row_length: int) -> np.ndarray:
    if column.num_chunks == 1:
        values = column.chunk(0).flatten().to_numpy(zero_copy_only=True)
    else:  # several record batches: one copy
        values = np.concatenate([chunk.flatten().to_numpy() for chunk in column.chunks])
    return values.reshape(-1, row_length)


class MixtureLoader:
    """Iterate ``{"input_ids": (B, L), "num_tokens": (B,), "source": (B,), "row": (B,)
    [, "segment_ids": (B, L)]}``.

    ``row`` is each row's index in the whole stream and ``source`` its source (index into
    ``manifest["sources"]``); ``segment_ids`` (``with_segments``) numbers the documents of
    each row from 0, with -1 on padding: the mask for attention that must not cross
    documents. ``verify`` checks each shard's sha256 against the manifest before its
    first use.
    """

    def __init__(
        self,
        path: str,
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = True,
        with_segments: bool = False,
        verify: bool = True,
    ) -> None:
        if batch_size < 1 or world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"need batch_size >= 1 and 0 <= rank < world_size, got "
                             f"{batch_size=}, {rank=}, {world_size=}")  # fmt: skip
        self.manifest, root = load_manifest(path)
        self.root = root
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.with_segments = with_segments
        self.verify = verify
        self.row_length = int(self.manifest["row_length"])
        self.shard_urls = [posixpath.join(root, s["path"]) for s in self.manifest["shards"]]
        rows = np.array([s["rows"] for s in self.manifest["shards"]], dtype=np.int64)
        self.shard_starts = np.concatenate([[0], np.cumsum(rows)])
        self.total_rows = int(self.shard_starts[-1])
        self.epoch = 0
        self.step = 0
        self._shards: dict[int, _MappedShard] = {}

    # -- layout ---------------------------------------------------------------------------
    @property
    def rows_per_step(self) -> int:
        return self.batch_size * self.world_size

    @property
    def steps_per_epoch(self) -> int:
        if self.drop_last:
            return self.total_rows // self.rows_per_step
        return -(-self.total_rows // self.rows_per_step)

    def rank_rows(self, step: int) -> tuple[int, int]:
        """The row range ``[start, stop)`` this rank reads at ``step`` (may be empty)."""
        start = step * self.rows_per_step + self.rank * self.batch_size
        return min(start, self.total_rows), min(start + self.batch_size, self.total_rows)

    def __len__(self) -> int:
        return sum(1 for step in range(self.steps_per_epoch) if self._has_rows(step))

    def _has_rows(self, step: int) -> bool:
        start, stop = self.rank_rows(step)
        return stop > start

    # -- iteration -------------------------------------------------------------------------
    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        while self.step < self.steps_per_epoch:
            step = self.step
            self.step += 1
            if self._has_rows(step):
                yield self.batch_at(step)
        self.step = 0
        self.epoch += 1

    def batch_at(self, step: int) -> dict[str, np.ndarray]:
        start, stop = self.rank_rows(step)
        return self.rows(start, stop)

    def rows(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows ``[start, stop)`` of the stream (views when inside one shard)."""
        if not 0 <= start < stop <= self.total_rows:
            raise IndexError(f"rows [{start}, {stop}) are not inside [0, {self.total_rows})")
        parts: list[tuple[_MappedShard, int, int]] = []
        first = int(np.searchsorted(self.shard_starts, start, side="right")) - 1
        index = first
        while index < len(self.shard_urls) and self.shard_starts[index] < stop:
            low = max(start, int(self.shard_starts[index])) - int(self.shard_starts[index])
            high = min(stop, int(self.shard_starts[index + 1])) - int(self.shard_starts[index])
            if high > low:
                parts.append((self._shard(index), low, high))
            index += 1
        input_ids = _join([shard.input_ids[low:high] for shard, low, high in parts])
        num_tokens = _join([shard.num_tokens[low:high] for shard, low, high in parts])
        source = _join([shard.source[low:high] for shard, low, high in parts])
        batch = {"input_ids": input_ids, "num_tokens": num_tokens, "source": source,
                 "row": np.arange(start, stop)}  # fmt: skip
        if self.with_segments:
            batch["segment_ids"] = np.concatenate(
                [_segment_ids(shard, low, high, self.row_length) for shard, low, high in parts]
            )
        return batch

    def _shard(self, index: int) -> _MappedShard:
        if index not in self._shards:
            entry = self.manifest["shards"][index]
            if self.verify:
                check_shard(self.shard_urls[index], entry["sha256"])
            self._shards[index] = _MappedShard(
                self.shard_urls[index], self.row_length, int(entry["rows"])
            )
        return self._shards[index]

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "mixture_fingerprint": self.manifest["mixture_fingerprint"],
            "epoch": self.epoch,
            "next_row": self.step * self.rows_per_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a gristmill loader state: {state.get('format')!r}")
        if state["mixture_fingerprint"] != self.manifest["mixture_fingerprint"]:
            raise ValueError(
                "the state was saved on different shards (mixture fingerprint differs)"
            )
        next_row = int(state["next_row"])
        if next_row % self.rows_per_step:
            raise ValueError(
                f"saved at row {next_row}, which is not a step boundary of batch_size "
                f"{self.batch_size} x world_size {self.world_size}"
            )
        self.epoch = int(state["epoch"])
        self.step = next_row // self.rows_per_step

    def __getstate__(self) -> dict[str, Any]:  # picklable: memory maps are reopened
        return {**self.__dict__, "_shards": {}}


def _join(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _segment_ids(shard: _MappedShard, low: int, high: int, row_length: int) -> np.ndarray:
    """Per token: the index of its document segment in the row, -1 for padding."""
    rows = high - low
    marks = shard.doc_start.slice(low, rows).combine_chunks().flatten()
    starts = marks.to_numpy(zero_copy_only=False).reshape(rows, row_length)
    segments = np.cumsum(starts, axis=1, dtype=np.int32) - 1
    padding = np.arange(row_length)[None, :] >= shard.num_tokens[low:high, None]
    segments[padding] = -1
    return segments


def torch_dataset(loader: MixtureLoader, dtype: Any = None):
    """``loader`` as a ``torch.utils.data.IterableDataset`` of tensor batches.

    ``input_ids`` come as ``dtype`` (default ``torch.int64``, what ``nn.Embedding`` and
    ``cross_entropy`` accept; the shards store uint16 or int32, which torch does not index
    with). Use ``DataLoader(dataset, batch_size=None, num_workers=n)``: worker ``w`` builds
    steps ``w, w+n, ...`` and the DataLoader returns them in step order. Resume by calling
    ``loader.load_state_dict`` before iterating; with workers, count the batches consumed.
    """
    import torch
    from torch.utils.data import IterableDataset, get_worker_info

    token_dtype = torch.int64 if dtype is None else dtype

    def tensors(batch: dict[str, np.ndarray]) -> dict[str, Any]:
        out = {k: torch.from_numpy(np.array(v)) for k, v in batch.items() if k != "input_ids"}
        out["input_ids"] = torch.from_numpy(batch["input_ids"].astype(np.int64)).to(token_dtype)
        return out

    class MixtureIterableDataset(IterableDataset):
        def __init__(self, source: MixtureLoader) -> None:
            self.loader = source

        def __iter__(self):
            info = get_worker_info()
            workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
            if workers == 1:
                for batch in self.loader:
                    yield tensors(batch)
                return
            for step in range(self.loader.step, self.loader.steps_per_epoch):
                if step % workers == worker and self.loader._has_rows(step):
                    yield tensors(self.loader.batch_at(step))

        def __len__(self) -> int:
            return len(self.loader)

    return MixtureIterableDataset(loader)
