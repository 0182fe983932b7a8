"""The runner on a real embedded Dask cluster: accounting, dedup, determinism, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gristmill.io.writers import read_table
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import basic_config, write_config, write_jsonl_corpus


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


@pytest.fixture
def corpus(tmp_path):
    write_jsonl_corpus(tmp_path / "corpus", shards=4, docs_per_shard=60)
    return tmp_path / "corpus"


def _tables(folder: Path):
    return {str(p.relative_to(folder)): read_table(str(p)) for p in sorted(folder.rglob("*.arrow"))}


def _all_input_ids(corpus: Path) -> set[str]:
    ids = set()
    for path in sorted(corpus.glob("*.jsonl")):
        lines = path.read_text().splitlines()
        ids.update(f"web/{path.name}/{i}" for i in range(len(lines)))
    return ids


def test_every_document_is_kept_or_counted_under_a_reason(tmp_path, corpus, client):
    config = load_config(write_config(tmp_path / "p.yaml", basic_config(corpus, tmp_path / "out")))
    run = run_pipeline(config, client)

    kept = {
        i for t in _tables(tmp_path / "out" / "data").values() for i in t.column("id").to_pylist()
    }
    rejected: dict[str, str] = {}
    for table in _tables(tmp_path / "out" / "rejected").values():
        rejected.update(
            zip(table.column("id").to_pylist(), table.column("reason").to_pylist(), strict=True)
        )
    assert kept.isdisjoint(rejected)
    assert kept | set(rejected) == _all_input_ids(corpus)

    stages = {s["stage"]: s for s in run["sources"]["web"]["stages"]}
    assert list(stages) == ["read", "normalize", "length", "exact_dedup"]
    assert stages["read"]["docs_in"] == 240
    assert run["sources"]["web"]["docs_out"] == len(kept)
    counted = {}
    for stage in stages.values():
        counted.update(stage["removed"])
    assert counted == {r: list(rejected.values()).count(r) for r in set(rejected.values())}
    assert counted["length:too_few_words"] > 0 and counted["exact_dedup:duplicate"] > 0
    assert json.loads((tmp_path / "out" / "run.json").read_text())["sources"] == run["sources"]


def test_exact_dedup_keeps_the_first_id_of_each_group(tmp_path, corpus, client):
    config = load_config(write_config(tmp_path / "p.yaml", basic_config(corpus, tmp_path / "out")))
    run_pipeline(config, client)
    texts = {}
    for table in _tables(tmp_path / "out" / "data").values():
        for row in table.select(["id", "text"]).to_pylist():
            assert row["text"] not in texts, "a duplicate survived"
            texts[row["text"]] = row["id"]
    for table in _tables(tmp_path / "out" / "rejected" / "web" / "exact_dedup").values():
        for row in table.select(["id", "text", "duplicate_of"]).to_pylist():
            assert texts[row["text"]] == row["duplicate_of"]
            assert row["duplicate_of"] < row["id"]


def test_source_priority_decides_which_copy_survives(tmp_path, client):
    for name in ("web", "books"):
        folder = tmp_path / name
        folder.mkdir()
        text = "The same long text appears in both sources, word for word, many words long."
        (folder / "a.jsonl").write_text(json.dumps({"text": text}) + "\n")
    data = {
        "output": str(tmp_path / "out"),
        "sources": [
            {"name": "web", "paths": [str(tmp_path / "web")], "format": "jsonl", "stages": ["exact_dedup"]},
            {"name": "books", "paths": [str(tmp_path / "books")], "format": "jsonl",
             "priority": 5, "stages": ["exact_dedup"]},
        ],
    }  # fmt: skip
    run = run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), client)
    assert run["sources"]["books"]["docs_out"] == 1
    assert run["sources"]["web"]["docs_out"] == 0
    assert run["sources"]["web"]["stages"][-1]["removed"] == {"exact_dedup:duplicate": 1}


def test_same_bytes_for_any_worker_count_and_resume_skips_done_shards(tmp_path, corpus, client):
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        config = load_config(write_config(tmp_path / f"p{workers}.yaml", basic_config(corpus, out)))
        with dask_client(workers=workers) as own_client:
            run_pipeline(config, own_client)
        outputs.append(
            {p.relative_to(out): p.read_bytes() for p in sorted((out / "data").rglob("*.arrow"))}
        )
    assert outputs[0] == outputs[1] and len(outputs[0]) == 4

    config = load_config(
        write_config(tmp_path / "p1.yaml", basic_config(corpus, tmp_path / "out1"))
    )
    seen = []
    run_pipeline(config, client, on_progress=lambda p: seen.append((p.phase, p.done, p.skipped)))
    assert seen == [(0, 4, 4), (1, 4, 4)]


def test_a_config_change_reruns_only_what_it_touches(tmp_path, corpus, client):
    data = basic_config(corpus, tmp_path / "out")
    run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), client)
    data["sources"][0]["stages"][1] = {"length": {"min_words": 30}}
    skipped = {}
    run = run_pipeline(
        load_config(write_config(tmp_path / "p.yaml", data)), client,
        on_progress=lambda p: skipped.update({p.phase: (p.done, p.skipped)}),
    )  # fmt: skip
    assert skipped == {0: (4, 0), 1: (4, 0)}
    assert run["sources"]["web"]["stages"][2]["removed"]["length:too_few_words"] > 0


def test_keep_signals_false_writes_only_the_document_columns(tmp_path, corpus, client):
    data = basic_config(corpus, tmp_path / "out", keep_signals=False, output_format="parquet")
    run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), client)
    files = sorted((tmp_path / "out" / "data" / "web").glob("*.parquet"))
    assert len(files) == 4
    assert read_table(str(files[0])).column_names == ["id", "source", "text", "url", "meta"]


def test_inputs_on_an_fsspec_filesystem(tmp_path, client):
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/gm-runner/in/a.jsonl", b'{"text": "one two three four five six"}\n{"text": ""}\n')
    data = {
        "output": str(tmp_path / "out"),
        "sources": [{"name": "mem", "paths": ["memory://gm-runner/in/*.jsonl"], "format": "jsonl"}],
    }
    # memory:// lives in one process: run it on a cluster of threads in this process
    from distributed import Client

    with Client(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as local:
        run = run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), local)
    assert run["sources"]["mem"]["stages"][0]["docs_in"] == 2
