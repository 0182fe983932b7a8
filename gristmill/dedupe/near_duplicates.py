"""Resolve MinHash near-duplicates on the Dask cluster, in bounded memory.

The resolve phase of :class:`~gristmill.dedupe.minhash.MinHashDedup`, following the LSH
dedup of datatrove and NeMo Curator but on CPU Dask collections:

1. **Buckets.** Every document's band keys become rows ``(bucket, content, node)``; a
   ``dask.dataframe`` shuffle range-partitions them by the key's leading bits, so every
   bucket lies in one partition. Each partition links the members of its buckets to a
   centre (:func:`~gristmill.dedupe.lsh.star_edges`), reading the same key range of the
   dataset index, if any.
2. **Verification** (optional). Candidate edges are shuffled to the files of their two
   ends, which read those rows' signatures; pairs whose signatures agree on fewer than
   ``min_jaccard`` of their positions are discarded (LSH false positives), and so are pairs
   whose smaller shingle count is under ``min_size_ratio`` of the larger one.
3. **Components.** Only the verified edges (two int64 per edge) are gathered on the
   client, for SciPy's connected components.
4. **Drop list.** Component labels go back to the cluster, meet the ids and source
   priorities of their documents in the documents' own files, and each component keeps
   one document (:func:`~gristmill.dedupe.components.choose_kept`); the others are
   written as a drop list partitioned by shard.

No step holds all documents, signatures or bucket rows in one process: the client holds
the duplicate edges, each task one partition of bucket rows or one group of files.

A run whose bucket rows fit one partition (at most :data:`ROWS_PER_PARTITION`: 62,500
documents at 16 bands) and has no dataset index is resolved by the same functions in one
task instead (:func:`_resolve_in_one_task`): with one partition, the collections add
nothing but ``dask.dataframe`` (about 0.7 CPU s to import, in the client and a worker)
and the shuffles' start-up.
"""

from __future__ import annotations

import math
import posixpath
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from gristmill.dedupe.dedup_index import (
    DOCUMENTS_DIR,
    REDUNDANT_FILE,
    DedupIndex,
    IndexPart,
    part_key,
    range_file_name,
    read_key_range,
    write_parquet,
)
from gristmill.dedupe.drop_list import load_drop_table, write_drop_list, write_drop_table
from gristmill.dedupe.signature_files import (
    ROW_BITS,
    SignatureFile,
    file_group_divisions,
    list_matrix,
    node_keys,
    read_columns,
    row_count,
    rows_of,
)

if TYPE_CHECKING:
    import pandas as pd

# pandas and the compiled kernels (lsh, components) are imported in the functions that use
# them: the client of a small run only submits the one-task resolve and loads neither.

#: Bucket rows per partition of the shuffle (about 30 MB of pandas each).
ROWS_PER_PARTITION = 1_000_000
#: Signature files per partition of the signature look-ups.
FILES_PER_GROUP = 16
MAX_PARTITION_BITS = 12


@dataclass(frozen=True)
class ResolveSettings:
    """What the resolve needs of the step's parameters."""

    bands: int
    num_perm: int
    min_jaccard: float | None
    min_size_ratio: float | None = None


@cache
def _metas() -> dict[str, pd.DataFrame]:
    """The empty frames that give the collections their columns and dtypes."""
    import pandas as pd

    def frame(columns: dict[str, str]) -> pd.DataFrame:
        return pd.DataFrame({name: pd.Series([], dtype=kind) for name, kind in columns.items()})

    return {
        "edge": frame({"centre": "int64", "member": "int64"}),
        "band": frame({"part": "int64", "bucket": "uint64", "content": "uint64", "node": "int64"}),
        "member": frame(
            {"component": "int64", "id": "string", "priority": "int64", "indexed": "bool",
             "shard": "string", "display_id": "string"}
        ),
        "drop": frame(
            {"id": "string", "shard": "string", "duplicate_of": "string", "reason": "string",
             "cluster_size": "int64"}
        ),
    }  # fmt: skip


#: From this many documents on, the resolve's shuffles are peer to peer (disk-backed, so a
#: worker's memory stays bounded) rather than task-based (no per-shuffle start-up, less
#: CPU). Measured by ``bench/scale.py`` (2 workers, 2.5 GiB limit): the task-based resolve
#: took 16% less CPU at 250k documents and 21% less at 1M, for a higher worker peak at 1M
#: (835 against 632 MiB) — so tasks up to 1M, as ``exact_dedup`` does (docs/scale.md).
P2P_SHUFFLE_DOCUMENTS = 1_000_000


