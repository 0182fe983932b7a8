"""The pii step in a real run: an embedded Dask cluster, a web and a code source."""

from __future__ import annotations

import json
import random

from gristmill.io.writers import read_table
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import write_config
from tests.pii_fixtures import GOLDEN_CASES, generated_documents


def _write_jsonl(folder, shards: list[list[str]]) -> None:
    folder.mkdir(parents=True)
    for index, texts in enumerate(shards):
        lines = [json.dumps({"text": text}) for text in texts]
        (folder / f"part-{index}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pii_counts_per_source_in_the_run_stats(tmp_path):
    web = generated_documents(40, seed=21)
    random.Random(2).shuffle(web)
    _write_jsonl(tmp_path / "web", [web[:20], web[20:]])
    _write_jsonl(
        tmp_path / "code", [[GOLDEN_CASES["aws_key_in_code"], GOLDEN_CASES["private_key_in_code"]]]
    )
    config = {
        "output": str(tmp_path / "out"),
        "sources": [
            {"name": "web", "paths": [str(tmp_path / "web" / "*.jsonl")], "format": "jsonl",
             "stages": ["normalize", {"pii": {"ner": "off", "audit": True}}]},
            {"name": "code", "paths": [str(tmp_path / "code" / "*.jsonl")], "format": "jsonl",
             "stages": [{"pii": {"profile": "code"}}]},
        ],
    }  # fmt: skip
    with dask_client(workers=1) as client:
        run = run_pipeline(load_config(write_config(tmp_path / "p.yaml", config)), client)

    stages = {s["stage"]: s for s in run["sources"]["web"]["stages"]}
    counters = stages["pii"]["counters"]
    assert stages["pii"]["docs_in"] == stages["pii"]["docs_out"] == 40
    assert counters["found:EMAIL_ADDRESS"] > 0 and counters["found:PHONE_NUMBER"] > 0
    code = {s["stage"]: s for s in run["sources"]["code"]["stages"]}["pii"]["counters"]
    assert code["found:API_KEY"] == 2 and code["found:PRIVATE_KEY"] == 1
    assert "found:PHONE_NUMBER" not in code

    tables = [
        read_table(str(p)) for p in sorted((tmp_path / "out" / "data" / "web").glob("*.arrow"))
    ]
    found = sum(sum(t.column("pii_found").to_pylist()) for t in tables)
    assert found == sum(v for k, v in counters.items() if k.startswith("found:"))
    texts = [text for t in tables for text in t.column("text").to_pylist()]
    assert not any("jane.doe@example.com" in text for text in texts)
    assert all(t.schema.field("pii_spans").type.value_type.num_fields == 4 for t in tables)


def test_report_samples_of_stages_before_pii_are_scrubbed(tmp_path):
    email = "jane.doe@example.com"
    short = f"Write to {email} today."  # removed by the length filter, before pii
    long = " ".join(["The mill grinds rye and wheat for the village bakers."] * 6)
    _write_jsonl(tmp_path / "web", [[short, f"{long} Contact {email} for orders."]])
    config = {
        "output": str(tmp_path / "out"),
        "sources": [
            {"name": "web", "paths": [str(tmp_path / "web" / "*.jsonl")], "format": "jsonl",
             "stages": [{"length": {"min_words": 20}}, {"pii": {"ner": "off"}}]},
        ],
    }  # fmt: skip
    with dask_client(workers=1) as client:
        run = run_pipeline(load_config(write_config(tmp_path / "p.yaml", config)), client)

    stages = {s["stage"]: s for s in run["sources"]["web"]["stages"]}
    removed = stages["length"]["samples"]["length:too_few_words"]
    kept = stages["length"]["samples"]["kept"]
    assert len(removed) == 1 and len(kept) == 1
    assert email not in removed[0]["text"] and email not in kept[0]["text"]
    assert "<EMAIL_ADDRESS>" in removed[0]["text"]
