"""Word n-gram shingles as 64-bit hashes, a whole batch at a time, without shingle strings.

The resemblance shingling of Broder (1997, "On the resemblance and containment of
documents"), used for document-level near-duplicate removal in Gopher, LLaMA and BLOOM
(Zhao et al., "A Survey of Large Language Models", §4.1.2). Normalisation follows
datatrove's and RedPajama's MinHash dedup: a text is split into words on Unicode
whitespace; in each word, ASCII letters are lowercased and ASCII punctuation and symbols
are removed, then the word is brought to a Unicode form (NFKC by default), lowercased, has
its other punctuation and symbols (Unicode categories P*, S*) removed, and is split again on
whitespace (NFKC maps a few characters to spaces) and around every character of a script
written without spaces (:mod:`gristmill.scripts`: Han, kana, Thai, Lao, Khmer, Myanmar), so
each of those is a word and a 5-word shingle is a character 5-gram there (the
dictionary-free choice; NeMo Curator and FineWeb-2 also treat these scripts apart); empty
words are dropped. Digits are kept as they are; with ``zero_digits`` every decimal digit
becomes ``0`` (datatrove's number normalisation, which made short texts differing only in
their numbers merge). With ``code_tokens``, each ASCII punctuation or symbol character is
first split off as a word by itself, so operators and brackets count in code. A shingle is
``n`` consecutive words.

Building one Python string per shingle is what makes Python MinHash slow, so no string is
built. One compiled pass (numba) over the UTF-8 bytes of a batch normalises and hashes
every word whose characters are all *context-free* — ASCII through a 256-entry table,
other characters through a per-code-point table; both tables are derived from Arrow's own
Unicode kernels (see :mod:`gristmill.dedupe.word_tables`). The few words holding a
character whose normal form depends on its neighbours (combining marks, viramas, Hangul
jamo) go through those Arrow kernels instead, once per distinct word. A word's hash is a
64-bit polynomial hash of its normalised UTF-8 bytes (see :func:`word_hash`), and the hash
of the shingle starting at word ``j`` is ``sum_t C[t] * word_hash(w[j + t]) mod 2**64``
with fixed odd constants ``C`` (order matters), computed in one compiled pass over the
batch. A text with fewer than ``n`` words is one shingle of all its words; a text without
words has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gristmill.dedupe.hashing import MASK64, fmix64_int, fmix64_scalar, splitmix64
from gristmill.dedupe.word_tables import (
    COMPLEX,
    DECIMAL_DIGIT,
    DROP,
    KEEP,
    NON_ASCII,
    PUNCTUATION_AND_SYMBOLS,
    SOLO,
    SPACE,
    ascii_lowered,
    byte_tables,
    code_point_table,
    isolate_non_spaced,
)

_NEEDS_REPLACING = r"[\p{P}\p{S}\p{Nd}]"

#: Base of the word polynomial hash and the multiplier of a word's length (both odd).
WORD_BASE = splitmix64(1001) | 1
WORD_LENGTH_MULTIPLIER = splitmix64(1002) | 1
_WORD_BASE = np.uint64(WORD_BASE)
_WORD_LENGTH_MULTIPLIER = np.uint64(WORD_LENGTH_MULTIPLIER)


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


@numba.njit(cache=True, nogil=True)
def _hash_words(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """:func:`word_hash` of the normalised words ``data[offsets[k]:offsets[k + 1]]``."""
    hashes = np.empty(len(offsets) - 1, dtype=np.uint64)
    for word in range(len(offsets) - 1):
        value = np.uint64(0)
        power = np.uint64(1)
        for position in range(offsets[word], offsets[word + 1]):
            value += (np.uint64(data[position]) + np.uint64(1)) * power
            power *= _WORD_BASE
        length = np.uint64(offsets[word + 1] - offsets[word])
        hashes[word] = fmix64_scalar(value + length * _WORD_LENGTH_MULTIPLIER)
    return hashes


@numba.njit(cache=True, nogil=True, inline="always")
def _decode(data: np.ndarray, position: int, end: int) -> tuple[int, int]:
    """The code point of the UTF-8 sequence at ``position`` and its length (0 if invalid)."""
    lead = np.int64(data[position])
    if lead < 0xC2:
        return 0, 0
    width = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4 if lead < 0xF5 else 0
    if width == 0 or position + width > end:
        return 0, 0
    code = lead & (0x1F if width == 2 else 0x0F if width == 3 else 0x07)
    for offset in range(1, width):
        byte = np.int64(data[position + offset])
        if byte & 0xC0 != 0x80:
            return 0, 0
        code = (code << 6) | (byte & 0x3F)
    if (width == 3 and code < 0x800) or (width == 4 and code < 0x10000):
        return 0, 0
    return code, width


@numba.njit(cache=True, nogil=True, inline="always")
def _word_of_bytes(source: np.ndarray, start: int, stop: int) -> np.uint64:
    """:func:`word_hash` of ``source[start:stop]`` (a character that is a word by itself)."""
    value = np.uint64(0)
    power = np.uint64(1)
    for index in range(start, stop):
        value += (np.uint64(source[index]) + np.uint64(1)) * power
        power *= _WORD_BASE
    return fmix64_scalar(value + np.uint64(stop - start) * _WORD_LENGTH_MULTIPLIER)


@numba.njit(cache=True, nogil=True)
def _scan_words(
    data: np.ndarray,
    offsets: np.ndarray,
    classes: np.ndarray,
    mapped: np.ndarray,
    kinds: np.ndarray,
    output_offsets: np.ndarray,
    output_bytes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass over the bytes of a batch: the word hash of every word of every token
    (a run of bytes between ASCII whitespace, or solo ASCII bytes) whose characters are all
    context-free (see :mod:`gristmill.dedupe.word_tables`), and a slot (hash 0) for every
    other token, whose bounds and slot are returned for the Unicode path. A solo character
    (of a script written without spaces) ends the word before it and is a word by itself;
    a solo ASCII byte (code tokens) also ends the token.

    Returns ``(hashes, slots of each text, unicode starts, unicode ends, unicode slots)``.
    """
    texts = len(offsets) - 1
    bound = len(data) + texts + 1  # a word takes at least a byte
    token_bound = (len(data) + texts) // 2 + 1  # a token and a separator take a byte each
    hashes = np.empty(bound, dtype=np.uint64)
    slots_per_text = np.zeros(texts, dtype=np.int64)
    unicode_start = np.empty(token_bound, dtype=np.int64)
    unicode_end = np.empty(token_bound, dtype=np.int64)
    unicode_slot = np.empty(token_bound, dtype=np.int64)
    slots = 0
    tokens = 0
    for text in range(texts):
        first_slot = slots
        end = offsets[text + 1]
        position = offsets[text]
        inside = False
        complex_token = False
        token_start = position
        token_slot = slots
        value = np.uint64(0)
        power = np.uint64(1)
        length = 0
        while position <= end:
            kind = SPACE if position == end else classes[data[position]]
            width = 1
            ends_token = kind == SPACE or kind == SOLO  # noqa: SIM109 (numba)
            separator = ends_token
            solo = False
            code = 0
            if not ends_token and not inside:
                inside = True
                complex_token = False
                token_start = position
                token_slot = slots
            if kind == NON_ASCII:
                code, width = _decode(data, position, end)
                if width == 0 or code >= len(kinds) or kinds[code] == COMPLEX:
                    complex_token = True
                    width = max(width, 1)
                elif kinds[code] == KEEP:
                    for index in range(output_offsets[code], output_offsets[code + 1]):
                        value += (np.uint64(output_bytes[index]) + np.uint64(1)) * power
                        power *= _WORD_BASE
                        length += 1
                elif kinds[code] == SPACE:
                    separator = True
                elif kinds[code] == SOLO:
                    separator = True
                    solo = True
            elif kind == KEEP:
                value += mapped[data[position]] * power
                power *= _WORD_BASE
                length += 1
            if separator and length > 0:  # a word ends
                value += np.uint64(length) * _WORD_LENGTH_MULTIPLIER
                hashes[slots] = fmix64_scalar(value)
                slots += 1
            if separator:
                value = np.uint64(0)
                power = np.uint64(1)
                length = 0
            if solo:  # a character that is a word by itself
                hashes[slots] = _word_of_bytes(
                    output_bytes, output_offsets[code], output_offsets[code + 1]
                )
                slots += 1
            if ends_token and inside:  # a token ends
                inside = False
                if complex_token:  # its words, if any, come from the Unicode path
                    slots = token_slot
                    unicode_start[tokens] = token_start
                    unicode_end[tokens] = position
                    unicode_slot[tokens] = slots
                    tokens += 1
                    hashes[slots] = np.uint64(0)
                    slots += 1
            if kind == SOLO:  # an ASCII byte that is a word (and a token) by itself
                hashes[slots] = fmix64_scalar(mapped[data[position]] + _WORD_LENGTH_MULTIPLIER)
                slots += 1
            position += width
        slots_per_text[text] = slots - first_slot
    return (
        hashes[:slots],
        slots_per_text,
        unicode_start[:tokens],
        unicode_end[:tokens],
        unicode_slot[:tokens],
    )


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


