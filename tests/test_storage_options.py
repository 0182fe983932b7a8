"""storage_options per source and for the output, against real local S3 servers (moto):
the sources are read through one endpoint and the run written through another, on real
Dask workers (which get the options from a worker plugin). Without the options, s3fs would
go to AWS itself, which is not reachable here. (The two moto servers of one process share
their buckets, so the test cannot tell which endpoint served a request.)"""

from __future__ import annotations

import json

import pytest

moto_server = pytest.importorskip("moto.server")
pytest.importorskip("s3fs", minversion="2024.2")

from gristmill import storage  # noqa: E402
from gristmill.pipelines.config import parse_config  # noqa: E402
from gristmill.pipelines.runner import dask_client, run_pipeline  # noqa: E402
from gristmill.report.writer import write_report  # noqa: E402


@pytest.fixture
def two_s3_servers(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    servers = [moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0) for _ in range(2)]
    urls = []
    for server in servers:
        server.start()
        host, port = server.get_host_and_port()
        urls.append(f"http://{host}:{port}")
    yield urls
    for server in servers:
        server.stop()
    storage.clear()


def _bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing-secret-42",
                 ).create_bucket(Bucket=name)  # fmt: skip


def _options(endpoint: str) -> dict:
    return {"endpoint_url": endpoint, "key": "testing", "secret": "testing-secret-42",
            "client_kwargs": {"region_name": "us-east-1"}}  # fmt: skip


@pytest.mark.integration
def test_sources_and_output_on_their_own_endpoints(two_s3_servers, tmp_path):
    import s3fs

    source_endpoint, output_endpoint = two_s3_servers
    source_fs = s3fs.S3FileSystem(**_options(source_endpoint))
    _bucket(source_endpoint, "corpus-bucket")
    lines = [json.dumps({"text": f"document {i} about the mill and the river " * 4}) for i in range(6)]
    lines.append(lines[0])  # an exact duplicate, so the global step (Parquet on Dask) has work
    with source_fs.open("corpus-bucket/crawl/part-0.jsonl", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    output_fs = s3fs.S3FileSystem(**_options(output_endpoint))
    _bucket(output_endpoint, "runs-bucket")

    config = parse_config({
        "output": "s3://runs-bucket/run-1",
        "storage_options": _options(output_endpoint),
        "write_rejected": True,
        "sources": [{"name": "web", "paths": ["s3://corpus-bucket/crawl/*.jsonl"],
                     "format": "jsonl", "storage_options": _options(source_endpoint),
                     "stages": [{"length": {"min_words": 3}}, "exact_dedup"]}],
    })  # fmt: skip
    with dask_client(workers=1) as client:
        run = run_pipeline(config, client)
    assert run["sources"]["web"]["docs_out"] == 6
    assert output_fs.exists("runs-bucket/run-1/run.json")
    assert any(p.endswith(".arrow") for p in output_fs.find("runs-bucket/run-1/data"))
    written = output_fs.cat("runs-bucket/run-1/run.json").decode()
    assert "testing-secret-42" not in written  # credentials stay out of the run record
    assert write_report("s3://runs-bucket/run-1") == "s3://runs-bucket/run-1/report/report.html"
    assert output_fs.exists("runs-bucket/run-1/report/report.html")


def test_longest_prefix_wins_and_globs_register_their_folder():
    storage.register(storage.url_root("s3://a/in/*.jsonl"), {"anon": True})
    storage.register("s3://a/", {"anon": False, "profile": "writer"})
    try:
        assert storage.options_for("s3://a/in/x.jsonl") == {"anon": True}
        assert storage.options_for("s3://a/out/run.json") == {"anon": False, "profile": "writer"}
        assert storage.options_for("gs://elsewhere/x") == {}
        storage.register("/local/path", {"anon": True})  # local paths take no options
        assert storage.options_for("/local/path/x") == {}
    finally:
        storage.clear()