def partition_bits(band_rows: int) -> int:
    """Leading key bits to range-partition ``band_rows`` rows into partitions of about
    :data:`ROWS_PER_PARTITION` rows (a power of two, at most ``2**12``)."""
    wanted = max(1, math.ceil(band_rows / ROWS_PER_PARTITION))
    return min(MAX_PARTITION_BITS, math.ceil(math.log2(wanted)))


def _band_rows(file: SignatureFile, bits: int) -> pd.DataFrame:
    import pandas as pd

    table = read_columns(file.path, ["shingles", "content", "bands"])
    if table is None:
        return _metas()["band"].copy()
    present = table.column("shingles").to_numpy() > 0
    bands = list_matrix(table.column("bands"))[present]
    width = bands.shape[1]
    buckets = bands.reshape(-1)
    return pd.DataFrame(
        {
            "part": (buckets >> np.uint64(64 - bits)).astype(np.int64)
            if bits
            else np.zeros(len(buckets), dtype=np.int64),
            "bucket": buckets,
            "content": np.repeat(table.column("content").to_numpy()[present], width),
            "node": np.repeat(node_keys(file.number, table.num_rows)[present], width),
        }
    )


def _partition_edges(
    frame: pd.DataFrame,
    index_parts: list[tuple[IndexPart, int]],
    bits: int,
    staging: str | None,
) -> pd.DataFrame:
    """Star edges of the buckets of one key range, against the index's same range."""
    import pandas as pd

    from gristmill.dedupe.lsh import star_edges

    if frame.empty:
        return _metas()["edge"].copy()
    prefix = int(frame.index[0])
    buckets = frame["bucket"].to_numpy(dtype=np.uint64)
    content = frame["content"].to_numpy(dtype=np.uint64)
    nodes = frame["node"].to_numpy(dtype=np.int64)
    if staging is not None:
        order = np.argsort(buckets, kind="stable")
        write_parquet(
            pa.table({"bucket": buckets[order], "content": content[order], "doc": nodes[order]}),
            posixpath.join(staging, range_file_name(bits, prefix)),
        )
    indexed = np.zeros(len(buckets), dtype=bool)
    all_buckets, all_content, all_nodes, all_indexed = [buckets], [content], [nodes], [indexed]
    for part, first_file in index_parts:
        paths = part.files_overlapping(bits, prefix)
        if not paths:
            continue
        rows = read_key_range(paths, "bucket", bits, prefix, ["bucket", "content", "doc"])
        docs = rows.column("doc").to_numpy()
        useful = _not_redundant(part, docs)
        all_buckets.append(rows.column("bucket").to_numpy()[useful])
        all_content.append(rows.column("content").to_numpy()[useful])
        all_nodes.append(docs[useful] + (np.int64(first_file) << ROW_BITS))
        all_indexed.append(np.ones(int(useful.sum()), dtype=bool))
    centres, members = star_edges(
        np.concatenate(all_buckets),
        np.concatenate(all_indexed),
        np.concatenate(all_content),
        np.concatenate(all_nodes),
    )
    edges = pd.DataFrame({"centre": centres, "member": members})
    return edges.drop_duplicates(ignore_index=True)


def _not_redundant(part: IndexPart, docs: np.ndarray) -> np.ndarray:
    """Mask of the index rows to use: not those its run dropped against an older part."""
    if part.redundant is None:
        return np.ones(len(docs), dtype=bool)
    redundant = read_columns(part.redundant, ["doc"])
    if redundant is None:
        return np.ones(len(docs), dtype=bool)
    return ~np.isin(docs, redundant.column("doc").to_numpy())


def _signature_columns(num_perm: int) -> list[str]:
    return [f"s{position}" for position in range(num_perm)]


def _with_centre_signatures(
    frame: pd.DataFrame, files: list[SignatureFile], num_perm: int
) -> pd.DataFrame:
    """Edges of one group of centre files, deduplicated, with the centre's signature and
    shingle count."""
    import pandas as pd

    edges = frame.reset_index().drop_duplicates(ignore_index=True)
    columns = _signature_columns(num_perm)
    if edges.empty:
        return pd.DataFrame(
            {"centre": [], "member": [], "centre_shingles": [], **{c: [] for c in columns}}
        ).astype(
            {
                "centre": "int64",
                "member": "int64",
                "centre_shingles": "int64",
                **{c: "uint32" for c in columns},
            }
        )
    rows = rows_of(files, edges["centre"].to_numpy(), ["signature", "shingles"])
    return pd.concat(
        [
            edges[["centre", "member"]],
            pd.DataFrame({"centre_shingles": rows["shingles"].astype(np.int64)}),
            pd.DataFrame(rows["signature"], columns=columns),
        ],
        axis=1,
    )


