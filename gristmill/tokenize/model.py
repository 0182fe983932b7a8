"""Load a trained tokenizer once per worker process.

Encoding tasks name the model by URL and sha256; the loaded tokenizer is cached per
process under that pair, so a worker reads it once however many shards it encodes, a
retrained model (new sha256) is picked up, and no model is ever pickled into a task.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Protocol

import numpy as np

from gristmill.storage import open_url
from gristmill.tokenize.hf_backend import HuggingFaceTokenizer
from gristmill.tokenize.spm_backend import SentencePieceTokenizer


class LoadedTokenizer(Protocol):
    backend: str
    vocab_size: int
    byte_mask: np.ndarray

    def piece_id(self, piece: str) -> int: ...

    def encode_batch(self, texts: list[str], threads: int = 1) -> list[list[int]]: ...

    def decode(self, ids: list[int]) -> str: ...


def tokenizer_from_bytes(backend: str, data: bytes) -> LoadedTokenizer:
    if backend == "sentencepiece":
        return SentencePieceTokenizer(data)
    if backend == "huggingface":
        return HuggingFaceTokenizer(data.decode("utf-8"))
    raise ValueError(f"unknown tokenizer backend {backend!r}; allowed: sentencepiece, huggingface")


@functools.lru_cache(maxsize=4)
def load_tokenizer(url: str, backend: str, sha256: str) -> LoadedTokenizer:
    """The tokenizer at ``url``; fails if its bytes no longer match ``sha256``."""
    with open_url(url, "rb") as handle:
        data = handle.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ValueError(f"{url}: tokenizer sha256 {actual} differs from the expected {sha256}")
    return tokenizer_from_bytes(backend, data)
