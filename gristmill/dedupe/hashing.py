"""64-bit mixing functions shared by shingling, MinHash signatures and LSH band keys.

``fmix64`` is the finaliser of Austin Appleby's MurmurHash3 (an avalanching bijection of
64-bit words, also datasketch's pre-mix); ``splitmix64`` is Sebastiano Vigna's generator,
used here only to derive fixed constants. Both wrap modulo ``2**64`` as numpy ``uint64``
arithmetic does.
"""

from __future__ import annotations

import numba
import numpy as np

from gristmill.dedupe.numba_target import prepare as prepare_numba_target

prepare_numba_target()

MASK64 = (1 << 64) - 1
FMIX_MULTIPLIERS = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
_M1, _M2 = (np.uint64(m) for m in FMIX_MULTIPLIERS)


def fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, element-wise on a ``uint64`` array (a new array)."""
    values = values ^ (values >> _SHIFT)
    values *= _M1
    values ^= values >> _SHIFT
    values *= _M2
    values ^= values >> _SHIFT
    return values


@numba.njit(cache=True, nogil=True)
def fmix64_scalar(value: np.uint64) -> np.uint64:
    """:func:`fmix64` of one ``uint64``, for compiled kernels."""
    value ^= value >> _SHIFT
    value *= _M1
    value ^= value >> _SHIFT
    value *= _M2
    return value ^ (value >> _SHIFT)


def fmix64_int(value: int) -> int:
    """:func:`fmix64` of one Python integer (for reference implementations)."""
    value ^= value >> 33
    value = (value * FMIX_MULTIPLIERS[0]) & MASK64
    value ^= value >> 33
    value = (value * FMIX_MULTIPLIERS[1]) & MASK64
    return value ^ (value >> 33)


def splitmix64(state: int) -> int:
    """Output number ``state`` of splitmix64: fixed, well-mixed 64-bit constants."""
    z = (state * 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)
