"""Signal distributions with fixed bins, so that per-shard histograms merge by summation.

Numeric signals use the bins a step declares (``Filter.signal_bins``) or a universal set of
right-closed bins ``(a, b]``: (-inf, 0], 20 linear bins over (0, 1] (scores and fractions),
then 10 log bins per decade up to 10^9 (counts, lengths, perplexities). Only non-empty bins are stored. Text signals
(a language code, a bucket name) are counted by value, the most frequent kept.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

UNIVERSAL_EDGES: list[float] = sorted(
    {-np.inf, 0.0}
    | {round(i / 20, 2) for i in range(1, 21)}
    | {round(float(10 ** (k / 10)), 6) for k in range(1, 91)}
    | {np.inf}
)
MAX_CATEGORIES = 100


def histogram(
    values: pa.ChunkedArray | pa.Array, edges: list[float] | None = None
) -> dict[str, Any]:
    """A mergeable summary of one signal column."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        numbers = pc.drop_null(values.cast(pa.float64())).to_numpy(zero_copy_only=False)
        numbers = numbers[~np.isnan(numbers)]
        bins = np.asarray(edges if edges is not None else UNIVERSAL_EDGES, dtype=np.float64)
        # right-closed bins (a, b]: a score of exactly 1.0 falls in (0.95, 1.0], not above it
        positions = np.searchsorted(bins, numbers, side="left") - 1
        positions = np.clip(positions, 0, len(bins) - 2)
        counts = np.bincount(positions, minlength=len(bins) - 1)
        return {
            "kind": "numeric",
            "edges": "universal" if edges is None else [float(e) for e in bins],
            "bins": {str(i): int(c) for i, c in enumerate(counts) if c},
            "n": int(numbers.size),
            "sum": float(numbers.sum()) if numbers.size else 0.0,
            "min": float(numbers.min()) if numbers.size else None,
            "max": float(numbers.max()) if numbers.size else None,
        }
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        counted = Counter(v for v in values.to_pylist() if v is not None)
        return {"kind": "categorical", "counts": dict(counted.most_common(MAX_CATEGORIES))}
    return {"kind": "unsupported", "type": str(kind)}


def merge_histograms(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if a["kind"] != b["kind"]:
        return a
    if a["kind"] == "numeric":
        bins = Counter(a["bins"])
        bins.update(b["bins"])
        mins = [m for m in (a["min"], b["min"]) if m is not None]
        maxs = [m for m in (a["max"], b["max"]) if m is not None]
        return {
            **a,
            "bins": dict(sorted(bins.items(), key=lambda item: int(item[0]))),
            "n": a["n"] + b["n"],
            "sum": a["sum"] + b["sum"],
            "min": min(mins) if mins else None,
            "max": max(maxs) if maxs else None,
        }
    if a["kind"] == "categorical":
        counts = Counter(a["counts"])
        counts.update(b["counts"])
        return {"kind": "categorical", "counts": dict(counts.most_common(MAX_CATEGORIES))}
    return a


def bin_edges(summary: dict[str, Any]) -> list[float]:
    return UNIVERSAL_EDGES if summary["edges"] == "universal" else summary["edges"]
