"""Normalised word tokens and 64-bit hashes of their n-grams, vectorised with numpy.

Decontamination compares word n-grams of training documents with those of benchmark test
sets (GPT-3, Brown et al. 2020, appendix C: lower-cased, punctuation-free 13-grams); span
dedup hashes windows of consecutive sentences the same way. A token is a run of letters,
digits and combining marks, or one character of a script written without spaces (Han,
kana, Thai, ...), so Chinese and Japanese get character n-grams. Tokenisation is one
vectorised pass over the code points of a whole batch (a character-class table built once
per process) and gives each token's character span too, so finding a match again in
``apply`` sees exactly the tokens ``collect`` hashed. Each distinct token is normalised
(NFKC, case folding) and hashed (xxh3-64) once per batch; an n-gram's hash combines its
token hashes with position-dependent odd multipliers and a final avalanche (splitmix64),
all in ``uint64`` arithmetic.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

# Scripts written without spaces: each of their letters is a token.
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x323AF),  # CJK extensions B-H
)
_SEPARATOR, _WORD_CHAR, _SINGLE_CHAR = 0, 1, 2


@functools.cache
def character_classes() -> np.ndarray:
    """Per code point: separator, word character (letters, digits, combining marks) or a
    letter of a script without spaces. Built once per process."""
    classes = np.zeros(0x110000, dtype=np.uint8)
    for code in range(0x30000):
        char = chr(code)
        if char.isalnum() or unicodedata.category(char)[0] == "M":
            classes[code] = _WORD_CHAR
    for low, high in _NO_SPACE_RANGES:
        block = classes[low : high + 1]
        block[block == _WORD_CHAR] = _SINGLE_CHAR
    classes[0x30000:0x323B0] = _SINGLE_CHAR
    return classes


_MASK64 = (1 << 64) - 1


def _splitmix64_scalar(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


MAX_NGRAM = 64
_MULTIPLIERS = np.array(
    [_splitmix64_scalar(position + 1) | 1 for position in range(MAX_NGRAM)], dtype=np.uint64
)
_LENGTH_SALT = np.array(
    [_splitmix64_scalar(1000 + length) for length in range(MAX_NGRAM + 1)], dtype=np.uint64
)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    values = values + np.uint64(0x9E3779B97F4A7C15)
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def normalize_tokens(tokens: Sequence[str]) -> list[str]:
    """NFKC and case folding of each token (in one pass over the joined tokens)."""
    if not tokens:
        return []
    joined = "\x00".join(tokens)
    if not joined.isascii() and not unicodedata.is_normalized("NFKC", joined):
        joined = unicodedata.normalize("NFKC", joined)
    return joined.casefold().split("\x00")


@dataclass
class Tokens:
    """The word tokens of a batch of texts: a hash of each normalised token, the token
    range of each text (``offsets``) and each token's character span in its own text."""

    hashes: np.ndarray
    offsets: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    def text_tokens(self, text_index: int) -> slice:
        return slice(int(self.offsets[text_index]), int(self.offsets[text_index + 1]))


def tokenize(texts: Sequence[str]) -> Tokens:
    """Tokenise a batch of texts in one vectorised pass over their code points.

    A token is a maximal run of word characters, or a single character of a script written
    without spaces. Token strings are cut out of the UTF-8 bytes by Arrow, so only distinct
    tokens are normalised and hashed in Python."""
    lengths = np.fromiter((len(text) for text in texts), dtype=np.int64, count=len(texts))
    text_starts = np.concatenate([[0], np.cumsum(lengths + 1)])[:-1]
    joined = "\n".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    classes = character_classes()[codes]
    word = classes != _SEPARATOR
    single = classes == _SINGLE_CHAR
    before_word = np.concatenate([[False], word[:-1]])
    before_single = np.concatenate([[False], single[:-1]])
    after_word = np.concatenate([word[1:], [False]])
    after_single = np.concatenate([single[1:], [False]])
    starts = np.flatnonzero(word & (~before_word | single | before_single))
    ends = np.flatnonzero(word & (~after_word | single | after_single)) + 1
    utf8 = joined.encode("utf-8")
    utf8_sizes = np.ones(len(codes), dtype=np.uint8)
    for threshold in (0x80, 0x800, 0x10000):
        utf8_sizes += codes >= threshold
    offset_type = np.int32 if len(utf8) < 2**31 else np.int64
    byte_offsets = np.zeros(len(codes) + 1, dtype=offset_type)
    np.cumsum(utf8_sizes.astype(offset_type), out=byte_offsets[1:])  # a casting cumsum is slow
    hashes = _hash_token_slices(utf8, byte_offsets[starts], byte_offsets[ends])
    offsets = np.searchsorted(starts, np.append(text_starts, len(codes) + 1))
    text_of_token = np.repeat(np.arange(len(texts)), np.diff(offsets))
    return Tokens(
        hashes=hashes,
        offsets=offsets,
        starts=starts - text_starts[text_of_token],
        ends=ends - text_starts[text_of_token],
    )


