"""Resume: kill a run after some shards, re-run, and get the uninterrupted run's output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.corpus import basic_config, write_config, write_jsonl_corpus

pytestmark = pytest.mark.integration


def _gristmill(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gristmill.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **kwargs,
    )


def _ids(out: Path) -> list[str]:
    from gristmill.io.writers import read_table

    ids = []
    for path in sorted((out / "data").rglob("*.arrow")):
        ids.extend(read_table(str(path)).column("id").to_pylist())
    return ids


def test_killed_run_resumes_without_duplicates_or_losses(tmp_path):
    shards = 12
    write_jsonl_corpus(tmp_path / "corpus", shards=shards, docs_per_shard=1500)
    config = write_config(tmp_path / "p.yaml", basic_config(tmp_path / "corpus", tmp_path / "out"))

    process = _gristmill("run", str(config), "--workers", "1")
    markers = tmp_path / "out" / "work" / "web" / "segment-0"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if len(list(markers.glob("*.done"))) >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list(markers.glob("*.done")))
    assert 2 <= done_before < shards

    resumed = _gristmill("run", str(config), "--workers", "1")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    fresh = _gristmill("run", str(config), "--workers", "1", "--output", str(tmp_path / "fresh"))
    assert fresh.wait(timeout=300) == 0, fresh.stderr.read().decode()

    ids = _ids(tmp_path / "out")
    assert len(ids) == len(set(ids))
    assert ids == _ids(tmp_path / "fresh")
    for path in sorted((tmp_path / "fresh" / "data").rglob("*.arrow")):
        twin = tmp_path / "out" / path.relative_to(tmp_path / "fresh")
        assert twin.read_bytes() == path.read_bytes()
    assert not list((tmp_path / "out").rglob("*.tmp-*")), "temporary files were left behind"
    resumed_run = json.loads((tmp_path / "out" / "run.json").read_text())
    fresh_run = json.loads((tmp_path / "fresh" / "run.json").read_text())
    for run in (resumed_run, fresh_run):
        for stage in run["sources"]["web"]["stages"]:
            stage.pop("wall_s"), stage.pop("cpu_s")
    assert resumed_run["sources"] == fresh_run["sources"]
