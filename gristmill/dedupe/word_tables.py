"""Lookup tables that let compiled code normalise words exactly as Arrow's Unicode kernels do.

The reference normalisation of a MinHash word (:func:`normalize_words`) is a Unicode form
(NFKC by default), lowercasing, removal of punctuation and symbols (categories P*, S*),
decimal digits (Nd) kept or, with ``zero_digits``, mapped to ``0`` (datatrove's number
normalisation), and a space put on each side of every character of a script written
without spaces (:mod:`gristmill.scripts`: Han, kana, Thai, Lao, Khmer, Myanmar), after
which the word is split again on whitespace: each such character is a word by itself, so
word n-gram shingles are character n-grams there. The tables are derived by running those
very kernels on every character, so a table and the kernels cannot disagree:

- :func:`byte_tables`: per ASCII byte, whether it separates words, is dropped, or is kept
  (and as which byte);
- :func:`code_point_table`: the same per non-ASCII code point, plus the UTF-8 bytes a kept
  character becomes; ``SOLO`` marks a character that becomes one character of a script
  written without spaces (a word by itself). A character is *context-free* when normalising it cannot depend on
  its neighbours: its canonical combining class is 0, it never composes with a preceding
  character (it is not the second character of a canonical decomposition, nor a Hangul
  medial vowel or final consonant), and its normalised form has the same two properties
  at its start and combining class 0 throughout. By the Unicode quick-check argument
  (UAX #15), a word of context-free characters then normalises character by character;
  any other character is marked ``COMPLEX`` and its word goes through the Arrow kernels.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gristmill import scripts
from gristmill.dedupe.table_cache import cached_arrays
from gristmill.scripts import NON_SPACED_RANGES

#: Removed from words: Unicode punctuation (P*) and symbols (S*), as RE2 classes.
PUNCTUATION_AND_SYMBOLS = r"[\p{P}\p{S}]+"
DECIMAL_DIGIT = r"\p{Nd}"
UNICODE_FORMS = ("NFC", "NFKC", "NFD", "NFKD")

#: One character of a script written without spaces, as an RE2 class.
NON_SPACED_CHARACTER = (
    "["
    + "".join(f"\\x{{{start:04X}}}-\\x{{{end:04X}}}" for start, end, _ in NON_SPACED_RANGES)
    + "]"
)
#: ASCII punctuation and symbols: words by themselves in code (``code_tokens``).
ASCII_PUNCTUATION = frozenset(chr(c) for c in range(128) if unicodedata.category(chr(c))[0] in "PS")

#: Classes of a byte or code point. ``NON_ASCII`` (bytes only): look the code point up.
#: ``SOLO``: a word by itself (a code point of a script written without spaces; with
#: ``code_tokens``, an ASCII punctuation or symbol byte, which also ends the token).
SPACE, DROP, KEEP, NON_ASCII, SOLO = 0, 1, 2, 3, 4
COMPLEX = 3
#: Code points from here on are all ``COMPLEX`` (beyond the ideographic planes).
TABLE_LIMIT = 0x30000

_HANGUL_MEDIAL_VOWELS = range(0x1161, 0x1176)
_HANGUL_FINAL_CONSONANTS = range(0x11A8, 0x11C3)


def isolate_non_spaced(words: pa.Array) -> pa.Array:
    """Put a space between every character of a script written without spaces and its
    neighbours. The result is trimmed: pyarrow 26's ``utf8_split_whitespace`` sometimes
    keeps a trailing space in the last word of a string that ends with whitespace."""
    spaced = pc.replace_substring_regex(words, f"({NON_SPACED_CHARACTER})", " \\1 ")
    return pc.utf8_trim_whitespace(spaced)


def normalize_words(
    words: pa.Array, unicode_form: str | None = "NFKC", zero_digits: bool = False
) -> pa.Array:
    """Normalise each word with Arrow's Unicode kernels (the reference normalisation);
    split the result on whitespace to get the words."""
    if unicode_form is not None:
        words = pc.utf8_normalize(words, form=unicode_form)
    words = pc.utf8_lower(words)
    words = pc.replace_substring_regex(words, PUNCTUATION_AND_SYMBOLS, "")
    if zero_digits:
        words = pc.replace_substring_regex(words, DECIMAL_DIGIT, "0")
    return isolate_non_spaced(words)


@cache
def byte_tables(
    zero_digits: bool = False, code_tokens: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per byte value: its class (``SPACE``, ``DROP``, ``KEEP``, ``NON_ASCII``, ``SOLO``)
    and, for kept ASCII bytes, the normalised byte plus one (the term of the word hash)."""
    classes = np.full(256, NON_ASCII, dtype=np.uint8)
    mapped = np.arange(1, 257, dtype=np.uint64)
    characters = [chr(code) for code in range(128)]
    pieces = pc.list_value_length(
        pc.utf8_split_whitespace(pa.array([f"a{c}b" for c in characters]))
    ).to_pylist()
    normalized = normalize_words(pa.array(characters), zero_digits=zero_digits).to_pylist()
    for code in range(128):
        if pieces[code] == 2:
            classes[code] = SPACE
        elif code_tokens and chr(code) in ASCII_PUNCTUATION:
            classes[code] = SOLO
        elif normalized[code] == "":
            classes[code] = DROP
        else:
            classes[code] = KEEP
            mapped[code] = ord(normalized[code]) + 1
    return classes, mapped


