"""Small JSON records beside the shards: fingerprints, atomic writes, file digests.

Used by every stage that leaves markers, manifests or indexes next to its output.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from fsspec.core import url_to_fs


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
