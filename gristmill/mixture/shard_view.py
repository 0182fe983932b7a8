"""Show rows of a mixture shard as a trainer sees them: tokens decoded, source, documents.

For ``gristmill inspect out/shards/part-00000.arrow`` (or ``out/shards/``): each row's
index in the stream, its source, its tokens (and padding), the documents it holds, and
its text decoded with the run's tokenizer, documents separated by ``┃``. The caller passes
the decoder (the CLI builds it from the manifest's tokenizer), so this module does not
depend on the tokenizer package.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

import numpy as np
from rich.console import Group
from rich.table import Table

from gristmill.mixture.arrow_files import map_table
from gristmill.mixture.manifest import MANIFEST_FILE, SHARDS_DIR, load_manifest

DOCUMENT_SEPARATOR = " ┃ "


def shard_manifest(path: str) -> tuple[dict, str, str] | None:
    """(manifest, output folder, shard path relative to it) when ``path`` is a mixture shard
    or the shards folder (then its first shard) of an output folder with a manifest."""
    path = path.rstrip("/")
    folder = path if posixpath.basename(path) == SHARDS_DIR else posixpath.dirname(path)
    if posixpath.basename(folder) != SHARDS_DIR:
        return None
    root = posixpath.dirname(folder)
    try:
        manifest, _ = load_manifest(posixpath.join(root, MANIFEST_FILE))
    except (FileNotFoundError, ValueError):
        return None
    listed = [shard["path"] for shard in manifest["shards"]]
    relative = posixpath.relpath(path, root) if path != folder else (listed or [None])[0]
    if relative not in listed:
        return None
    return manifest, root, relative


def describe_rows(
    manifest: dict, root: str, shard: str, rows: int, decode: Callable[[list[int]], str] | None
) -> Group:
    """The first ``rows`` rows of ``shard`` (relative to ``root``), decoded when possible."""
    entry = next(item for item in manifest["shards"] if item["path"] == shard)
    first_row = 0
    for item in manifest["shards"]:
        if item["path"] == shard:
            break
        first_row += item["rows"]
    table = map_table(posixpath.join(root, shard)).slice(0, rows)
    length = manifest["row_length"]
    ids = table.column("input_ids").combine_chunks().flatten().to_numpy().reshape(-1, length)
    starts = (
        table.column("doc_start")
        .combine_chunks()
        .flatten()
        .to_numpy(zero_copy_only=False)
        .reshape(-1, length)
    )
    num_tokens = table.column("num_tokens").to_numpy()
    sources = table.column("source").to_numpy()
    head = Table(
        title=f"{shard}: {entry['rows']:,} rows of {length} tokens ({manifest['dtype']}), "
        f"rows {first_row:,}–{first_row + entry['rows'] - 1:,} of the stream",
        show_lines=True,
    )
    for column in ("row", "source", "tokens", "docs", "text" if decode else "token ids"):
        head.add_column(column, overflow="fold")
    for index in range(ids.shape[0]):
        valid = int(num_tokens[index])
        cuts = np.nonzero(starts[index, :valid])[0].tolist() + [valid]
        segments = [ids[index, a:b].tolist() for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        if decode is not None:
            shown = DOCUMENT_SEPARATOR.join(decode(segment) for segment in segments)
        else:
            shown = DOCUMENT_SEPARATOR.join(" ".join(map(str, s)) for s in segments)
        if len(shown) > 600:
            shown = shown[:600] + " …"
        padding = length - valid
        head.add_row(
            f"{first_row + index:,}",
            manifest["sources"][int(sources[index])],
            f"{valid:,}" + (f" + {padding:,} pad" if padding else ""),
            f"{len(segments)}",
            shown,
        )
    return Group(head)
