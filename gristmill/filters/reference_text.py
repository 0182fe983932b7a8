"""Read the text of reference documents for model training (language models, classifiers).

``gristmill lm train`` and ``gristmill classifier train`` learn from the documents of a
source: the kept shards of a finished run (``<run>/data/<source>/``) or plain files.
This module streams document texts out of Arrow IPC and Parquet shards, JSON lines
(optionally gzip/bz2/xz/zstd-compressed; the ``text`` field) and plain ``.txt``/``.md``
files (one document per file), from files, folders (walked recursively) or globs, in a
stable sorted order, so that a sample of the first N documents is reproducible.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from gristmill.io.writers import iter_ipc_batches
from gristmill.storage import open_url

_JSONL = (".jsonl", ".json", ".ndjson")
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst")
_PLAIN = (".txt", ".md")


def run_source_folder(run_dir: str | os.PathLike[str], source: str) -> Path:
    """The folder of documents a run kept for ``source``."""
    folder = Path(run_dir) / "data" / source
    if not folder.is_dir():
        available = sorted(p.name for p in (Path(run_dir) / "data").glob("*") if p.is_dir())
        raise FileNotFoundError(
            f"{folder} does not exist; sources in this run: {', '.join(available) or 'none'}"
        )
    return folder


def document_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Readable document files under ``paths`` (files, folders, globs), sorted."""
    found: set[Path] = set()
    for path in paths:
        text = str(path)
        matches = (
            [Path(m) for m in sorted(glob.glob(text))] if glob.has_magic(text) else [Path(text)]
        )
        if not matches or not all(m.exists() for m in matches):
            raise FileNotFoundError(f"no input matches {text!r}")
        for match in matches:
            candidates = sorted(match.rglob("*")) if match.is_dir() else [match]
            found.update(c for c in candidates if c.is_file() and _readable(c))
    if not found:
        raise FileNotFoundError(f"no document files (.arrow, .parquet, .jsonl, .txt) in {paths}")
    return sorted(found)


def _readable(path: Path) -> bool:
    name = path.name
    if ".tmp-" in name or name.endswith(".done"):
        return False
    for suffix in _COMPRESSED:
        name = name.removesuffix(suffix)
    return name.endswith((".arrow", ".parquet", *_JSONL, *_PLAIN))


def iter_texts(
    paths: Sequence[str | os.PathLike[str]],
    text_field: str = "text",
    max_documents: int | None = None,
) -> Iterator[str]:
    """Texts of the documents under ``paths`` in file order (at most ``max_documents``)."""
    produced = 0
    for path in document_files(paths):
        for text in _texts_of(path, text_field):
            if not text:
                continue
            yield text
            produced += 1
            if max_documents is not None and produced >= max_documents:
                return


def _texts_of(path: Path, text_field: str) -> Iterable[str]:
    name = path.name
    if name.endswith(".arrow"):
        with open(path, "rb") as handle:
            for batch in iter_ipc_batches(handle):
                yield from batch.column(text_field).to_pylist()
    elif name.endswith(".parquet"):
        for batch in pq.ParquetFile(path).iter_batches(columns=[text_field]):
            yield from batch.column(0).to_pylist()
    elif any(name.removesuffix(c).endswith(_JSONL) for c in ("", *_COMPRESSED)):
        with open_url(str(path), "rt", compression="infer", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not valid JSON: {error}") from None
                value = record.get(text_field) if isinstance(record, dict) else None
                if isinstance(value, str):
                    yield value
    else:
        with open_url(
            str(path), "rt", compression="infer", encoding="utf-8", errors="replace"
        ) as handle:
            yield handle.read()