def _verified(
    frame: pd.DataFrame,
    files: list[SignatureFile],
    num_perm: int,
    min_jaccard: float | None,
    min_size_ratio: float | None,
) -> pd.DataFrame:
    """The edges of one group of member files whose signatures agree enough and whose
    shingle counts are close enough."""
    import pandas as pd

    if frame.empty:
        return _metas()["edge"].copy()
    members = frame.index.to_numpy(dtype=np.int64)
    rows = rows_of(files, members, ["signature", "shingles"])
    keep = np.ones(len(members), dtype=bool)
    if min_jaccard is not None:
        centre = frame[_signature_columns(num_perm)].to_numpy(dtype=np.uint32)
        similarity = np.count_nonzero(centre == rows["signature"], axis=1) / num_perm
        keep &= similarity >= min_jaccard
    if min_size_ratio is not None:
        member_size = rows["shingles"].astype(np.float64)
        centre_size = frame["centre_shingles"].to_numpy(dtype=np.float64)
        smaller = np.minimum(member_size, centre_size)
        larger = np.maximum(np.maximum(member_size, centre_size), 1.0)
        keep &= smaller / larger >= min_size_ratio
    return pd.DataFrame(
        {"centre": frame["centre"].to_numpy(dtype=np.int64)[keep], "member": members[keep]}
    )


def _with_documents(
    frame: pd.DataFrame, files: list[SignatureFile], first_indexed: int
) -> pd.DataFrame:
    """Component members of one group of files, with their ids and priorities."""
    import pandas as pd

    members = frame.reset_index()
    if members.empty:
        return _metas()["member"].copy()
    nodes = members["node"].to_numpy()
    indexed = (nodes >> ROW_BITS) >= first_indexed
    parts = []
    for flag, columns in (
        (False, ["id", "priority", "shard"]),
        (True, ["id", "priority", "duplicate_of"]),
    ):
        chosen = indexed == flag
        if not chosen.any():
            continue
        rows = rows_of(files, nodes[chosen], columns)
        ids = rows["id"]
        display = rows["duplicate_of"] if flag else ids
        display = np.where(pd.isna(display), ids, display)
        parts.append(
            pd.DataFrame(
                {
                    "component": members["component"].to_numpy()[chosen],
                    "id": ids,
                    "priority": rows["priority"].astype(np.int64),
                    "indexed": flag,
                    "shard": rows["shard"] if not flag else "",
                    "display_id": display,
                }
            )
        )
    return pd.concat(parts, ignore_index=True).astype(_metas()["member"].dtypes.to_dict())


def cluster_size_counts(labels: np.ndarray) -> dict[str, int]:
    """How many clusters have 2, 3, ... documents (the report's cluster-size table)."""
    if not len(labels):
        return {}
    sizes, clusters = np.unique(np.bincount(labels), return_counts=True)
    return {str(int(size)): int(count) for size, count in zip(sizes, clusters, strict=True)}


def _drops_of_components(frame: pd.DataFrame) -> pd.DataFrame:
    from gristmill.dedupe.components import choose_kept

    if frame.empty:
        return _metas()["drop"].copy()
    return choose_kept(frame).astype(_metas()["drop"].dtypes.to_dict())


def _write_index_documents(
    file: SignatureFile, target: str, resolution_dir: str, num_perm: int
) -> np.ndarray:
    """A run signature file as an index documents file, with each dropped row's kept twin;
    returns the nodes of the rows dropped against the index (redundant in the new part)."""
    columns = ["id", "content", "signature", "shingles", "priority", "shard"]
    table = read_columns(file.path, columns)
    if table is None:
        schema = pa.schema(
            [
                ("id", pa.string()),
                ("content", pa.uint64()),
                ("shingles", pa.int32()),
                ("signature", pa.list_(pa.uint32(), num_perm)),
                ("priority", pa.int32()),
                ("duplicate_of", pa.string()),
            ]
        )
        write_parquet(schema.empty_table(), target)
        return np.empty(0, dtype=np.int64)
    shard = table.column("shard")[0].as_py()
    drops = load_drop_table(resolution_dir, shard, bucket_is_hashed=True)
    twin_of = dict(zip(drops["id"], drops["duplicate_of"], strict=True)) if drops else {}
    reason_of = dict(zip(drops["id"], drops["reason"], strict=True)) if drops else {}
    ids = table.column("id").to_pylist()
    twins = pa.array([twin_of.get(i) for i in ids], pa.string())
    write_parquet(table.drop_columns(["shard"]).append_column("duplicate_of", twins), target)
    redundant = [row for row, i in enumerate(ids) if reason_of.get(i) == "duplicate_of_index"]
    return node_keys(file.number, table.num_rows)[redundant]


