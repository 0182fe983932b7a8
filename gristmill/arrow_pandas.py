"""pyarrow without pandas, until something else imports pandas.

The first time ``pa.array`` (or ``pa.table``) is given anything but a numpy array, even a
list of str, pyarrow imports pandas to ask whether the object is a pandas one. In a worker
that only reads, filters and hashes, that is pandas for nothing: 42 MiB of its resident
memory and about 0.3 CPU s of import. :func:`defer_pandas` has pyarrow look for pandas
once while pandas is hidden, so it remembers "no pandas" and stops asking. The moment
anything else imports pandas (Dask's dataframe shuffles of the dedup resolves do), pyarrow
gets its pandas integration back, so from then on it behaves as before: pandas objects
handed to ``pa.array`` are converted as pandas objects, nanosecond timestamps come back as
pandas' own.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from typing import Any


class _HiddenPandas:
    """A finder that makes ``import pandas`` fail (for pyarrow's one look)."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name == "pandas":
            raise ImportError("pandas is hidden from pyarrow's first look")
        return None


class _ArmPyarrowOnImport:
    """A finder that steps aside at the first ``import pandas`` and, once pandas has run,
    has pyarrow import it again (pyarrow then turns its pandas integration on)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name != "pandas":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run_pandas = loader.exec_module

        def exec_module(module: Any) -> None:
            run_pandas(module)
            from pyarrow.lib import _pandas_api

            with contextlib.suppress(ImportError):  # a pandas pyarrow does not support
                _pandas_api.pd  # noqa: B018 (the property imports pandas for pyarrow)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def defer_pandas() -> bool:
    """Keep pyarrow from importing pandas until something else does; False (and nothing
    done) when pandas is already imported."""
    if "pandas" in sys.modules:
        return False
    import pyarrow as pa

    sys.meta_path.insert(0, _HiddenPandas)
    try:
        pa.array([])  # pyarrow's one look for pandas: it finds none and remembers
    finally:
        sys.meta_path.remove(_HiddenPandas)
    sys.meta_path.insert(0, _ArmPyarrowOnImport())
    return True
