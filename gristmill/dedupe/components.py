"""Connected components of duplicate edges, and the document each component keeps.

Near-duplicate clusters are the connected components of the graph whose edges are the
verified candidate pairs (transitive closure, as in datatrove's and NeMo Curator's fuzzy
dedup), found over the nodes that have an edge by a union-find (disjoint-set forest with
path halving, Tarjan & van Leeuwen 1984) in one compiled pass over the edges. It is the one
step of the resolve that runs on the client, so its memory is kept small: the edges
(16 bytes each), their ends sorted once, the distinct nodes, a 4-byte position per edge
end and a 4-byte parent per node — no sparse matrix (SciPy's ``connected_components``
after ``np.unique`` needed about 106 bytes per edge at its peak, this about 50). Per component one document is kept by the deterministic rule of DESIGN.md: a
document of the dataset index first (it is already published), then the highest source
priority, then the smallest id; the others are dropped as its duplicates.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from gristmill.dedupe.numba_target import prepare as prepare_numba_target

prepare_numba_target()


def connected_components(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(nodes, labels)``: the sorted distinct nodes of the edges and their component,
    numbered ``0, 1, ...`` in the order of each component's smallest node."""
    both = np.concatenate([left, right])
    order = np.argsort(both)
    both.sort()
    distinct = np.empty(len(both), dtype=bool)
    distinct[:1] = True
    np.not_equal(both[1:], both[:-1], out=distinct[1:])
    nodes = both[distinct]
    del both
    if len(nodes) == 0:
        return nodes, np.empty(0, dtype=np.int64)
    # each edge end's position among the distinct nodes
    positions = np.empty(len(order), dtype=np.int32 if len(nodes) < 2**31 else np.int64)
    positions[order] = np.cumsum(distinct, dtype=positions.dtype) - 1
    del order, distinct
    labels = _union_find(positions[: len(left)], positions[len(left) :], len(nodes))
    return nodes, labels.astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _union_find(left: np.ndarray, right: np.ndarray, count: int) -> np.ndarray:
    """Component labels of ``count`` nodes joined by the edges ``left[i] -- right[i]``
    (positions): each root is its component's smallest node, so labelling the nodes in
    order numbers the components by their smallest node."""
    parent = np.arange(count).astype(left.dtype)
    for edge in range(len(left)):
        a, b = left[edge], right[edge]
        while parent[a] != a:  # path halving
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    components = 0
    for node in range(count):  # parent[node] <= node, and already holds its label if <
        up = parent[node]
        if up == node:
            parent[node] = components
            components += 1
        else:
            parent[node] = parent[up]
    return parent


def choose_kept(members: pd.DataFrame) -> pd.DataFrame:
    """The drop rows of components: ``members`` has ``component, id, priority, indexed,
    shard, display_id``; returns ``id, shard, duplicate_of, reason, cluster_size`` for every
    new (not indexed) document that is not its component's kept one.

    ``display_id`` is what a drop points to (an index document dropped in its own run points
    to the document kept then).
    """
    ordered = members.sort_values(
        ["component", "indexed", "priority", "id"], ascending=[True, False, False, True]
    )
    grouped = ordered.groupby("component", sort=False)
    first = grouped.cumcount() == 0
    kept = ordered[first].set_index("component")
    sizes = grouped["id"].transform("size")
    dropped = ordered[~first & ~ordered["indexed"].to_numpy(dtype=bool)]
    keeper = kept.loc[dropped["component"]]
    return pd.DataFrame(
        {
            "id": dropped["id"].to_numpy(dtype=object),
            "shard": dropped["shard"].to_numpy(dtype=object),
            "duplicate_of": keeper["display_id"].to_numpy(dtype=object),
            "reason": np.where(
                keeper["indexed"].to_numpy(dtype=bool), "duplicate_of_index", "duplicate"
            ),
            "cluster_size": sizes[~first & ~ordered["indexed"].to_numpy(dtype=bool)]
            .to_numpy()
            .astype(np.int64),
        }
    )
