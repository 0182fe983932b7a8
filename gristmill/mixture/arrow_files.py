"""Open Arrow IPC files without copying them, and publish files atomically.

Local files are memory-mapped (the OS pages them in; nothing is copied into the Python
heap); files on other fsspec filesystems are read into one buffer. gristmill writes the
IPC stream format everywhere; the IPC file format (``ARROW1`` magic) is read too.
"""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.ipc as ipc
from fsspec.implementations.local import LocalFileSystem

from gristmill.io.writers import IPC_FILE_MAGIC
from gristmill.storage import open_url, url_to_fs


def local_path(url: str) -> str | None:
    fs, path = url_to_fs(url)
    return path if isinstance(fs, LocalFileSystem) else None


def open_source(url: str) -> pa.NativeFile:
    path = local_path(url)
    if path is not None:
        return pa.memory_map(path, "r")
    with open_url(url, "rb") as handle:
        return pa.BufferReader(handle.read())


def map_table(url: str) -> pa.Table:
    """The whole table at ``url`` (IPC stream or file); zero-copy for local files."""
    source = open_source(url)
    is_file = source.read(len(IPC_FILE_MAGIC)) == IPC_FILE_MAGIC
    source.seek(0)
    reader = ipc.open_file(source) if is_file else ipc.open_stream(source)
    return reader.read_all()


def write_file_atomically(url: str, data: pa.Buffer | bytes) -> None:
    fs, path = url_to_fs(url)
    fs.makedirs(fs._parent(path), exist_ok=True)
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        with fs.open(tmp, "wb") as handle:
            handle.write(memoryview(data))
        fs.mv(tmp, path)
    except BaseException:
        if fs.exists(tmp):
            fs.rm(tmp)
        raise
