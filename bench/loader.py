"""Mixture weights on real corpora, and writer and trainer-side loader throughput.

Part 1, real corpora (``../shared/data``): the dolma web pages (jsonl), the Project
Gutenberg novels (150k-300k tokens each) and the gin code repository go through
``gristmill run`` with a tokenizer (sentencepiece BPE, 8,000 pieces) and a mixture of web
0.85 / books 0.10 / code 0.05 with ``total_tokens: null`` — the case where one novel holds
more tokens than the books' whole target — and then, on the same token shards, web 0.7 /
books 0.3 with a token budget that upsamples the web. The realised shares are measured
from the written shards (each row's source and non-padding tokens), and the tokenizer
sample's shares from its summary.

Part 2, throughput: token shards of three sources (log-normal document lengths, ~600
tokens on average, ``--tokens`` in all, uint16) are packed into rows of 2,048 tokens on the
embedded Dask cluster (2 workers); then one process reads every row back with
:class:`gristmill.mixture.loader.MixtureLoader` (batch 16), zero-copy and with a copy of each
batch (what a trainer does when it moves a batch to pinned memory). The first pass also
checks every shard's sha256 against the manifest (once per shard and process); the best of
two later passes is the steady state. A GPU trainer consumes about 1M tokens/s per GPU for a
large model; the loader must be far above that on one core.

Ends with ``RESULT loader_tokens_per_s=<one core, copying, steady state, CPU time>
writer_tokens_per_cpu_s=<mixture stage (plan + write) tokens per CPU second of the cluster's
workers and client> mixture_max_dev=<largest |realised - weight| over
sources and both real mixtures> sample_share_max_dev=<largest |sample share - target share|>``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from cluster_cpu import cluster_cpu_seconds

from gristmill.io.writers import ShardWriter, write_marker
from gristmill.mixture import loader as loader_module
from gristmill.mixture.arrow_files import map_table
from gristmill.mixture.loader import MixtureLoader
from gristmill.mixture.manifest import load_manifest
from gristmill.mixture.stage import run_mixture_stage
from gristmill.pipelines.config import parse_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from gristmill.records import write_json
from gristmill.tokenize.encode import token_schema

SYNTHETIC = {"web": 0.6, "books": 0.25, "code": 0.15}
REAL = {"web": 0.85, "books": 0.10, "code": 0.05}
REAL_BUDGET = {"web": 0.7, "books": 0.3}
EOS = 2


def realised_shares(out: Path) -> dict[str, float]:
    """Each source's share of the non-padding tokens, read from the written shards."""
    manifest, _ = load_manifest(str(out))
    tokens = np.zeros(len(manifest["sources"]), dtype=np.int64)
    for shard in manifest["shards"]:
        table = map_table(str(out / shard["path"]))
        np.add.at(tokens, table.column("source").to_numpy(), table.column("num_tokens").to_numpy())
    return dict(zip(manifest["sources"], (tokens / tokens.sum()).tolist(), strict=True))


