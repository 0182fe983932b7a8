"""Exact + MinHash dedup of millions of documents on the embedded Dask cluster, bounded memory.

The corpus (``bench/scale_corpus.py``) is real text recombined into short documents with
planted exact and near duplicates, cached under ``--cache``. Each size runs ``gristmill run``'s
own path: a Parquet source with the stages ``exact_dedup`` then ``minhash`` (defaults),
``run_pipeline`` on the embedded cluster of :func:`~gristmill.pipelines.runner.dask_client`,
whose workers get ``--memory-limit`` (Dask spills past 60% of it, into ``--cache``/spill).

Measured per size, on a shared machine, so time is **CPU time** (user + sys of the client and
every worker process, sampled at phase boundaries), wall time only for reference:

- per phase: each document phase (read + collect, apply + collect, apply + write) and each
  resolve; inside the MinHash resolve, the workers' compute time per task kind (Dask's task
  stream: the shuffles' transfer and unpack tasks, bucket grouping ``_partition_edges``,
  verification ``_with_centre_signatures`` / ``_verified``, the drop list) and the client's
  CPU for the connected components;
- peak resident memory of the client process and of the largest worker (sampled every
  0.2 s), duplicate edges gathered on the client;
- recall (planted pairs that end in one cluster) and precision (drops whose kept document is
  of the same planted family), for exact and near copies.

With two sizes or more, ``growth_per_4x`` is the MinHash resolve's CPU-time ratio between the
two largest sizes, scaled to a 4x step (``ratio ** (log 4 / log size_ratio)``).

Ends with ``RESULT docs=<largest> growth_per_4x=<x> client_peak_rss_mib=<m>
worker_peak_rss_mib=<m> recall=<r> precision=<p>``.

Usage: ``python bench/scale.py --sizes 250000,1000000`` or ``--docs 10000000`` (one size).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil
import pyarrow.dataset as ds
import yaml
from distributed import get_task_stream

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_memory import PeakMemory  # noqa: E402
from scale_corpus import EXACT, NEAR, build_corpus, load_truth, shard_name  # noqa: E402

from gristmill.dedupe import components as components_module  # noqa: E402
from gristmill.dedupe import near_duplicates  # noqa: E402
from gristmill.dedupe.drop_list import DROP_LIST_DIR  # noqa: E402
from gristmill.pipelines import runner  # noqa: E402
from gristmill.pipelines.config import load_config  # noqa: E402
from gristmill.pipelines.plan import resolution_dir  # noqa: E402


def client_cpu_seconds() -> float:
    """User + sys CPU seconds of this process (the client, and the embedded scheduler)."""
    return sum(psutil.Process().cpu_times()[:2])


def tree_cpu_seconds() -> float:
    """User + sys CPU seconds of this process and all its live descendants."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


#: The MinHash resolve's own task functions, timed in CPU on the workers.
RESOLVE_FUNCTIONS = ("_band_rows", "_partition_edges", "_with_centre_signatures", "_verified",
                     "_with_documents", "_drops_of_components")  # fmt: skip


def _thread_cpu_timed(name: str, function):
    """``function``, adding the CPU time of its thread to the running worker's tally."""

    def timed(*args, **kwargs):
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            from distributed import get_worker

            tally = get_worker().__dict__.setdefault("_bench_cpu", defaultdict(float))
            tally[name] += time.thread_time() - started

    return timed


@contextlib.contextmanager
def function_cpu(client):
    """Yields a dict filled, on exit, with the workers' CPU seconds per resolve function and
    their total CPU (so the rest is Dask's: shuffles, serialisation, communication)."""
    originals = {name: getattr(near_duplicates, name) for name in RESOLVE_FUNCTIONS}
    for name, function in originals.items():
        setattr(near_duplicates, name, _thread_cpu_timed(name, function))

    def worker_cpu(dask_worker=None) -> float:
        return sum(psutil.Process().cpu_times()[:2])

    def tallies(dask_worker=None) -> dict:
        return dict(dask_worker.__dict__.pop("_bench_cpu", {}))

    found: dict[str, float] = {}
    before = sum(client.run(worker_cpu).values())
    client.run(tallies)
    try:
        yield found
    finally:
        for name, function in originals.items():
            setattr(near_duplicates, name, function)
        total = sum(client.run(worker_cpu).values()) - before
        for tally in client.run(tallies).values():
            for name, seconds in tally.items():
                found[name] = found.get(name, 0.0) + seconds
        found["dask_rest"] = total - sum(found.values())
        found["workers_total"] = total
        for name in list(found):
            found[name] = round(found[name], 2)