def _count_before(mask: np.ndarray) -> np.ndarray:
    """``result[i]`` = number of True values in ``mask[:i]`` (length ``len(mask) + 1``)."""
    counts = np.zeros(len(mask) + 1, dtype=np.int32 if len(mask) < 2**31 else np.int64)
    np.cumsum(mask, out=counts[1:])
    return counts


def normalized_word_hashes(
    texts: pa.Array | pa.ChunkedArray,
    unicode_form: str | None = "NFKC",
    *,
    zero_digits: bool = False,
    code_tokens: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`word_hash` of every normalised word of every text, in order, and the number
    of words of each text. ``zero_digits``: every decimal digit becomes ``0``;
    ``code_tokens``: each ASCII punctuation or symbol character is a word by itself, split
    off before the rest is normalised (code, where operators and brackets matter)."""
    data, offsets = _text_bytes(texts)
    hashes, slots_per_text, unicode_start, unicode_end, unicode_slot = _scan_words(
        data,
        offsets,
        *byte_tables(zero_digits, code_tokens),
        *code_point_table(unicode_form, zero_digits),
    )
    if len(unicode_slot) == 0:
        return hashes, slots_per_text
    # a token left to the Unicode kernels holds zero or more words once normalised
    unicode_hashes, counts = _unicode_word_hashes(
        data, unicode_start, unicode_end, unicode_form, zero_digits
    )
    return _merge_unicode_words(hashes, slots_per_text, unicode_slot, counts, unicode_hashes)


@numba.njit(cache=True, nogil=True)
def _merge_unicode_words(
    hashes: np.ndarray,
    slots_per_text: np.ndarray,
    unicode_slot: np.ndarray,
    counts: np.ndarray,
    unicode_hashes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The word hashes of a batch with each Unicode-path slot (in increasing order)
    replaced by its ``counts[k]`` words, and the words of each text."""
    merged = np.empty(len(hashes) - len(unicode_slot) + counts.sum(), dtype=np.uint64)
    words_per_text = np.empty(len(slots_per_text), dtype=np.int64)
    slot = 0
    written = 0
    pending = 0  # the next Unicode-path slot
    taken = 0  # Unicode-path words used so far
    for text in range(len(slots_per_text)):
        first = written
        for _ in range(slots_per_text[text]):
            if pending < len(unicode_slot) and unicode_slot[pending] == slot:
                for _ in range(counts[pending]):
                    merged[written] = unicode_hashes[taken]
                    written += 1
                    taken += 1
                pending += 1
            else:
                merged[written] = hashes[slot]
                written += 1
            slot += 1
        words_per_text[text] = written - first
    return merged, words_per_text


def _expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``start, start + 1, ..., start + length - 1`` of every range, in order."""
    firsts = np.cumsum(lengths) - lengths
    return np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def _strip_punctuation_and_zero_digits(words: pa.Array, zero_digits: bool) -> pa.Array:
    """Remove P*/S* characters and (``zero_digits``) map Nd digits to ``0``, running the
    replacements only on the words that hold any (finding them is cheaper than replacing
    everywhere)."""
    pattern = _NEEDS_REPLACING if zero_digits else PUNCTUATION_AND_SYMBOLS
    matches = pc.match_substring_regex(words, pattern).to_numpy(zero_copy_only=False)
    if not matches.any():
        return words
    changed = np.flatnonzero(matches)
    unchanged = np.flatnonzero(~matches)
    replaced = pc.replace_substring_regex(
        words.take(pa.array(changed)), PUNCTUATION_AND_SYMBOLS, ""
    )
    if zero_digits:
        replaced = pc.replace_substring_regex(replaced, DECIMAL_DIGIT, "0")
    merged = pa.concat_arrays([words.take(pa.array(unchanged)), replaced])
    order = np.empty(len(words), dtype=np.int64)
    order[unchanged] = np.arange(len(unchanged))
    order[changed] = len(unchanged) + np.arange(len(changed))
    return merged.take(pa.array(order))


def _unicode_word_hashes(
    data: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    unicode_form: str | None,
    zero_digits: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Word hashes of tokens that need the Unicode kernels and the number of words of each.

    Their ASCII bytes are normalised by the byte tables first, then each distinct token
    goes through Arrow's Unicode kernels once; NFKC may turn a character into a space, and
    characters of scripts written without spaces are words by themselves, so normalised
    tokens are split again.
    """
    classes_table, _ = byte_tables(zero_digits)
    raw = data[_expand(starts, ends - starts)]
    kept = classes_table[raw] != DROP
    kept_before = _count_before(kept)
    bounds = np.concatenate([[0], np.cumsum(ends - starts)])
    lengths = np.diff(kept_before[bounds]).astype(np.int64)
    tokens = pa.LargeStringArray.from_buffers(
        len(lengths),
        pa.py_buffer(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)),
        pa.py_buffer(ascii_lowered(zero_digits)[np.compress(kept, raw)]),
    )
    encoded = pc.dictionary_encode(tokens)
    distinct = encoded.dictionary
    if unicode_form is not None:
        distinct = pc.utf8_normalize(distinct, form=unicode_form)
    distinct = _strip_punctuation_and_zero_digits(pc.utf8_lower(distinct), zero_digits)
    split = pc.utf8_split_whitespace(isolate_non_spaced(distinct))
    words = pc.list_flatten(split)
    word_lengths = pc.binary_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
    words_of_distinct = pc.list_value_length(split).to_numpy(zero_copy_only=False)
    nonempty = word_lengths > 0
    distinct_counts = np.bincount(
        np.repeat(np.arange(len(words_of_distinct)), words_of_distinct)[nonempty],
        minlength=len(words_of_distinct),
    )
    word_data, word_offsets = _text_bytes(pc.filter(words, pa.array(nonempty)))
    distinct_hashes = _hash_words(word_data, word_offsets)
    occurrences = encoded.indices.to_numpy(zero_copy_only=False)
    counts = distinct_counts[occurrences]
    first = (np.cumsum(distinct_counts) - distinct_counts)[occurrences]
    return distinct_hashes[_expand(first, counts)], counts


