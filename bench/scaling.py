"""Scaling of a map segment on the embedded Dask cluster, and a worker's peak memory.

1. 2 workers against 1 on the map segment (WARC → main text → normalize → length filter)
   over 8 WARC shards built by cycling the real crawl excerpts of
   ``../shared/data/web/warc``: the CPU time of each run (workers and client, from
   ``getrusage``; cluster start-up not counted) and their ratio, which shows the work that
   splitting adds; the wall-clock speed-up is printed and kept as ``scaling_2w_wall``, but it
   measures the machine's other load too and means something only on an idle machine.
2. Peak RSS of the one worker that streams a 1 GiB JSONL shard (cycled from the dolma
   CommonCrawl sample) through normalize + length: memory must stay bounded (< 1 GiB).

Ends with ``RESULT cpu_ratio_2w_vs_1w=<x> scaling_2w_wall=<x> peak_rss_mib=<y>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml
from cluster_cpu import cluster_cpu_seconds

from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def build_warc_shards(folder: Path, shards: int, shard_mb: float) -> list[Path]:
    """Concatenate the gzip WARC files (gzip members concatenate into a valid file)."""
    sources = sorted((SHARED / "web" / "warc").rglob("*.warc.gz"))
    blobs = [p.read_bytes() for p in sources]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in range(shards):
        path = folder / f"crawl-{shard:03d}.warc.gz"
        size = 0
        with path.open("wb") as handle:
            index = shard
            while size < shard_mb * 1e6:
                blob = blobs[index % len(blobs)]
                handle.write(blob)
                size += len(blob)
                index += 1
        paths.append(path)
    return paths


def build_big_jsonl(path: Path, target_bytes: int) -> int:
    with gzip.open(SHARED / "web" / "jsonl" / "dolma" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt") as f:
        lines = [json.dumps({"text": json.loads(line)["text"]}) + "\n" for line in f]
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        while written < target_bytes:
            for line in lines:
                handle.write(line)
                written += len(line.encode("utf-8"))
                if written >= target_bytes:
                    break
    return written


def config_file(folder: Path, paths: str, fmt: str, out: Path) -> Path:
    data = {
        "output": str(out),
        "sources": [
            {
                "name": "web",
                "paths": [paths],
                "format": fmt,
                "stages": ["normalize", {"length": {"min_words": 50}}],
            }
        ],
    }
    path = folder / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def timed_run(config_path: Path, workers: int) -> tuple[float, float, dict, int]:
    """Wall seconds, CPU seconds (workers and client), the run record, peak worker RSS."""
    config = load_config(config_path)
    with dask_client(workers=workers) as client:
        client.wait_for_workers(workers)
        started, cpu_started = time.perf_counter(), cluster_cpu_seconds(client)
        run = run_pipeline(config, client, resume=False)
        elapsed = time.perf_counter() - started
        cpu = cluster_cpu_seconds(client) - cpu_started
        rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return elapsed, cpu, run, max(rss.values()) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--shard-mb", type=float, default=8.0)
    parser.add_argument("--big-gib", type=float, default=1.0)
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit("../shared/data is needed for this benchmark")

    with tempfile.TemporaryDirectory(prefix="gristmill-scaling-") as tmp:
        tmp_path = Path(tmp)
        build_warc_shards(tmp_path / "warc", args.shards, args.shard_mb)
        config = config_file(tmp_path, str(tmp_path / "warc" / "*.warc.gz"), "warc", tmp_path / "out")
        timings, cpu = {}, {}
        for workers in (1, 2):
            elapsed, cpu[workers], run, _ = timed_run(config, workers)
            docs = run["sources"]["web"]["stages"][0]["docs_out"]
            timings[workers] = elapsed
            print(f"{workers} worker(s): {cpu[workers]:.2f} s CPU ({docs / cpu[workers]:,.0f} docs "
                  f"per CPU second), {elapsed:.2f} s wall, {docs} docs")  # fmt: skip
        scaling = timings[1] / timings[2]
        cpu_ratio = cpu[2] / cpu[1]
        print(f"2 workers vs 1: CPU time x{cpu_ratio:.2f} (the work added by splitting it); "
              f"wall speed-up {scaling:.2f}x (only meaningful on an idle machine)")  # fmt: skip

        big = tmp_path / "big" / "shard.jsonl"
        big.parent.mkdir()
        size = build_big_jsonl(big, int(args.big_gib * 2**30))
        config = config_file(tmp_path, str(big), "jsonl", tmp_path / "out-big")
        _, big_cpu, run, peak_mib = timed_run(config, 1)
        print(
            f"1 worker on a {size / 2**30:.2f} GiB JSONL shard: {big_cpu:.1f} s CPU "
            f"({size / 2**20 / big_cpu:.0f} MiB per CPU second), worker peak RSS {peak_mib} MiB"
        )
    print(f"RESULT cpu_ratio_2w_vs_1w={cpu_ratio:.2f} scaling_2w_wall={scaling:.2f} "
          f"peak_rss_mib={peak_mib}")  # fmt: skip


if __name__ == "__main__":
    main()
