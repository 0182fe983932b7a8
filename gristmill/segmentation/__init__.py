"""Word segmentation by script: the one splitter of every step that counts words.

Text is scanned for runs of the scripts written without spaces (:mod:`gristmill.scripts`:
Han, kana, Thai, Lao, Khmer, Myanmar). Text outside those runs is split as today: by
:func:`split_words` with spaCy's English rules (:mod:`gristmill.segmentation.english`, what
datatrove's Gopher, C4 and FineWeb filters use), or by :func:`split_plain` on whitespace
(what the ``length`` step counts). Each run is segmented by its writing system's segmenter
(:mod:`gristmill.segmentation.non_spaced`): jieba for Chinese, MeCab for Japanese (a
document holding any kana is Japanese, so its kanji go through MeCab too), PyThaiNLP for
Thai, orthographic syllables for Lao, Khmer and Myanmar. This follows FineWeb-2's per
language word tokenizers (Penedo et al. 2025) with the language read off the script, so no
language ID is needed and mixed pages (English with Chinese names) split correctly. Text
without such runs takes the English path unchanged, so English decisions and the datatrove
agreement do not move.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from gristmill.segmentation.batch import BatchWords, batch_words
from gristmill.segmentation.english import split_english
from gristmill.segmentation.english_batch import split_english_batch
from gristmill.segmentation.non_spaced import (
    KANA,
    NON_SPACED_CHAR,
    SYSTEM_RUN,
    default_segmenter,
)
from gristmill.segmentation.punctuation import (
    SENTENCE_END,
    TERMINAL_PUNCTUATION,
    count_sentences_in,
    is_punctuation,
)

__all__ = [
    "SENTENCE_END",
    "TERMINAL_PUNCTUATION",
    "BatchWords",
    "count_sentences",
    "count_plain_words",
    "count_words",
    "has_non_spaced",
    "is_punctuation",
    "segment_run",
    "split_batch",
    "split_plain",
    "split_words",
]


#: short runs recently segmented, and their words: a page's menus and footers ("首页",
#: "联系我们") repeat the same runs from page to page. On the e2e bench's English pages with
#: Chinese page furniture, 14,845 runs were 82 distinct ones, and jieba was 2.9 of the
#: 22 CPU s of word splitting. The cache is emptied when it reaches RUN_CACHE_SIZE entries
#: (a few MiB); longer runs (running text) seldom repeat and are not kept.
RUN_CACHE_SIZE = 20_000
RUN_CACHE_MAX_CHARS = 32
_run_cache: dict[tuple[str, str], tuple[str, ...]] = {}


def segment_run(run: str, system: str, japanese: bool = False) -> list[str]:
    """Words of ``run``, a run of one writing system (a :data:`SYSTEM_RUN` group name)."""
    if system == "cjk":
        system = "japanese" if japanese else "chinese"
    if len(run) > RUN_CACHE_MAX_CHARS:
        return default_segmenter(system)(run)
    key = (run, system)
    words = _run_cache.get(key)
    if words is None:
        words = tuple(default_segmenter(system)(run))
        if len(_run_cache) >= RUN_CACHE_SIZE:
            _run_cache.clear()
        _run_cache[key] = words
    return list(words)


def has_non_spaced(text: str) -> bool:
    """Whether ``text`` holds a character of a script written without spaces."""
    return not text.isascii() and NON_SPACED_CHAR.search(text) is not None


def _split(text: str, split_rest) -> list[str]:
    first = NON_SPACED_CHAR.search(text) if not text.isascii() else None
    if first is None:
        return split_rest(text)
    japanese = KANA.search(text) is not None
    words: list[str] = []
    position = 0
    for match in SYSTEM_RUN.finditer(text, first.start()):
        if match.start() > position:
            words.extend(split_rest(text[position : match.start()]))
        words.extend(segment_run(match.group(), match.lastgroup or "", japanese))
        position = match.end()
    if position < len(text):
        words.extend(split_rest(text[position:]))
    return words


def split_words(text: str) -> list[str]:
    """The words of ``text``: spaCy's English rules outside runs of non-spaced scripts
    (punctuation marks are words), the script's segmenter inside them."""
    return _split(text, split_english)


def _split_whitespace(text: str) -> list[str]:
    """Whitespace words; pieces left between non-spaced runs that hold no letter or digit
    (a comma after a Chinese word) are not words."""
    return [chunk for chunk in text.split() if not is_punctuation(chunk)]


def split_plain(text: str) -> list[str]:
    """The words of ``text`` on whitespace, with runs of non-spaced scripts segmented.

    Text without such runs gives exactly ``text.split()``."""
    if not has_non_spaced(text):
        return text.split()
    return _split(text, _split_whitespace)


def count_sentences(text: str) -> int:
    """Sentences in ``text`` as spaCy's sentencizer finds them (at least 1); a Chinese or
    Japanese ``。`` ends a sentence like a full stop, since segmented words stand apart."""
    return count_sentences_in(split_words(text))


def _split_words_batch(texts: Sequence[str]) -> tuple[pa.Array, np.ndarray]:
    return split_english_batch(texts, has_non_spaced, split_words)


def split_batch(texts: Sequence[str]) -> BatchWords:
    """Every text of a batch split with :func:`split_words`, flattened for Arrow kernels
    (:mod:`gristmill.segmentation.english_batch` does the work)."""
    return batch_words(texts, split_words, "words", _split_words_batch)


def count_words(texts: Sequence[str]) -> np.ndarray:
    """Number of words of every text of a batch (as :func:`split_batch` counts them)."""
    return split_batch(texts).counts


def count_plain_words(texts: Sequence[str]) -> np.ndarray:
    """Number of :func:`split_plain` words of every text of a batch."""
    return np.fromiter((len(split_plain(text)) for text in texts), np.int64, len(texts))
