"""Run a pipeline on a Dask cluster: phases of segment tasks, global resolves between them.

For each phase, one task per (source, shard) segment is submitted with ``client.map``;
tasks whose completion marker matches their fingerprint are skipped (resume). Between
phases, the global steps whose signatures are complete are resolved with Dask collections.
At the end the per-shard stats are merged into ``run.json`` and the accounting invariant is
checked for every stage of every source.
"""

from __future__ import annotations

import importlib
import json
import os
import posixpath
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dask
from distributed import Client, LocalCluster, WorkerPlugin, as_completed

from gristmill import __version__
from gristmill.dedupe import numba_target
from gristmill.io.base import Shard
from gristmill.io.writers import read_marker
from gristmill.pipelines import worker_preload
from gristmill.pipelines.config import RunConfig, SourceConfig, fingerprint
from gristmill.pipelines.output_folder import GRISTMILL_ENTRIES, claimed_output
from gristmill.pipelines.plan import (
    Segment,
    output_url,
    plan_segments,
    rejected_url,
    resolution_dir,
    signature_url,
)
from gristmill.pipelines.progress import TOPIC as PROGRESS_TOPIC
from gristmill.pipelines.scrubbed_output import remove_unscrubbed_work
from gristmill.pipelines.segment import READ_STAGE, SegmentTask, run_segment
from gristmill.pipelines.source_checks import check_sources_yielded
from gristmill.pipelines.stats import AccountingError, check_chain, merge_source_stats
from gristmill.pipelines.worker_ctrl_c import ctrl_c_held
from gristmill.pipelines.worker_exit import FastExitPlugin
from gristmill.records import files_digest
from gristmill.steps import GlobalStep
from gristmill.storage import register as register_storage
from gristmill.storage import url_to_fs

RUN_FILE = "run.json"

#: Stages after the document phases, run in this order when their config section is set.
#: Each is ``fn(config, client, data_files: {source: [shard url, ...]}, resume) -> summary``
#: (a JSON-able dict recorded in run.json under the section name).
POST_STAGES: dict[str, str] = {
    "tokenizer": "gristmill.tokenize.stage:run_tokenizer_stage",
    "mixture": "gristmill.mixture.stage:run_mixture_stage",
}


class StorageOptionsPlugin(WorkerPlugin):
    """Registers the run's fsspec options per URL prefix (:mod:`gristmill.storage`) in every
    worker, including workers that join later."""

    name = "gristmill-storage-options"

    def __init__(self, entries: tuple[tuple[str, dict[str, Any]], ...]) -> None:
        self.entries = entries

    def setup(self, worker: Any) -> None:
        for prefix, options in self.entries:
            register_storage(prefix, options)


class RunFailed(RuntimeError):
    """Some shards failed; the others are done and a re-run resumes from them."""


