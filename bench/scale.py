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
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil
import pyarrow.dataset as ds
import yaml
from distributed import get_task_stream

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_corpus import EXACT, NEAR, build_corpus, load_truth, shard_name  # noqa: E402

from gristmill.dedupe import near_duplicates  # noqa: E402
from gristmill.dedupe.drop_list import DROP_LIST_DIR  # noqa: E402
from gristmill.pipelines import runner  # noqa: E402
from gristmill.pipelines.config import load_config  # noqa: E402
from gristmill.pipelines.plan import resolution_dir  # noqa: E402


def tree_cpu_seconds() -> float:
    """User + sys CPU seconds of this process and all its live descendants."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


class PeakMemory:
    """Samples the resident memory of this process (the client) and of its descendants."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.client = 0
        self.worker = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                own = me.memory_info().rss
                self.client = max(self.client, own)
                total = own
                for child in me.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        rss = child.memory_info().rss
                        total += rss
                        self.worker = max(self.worker, rss)
                self.total = max(self.total, total)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class PhaseMeter:
    """Wraps the runner's phase and resolve functions to time each (CPU and wall), and the
    MinHash resolve's tasks by kind and its client-side connected components."""

    def __init__(self) -> None:
        self.phases: list[dict] = []
        self.tasks: dict[str, float] = {}
        self.components_cpu = 0.0
        self._originals: dict = {}

    def _timed(self, name: str, function, *args, **kwargs):
        cpu, wall = tree_cpu_seconds(), time.perf_counter()
        result = function(*args, **kwargs)
        self.phases.append(
            {
                "phase": name,
                "cpu_s": round(tree_cpu_seconds() - cpu, 2),
                "wall_s": round(time.perf_counter() - wall, 2),
            }
        )
        print(json.dumps(self.phases[-1]), flush=True)
        return result

    def __enter__(self) -> PhaseMeter:
        run_phase, resolve = runner._run_phase, runner._resolve
        components = near_duplicates.connected_components
        self._originals = {"_run_phase": run_phase, "_resolve": resolve}

        def timed_phase(client, phase, tasks, *rest):
            return self._timed(f"documents_{phase}", run_phase, client, phase, tasks, *rest)

        def timed_resolve(config, plan, shards, step_id, records, client):
            if step_id != "minhash":
                return self._timed(f"resolve_{step_id}", resolve, config, plan, shards,
                                   step_id, records, client)  # fmt: skip
            with get_task_stream(client) as stream:
                result = self._timed(f"resolve_{step_id}", resolve, config, plan, shards,
                                     step_id, records, client)  # fmt: skip
            self.tasks = task_seconds(stream.data)
            return result

        def timed_components(left, right):
            started = time.process_time()
            result = components(left, right)
            self.components_cpu += time.process_time() - started
            return result

        runner._run_phase, runner._resolve = timed_phase, timed_resolve
        near_duplicates.connected_components = timed_components
        self._components = components
        return self

    def __exit__(self, *exc) -> None:
        runner._run_phase = self._originals["_run_phase"]
        runner._resolve = self._originals["_resolve"]
        near_duplicates.connected_components = self._components


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
        "minhash_tasks_s": meter.tasks,
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
    if not args.keep_output:
        shutil.rmtree(out, ignore_errors=True)
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
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [args.docs] if args.docs else [int(s) for s in args.sizes.split(",")]
    if args.build_only:
        build_corpus(Path(args.cache) / f"corpus-{sizes[0]}-{args.docs_per_shard}", sizes[0],
                     args.docs_per_shard)  # fmt: skip
        return 0
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", "65536")
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
