"""The trainer-side loader on shards written by the mixture stage from synthetic token
shards: rank partitions, exact resume, zero-copy batches, segment ids, the sha256 check of
a damaged shard, and the shards read by plain pyarrow, ``datasets`` and torch — fed to
``nn.Embedding`` and ``cross_entropy`` with default collation (each optional library
skipped when absent)."""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from distributed import Client

from gristmill.mixture.loader import MixtureLoader, ShardIntegrityError
from gristmill.mixture.stage import run_mixture_stage
from gristmill.pipelines.config import parse_config
from tests.mixture_tokens import EOS, write_two_sources

SEQ_LEN = 16


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """~9,000 tokens from two sources, packed into 16-token rows, 37 rows per shard."""
    out = tmp_path_factory.mktemp("loader") / "out"
    write_two_sources(out)
    config = parse_config({
        "output": str(out),
        "sources": [{"name": n, "paths": ["unused"], "format": "jsonl", "weight": w}
                    for n, w in (("web", 0.7), ("code", 0.3))],
        "tokenizer": {},  # the token shards above stand in for its output
        "mixture": {"seq_len": SEQ_LEN, "shard_rows": 37, "total_tokens": 9000},
    })  # fmt: skip
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
        summary = run_mixture_stage(config, c, {}, resume=True)
    return out, summary


def _all_rows(out) -> np.ndarray:
    tables = [
        ipc.open_stream(pa.memory_map(str(p))).read_all()
        for p in sorted((out / "shards").glob("part-*.arrow"))
    ]
    return np.concatenate([
        t.column("input_ids").combine_chunks().flatten().to_numpy().reshape(-1, SEQ_LEN)
        for t in tables
    ])  # fmt: skip


@pytest.mark.parametrize(("world", "batch"), [(1, 7), (3, 5), (4, 1)])
def test_ranks_are_disjoint_and_together_cover_every_row(shards, world, batch):
    out, summary = shards
    everything = _all_rows(out)
    seen = []
    for rank in range(world):
        loader = MixtureLoader(str(out), batch, rank, world, drop_last=False)
        batches = list(loader)
        assert len(batches) == len(loader)
        for b in batches:
            assert np.array_equal(b["input_ids"], everything[b["row"]])
            seen.extend(b["row"].tolist())
    assert sorted(seen) == list(range(summary["rows"]))