class PhaseMeter:
    """Wraps the runner's phase and resolve functions to time each (CPU and wall), and the
    MinHash resolve's tasks by kind and its client-side connected components."""

    def __init__(self) -> None:
        self.phases: list[dict] = []
        self.tasks: dict[str, float] = {}
        self.functions: dict[str, float] = {}
        self.components_cpu = 0.0
        self._originals: dict = {}

    def _timed(self, name: str, function, *args, **kwargs):
        cpu, wall, client = tree_cpu_seconds(), time.perf_counter(), client_cpu_seconds()
        result = function(*args, **kwargs)
        self.phases.append(
            {
                "phase": name,
                "cpu_s": round(tree_cpu_seconds() - cpu, 2),
                "client_cpu_s": round(client_cpu_seconds() - client, 2),
                "wall_s": round(time.perf_counter() - wall, 2),
            }
        )
        print(json.dumps(self.phases[-1]), flush=True)
        return result

    def __enter__(self) -> PhaseMeter:
        run_phase, resolve = runner._run_phase, runner._resolve
        components = components_module.connected_components  # imported where it is used
        self._originals = {"_run_phase": run_phase, "_resolve": resolve}

        def timed_phase(client, phase, tasks, *rest):
            return self._timed(f"documents_{phase}", run_phase, client, phase, tasks, *rest)

        def timed_resolve(config, plan, shards, step_id, records, client):
            if step_id != "minhash":
                return self._timed(f"resolve_{step_id}", resolve, config, plan, shards,
                                   step_id, records, client)  # fmt: skip
            with get_task_stream(client) as stream, function_cpu(client) as functions:
                result = self._timed(f"resolve_{step_id}", resolve, config, plan, shards,
                                     step_id, records, client)  # fmt: skip
            self.tasks = task_seconds(stream.data)
            self.functions = functions
            return result

        def timed_components(left, right):
            started = time.process_time()
            result = components(left, right)
            self.components_cpu += time.process_time() - started
            return result

        runner._run_phase, runner._resolve = timed_phase, timed_resolve
        components_module.connected_components = timed_components
        self._components = components
        return self

    def __exit__(self, *exc) -> None:
        runner._run_phase = self._originals["_run_phase"]
        runner._resolve = self._originals["_resolve"]
        components_module.connected_components = self._components


def task_seconds(stream: list[dict]) -> dict[str, float]:
    """Worker compute seconds per task kind (the key's name without its token)."""
    from dask.utils import key_split

    seconds: dict[str, float] = defaultdict(float)
    for task in stream:
        for part in task.get("startstops", ()):
            if part["action"] == "compute":
                seconds[key_split(task["key"])] += part["stop"] - part["start"]
    return {name: round(value, 2) for name, value in sorted(seconds.items(), key=lambda x: -x[1])}


def score(truth: dict[str, np.ndarray], drops: dict[int, int]) -> dict[str, float]:
    """Recall per planted kind and precision of the drops (see the module)."""
    kind, parent = truth["kind"], truth["parent"]
    documents = len(kind)
    kept_as = np.arange(documents)
    if drops:
        dropped = np.fromiter(drops.keys(), np.int64, len(drops))
        kept_as[dropped] = np.fromiter(drops.values(), np.int64, len(drops))
    root = kept_as.copy()
    while True:  # pointer jumping: each document's final kept document
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    family = np.where(parent >= 0, parent, np.arange(documents))
    while True:
        nxt = family[family]
        if np.array_equal(nxt, family):
            break
        family = nxt
    result = {}
    for name, code in (("exact", EXACT), ("near", NEAR)):
        children = np.flatnonzero(kind == code)
        result[f"recall_{name}"] = float(np.mean(root[children] == root[parent[children]]))
    planted = np.flatnonzero(kind != 0)
    result["recall"] = float(np.mean(root[planted] == root[parent[planted]]))
    if drops:
        result["precision"] = float(np.mean(family[dropped] == family[kept_as[dropped]]))
    else:
        result["precision"] = float("nan")
    result["dropped"] = len(drops)
    result["planted"] = len(planted)
    return {k: round(v, 5) if isinstance(v, float) else v for k, v in result.items()}


