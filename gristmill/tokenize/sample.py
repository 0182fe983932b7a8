"""The tokenizer's training sample, drawn from the cleaned shards by mixture weight.

Like BLOOM, LLaMA and PaLM, gristmill trains its tokenizer on the corpus it will encode, and
draws the sample per source in proportion to the mixture weights, so the vocabulary
reflects what the model will see (Zhao et al., §4.1.2). Two passes of Dask tasks, one per
shard: :func:`scan_shard` measures bytes and lines; the client turns per-source totals and
weights into a line-keep probability; :func:`sample_shard` keeps each line with that
probability by a seeded hash of (document id, line number) — reproducible whatever the
order or number of workers — and puts a seeded set of held-back documents aside for the
quality report. Documents are streamed, never loaded whole.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from gristmill.io.writers import ShardWriter, read_marker, write_marker
from gristmill.storage import url_to_fs
from gristmill.tokenize.sentences import split_sentences
from gristmill.tokenize.shard_text import iter_text_batches

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_UNIT = float(2**64)
HELD_OUT_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.large_string())])


def splitmix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over uint64 values (a fast, well-mixed seeded hash)."""
    z = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def document_key(seed: int, purpose: str, doc_id: str) -> int:
    return xxhash.xxh3_64_intdigest(f"{purpose}\x00{seed}\x00{doc_id}".encode())


def line_uniforms(seed: int, doc_id: str, count: int) -> np.ndarray:
    """``count`` seeded uniforms in [0, 1) for the lines of one document."""
    base = np.uint64(document_key(seed, "line", doc_id))
    with np.errstate(over="ignore"):
        keys = base + np.arange(1, count + 1, dtype=np.uint64) * _GOLDEN
    return splitmix64(keys) / _UNIT


def scan_shard(url: str) -> dict[str, int]:
    """Documents, text bytes and lines (newlines + 1 per document) of one shard."""
    docs = text_bytes = lines = 0
    for batch in iter_text_batches(url):
        text = batch.column("text")
        docs += batch.num_rows
        text_bytes += int(pc.sum(pc.binary_length(text)).as_py() or 0)
        lines += int(pc.sum(pc.count_substring(text, "\n")).as_py() or 0) + batch.num_rows
    return {"docs": docs, "bytes": text_bytes, "lines": lines}


@dataclass(frozen=True)
class SampleTask:
    """Draw one shard's part of the sample; small enough to ship to a worker."""

    source: str
    data_url: str
    sample_url: str
    held_out_url: str
    line_probability: float
    held_out_probability: float
    seed: int
    max_sentence_bytes: int
    fingerprint: str


def sample_shard(task: SampleTask) -> dict[str, Any]:
    """Write the shard's sampled lines and held-back documents; return their counts."""
    marker = read_marker(task.sample_url)
    if marker is not None and marker.get("fingerprint") == task.fingerprint:
        return marker["stats"]
    fs, path = url_to_fs(task.sample_url)
    fs.makedirs(fs._parent(path), exist_ok=True)
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    held_out = ShardWriter(task.held_out_url, "arrow")
    held_out.write(HELD_OUT_SCHEMA.empty_table())
    stats = {"source": task.source, "lines": 0, "bytes": 0, "held_out_docs": 0, "held_out_bytes": 0}
    threshold = task.held_out_probability * _UNIT
    try:
        with fs.open(tmp, "wb") as out:
            for batch in iter_text_batches(task.data_url):
                kept_ids: list[str] = []
                kept_texts: list[str] = []
                chunks: list[str] = []
                for doc_id, text in zip(
                    batch.column("id").to_pylist(), batch.column("text").to_pylist(), strict=True
                ):
                    if document_key(task.seed, "heldout", doc_id) < threshold:
                        kept_ids.append(doc_id)
                        kept_texts.append(text)
                        continue
                    sentences = split_sentences(text, task.max_sentence_bytes)
                    if not sentences:
                        continue
                    if task.line_probability < 1.0:
                        keep = (
                            line_uniforms(task.seed, doc_id, len(sentences)) < task.line_probability
                        )
                        sentences = [s for s, k in zip(sentences, keep, strict=True) if k]
                    chunks.extend(sentences)
                if chunks:
                    data = ("\n".join(chunks) + "\n").encode("utf-8")
                    out.write(data)
                    stats["lines"] += len(chunks)
                    stats["bytes"] += len(data) - len(chunks)
                if kept_ids:
                    held_out.write(
                        pa.table({"id": kept_ids, "text": kept_texts}, schema=HELD_OUT_SCHEMA)
                    )
                    stats["held_out_docs"] += len(kept_ids)
                    stats["held_out_bytes"] += sum(len(t.encode("utf-8")) for t in kept_texts)
        held_out.close()
        fs.mv(tmp, path)
    except BaseException:
        held_out.abort()
        if fs.exists(tmp):
            fs.rm(tmp)
        raise
    write_marker(task.sample_url, {"fingerprint": task.fingerprint, "stats": stats})
    return stats


def line_probabilities(
    totals: dict[str, dict[str, int]],
    weights: dict[str, float],
    max_bytes: int,
    max_sentences: int | None,
    keep_shares: bool = True,
) -> dict[str, dict[str, Any]]:
    """Per source: its target share and bytes, the line-keep probability that reaches them,
    and a warning when it has less text than its share of ``max_bytes``.

    Shares are the weights normalised over the sources that have text. With
    ``keep_shares`` the sample shrinks until the scarcest source (relative to its share)
    gives everything, so every share holds; otherwise a scarce source gives everything and
    the others their share of ``max_bytes``. ``max_sentences`` caps each source's lines at
    its share of them too.
    """
    with_text = {name for name, counts in totals.items() if counts["bytes"] > 0}
    total_weight = sum(weights.get(name, 0.0) for name in with_text)
    share = {
        name: weights.get(name, 0.0) / total_weight if name in with_text and total_weight else 0.0
        for name in totals
    }
    sample_bytes = float(max_bytes)
    scarce = {
        name: totals[name]["bytes"] / (share[name] * max_bytes)
        for name in totals
        if share[name] > 0 and totals[name]["bytes"] < share[name] * max_bytes
    }
    if keep_shares and scarce:
        sample_bytes = max_bytes * min(scarce.values())
    plan: dict[str, dict[str, Any]] = {}
    for source, counts in totals.items():
        target_bytes = share[source] * sample_bytes
        probability = min(1.0, target_bytes / counts["bytes"]) if counts["bytes"] else 0.0
        if max_sentences is not None and counts["lines"]:
            probability = min(probability, share[source] * max_sentences / counts["lines"])
        warning = ""
        if source in scarce:
            warning = (
                f"tokenizer sample: source {source!r} has {counts['bytes']:,} bytes of text, less "
                f"than its share {share[source]:.4f} of sample.max_bytes ({max_bytes:,}); "
                + (f"the other sources are capped to keep the shares: the sample holds "
                   f"{sample_bytes:,.0f} bytes" if keep_shares else
                   "it gives everything and its share of the sample is smaller")
            )  # fmt: skip
        plan[source] = {
            "share": share[source],
            "target_bytes": target_bytes,
            "probability": probability,
            "warning": warning,
        }
    return plan