def real_corpora(data: Path, out: Path, workers: int) -> tuple[float, float]:
    """Run the real corpora through both mixtures; returns (max share deviation, max sample
    share deviation)."""
    gin = data / "code" / "repos" / "gin-gonic+gin"
    sources = [
        {"name": "web", "format": "jsonl", "weight": REAL["web"],
         "paths": [str(data / "web" / "jsonl" / "dolma" / "CC-MAIN-*.jsonl.gz")]},
        {"name": "books", "format": "books", "weight": REAL["books"],
         "paths": [str(data / "books" / "gutenberg")]},
        {"name": "code", "format": "code", "weight": REAL["code"], "paths": [str(gin)]},
    ]  # fmt: skip
    base = {
        "output": str(out),
        "sources": sources,
        "tokenizer": {"vocab_size": 8000, "sample": {"max_bytes": 6_000_000}},
        "mixture": {"seq_len": 2048, "total_tokens": None, "max_epochs": 4, "shard_rows": 256},
    }
    deviations = []
    with dask_client(workers) as client:
        client.wait_for_workers(workers)
        started = cluster_cpu_seconds(client)
        run = run_pipeline(parse_config(base), client, resume=True)
        print(f"pipeline on the real corpora: {cluster_cpu_seconds(client) - started:.1f} s CPU "
              f"(workers and client), {run['wall_s']:.1f} s wall")  # fmt: skip
        sample = run["tokenizer"]["training"]["sample"]
        for name, entry in sample["sources"].items():
            print(f"  sample {name:6s} target share {entry['target_share']:.4f} realised "
                  f"{entry['share']:.4f} ({entry['bytes']:,} of {entry['available_bytes']:,} "
                  "bytes)")  # fmt: skip
        for warning in sample.get("warnings", []):
            print(f"  warning: {warning}")
        longest_book = _longest_document(out, "books")
        books_target = run["mixture"]["plan"]["sources"]["books"]["target_tokens"]
        print(f"  longest book {longest_book:,} tokens; books target {books_target:,} tokens")
        deviations.append(_report_shares("null budget", out, REAL))

        tokens = sum(p["tokens_available"] for p in run["mixture"]["plan"]["sources"].values())
        budget = int(run["mixture"]["plan"]["sources"]["web"]["tokens_available"] * 2.5 / 0.7)
        variant = {**base, "sources": [
            {**s, "weight": REAL_BUDGET.get(s["name"], 0.0)} for s in sources
        ], "mixture": {**base["mixture"], "total_tokens": budget}}  # fmt: skip
        run_mixture_stage(parse_config(variant), client, {}, resume=True)
        print(f"  second mixture: budget {budget:,} tokens of {tokens:,} available")
        deviations.append(_report_shares("web 0.7 / books 0.3", out, REAL_BUDGET))
    return max(deviations), float(sample["share_max_deviation"])


def _longest_document(out: Path, source: str) -> int:
    index = json.loads((out / "tokens" / "index.json").read_text())
    return max(
        int(map_table(str(out / entry["path"])).column("n_tokens").to_numpy().max())
        for entry in index["sources"][source]
    )


def _report_shares(label: str, out: Path, weights: dict[str, float]) -> float:
    total = sum(weights.values())
    shares = realised_shares(out)
    deviation = max(abs(shares.get(name, 0.0) - w / total) for name, w in weights.items())
    print(f"  {label}: realised " + ", ".join(
        f"{name} {shares.get(name, 0.0):.4f} (weight {w / total:.4f})" for name, w in weights.items()
    ) + f"; max deviation {deviation:.6f}")  # fmt: skip
    return deviation


def write_token_shards(out: Path, tokens: int, shards_per_source: int = 4) -> None:
    rng = np.random.default_rng(0)
    index = {}
    share = {"web": 0.6, "books": 0.1, "code": 0.3}  # available tokens (books upsampled)
    for name in SYNTHETIC:
        entries = []
        for shard in range(shards_per_source):
            target = int(tokens * share[name] / shards_per_source)
            lengths = np.maximum(2, rng.lognormal(6.0, 0.9, size=int(target / 500))).astype(
                np.int64
            )
            values = rng.integers(3, 32000, size=int(lengths.sum()), dtype=np.uint16)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
            values[offsets[1:] - 1] = EOS
            ids = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))
            docs = len(lengths)
            table = pa.Table.from_arrays(
                [pa.array([f"{name}/{shard}/{i}" for i in range(docs)]),
                 pa.array([name] * docs).dictionary_encode(), ids, pa.array(lengths.astype(np.int32))],
                schema=token_schema("uint16"),
            )  # fmt: skip
            path = out / "tokens" / name / f"part-{shard}.arrow"
            with ShardWriter(str(path), "arrow") as writer:
                for offset in range(0, docs, 4096):
                    writer.write(table.slice(offset, 4096))
            write_marker(str(path), {"fingerprint": "bench", "stats": {}})
            entries.append({"path": f"tokens/{name}/part-{shard}.arrow", "docs": docs,
                            "tokens": int(lengths.sum()), "fingerprint": f"{name}{shard}"})  # fmt: skip
        index[name] = entries
    special = {"unk": {"piece": "<unk>", "id": 0}, "eos": {"piece": "</s>", "id": EOS}}
    write_json(str(out / "tokens" / "index.json"), {
        "fingerprint": "bench", "dtype": "uint16", "sources": index,
        "tokenizer": {"backend": "sentencepiece", "path": "tokenizer/tokenizer.model",
                      "sha256": "0" * 64, "files": {}, "vocab_size": 32000,
                      "special_tokens": special},
    })  # fmt: skip


