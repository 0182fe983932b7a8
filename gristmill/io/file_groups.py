"""Grouping many small files into shards with stable names (books, source trees).

One Dask task per tiny file would drown the scheduler, so files are grouped: under a root
folder, by their first ``group_depth`` path components (a repository, a collection), then,
over each group's sorted file list, into consecutive shards of at most ``max_files`` files
and ``max_bytes`` bytes (a larger file gets a shard of its own). A shard is named
``{group}-{k:05d}`` (``part-{k:05d}`` for the files directly under the root), and lists its
files' paths relative to the root in ``Shard.members``. The same file set always gives the
same shards; adding a file moves only the boundaries of its own group.
"""

from __future__ import annotations

import posixpath

from gristmill.io.base import Shard, shard_name, strip_protocol
from gristmill.storage import url_to_fs

ROOT_GROUP_NAME = "part"
_GLOB_CHARS = "*?["


def input_root(paths: list[str]) -> str:
    """The folder that the configured paths share: names are made relative to it.

    A folder counts as itself, a file as its parent, a glob as the folder before its first
    wildcard; the result is in the same form as ``strip_protocol`` of a listed file url.
    """
    anchors = []
    for path in paths:
        fs, _ = url_to_fs(path)
        stripped = fs._strip_protocol(path)
        wildcard = min((stripped.find(ch) for ch in _GLOB_CHARS if ch in stripped), default=-1)
        if wildcard >= 0:
            anchors.append(posixpath.dirname(stripped[:wildcard]))
        elif fs.isdir(stripped):
            anchors.append(stripped.rstrip("/") or "/")
        else:
            anchors.append(posixpath.dirname(stripped))
    if not anchors:
        return ""
    return anchors[0] if len(anchors) == 1 else posixpath.commonpath(anchors)


def relative_path(url: str, root: str) -> str:
    path = strip_protocol(url)
    return posixpath.relpath(path, root) if root else path.lstrip("/")


def grouped_shards(
    source: str,
    files: list[tuple[str, int]],
    root: str,
    max_files: int,
    max_bytes: int,
    group_depth: int = 1,
) -> list[Shard]:
    """Shards of consecutive files per group (see the module docstring)."""
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for url, size in files:
        relative = relative_path(url, root)
        parts = relative.split("/")
        group = "/".join(parts[:group_depth]) if len(parts) > group_depth else ""
        groups.setdefault(group, []).append((relative, url, size))
    shards = []
    prefixes: set[str] = set()
    for group in sorted(groups):
        prefix = shard_name(group) if group else ROOT_GROUP_NAME
        while prefix in prefixes or (group and prefix == ROOT_GROUP_NAME):
            prefix += "_"  # a folder named like the root group, or two that flatten alike
        prefixes.add(prefix)
        members = sorted(groups[group])
        chunks: list[list[tuple[str, str, int]]] = [[]]
        chunk_bytes = 0
        for member in members:
            size = member[2]
            current = chunks[-1]
            if current and (len(current) >= max_files or chunk_bytes + size > max_bytes):
                chunks.append([])
                chunk_bytes = 0
            chunks[-1].append(member)
            chunk_bytes += size
        for index, chunk in enumerate(chunks):
            if not chunk:
                continue
            shards.append(
                Shard(
                    source=source,
                    name=f"{prefix}-{index:05d}",
                    paths=tuple(url for _, url, _ in chunk),
                    size=sum(size for _, _, size in chunk),
                    root=root,
                    members=tuple(relative for relative, _, _ in chunk),
                )
            )
    return shards