def _hash_token_slices(utf8: bytes, byte_starts: np.ndarray, byte_ends: np.ndarray) -> np.ndarray:
    count = len(byte_starts)
    if count == 0:
        return np.empty(0, dtype=np.uint64)
    # token i is value 2i of an array whose odd values are the gaps between tokens
    bounds = np.empty(2 * count, dtype=np.int64)
    bounds[0::2], bounds[1::2] = byte_starts, byte_ends
    segments = pa.LargeStringArray.from_buffers(
        2 * count - 1, pa.py_buffer(bounds), pa.py_buffer(utf8)
    )
    tokens = segments.take(pa.array(np.arange(0, 2 * count - 1, 2)))
    encoded = pc.dictionary_encode(tokens)
    unique_hashes = hash_strings(normalize_tokens(encoded.dictionary.to_pylist()))
    return unique_hashes[encoded.indices.to_numpy(zero_copy_only=False)]


def normalized_text(text: str, starts: np.ndarray, ends: np.ndarray) -> str:
    """The normalised tokens at the given spans of ``text``, joined by spaces."""
    return " ".join(normalize_tokens([text[s:e] for s, e in zip(starts, ends, strict=True)]))


def hash_strings(values: Sequence[str]) -> np.ndarray:
    """xxh3-64 of each string."""
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(value.encode("utf-8")) for value in values),
        dtype=np.uint64,
        count=len(values),
    )


def window_hashes(item_hashes: np.ndarray, lengths: Iterable[int]) -> dict[int, np.ndarray]:
    """For each n in ``lengths``: the hash of every window of n consecutive items (index =
    the window's first item). Hashes are never 0, so 0 can mark "no window"."""
    wanted = sorted(set(lengths))
    if wanted and (wanted[0] < 1 or wanted[-1] > MAX_NGRAM):
        raise ValueError(f"n-gram lengths must lie in 1..{MAX_NGRAM}, got {wanted}")
    size = len(item_hashes)
    result: dict[int, np.ndarray] = {}
    if not wanted:
        return result
    accumulator = np.zeros(size, dtype=np.uint64)
    for position in range(wanted[-1]):
        count = size - position
        if count <= 0:
            break
        accumulator[:count] += item_hashes[position:] * _MULTIPLIERS[position]
        length = position + 1
        if length in wanted:
            windows = _splitmix64(accumulator[:count] ^ _LENGTH_SALT[length]) | np.uint64(1)
            result[length] = windows
    for length in wanted:
        result.setdefault(length, np.empty(0, dtype=np.uint64))
    return result


def document_ngrams(
    token_hashes: np.ndarray, offsets: np.ndarray, lengths: Iterable[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For tokens of several documents concatenated (``offsets``: each document's first
    token, then the total), per n: the first-token index and the hash of every n-gram that
    lies inside one document."""
    total = int(offsets[-1])
    document_end = np.repeat(offsets[1:], np.diff(offsets))
    first_token = np.arange(total)
    result = {}
    for length, hashes in window_hashes(token_hashes, lengths).items():
        count = len(hashes)
        starts = np.flatnonzero(first_token[:count] + length <= document_end[:count])
        result[length] = (starts, hashes[starts])
    return result
