"""The output folder: ``--fresh`` deletes only what gristmill wrote and refuses a folder
that is not a previous run; a lock keeps two runs apart and a stale one is taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gristmill.pipelines.config import load_config
from gristmill.pipelines.output_folder import (
    GRISTMILL_ENTRIES,
    LOCK_FILE,
    MARKER_FILE,
    OutputFolderBusy,
    OutputFolderError,
    OutputLock,
)
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import basic_config, write_config, write_jsonl_corpus


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=1) as client:
        yield client


@pytest.fixture
def config(tmp_path):
    write_jsonl_corpus(tmp_path / "corpus", shards=2, docs_per_shard=30)
    path = write_config(tmp_path / "p.yaml", basic_config(tmp_path / "corpus", tmp_path / "out"))
    return load_config(path)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _user_files(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "thesis.tex").write_text("three years of work\n")
    (out / "notes.tmp-1").write_text("not a temporary file of gristmill\n")
    (out / "figures").mkdir()
    (out / "figures" / "plot.png").write_bytes(b"\x89PNG")


def test_fresh_refuses_a_folder_that_is_not_a_previous_run_and_deletes_nothing(
    tmp_path, config, client
):
    out = tmp_path / "out"
    _user_files(out)
    before = _snapshot(out)
    with pytest.raises(OutputFolderError, match=r"--fresh: .* not the output of a gristmill run"):
        run_pipeline(config, client, resume=False)
    assert _snapshot(out) == before
    assert not (out / LOCK_FILE).exists()


def test_a_run_never_writes_into_a_gristmill_folder_name_it_did_not_create(
    tmp_path, config, client
):
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "data" / "mine.csv").write_text("a,b\n")
    before = _snapshot(out)
    with pytest.raises(OutputFolderError, match="already holds data"):
        run_pipeline(config, client)
    assert _snapshot(out) == before


def test_an_output_that_is_a_file_is_refused(tmp_path, config, client):
    (tmp_path / "out").write_text("a file, not a folder\n")
    with pytest.raises(OutputFolderError, match="exists and is not a folder"):
        run_pipeline(config, client, resume=False)
    assert (tmp_path / "out").read_text() == "a file, not a folder\n"


def test_fresh_on_a_previous_run_deletes_only_gristmill_entries(tmp_path, config, client):
    out = tmp_path / "out"
    _user_files(out)  # beside a run: allowed, and left alone
    first = run_pipeline(config, client)
    assert (out / MARKER_FILE).exists() and (out / "run.json").exists()
    stale = out / "work" / "web" / "segment-0" / "left-over.arrow"
    stale.write_bytes(b"from an older config")
    user = {k: v for k, v in _snapshot(out).items() if k.split("/")[0] not in GRISTMILL_ENTRIES}

    again = run_pipeline(config, client, resume=False)
    assert not stale.exists()
    assert again["sources"]["web"]["docs_out"] == first["sources"]["web"]["docs_out"]
    after = _snapshot(out)
    assert {k: after[k] for k in user} == user
    assert (out / "notes.tmp-1").exists()  # partial-file cleanup stays in gristmill's folders


def test_fresh_recognises_a_run_made_before_the_marker_existed(tmp_path, config, client):
    out = tmp_path / "out"
    run_pipeline(config, client)
    (out / MARKER_FILE).unlink()  # as an older gristmill left it: run.json only
    run_pipeline(config, client, resume=False)
    assert (out / MARKER_FILE).exists()


def test_a_live_lock_refuses_a_second_run_and_a_dead_one_is_taken_over(tmp_path, config, client):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        _write_lock(out, holder.pid, psutil.Process(holder.pid).create_time())
        with pytest.raises(OutputFolderBusy, match=f"pid {holder.pid} on host"):
            run_pipeline(config, client, resume=False)
        assert json.loads((out / LOCK_FILE).read_text())["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()
    run = run_pipeline(config, client)  # the holder died: its lock is stale
    assert run["sources"]["web"]["docs_out"] > 0
    assert not (out / LOCK_FILE).exists()


def test_a_recycled_pid_does_not_keep_a_lock_alive(tmp_path):
    # this very process, but "started" an hour before it did: another process's lock
    _write_lock(tmp_path, os.getpid(), psutil.Process().create_time() - 3600)
    lock = OutputLock(str(tmp_path))
    lock.acquire()
    assert json.loads((tmp_path / LOCK_FILE).read_text())["token"] == lock.token
    lock.release()
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_lock_of_another_host_is_never_guessed_stale(tmp_path):
    _write_lock(tmp_path, 1, 0.0, host="node-17.cluster")
    with pytest.raises(OutputFolderBusy, match=rf"node-17.cluster.*delete {tmp_path / LOCK_FILE}"):
        OutputLock(str(tmp_path)).acquire()


def test_two_cli_runs_on_one_folder_do_not_interleave(tmp_path):
    write_jsonl_corpus(tmp_path / "corpus", shards=3, docs_per_shard=300)
    path = write_config(tmp_path / "p.yaml", basic_config(tmp_path / "corpus", tmp_path / "out"))
    first = subprocess.Popen(
        [sys.executable, "-m", "gristmill.cli", "run", str(path), "--workers", "1", "--fresh"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = tmp_path / "out" / LOCK_FILE
    deadline = time.time() + 120
    while not lock.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert first.poll() is None, "the first run ended before the second could start"
    second = subprocess.run(
        [sys.executable, "-m", "gristmill.cli", "run", str(path), "--workers", "1", "--fresh"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert second.returncode == 2, second.stderr
    assert f"in use by another gristmill run: pid {first.pid} on host" in second.stderr
    assert first.wait(timeout=300) == 0, first.stderr.read()
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["sources"]["web"]["docs_in"] == 3 * 300
    assert not lock.exists()


def _write_lock(folder: Path, pid: int, started: float, host: str | None = None) -> None:
    record = {
        "pid": pid,
        "host": host or socket.gethostname(),
        "process_started": started,
        "locked_at": time.time(),
        "token": "someone-else",
    }
    (folder / LOCK_FILE).write_text(json.dumps(record))
