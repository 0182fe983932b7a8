"""Word n-gram shingles as 64-bit hashes, a whole batch at a time, without shingle strings.

The resemblance shingling of Broder (1997, "On the resemblance and containment of
documents"), used for document-level near-duplicate removal in Gopher, LLaMA and BLOOM
(Zhao et al., "A Survey of Large Language Models", §4.1.2). Normalisation follows
datatrove's and RedPajama's MinHash dedup: a text is split into words on Unicode
whitespace; in each word, ASCII letters are lowercased, ASCII digits become ``0`` and ASCII
punctuation and symbols are removed, then the word is brought to a Unicode form (NFKC by
default), lowercased, has every other decimal digit replaced by ``0`` and its other
punctuation and symbols (Unicode categories P*, S*) removed, and is split again on
whitespace (NFKC maps a few characters to spaces); empty words are dropped. A shingle is
``n`` consecutive words.

Building one Python string per shingle is what makes Python MinHash slow, so no string is
built: the text bytes of a batch are classified with a 256-entry table in numpy (ASCII
words — most words of most corpora — are normalised right there; words holding non-ASCII
bytes go through Arrow's Unicode kernels), every word is hashed by a vectorised 64-bit
polynomial hash of its normalised UTF-8 bytes (see :func:`word_hash`), and the hash of the
shingle starting at word ``j`` is ``sum_t C[t] * word_hash(w[j + t]) mod 2**64`` with
fixed odd constants ``C`` (order matters), computed with ``n`` numpy passes over the
batch. A text with fewer than ``n`` words is one shingle of all its words; a text without
words has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gristmill.dedupe.hashing import MASK64, fmix64, fmix64_int, splitmix64

#: Removed from words: Unicode punctuation (P*) and symbols (S*), as RE2 classes.
PUNCTUATION_AND_SYMBOLS = r"[\p{P}\p{S}]+"
DECIMAL_DIGIT = r"\p{Nd}"
_NEEDS_REPLACING = r"[\p{P}\p{S}\p{Nd}]"
UNICODE_FORMS = ("NFC", "NFKC", "NFD", "NFKD")

_SPACE, _DROP, _KEEP, _NON_ASCII = 0, 1, 2, 3

#: Base of the word polynomial hash and the multiplier of a word's length (both odd).
WORD_BASE = splitmix64(1001) | 1
WORD_LENGTH_MULTIPLIER = splitmix64(1002) | 1


def position_constants(ngram: int) -> np.ndarray:
    """The odd multipliers ``C[t]`` of word position ``t`` in a shingle (fixed forever:
    changing them changes every signature and invalidates saved indexes)."""
    return np.array([splitmix64(t + 1) | 1 for t in range(ngram)], dtype=np.uint64)


def word_hash(normalized: bytes) -> int:
    """The 64-bit hash of one normalised word, written out in plain Python (the vectorised
    code computes the same): ``fmix64(sum_k (byte_k + 1) * WORD_BASE**k + length *
    WORD_LENGTH_MULTIPLIER mod 2**64)``."""
    value = 0
    for position, byte in enumerate(normalized):
        value = (value + (byte + 1) * pow(WORD_BASE, position, 1 << 64)) & MASK64
    return fmix64_int((value + len(normalized) * WORD_LENGTH_MULTIPLIER) & MASK64)


@dataclass(frozen=True)
class ShingleHashes:
    """The shingle hashes of a batch: ``values`` of all documents, concatenated, and
    ``counts[i]`` shingles for document ``i`` (0 for a document without words)."""

    values: np.ndarray
    counts: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)


def normalize_words(words: pa.Array, unicode_form: str | None = "NFKC") -> pa.Array:
    """Normalise each word with Arrow's Unicode kernels (the reference normalisation)."""
    if unicode_form is not None:
        words = pc.utf8_normalize(words, form=unicode_form)
    words = pc.utf8_lower(words)
    words = pc.replace_substring_regex(words, PUNCTUATION_AND_SYMBOLS, "")
    return pc.replace_substring_regex(words, DECIMAL_DIGIT, "0")


