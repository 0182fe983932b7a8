"""Mixture writer and trainer-side loader throughput.

Token shards of three sources (document lengths drawn from a log-normal, ~600 tokens on
average, ~60M tokens in all, uint16) are written as the tokenizer stage writes them; the
mixture stage then plans a 0.6/0.25/0.15 mixture with upsampling and packs it into rows of
2,048 tokens on the embedded Dask cluster (2 workers). Then one process reads every row
back with :class:`gristmill.mixture.loader.MixtureLoader` (batch 16), zero-copy and with a
copy of each batch (what a trainer does when it moves a batch to pinned memory), from the
page cache. A GPU trainer consumes about 1M tokens/s for a large model per GPU; the loader
must be far above that on one core.

Ends with ``RESULT loader_tokens_per_s=<one core, copying> writer_tokens_per_s=<wall, 2
workers> mixture_max_dev=<largest |realised - weight| over sources>``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from gristmill.io.writers import ShardWriter, write_marker
from gristmill.mixture.loader import MixtureLoader
from gristmill.mixture.stage import run_mixture_stage
from gristmill.pipelines.config import parse_config
from gristmill.pipelines.runner import dask_client
from gristmill.records import write_json
from gristmill.tokenize.encode import token_schema

SOURCES = {"web": 0.6, "books": 0.25, "code": 0.15}
EOS = 2


def write_token_shards(out: Path, tokens: int, shards_per_source: int = 4) -> None:
    rng = np.random.default_rng(0)
    index = {}
    share = {"web": 0.6, "books": 0.1, "code": 0.3}  # available tokens (books upsampled)
    for name in SOURCES:
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
    loader = MixtureLoader(str(out), batch_size=16)
    tokens = 0
    checksum = 0
    started = time.perf_counter()
    for batch in loader:
        ids = np.array(batch["input_ids"]) if copy else batch["input_ids"]
        checksum += int(ids[:, -1].sum())  # touch each batch
        tokens += ids.size
    return tokens, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=float, default=60e6, help="tokens in the token shards")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    out = (args.workdir or Path(tempfile.mkdtemp(prefix="gristmill-bench-mix-"))) / "out"
    write_token_shards(out, int(args.tokens))
    config = parse_config({
        "output": str(out),
        "sources": [{"name": n, "paths": ["unused"], "format": "jsonl", "weight": w}
                    for n, w in SOURCES.items()],
        "mixture": {"seq_len": 2048, "total_tokens": int(args.tokens * 0.9),
                    "shard_rows": 4096},
    })  # fmt: skip
    with dask_client(2) as client:
        started = time.perf_counter()
        summary = run_mixture_stage(config, client, {}, resume=False)
        stage_s = time.perf_counter() - started
    print(f"mixture stage: {summary['tokens']:,} tokens in {summary['rows']:,} rows, "
          f"{summary['shards']} shards; {stage_s:.1f} s in all (plan {summary['plan_s']} s, "
          f"write {summary['write_s']} s); writer {summary['writer_tokens_per_s']:,} tokens/s "
          f"wall on 2 workers, {summary['writer_tokens_per_s_per_core']:,} per core")  # fmt: skip
    plan = summary["plan"]["sources"]
    deviation = max(abs(p["realised_weight"] - SOURCES[name]) for name, p in plan.items())
    for name, p in plan.items():
        print(
            f"  {name:6s} weight {SOURCES[name]:.3f} realised {p['realised_weight']:.5f} "
            f"epochs {p['epochs']:.3f}"
        )
    results = {}
    for copy in (False, True, False, True):  # twice each, the best of two
        tokens, seconds = read_all(out, copy)
        results[copy] = max(results.get(copy, 0.0), tokens / seconds)
    print(
        f"loader, one core: {results[False]:,.0f} tokens/s zero-copy, {results[True]:,.0f} "
        f"tokens/s copying each batch ({results[True] / 1e6:,.0f}x a 1M tokens/s trainer)"
    )
    print(
        f"RESULT loader_tokens_per_s={results[True]:.0f} "
        f"writer_tokens_per_s={summary['writer_tokens_per_s']} mixture_max_dev={deviation:.6f}"
    )


if __name__ == "__main__":
    main()
