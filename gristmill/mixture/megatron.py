"""Export token shards to Megatron-LM's indexed dataset (``.bin`` + ``.idx``), per source.

For users of Megatron-LM (Shoeybi et al., 2019), which packs and blends by itself: each
source's documents (one epoch, token-shard order, EOS included) become
``out/megatron/<source>_text_document.bin`` — the token ids back to back — and ``.idx``:
the ``MMIDIDX`` header, version 1, the dtype code, the counts, then each document's length
(int32), byte offset (int64) and the document index (int64). The manifest gives the
``--data-path`` argument that reproduces the mixture weights. One Dask task per source.
"""

from __future__ import annotations

import hashlib
import posixpath
import struct
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from gristmill.io.writers import read_marker, write_marker
from gristmill.mixture.arrow_files import map_table
from gristmill.storage import url_to_fs

INDEX_HEADER = b"MMIDIDX\x00\x00"
DTYPE_CODES = {"uint8": 1, "int8": 2, "int16": 3, "int32": 4, "int64": 5, "uint16": 8}
MEGATRON_DIR = "megatron"


@dataclass(frozen=True)
class MegatronTask:
    source: str
    token_urls: tuple[str, ...]
    prefix_url: str
    dtype: str
    fingerprint: str


def export_source(task: MegatronTask) -> dict[str, Any]:
    """Write ``<prefix>.bin`` and ``<prefix>.idx``; returns counts and sha256."""
    marker = read_marker(task.prefix_url + ".idx")
    if marker is not None and marker.get("fingerprint") == task.fingerprint:
        return marker["stats"]
    fs, prefix = url_to_fs(task.prefix_url)
    fs.makedirs(fs._parent(prefix), exist_ok=True)
    suffix = f".tmp-{uuid.uuid4().hex[:12]}"
    lengths: list[np.ndarray] = []
    bin_digest = hashlib.sha256()
    with fs.open(prefix + ".bin" + suffix, "wb") as out:
        for url in task.token_urls:
            column = map_table(url).column("input_ids")
            for chunk in column.chunks:
                offsets = chunk.offsets.to_numpy()
                values = chunk.values.to_numpy()[offsets[0] : offsets[-1]].astype(task.dtype)
                data = values.tobytes()
                out.write(data)
                bin_digest.update(data)
                lengths.append(np.diff(offsets).astype(np.int32))
    sizes = np.concatenate(lengths) if lengths else np.zeros(0, np.int32)
    itemsize = np.dtype(task.dtype).itemsize
    pointers = np.zeros(sizes.size, dtype=np.int64)
    np.cumsum(sizes[:-1].astype(np.int64) * itemsize, out=pointers[1:])
    document_index = np.arange(sizes.size + 1, dtype=np.int64)
    index = b"".join(
        [
            INDEX_HEADER,
            struct.pack("<Q", 1),
            struct.pack("<B", DTYPE_CODES[task.dtype]),
            struct.pack("<Q", sizes.size),
            struct.pack("<Q", document_index.size),
            sizes.tobytes(),
            pointers.tobytes(),
            document_index.tobytes(),
        ]
    )
    with fs.open(prefix + ".idx" + suffix, "wb") as out:
        out.write(index)
    fs.mv(prefix + ".bin" + suffix, prefix + ".bin")
    fs.mv(prefix + ".idx" + suffix, prefix + ".idx")
    record = {
        "source": task.source,
        "documents": int(sizes.size),
        "tokens": int(sizes.sum()),
        "bin_sha256": bin_digest.hexdigest(),
        "idx_sha256": hashlib.sha256(index).hexdigest(),
    }
    write_marker(task.prefix_url + ".idx", {"fingerprint": task.fingerprint, "stats": record})
    return record


def megatron_prefix(output: str, source: str) -> str:
    return posixpath.join(output, MEGATRON_DIR, f"{source}_text_document")


def read_index(path: str) -> dict[str, np.ndarray]:
    """Parse a ``.idx`` file (for checks): sizes, pointers, document index, dtype."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:9] != INDEX_HEADER:
        raise ValueError(f"{path}: not a Megatron indexed dataset index")
    (version,) = struct.unpack_from("<Q", data, 9)
    (code,) = struct.unpack_from("<B", data, 17)
    sequences, documents = struct.unpack_from("<QQ", data, 18)
    offset = 34
    sizes = np.frombuffer(data, np.int32, sequences, offset)
    offset += sizes.nbytes
    pointers = np.frombuffer(data, np.int64, sequences, offset)
    offset += pointers.nbytes
    document_index = np.frombuffer(data, np.int64, documents, offset)
    dtype = {code: name for name, code in DTYPE_CODES.items()}[code]
    return {"version": version, "dtype": dtype, "sizes": sizes, "pointers": pointers,
            "document_index": document_index}  # fmt: skip
