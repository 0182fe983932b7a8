"""Connected components of duplicate edges, and the document each component keeps.

Near-duplicate clusters are the connected components of the graph whose edges are the
verified candidate pairs (transitive closure, as in datatrove's and NeMo Curator's fuzzy
dedup), found with SciPy's ``csgraph.connected_components`` over the nodes that have an
edge. Per component one document is kept by the deterministic rule of DESIGN.md: a
document of the dataset index first (it is already published), then the highest source
priority, then the smallest id; the others are dropped as its duplicates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def connected_components(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(nodes, labels)``: the sorted distinct nodes of the edges and their component."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_components

    nodes, positions = np.unique(np.concatenate([left, right]), return_inverse=True)
    if len(nodes) == 0:
        return nodes, np.empty(0, dtype=np.int64)
    edges = len(left)
    graph = coo_matrix(
        (np.ones(edges, dtype=np.int8), (positions[:edges], positions[edges:])),
        shape=(len(nodes), len(nodes)),
    ).tocsr()
    _, labels = scipy_components(graph, directed=False)
    return nodes, labels.astype(np.int64)


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