@dataclass
class PhaseProgress:
    """What a progress display is told: a call per finished shard, and about once a second
    while shards run (input bytes read so far, see :mod:`gristmill.pipelines.progress`)."""

    phase: int
    total: int
    done: int = 0
    skipped: int = 0
    docs: int = 0
    started: float = field(default_factory=time.perf_counter)
    #: the steps this phase runs, e.g. "web: read → lid → length → collect minhash"
    label: str = ""
    bytes_total: int = 0
    #: input bytes of finished shards plus those read so far by running ones
    bytes_done: int = 0

    @property
    def docs_per_s(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.docs / elapsed if elapsed > 0 else 0.0


ProgressCallback = Callable[[PhaseProgress], None]


@contextmanager
def dask_client(
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    dashboard: bool = True,
    memory_limit: str | int | None = None,
):
    """Attach to an existing cluster, or start (and later close) an embedded LocalCluster
    of processes with one thread each. With ``dashboard``, the Dask dashboard on a free
    port (starting it imports bokeh, about 0.4 CPU s) and the workers' statistical
    profiler that feeds its profile page; without, no profiler either: it sampled every
    worker's stack every 10 ms, about 10% of the workers' CPU on the e2e bench, and its
    history added about 15 MiB to each worker. ``memory_limit`` is each embedded worker's
    (Dask's ``--memory-limit``: it spills to disk past 60% of it, pauses at 80%); by
    default Dask's ``auto``, the machine's memory shared among the workers."""
    if scheduler or scheduler_file:
        client = Client(address=scheduler, scheduler_file=scheduler_file)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = client = None
    try:
        # the nanny hands its configuration to the worker process it starts (and restarts)
        with ctrl_c_held(), dask.config.set(_embedded_cluster_config(dashboard)):
            cluster = LocalCluster(
                n_workers=workers or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # without bokeh: Dask's status routes on a free port
                scheduler_kwargs={"dashboard": dashboard},
                host="127.0.0.1",
                memory_limit="auto" if memory_limit is None else memory_limit,
            )
        client = Client(cluster)
        client.register_plugin(FastExitPlugin(), name=FastExitPlugin.name)
        yield client
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


#: glibc malloc settings of the embedded workers, in place of Dask's
#: ``MALLOC_TRIM_THRESHOLD_=65536``. With Dask's, every free leaving 64 KiB at the top of
#: the heap gave it back and every block over 128 KiB (a page's HTML, an Arrow buffer) was
#: a fresh mapping: on the 200 MB e2e bench the workers took 4.5 million page faults and
#: 12 s of system CPU, and the run 82–91 CPU s. Blocks up to 4 MiB come from the heap and
#: 8 MiB of free top is kept: 0.45 million faults, 2 s of system CPU, 69–74 CPU s (3
#: alternating pairs). One arena, since a worker computes on one thread: peak resident set
#: 386–389 MiB (Dask's: 380–382; glibc's defaults, which keep everything: 419–421 MiB).
WORKER_MALLOC = {
    "MALLOC_TRIM_THRESHOLD_": str(8 << 20),
    "MALLOC_MMAP_THRESHOLD_": str(4 << 20),
    "MALLOC_ARENA_MAX": "1",
}


def _embedded_cluster_config(dashboard: bool) -> dict[str, Any]:
    """Dask settings of the embedded cluster. Without a dashboard, no statistical profiler
    (see :func:`dask_client`). The event-loop latency check ticks every second instead of
    every 20 ms: still seconds ahead of its 3 s warning, and an idle cluster's scheduler
    and nanny then cost ~1% of a core instead of ~2.6% (each worker 0.6% instead of 1.6%).
    Arrow allocates from the C library's allocator in the workers rather than mimalloc:
    on the e2e bench the workers' peak resident set is 368 MiB instead of 410 MiB (mimalloc
    keeps freed pages of earlier batches), for the same CPU. (Dask sets that variable in
    this process too before it spawns a worker, as it does its OMP_NUM_THREADS.) That
    allocator is tuned by :data:`WORKER_MALLOC`, unless the environment sets it. numba's
    CPU target loads without scipy's BLAS in the workers
    (:mod:`gristmill.dedupe.numba_target`: 0.2–0.5 CPU s less per worker). Each worker's
    preload (:mod:`gristmill.pipelines.worker_preload`) ignores Ctrl-C and keeps pyarrow
    from importing pandas for nothing (42 MiB per worker)."""
    return {
        "distributed.worker.profile.enabled": dashboard,
        "distributed.admin.tick.interval": "1s",
        "distributed.nanny.pre-spawn-environ.ARROW_DEFAULT_MEMORY_POOL": "system",
        **{f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC.items()},
        # set in the worker processes only (after they start), never in this one
        f"distributed.nanny.environ.{numba_target.WITHOUT_SCIPY_BLAS}": "1",
        # each worker ignores Ctrl-C (the client handles it) and defers pandas; after
        # any preload the user's Dask configuration names
        "distributed.worker.preload": [
            *dask.config.get("distributed.worker.preload", default=[]),
            worker_preload.__name__,
        ],
    }


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a container's quota)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def oversubscription_warning(workers: int, origin: str, cores: int) -> str | None:
    """A warning when more single-threaded worker processes are asked for than there are
    cores: they only compete for the CPUs and each costs its own memory."""
    if workers <= cores:
        return None
    return (
        f"{workers} worker processes ({origin}) on {cores} CPU cores: the extra workers add "
        f"memory and contention, not speed; the default is the core count ({cores})"
    )


def list_shards(config: RunConfig) -> dict[str, list[Shard]]:
    shards: dict[str, list[Shard]] = {}
    for source in config.sources:
        found = source.reader.shards(source.name, list(source.paths))
        if not found:
            raise FileNotFoundError(
                f"{config.source_file}: source {source.name!r}: no input files in {source.paths}"
            )
        shards[source.name] = found
    return shards


def run_pipeline(
    config: RunConfig,
    client: Client,
    resume: bool = True,
    on_progress: ProgressCallback | None = None,
    output_claimed: bool = False,
) -> dict[str, Any]:
    """Run every phase; returns the run record also written to ``out/run.json``.

    The output folder is locked for the run; ``resume=False`` (``--fresh``) first deletes
    what an earlier run wrote there (see :mod:`gristmill.pipelines.output_folder`). A
    caller that already holds :func:`claimed_output` (the CLI, before it starts a
    cluster) passes ``output_claimed=True``."""
    if output_claimed:
        return _run_pipeline(config, client, resume, on_progress)
    with claimed_output(config.output, fresh=not resume):
        return _run_pipeline(config, client, resume, on_progress)


def _run_pipeline(
    config: RunConfig,
    client: Client,
    resume: bool,
    on_progress: ProgressCallback | None,
) -> dict[str, Any]:
    started = time.time()
    if config.storage:
        client.register_plugin(StorageOptionsPlugin(config.storage), name=StorageOptionsPlugin.name)
    fs, out_root = url_to_fs(config.output)
    _remove_partial_files(fs, out_root)

    shards = list_shards(config)
    plan = plan_segments(config)
    order = config.global_order()
    # fingerprint of each (source, shard)'s latest segment, chained across segments
    chain: dict[tuple[str, str], str] = {}
    resolutions: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    global_summaries: dict[str, Any] = {}

    for phase in range(len(order) + 1):
        tasks = []
        for source in config.sources:
            for segment in plan[source.name]:
                if segment.phase != phase:
                    continue
                previous = plan[source.name][segment.index - 1] if segment.index else None
                for shard in shards[source.name]:
                    tasks.append(_make_task(config, segment, previous, shard, chain, resolutions))
        records.extend(_run_phase(client, phase, tasks, resume, on_progress))
        if phase == 0:
            check_sources_yielded(list(config.sources), records, shards)
        if phase < len(order):
            step_id = order[phase]
            resolutions[step_id], global_summaries[step_id] = _resolve(
                config, plan, shards, step_id, records, client
            )

    run = _run_record(config, plan, records, global_summaries, started)
    # every document segment is done: raw text before a pii stage is no longer needed
    remove_unscrubbed_work(config, plan)
    for section, runner_path in POST_STAGES.items():
        if getattr(config, section) is not None:
            module_name, function = runner_path.split(":")
            stage = getattr(importlib.import_module(module_name), function)
            run[section] = stage(config, client, final_shards(config, plan, shards), resume)
    run["wall_s"] = round(time.time() - started, 3)
    with fs.open(posixpath.join(out_root, RUN_FILE), "w") as handle:
        json.dump(run, handle, indent=2, sort_keys=False)
    return run


def final_shards(
    config: RunConfig, plan: dict[str, list[Segment]], shards: dict[str, list[Shard]]
) -> dict[str, list[str]]:
    """The output shard files of every source, in shard order."""
    return {
        source.name: [
            output_url(config, plan[source.name][-1], shard) for shard in shards[source.name]
        ]
        for source in config.sources
    }


def _remove_partial_files(fs, out_root: str) -> None:
    """Temporary files of tasks killed mid-write (their shards are redone on resume), in
    the folders gristmill writes only."""
    for entry in sorted(GRISTMILL_ENTRIES):
        folder = posixpath.join(out_root, entry)
        if not fs.isdir(folder):
            continue
        for path in fs.find(folder):
            if ".tmp-" in posixpath.basename(path):
                fs.rm(path)


def _make_task(
    config: RunConfig,
    segment: Segment,
    previous_segment: Segment | None,
    shard: Shard,
    chain: dict[tuple[str, str], str],
    resolutions: dict[str, str],
) -> SegmentTask:
    source = segment.source
    key = (source.name, shard.name)
    previous = chain.get(
        key, fingerprint({"paths": shard.paths, "size": shard.size, "members": shard.members})
    )
    resolution = resolutions[segment.apply.id] if segment.apply else None
    task_fingerprint = segment.fingerprint(previous, resolution, config)
    previous_output = (
        output_url(config, previous_segment, shard) if previous_segment is not None else None
    )
    chain[key] = task_fingerprint
    rejected = None
    if config.write_rejected:
        stage_ids = ([segment.apply.id] if segment.apply else []) + [s.id for s in segment.stages]
        if segment.index == 0:
            stage_ids.insert(0, READ_STAGE)  # reader skips (issue 15)
        rejected = {stage_id: rejected_url(config, stage_id, shard) for stage_id in stage_ids}
    return SegmentTask(
        source=source.name,
        shard=shard,
        segment_index=segment.index,
        reader=source.reader if segment.index == 0 else None,
        input_url=previous_output,
        apply=segment.apply,
        resolution_dir=resolution_dir(config, segment.apply.id) if segment.apply else None,
        stages=segment.stages,
        collect=segment.collect,
        signature_url=signature_url(config, segment.collect.id, shard) if segment.collect else None,
        priority=source.priority,
        output_url=output_url(config, segment, shard),
        output_format=config.output_format if segment.is_last else "arrow",
        keep_signals=config.keep_signals if segment.is_last else True,
        rejected_urls=rejected,
        fingerprint=task_fingerprint,
        input_bytes=_input_bytes(shard, previous_output),
        **_sample_scrubbing(source),
    )


def _input_bytes(shard: Shard, previous_output: str | None) -> int:
    if previous_output is None:
        return shard.size
    fs, path = url_to_fs(previous_output)
    try:
        return int(fs.size(path) or 0)
    except (OSError, ValueError):
        return 0


def phase_label(tasks: list[SegmentTask]) -> str:
    """The steps of a phase per source: ``web: read → lid → length → collect minhash``."""
    labels: dict[str, str] = {}
    for task in tasks:
        if task.source in labels:
            continue
        steps = ["read"] if task.reader is not None else []
        if task.apply is not None:
            steps.append(f"apply {task.apply.id}")
        steps.extend(stage.id for stage in task.stages)
        if task.collect is not None:
            steps.append(f"collect {task.collect.id}")
        labels[task.source] = f"{task.source}: {' → '.join(steps) or 'copy'}"
    return " · ".join(labels.values())


def _sample_scrubbing(source: SourceConfig) -> dict[str, Any]:
    """The source's first ``pii`` step and the ids of the stages before it, whose report
    samples and rejected documents it scrubs."""
    for position, stage in enumerate(source.stages):
        if stage.step.name == "pii":
            before = frozenset(earlier.id for earlier in source.stages[:position])
            return {"sample_scrubber": stage.step, "scrubbed_stage_ids": before}
    return {}


def _run_phase(
    client: Client,
    phase: int,
    tasks: list[SegmentTask],
    resume: bool,
    on_progress: ProgressCallback | None,
) -> list[dict[str, Any]]:
    progress = PhaseProgress(
        phase=phase,
        total=len(tasks),
        label=phase_label(tasks),
        bytes_total=sum(task.input_bytes for task in tasks),
    )
    records: list[dict[str, Any]] = []
    pending: list[SegmentTask] = []
    for task in tasks:
        marker = read_marker(task.output_url) if resume else None
        if marker is not None and marker.get("fingerprint") == task.fingerprint:
            records.append(marker["stats"])
            progress.done += 1
            progress.skipped += 1
            progress.bytes_done += task.input_bytes
        else:
            pending.append(task)
    if on_progress:
        on_progress(progress)
    if not pending:
        return records
    finished_bytes = progress.bytes_done
    running: dict[str, int] = {}
    sizes = {task.fingerprint: task.input_bytes for task in pending}

    def on_event(event: Any) -> None:
        _, message = event
        if isinstance(message, dict) and message.get("task") in sizes:
            running[message["task"]] = int(message.get("bytes", 0))
            progress.bytes_done = finished_bytes + sum(running.values())
            if on_progress:
                on_progress(progress)

    if on_progress:
        client.subscribe_topic(PROGRESS_TOPIC, on_event)
    futures = client.map(
        run_segment,
        pending,
        key=[f"segment-{t.source}-{t.segment_index}-{t.fingerprint[:16]}" for t in pending],
        retries=2,
        pure=True,
    )
    failures: list[str] = []
    for future in as_completed(futures):
        if future.status == "error":
            index = futures.index(future)
            task = pending[index]
            failures.append(f"{task.source}/{task.shard.name}: {future.exception()!r}")
            if isinstance(future.exception(), AccountingError):
                raise future.exception()
        else:
            record = future.result()
            records.append(record)
            progress.docs += record["docs_out"]
        finished = pending[futures.index(future)]
        running.pop(finished.fingerprint, None)
        finished_bytes += finished.input_bytes
        progress.bytes_done = finished_bytes + sum(running.values())
        progress.done += 1
        if on_progress:
            on_progress(progress)
    if on_progress:
        client.unsubscribe_topic(PROGRESS_TOPIC)
    if failures:
        raise RunFailed(
            f"{len(failures)} of {len(tasks)} shards failed in phase {phase} "
            "(the others are done; re-run to resume):\n  " + "\n  ".join(failures)
        )
    return records


def _resolve(
    config: RunConfig,
    plan: dict[str, list[Segment]],
    shards: dict[str, list[Shard]],
    step_id: str,
    records: list[dict[str, Any]],
    client: Client,
) -> tuple[str, dict[str, Any]]:
    """Resolve one global step over the signatures of every source that names it."""
    paths: list[str] = []
    fingerprints: list[str] = []
    signatures = 0
    docs_in = 0
    step: GlobalStep | None = None
    collecting = {
        (segment.source.name, segment.index)
        for segments in plan.values()
        for segment in segments
        if segment.collect is not None and segment.collect.id == step_id
    }
    for record in records:
        if (record["source"], record["segment"]) in collecting:
            fingerprints.append(record["fingerprint"])
            signatures += record["signatures"]
            docs_in += record["collect_docs_in"]
    for segments in plan.values():
        for segment in segments:
            if segment.collect is not None and segment.collect.id == step_id:
                step = segment.collect.step  # type: ignore[assignment]
                paths.extend(
                    signature_url(config, step_id, shard) for shard in shards[segment.source.name]
                )
    assert step is not None
    if docs_in and not signatures:
        raise AccountingError(
            f"global step {step_id!r} received {docs_in} documents but produced no signatures"
        )
    target = resolution_dir(config, step_id)
    resolution = fingerprint(
        {
            "step": step.describe(),
            "inputs": sorted(fingerprints),
            "files": files_digest(step.input_files()),
            "state": step.resolution_state(target),
        }
    )
    fs, root = url_to_fs(target)
    marker = posixpath.join(root, "_resolved.json")
    if fs.exists(marker):
        with fs.open(marker) as handle:
            done = json.load(handle)
        if done.get("fingerprint") == resolution:
            return resolution, done["summary"]
    if fs.exists(root):
        fs.rm(root, recursive=True)
    fs.makedirs(root, exist_ok=True)
    wall, started = time.perf_counter(), time.time()
    summary = dict(step.resolve(paths, target) or {})
    summary.update(
        signatures=signatures,
        signature_files=len(paths),
        wall_s=round(time.perf_counter() - wall, 3),
        started=started,
    )
    with fs.open(marker, "w") as handle:
        json.dump({"fingerprint": resolution, "summary": summary}, handle)
    return resolution, summary


def _run_record(
    config: RunConfig,
    plan: dict[str, list[Segment]],
    records: list[dict[str, Any]],
    global_summaries: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    sources: dict[str, Any] = {}
    for source in config.sources:
        own = sorted(
            (r for r in records if r["source"] == source.name),
            key=lambda r: (r["segment"], r["shard"]),
        )
        merged = merge_source_stats(own)
        check_chain(merged, f"source {source.name!r}")
        final = [r for r in own if r["segment"] == len(plan[source.name]) - 1]
        sources[source.name] = {
            "shards": len(final),
            "docs_in": merged[0].docs_in if merged else 0,
            "docs_out": sum(r["docs_out"] for r in final),
            "stages": [stats.to_dict() for stats in merged],
        }
    return {
        "gristmill_version": __version__,
        "config_file": config.source_file,
        "config_fingerprint": config.fingerprint(),
        "config": config.describe(),
        "output": config.output,
        "started": started,
        "wall_s": round(time.time() - started, 3),
        "sources": sources,
        "global_steps": global_summaries,
        "warnings": run_warnings(global_summaries),
    }


def run_warnings(global_summaries: dict[str, Any]) -> list[str]:
    """The warnings of the global steps' resolve summaries (a ``warnings`` list: targets
    not met, input read only in part), each once, named by step."""
    warnings: list[str] = []
    for step_id, summary in global_summaries.items():
        for warning in summary.get("warnings", ()):
            line = f"{step_id}: {warning}"
            if line not in warnings:
                warnings.append(line)
    return warnings
