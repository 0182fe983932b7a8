"""Locality-sensitive hashing of MinHash signatures: band keys and candidate pairs.

The banding scheme of Indyk & Motwani (1998) as described in Leskovec, Rajaraman & Ullman,
*Mining of Massive Datasets*, ch. 3.4: a signature of ``b * r`` values is cut into ``b``
bands of ``r`` rows, each band is hashed to one 64-bit bucket key (the band number is mixed
in, so buckets of different bands never meet), and two documents become candidates when
they share a bucket — with probability ``1 - (1 - s**r)**b`` for Jaccard similarity ``s``
(the S-curve). Within a bucket, members are linked to one centre rather than pairwise (a
star, as datatrove does), so a bucket of ``m`` copies gives ``m - 1`` candidate edges, not
``m**2 / 2``. The centre is chosen by content (a hash of the whole signature), not by
position, so the candidate graph is the same for any split of the input into shards.
"""

from __future__ import annotations

import numpy as np

from gristmill.dedupe.hashing import fmix64, splitmix64


def candidate_probability(similarity: float | np.ndarray, bands: int, rows: int):
    """Probability that two documents of Jaccard ``similarity`` share a bucket."""
    return 1.0 - (1.0 - np.asarray(similarity, dtype=float) ** rows) ** bands


def s_curve_midpoint(bands: int, rows: int) -> float:
    """The usual approximation ``(1 / b) ** (1 / r)`` of the S-curve's steepest point."""
    return (1.0 / bands) ** (1.0 / rows)


def _combine(columns: np.ndarray, salt: int) -> np.ndarray:
    """One 64-bit key per row of ``columns`` (``uint64``, 2-D): ``fmix64(salt + sum_j
    D_j * column_j)`` with odd ``D_j`` — rows differing anywhere get different keys but for
    a 2**-64 chance."""
    key = np.full(len(columns), np.uint64(salt), dtype=np.uint64)
    for position in range(columns.shape[1]):
        key += columns[:, position] * np.uint64(splitmix64(7919 + position) | 1)
    return fmix64(key)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(documents, bands)`` bucket keys from ``(documents, >= bands * rows)`` signatures."""
    if signatures.shape[1] < bands * rows:
        raise ValueError(
            f"signatures have {signatures.shape[1]} values, {bands} bands of {rows} rows "
            f"need {bands * rows}"
        )
    keys = np.empty((len(signatures), bands), dtype=np.uint64)
    for band in range(bands):
        keys[:, band] = _combine(
            signatures[:, band * rows : (band + 1) * rows], splitmix64(104729 + band)
        )
    return keys


def content_keys(signatures: np.ndarray) -> np.ndarray:
    """A 64-bit key of each whole signature: equal signatures, equal keys."""
    return _combine(signatures, splitmix64(1299709))


def star_edges(
    buckets: np.ndarray, indexed: np.ndarray, content: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate edges ``(centre, member)`` from bucket rows (one row per document and band).

    Within a bucket, every new document (``indexed`` False) is linked to the bucket's first
    new document and, when the bucket holds documents of a dataset index, to the first of
    those too; "first" is by ``content`` then node. Index documents are never linked to each
    other: they were resolved when the index was written.
    """
    if len(buckets) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    order = np.lexsort((nodes, content, ~indexed, buckets))
    buckets, indexed, nodes = buckets[order], indexed[order], nodes[order]
    new_bucket = np.concatenate([[True], buckets[1:] != buckets[:-1]])
    bucket_first = np.maximum.accumulate(np.where(new_bucket, np.arange(len(buckets)), 0))

    new_docs = np.flatnonzero(~indexed)
    new_buckets = buckets[new_docs]
    first_new = np.concatenate([[True], new_buckets[1:] != new_buckets[:-1]])
    centre_position = np.maximum.accumulate(np.where(first_new, np.arange(len(new_docs)), 0))
    internal = ~first_new
    centres = [nodes[new_docs[centre_position[internal]]]]
    members = [nodes[new_docs[internal]]]

    index_centre = bucket_first[new_docs]
    against_index = indexed[index_centre]
    centres.append(nodes[index_centre[against_index]])
    members.append(nodes[new_docs[against_index]])
    return np.concatenate(centres), np.concatenate(members)
