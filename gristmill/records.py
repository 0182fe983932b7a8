"""Small JSON records beside the shards: fingerprints, atomic writes, file digests.

Used by every stage that leaves markers, manifests or indexes next to its output.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from gristmill.storage import url_to_fs


def fingerprint(value: Any) -> str:
    """sha256 of ``value`` as canonical JSON."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_json(url: str) -> dict[str, Any] | None:
    """The JSON object at ``url``, or None when it is absent or unreadable."""
    fs, path = url_to_fs(url)
    if not fs.exists(path):
        return None
    try:
        with fs.open(path, "r") as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError):
        return None


def write_json(url: str, value: dict[str, Any]) -> None:
    """Write ``value`` to ``url`` atomically (temporary name, then rename)."""
    write_bytes(url, (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def write_bytes(url: str, data: bytes) -> None:
    fs, path = url_to_fs(url)
    fs.makedirs(fs._parent(path), exist_ok=True)
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    with fs.open(tmp, "wb") as handle:
        handle.write(data)
    fs.mv(tmp, path)


def file_sha256(url: str) -> str | None:
    """sha256 of the file at ``url`` (streamed), or None when it is absent."""
    fs, path = url_to_fs(url)
    if not fs.exists(path):
        return None
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        while chunk := handle.read(8 * 2**20):
            digest.update(chunk)
    return digest.hexdigest()


_CONTENT_DIGESTS: dict[tuple[str, int, float], str] = {}


def files_digest(urls: Iterable[str]) -> dict[str, Any]:
    """What the contents of ``urls`` are, for fingerprints: per file, its sha256 (local
    files, cached per process by path, size and modification time) or the store's
    checksum (other filesystems); per folder, the same for every file under it; None for a
    path that does not exist. Globs are expanded."""
    digests: dict[str, Any] = {}
    for url in urls:
        fs, path = url_to_fs(url)
        matches = fs.glob(path) if any(c in path for c in "*?[") else [path]
        for match in matches or [path]:
            if not fs.exists(match):
                digests[match] = None
            elif fs.isdir(match):
                digests[match] = {name: _file_digest(fs, name) for name in sorted(fs.find(match))}
            else:
                digests[match] = _file_digest(fs, match)
    return digests


def _file_digest(fs: Any, path: str) -> str:
    if "file" not in fs.protocol:
        return str(fs.checksum(path))
    info = fs.info(path)
    key = (path, int(info["size"]), float(info.get("mtime", 0)))
    if key not in _CONTENT_DIGESTS:
        _CONTENT_DIGESTS[key] = file_sha256(path) or ""
    return _CONTENT_DIGESTS[key]
