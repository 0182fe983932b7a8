"""SentencePiece BPE training and encoding (Kudo & Richardson, 2018), LLaMA-style settings.

Byte fallback (no unknown text), digits split, identity normalisation, whitespace kept as
it is and whitespace-only pieces allowed (code indentation), so decode(encode(x)) == x for
any text but one that contains SentencePiece's own meta symbol U+2581 (decoded as a space).
Training reads the sample through ``sentence_iterator`` and writes the model through
``model_writer``, so no local paths end up in the model; the number of training threads,
which SentencePiece records in the model but which does not change any piece or score, is
removed, so the same sample and parameters give a byte-identical model on any machine.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import numpy as np

from gristmill.tokenize.config import TokenizerConfig, TokenizerTrainingError

#: ModelProto.trainer_spec and TrainerSpec.num_threads (sentencepiece_model.proto)
_TRAINER_SPEC_FIELD = 2
_NUM_THREADS_FIELD = 16


def trainer_options(config: TokenizerConfig, threads: int) -> dict[str, object]:
    """``SentencePieceTrainer`` keyword arguments for ``config``."""
    special = config.special_tokens
    ids = special.ids()
    return {
        "model_type": config.model_type,
        "vocab_size": config.vocab_size,
        "byte_fallback": config.byte_fallback,
        "split_digits": config.split_digits,
        "normalization_rule_name": "identity" if config.normalization == "identity" else "nfkc",
        "remove_extra_whitespaces": False,
        "allow_whitespace_only_pieces": True,
        "add_dummy_prefix": True,
        "character_coverage": config.character_coverage,
        "max_sentence_length": config.sample.max_sentence_bytes,
        "input_sentence_size": 0,
        "num_threads": threads,
        "unk_id": ids["unk"],
        "bos_id": -1 if ids["bos"] is None else ids["bos"],
        "eos_id": ids["eos"],
        "pad_id": -1 if ids["pad"] is None else ids["pad"],
        "unk_piece": special.unk,
        "bos_piece": special.bos or "<s>",
        "eos_piece": special.eos,
        "pad_piece": special.pad or "<pad>",
        "user_defined_symbols": list(special.user_defined),
        "minloglevel": 2,
    }


def train_sentencepiece(
    sentences: Iterable[str], config: TokenizerConfig, threads: int
) -> tuple[bytes, str]:
    """Train on ``sentences``; returns the serialized model and its ``.vocab`` text."""
    import sentencepiece as spm

    writer = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_writer=writer,
            **trainer_options(config, threads),
        )
    except RuntimeError as error:
        raise TokenizerTrainingError(_training_failure(str(error), config)) from None
    model = drop_thread_count(writer.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model)
    vocab = "".join(
        f"{processor.id_to_piece(i)}\t{processor.get_score(i):g}\n"
        for i in range(processor.get_piece_size())
    )
    return model, vocab


class SentencePieceTokenizer:
    """A loaded ``tokenizer.model``: batch encoding, decoding, byte-piece mask.

    SentencePiece's encoding slows down on long inputs (measured: a 400 kB book encodes
    ~3x slower per byte than its 10 kB pieces), so long texts are encoded in pieces cut
    at a single space between two words, the space becoming the next piece's dummy
    prefix. With whitespace-split pretokenization no piece spans such a space, so the ids
    are exactly those of the whole text; this is only done when that holds for the model
    (identity normalisation, no piece with an inner space such as a user symbol "a b").
    """

    backend = "sentencepiece"

    def __init__(self, model: bytes) -> None:
        import sentencepiece as spm

        self._processor = spm.SentencePieceProcessor(model_proto=model)
        self.vocab_size = self._processor.get_piece_size()
        self.byte_mask = np.array(
            [self._processor.is_byte(i) for i in range(self.vocab_size)], dtype=bool
        )
        self.cuts_long_texts = self._cutting_is_exact()

    def _cutting_is_exact(self) -> bool:
        probe = "\ufb01\u2460\u00a0x  y"
        if self._processor.normalize(probe) != "\u2581" + probe.replace(" ", "\u2581"):
            return False  # not identity normalisation (or no dummy prefix)
        return not any(
            _INNER_SPACE.search(self._processor.id_to_piece(i)) for i in range(self.vocab_size)
        )

    def piece_id(self, piece: str) -> int:
        return self._processor.piece_to_id(piece)

    def encode_batch(self, texts: list[str], threads: int = 1) -> list[list[int]]:
        if not self.cuts_long_texts or all(len(t) <= CUT_CHARS for t in texts):
            return self._processor.encode(texts, num_threads=threads)
        pieces = [cut_at_spaces(text) for text in texts]
        encoded = self._processor.encode([p for ps in pieces for p in ps], num_threads=threads)
        result: list[list[int]] = []
        position = 0
        for parts in pieces:
            ids = encoded[position]
            for extra in encoded[position + 1 : position + len(parts)]:
                ids = ids + extra
            result.append(ids)
            position += len(parts)
        return result

    def decode(self, ids: list[int]) -> str:
        return self._processor.decode(ids)


CUT_CHARS = 4096
_WORD_BREAK = re.compile(r"(?<=\S) (?=\S)")
_INNER_SPACE = re.compile("[^ \u2581][ \u2581]")  # a space that ends no word


def cut_at_spaces(text: str, size: int = CUT_CHARS) -> list[str]:
    """``text`` in pieces of about ``size`` characters, each cut dropping one space that
    separates two non-space characters (SentencePiece's dummy prefix puts it back)."""
    pieces = []
    start = 0
    while len(text) - start > size:
        found = _WORD_BREAK.search(text, start + size)
        if found is None:
            break
        pieces.append(text[start : found.start()])
        start = found.end()
    pieces.append(text[start:])
    return pieces


def drop_thread_count(model: bytes) -> bytes:
    """``model`` without ``trainer_spec.num_threads`` (a protobuf wire-format edit)."""
    out = bytearray()
    for number, wire, raw in _fields(model):
        if number == _TRAINER_SPEC_FIELD and wire == 2:
            payload = _length_delimited_payload(raw)
            kept = b"".join(
                raw_field for n, _, raw_field in _fields(payload) if n != _NUM_THREADS_FIELD
            )
            out += _varint((number << 3) | 2) + _varint(len(kept)) + kept
        else:
            out += raw
    return bytes(out)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _fields(data: bytes):
    """``(field number, wire type, raw bytes incl. tag)`` of each top-level field."""
    position = 0
    while position < len(data):
        start = position
        tag, position = _read_varint(data, position)
        wire = tag & 7
        if wire == 0:
            _, position = _read_varint(data, position)
        elif wire == 1:
            position += 8
        elif wire == 2:
            length, position = _read_varint(data, position)
            position += length
        elif wire == 5:
            position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} in a sentencepiece model")
        yield tag >> 3, wire, data[start:position]


def _length_delimited_payload(raw: bytes) -> bytes:
    _, position = _read_varint(raw, 0)
    length, position = _read_varint(raw, position)
    return raw[position : position + length]


def _training_failure(message: str, config: TokenizerConfig) -> str:
    """What to tell the user when sentencepiece refuses to train."""
    too_high = re.search(r"Vocabulary size too high \((\d+)\).*<= (\d+)", message)
    if too_high:
        return (
            f"tokenizer.vocab_size {config.vocab_size:,} is too large for the training "
            f"sample: it holds enough distinct text for at most {int(too_high.group(2)):,} "
            "pieces. Lower tokenizer.vocab_size, or give the run more (or more varied) text"
        )
    return f"sentencepiece training failed (tokenizer config): {message}"
