"""Progress by input bytes: one big shard moves the bar before it finishes."""

from __future__ import annotations

import json

import pytest

from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.example_plugin import Pause  # noqa: F401  (registers the "pause" step)


@pytest.mark.integration
def test_one_big_shard_reports_bytes_before_it_finishes(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    line = json.dumps({"text": "the mill by the river grinds the grain of the valley " * 20})
    (corpus / "big.jsonl").write_text((line + "\n") * 3000)
    from gristmill.pipelines.config import parse_config

    config = parse_config({
        "output": str(tmp_path / "out"),
        "sources": [{"name": "web", "paths": [str(corpus / "big.jsonl")], "format": "jsonl",
                     "reader": {"batch_docs": 200}, "stages": [{"pause": {"seconds": 0.25}}]}],
    })  # fmt: skip
    states = []
    with dask_client(workers=1) as client:
        run_pipeline(config, client, on_progress=lambda s: states.append(
            (s.label, s.done, s.total, s.bytes_done, s.bytes_total)))  # fmt: skip
    size = (corpus / "big.jsonl").stat().st_size
    assert states[0][0] == "web: read → pause"
    assert all(total_bytes == size for *_, total_bytes in states)
    during = [s for s in states if s[1] == 0 and s[3] > 0]
    assert during, f"no byte progress while the only shard ran: {states}"
    assert states[-1][1:] == (1, 1, size, size)
