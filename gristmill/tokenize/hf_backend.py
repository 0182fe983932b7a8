"""Hugging Face ``tokenizers`` byte-level BPE (GPT-2's scheme, Radford et al., 2019).

Every byte is in the base alphabet, so nothing is ever unknown and decoding is exact.
Digits are split into single tokens first (as SentencePiece's ``split_digits``), NFKC is
optional. Control tokens get ids 0, 1, ... as in the SentencePiece backend; they are
"special", and the loaded tokenizer encodes a literal ``</s>`` in a document as text,
never as the control id. User-defined symbols are ordinary added tokens, matched in text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

import numpy as np

from gristmill.tokenize.config import TokenizerConfig


def train_huggingface(sentences: Iterable[str], config: TokenizerConfig) -> str:
    """Train on ``sentences``; returns ``tokenizer.json`` text."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    if config.normalization == "nfkc":
        tokenizer.normalizer = normalizers.NFKC()
    steps = [pre_tokenizers.Digits(individual_digits=True)] if config.split_digits else []
    steps.append(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(steps)
    tokenizer.decoder = decoders.ByteLevel()
    special = config.special_tokens
    trainer = trainers.BpeTrainer(
        vocab_size=config.vocab_size,
        special_tokens=[piece for _, piece in special.control()] + list(special.user_defined),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_batches(sentences), trainer)
    data = json.loads(tokenizer.to_str())
    user_defined = set(special.user_defined)
    for added in data.get("added_tokens", []):
        if added["content"] in user_defined:
            added["special"] = False
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _batches(sentences: Iterable[str], size: int = 1000) -> Iterator[list[str]]:
    batch: list[str] = []
    for sentence in sentences:
        batch.append(sentence)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class HuggingFaceTokenizer:
    """A loaded ``tokenizer.json``: batch encoding, decoding, partial-character mask."""

    backend = "huggingface"

    def __init__(self, text: str) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_str(text)
        self._tokenizer.encode_special_tokens = True
        self.vocab_size = self._tokenizer.get_vocab_size(with_added_tokens=True)
        byte_of = {char: byte for byte, char in byte_level_alphabet().items()}
        self.byte_mask = np.zeros(self.vocab_size, dtype=bool)
        for token, index in self._tokenizer.get_vocab(with_added_tokens=False).items():
            byte = byte_of.get(token) if len(token) == 1 else None
            if byte is not None and byte >= 0x80:
                self.byte_mask[index] = True

    def piece_id(self, piece: str) -> int:
        index = self._tokenizer.token_to_id(piece)
        return -1 if index is None else index

    def encode_batch(self, texts: list[str], threads: int = 1) -> list[list[int]]:
        # tokenizers reads this on every call: one thread in the encoding tasks (one per
        # core already), its whole thread pool otherwise
        os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
        encodings = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return [encoding.ids for encoding in encodings]

    def decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=False)


def byte_level_alphabet() -> dict[int, str]:
    """GPT-2's byte → printable character table used by byte-level BPE."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in table:
            table[byte] = chr(256 + extra)
            extra += 1
    return table
