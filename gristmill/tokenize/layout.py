"""Where the tokenizer stage reads and writes, relative to the run's output folder::

    out/tokenizer/tokenizer.model, tokenizer.vocab   sentencepiece backend
    out/tokenizer/tokenizer.json                     huggingface backend
    out/tokenizer/training.json                      parameters, sample, sha256, quality
    out/tokens/<source>/<shard>.arrow (+ .done)      id, source, input_ids, n_tokens
    out/tokens/index.json                            token shards, counts, tokenizer
    out/work/tokenizer/sample/<source>/<shard>.txt   the training sample, one line each
    out/work/tokenizer/heldout/<source>/<shard>.arrow  held-back documents

``index.json`` is the contract with the mixture stage: it names the token shards (paths
relative to the output folder), their document and token counts and the tokenizer.
"""

from __future__ import annotations

import posixpath

from gristmill.io.writers import SUFFIXES

TOKENIZER_DIR = "tokenizer"
TRAINING_FILE = "tokenizer/training.json"
TOKENS_DIR = "tokens"
TOKEN_INDEX_FILE = "tokens/index.json"
SAMPLE_DIR = "work/tokenizer/sample"
HELD_OUT_DIR = "work/tokenizer/heldout"

MODEL_FILES: dict[str, tuple[str, ...]] = {
    "sentencepiece": ("tokenizer.model", "tokenizer.vocab"),
    "huggingface": ("tokenizer.json",),
}


def shard_name(output: str, source: str, data_url: str) -> str:
    """The shard's name inside ``out/data/<source>/``, without its format suffix."""
    prefix = posixpath.join(output, "data", source) + "/"
    name = data_url[len(prefix) :] if data_url.startswith(prefix) else posixpath.basename(data_url)
    for suffix in SUFFIXES.values():
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def token_url(output: str, source: str, data_url: str) -> str:
    return posixpath.join(
        output, TOKENS_DIR, source, shard_name(output, source, data_url) + ".arrow"
    )


def sample_url(output: str, source: str, data_url: str) -> str:
    return posixpath.join(output, SAMPLE_DIR, source, shard_name(output, source, data_url) + ".txt")


def held_out_url(output: str, source: str, data_url: str) -> str:
    return posixpath.join(
        output, HELD_OUT_DIR, source, shard_name(output, source, data_url) + ".arrow"
    )


def model_url(output: str, backend: str) -> str:
    """The main model file (what encoders load)."""
    return posixpath.join(output, TOKENIZER_DIR, MODEL_FILES[backend][0])
