"""The tokenizer stage of a run: sample → train (one task) → encode (a task per shard).

Called by the runner after the document phases with the final shards of every source
(``run_tokenizer_stage``), or alone by ``gristmill tokenizer train``. Each part resumes:
training is skipped when ``out/tokenizer/training.json`` carries the same fingerprint
(parameters, weights, and the fingerprints of the input shards), and a token shard is
skipped when its ``.done`` marker matches (tokenizer sha256 + input shard + options).
The summary returned is recorded in ``run.json`` under ``tokenizer``.
"""

from __future__ import annotations

import posixpath
import time
import warnings
from typing import Any

import numpy as np

from gristmill import __version__
from gristmill.io.writers import read_marker
from gristmill.records import file_sha256, fingerprint, read_json, write_json
from gristmill.tokenize.config import TokenizerConfig, TokenizerTrainingError
from gristmill.tokenize.encode import EncodeTask, encode_shard, used_ids
from gristmill.tokenize.layout import (
    TOKEN_INDEX_FILE,
    TRAINING_FILE,
    held_out_url,
    model_url,
    sample_url,
    token_url,
)
from gristmill.tokenize.sample import SampleTask, line_probabilities, sample_shard, scan_shard
from gristmill.tokenize.train import TRAINING_ERROR_KEY, TrainTask, train_tokenizer
from gristmill.tokenize.weights import sample_weights, weights_spec


def run_tokenizer_stage(
    config: Any, client: Any, data_files: dict[str, list[str]], resume: bool = True
) -> dict[str, Any]:
    """Train (or reuse) the tokenizer and encode every final shard; returns the summary."""
    settings: TokenizerConfig = config.tokenizer
    training = train_stage(config, client, data_files, resume)
    summary: dict[str, Any] = {"training": training}
    if settings.encode:
        summary["encoding"] = encode_stage(config, client, data_files, training, resume)
    return summary


