"""The mixture stage through the runner on a real Dask cluster: realised weights over the
whole output and every prefix, exactly the planned documents, determinism, packing options,
the manifest, ``gristmill verify`` and ``inspect``, presets and the Megatron export.

Fixture scale: three sources of 120-300 documents of 25-200 tokens, mixed to a budget of
150,000 tokens (books ~3 epochs). Each source's target is met to the token (the last
sampled document is cut), so the realised shares equal the weights up to rounding;
interleaving rows by progress keeps every prefix within about half a row (32 tokens) per
source of its share, and a 10% prefix holds ~15,000 tokens, so 2% leaves a wide margin.
"""

from __future__ import annotations

import collections
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from rich.console import Console

from gristmill.cli import main
from gristmill.mixture.manifest import describe_manifest, verify_manifest
from gristmill.mixture.megatron import read_index
from gristmill.mixture.shard_view import describe_rows, shard_manifest
from gristmill.mixture.stage import run_mixture_stage
from gristmill.mixture.weights import MixtureError
from gristmill.pipelines.config import ConfigError, load_config, parse_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from gristmill.report.summary import print_run_summary
from gristmill.report.writer import write_report
from gristmill.tokenize.model import tokenizer_from_bytes
from tests.corpus import write_config
from tests.token_corpus import pipeline_config, three_sources

