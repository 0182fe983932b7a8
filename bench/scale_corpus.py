"""A corpus of millions of short documents made from real text, with planted duplicates.

Used by ``bench/scale.py``. The words come from the shared corpora (Project Gutenberg novels,
the dolma CommonCrawl sample, the 75-language lingua sentences), read once into one stream
of word ids. Every document is specified by a few numbers drawn up front, and its words are
a pure function of its number, so a document can be rebuilt when a later one copies it:

- **fresh** (85%): a window of 100–300 words of the stream at a random offset, a third of
  its words replaced by words drawn from the stream (so two windows of the same text, or of
  the near-identical Gutenberg ``105.txt`` / ``106.txt``, share only about 2% of their word
  5-grams);
- **exact** (5%): an earlier document again, with only whitespace changed (a doubled
  space, or a trailing newline): equal after ``exact_dedup``'s normalisation;
- **near** (10%): an earlier document with 0.5–2% of its words replaced (word 5-gram
  Jaccard about 0.95 down to 0.82).

Earlier documents are drawn from the whole corpus so far, so duplicates cross shards, and
copies of copies make clusters. The planted parent of every document is saved beside the
shards (``truth.npz``), to score the dedup's recall and precision.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FRESH, EXACT, NEAR = 0, 1, 2
SHARE_EXACT, SHARE_NEAR = 0.05, 0.10
MIN_WORDS, MAX_WORDS = 100, 300
STREAM_WORDS = 6_000_000


def word_stream() -> tuple[np.ndarray, np.ndarray]:
    """``(vocabulary, stream)``: the distinct words (object array) and the word ids of the
    concatenated texts."""
    words: list[str] = []
    for path in sorted((SHARED / "books" / "gutenberg").glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        start, end = text.find("*** START OF"), text.find("*** END OF")
        words.extend(text[start if start >= 0 else 0 : end if end > 0 else None].split()[50:])
    dolma = SHARED / "web" / "jsonl" / "dolma"
    with gzip.open(next(dolma.glob("*.jsonl.gz")), "rt", encoding="utf-8") as handle:
        for line in handle:
            words.extend(json.loads(line)["text"].split())
    with (SHARED / "multilingual" / "lingua" / "sentences.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            words.extend(json.loads(line)["text"].split())
    vocabulary, stream = np.unique(np.array(words[:STREAM_WORDS], dtype=object), return_inverse=True)
    return vocabulary, stream.astype(np.int32)


def _mix(document: int, positions: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic 64-bit values per (document, position, salt) (a splitmix64 finaliser)."""
    with np.errstate(over="ignore"):
        x = np.uint64(document * 0x9E3779B97F4A7C15 % 2**64) ^ (
            positions.astype(np.uint64) + np.uint64(salt << 40)
        )
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


class CorpusSpec:
    """The numbers that define every document (see the module)."""

    def __init__(self, documents: int, stream: np.ndarray, seed: int = 17) -> None:
        rng = np.random.default_rng(seed)
        draw = rng.random(documents)
        self.kind = np.where(
            draw < SHARE_EXACT, EXACT, np.where(draw < SHARE_EXACT + SHARE_NEAR, NEAR, FRESH)
        ).astype(np.int8)
        self.kind[0] = FRESH
        self.parent = np.floor(rng.random(documents) * np.arange(documents)).astype(np.int64)
        self.parent[self.kind == FRESH] = -1
        self.length = rng.integers(MIN_WORDS, MAX_WORDS + 1, documents).astype(np.int32)
        self.offset = rng.integers(0, len(stream) - MAX_WORDS, documents).astype(np.int64)
        self.edit_rate = rng.uniform(0.005, 0.02, documents)
        self.stream = stream

    @lru_cache(maxsize=50_000)  # noqa: B019 - one spec per process, parents are reused
    def words(self, document: int) -> np.ndarray:
        """The word ids of a document (a pure function of its number)."""
        kind, stream = self.kind[document], self.stream
        if kind == EXACT:
            return self.words(int(self.parent[document]))
        if kind == NEAR:
            ids = self.words(int(self.parent[document])).copy()
            edits = np.arange(max(1, round(len(ids) * self.edit_rate[document])))
            positions = _mix(document, edits, 3) % np.uint64(len(ids))
            ids[positions.astype(np.int64)] = stream[
                (_mix(document, edits, 4) % np.uint64(len(stream))).astype(np.int64)
            ]
            return ids
        start = int(self.offset[document])
        ids = stream[start : start + int(self.length[document])].copy()
        positions = np.arange(len(ids))
        replaced = _mix(document, positions, 1) % np.uint64(3) == 0
        ids[replaced] = stream[
            (_mix(document, positions[replaced], 2) % np.uint64(len(stream))).astype(np.int64)
        ]
        return ids

    def text(self, document: int, vocabulary: np.ndarray) -> str:
        text = " ".join(vocabulary[self.words(document)].tolist())
        if self.kind[document] == EXACT:
            variant = document % 3
            if variant == 1:
                text = text.replace(" ", "  ", 1)
            elif variant == 2:
                text += "\n"
        return text


def shard_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def build_corpus(folder: Path, documents: int, docs_per_shard: int) -> Path:
    """Write (once) ``documents`` documents as Parquet shards of ``docs_per_shard`` rows,
    and ``truth.npz``; returns the folder of the shards."""
    done = folder / "truth.npz"
    if done.exists():
        return folder / "shards"
    vocabulary, stream = word_stream()
    spec = CorpusSpec(documents, stream)
    shards = folder / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    for number, first in enumerate(range(0, documents, docs_per_shard)):
        last = min(documents, first + docs_per_shard)
        texts = [spec.text(document, vocabulary) for document in range(first, last)]
        pq.write_table(
            pa.table({"text": pa.array(texts, pa.string())}),
            shards / shard_name(number),
            compression="zstd",
        )
    np.savez(
        folder / "truth.tmp.npz", kind=spec.kind, parent=spec.parent,
        docs_per_shard=np.int64(docs_per_shard),
    )  # fmt: skip
    (folder / "truth.tmp.npz").rename(done)
    return shards


def load_truth(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "truth.npz") as data:
        return {key: data[key] for key in data.files}
