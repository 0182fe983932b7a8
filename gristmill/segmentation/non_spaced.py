"""Segmenters for runs of text in scripts written without spaces between words.

FineWeb-2 (Penedo et al. 2025, "FineWeb2: One Pipeline to Scale Them All") counts words
with datatrove's per-language word tokenizers: Chinese with jieba (through spaCy), Japanese
with SudachiPy (spaCy's Japanese), Thai with PyThaiNLP, Khmer with khmer-nltk, Lao with
LaoNLP; NeMo Curator treats the same scripts specially. The segmenters here follow that
choice where a maintained package ships its dictionary inside (nothing is downloaded at
run time), loaded lazily once per process:

- ``jieba`` for Han text (Chinese): dictionary and HMM for unknown words (Sun 2012);
- ``fugashi`` with ``unidic-lite`` for text holding kana (Japanese): MeCab (Kudo et al.
  2004) with the UniDic short-unit dictionary (units close to Sudachi's shortest mode);
- ``pythainlp`` ``newmm`` for Thai: maximal matching over its Thai word list;
- orthographic clusters for Lao, Khmer and Myanmar (a dictionary-free scheme, close to
  syllables): a cluster starts at a base character, and vowel signs and other combining
  marks, stacked consonants (after Khmer coeng or Myanmar virama), killed consonants (before
  Myanmar asat) and the consonant after a Lao leading vowel stay with it. A final consonant
  without a killer mark (Lao, Khmer) starts a cluster of its own: word counts are high for
  those languages, which per-language thresholds (``by_language``) absorb.

Dictionary-free alternatives (``characters``: one word per character, as spaCy's default
Chinese tokenizer; ``script_runs``: a word per run of one script) are kept for comparison;
``bench/segmentation.py`` measures all of them (numbers in its docstring).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from functools import cache

from gristmill.scripts import NON_SPACED_RANGES

Segmenter = Callable[[str], list[str]]


def _script_class(*scripts: str) -> str:
    """A regex character class body of the blocks of ``scripts``."""
    return "".join(
        f"{re.escape(chr(start))}-{re.escape(chr(end))}"
        for start, end, script in NON_SPACED_RANGES
        if script in scripts
    )


#: the scripts of one writing system, segmented together (Japanese mixes Han and kana)
WRITING_SYSTEMS: dict[str, tuple[str, ...]] = {
    "cjk": ("Han", "Hiragana", "Katakana", "Bopomofo"),
    "thai": ("Thai",),
    "lao": ("Lao",),
    "khmer": ("Khmer",),
    "myanmar": ("Myanmar",),
}
#: a run of one writing system (named group per system)
SYSTEM_RUN = re.compile(
    "|".join(
        f"(?P<{name}>[{_script_class(*scripts)}]+)" for name, scripts in WRITING_SYSTEMS.items()
    )
)
#: any character of a script written without spaces (one class: a fast first check; the
#: alternation of :data:`SYSTEM_RUN` scans ten times slower)
NON_SPACED_CHAR = re.compile(
    "[" + _script_class(*(s for scripts in WRITING_SYSTEMS.values() for s in scripts)) + "]"
)
#: any kana: a CJK document holding some is Japanese
KANA = re.compile(f"[{_script_class('Hiragana', 'Katakana')}]")


def characters(run: str) -> list[str]:
    """One word per character (dictionary-free; spaCy's default for Chinese)."""
    return list(run)


_SCRIPT_RUN = re.compile(
    "|".join(
        f"[{_script_class(script)}]+" for script in ("Han", "Hiragana", "Katakana", "Bopomofo")
    )
)


def script_runs(run: str) -> list[str]:
    """One word per run of a single script (dictionary-free; kanji / kana boundaries)."""
    return _SCRIPT_RUN.findall(run)


@cache
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    # jieba's own initialize() writes its cache to the temporary folder; gristmill builds
    # the prefix dictionary from the shipped one and keeps it with its other derived tables
    tokenizer.FREQ, tokenizer.total = _jieba_prefix_dictionary(tokenizer)
    tokenizer.initialized = True
    return tokenizer


def _jieba_prefix_dictionary(tokenizer: object) -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary (``gen_pfdict`` of its shipped ``dict.txt``: 1.0 CPU s),
    through :mod:`gristmill.dedupe.table_cache` (0.24 s to load): the words joined by
    newlines as bytes, their frequencies and the total."""
    import numpy as np

    from gristmill.dedupe.table_cache import cached_arrays

    with tokenizer.get_dict_file() as shipped:  # type: ignore[attr-defined]
        dictionary_path = shipped.name

    def build() -> tuple[np.ndarray, ...]:
        with open(dictionary_path, "rb") as dictionary:
            frequencies, total = tokenizer.gen_pfdict(dictionary)  # type: ignore[attr-defined]
        words = "\n".join(frequencies).encode()
        return (
            np.frombuffer(words, dtype=np.uint8),
            np.fromiter(frequencies.values(), dtype=np.int64, count=len(frequencies)),
            np.array([total], dtype=np.int64),
        )

    words, counts, total = cached_arrays(
        "jieba-prefix-dictionary", [__file__, dictionary_path], build
    )
    keys = words.tobytes().decode().split("\n")
    return dict(zip(keys, counts.tolist(), strict=True)), int(total[0])


def jieba_words(run: str) -> list[str]:
    """Chinese words by jieba (dictionary DAG + HMM for unknown words)."""
    return _jieba().lcut(run)


@cache
def _mecab() -> object:
    import fugashi

    return fugashi.Tagger()  # unidic-lite, shipped inside its package


def mecab_words(run: str) -> list[str]:
    """Japanese short-unit words by MeCab (fugashi) with UniDic (unidic-lite)."""
    return [word.surface for word in _mecab()(run)]


@cache
def _newmm() -> Segmenter:
    from pythainlp.tokenize.newmm import segment

    return segment


def thai_words(run: str) -> list[str]:
    """Thai words by PyThaiNLP's ``newmm`` maximal matching."""
    return [word for word in _newmm()(run) if word.strip()]


#: characters that attach to the syllable before them: stacked consonants follow these
_STACKERS = frozenset("\u17d2\u1039")
#: characters that attach to the one before them although they are not combining marks
#: (Myanmar asat and dot below, Khmer signs, Lao vowels of category Lo: ະ າ ຳ ຽ)
_ATTACH = frozenset(
    "\u103a\u1037\u17cb\u17cc\u17cd\u17ce\u17cf\u17d0\u17d1\u17d3\u17dd\u0eb0\u0eb2\u0eb3\u0ebd"
)
#: Lao leading vowels written before the consonant they follow in speech
_LEADING = frozenset("\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4")


def syllables(run: str) -> list[str]:
    """Orthographic syllables of Lao, Khmer or Myanmar text (dictionary-free)."""
    out: list[str] = []
    start = 0
    for index in range(1, len(run)):
        char, before = run[index], run[index - 1]
        if (
            unicodedata.category(char)[0] == "M"
            or char in _ATTACH
            or before in _STACKERS
            or before in _LEADING
            or run[index + 1 : index + 2] == "\u103a"  # Myanmar consonant killed by asat
        ):
            continue
        out.append(run[start:index])
        start = index
    out.append(run[start:])
    return [syllable for syllable in out if syllable]


#: segmenter names usable for each writing system (the first is the default)
SEGMENTERS: dict[str, dict[str, Segmenter]] = {
    "chinese": {"jieba": jieba_words, "characters": characters},
    "japanese": {"mecab": mecab_words, "script_runs": script_runs, "characters": characters},
    "thai": {"newmm": thai_words, "syllables": syllables},
    "lao": {"syllables": syllables},
    "khmer": {"syllables": syllables},
    "myanmar": {"syllables": syllables},
}


def default_segmenter(system: str) -> Segmenter:
    """The default segmenter of a writing system (``chinese``, ``japanese``, ``thai``...)."""
    return next(iter(SEGMENTERS[system].values()))
