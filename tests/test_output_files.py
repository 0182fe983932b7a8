"""Every file gristmill writes holds the bytes its extension promises (issue 15, item 8:
``exact_dedup``'s rejected file was Arrow under a ``.jsonl.gz`` name when another global
step followed it)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from gristmill.io.writers import ShardWriter
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import basic_config, write_config, write_jsonl_corpus


def _is_gzip_jsonl(data: bytes) -> bool:
    if data[:2] != b"\x1f\x8b":
        return False
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return all(isinstance(json.loads(line), dict) for line in lines)


def _is_json(data: bytes) -> bool:
    json.loads(data.decode("utf-8"))
    return True


#: Extension -> check of a file's bytes (the longest matching extension applies).
CHECKS = {
    ".jsonl.gz": _is_gzip_jsonl,
    ".arrow": lambda data: data[:6] == b"ARROW1" or data[:4] == b"\xff\xff\xff\xff",
    ".parquet": lambda data: data[:4] == b"PAR1" and data[-4:] == b"PAR1",
    ".json": _is_json,
    ".done": _is_json,
    ".html": lambda data: data.lstrip()[:1] == b"<",
    ".png": lambda data: data[:8] == b"\x89PNG\r\n\x1a\n",
}


def mismatched_files(output: Path) -> list[str]:
    """Files under ``output`` whose bytes do not match their extension (or whose
    extension no check knows)."""
    wrong = []
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        suffix = max((s for s in CHECKS if path.name.endswith(s)), key=len, default=None)
        try:
            good = suffix is not None and CHECKS[suffix](path.read_bytes())
        except (ValueError, OSError):
            good = False
        if not good:
            wrong.append(str(path.relative_to(output)))
    return wrong


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=1) as client:
        yield client


@pytest.mark.parametrize("output_format", ["jsonl", "parquet"])
def test_every_written_file_matches_its_extension(tmp_path, client, output_format):
    write_jsonl_corpus(tmp_path / "corpus", shards=2, docs_per_shard=30)
    data = basic_config(tmp_path / "corpus", tmp_path / "out", output_format=output_format)
    data["sources"][0]["stages"] += ["minhash"]
    run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), client)
    rejected = list((tmp_path / "out" / "rejected").rglob("*"))
    assert any("exact_dedup" in str(path) for path in rejected)  # the case of the issue
    assert mismatched_files(tmp_path / "out") == []


def test_a_shard_writer_refuses_a_name_of_another_format(tmp_path):
    with pytest.raises(ValueError, match="jsonl name"):
        ShardWriter(str(tmp_path / "part.jsonl.gz"), "arrow")
