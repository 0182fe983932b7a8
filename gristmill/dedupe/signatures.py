"""MinHash signatures of shingle hashes, vectorised over a batch of documents.

MinHash (Broder 1997): for ``k`` random permutations ``pi_i`` of the hash space, a
document's signature is ``min_s pi_i(s)`` over its shingles ``s``, and the fraction of
equal positions of two signatures estimates the Jaccard similarity of their shingle sets.
The permutation family is datasketch's ``affine64`` scheme (datasketch >= 2.0): each
64-bit shingle hash is pre-mixed once with the MurmurHash3 ``fmix64`` finaliser, then
``pi_i(h) = a_i * h + b_i mod 2**64`` with odd ``a_i`` (a bijection, so no collisions are
added), with ``a`` and ``b`` drawn from ``numpy.random.RandomState(seed)`` as datasketch
draws them — so a datasketch ``MinHash(num_perm=k, seed=seed, scheme="affine64")`` fed the
same shingle hashes has the very same signature. A compiled loop (numba) keeps each
document's ``k`` minima in registers while it walks the shingles.
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np

from gristmill.dedupe.hashing import fmix64_scalar
from gristmill.dedupe.shingles import ShingleHashes

#: The signature value of a document without shingles (it matches nothing).
EMPTY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


@cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers ``a`` (odd) and offsets ``b`` of the ``num_perm`` permutations."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 63, num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = generator.randint(0, 1 << 64, num_perm, dtype=np.uint64)
    a.flags.writeable = False
    b.flags.writeable = False
    return a, b


def minhash_signatures(shingles: ShingleHashes, num_perm: int, seed: int) -> np.ndarray:
    """A ``(documents, num_perm)`` ``uint64`` array of signatures; a document without
    shingles gets :data:`EMPTY` everywhere."""
    a, b = permutations(num_perm, seed)
    return _signatures(shingles.values, shingles.offsets, a, b)


@numba.njit(cache=True, nogil=True)
def _signatures(
    values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Per document, the minimum of ``a * fmix64(h) + b`` over its shingle hashes ``h``
    (the permutations in the inner loop, so that it runs in vector registers)."""
    documents = len(offsets) - 1
    signatures = np.full((documents, len(a)), EMPTY, dtype=np.uint64)
    for document in range(documents):
        row = signatures[document]
        for shingle in range(offsets[document], offsets[document + 1]):
            mixed = fmix64_scalar(values[shingle])
            for permutation in range(len(a)):
                permuted = a[permutation] * mixed + b[permutation]
                if permuted < row[permutation]:
                    row[permutation] = permuted
    return signatures


def estimated_jaccard(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Row-wise fraction of equal signature positions (the MinHash Jaccard estimate)."""
    return np.count_nonzero(left == right, axis=-1) / left.shape[-1]
