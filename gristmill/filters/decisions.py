"""Turning threshold checks into one drop reason per document.

A heuristic filter runs its checks in a fixed order and reports the first that fails, as
datatrove's and Dolma's taggers do; every check is a boolean mask over the batch.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def first_failing(size: int, checks: Iterable[tuple[np.ndarray | None, str]]) -> list[str | None]:
    """One reason per document: the name of the first check whose mask is true (None = keep).

    A check whose mask is None is disabled (its threshold was set to null).
    """
    reasons: list[str | None] = [None] * size
    for mask, reason in reversed(list(checks)):
        if mask is None:
            continue
        for index in np.flatnonzero(mask):
            reasons[index] = reason
    return reasons


def above(signals: dict[str, np.ndarray], name: str, limit: float | None) -> np.ndarray | None:
    """The mask of documents whose signal ``name`` exceeds ``limit`` (None: check disabled)."""
    return None if limit is None else signals[name] > limit


def below(signals: dict[str, np.ndarray], name: str, limit: float | None) -> np.ndarray | None:
    """The mask of documents whose signal ``name`` is under ``limit`` (None: check disabled)."""
    return None if limit is None else signals[name] < limit


def ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float = 0.0) -> np.ndarray:
    """``numerator / denominator`` elementwise, ``empty`` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(numerator.shape, empty, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
