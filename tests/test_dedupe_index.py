"""Dataset-level dedup against a persistent index: a later run drops what an earlier run
already published, without reading the earlier data, for MinHash and exact dedup."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from gristmill.dedupe.dedup_index import DedupIndex, IndexMismatch
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import write_config
from tests.test_dedupe_minhash import _document, _edit, check_invariants, outcome


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


def write_jsonl(folder: Path, documents: list[tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "part-0.jsonl").open("w", encoding="utf-8") as handle:
        for name, text in documents:
            handle.write(json.dumps({"text": text, "url": name}) + "\n")
    return folder


def run(tmp_path: Path, client, name: str, corpus: Path, stage: dict, **options) -> dict:
    data = {
        "output": str(tmp_path / name),
        "write_rejected": True,
        "sources": [{"name": "web", "paths": [str(corpus)], "format": "jsonl", "stages": [stage]}],
    }
    config = load_config(write_config(tmp_path / f"{name}.yaml", data))
    return run_pipeline(config, client, **options)


@pytest.fixture
def corpora(tmp_path):
    rng = random.Random(77)
    old = [(f"old-{k}", _document(rng)) for k in range(6)]
    new = [
        ("copy-of-old-1", _edit(rng, old[1][1], 2)),
        ("copy-of-old-4", old[4][1]),
        ("fresh-a", (fresh := _document(rng))),
        ("fresh-a-copy", _edit(rng, fresh, 1)),
        ("fresh-b", _document(rng)),
    ]
    return write_jsonl(tmp_path / "old", old), write_jsonl(tmp_path / "new", new), old


def test_minhash_drops_new_documents_already_in_the_index(tmp_path, client, corpora, golden):
    old_corpus, new_corpus, old = corpora
    stage = {"minhash": {"index": str(tmp_path / "index")}}
    first = run(tmp_path, client, "first", old_corpus, stage)
    assert first["global_steps"]["minhash"]["indexed_documents"] == 6
    old_ids = {row["url"]: row["id"] for row in _kept_rows(tmp_path / "first")}

    second = run(tmp_path, client, "second", new_corpus, stage)
    result = outcome(tmp_path / "second")
    check_invariants(result)
    assert result["copy-of-old-1"]["reason"] == "minhash:duplicate_of_index"
    assert result["copy-of-old-1"]["duplicate_of"] == old_ids["old-1"]
    assert result["copy-of-old-4"]["duplicate_of"] == old_ids["old-4"]
    assert result["fresh-a-copy"] == result["fresh-a-copy"] | {
        "reason": "minhash:duplicate", "duplicate_of": "fresh-a"
    }  # fmt: skip
    assert result["fresh-a"]["kept"] and result["fresh-b"]["kept"]
    assert second["sources"]["web"]["stages"][-1]["removed"] == {
        "minhash:duplicate_of_index": 2,
        "minhash:duplicate": 1,
    }
    golden.check("dedupe/minhash_index", {k: v.get("reason", "kept") for k, v in result.items()})

    # re-running the first pipeline replaces its own part: it does not dedup against itself,
    # nor against the second run's part (which holds only what the second run kept)
    again = run(tmp_path, client, "first", old_corpus, stage, resume=False)
    assert again["sources"]["web"]["docs_out"] == len(old)
    parts = DedupIndex(str(tmp_path / "index"), "minhash", {}).parts()
    assert len(parts) == 2


def test_minhash_index_is_read_only_without_update_and_checks_parameters(tmp_path, client, corpora):
    old_corpus, new_corpus, _ = corpora
    index = str(tmp_path / "index")
    run(tmp_path, client, "first", old_corpus, {"minhash": {"index": index}})
    stage = {"minhash": {"index": index, "update_index": False}}
    second = run(tmp_path, client, "second", new_corpus, stage)
    assert second["global_steps"]["minhash"]["dropped_against_index"] == 2
    assert len(DedupIndex(index, "minhash", {}).parts()) == 1

    with pytest.raises(IndexMismatch, match="ngram"):
        run(tmp_path, client, "third", new_corpus, {"minhash": {"index": index, "ngram": 4}})


def test_exact_dedup_drops_hashes_an_earlier_run_kept(tmp_path, client):
    old = write_jsonl(
        tmp_path / "old",
        [("a", "Alpha text here."), ("b", "Beta text."), ("a2", "alpha  TEXT here.")],
    )
    new = write_jsonl(
        tmp_path / "new", [("x", "ALPHA text here."), ("y", "New text."), ("y2", "new text.")]
    )
    stage = {"exact_dedup": {"index": str(tmp_path / "index")}}
    first = run(tmp_path, client, "first", old, stage)
    assert first["sources"]["web"]["stages"][-1]["removed"] == {"exact_dedup:duplicate": 1}
    old_ids = {row["url"]: row["id"] for row in _kept_rows(tmp_path / "first")}

    run(tmp_path, client, "second", new, stage)
    result = outcome(tmp_path / "second")
    assert result["x"]["reason"] == "exact_dedup:duplicate_of_index"
    assert result["x"]["duplicate_of"] == old_ids["a"]
    assert result["y2"]["reason"] == "exact_dedup:duplicate" and result["y"]["kept"]

    again = run(tmp_path, client, "first", old, stage, resume=False)
    assert again["sources"]["web"]["docs_out"] == 2


def _kept_rows(output: Path) -> list[dict]:
    from gristmill.io.writers import read_table

    rows = []
    for path in sorted((output / "data").rglob("*.arrow")):
        rows.extend(read_table(str(path)).select(["id", "url"]).to_pylist())
    return rows


def test_a_relative_index_path_is_relative_to_the_config_file(tmp_path):
    data = {
        "output": "out",
        "sources": [{"name": "web", "paths": ["in"], "format": "jsonl",
                     "stages": [{"exact_dedup": {"index": "idx"}}, {"minhash": {"index": "idx"}}]}],
    }  # fmt: skip
    (tmp_path / "in").mkdir()
    config = load_config(write_config(tmp_path / "p.yaml", data))
    assert [stage.step.index for stage in config.sources[0].stages] == [str(tmp_path / "idx")] * 2


def test_index_written_and_read_with_different_partitionings(tmp_path, client, corpora, monkeypatch):
    from gristmill.dedupe import near_duplicates

    old_corpus, new_corpus, _ = corpora
    stage = {"minhash": {"index": str(tmp_path / "index")}}
    monkeypatch.setattr(near_duplicates, "ROWS_PER_PARTITION", 16)  # 8 key ranges
    first = run(tmp_path, client, "first", old_corpus, stage)
    assert first["global_steps"]["minhash"]["partitions"] == 8
    monkeypatch.setattr(near_duplicates, "ROWS_PER_PARTITION", 64)
    second = run(tmp_path, client, "second", new_corpus, stage)
    assert second["global_steps"]["minhash"]["partitions"] == 4
    assert second["sources"]["web"]["stages"][-1]["removed"] == {
        "minhash:duplicate_of_index": 2,
        "minhash:duplicate": 1,
    }


def test_a_resumed_run_dedups_again_when_another_run_added_to_the_index(
    tmp_path, client, corpora
):
    old_corpus, new_corpus, _ = corpora
    stage = {"minhash": {"index": str(tmp_path / "index")}}
    run(tmp_path, client, "second", new_corpus, stage)
    skipped: dict[int, int] = {}

    def track(progress):
        skipped[progress.phase] = progress.skipped

    run(tmp_path, client, "second", new_corpus, stage, on_progress=track)
    assert skipped == {0: 1, 1: 1}  # its own part in the index changes nothing

    run(tmp_path, client, "first", old_corpus, stage)
    run(tmp_path, client, "second", new_corpus, stage, on_progress=track)
    assert skipped == {0: 1, 1: 0}  # the signatures stand; the resolution is redone
    check_invariants(outcome(tmp_path / "second"))