def shingle_hashes(
    texts: pa.Array | pa.ChunkedArray,
    ngram: int = 5,
    unicode_form: str | None = "NFKC",
    *,
    zero_digits: bool = False,
    code_tokens: bool = False,
) -> ShingleHashes:
    """The 64-bit hashes of the word ``ngram``-shingles of each text (see the module and
    :func:`normalized_word_hashes` for the options)."""
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, got {ngram}")
    if len(texts) == 0:
        return ShingleHashes(values=np.empty(0, np.uint64), counts=np.empty(0, np.int64))
    word_hashes, words = normalized_word_hashes(
        texts, unicode_form, zero_digits=zero_digits, code_tokens=code_tokens
    )
    constants = position_constants(ngram)
    counts = np.where(words >= ngram, words - ngram + 1, np.minimum(words, 1)).astype(np.int64)
    values = _window_hashes(word_hashes, words.astype(np.int64), counts, constants)
    return ShingleHashes(values=values, counts=counts)


@numba.njit(cache=True, nogil=True)
def _window_hashes(
    word_hashes: np.ndarray, words: np.ndarray, counts: np.ndarray, constants: np.ndarray
) -> np.ndarray:
    """Per text, ``sum_t C[t] * word_hashes[j + t]`` (mod 2**64) for every window of
    ``len(C)`` words; a shorter text has the one window of all its words."""
    ngram = len(constants)
    values = np.empty(counts.sum(), dtype=np.uint64)
    written = 0
    start = 0
    for text in range(len(words)):
        width = min(ngram, words[text])
        for window in range(counts[text]):
            value = np.uint64(0)
            for position in range(width):
                value += word_hashes[start + window + position] * constants[position]
            values[written] = value
            written += 1
        start += words[text]
    return values
