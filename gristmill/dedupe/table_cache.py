"""Derived lookup tables kept on disk, so a worker process loads them instead of rebuilding.

:func:`~gristmill.dedupe.word_tables.code_point_table` runs Arrow's Unicode kernels on
every code point below U+30000: about 0.45 CPU s in every worker process of every run.
Its arrays depend only on the code that builds them, the Unicode data of Python and of
Arrow, and the arguments, so they are saved once, keyed by all of those, like numba's
``cache=True`` keys its compiled functions by the source. A missing, unreadable or
unwritable cache only means the table is built again.

The folder is ``$GRISTMILL_CACHE/tables`` (``~/.cache/gristmill/tables`` by default).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

CACHE_ENV = "GRISTMILL_CACHE"


def tables_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    root = Path(configured).expanduser() if configured else Path.home() / ".cache" / "gristmill"
    return root / "tables"


def table_key(name: str, sources: list[str], *args: object) -> str:
    """A digest of the table's name, its builders' source files, the versions whose
    Unicode data it reflects (Python, numpy, Arrow) and the arguments."""
    digest = hashlib.sha256()
    for part in (name, sys.version, unicodedata.unidata_version, np.__version__, pa.__version__,
                 repr(args)):  # fmt: skip
        digest.update(part.encode() + b"\x00")
    for source in sources:
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:32]


def cached_arrays(
    name: str, sources: list[str], build: Callable[[], tuple[np.ndarray, ...]], *args: object
) -> tuple[np.ndarray, ...]:
    """``build()``'s arrays, from the cache when a file of the same key is there; else
    built and saved (atomically: a temporary file renamed into place)."""
    try:
        path = tables_dir() / f"{name}-{table_key(name, sources, *args)}.npz"
    except OSError:
        return build()
    try:
        with np.load(path, allow_pickle=False) as saved:
            return tuple(saved[f"arr_{i}"] for i in range(len(saved.files)))
    except (OSError, ValueError, KeyError):
        pass
    arrays = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return arrays  # a read-only home: built again next time
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, *arrays)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
    return arrays