def read_all(out: Path, copy: bool) -> tuple[int, float]:
    """Tokens read and CPU seconds of one pass over every row (one process)."""
    loader = MixtureLoader(str(out), batch_size=16)
    tokens = 0
    checksum = 0
    started = time.process_time()
    for batch in loader:
        ids = np.array(batch["input_ids"]) if copy else batch["input_ids"]
        checksum += int(ids[:, -1].sum())  # touch each batch
        tokens += ids.size
    return tokens, time.process_time() - started


def throughput(out: Path, tokens: float) -> tuple[float, float, float]:
    """(loader tokens/s copying, steady state; mixture stage tokens per CPU second of the
    cluster; the synthetic mixture's largest share deviation)."""
    write_token_shards(out, int(tokens))
    config = parse_config({
        "output": str(out),
        "sources": [{"name": n, "paths": ["unused"], "format": "jsonl", "weight": w}
                    for n, w in SYNTHETIC.items()],
        "tokenizer": {},  # the token shards above stand in for the tokenizer stage's output
        "mixture": {"seq_len": 2048, "total_tokens": int(tokens * 0.9), "shard_rows": 4096},
    })  # fmt: skip
    with dask_client(2) as client:
        client.wait_for_workers(2)
        started = cluster_cpu_seconds(client)
        summary = run_mixture_stage(config, client, {}, resume=False)
        stage_cpu_s = cluster_cpu_seconds(client) - started
    print(f"mixture stage: {summary['tokens']:,} tokens in {summary['rows']:,} rows, "
          f"{summary['shards']} shards; {stage_cpu_s:.1f} s CPU in all, workers and client "
          f"({summary['tokens'] / stage_cpu_s:,.0f} tokens per CPU second); wall: plan "
          f"{summary['plan_s']} s, write {summary['write_s']} s")  # fmt: skip
    synthetic_dev = summary["plan"]["max_deviation"]
    print(f"  synthetic mixture: max |realised - weight| {synthetic_dev:.6f}")
    loader_module._VERIFIED.clear()
    first_tokens, first_s = read_all(out, copy=True)
    print(f"loader, first pass with the sha256 check of every shard: "
          f"{first_tokens / first_s:,.0f} tokens/s (CPU time)")  # fmt: skip
    results: dict[bool, float] = {}
    for copy in (False, True, False, True):  # twice each, the best of two
        count, seconds = read_all(out, copy)
        results[copy] = max(results.get(copy, 0.0), count / seconds)
    print(
        f"loader, one core, steady state: {results[False]:,.0f} tokens/s zero-copy, "
        f"{results[True]:,.0f} tokens/s copying each batch ({results[True] / 1e6:,.0f}x a "
        "1M tokens/s trainer)"
    )
    return results[True], summary["tokens"] / stage_cpu_s, float(synthetic_dev)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=float, default=60e6, help="synthetic tokens (part 2)")
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[1] / ".." / "shared"
                        / "data", help="the real corpora (part 1)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gristmill-bench-mix-"))
    real = None
    if args.data.is_dir():
        real = real_corpora(args.data.resolve(), work / "real", args.workers)
    else:
        print(f"{args.data}: the real corpora are absent; part 1 skipped (see ../shared/data)")
    loader_rate, writer_rate, synthetic_dev = throughput(work / "synthetic", args.tokens)
    mixture_dev, sample_dev = (f"{real[0]:.6f}", f"{real[1]:.6f}") if real else (
        f"{synthetic_dev:.6f}(synthetic)", "n/a"
    )  # fmt: skip
    print(
        f"RESULT loader_tokens_per_s={loader_rate:.0f} writer_tokens_per_cpu_s={writer_rate:.0f} "
        f"mixture_max_dev={mixture_dev} sample_share_max_dev={sample_dev}"
    )


if __name__ == "__main__":
    main()