@cache
def _byte_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per byte value: its class (whitespace, dropped, kept, non-ASCII) and, for kept ASCII
    bytes, its normalised value plus one (the term of :func:`word_hash`). Derived from the Arrow kernels themselves, so that the
    numpy fast path and the Unicode path cannot disagree."""
    classes = np.full(256, _NON_ASCII, dtype=np.uint8)
    mapped = np.arange(1, 257, dtype=np.uint64)
    characters = [chr(code) for code in range(128)]
    pieces = pc.list_value_length(
        pc.utf8_split_whitespace(pa.array([f"a{c}b" for c in characters]))
    ).to_pylist()
    normalized = normalize_words(pa.array(characters)).to_pylist()
    for code in range(128):
        if pieces[code] == 2:
            classes[code] = _SPACE
        elif normalized[code] == "":
            classes[code] = _DROP
        else:
            classes[code] = _KEEP
            mapped[code] = ord(normalized[code]) + 1
    return classes, mapped


@cache
def _ascii_lowered() -> np.ndarray:
    """Per byte: its normalised ASCII value (kept ASCII bytes), else the byte itself."""
    classes, mapped = _byte_tables()
    lowered = np.arange(256, dtype=np.uint8)
    kept = classes == _KEEP
    lowered[kept] = (mapped[kept] - 1).astype(np.uint8)
    return lowered


_POWERS = np.ones(1, dtype=np.uint64)


def _powers(length: int) -> np.ndarray:
    """``WORD_BASE ** k mod 2**64`` for ``k < length`` (grown on demand, per process)."""
    global _POWERS
    if len(_POWERS) < length:
        size = max(length, 2 * len(_POWERS), 64)
        powers = np.full(size, WORD_BASE, dtype=np.uint64)
        powers[0] = 1
        _POWERS = np.cumprod(powers, dtype=np.uint64)
    return _POWERS[:length]


def _hash_tiled_words(terms: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """:func:`word_hash` of consecutive words tiling ``terms`` (``uint64`` byte values + 1;
    overwritten); all lengths > 0."""
    starts = np.cumsum(lengths) - lengths
    step = np.ones(len(terms), dtype=np.int32)
    step[starts[1:]] = 1 - lengths[:-1]
    position = np.cumsum(step, out=step)
    position -= 1
    terms *= _powers(int(lengths.max()))[position]
    values = np.add.reduceat(terms, starts)
    values += lengths.astype(np.uint64) * np.uint64(WORD_LENGTH_MULTIPLIER)
    return fmix64(values)


def _text_bytes(texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a batch's texts and the ``len + 1`` offsets into them."""
    texts = pc.fill_null(pc.cast(texts, pa.large_string()), "")
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[
        texts.offset : texts.offset + len(texts) + 1
    ]
    buffer = texts.buffers()[2]
    data = (
        np.frombuffer(buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        if buffer is not None and offsets[-1] > offsets[0]
        else np.empty(0, dtype=np.uint8)
    )
    return data, offsets - offsets[0]


def _token_bounds(word_byte: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the runs of word bytes, cut at text boundaries."""
    begins = np.empty_like(word_byte)
    begins[0] = word_byte[0]
    np.greater(word_byte[1:], word_byte[:-1], out=begins[1:])
    finishes = np.empty_like(word_byte)
    finishes[-1] = word_byte[-1]
    np.greater(word_byte[:-1], word_byte[1:], out=finishes[:-1])
    inner = offsets[1:-1]
    inner = inner[(inner > 0) & (inner < len(word_byte))]
    crossing = inner[word_byte[inner] & word_byte[inner - 1]]
    begins[crossing] = True
    finishes[crossing - 1] = True
    return np.flatnonzero(begins), np.flatnonzero(finishes) + 1


def _count_before(mask: np.ndarray) -> np.ndarray:
    """``result[i]`` = number of True values in ``mask[:i]`` (length ``len(mask) + 1``)."""
    counts = np.zeros(len(mask) + 1, dtype=np.int32 if len(mask) < 2**31 else np.int64)
    np.cumsum(mask, out=counts[1:])
    return counts


def normalized_word_hashes(
    texts: pa.Array | pa.ChunkedArray, unicode_form: str | None = "NFKC"
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`word_hash` of every normalised word of every text, in order, and the number
    of words of each text."""
    data, offsets = _text_bytes(texts)
    texts_count = len(offsets) - 1
    if len(data) == 0:
        return np.empty(0, dtype=np.uint64), np.zeros(texts_count, dtype=np.int64)
    classes_table, mapped_table = _byte_tables()
    classes = classes_table[data]
    token_start, token_end = _token_bounds(classes != _SPACE, offsets)
    if len(token_start) == 0:
        return np.empty(0, dtype=np.uint64), np.zeros(texts_count, dtype=np.int64)
    non_ascii_before = _count_before(classes == _NON_ASCII)
    non_ascii = non_ascii_before[token_end] > non_ascii_before[token_start]
    keep = classes == _KEEP
    kept_before = _count_before(keep)
    kept = (kept_before[token_end] - kept_before[token_start]).astype(np.int64)

    # ASCII tokens are normalised right here (one word each, or none when nothing is
    # kept); the kept bytes of other tokens are hashed too (cheaper than masking them)
    tiled = kept > 0
    kept_hashes = (
        _hash_tiled_words(mapped_table[np.compress(keep, data)], kept[tiled])
        if tiled.any()
        else np.empty(0, dtype=np.uint64)
    )
    ascii_word = tiled & ~non_ascii
    words_per_token = ascii_word.astype(np.int64)
    unicode_hashes = np.empty(0, dtype=np.uint64)
    if non_ascii.any():
        unicode_hashes, words_per_token[non_ascii] = _unicode_word_hashes(
            data, token_start[non_ascii], token_end[non_ascii], unicode_form
        )

    hashes = np.empty(int(words_per_token.sum()), dtype=np.uint64)
    first_word = np.cumsum(words_per_token) - words_per_token
    hashes[first_word[ascii_word]] = kept_hashes[ascii_word[tiled]]
    if len(unicode_hashes):
        counts = words_per_token[non_ascii]
        hashes[_expand(first_word[non_ascii], counts)] = unicode_hashes
    words_before = np.concatenate([[0], np.cumsum(words_per_token)])
    return hashes, np.diff(words_before[np.searchsorted(token_start, offsets)])


def _expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``start, start + 1, ..., start + length - 1`` of every range, in order."""
    firsts = np.cumsum(lengths) - lengths
    return np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def _strip_punctuation_and_zero_digits(words: pa.Array) -> pa.Array:
    """Remove P*/S* characters and map Nd digits to ``0``, running the replacements only on
    the words that hold any (finding them is cheaper than replacing everywhere)."""
    matches = pc.match_substring_regex(words, _NEEDS_REPLACING).to_numpy(zero_copy_only=False)
    if not matches.any():
        return words
    changed = np.flatnonzero(matches)
    unchanged = np.flatnonzero(~matches)
    replaced = pc.replace_substring_regex(
        words.take(pa.array(changed)), PUNCTUATION_AND_SYMBOLS, ""
    )
    merged = pa.concat_arrays(
        [
            words.take(pa.array(unchanged)),
            pc.replace_substring_regex(replaced, DECIMAL_DIGIT, "0"),
        ]
    )
    order = np.empty(len(words), dtype=np.int64)
    order[unchanged] = np.arange(len(unchanged))
    order[changed] = len(unchanged) + np.arange(len(changed))
    return merged.take(pa.array(order))


def _unicode_word_hashes(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, unicode_form: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Word hashes of tokens with non-ASCII bytes and the number of words of each token.

    Their ASCII bytes are normalised by the byte tables first, then each distinct token
    goes through Arrow's Unicode kernels once; NFKC may turn a character into a space, so
    normalised tokens are split again.
    """
    classes_table, _ = _byte_tables()
    raw = data[_expand(starts, ends - starts)]
    kept = classes_table[raw] != _DROP
    kept_before = _count_before(kept)
    bounds = np.concatenate([[0], np.cumsum(ends - starts)])
    lengths = np.diff(kept_before[bounds]).astype(np.int64)
    tokens = pa.LargeStringArray.from_buffers(
        len(lengths),
        pa.py_buffer(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)),
        pa.py_buffer(_ascii_lowered()[np.compress(kept, raw)]),
    )
    encoded = pc.dictionary_encode(tokens)
    distinct = encoded.dictionary
    if unicode_form is not None:
        distinct = pc.utf8_normalize(distinct, form=unicode_form)
    distinct = _strip_punctuation_and_zero_digits(pc.utf8_lower(distinct))
    split = pc.utf8_split_whitespace(distinct)
    words = pc.list_flatten(split)
    word_lengths = pc.binary_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
    words_of_distinct = pc.list_value_length(split).to_numpy(zero_copy_only=False)
    nonempty = word_lengths > 0
    distinct_counts = np.bincount(
        np.repeat(np.arange(len(words_of_distinct)), words_of_distinct)[nonempty],
        minlength=len(words_of_distinct),
    )
    distinct_hashes = np.empty(0, dtype=np.uint64)
    if nonempty.any():
        word_data, word_offsets = _text_bytes(words)
        distinct_hashes = _hash_tiled_words(
            np.add(
                word_data[_expand(word_offsets[:-1][nonempty], word_lengths[nonempty])],
                1,
                dtype=np.uint64,
            ),
            word_lengths[nonempty],
        )
    occurrences = encoded.indices.to_numpy(zero_copy_only=False)
    counts = distinct_counts[occurrences]
    first = (np.cumsum(distinct_counts) - distinct_counts)[occurrences]
    return distinct_hashes[_expand(first, counts)], counts


def shingle_hashes(
    texts: pa.Array | pa.ChunkedArray, ngram: int = 5, unicode_form: str | None = "NFKC"
) -> ShingleHashes:
    """The 64-bit hashes of the word ``ngram``-shingles of each text (see the module)."""
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, got {ngram}")
    if len(texts) == 0:
        return ShingleHashes(values=np.empty(0, np.uint64), counts=np.empty(0, np.int64))
    word_hashes, words = normalized_word_hashes(texts, unicode_form)
    constants = position_constants(ngram)
    starts = np.cumsum(words) - words
    counts = np.where(words >= ngram, words - ngram + 1, np.minimum(words, 1))

    total = len(word_hashes)
    window = word_hashes * constants[0]
    scratch = np.empty_like(window)
    for position in range(1, min(ngram, total)):
        np.multiply(word_hashes[position:], constants[position], out=scratch[: total - position])
        window[: total - position] += scratch[: total - position]
    # a window starting in the last ngram - 1 words of a text is no shingle of it (a
    # shorter text keeps only its first window, fixed below)
    valid = np.ones(total, dtype=bool)
    tails = np.where(words >= ngram, ngram - 1, np.maximum(words - 1, 0))
    valid[_expand(starts + words - tails, tails)] = False
    values = np.compress(valid, window)

    short = np.flatnonzero((words > 0) & (words < ngram))
    if len(short):
        values[np.cumsum(counts)[short] - 1] = _short_text_hashes(
            word_hashes, starts[short], words[short], constants
        )
    return ShingleHashes(values=values, counts=counts.astype(np.int64))


def _short_text_hashes(
    word_hashes: np.ndarray, starts: np.ndarray, words: np.ndarray, constants: np.ndarray
) -> np.ndarray:
    """The one shingle of each text with fewer words than the shingle size."""
    hashes = np.zeros(len(starts), dtype=np.uint64)
    for position in range(int(words.max())):
        present = words > position
        hashes[present] += word_hashes[starts[present] + position] * constants[position]
    return hashes
