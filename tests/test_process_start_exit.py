"""Start-up and exit costs: the fast exit of finished processes, numba's target without
scipy's BLAS in the embedded workers, and what the client leaves unloaded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, **(env or {})},
    )


#: A global whose finalizer prints: it runs in the interpreter's teardown, which the fast
#: exit skips.
_FINALIZER = """
import atexit
class Finalized:
    def __del__(self):
        print("finalized", flush=True)
kept = Finalized()
atexit.register(lambda: print("atexit ran"))
print("buffered output", end="")
"""


def test_exit_now_runs_atexit_flushes_and_keeps_the_code_but_skips_teardown():
    result = _python(_FINALIZER + "from gristmill.process_exit import exit_now\nexit_now(3)\n")
    assert result.returncode == 3
    assert "buffered output" in result.stdout and "atexit ran" in result.stdout
    assert "finalized" not in result.stdout
    normal = _python(_FINALIZER + "raise SystemExit(3)\n")
    assert normal.returncode == 3 and "finalized" in normal.stdout


def test_worker_fast_exit_only_after_a_clean_teardown():
    setup = _FINALIZER + textwrap.dedent(
        """
        from gristmill.pipelines.worker_exit import FastExitPlugin
        plugin = FastExitPlugin()
        plugin.setup(None)
        """
    )
    clean = _python(setup + "plugin.teardown(None)\n")
    assert clean.returncode == 0
    assert "atexit ran" in clean.stdout and "finalized" not in clean.stdout
    # an uncaught exception after the teardown: the normal exit, with its code
    failed = _python(setup + "plugin.teardown(None)\nraise RuntimeError('late failure')\n")
    assert failed.returncode == 1 and "finalized" in failed.stdout
    assert "late failure" in failed.stderr
    # no teardown (the worker did not close cleanly): the normal exit
    unclosed = _python(setup)
    assert unclosed.returncode == 0 and "finalized" in unclosed.stdout


def test_embedded_worker_process_exits_with_code_zero():
    from gristmill.pipelines.runner import dask_client

    with dask_client(workers=1, dashboard=False) as client:
        nanny = next(iter(client.cluster.workers.values()))
        process = nanny.process.process
        assert client.submit(sum, [1, 2]).result() == 3
    assert process.exitcode == 0


_SIGNATURES = """
import json, sys
import pyarrow as pa
from gristmill.dedupe.shingles import shingle_hashes
from gristmill.dedupe.signatures import minhash_signatures
texts = pa.array(["the quick brown fox jumps over the lazy dog again and again",
                  "多语言文本的最小哈希签名在这里计算", "naïve café déjà vu, encore une fois"])
signatures = minhash_signatures(shingle_hashes(texts, 5), 64, 7)
print(json.dumps({"signatures": signatures.tolist(),
                  "scipy_linalg": "scipy.linalg" in sys.modules}))
"""


def test_numba_target_without_scipy_blas_gives_the_same_signatures():
    import json

    from gristmill.dedupe.numba_target import WITHOUT_SCIPY_BLAS

    runs = {}
    for flag in ("0", "1"):
        result = _python(_SIGNATURES, {WITHOUT_SCIPY_BLAS: flag})
        assert result.returncode == 0, result.stderr
        runs[flag] = json.loads(result.stdout.strip().splitlines()[-1])
    assert runs["1"]["signatures"] == runs["0"]["signatures"]
    assert not runs["1"]["scipy_linalg"]
    assert np.asarray(runs["1"]["signatures"], dtype=np.uint64).shape == (3, 64)


def test_embedded_workers_load_numba_without_scipy_blas():
    from gristmill.pipelines.runner import dask_client

    def signatures_and_scipy():
        from gristmill.dedupe.shingles import shingle_hashes
        from gristmill.dedupe.signatures import minhash_signatures

        shingles = shingle_hashes(pa.array(["one two three four five six seven"]), 5)
        minhash_signatures(shingles, 16, 1)
        return "scipy.linalg" in sys.modules

    with dask_client(workers=1, dashboard=False) as client:
        assert client.submit(signatures_and_scipy).result() is False


def test_config_parsing_loads_neither_numba_nor_pandas():
    """The client validates a MinHash pipeline without the compiled kernels or pandas."""
    result = _python(
        """
        import sys
        from gristmill.pipelines.config import parse_config
        parse_config({"output": "out", "sources": [{"name": "web", "paths": ["x.warc.gz"],
            "format": "warc", "stages": [{"lid": {"languages": ["en"]}}, "gopher_quality",
            "gopher_repetition", "c4", "fineweb", "minhash"]}]})
        print(sorted(m for m in ("numba", "pandas", "scipy") if m in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_pyarrow_leaves_pandas_unloaded_until_something_imports_it():
    """``defer_pandas``: lists through ``pa.array`` import no pandas; once pandas is
    imported, pyarrow converts pandas objects as pandas objects again (a categorical to a
    dictionary array, not strings) and gives nanosecond timestamps as pandas'."""
    result = _python(
        """
        import sys
        import pyarrow as pa
        from gristmill.arrow_pandas import defer_pandas
        assert defer_pandas()
        pa.array(["a", "b"]), pa.table({"text": ["x"]})
        print("pandas" in sys.modules)
        import pandas as pd
        print(pa.types.is_dictionary(pa.array(pd.Categorical(["a", "b", "a"])).type))
        print(type(pa.scalar(1, pa.timestamp("ns")).as_py()).__name__)
        print(defer_pandas())
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "Timestamp", "False"]


def test_embedded_workers_filter_without_pandas_and_still_shuffle_with_it():
    import dask.dataframe as dd
    import pandas as pd

    from gristmill.filters.gopher_quality import GopherQuality
    from gristmill.pipelines.runner import dask_client

    def filter_then_look():
        table = pa.table({"id": ["a"], "text": ["A short English text, of a few words. " * 30]})
        GopherQuality().process(table, "gopher_quality")
        return "pandas" in sys.modules

    with dask_client(workers=1, dashboard=False) as client:
        assert client.submit(filter_then_look, pure=False).result() is False
        frame = pd.DataFrame({"key": [3, 1, 2, 1], "value": ["c", "a", "b", "d"]})
        shuffled = dd.from_pandas(frame, npartitions=2).set_index("key").compute()
        assert shuffled["value"].tolist()[:2] in (["a", "d"], ["d", "a"])
        assert client.submit(filter_then_look, pure=False).result() is True