def resolve_near_duplicates(
    settings: ResolveSettings,
    signature_paths: list[str],
    resolution_dir: str,
    index: DedupIndex | None = None,
    update_index: bool = False,
) -> dict[str, Any]:
    """Run the four phases (see the module) and write the drop list; returns counts."""

    run_files = [
        SignatureFile(path, number) for number, path in enumerate(sorted(set(signature_paths)))
    ]
    files = list(run_files)
    own_key = part_key(resolution_dir)
    index_parts: list[tuple[IndexPart, int]] = []
    if index is not None and index.check(create=update_index):
        for part in index.parts(exclude=own_key):
            index_parts.append((part, len(files)))
            files.extend(
                SignatureFile(path, len(files) + offset, indexed=True)
                for offset, path in enumerate(part.documents)
            )
    documents_in_run = sum(row_count(file.path) for file in run_files)
    documents = documents_in_run + sum(row_count(file.path) for file in files[len(run_files) :])
    bits = partition_bits(documents * settings.bands)
    staging = index.staging(own_key) if index is not None and update_index else None
    try:
        return _run_phases(
            settings, run_files, files, index_parts, bits, documents, documents_in_run,
            resolution_dir, index, staging, own_key,
        )  # fmt: skip
    except BaseException:
        if index is not None and staging is not None:
            index.discard(staging)
        raise