@cache
def ascii_lowered(zero_digits: bool = False) -> np.ndarray:
    """Per byte: its normalised ASCII value (kept ASCII bytes), else the byte itself."""
    classes, mapped = byte_tables(zero_digits)
    lowered = np.arange(256, dtype=np.uint8)
    kept = classes == KEEP
    lowered[kept] = (mapped[kept] - 1).astype(np.uint8)
    return lowered


@cache
def _composing() -> frozenset[int]:
    """Code points that may compose with the character before them."""
    second = set(_HANGUL_MEDIAL_VOWELS) | set(_HANGUL_FINAL_CONSONANTS)
    for code in range(TABLE_LIMIT):
        mapping = unicodedata.decomposition(chr(code))
        if mapping and not mapping.startswith("<"):
            parts = mapping.split()
            if len(parts) == 2:
                second.add(int(parts[1], 16))
    return frozenset(second)


def _context_free(text: str, composing: frozenset[int]) -> bool:
    return (
        text != ""
        and ord(text[0]) not in composing
        and all(unicodedata.combining(char) == 0 for char in text)
    )


def _true(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


@cache
def code_point_table(
    unicode_form: str | None = "NFKC", zero_digits: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code point below :data:`TABLE_LIMIT`: its class (``SPACE``, ``DROP``, ``KEEP``,
    ``SOLO`` or ``COMPLEX``), and the UTF-8 bytes of a kept or solo character, as
    ``bytes[offsets[c] : offsets[c + 1]]``. ASCII entries are unused (see
    :func:`byte_tables`). Built once per environment and then loaded from disk
    (:mod:`gristmill.dedupe.table_cache`)."""
    kinds, offsets, data = cached_arrays(
        "code_point_table",
        [__file__, scripts.__file__],
        lambda: _build_code_point_table(unicode_form, zero_digits),
        unicode_form,
        zero_digits,
    )
    return kinds, offsets, data


def _build_code_point_table(
    unicode_form: str | None, zero_digits: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    composing = _composing()
    candidates = [
        code
        for code in range(0x80, TABLE_LIMIT)
        if not 0xD800 <= code < 0xE000
        and unicodedata.category(chr(code)) != "Cn"  # unassigned in Python's Unicode
        and code not in composing
        and unicodedata.combining(chr(code)) == 0
    ]
    characters = [chr(code) for code in candidates]
    formed = (
        pc.utf8_normalize(pa.array(characters), form=unicode_form).to_pylist()
        if unicode_form
        else characters
    )
    # a candidate is context-free itself; so must its normal form be, where it differs
    usable = np.array(
        [
            form == char or _context_free(form, composing)
            for char, form in zip(characters, formed, strict=True)
        ],
        dtype=bool,
    )
    framed = pa.array([f"a{char}b" for char in characters], pa.large_string())
    words = pc.utf8_split_whitespace(normalize_words(framed, unicode_form, zero_digits))
    count = pc.list_value_length(words).to_numpy(zero_copy_only=False)
    # one word "a<kept>b"; the words "a" and "b" joined by NUL (a separator); or the words
    # "a", one character of a script written without spaces, "b" (a solo character)
    joined = pc.binary_join(words, pa.scalar("\x00", pa.large_string()))
    framed_word = (
        (count == 1) & _true(pc.starts_with(joined, "a")) & _true(pc.ends_with(joined, "b"))
    )
    separating = _true(pc.equal(joined, "a\x00b"))
    solo_inner = pc.utf8_slice_codeunits(joined, 2, -2)
    solo = (
        (count == 3)
        & _true(pc.starts_with(joined, "a\x00"))
        & _true(pc.ends_with(joined, "\x00b"))
        & (pc.utf8_length(solo_inner).to_numpy(zero_copy_only=False) == 1)
        & _true(pc.match_substring_regex(solo_inner, f"^{NON_SPACED_CHARACTER}$"))
    )
    inner = pc.if_else(pa.array(solo), solo_inner, pc.utf8_slice_codeunits(joined, 1, -1))
    inner_bytes = pc.binary_length(inner).to_numpy(zero_copy_only=False)

    codes = np.array(candidates, dtype=np.int64)
    kept = usable & framed_word & (inner_bytes > 0)
    solo &= usable
    kinds = np.full(TABLE_LIMIT, COMPLEX, dtype=np.uint8)
    kinds[codes[usable & separating]] = SPACE
    kinds[codes[usable & framed_word & (inner_bytes == 0)]] = DROP
    kinds[codes[kept]] = KEEP
    kinds[codes[solo]] = SOLO
    emitted = kept | solo
    lengths = np.zeros(TABLE_LIMIT, dtype=np.int64)
    lengths[codes[emitted]] = inner_bytes[emitted]
    offsets = np.zeros(TABLE_LIMIT + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # in code point order, as the offsets are
    kept_inner = inner.filter(pa.array(emitted)).cast(pa.large_binary()).to_pylist()
    data = np.frombuffer(b"".join(kept_inner), dtype=np.uint8)
    return kinds, offsets, data.copy()
