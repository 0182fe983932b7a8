"""Operator mistakes through the real ``gristmill run`` command (child processes): Ctrl-C,
more workers than cores, a ``text_field`` that matches nothing, a vocabulary larger than the
corpus allows. Each ends in a clear message and exit code, never a raw traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from distributed import LocalCluster

from gristmill.pipelines import runner
from gristmill.pipelines.output_folder import LOCK_FILE
from gristmill.pipelines.runner import available_cores
from gristmill.pipelines.source_checks import SourceYieldedNothing, check_sources_yielded
from gristmill.pipelines.worker_ctrl_c import ctrl_c_held
from tests.corpus import basic_config, write_config, write_jsonl_corpus

pytestmark = pytest.mark.integration

ENV = {**os.environ, "COLUMNS": "300"}  # no line wrapping in the messages checked


def _gristmill(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gristmill.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=ENV,
        # as a terminal starts it, even when these tests run in the background (where the
        # shell has SIGINT ignored, which the child would inherit)
        preexec_fn=_sigint_default,
    )


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr


def test_ctrl_c_exits_cleanly_with_a_resume_hint_and_the_rerun_resumes(tmp_path):
    # enough shards that the run is still busy when this (maybe starved) process acts
    write_jsonl_corpus(tmp_path / "corpus", shards=16, docs_per_shard=1000)
    config = write_config(tmp_path / "p.yaml", basic_config(tmp_path / "corpus", tmp_path / "out"))
    process = _gristmill("run", str(config), "--workers", "1")
    markers = tmp_path / "out" / "work" / "web" / "segment-0"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if len(list(markers.glob("*.done"))) >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    code, stderr = _finish(process)
    assert code == 130, stderr
    assert "interrupted" in stderr and "resume" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out" / LOCK_FILE).exists()

    code, stderr = _finish(_gristmill("run", str(config), "--workers", "1"))
    assert code == 0, stderr
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["sources"]["web"]["docs_in"] == 16 * 1000


@pytest.fixture
def terminal_sigint():
    """SIGINT raises KeyboardInterrupt in this process, as under a terminal, even when the
    tests run in the background (where the shell starts them with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_the_workers_start_is_held_then_raised_not_lost(terminal_sigint):
    """The client used to ignore SIGINT while its workers started (so that they inherit
    "ignore"), and a Ctrl-C in that second was lost: the run went on to the end, exit 0."""
    with pytest.raises(KeyboardInterrupt), ctrl_c_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the signal arrives inside the block: noted, not raised
        reached_the_end = True
    assert reached_the_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # a process that ignores SIGINT (nohup, a background job) keeps ignoring it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with ctrl_c_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_a_ctrl_c_during_cluster_start_closes_the_cluster_and_workers_ignore_ctrl_c(
    monkeypatch, terminal_sigint
):
    started = []

    def cluster_then_ctrl_c(*args, **kwargs):
        cluster = LocalCluster(*args, **kwargs)
        started.append(cluster)
        os.kill(os.getpid(), signal.SIGINT)  # pressed while the workers start
        return cluster

    monkeypatch.setattr(runner, "LocalCluster", cluster_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt), runner.dask_client(workers=1, dashboard=False):
        pytest.fail("the run went on after a Ctrl-C")
    assert started and started[0].status.name == "closed"

    monkeypatch.undo()
    with runner.dask_client(workers=1, dashboard=False) as client:
        pid = next(iter(client.run(os.getpid).values()))
        os.kill(pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the workers too
        time.sleep(0.5)
        assert client.submit(sum, [1, 2], pure=False).result(timeout=60) == 3
        assert list(client.run(os.getpid).values()) == [pid]  # the same worker, alive


def test_more_workers_than_cores_warns_and_a_foreign_folder_is_refused_before_any_starts(
    tmp_path,
):
    write_jsonl_corpus(tmp_path / "corpus", shards=1, docs_per_shard=20)
    too_many = available_cores() + 1
    data = basic_config(tmp_path / "corpus", tmp_path / "out", workers=too_many)
    config = write_config(tmp_path / "p.yaml", data)
    (tmp_path / "out" / "data").mkdir(parents=True)  # someone else's folder
    code, stderr = _finish(_gristmill("run", str(config)))
    assert f"warning: {too_many} worker processes ('workers' in {config})" in stderr
    assert f"on {available_cores()} CPU cores" in stderr
    assert code == 2, stderr
    assert "output folder:" in stderr and "already holds data" in stderr
    assert "Dask dashboard" not in stderr  # refused before a cluster was started
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["data"]


def test_a_text_field_matching_nothing_fails_the_run_with_the_fields_seen(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [{"body": f"document {i} of the corpus", "lang": "en"} for i in range(50)]
    (corpus / "part-0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    data = basic_config(corpus, tmp_path / "out")
    data["sources"][0]["stages"] = ["normalize"]
    config = write_config(tmp_path / "p.yaml", data)
    code, stderr = _finish(_gristmill("run", str(config), "--workers", "1"))
    assert code == 1, stderr
    assert "source 'web': all 50 records were skipped as 'jsonl:missing_text'" in stderr
    assert "Fields of its records: body, lang; reader option text_field is 'text'" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out" / "run.json").exists()
    assert not (tmp_path / "out" / LOCK_FILE).exists()


def test_a_vocab_size_too_large_for_the_corpus_is_a_clear_error(tmp_path):
    write_jsonl_corpus(tmp_path / "corpus", shards=1, docs_per_shard=40)
    data = basic_config(tmp_path / "corpus", tmp_path / "out", tokenizer={"vocab_size": 32000})
    config = write_config(tmp_path / "p.yaml", data)
    code, stderr = _finish(_gristmill("run", str(config), "--workers", "1"))
    assert code == 2, stderr
    assert "tokenizer error: tokenizer.vocab_size 32,000 is too large" in stderr
    assert "Traceback" not in stderr


def test_only_a_source_with_every_record_skipped_for_one_reason_fails():
    source = SimpleNamespace(name="web", format="warc", reader=SimpleNamespace())

    def read(kept: int, removed: dict[str, int]) -> list[dict]:
        stage = {"stage": "read", "docs_in": kept + sum(removed.values()), "docs_out": kept,
                 "removed": removed}  # fmt: skip
        return [{"source": "web", "segment": 0, "stages": [stage]}]

    check_sources_yielded([source], read(1, {"warc:revisit": 9}), {"web": []})
    check_sources_yielded([source], read(0, {"warc:revisit": 9, "warc:empty": 1}), {"web": []})
    check_sources_yielded([source], read(0, {}), {"web": []})  # an empty source
    with pytest.raises(SourceYieldedNothing, match="all 9 records were skipped as 'warc:revisit'"):
        check_sources_yielded([source], read(0, {"warc:revisit": 9}), {"web": []})