def _run_phases(
    settings: ResolveSettings,
    run_files: list[SignatureFile],
    files: list[SignatureFile],
    index_parts: list[tuple[IndexPart, int]],
    bits: int,
    documents: int,
    documents_in_run: int,
    resolution_dir: str,
    index: DedupIndex | None,
    staging: str | None,
    own_key: str,
) -> dict[str, Any]:
    """The four phases, then the index part (see :func:`resolve_near_duplicates`)."""
    import dask

    if bits == 0 and not index_parts and staging is None:
        resolved = dask.delayed(_resolve_in_one_task, pure=False)(
            settings, run_files, bits, resolution_dir
        )
        return dask.compute(resolved)[0] | {"documents": int(documents), "partitions": 1 << bits}
    import dask.dataframe as dd
    import pandas as pd

    from gristmill.dedupe.components import connected_components

    bucket_rows = dd.from_map(_band_rows, run_files, bits=bits, meta=_metas()["band"])
    by_range = bucket_rows.set_index("part", divisions=list(range((1 << bits) + 1)))
    edges = by_range.map_partitions(
        _partition_edges, dask.delayed(index_parts, pure=True), bits, staging, meta=_metas()["edge"]
    )
    divisions = file_group_divisions(len(files), FILES_PER_GROUP)
    files_shared = dask.delayed(files, pure=True)
    if settings.min_jaccard is not None or settings.min_size_ratio is not None:
        signature_meta = pd.DataFrame(
            {
                "centre": pd.Series([], dtype="int64"),
                "member": pd.Series([], dtype="int64"),
                "centre_shingles": pd.Series([], dtype="int64"),
            }
            | {c: pd.Series([], dtype="uint32") for c in _signature_columns(settings.num_perm)}
        )
        with_centre = edges.set_index("centre", divisions=divisions).map_partitions(
            _with_centre_signatures, files_shared, settings.num_perm, meta=signature_meta
        )
        edges = with_centre.set_index("member", divisions=divisions).map_partitions(
            _verified,
            files_shared,
            settings.num_perm,
            settings.min_jaccard,
            settings.min_size_ratio,
            meta=_metas()["edge"],
        )
    # the task-based shuffle starts faster; the peer-to-peer one bounds memory at scale
    shuffle = {"dataframe.shuffle.method": "tasks" if documents < P2P_SHUFFLE_DOCUMENTS else "p2p"}
    with dask.config.set(shuffle):
        gathered = edges.compute()
    edge_count = len(gathered)
    centre_nodes = gathered["centre"].to_numpy(dtype=np.int64)
    member_nodes = gathered["member"].to_numpy(dtype=np.int64)
    del gathered  # the client's one big step: hold the edges no longer than needed
    nodes, labels = connected_components(centre_nodes, member_nodes)
    del centre_nodes, member_nodes
    summary: dict[str, Any] = {
        "documents": int(documents),
        "index_parts": len(index_parts),
        "partitions": 1 << bits,
        "duplicate_edges": int(edge_count),
        "components": int(labels.max() + 1) if len(labels) else 0,
        "cluster_sizes": cluster_size_counts(labels),
        "dropped": 0,
        "dropped_against_index": 0,
    }
    if len(nodes):
        members = pd.DataFrame({"node": nodes, "component": labels})
        member_frame = dd.from_pandas(
            members, npartitions=max(1, len(members) // 1_000_000), sort=False
        )
        documents_of_members = member_frame.set_index("node", divisions=divisions).map_partitions(
            _with_documents, files_shared, len(run_files), meta=_metas()["member"]
        )
        drops = documents_of_members.shuffle(on="component").map_partitions(
            _drops_of_components, meta=_metas()["drop"]
        )
        with dask.config.set(shuffle):
            _, reasons = dask.compute(
                write_drop_list(drops, resolution_dir), drops["reason"].value_counts()
            )
        counts = {str(k): int(v) for k, v in reasons.items()}
        summary["dropped"] = sum(counts.values())
        summary["dropped_against_index"] = counts.get("duplicate_of_index", 0)
    if staging is not None:
        assert index is not None
        redundant = dask.compute(
            *[
                dask.delayed(_write_index_documents)(
                    file,
                    posixpath.join(staging, DOCUMENTS_DIR, f"{file.number:06d}.parquet"),
                    resolution_dir,
                    settings.num_perm,
                )
                for file in run_files
            ]
        )
        redundant_nodes = np.sort(np.concatenate([np.empty(0, np.int64), *redundant]))
        write_parquet(pa.table({"doc": redundant_nodes}), posixpath.join(staging, REDUNDANT_FILE))
        index.publish(staging, own_key)
        summary["indexed_documents"] = int(documents_in_run - len(redundant_nodes))
    return summary


def _resolve_in_one_task(
    settings: ResolveSettings, files: list[SignatureFile], bits: int, resolution_dir: str
) -> dict[str, Any]:
    """The four phases over all of a small run's signature files at once (see the module),
    with the drop list written by this task; returns the summary counts."""
    import pandas as pd

    from gristmill.dedupe.components import connected_components
    from gristmill.dedupe.lsh import star_edges

    rows = pd.concat(
        [_metas()["band"], *(_band_rows(file, bits) for file in files)], ignore_index=True
    )
    buckets = rows["bucket"].to_numpy(dtype=np.uint64)
    centres, members = star_edges(
        buckets,
        np.zeros(len(buckets), dtype=bool),
        rows["content"].to_numpy(dtype=np.uint64),
        rows["node"].to_numpy(dtype=np.int64),
    )
    del rows, buckets
    edges = pd.DataFrame({"centre": centres, "member": members}).drop_duplicates(ignore_index=True)
    if len(edges) and (settings.min_jaccard is not None or settings.min_size_ratio is not None):
        with_centre = _with_centre_signatures(edges.set_index("centre"), files, settings.num_perm)
        edges = _verified(
            with_centre.set_index("member"),
            files,
            settings.num_perm,
            settings.min_jaccard,
            settings.min_size_ratio,
        )
    nodes, labels = connected_components(
        edges["centre"].to_numpy(dtype=np.int64), edges["member"].to_numpy(dtype=np.int64)
    )
    summary: dict[str, Any] = {
        "index_parts": 0,
        "duplicate_edges": int(len(edges)),
        "components": int(labels.max() + 1) if len(labels) else 0,
        "cluster_sizes": cluster_size_counts(labels),
        "dropped": 0,
        "dropped_against_index": 0,
    }
    if len(nodes):
        members_frame = pd.DataFrame({"component": labels}, index=pd.Index(nodes, name="node"))
        drops = _drops_of_components(_with_documents(members_frame, files, len(files)))
        write_drop_table(drops, resolution_dir)
        summary["dropped"] = int(len(drops))
        summary["dropped_against_index"] = int((drops["reason"] == "duplicate_of_index").sum())
    return summary
