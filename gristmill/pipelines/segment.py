"""The Dask task: run one segment of one source on one shard.

A pure function of ``(shard, segment, config)``: it reads its own input (the raw shard or
the previous segment's output), streams it in bounded batches through the fused steps,
writes its output, rejected documents and global-step signatures atomically, writes the
completion marker last, and returns a small stats record. Documents never travel through
the scheduler; a retry on a lost worker rewrites the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from gristmill.documents import (
    DOC_COLUMNS,
    document_id,
    empty_batch,
    encode_meta,
    make_batch,
    text_bytes,
)
from gristmill.io.base import Reader, ReaderCounts, Shard, SkippedRecord
from gristmill.io.writers import ShardWriter, format_of, iter_arrow_batches, write_marker
from gristmill.pipelines.config import Stage
from gristmill.pipelines.progress import ShardProgress
from gristmill.pipelines.signal_stats import histogram, merge_histograms
from gristmill.pipelines.stats import SAMPLE_CHARS, SAMPLES_PER_KEY, StageStats
from gristmill.steps import (
    REASON_COLUMN,
    GlobalStep,
    MapStep,
    StepResult,
    Transform,
    drop_emptied,
    shard_bucket,
)


@dataclass(frozen=True)
class SegmentTask:
    """Everything one task needs; small enough to ship through the scheduler."""

    source: str
    shard: Shard
    segment_index: int
    reader: Reader | None
    input_url: str | None
    apply: Stage | None
    resolution_dir: str | None
    stages: tuple[Stage, ...]
    collect: Stage | None
    signature_url: str | None
    priority: int
    output_url: str
    output_format: str
    keep_signals: bool
    rejected_urls: dict[str, str] | None
    fingerprint: str
    batch_docs: int = 1024
    #: the source's ``pii`` step, which scrubs the report samples and the rejected
    #: documents of the stages before it
    sample_scrubber: Any = None
    scrubbed_stage_ids: frozenset[str] = frozenset()
    #: bytes of input (the shard's files, or the previous segment's output) for progress
    input_bytes: int = 0


class _RejectedWriters:
    """Opens a rejected-documents shard per stage on first use, in the format its name
    says (the run's output format, also in segments whose data output is Arrow work).
    Documents removed by a stage before the source's ``pii`` step are scrubbed by that step
    first: with a ``pii`` step configured, no raw PII reaches ``rejected/``."""

    def __init__(
        self,
        urls: dict[str, str] | None,
        scrubber: Any = None,
        scrubbed_stage_ids: frozenset[str] = frozenset(),
    ) -> None:
        self.urls = urls
        self.scrubber = scrubber
        self.scrubbed_stage_ids = scrubbed_stage_ids
        self.writers: dict[str, ShardWriter] = {}

    def write(self, stage_id: str, rejected: pa.Table | None) -> None:
        if self.urls is None or rejected is None or rejected.num_rows == 0:
            return
        if self.scrubber is not None and stage_id in self.scrubbed_stage_ids:
            texts = self.scrubber.scrub(rejected.column("text").to_pylist()).texts
            index = rejected.schema.get_field_index("text")
            rejected = rejected.set_column(
                index, "text", pa.array(texts, type=rejected.schema.field("text").type)
            )
        if stage_id not in self.writers:
            url = self.urls[stage_id]
            self.writers[stage_id] = ShardWriter(url, format_of(url) or "arrow")
        self.writers[stage_id].write(rejected)

    def close(self) -> list[str]:
        for writer in self.writers.values():
            writer.close()
        return [writer.url for writer in self.writers.values()]

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


READ_STAGE = "read"


def skipped_rows(source: str, shard: str, skipped: list[SkippedRecord]) -> pa.Table:
    """Rejected rows for reader skips: id, url, ``meta.path``, reason; no text (see above)."""
    ids = [
        document_id(source, shard, record.ordinal)
        if record.ordinal is not None
        else f"{source}/{shard}/skipped:{record.path}"
        for record in skipped
    ]
    urls = [record.url if record.url is not None else record.path for record in skipped]
    metas = [
        encode_meta(
            {"path": record.path, "detail": record.detail}
            if record.detail
            else {"path": record.path}
        )
        for record in skipped
    ]
    table = make_batch(ids, source, [""] * len(skipped), urls, metas)
    reasons = pa.array([record.reason for record in skipped], pa.string())
    return table.append_column(REASON_COLUMN, reasons)


def _write_skipped(task: SegmentTask, counts: ReaderCounts, rejected: _RejectedWriters) -> None:
    skipped = counts.drain_skipped()
    if skipped and task.rejected_urls is not None and READ_STAGE in task.rejected_urls:
        rejected.write(READ_STAGE, skipped_rows(task.source, task.shard.name, skipped))


def _read_input(task: SegmentTask, counts: ReaderCounts) -> Iterator[pa.Table]:
    if task.reader is not None:
        yield from task.reader.read(task.shard, counts)
    else:
        assert task.input_url is not None
        for batch in iter_arrow_batches(task.input_url, task.batch_docs):
            counts["records"] += batch.num_rows
            yield batch


def _timed(iterator: Iterator[pa.Table], stats: StageStats) -> Iterator[pa.Table]:
    while True:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            batch = next(iterator)
        except StopIteration:
            return
        finally:
            stats.wall_s += time.perf_counter() - wall
            stats.cpu_s += time.process_time() - cpu
        yield batch


def _run_stage(
    stage: Stage, stats: StageStats, batch: pa.Table, run: Any, task: SegmentTask
) -> StepResult:
    wall, cpu = time.perf_counter(), time.process_time()
    stats.docs_in += batch.num_rows
    stats.bytes_in += text_bytes(batch)
    result: StepResult = run(batch)
    if isinstance(stage.step, Transform | GlobalStep):  # text may have been rewritten (a no-op
        # when the step's own process already dropped emptied documents)
        result = drop_emptied(result, stage.id)
    stats.docs_out += result.kept.num_rows
    stats.bytes_out += text_bytes(result.kept)
    stats.removed.update(result.removed_by_reason())
    stats.counters.update(result.counters)
    stats.wall_s += time.perf_counter() - wall
    stats.cpu_s += time.process_time() - cpu
    _observe_signals(stage, stats, batch.schema.names, result)
    scrubber = task.sample_scrubber if stage.id in task.scrubbed_stage_ids else None
    _keep_samples(stats, result, scrubber)
    return result


def _observe_signals(
    stage: Stage, stats: StageStats, columns_before: list[str], result: StepResult
) -> None:
    """Histogram the signal columns this stage added, over all the documents it measured
    and, separately, over those it removed."""
    declared = getattr(stage.step, "signal_bins", {})
    for column in result.kept.column_names:
        if column in columns_before or not column.startswith(f"{stage.id}_"):
            continue
        values = result.kept.column(column)
        signal = column[len(stage.id) + 1 :]
        if result.rejected is not None and column in result.rejected.column_names:
            removed = result.rejected.column(column)
            values = pa.chunked_array(values.chunks + removed.chunks)
            _merge_into(stats.signals_removed, column, histogram(removed, declared.get(signal)))
        _merge_into(stats.signals, column, histogram(values, declared.get(signal)))


def _merge_into(summaries: dict[str, Any], column: str, summary: dict[str, Any]) -> None:
    previous = summaries.get(column)
    summaries[column] = summary if previous is None else merge_histograms(previous, summary)


def _keep_samples(stats: StageStats, result: StepResult, scrubber: Any = None) -> None:
    """Keep the first documents kept and removed per reason for the report; a stage before
    the ``pii`` step has them scrubbed as that step would (the report must not show what
    the run removes from its output)."""

    def sample(table: pa.Table, key: str) -> None:
        have = stats.samples.setdefault(key, [])
        columns = ["id", "url", "text"]
        if "duplicate_of" in table.column_names:  # dedup: the report shows the pair
            columns.append("duplicate_of")
        rows = table.slice(0, SAMPLES_PER_KEY - len(have)).select(columns).to_pylist()
        # twice the shown length, so that a span cut at the scrubbing edge is not shown
        texts = [row["text"][: 2 * SAMPLE_CHARS] for row in rows]
        if scrubber is not None and texts:
            texts = scrubber.scrub(texts).texts
        for row, text in zip(rows, texts, strict=True):
            have.append({**row, "text": text[:SAMPLE_CHARS]})

    if len(stats.samples.get("kept", [])) < SAMPLES_PER_KEY and result.kept.num_rows:
        sample(result.kept, "kept")
    if result.rejected is not None and result.rejected.num_rows:
        reasons = result.rejected.column(REASON_COLUMN)
        for reason in pc.unique(reasons).to_pylist():
            if len(stats.samples.get(reason, [])) < SAMPLES_PER_KEY:
                sample(result.rejected.filter(pc.equal(reasons, reason)), reason)


def _signatures(task: SegmentTask, batch: pa.Table) -> pa.Table:
    """The global step's signatures of a batch, with the columns the resolve needs."""
    assert task.collect is not None and isinstance(task.collect.step, GlobalStep)
    signature = task.collect.step.collect(batch)
    rows = signature.num_rows
    return signature.append_column(
        "priority", pa.array([task.priority] * rows, pa.int32())
    ).append_column("shard", pa.array([shard_bucket(task.shard.key)] * rows, pa.string()))


def run_segment(task: SegmentTask) -> dict[str, Any]:
    """Run a segment on a shard; returns ``{"source", "shard", "segment", "stages", ...}``."""
    where = f"{task.source}/{task.shard.name} segment {task.segment_index}"
    counts = ReaderCounts(record_skips=True)
    read_stats = StageStats("read")
    stage_stats: list[StageStats] = []
    apply_state = None
    if task.apply is not None:
        step = task.apply.step
        assert isinstance(step, GlobalStep) and task.resolution_dir is not None
        apply_state = step.load(task.resolution_dir, task.shard.key)
        stage_stats.append(StageStats(task.apply.id))
    stage_stats.extend(StageStats(stage.id) for stage in task.stages)

    signatures = 0
    writer = ShardWriter(task.output_url, task.output_format)
    signature_writer = (
        ShardWriter(task.signature_url, "parquet") if task.signature_url is not None else None
    )
    rejected = _RejectedWriters(task.rejected_urls, task.sample_scrubber, task.scrubbed_stage_ids)
    progress = ShardProgress(task.fingerprint, task.input_bytes)
    try:
        for batch in _timed(_read_input(task, counts), read_stats):
            progress.update()
            _write_skipped(task, counts, rejected)
            read_stats.docs_out += batch.num_rows
            read_stats.bytes_out += text_bytes(batch)
            position = 0
            if task.apply is not None:
                step = task.apply.step
                result = _run_stage(
                    task.apply,
                    stage_stats[0],
                    batch,
                    lambda b, step=step: step.apply(b, apply_state, task.apply.id),
                    task,
                )
                rejected.write(task.apply.id, result.rejected)
                batch = result.kept
                position = 1
            for offset, stage in enumerate(task.stages):
                step = stage.step
                assert isinstance(step, MapStep)
                result = _run_stage(
                    stage,
                    stage_stats[position + offset],
                    batch,
                    lambda b, step=step, stage=stage: step.process(b, stage.id),
                    task,
                )
                rejected.write(stage.id, result.rejected)
                batch = result.kept
            if not task.keep_signals:
                batch = batch.select(list(DOC_COLUMNS))
            writer.write(batch)
            if signature_writer is not None:
                signature = _signatures(task, batch)
                signatures += signature.num_rows
                signature_writer.write(signature)
        _write_skipped(task, counts, rejected)
        writer.close()
        if signature_writer is not None:
            if signature_writer.schema is None:  # no batch at all: keep the signature schema
                signature_writer.write(_signatures(task, empty_batch()))
            signature_writer.close()
        rejected_files = rejected.close()
    except BaseException:
        writer.abort()
        if signature_writer is not None:
            signature_writer.abort()
        rejected.abort()
        raise

    read_stats.docs_in = counts["records"]
    read_stats.bytes_in = task.shard.size  # the raw input, compressed or not
    read_stats.removed.update({k: v for k, v in counts.items() if k != "records"})
    stages = ([read_stats] if task.reader is not None else []) + stage_stats
    for stats in stages:
        stats.check(where)
    record = {
        "source": task.source,
        "shard": task.shard.name,
        "segment": task.segment_index,
        "fingerprint": task.fingerprint,
        "stages": [stats.to_dict() for stats in stages],
        "docs_out": writer.rows,
        "signatures": signatures,
        "collect_docs_in": writer.rows if task.collect is not None else 0,
        "rejected_files": rejected_files,
    }
    write_marker(task.output_url, {"fingerprint": task.fingerprint, "stats": record})
    return record