WEIGHTS = {"web": 0.5, "books": 0.3, "code": 0.2}
TOKENIZER = {"vocab_size": 500, "sample": {"max_bytes": 100_000, "held_out_docs": 10}}
MIXTURE = {"seq_len": 64, "total_tokens": 150_000, "shard_rows": 500, "seed": 0}


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return three_sources(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def base(tmp_path_factory, corpus, client):
    out = tmp_path_factory.mktemp("run") / "out"
    data = pipeline_config(corpus, out, WEIGHTS, TOKENIZER, MIXTURE)
    run = run_pipeline(load_config(write_config(out.parent / "p.yaml", data)), client)
    return out, run, data


def _variant(base, tmp_path: Path, **mixture):
    """A copy of the base output and its config with other mixture settings."""
    out, _, data = base
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    changed = {**data, "output": str(copy), "mixture": {**data["mixture"], **mixture}}
    return copy, parse_config(changed)


def _rows(out: Path):
    """Per shard: input_ids (rows x L), num_tokens, doc_start (rows x L), source."""
    for path in sorted((out / "shards").glob("part-*.arrow")):
        table = ipc.open_stream(pa.memory_map(str(path))).read_all()
        length = table.schema.field("input_ids").type.list_size
        yield (
            table.column("input_ids").combine_chunks().flatten().to_numpy().reshape(-1, length),
            table.column("num_tokens").to_numpy(),
            table.column("doc_start").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            .reshape(-1, length),
            table.column("source").to_numpy(),
        )  # fmt: skip


def _source_tokens_per_row(out: Path, sources: int) -> np.ndarray:
    counts = []
    for _, num_tokens, _, row_sources in _rows(out):
        for valid, owner in zip(num_tokens, row_sources, strict=True):
            row = np.zeros(sources, dtype=np.int64)
            row[owner] = valid
            counts.append(row)
    return np.array(counts)


def test_realised_weights_hold_overall_and_on_every_tenth_prefix(base):
    out, run, _ = base
    per_row = _source_tokens_per_row(out, 3)
    totals = per_row.sum(axis=0)
    weights = np.array([WEIGHTS[s] for s in ("web", "books", "code")])
    assert np.abs(totals / totals.sum() - weights).max() <= 0.005
    cumulative = np.cumsum(per_row, axis=0)
    for tenth in range(1, 11):
        rows = len(per_row) * tenth // 10
        prefix = cumulative[rows - 1]
        assert np.abs(prefix / prefix.sum() - weights).max() <= 0.02, tenth
    manifest = run["mixture"]
    assert manifest["tokens"] == totals.sum() and manifest["rows"] == len(per_row)
    assert run["mixture"]["plan"]["sources"]["books"]["whole_epochs"] >= 2  # upsampled


def test_every_selected_document_appears_exactly_as_often_as_planned(base):
    out, run, _ = base
    eos = run["tokenizer"]["training"]["special_tokens"]["eos"]["id"]
    names = ("web", "books", "code")
    streams = {name: [] for name in names}  # each source's rows in order: its packed stream
    for ids, nums, _, sources in _rows(out):
        for row, valid, source in zip(ids, nums, sources, strict=True):
            streams[names[source]].append(row[:valid])
    index = run_tokens_index(out)
    for number, name in enumerate(names):
        plan = run["mixture"]["plan"]["sources"][name]
        stream = np.concatenate(streams[name])
        assert stream.size == plan["target_tokens"] == plan["tokens_taken"]
        documents = np.split(stream, np.nonzero(stream == eos)[0] + 1)
        cut = documents.pop() if documents[-1].size else np.zeros(0)
        assert (cut.size > 0) == (plan["cut_tokens"] > 0)
        shards = [ipc.open_stream(pa.memory_map(str(out / e["path"]))).read_all()
                  for e in index[name]]  # fmt: skip
        originals = collections.Counter(
            tuple(ids) for t in shards for ids in t.column("input_ids").to_pylist()
        )
        realised = collections.Counter(tuple(d.tolist()) for d in documents)
        assert set(realised) <= set(originals), number  # only real documents, whole
        whole = plan["whole_epochs"]
        counts = collections.Counter(realised.get(doc, 0) for doc in originals)
        sampled_whole = plan["fraction_docs"] - (1 if cut.size else 0)
        expected = {whole: len(originals) - sampled_whole, whole + 1: sampled_whole}
        if cut.size:  # the document cut to meet the target is a prefix of a real one
            assert any(doc[: cut.size] == tuple(cut.tolist()) for doc in originals)
        assert counts == {k: v for k, v in expected.items() if v}


def run_tokens_index(out: Path) -> dict:
    import json

    return json.loads((out / "tokens" / "index.json").read_text())["sources"]


def test_same_seed_same_bytes_other_seed_other_order_same_totals(base, tmp_path, client):
    out, run, _ = base
    again, config = _variant(base, tmp_path / "a")
    shutil.rmtree(again / "shards")
    summary = run_mixture_stage(config, client, {}, resume=True)
    assert summary["shards_resumed"] == 0
    for path in sorted((out / "shards").glob("*.arrow")):
        assert (again / "shards" / path.name).read_bytes() == path.read_bytes()
    resumed = run_mixture_stage(config, client, {}, resume=True)
    assert resumed["shards_resumed"] == resumed["shards"]

    other, config = _variant(base, tmp_path / "b", seed=1)
    summary = run_mixture_stage(config, client, {}, resume=True)
    first = next(_rows(out))[0]
    assert not np.array_equal(next(_rows(other))[0], first)
    for name, source in summary["plan"]["sources"].items():
        before = run["mixture"]["plan"]["sources"][name]
        assert before["target_tokens"] == source["target_tokens"] == source["tokens_taken"]


def test_no_document_crosses_a_row_with_padding_and_next_token_rows(base, tmp_path, client):
    out, run, _ = base
    copy, config = _variant(base, tmp_path, documents_cross_rows=False, next_token_targets=True)
    summary = run_mixture_stage(config, client, {}, resume=True)
    eos = run["tokenizer"]["training"]["special_tokens"]["eos"]["id"]
    padding = 0
    unfinished = collections.Counter()
    for ids, num_tokens, starts, sources in _rows(copy):
        assert ids.shape[1] == 65
        for row, valid, mask, source in zip(ids, num_tokens, starts, sources, strict=True):
            padding += 65 - int(valid)
            begin = np.nonzero(mask)[0].tolist()
            ends = begin[1:] + [int(valid)]
            for b, e in zip(begin, ends, strict=True):
                # a segment is a whole document unless the document is longer than a row
                # (then it starts the row) or it was cut to meet its source's target
                if row[e - 1] != eos and not (b == 0 or e == 65):
                    unfinished[int(source)] += 1
    assert all(count == 1 for count in unfinished.values())
    assert padding == summary["padding_tokens"] > 0
    assert summary["tokens"] == run["mixture"]["tokens"]


def test_manifest_verify_and_inspect(base, tmp_path, capsys):
    out, run, _ = base
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    tokenizer = run["tokenizer"]["training"]
    assert manifest["tokenizer"]["sha256"] == tokenizer["sha256"]
    assert manifest["tokenizer"]["vocab_size"] == 500 and manifest["dtype"] == "uint16"
    assert (manifest["seq_len"], manifest["row_length"], manifest["seed"]) == (64, 64, 0)
    assert manifest["weights"] == pytest.approx(WEIGHTS)
    assert manifest["sources"] == ["web", "books", "code"]
    assert manifest["config_fingerprint"] == run["config_fingerprint"]
    assert sum(s["rows"] for s in manifest["shards"]) == manifest["totals"]["rows"]
    assert all(len(s["sha256"]) == 64 for s in manifest["shards"])
    realised = manifest["weights_realised"]
    assert {name: entry["target"] for name, entry in realised.items()} == pytest.approx(WEIGHTS)
    assert all(abs(e["realised"] - e["target"]) <= 1e-5 for e in realised.values())
    assert not any(e["beyond_tolerance"] for e in realised.values())

    console = Console(record=True, width=120)
    console.print(describe_manifest(str(out)))
    text = console.export_text()
    books = run["mixture"]["plan"]["sources"]["books"]
    assert "sentencepiece" in text and f"{books['whole_epochs']} + {books['fraction_docs']}" in text

    shard = out / "shards" / "part-00000.arrow"
    assert main(["inspect", str(shard), "-n", "2"]) == 0
    shown = capsys.readouterr().out
    assert "shards/part-00000.arrow" in shown and "docs" in shown and "token ids" not in shown
    ids, nums, starts, sources = next(_rows(out))
    found = shard_manifest(str(out / "shards"))
    assert found is not None and found[2] == "shards/part-00000.arrow"
    tokenizer = tokenizer_from_bytes("sentencepiece", (out / "tokenizer" / "tokenizer.model")
                                     .read_bytes())  # fmt: skip
    console = Console(record=True, width=4000)
    console.print(describe_rows(*found, 1, tokenizer.decode))
    text = console.export_text()
    cuts = np.nonzero(starts[0, : nums[0]])[0].tolist() + [int(nums[0])]
    first_document = ids[0, cuts[0] : cuts[1]].tolist()
    assert tokenizer.decode(first_document)[:40] in text
    assert manifest["sources"][sources[0]] in text

    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    assert verify_manifest(str(copy)).ok
    assert main(["verify", str(copy)]) == 0
    shard = copy / manifest["shards"][1]["path"]
    data = bytearray(shard.read_bytes())
    data[-100] ^= 0xFF
    shard.write_bytes(bytes(data))
    (copy / "tokenizer" / "tokenizer.vocab").unlink()
    problems = verify_manifest(str(copy / "manifest.json")).problems
    assert len(problems) == 2 and "part-00001.arrow: sha256" in problems[0]
    assert "tokenizer.vocab: missing" in problems[1]
    assert main(["verify", str(copy)]) == 1


def test_a_preset_sets_the_weights_of_sample_and_mixture(base, tmp_path, client):
    out, _, data = base
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    preset = {**MIXTURE, "preset": "gopher", "total_tokens": None, "megatron": True}
    changed = pipeline_config({s["name"]: Path(s["paths"][0]) for s in data["sources"]},
                              copy, None, TOKENIZER, preset)  # fmt: skip
    run = run_pipeline(parse_config(changed), client)
    expected = {"web": 0.58 / 0.88, "books": 0.27 / 0.88, "code": 0.03 / 0.88}
    assert run["mixture"]["weights"] == pytest.approx(expected, abs=1e-6)
    assert run["mixture"]["weights_origin"] == "preset gopher"
    sample = run["tokenizer"]["training"]["sample"]["sources"]
    assert {s: v["weight"] for s, v in sample.items()} == pytest.approx(expected, abs=1e-6)
    megatron = run["mixture"]["megatron"]
    assert megatron["data_path"].startswith("0.659091 megatron/web_text_document")
    index = read_index(str(copy / "megatron" / "code_text_document.idx"))
    code = megatron["sources"]["code"]
    assert (
        index["sizes"].sum() == code["tokens"] and index["document_index"][-1] == code["documents"]
    )
    assert (copy / "megatron" / "code_text_document.bin").stat().st_size == 2 * code["tokens"]
    assert index["dtype"] == "uint16" and index["pointers"][1] == 2 * index["sizes"][0]
    assert verify_manifest(str(copy)).ok


def test_the_mixture_needs_token_shards(tmp_path, corpus, client):
    data = pipeline_config(corpus, tmp_path / "out", WEIGHTS, None, MIXTURE)
    config = parse_config(data)
    del data["tokenizer"]
    with pytest.raises(ConfigError, match="'tokenizer:' section"):
        parse_config(data)  # refused when the config loads, before any work
    # and the stage itself refuses a config that skipped the load-time checks
    without_tokenizer = dataclasses.replace(config, tokenizer=None)
    with pytest.raises(MixtureError, match="add a 'tokenizer:' section"):
        run_mixture_stage(without_tokenizer, client, {}, resume=True)


def test_a_shortfall_fails_the_stage_or_is_reweighted_and_shown(base, tmp_path, client):
    out, run, _ = base
    books = run["mixture"]["plan"]["sources"]["books"]["tokens_available"]
    budget = round(books * 6 / WEIGHTS["books"])  # books would need 6 epochs
    _, config = _variant(base, tmp_path / "a", total_tokens=budget)
    with pytest.raises(MixtureError, match=rf"source 'books' has {books:,} tokens but needs"):
        run_mixture_stage(config, client, {}, resume=True)
    copy, config = _variant(base, tmp_path / "b", total_tokens=budget, on_shortfall="reweight")
    with pytest.warns(UserWarning, match="capped at 4 epochs"):
        summary = run_mixture_stage(config, client, {}, resume=True)
    import json

    realised = json.loads((copy / "manifest.json").read_text())["weights_realised"]
    assert realised["books"]["beyond_tolerance"] and "reweighted" in realised["books"]["note"]
    assert realised["books"]["realised"] == pytest.approx(4 * books / budget, abs=1e-5)
    console = Console(record=True, width=200)
    print_run_summary({**run, "mixture": summary}, console)
    shown = " ".join(console.export_text().split())
    assert "warning: mixture: source 'books'" in shown and "capped at 4 epochs" in shown
    (copy / "run.json").write_text(json.dumps({**run, "mixture": summary}))
    page = Path(write_report(str(copy))).read_text()
    assert "<tr class='beyond'><th>books</th>" in page and "<tr><th>web</th>" in page