def input_fingerprints(data_files: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """The completion-marker fingerprint of every input shard (the data's identity)."""
    found: dict[str, dict[str, str]] = {}
    for source, urls in data_files.items():
        found[source] = {}
        for url in urls:
            marker = read_marker(url)
            if marker is None:
                raise FileNotFoundError(
                    f"{url}: the shard is missing or incomplete (no .done marker); "
                    "run the pipeline before the tokenizer"
                )
            found[source][url] = marker["fingerprint"]
    return found


def train_stage(
    config: Any, client: Any, data_files: dict[str, list[str]], resume: bool
) -> dict[str, Any]:
    """Draw the sample and train, unless ``training.json`` already matches."""
    settings: TokenizerConfig = config.tokenizer
    inputs = input_fingerprints(data_files)
    training_fingerprint = fingerprint(
        {
            "version": __version__,
            "params": settings.training_params(),
            "weights": weights_spec(config),
            "inputs": {source: sorted(shards.values()) for source, shards in inputs.items()},
        }
    )
    record_url = posixpath.join(config.output, TRAINING_FILE)
    previous = read_json(record_url)
    if (
        resume
        and previous
        and previous.get("fingerprint") == training_fingerprint
        and _model_intact(config.output, previous)
    ):
        return {**previous, "resumed": True}

    started = time.perf_counter()
    tasks, sampled, drawn = draw_sample(config, client, data_files, inputs, training_fingerprint)
    sample_s = time.perf_counter() - started
    if not drawn["lines"]:
        raise ValueError(
            f"{config.source_file}: tokenizer: the training sample is empty (no text left in "
            f"the sources {sorted(data_files)})"
        )
    train_task = TrainTask(
        config=settings,
        sample_urls=tuple(t.sample_url for t, s in zip(tasks, sampled, strict=True) if s["lines"]),
        held_out=tuple(
            (t.source, t.held_out_url)
            for t, s in zip(tasks, sampled, strict=True)
            if s["held_out_docs"]
        ),
        output=config.output,
    )
    future = client.submit(
        train_tokenizer, train_task, key=f"tokenizer-train-{training_fingerprint[:16]}", pure=False
    )
    record = future.result()
    if TRAINING_ERROR_KEY in record:
        raise TokenizerTrainingError(record[TRAINING_ERROR_KEY])
    record.update(
        fingerprint=training_fingerprint,
        gristmill_version=__version__,
        sample=drawn,
        sample_s=round(sample_s, 3),
    )
    write_json(record_url, record)
    return {**record, "resumed": False}


def draw_sample(
    config: Any,
    client: Any,
    data_files: dict[str, list[str]],
    inputs: dict[str, dict[str, str]],
    training_fingerprint: str,
) -> tuple[list[SampleTask], list[dict[str, Any]], dict[str, Any]]:
    """Scan the shards, set the per-source probabilities, write the sample and held-out."""
    sample = config.tokenizer.sample
    urls = [(source, url) for source in data_files for url in sorted(data_files[source])]
    scans = client.gather(client.map(scan_shard, [url for _, url in urls], pure=False))
    totals: dict[str, dict[str, int]] = {s: {"docs": 0, "bytes": 0, "lines": 0} for s in data_files}
    for (source, _), scan in zip(urls, scans, strict=True):
        for key, value in scan.items():
            totals[source][key] += value
    weights = sample_weights(config, {s: t["bytes"] for s, t in totals.items()})
    held_out = {
        source: min(
            sample.held_out_docs / counts["docs"] if counts["docs"] else 0.0,
            sample.held_out_bytes / counts["bytes"] if counts["bytes"] else 0.0,
            sample.held_out_share,
        )
        for source, counts in totals.items()
    }
    trainable = {  # what is left for the sample once the held-back documents are set aside
        source: {key: round(value * (1 - held_out[source])) for key, value in counts.items()}
        for source, counts in totals.items()
    }
    targets = line_probabilities(
        trainable, weights, sample.max_bytes, sample.max_sentences, sample.keep_shares
    )
    for target in targets.values():
        if target["warning"]:
            warnings.warn(target["warning"], stacklevel=2)
    tasks = [
        SampleTask(
            source=source,
            data_url=url,
            sample_url=sample_url(config.output, source, url),
            held_out_url=held_out_url(config.output, source, url),
            line_probability=targets[source]["probability"],
            held_out_probability=held_out[source],
            seed=sample.seed,
            max_sentence_bytes=sample.max_sentence_bytes,
            fingerprint=fingerprint(
                [
                    training_fingerprint,
                    inputs[source][url],
                    targets[source]["probability"],
                    held_out[source],
                ]
            ),  # fmt: skip
        )
        for source, url in urls
    ]
    sampled = client.gather(client.map(sample_shard, tasks, pure=False))
    return tasks, sampled, _sample_summary(totals, weights, targets, sampled, tasks)


def encode_stage(
    config: Any,
    client: Any,
    data_files: dict[str, list[str]],
    training: dict[str, Any],
    resume: bool,
) -> dict[str, Any]:
    """Encode every shard not already encoded with this tokenizer; write ``index.json``."""
    settings: TokenizerConfig = config.tokenizer
    inputs = input_fingerprints(data_files)
    special = training["special_tokens"]
    dtype = settings.token_dtype()
    options = {
        "add_bos": settings.add_bos,
        "dtype": dtype,
        "tokenizer": training["sha256"],
        "version": __version__,
    }
    tasks: list[EncodeTask] = []
    for source, urls in data_files.items():
        for url in urls:
            tasks.append(
                EncodeTask(
                    source=source,
                    data_url=url,
                    token_url=token_url(config.output, source, url),
                    model_url=model_url(config.output, settings.backend),
                    backend=settings.backend,
                    sha256=training["sha256"],
                    eos_id=special["eos"]["id"],
                    bos_id=special["bos"]["id"] if settings.add_bos else None,
                    dtype=dtype,
                    batch_docs=settings.encode_batch_docs,
                    threads=settings.encode_threads,
                    fingerprint=fingerprint([options, inputs[source][url]]),
                )
            )
    records: dict[str, dict[str, Any]] = {}
    pending = []
    for task in tasks:
        marker = read_marker(task.token_url) if resume else None
        if marker is not None and marker.get("fingerprint") == task.fingerprint:
            records[task.token_url] = marker["stats"]
        else:
            pending.append(task)
    started = time.perf_counter()
    keys = [f"tokenize-{t.source}-{t.fingerprint[:16]}" for t in pending]
    for task, record in zip(
        pending, client.gather(client.map(encode_shard, pending, key=keys, retries=2)), strict=True
    ):
        records[task.token_url] = record
    wall_s = time.perf_counter() - started
    index = _token_index(config, training, tasks, records, dtype)
    write_json(posixpath.join(config.output, TOKEN_INDEX_FILE), index)
    return _encoding_summary(training, tasks, records, pending, wall_s, index)


def _token_index(
    config: Any,
    training: dict[str, Any],
    tasks: list[EncodeTask],
    records: dict[str, dict[str, Any]],
    dtype: str,
) -> dict[str, Any]:
    root = config.output.rstrip("/") + "/"
    sources: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        record = records[task.token_url]
        sources.setdefault(task.source, []).append(
            {
                "path": task.token_url[len(root) :],
                "docs": record["docs"],
                "tokens": record["tokens"],
                "fingerprint": task.fingerprint,
            }
        )
    special = training["special_tokens"]
    return {
        "gristmill_version": __version__,
        "fingerprint": fingerprint([t.fingerprint for t in tasks]),
        "dtype": dtype,
        "tokenizer": {
            "backend": training["backend"],
            "path": training["path"],
            "sha256": training["sha256"],
            "files": training["files"],
            "vocab_size": training["vocab_size"],
            "special_tokens": special,
            "params": training["params"],
            "sample": training["sample"],
        },
        "sources": sources,
    }


def _encoding_summary(
    training: dict[str, Any],
    tasks: list[EncodeTask],
    records: dict[str, dict[str, Any]],
    pending: list[EncodeTask],
    wall_s: float,
    index: dict[str, Any],
) -> dict[str, Any]:
    vocab_size = training["vocab_size"]
    used = np.zeros(vocab_size, dtype=bool)
    sources: dict[str, dict[str, Any]] = {}
    for task in tasks:
        record = records[task.token_url]
        used |= used_ids(record, vocab_size)
        totals = sources.setdefault(
            task.source, {"shards": 0, "docs": 0, "tokens": 0, "bytes": 0, "byte_tokens": 0}
        )
        totals["shards"] += 1
        for key in ("docs", "tokens", "bytes", "byte_tokens"):
            totals[key] += record[key]
    for totals in sources.values():
        content = totals["tokens"] - totals["docs"]  # without the EOS ids
        totals["bytes_per_token"] = round(totals["bytes"] / content, 4) if content > 0 else None
    fresh_bytes = sum(records[t.token_url]["bytes"] for t in pending)
    fresh_cpu_s = sum(records[t.token_url]["encode_cpu_s"] for t in pending)
    all_tokens = sum(s["tokens"] for s in sources.values())
    all_docs = sum(s["docs"] for s in sources.values())
    return {
        "dtype": index["dtype"],
        "shards": len(tasks),
        "shards_resumed": len(tasks) - len(pending),
        "docs": all_docs,
        "tokens": all_tokens,
        "sources": sources,
        "vocab_used": int(used.sum()),
        "vocab_usage": round(float(used.mean()), 6) if vocab_size else None,
        "byte_fallback_share": round(
            sum(s["byte_tokens"] for s in sources.values()) / max(1, all_tokens - all_docs), 6
        ),
        "wall_s": round(wall_s, 3),
        "mb_per_s": round(fresh_bytes / 1e6 / wall_s, 3) if pending and wall_s > 0 else None,
        # per core: bytes over the CPU time of the encoding calls (robust to a busy machine)
        "mb_per_s_per_core": round(fresh_bytes / 1e6 / fresh_cpu_s, 3) if fresh_cpu_s > 0 else None,
    }


def _sample_summary(
    totals: dict[str, dict[str, int]],
    weights: dict[str, float],
    targets: dict[str, dict[str, float]],
    sampled: list[dict[str, Any]],
    tasks: list[SampleTask],
) -> dict[str, Any]:
    sources: dict[str, dict[str, Any]] = {}
    for task, stats in zip(tasks, sampled, strict=True):
        entry = sources.setdefault(
            task.source,
            {"lines": 0, "bytes": 0, "held_out_docs": 0, "held_out_bytes": 0},
        )
        for key in entry:
            entry[key] += stats[key]
    sample_bytes = sum(s["bytes"] for s in sources.values())
    for source, entry in sources.items():
        entry.update(
            weight=round(weights.get(source, 0.0), 6),
            available_bytes=totals[source]["bytes"],
            target_bytes=round(targets[source]["target_bytes"]),
            line_probability=round(targets[source]["probability"], 8),
            target_share=round(targets[source]["share"], 6),
            share=round(entry["bytes"] / sample_bytes, 6) if sample_bytes else 0.0,
        )
    return {
        "lines": sum(s["lines"] for s in sources.values()),
        "bytes": sample_bytes,
        "share_max_deviation": round(
            max((abs(e["share"] - e["target_share"]) for e in sources.values()), default=0.0), 6
        ),
        "sources": sources,
        "warnings": [t["warning"] for t in targets.values() if t["warning"]],
    }


def _model_intact(output: str, record: dict[str, Any]) -> bool:
    return all(
        file_sha256(posixpath.join(output, path)) == digest
        for path, digest in record.get("files", {}).items()
    )
