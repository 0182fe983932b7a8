"""Exact weights end to end (plan → writer → shards) on synthetic token shards whose
document sizes make whole-document sampling fail: two "novels" each larger than the books'
whole target, short web pages, and a code source far scarcer than the others. The shares
are measured from the written rows, for ``total_tokens`` null and set; the books rows hold
contiguous spans of a real novel."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from distributed import Client

from gristmill.mixture.stage import run_mixture_stage
from gristmill.pipelines.config import parse_config
from gristmill.records import write_json
from tests.mixture_tokens import EOS, VOCAB_SIZE, write_tokens

WEIGHTS = {"web": 0.85, "books": 0.10, "code": 0.05}
SEQ_LEN = 64


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    out = tmp_path_factory.mktemp("exact") / "out"
    rng = np.random.default_rng(7)
    novels = [rng.integers(3, VOCAB_SIZE, size).tolist() for size in (9_000, 12_000)]
    docs = {
        "web": [[5 + i % 7] * int(rng.integers(5, 80)) for i in range(1500)],  # ~64k tokens
        "books": novels,
        "code": [[300 + i] * int(rng.integers(20, 60)) for i in range(12)],  # ~500 tokens
    }
    index = {name: [write_tokens(out, name, 0, items)] for name, items in docs.items()}
    special = {"unk": {"piece": "<unk>", "id": 0}, "eos": {"piece": "</s>", "id": EOS}}
    write_json(str(out / "tokens" / "index.json"), {
        "fingerprint": "exact", "dtype": "uint16", "sources": index,
        "tokenizer": {"backend": "sentencepiece", "path": "tokenizer/tokenizer.model",
                      "sha256": "0" * 64, "files": {}, "vocab_size": VOCAB_SIZE,
                      "special_tokens": special},
    })  # fmt: skip
    return out, novels


def _mix(out, total_tokens, shard_rows=50):
    config = parse_config({
        "output": str(out),
        "sources": [{"name": n, "paths": ["unused"], "format": "jsonl", "weight": w}
                    for n, w in WEIGHTS.items()],
        "tokenizer": {},
        "mixture": {"seq_len": SEQ_LEN, "total_tokens": total_tokens, "shard_rows": shard_rows,
                    "max_epochs": 40},
    })  # fmt: skip
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as c:
        return run_mixture_stage(config, c, {}, resume=True)


def _rows(out):
    ids, sources, valid = [], [], []
    for path in sorted((out / "shards").glob("part-*.arrow")):
        table = ipc.open_stream(pa.memory_map(str(path))).read_all()
        ids.append(table.column("input_ids").combine_chunks().flatten().to_numpy())
        sources.append(table.column("source").to_numpy())
        valid.append(table.column("num_tokens").to_numpy())
    return np.concatenate(ids).reshape(-1, SEQ_LEN), np.concatenate(sources), np.concatenate(valid)


@pytest.mark.parametrize("total_tokens", [None, 30_000])
def test_shares_from_the_written_rows_meet_the_weights(tokens, total_tokens):
    out, novels = tokens
    summary = _mix(out, total_tokens)
    ids, sources, valid = _rows(out)
    by_source = np.bincount(sources, weights=valid, minlength=3)
    shares = by_source / by_source.sum()
    assert np.abs(shares - list(WEIGHTS.values())).max() <= 0.005
    books = summary["plan"]["sources"]["books"]
    assert 0 < books["tokens_taken"] < min(len(n) for n in novels)  # less than one novel
    if total_tokens is None:  # the scarce code source is used exactly once
        assert summary["plan"]["sources"]["code"]["epochs"] == 1.0
    else:  # code is repeated, web and books are sampled
        assert summary["plan"]["sources"]["code"]["whole_epochs"] >= 2
    # every prefix of rows within half a row per source of its share
    tokens_per_row = np.zeros((len(sources), 3))
    tokens_per_row[np.arange(len(sources)), sources] = valid
    cumulative = np.cumsum(tokens_per_row, axis=0)
    prefix = cumulative.sum(axis=1)
    deviation = np.abs(cumulative / prefix[:, None] - shares).max(axis=1)
    assert np.all(deviation <= 2 * SEQ_LEN / prefix + 1e-12)
    # the books rows, in order, are one contiguous span of a novel (cut at row boundaries)
    span = np.concatenate([row[:n] for row, s, n in zip(ids, sources, valid, strict=True)
                           if s == 1])  # fmt: skip
    novel = next(n for n in novels if np.array_equal(np.array(n[: span.size]), span))
    assert len(novel) > span.size
