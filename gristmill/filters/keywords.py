"""Keyword and boilerplate filtering: bad words, HTML/JS remnants, cookie banners, lorem ipsum.

The keyword-based filtering of the survey (§4.1.2). Bad words follow C4 (Raffel et al.
2020, §2.2), which dropped every page containing a word of the "List of Dirty, Naughty,
Obscene or Otherwise Bad Words", matched as whole words on lower-cased text (anywhere in
the text for Chinese, Japanese and Thai, written without spaces); lists are per language,
the language taken from a language-ID column (``lid_lang``) when the pipeline has one.
Boilerplate lines are those of extracted web pages that are not content: leftover HTML
tags, entities and JavaScript, cookie and terms-of-use notices (C4's policy lines and
RefinedWeb's line-wise corrections, Penedo et al. 2023) and lorem ipsum placeholders.
Each category either drops the document, removes the offending lines, or is off.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from gristmill.documents import decode_meta
from gristmill.filters.model_files import cached_per_file_version
from gristmill.filters.signal_transform import SignalTransform

WORDLIST_DIR = Path(__file__).with_name("wordlists")
#: languages written without spaces between words: match anywhere, not as whole words
_UNSPACED = frozenset({"ja", "th", "zh"})

#: leftover HTML tags and entities, and JavaScript (patterns valid in Python re and RE2)
_HTML_JS_PATTERN = (
    r"</?(?:div|span|script|style|iframe|table|tbody|tr|td|th|p|a|br|li|ul|ol|img|form|input"
    r"|button|meta|link|head|body|html|nav|footer|header|section|noscript)\b[^>]*>"
    r"|&(?:nbsp|amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);"
    r"|\bfunction\s*\([^)]*\)\s*\{|\bvar\s+[\w$]+\s*=|\b(?:document|window)\.\w+"
    r"|\$\(\s*(?:document|window|['\"])|\bjavascript:|\{\{|\}\}"
    r"|\b(?:enable|turn on) javascript\b|\bjavascript (?:is )?(?:disabled|required)\b"
)
#: cookie banners and terms-of-use notices
_COOKIES_TERMS_PATTERN = (
    r"\b(?:we use cookies|(?:this|our) (?:site|website) uses cookies|uses? of cookies"
    r"|accept (?:all )?cookies|cookie (?:policy|settings|consent|preferences|notice)"
    r"|privacy policy|terms (?:of|and) (?:use|service|conditions)|all rights reserved)\b"
)
_HTML_JS = re.compile(_HTML_JS_PATTERN, re.IGNORECASE)
_COOKIES_TERMS = re.compile(_COOKIES_TERMS_PATTERN, re.IGNORECASE)
_LOREM_IPSUM = re.compile(r"\blorem ipsum\b", re.IGNORECASE)

Action = Literal["drop", "remove_lines", "off"]


def read_word_list(path: Path) -> list[str]:
    """Words or phrases of a list file, one per line; blank lines and ``#`` comments skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ValueError(f"keywords: cannot read the word list {path}: {error}") from error
    return [line.strip().lower() for line in lines if line.strip() and not line.startswith("#")]


@cached_per_file_version()
def _bad_words(path: str, language: str) -> tuple[re.Pattern[str], str] | None:
    """The Python pattern matching a list's words, and an RE2 pattern matching a superset
    (no word boundaries) that screens whole batches first."""
    words = read_word_list(Path(path))
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    if language in _UNSPACED:
        return re.compile(alternatives), alternatives
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), alternatives


def _screen(text: pa.ChunkedArray, pattern: str) -> np.ndarray:
    """Which texts may match ``pattern`` (RE2, case-insensitive): one pass in C++."""
    found = pc.match_substring_regex(text, pattern, ignore_case=True)
    return found.to_numpy(zero_copy_only=False)


