"""Train the tokenizer: one Dask task on one worker, then measure it on held-back text.

The task streams the sample files (in source, shard order) into the backend's trainer with
all of the worker's cores, writes the model files atomically under ``out/tokenizer/``,
hashes them, and evaluates the model on the held-back documents
(:mod:`gristmill.tokenize.quality`). It returns the record that ``training.json`` and the
run manifest keep: parameters, sample size, sha256, timings and the quality report.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gristmill.io.writers import iter_arrow_batches
from gristmill.records import write_bytes
from gristmill.storage import open_url
from gristmill.tokenize.config import TokenizerConfig, TokenizerTrainingError
from gristmill.tokenize.hf_backend import train_huggingface
from gristmill.tokenize.layout import MODEL_FILES, TOKENIZER_DIR
from gristmill.tokenize.model import tokenizer_from_bytes
from gristmill.tokenize.quality import QualityReport
from gristmill.tokenize.spm_backend import train_sentencepiece

#: the key of a training task's result that carries a configuration error instead
TRAINING_ERROR_KEY = "training_error"


@dataclass(frozen=True)
class TrainTask:
    config: TokenizerConfig
    sample_urls: tuple[str, ...]
    held_out: tuple[tuple[str, str], ...]
    output: str


def worker_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def iter_sample(urls: tuple[str, ...]) -> Iterator[str]:
    """The sample's lines, file by file (lines never contain a newline)."""
    for url in urls:
        with open_url(url, "r", encoding="utf-8", newline="\n") as handle:
            for line in handle:
                yield line[:-1] if line.endswith("\n") else line


def train_model(
    config: TokenizerConfig, sentences: Iterator[str], threads: int
) -> dict[str, bytes]:
    """The backend's model files, by name."""
    if config.backend == "sentencepiece":
        model, vocab = train_sentencepiece(sentences, config, threads)
        return {"tokenizer.model": model, "tokenizer.vocab": vocab.encode("utf-8")}
    return {"tokenizer.json": train_huggingface(sentences, config).encode("utf-8")}


def train_tokenizer(task: TrainTask) -> dict[str, Any]:
    """Run on a worker: train, write ``out/tokenizer/*``, evaluate; returns the record.

    A configuration the sample cannot satisfy returns ``{"training_error": message}``
    (raised again on the client as :class:`TokenizerTrainingError`), so that the worker
    does not log it as a crash with a traceback."""
    config = task.config
    threads = config.threads or worker_cores()
    started = time.perf_counter()
    try:
        files = train_model(config, iter_sample(task.sample_urls), threads)
    except TokenizerTrainingError as error:
        return {TRAINING_ERROR_KEY: str(error)}
    train_s = time.perf_counter() - started
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    for name, data in files.items():
        write_bytes(posixpath.join(task.output, TOKENIZER_DIR, name), data)
    main_file = MODEL_FILES[config.backend][0]
    tokenizer = tokenizer_from_bytes(config.backend, files[main_file])
    report = QualityReport(tokenizer)
    for source, url in task.held_out:
        for batch in iter_arrow_batches(url, 256):
            report.add(source, batch.column("id").to_pylist(), batch.column("text").to_pylist())
    special = config.special_tokens
    return {
        "backend": config.backend,
        "path": posixpath.join(TOKENIZER_DIR, main_file),
        "sha256": digests[main_file],
        "files": {posixpath.join(TOKENIZER_DIR, n): d for n, d in sorted(digests.items())},
        "vocab_size": tokenizer.vocab_size,
        "special_tokens": {
            role: {"piece": getattr(special, role), "id": index}
            for role, index in special.ids().items()
            if index is not None
        },
        "user_defined": {piece: tokenizer.piece_id(piece) for piece in special.user_defined},
        "params": config.training_params(),
        "threads": threads,
        "train_s": round(train_s, 3),
        "evaluate_s": round(time.perf_counter() - started - train_s, 3),
        "worker_peak_rss_mb": round(_peak_rss_bytes() / 2**20, 1),
        "quality": report.to_dict(),
    }


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
