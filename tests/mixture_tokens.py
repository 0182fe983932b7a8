"""Synthetic token shards as the tokenizer stage writes them (``out/tokens/``), so the
mixture stage and the trainer side can be tested without training a tokenizer: two
sources, ids below ``VOCAB_SIZE``, every document ending with ``EOS``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from gristmill.io.writers import ShardWriter, write_marker
from gristmill.records import write_json
from gristmill.tokenize.encode import token_schema

EOS = 2
VOCAB_SIZE = 512


def write_tokens(out: Path, source: str, shard: int, docs: list[list[int]]) -> dict:
    """One token shard of ``docs`` (EOS appended); returns its ``index.json`` entry."""
    path = out / "tokens" / source / f"part-{shard}.arrow"
    ids = [d + [EOS] for d in docs]
    table = pa.Table.from_pydict(
        {
            "id": [f"{source}/part-{shard}/{i}" for i in range(len(docs))],
            "source": pa.array([source] * len(docs)).dictionary_encode(),
            "input_ids": pa.array(ids, pa.list_(pa.uint16())),
            "n_tokens": pa.array([len(x) for x in ids], pa.int32()),
        },
        schema=token_schema("uint16"),
    )
    with ShardWriter(str(path), "arrow") as writer:
        writer.write(table)
    write_marker(str(path), {"fingerprint": "synthetic", "stats": {}})
    return {"path": f"tokens/{source}/part-{shard}.arrow", "docs": len(docs),
            "tokens": sum(len(x) for x in ids), "fingerprint": f"{source}{shard}"}  # fmt: skip


def write_two_sources(out: Path, seed: int = 5) -> None:
    """``web`` and ``code``: 2 shards x 60 documents of 1-40 tokens each (~9,000 tokens),
    and the ``tokens/index.json`` the mixture stage reads."""
    rng = np.random.default_rng(seed)
    sources = {}
    for s, name in enumerate(("web", "code")):
        sources[name] = [
            write_tokens(out, name, shard, [
                [10 + 100 * s + shard * 10 + i % 10] * int(rng.integers(1, 40)) for i in range(60)
            ])
            for shard in range(2)
        ]  # fmt: skip
    special = {"unk": {"piece": "<unk>", "id": 0}, "eos": {"piece": "</s>", "id": EOS}}
    write_json(str(out / "tokens" / "index.json"), {
        "fingerprint": "synthetic", "dtype": "uint16", "sources": sources,
        "tokenizer": {"backend": "sentencepiece", "path": "tokenizer/tokenizer.model",
                      "sha256": "0" * 64, "files": {}, "vocab_size": VOCAB_SIZE,
                      "special_tokens": special},
    })  # fmt: skip