def read_drops(config, docs_per_shard: int, shards: int) -> dict[int, int]:
    """``{dropped document: its kept twin}`` over both steps' drop lists."""
    number_of = {shard_name(k): k for k in range(shards)}

    def document(doc_id: str) -> int:
        rest, row = doc_id.rsplit("/", 1)
        return number_of[rest.rsplit("/", 1)[1]] * docs_per_shard + int(row)

    drops: dict[int, int] = {}
    for step in ("exact_dedup", "minhash"):
        folder = Path(resolution_dir(config, step)) / DROP_LIST_DIR
        if not folder.exists():
            continue
        table = ds.dataset(folder, format="parquet", partitioning="hive").to_table(
            columns=["id", "duplicate_of"]
        )
        for doc_id, twin in zip(
            table.column("id").to_pylist(), table.column("duplicate_of").to_pylist(), strict=True
        ):
            drops[document(doc_id)] = document(twin)
    return drops


def run_size(args, documents: int) -> dict:
    cache = Path(args.cache)
    folder = cache / f"corpus-{documents}-{args.docs_per_shard}"
    if not (folder / "truth.npz").exists():
        started = time.process_time()
        # in a child process, so that the client's peak memory is the run's alone
        subprocess.run(
            [sys.executable, __file__, "--build-only", "--docs", str(documents),
             "--docs-per-shard", str(args.docs_per_shard), "--cache", str(cache)],
            check=True,
        )  # fmt: skip
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"corpus of {documents} built: {usage.ru_utime + usage.ru_stime:.0f} CPU s "
              f"in all children so far ({time.process_time() - started:.0f} here)", flush=True)  # fmt: skip
    shards = folder / "shards"
    shard_count = len(list(shards.glob("*.parquet")))
    out = cache / f"out-{documents}"
    if out.exists():
        shutil.rmtree(out)
    pipeline = {
        "output": str(out),
        "sources": [
            {
                "name": "docs",
                "paths": [str(shards)],
                "format": "parquet",
                "stages": ["exact_dedup", "minhash"],
            }
        ],
    }
    config_path = cache / f"pipeline-{documents}.yaml"
    config_path.write_text(yaml.safe_dump(pipeline))
    config = load_config(config_path)
    import dask

    spill = cache / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    with dask.config.set({"temporary-directory": str(spill)}), runner.dask_client(
        workers=args.workers, memory_limit=args.memory_limit
    ) as client:
        client.run(lambda: None)
        if args.shuffle != "auto":  # the resolve runs here, in the client
            near_duplicates.P2P_SHUFFLE_DOCUMENTS = 0 if args.shuffle == "p2p" else 2**62
        with PeakMemory() as memory, PhaseMeter() as meter:
            cpu, wall = tree_cpu_seconds(), time.perf_counter()
            run = runner.run_pipeline(config, client, resume=False)
            cpu, wall = tree_cpu_seconds() - cpu, time.perf_counter() - wall
    minhash = run["global_steps"]["minhash"]
    quality = score(load_truth(folder), read_drops(config, args.docs_per_shard, shard_count))
    resolve = next(p for p in meter.phases if p["phase"] == "resolve_minhash")
    result = {
        "documents": documents,
        "shards": shard_count,
        "workers": args.workers,
        "memory_limit": args.memory_limit,
        "shuffle": args.shuffle,
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "phases": meter.phases,
        "minhash_resolve_cpu_s": resolve["cpu_s"],
        "minhash_worker_cpu_s": meter.functions,
        "minhash_tasks_wall_s": meter.tasks,
        "components_client_cpu_s": round(meter.components_cpu, 2),
        "duplicate_edges": minhash["duplicate_edges"],
        "edges_per_document": round(minhash["duplicate_edges"] / documents, 4),
        "partitions": minhash["partitions"],
        "client_peak_rss_mib": round(memory.client / 2**20),
        "worker_peak_rss_mib": round(memory.worker / 2**20),
        "tree_peak_rss_mib": round(memory.total / 2**20),
        **quality,
    }
    print(json.dumps(result), flush=True)
    with (cache / "results.jsonl").open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    if not args.keep_output:
        shutil.rmtree(out, ignore_errors=True)
    return result