class Keywords(SignalTransform):
    """Bad words by language, HTML/JS remnants, cookie/terms lines and lorem ipsum.

    Each category's action is ``drop`` (remove the document), ``remove_lines`` (remove the
    lines that match) or ``off``. Defaults: documents with bad words are dropped (C4), as
    are lorem ipsum pages; boilerplate lines are removed. ``word_lists`` maps a language
    to a list file (default: the shipped ``en`` list); ``extra_phrases`` are treated as
    boilerplate (case-insensitive, literal). Signals: ``bad_words`` (matches),
    ``boilerplate_lines`` and ``lorem_ipsum`` (matching lines). Reasons: ``bad_words``,
    ``boilerplate``, ``lorem_ipsum``, and ``empty`` when removing lines left nothing.
    """

    name = "keywords"

    bad_words: Action = "drop"
    boilerplate: Action = "remove_lines"
    lorem_ipsum: Action = "drop"
    word_lists: dict[str, str] = Field(default_factory=dict)
    language_column: str | None = Field(
        "lid_lang", description="column with each document's language; missing = default"
    )
    default_language: str = "en"
    extra_phrases: tuple[str, ...] = ()

    def input_files(self) -> tuple[str, ...]:
        return tuple(self.word_lists.values())

    def _word_list_path(self, language: str) -> str | None:
        if language in self.word_lists:
            return self.word_lists[language]
        shipped = WORDLIST_DIR / f"{language}.txt"
        return str(shipped) if shipped.is_file() else None

    def _languages(self, batch: pa.Table) -> list[str]:
        column = self.language_column
        if column and column in batch.column_names:
            values = batch.column(column).to_pylist()
        else:
            values = [
                decode_meta(meta).get("language") for meta in batch.column("meta").to_pylist()
            ]
        return [str(v).split("_", 1)[0] if v else self.default_language for v in values]

    def _boilerplate_pattern(self) -> re.Pattern[str] | None:
        if not self.extra_phrases:
            return None
        return re.compile("|".join(re.escape(p) for p in self.extra_phrases), re.IGNORECASE)

    def clean_batch(
        self, batch: pa.Table
    ) -> tuple[list[str], list[str | None], Counter, dict[str, np.ndarray]]:
        size = batch.num_rows
        text_column = batch.column("text")
        languages = self._languages(batch)
        patterns: list[tuple[re.Pattern[str], str] | None] = []
        counters: Counter = Counter()
        for language in languages:
            path = None if self.bad_words == "off" else self._word_list_path(language)
            if self.bad_words != "off" and path is None:
                counters["bad_words_no_list"] += 1
            patterns.append(_bad_words(path, language) if path else None)
        screens = {pattern[1] for pattern in patterns if pattern is not None}
        may_be_bad = (_screen(text_column, "|".join(sorted(screens))) if screens
                      else np.zeros(size, dtype=bool))  # fmt: skip
        boilerplate = [_HTML_JS_PATTERN, _COOKIES_TERMS_PATTERN]
        boilerplate += [re.escape(phrase) for phrase in self.extra_phrases]
        may_be_boilerplate = (_screen(text_column, "|".join(boilerplate)) if self.boilerplate != "off"
                              else np.zeros(size, dtype=bool))  # fmt: skip
        may_be_lorem = (_screen(text_column, "lorem ipsum") if self.lorem_ipsum != "off"
                        else np.zeros(size, dtype=bool))  # fmt: skip

        texts: list[str] = []
        reasons: list[str | None] = []
        found = np.zeros((3, size), dtype=np.int64)
        extra = self._boilerplate_pattern()
        for index, text in enumerate(text_column.to_pylist()):
            bad = patterns[index][0] if patterns[index] is not None and may_be_bad[index] else None
            cleaned, reason, counts = self._clean(
                text, bad, extra if may_be_boilerplate[index] else None,
                bool(may_be_boilerplate[index]), bool(may_be_lorem[index]), counters,
            )  # fmt: skip
            found[:, index] = counts
            texts.append(text if reason and reason != "empty" else cleaned)
            reasons.append(reason)
        signals = {"bad_words": found[0], "boilerplate_lines": found[1], "lorem_ipsum": found[2]}
        return texts, reasons, counters, signals

    def _clean(
        self,
        text: str,
        bad: re.Pattern[str] | None,
        extra: re.Pattern[str] | None,
        may_be_boilerplate: bool,
        may_be_lorem: bool,
        counters: Counter,
    ) -> tuple[str, str | None, tuple[int, int, int]]:
        lowered = text.lower() if bad is not None else ""
        has_bad = bad is not None and bad.search(lowered) is not None
        has_boilerplate = may_be_boilerplate and bool(
            _HTML_JS.search(text) or _COOKIES_TERMS.search(text) or (extra and extra.search(text))
        )
        has_lorem = may_be_lorem and _LOREM_IPSUM.search(text) is not None
        if not (has_bad or has_boilerplate or has_lorem):
            return text, None, (0, 0, 0)
        bad_count = len(bad.findall(lowered)) if has_bad and bad is not None else 0
        kept: list[str] = []
        boilerplate_lines = lorem_lines = 0
        for line in text.split("\n"):
            category = None
            if has_bad and bad is not None and bad.search(line.lower()):
                category = "bad_words"
            elif has_boilerplate and (
                _HTML_JS.search(line)
                or _COOKIES_TERMS.search(line)
                or (extra and extra.search(line))
            ):
                category = "boilerplate"
                boilerplate_lines += 1
            elif has_lorem and _LOREM_IPSUM.search(line):
                category = "lorem_ipsum"
                lorem_lines += 1
            if category is not None and getattr(self, category) == "remove_lines":
                counters[f"lines_removed_{category}"] += 1
                continue
            kept.append(line)
        counts = (bad_count, boilerplate_lines, lorem_lines)
        for category, count in zip(
            ("bad_words", "boilerplate", "lorem_ipsum"), counts, strict=True
        ):
            if count and getattr(self, category) == "drop":
                return text, category, counts
        cleaned = "\n".join(kept).strip()
        return cleaned, (None if cleaned else "empty"), counts
