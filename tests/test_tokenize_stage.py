"""The tokenizer stage through the runner, on a real embedded Dask cluster: the sample
follows the weights, training is reproducible, every document is encoded with EOS and
decodes back to its text, and a re-run resumes."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from distributed import Client

from gristmill.cli import main
from gristmill.io.writers import read_table
from gristmill.pipelines.config import ConfigError, load_config, parse_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from gristmill.tokenize.model import tokenizer_from_bytes
from tests.corpus import write_config
from tests.token_corpus import pipeline_config, three_sources

WEIGHTS = {"web": 0.5, "books": 0.3, "code": 0.2}
TOKENIZER = {"vocab_size": 500, "sample": {"max_bytes": 150_000, "held_out_docs": 15}}


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return three_sources(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def base_run(tmp_path_factory, corpus, client):
    out = tmp_path_factory.mktemp("run") / "out"
    path = write_config(out.parent / "p.yaml", pipeline_config(corpus, out, WEIGHTS, TOKENIZER))
    return out, run_pipeline(load_config(path), client)


def _docs(out: Path, source: str, suffix: str = ".arrow") -> dict[str, str]:
    docs = {}
    for path in sorted((out / "data" / source).glob(f"*{suffix}")):
        table = read_table(str(path))
        docs.update(
            zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True)
        )
    return docs


def test_the_sample_follows_the_weights_within_its_sampling_error(base_run):
    _, run = base_run
    sample = run["tokenizer"]["training"]["sample"]
    for source, weight in WEIGHTS.items():
        drawn = sample["sources"][source]
        p = drawn["line_probability"]
        assert 0 < p < 1, "every source must be subsampled for this test to mean something"
        # Bernoulli line sampling: relative error sqrt((1-p)/lines), x1.3 for the spread of
        # line lengths; the fixture draws ~400-1100 lines per source, so 4 sigma is ~5-12%
        # relative (1-2.5 points of share).
        tolerance = 4 * 1.3 * weight * math.sqrt((1 - p) / drawn["lines"])
        assert abs(drawn["share"] - weight) <= tolerance, (source, drawn["share"], tolerance)
        assert drawn["held_out_docs"] > 0
    assert sample["bytes"] <= 1.1 * TOKENIZER["sample"]["max_bytes"]


def test_every_document_is_encoded_with_eos_and_decodes_to_its_text(base_run):
    out, run = base_run
    training = run["tokenizer"]["training"]
    model = (out / training["path"]).read_bytes()
    assert hashlib.sha256(model).hexdigest() == training["sha256"]
    tokenizer = tokenizer_from_bytes("sentencepiece", model)
    eos = training["special_tokens"]["eos"]["id"]
    encoding = run["tokenizer"]["encoding"]
    for source in WEIGHTS:
        docs = _docs(out, source)
        tokens = 0
        for path in sorted((out / "tokens" / source).glob("*.arrow")):
            assert Path(str(path) + ".done").exists()
            table = ipc.open_stream(pa.memory_map(str(path))).read_all()
            assert table.schema.field("input_ids").type == pa.list_(pa.uint16())
            for doc_id, ids, count in zip(
                table.column("id").to_pylist(), table.column("input_ids").to_pylist(),
                table.column("n_tokens").to_pylist(), strict=True,
            ):  # fmt: skip
                assert ids[-1] == eos and eos not in ids[:-1] and len(ids) == count
                assert tokenizer.decode(ids[:-1]) == docs.pop(doc_id)
                tokens += count
        assert not docs, "documents without tokens"
        assert encoding["sources"][source]["tokens"] == tokens
    assert encoding["dtype"] == "uint16" and encoding["mb_per_s_per_core"] > 0
    quality = training["quality"]
    assert quality["roundtrip_exact"] and set(quality["sources"]) == set(WEIGHTS)
    assert all(s["bytes_per_token"] > 1 for s in quality["sources"].values())
    assert 0 < encoding["vocab_usage"] <= 1 and 0 <= encoding["byte_fallback_share"] < 0.1
    index = json.loads((out / "tokens" / "index.json").read_text())
    assert index["tokenizer"]["sha256"] == training["sha256"]
    assert sum(e["tokens"] for e in index["sources"]["web"]) == encoding["sources"]["web"]["tokens"]
    assert json.loads((out / "run.json").read_text())["tokenizer"]["training"]["sha256"]


def test_a_rerun_resumes_and_another_worker_count_gives_the_same_bytes(
    tmp_path, base_run, corpus, client
):
    out, first = base_run
    path = write_config(out.parent / "p.yaml", pipeline_config(corpus, out, WEIGHTS, TOKENIZER))
    again = run_pipeline(load_config(path), client)
    assert again["tokenizer"]["training"]["resumed"] is True
    assert (
        again["tokenizer"]["encoding"]["shards_resumed"] == first["tokenizer"]["encoding"]["shards"]
    )

    other = tmp_path / "out"
    path = write_config(tmp_path / "p.yaml", pipeline_config(corpus, other, WEIGHTS, TOKENIZER))
    # one worker thread in this process: other scheduling, same bytes
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as one:
        alone = run_pipeline(load_config(path), one)
    assert alone["tokenizer"]["training"]["sha256"] == first["tokenizer"]["training"]["sha256"]
    for token_file in sorted((out / "tokens").rglob("*.arrow")):
        assert (other / token_file.relative_to(out)).read_bytes() == token_file.read_bytes()


@pytest.mark.parametrize(
    ("backend", "output_format"), [("huggingface", "parquet"), ("sentencepiece", "jsonl")]
)
def test_other_backends_and_output_formats(tmp_path, corpus, client, backend, output_format):
    small = {name: path for name, path in corpus.items() if name != "books"}
    data = pipeline_config(
        small, tmp_path / "out", None,
        {"backend": backend, "vocab_size": 400, "sample": {"max_bytes": 40_000}},
        output_format=output_format,
    )  # fmt: skip
    run = run_pipeline(parse_config(data), client)
    training = run["tokenizer"]["training"]
    assert training["backend"] == backend and training["quality"]["roundtrip_exact"]
    tokenizer = tokenizer_from_bytes(backend, (tmp_path / "out" / training["path"]).read_bytes())
    suffix = {"parquet": ".parquet", "jsonl": ".jsonl.gz"}[output_format]
    docs = _docs(tmp_path / "out", "code", suffix)
    table = read_table(str(sorted((tmp_path / "out" / "tokens" / "code").glob("*.arrow"))[0]))
    for doc_id, ids in zip(
        table.column("id").to_pylist(), table.column("input_ids").to_pylist(), strict=True
    ):
        assert tokenizer.decode(ids[:-1]) == docs[doc_id]
    shares = {s: v["share"] for s, v in training["sample"]["sources"].items()}
    assert set(shares) == {"web", "code"}  # no weights: proportional to size


def test_tokenizer_train_command_trains_on_a_finished_run(
    tmp_path, base_run, corpus, client, capsys
):
    out, first = base_run
    data = pipeline_config(corpus, out, WEIGHTS, {**TOKENIZER, "vocab_size": 450})
    path = write_config(tmp_path / "p.yaml", data)
    address = client.scheduler.address
    assert main(["tokenizer", "train", str(path), "--scheduler", address]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (
        printed["vocab_size"] == 450
        and printed["sha256"] != first["tokenizer"]["training"]["sha256"]
    )
    record = json.loads((out / "tokenizer" / "training.json").read_text())
    assert record["sha256"] == printed["sha256"]
    assert main(["tokenizer", "train", str(tmp_path / "missing.yaml")]) == 2


def test_tokenizer_section_errors_name_the_key(tmp_path, corpus):
    data = pipeline_config(corpus, tmp_path / "out", WEIGHTS, {"vocab": 10})
    with pytest.raises(ConfigError, match=r"tokenizer\.vocab: unknown key"):
        parse_config(data, source_file="p.yaml")
    data = pipeline_config(corpus, tmp_path / "out", WEIGHTS, {"backend": "tiktoken"})
    with pytest.raises(ConfigError, match=r"tokenizer\.backend"):
        parse_config(data, source_file="p.yaml")
