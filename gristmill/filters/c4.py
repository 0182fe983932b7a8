"""C4 cleaning: line removal and page rules of the Colossal Clean Crawled Corpus.

Raffel et al., "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
Transformer" (JMLR 2020, §2.2), as in TensorFlow Datasets' ``c4_utils`` and datatrove's
``C4QualityFilter`` (whose defaults and order of rules are followed, so decisions agree):
each line is stripped and removed when a word is longer than 1,000 characters, when it does
not end in terminal punctuation (``. ? ! " '``, an ellipsis does not count), when it has
fewer than 3 words, when it mentions "javascript", or when it holds a cookie/terms-of-use
phrase; Wikipedia citation marks (``[1]``, ``[edit]``) are removed first. The whole page is
dropped when a kept line contains "lorem ipsum" or a curly bracket, or when the kept lines
hold fewer than 5 sentences (counted as spaCy's sentencizer counts them). The page is then
rewritten to its kept lines. Words of scripts written without spaces are segmented
(:func:`gristmill.segmentation.split_plain`); for them, ``end_punctuation`` (per language,
see ``by_language``) names their own sentence ends (``。！？``). (C4's bad-words rule is the ``keywords`` step.)
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache
from typing import ClassVar

import numpy as np
import pyarrow as pa
from pydantic import Field

from gristmill.filters.by_language import LanguageParameters
from gristmill.filters.signal_transform import SignalTransform
from gristmill.segmentation import SENTENCE_END, count_sentences, has_non_spaced, split_plain

_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_END_PUNCTUATION = (".", "?", "!", '"', "'")
POLICY_PHRASES = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
_SENTENCE_END_CHAR = re.compile("[" + re.escape("".join(sorted(SENTENCE_END))) + "]")


@cache
def _trailing_punctuation() -> str:
    """Whitespace and every Unicode punctuation character (what may follow a last sentence)."""
    chars = (chr(c) for c in range(0x20000))  # no punctuation lies beyond the SMP
    return "".join(c for c in chars if c.isspace() or unicodedata.category(c).startswith("P"))


def _words_at_most(line: str, limit: int) -> int:
    """The number of :func:`split_plain` words of ``line``, or ``limit`` when it has more
    (whitespace splitting stops early; scripts written without spaces are segmented)."""
    if has_non_spaced(line):
        return min(len(split_plain(line)), limit)
    return min(len(line.split(None, limit)), limit)


def line_sentences(line: str) -> int:
    """Sentences in one line; lines with no sentence end before their closing punctuation
    (most of them) are one sentence without tokenizing."""
    if _SENTENCE_END_CHAR.search(line.rstrip(_trailing_punctuation())) is None:
        return 1
    return count_sentences(line)


class C4Quality(LanguageParameters, SignalTransform):
    """C4's heuristic cleaning with datatrove's defaults; a rule is off when set to false
    (or, for the numbers, null).

    Reasons for dropping a page: ``lorem_ipsum``, ``curly_bracket``, ``too_few_sentences``.
    Counters: lines removed by rule (``lines_too_long_word``, ``lines_no_terminal_punct``,
    ``lines_too_few_words``, ``lines_javascript``, ``lines_policy``) and ``lines_kept``.
    Signals (with ``keep_signals``): ``sentences`` and ``lines_removed`` per page.
    """

    name = "c4"
    #: parameter → (signal, side) for ``gristmill calibrate``
    calibrated: ClassVar[dict[str, tuple[str, str]]] = {"min_num_sentences": ("sentences", "min")}

    remove_citations: bool = True
    end_punctuation: tuple[str, ...] = Field(
        _END_PUNCTUATION, description="line endings that count as terminal punctuation"
    )
    filter_no_terminal_punct: bool = True
    min_num_sentences: int | None = Field(5, ge=0)
    min_words_per_line: int | None = Field(3, ge=0)
    max_word_length: int | None = Field(1000, ge=1)
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True

    def clean(self, text: str, counters: Counter) -> tuple[str, str | None, int, int]:
        """The page's kept lines, its drop reason, its sentences and its removed lines."""
        kept: list[str] = []
        sentences = removed = 0
        for raw_line in text.splitlines():
            line = raw_line.strip()
            rule = None
            limit = self.max_word_length
            if limit is not None and len(line) > limit and max(map(len, line.split())) > limit:
                rule = "lines_too_long_word"
            else:
                if self.remove_citations and "[" in line:
                    line = _CITATION.sub("", line)
                if self.filter_no_terminal_punct and (
                    not line.endswith(self.end_punctuation) or line.endswith("...")
                ):
                    rule = "lines_no_terminal_punct"
                elif self.min_words_per_line is not None and (
                    _words_at_most(line, self.min_words_per_line) < self.min_words_per_line
                ):
                    rule = "lines_too_few_words"
            if rule is None:
                lowered = line.lower()
                if self.filter_lorem_ipsum and "lorem ipsum" in lowered:
                    return "", "lorem_ipsum", sentences, removed
                if self.filter_javascript and "javascript" in lowered:
                    rule = "lines_javascript"
                elif self.filter_curly_bracket and "{" in line:
                    return "", "curly_bracket", sentences, removed
                elif self.filter_policy and any(phrase in lowered for phrase in POLICY_PHRASES):
                    rule = "lines_policy"
            if rule is not None:
                counters[rule] += 1
                removed += 1
                continue
            if self.min_num_sentences is not None:
                sentences += line_sentences(line)
            kept.append(line)
        counters["lines_kept"] += len(kept)
        if self.min_num_sentences is not None and sentences < self.min_num_sentences:
            return "", "too_few_sentences", sentences, removed
        return "\n".join(kept).strip(), None, sentences, removed

    def clean_batch(
        self, batch: pa.Table
    ) -> tuple[list[str], list[str | None], Counter, dict[str, np.ndarray]]:
        texts: list[str] = []
        reasons: list[str | None] = []
        counters: Counter = Counter()
        sentences = np.zeros(batch.num_rows, dtype=np.int64)
        removed = np.zeros(batch.num_rows, dtype=np.int64)
        for index, text in enumerate(batch.column("text").to_pylist()):
            cleaned, reason, sentences[index], removed[index] = self.clean(text, counters)
            # a dropped page keeps its original text, so that rejected/ shows what was removed
            texts.append(text if reason else cleaned)
            reasons.append(reason)
        return texts, reasons, counters, {"sentences": sentences, "lines_removed": removed}