def test_drop_last_gives_every_rank_the_same_full_batches(shards):
    out, summary = shards
    lengths = {len(list(MixtureLoader(str(out), 6, rank, 4))) for rank in range(4)}
    assert lengths == {summary["rows"] // 24}


def test_resume_gives_exactly_the_remaining_batches(shards):
    out, _ = shards
    full = [b["row"].tolist() for b in MixtureLoader(str(out), 4, 1, 2)]
    loader = MixtureLoader(str(out), 4, 1, 2)
    iterator = iter(loader)
    head = [next(iterator)["row"].tolist() for _ in range(5)]
    state = loader.state_dict()
    resumed = MixtureLoader(str(out), 4, 1, 2)
    resumed.load_state_dict(state)
    assert head + [b["row"].tolist() for b in resumed] == full
    assert resumed.epoch == 1 and resumed.step == 0  # a finished pass starts the next epoch
    wider = MixtureLoader(str(out), 8, 0, 1)  # same position, another layout: 40 rows in
    wider.load_state_dict(state)
    assert next(iter(wider))["row"][0] == 40
    with pytest.raises(ValueError, match="step boundary"):
        MixtureLoader(str(out), 3, 0, 1).load_state_dict(state)
    with pytest.raises(ValueError, match="different shards"):
        loader.load_state_dict({**state, "mixture_fingerprint": "x"})


def test_batches_inside_a_shard_are_views_of_the_memory_map(shards):
    out, _ = shards
    loader = MixtureLoader(str(out), 5, with_segments=True)
    batch = next(iter(loader))
    assert not batch["input_ids"].flags.owndata and not batch["input_ids"].flags.writeable
    crossing = loader.rows(35, 40)  # shard 0 ends at row 37: joined, a copy
    assert crossing["input_ids"].shape == (5, SEQ_LEN) and crossing["input_ids"].flags.owndata
    table = ipc.open_stream(pa.memory_map(str(out / "shards" / "part-00000.arrow"))).read_all()
    assert np.array_equal(batch["source"], table.column("source").to_numpy()[:5])
    _check_segments(batch, table, 0)
    later = loader.rows(40, 46)  # inside shard 1, not at its start
    _check_segments(
        later,
        ipc.open_stream(pa.memory_map(str(out / "shards" / "part-00001.arrow"))).read_all(),
        3,
    )


def _check_segments(batch, table, first):
    for index in range(len(batch["row"])):
        row = first + index
        starts = np.nonzero(table.column("doc_start")[row].as_py())[0]
        segments = batch["segment_ids"][index]
        valid = int(batch["num_tokens"][index])
        assert starts[0] == 0 and starts[-1] < valid  # a row begins a document or a piece
        assert (segments[:valid] >= 0).all() and (segments[valid:] == -1).all()
        assert np.nonzero(np.diff(segments[:valid]))[0].tolist() == [s - 1 for s in starts[1:]]
        tokens = batch["input_ids"][index]
        ends = np.concatenate([starts[1:], [valid]])
        # the segments of a row are whole documents ending with EOS, except the last,
        # which the row boundary (or the source's target) may cut
        assert all(tokens[end - 1] == EOS for end in ends[:-1])


def test_a_damaged_shard_raises_on_first_open(shards, tmp_path):
    out, _ = shards
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    shard = copy / "shards" / "part-00001.arrow"
    data = bytearray(shard.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = bytes(255 - b for b in data[middle : middle + 4])
    shard.write_bytes(bytes(data))
    loader = MixtureLoader(str(copy), 8)
    assert loader.rows(0, 8)["input_ids"].shape == (8, SEQ_LEN)  # shard 0 is intact
    with pytest.raises(ShardIntegrityError, match=r"part-00001.arrow: sha256 .* differs"):
        loader.rows(37, 40)
    unchecked = MixtureLoader(str(copy), 8, verify=False)  # the check is what catches it
    assert unchecked.rows(37, 40)["input_ids"].shape == (3, SEQ_LEN)


def test_plain_pyarrow_and_datasets_read_the_shards(shards):
    out, summary = shards
    everything = _all_rows(out)
    assert everything.shape == (summary["rows"], SEQ_LEN)
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_file(str(out / "shards" / "part-00001.arrow"))
    assert dataset.num_rows == 37
    assert np.array_equal(np.array(dataset[0]["input_ids"]), everything[37])
    assert dataset.features["input_ids"].length == SEQ_LEN
    token_shard = datasets.Dataset.from_file(str(out / "tokens" / "web" / "part-0.arrow"))
    assert token_shard.num_rows == 60  # every .arrow gristmill writes opens the same way


def test_datasets_torch_format_collates_with_the_default_dataloader(shards):
    torch = pytest.importorskip("torch")
    datasets = pytest.importorskip("datasets")
    out, _ = shards
    dataset = datasets.Dataset.from_file(str(out / "shards" / "part-00000.arrow"))
    batch = next(iter(torch.utils.data.DataLoader(dataset.with_format("torch"), batch_size=4)))
    assert batch["input_ids"].shape == (4, SEQ_LEN) and batch["doc_start"].shape == (4, SEQ_LEN)
    _embed_and_score(torch, batch["input_ids"])
    assert torch.equal(batch["input_ids"], torch.from_numpy(_all_rows(out)[:4].astype(np.int64)))


def _embed_and_score(torch, input_ids):
    """What a language model does with a batch: embed, project, next-token loss."""
    embedding = torch.nn.Embedding(512, 8)
    logits = embedding(input_ids[:, :-1]) @ embedding.weight.T
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 512), input_ids[:, 1:].flatten())
    assert torch.isfinite(loss)


def test_torch_iterable_dataset_keeps_the_order_with_workers(shards):
    torch = pytest.importorskip("torch")
    from gristmill.mixture.loader import torch_dataset

    out, _ = shards
    expected = [b["row"].tolist() for b in MixtureLoader(str(out), 4)]
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(
            torch_dataset(MixtureLoader(str(out), 4)), batch_size=None, num_workers=workers
        )
        got = [b["row"].tolist() for b in loader]
        assert got == expected
        first = next(iter(loader))
        assert first["input_ids"].dtype == torch.int64
        _embed_and_score(torch, first["input_ids"])
    narrow = torch_dataset(MixtureLoader(str(out), 4), dtype=torch.int32)
    assert next(iter(narrow))["input_ids"].dtype == torch.int32
