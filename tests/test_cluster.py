"""Integration: a real `dask scheduler` and two `dask worker` processes on 127.0.0.1.

The same pipeline run against them, on the embedded cluster and on one worker must write
byte-identical shards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gristmill.cli import main
from tests.corpus import basic_config, write_config, write_jsonl_corpus

pytestmark = pytest.mark.integration


def _dask_command() -> list[str]:
    """The `dask` console script of this environment (installed with distributed)."""
    executable = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    assert executable, "the dask command line is not installed"
    return [executable]


@pytest.fixture
def standalone_cluster(tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    dask = _dask_command()
    processes = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    deadline = time.time() + 60
    while not scheduler_file.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert scheduler_file.exists(), "the dask scheduler did not start"
    for _ in range(2):
        processes.append(
            subprocess.Popen(
                [*dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                 "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file)) as client:
        client.wait_for_workers(2, timeout=60)
    yield scheduler_file
    for process in processes[::-1]:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _data_bytes(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "data").rglob("*.arrow"))
    }


def test_standalone_cluster_matches_embedded_and_single_worker(tmp_path, standalone_cluster):
    write_jsonl_corpus(tmp_path / "corpus", shards=6, docs_per_shard=50)
    config = write_config(
        tmp_path / "p.yaml", basic_config(tmp_path / "corpus", tmp_path / "unused")
    )

    assert main(["run", str(config), "--scheduler-file", str(standalone_cluster),
                 "--output", str(tmp_path / "standalone")]) == 0  # fmt: skip
    assert main(["run", str(config), "--workers", "2", "--output", str(tmp_path / "embedded")]) == 0
    assert main(["run", str(config), "--workers", "1", "--output", str(tmp_path / "single")]) == 0

    standalone = _data_bytes(tmp_path / "standalone")
    assert len(standalone) == 6
    assert standalone == _data_bytes(tmp_path / "embedded") == _data_bytes(tmp_path / "single")


def _worker_settings() -> tuple[str, bool, dict[str, str]]:
    import os

    import dask
    import pyarrow

    malloc = {key: value for key, value in os.environ.items() if key.startswith("MALLOC_")}
    return (
        pyarrow.default_memory_pool().backend_name,
        dask.config.get("distributed.worker.profile.enabled"),
        malloc,
    )


def test_embedded_workers_use_the_system_allocator_and_no_profiler_without_dashboard(
    monkeypatch,
):
    from gristmill.pipelines.runner import WORKER_MALLOC, dask_client

    for key in WORKER_MALLOC:
        monkeypatch.delenv(key, raising=False)
    with dask_client(workers=1, dashboard=False) as client:
        [(pool, profiler, malloc)] = client.run(_worker_settings).values()
    assert (pool, profiler) == ("system", False)
    # glibc's settings replace Dask's MALLOC_TRIM_THRESHOLD_=65536 (4.5 million page faults
    # on the e2e bench): set before the worker process starts, since glibc reads them once
    assert {key: malloc.get(key) for key in WORKER_MALLOC} == WORKER_MALLOC


def test_the_environment_s_malloc_settings_win_over_the_embedded_workers(monkeypatch):
    from gristmill.pipelines.runner import dask_client

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    with dask_client(workers=1, dashboard=False) as client:
        [(_, _, malloc)] = client.run(_worker_settings).values()
    assert malloc["MALLOC_ARENA_MAX"] == "4"