def resolve_only(args, documents: int) -> dict:
    """The MinHash resolve alone, on the signature files a ``--keep-output`` run left, with
    the shuffle method forced by ``--shuffle`` (to compare them at the same size)."""
    from gristmill.dedupe.minhash import MinHashDedup
    from gristmill.pipelines.plan import global_dir

    cache = Path(args.cache)
    config = load_config(cache / f"pipeline-{documents}.yaml")
    paths = sorted(str(p) for p in (Path(global_dir(config, "minhash")) / "signatures").rglob(
        "*.parquet"))  # fmt: skip
    target = cache / f"resolve-{documents}"
    import dask

    with dask.config.set({"temporary-directory": str(cache / "spill")}), runner.dask_client(
        workers=args.workers, memory_limit=args.memory_limit
    ) as client:
        client.run(lambda: None)
        if args.shuffle != "auto":
            near_duplicates.P2P_SHUFFLE_DOCUMENTS = 0 if args.shuffle == "p2p" else 2**62
        with PeakMemory() as memory, PhaseMeter() as meter, get_task_stream(
            client
        ) as stream, function_cpu(client) as functions:
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            cpu, wall, client = tree_cpu_seconds(), time.perf_counter(), client_cpu_seconds()
            summary = MinHashDedup().resolve(paths, str(target))
            cpu, wall = tree_cpu_seconds() - cpu, time.perf_counter() - wall
            client = client_cpu_seconds() - client
    result = {
        "documents": documents,
        "shuffle": args.shuffle,
        "resolve_cpu_s": round(cpu, 2),
        "resolve_wall_s": round(wall, 2),
        "resolve_client_cpu_s": round(client, 2),
        "worker_cpu_s": functions,
        "tasks_wall_s": task_seconds(stream.data),
        "components_client_cpu_s": round(meter.components_cpu, 2),
        "duplicate_edges": summary["duplicate_edges"],
        "dropped": summary["dropped"],
        "client_peak_rss_mib": round(memory.client / 2**20),
        "worker_peak_rss_mib": round(memory.worker / 2**20),
    }
    print(json.dumps(result), flush=True)
    with (cache / "results.jsonl").open("a") as handle:
        handle.write(json.dumps({"resolve_only": True, **result}) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,4000000", help="corpus sizes, ascending")
    parser.add_argument("--docs", type=int, help="one size (e.g. 10000000) instead of --sizes")
    parser.add_argument("--docs-per-shard", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="2.5GiB", help="per worker (Dask's)")
    parser.add_argument("--shuffle", choices=("auto", "tasks", "p2p"), default="auto",
                        help="force the MinHash resolve's shuffle method")  # fmt: skip
    parser.add_argument("--cache", default="/tmp/gristmill-scale")
    parser.add_argument("--keep-output", action="store_true")
    parser.add_argument("--resolve-only", action="store_true",
                        help="only the MinHash resolve, on a --keep-output run's signatures")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [args.docs] if args.docs else [int(s) for s in args.sizes.split(",")]
    if args.build_only:
        build_corpus(Path(args.cache) / f"corpus-{sizes[0]}-{args.docs_per_shard}", sizes[0],
                     args.docs_per_shard)  # fmt: skip
        return 0
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", "65536")
    if args.resolve_only:
        for size in sizes:
            resolve_only(args, size)
        return 0
    results = [run_size(args, size) for size in sizes]
    largest = results[-1]
    growth = float("nan")
    if len(results) > 1:
        small, large = results[-2], results[-1]
        ratio = large["minhash_resolve_cpu_s"] / small["minhash_resolve_cpu_s"]
        growth = ratio ** (math.log(4) / math.log(large["documents"] / small["documents"]))
    print(
        f"client connected components: {largest['edges_per_document']:.4f} edges per document "
        f"x 16 B = {largest['edges_per_document'] * 16 * 1e9 / 2**30:.2f} GiB of edges per "
        f"billion documents"
    )
    print(
        f"RESULT docs={largest['documents']} growth_per_4x={growth:.2f} "
        f"client_peak_rss_mib={max(r['client_peak_rss_mib'] for r in results)} "
        f"worker_peak_rss_mib={max(r['worker_peak_rss_mib'] for r in results)} "
        f"recall={largest['recall']:.4f} precision={largest['precision']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
