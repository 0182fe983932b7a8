"""Chinese web heuristics: share of Han characters, sentence length, script variant, spam.

Rules of the kind Chinese pretraining corpora apply before (or instead of) the English
Gopher/C4 rules: ChineseWebText (Chen et al. 2023) keeps, in its rule-based stage, pages whose
share of Chinese characters is high enough and removes pages with sensitive or spam words;
WuDaoCorpora (Yuan et al. 2021) and Yuan 1.0 (Wu et al. 2021) drop advertising, gambling
and adult pages by keyword and remove pages made of very short fragments. Signals:

- ``han_ratio``: Han characters among the characters that are neither space nor
  punctuation (:mod:`gristmill.scripts` ranges);
- ``mean_sentence_chars`` and ``max_sentence_chars``: non-space characters per sentence,
  sentences ending at ``。！？!?；`` or a line break (navigation menus have 2 to 6 per
  sentence, prose about 20 to 60);
- ``traditional_ratio``: among the characters written differently in simplified and
  traditional Chinese (OpenCC's character tables, shipped in ``opencc-python-reimplemented``),
  the share in traditional form; ``script`` tags the page ``Hans``, ``Hant``, ``mixed`` or
  ``none`` (no distinguishing character);
- ``spam_phrases``: occurrences of the phrases of ``wordlists/zh_spam.txt`` (gambling,
  adult, fake invoices, get-rich schemes, contact-me bait), or of ``spam_phrases_file``.

The default thresholds are gristmill's, set on the zh_wiki_cmrc passages (all of which
pass) and meant to be re-derived with ``gristmill calibrate``; every one can be set to null.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from gristmill.filters.by_language import LanguageParameters
from gristmill.filters.decisions import above, below, first_failing
from gristmill.scripts import NON_SPACED_RANGES
from gristmill.steps import Filter

WORDLIST_DIR = Path(__file__).with_name("wordlists")
_HAN = re.compile(
    "["
    + "".join(f"{chr(a)}-{chr(b)}" for a, b, script in NON_SPACED_RANGES if script == "Han")
    + "]"
)
_CONTENT = re.compile(r"[^\W_]")  # letters, digits and ideographs
_SENTENCE_BREAK = re.compile(r"[。！？!?；;\n]+")
Script = Literal["Hans", "Hant", "mixed", "none"]


@cache
def variant_characters() -> tuple[frozenset[str], frozenset[str]]:
    """(simplified-only, traditional-only) characters from OpenCC's tables."""
    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("chinese_quality needs opencc-python-reimplemented (OpenCC tables)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "dictionary"

    def table(name: str) -> dict[str, list[str]]:
        rows = (line.split("\t") for line in (folder / name).read_text("utf-8").splitlines())
        return {row[0]: row[1].split() for row in rows if len(row) == 2}

    to_simplified = table("TSCharacters.txt")
    to_traditional = table("STCharacters.txt")
    traditional = {t for t, simple in to_simplified.items() if t not in simple and len(t) == 1}
    simplified = {s for s, trad in to_traditional.items() if s not in trad and len(s) == 1}
    return frozenset(simplified - traditional), frozenset(traditional - simplified)


@cache
def _spam_pattern(path: str) -> re.Pattern[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    phrases = sorted({line.strip() for line in lines if line.strip() and not line.startswith("#")})
    return re.compile("|".join(map(re.escape, sorted(phrases, key=len, reverse=True))))


class ChineseQuality(LanguageParameters, Filter):
    """Han share, sentence length, simplified/traditional tag and spam phrases (see module)."""

    name = "chinese_quality"
    #: parameter → (signal, side) for ``gristmill calibrate``
    calibrated: ClassVar[dict[str, tuple[str, str]]] = {
        "min_han_ratio": ("han_ratio", "min"),
        "min_mean_sentence_chars": ("mean_sentence_chars", "min"),
        "max_mean_sentence_chars": ("mean_sentence_chars", "max"),
    }

    min_han_ratio: float | None = Field(0.3, ge=0, le=1)
    min_mean_sentence_chars: float | None = Field(8, ge=0)
    max_mean_sentence_chars: float | None = Field(300, ge=0)
    max_spam_phrases: int | None = Field(2, ge=0)
    keep_scripts: tuple[Script, ...] = ("Hans", "Hant", "mixed", "none")
    spam_phrases_file: str = Field(
        str(WORDLIST_DIR / "zh_spam.txt"), description="phrases matched as substrings"
    )

    def input_files(self) -> tuple[str, ...]:
        return (*super().input_files(), self.spam_phrases_file)

    def signals(self, batch: pa.Table) -> dict[str, np.ndarray]:
        texts = batch.column("text").to_pylist()
        size = len(texts)
        simplified, traditional = variant_characters()
        spam = _spam_pattern(self.spam_phrases_file)
        han, content, mean_sentence, max_sentence, trad_ratio, spam_count = np.zeros((6, size))
        scripts: list[str] = []
        for index, text in enumerate(texts):
            han_chars = _HAN.findall(text)
            han[index] = len(han_chars)
            content[index] = len(_CONTENT.findall(text))
            lengths = [len("".join(s.split())) for s in _SENTENCE_BREAK.split(text)]
            lengths = [length for length in lengths if length]
            mean_sentence[index] = np.mean(lengths) if lengths else 0.0
            max_sentence[index] = max(lengths, default=0)
            simple = sum(char in simplified for char in han_chars)
            trad = sum(char in traditional for char in han_chars)
            trad_ratio[index] = trad / (simple + trad) if simple + trad else np.nan
            scripts.append(_script_tag(simple, trad))
            spam_count[index] = len(spam.findall(text))
        ratio = np.divide(han, content, out=np.zeros(size), where=content > 0)
        return {
            "han_ratio": ratio,
            "mean_sentence_chars": mean_sentence,
            "max_sentence_chars": max_sentence.astype(np.int64),
            "traditional_ratio": trad_ratio,
            "script": pa.array(scripts, pa.string()),
            "spam_phrases": spam_count.astype(np.int64),
        }

    def thresholds(self) -> dict[str, list[float]]:
        pairs = {
            "han_ratio": [self.min_han_ratio],
            "mean_sentence_chars": [self.min_mean_sentence_chars, self.max_mean_sentence_chars],
            "spam_phrases": [self.max_spam_phrases],
        }
        return {name: [v for v in values if v is not None] for name, values in pairs.items()}

    def decide(self, signals: dict[str, np.ndarray]) -> Sequence[str | None]:
        scripts = np.array(signals["script"].to_pylist(), dtype=object)
        return first_failing(
            len(scripts),
            [
                (below(signals, "han_ratio", self.min_han_ratio), "min_han_ratio"),
                (
                    below(signals, "mean_sentence_chars", self.min_mean_sentence_chars),
                    "min_mean_sentence_chars",
                ),
                (
                    above(signals, "mean_sentence_chars", self.max_mean_sentence_chars),
                    "max_mean_sentence_chars",
                ),
                (~np.isin(scripts, list(self.keep_scripts)), "script"),
                (above(signals, "spam_phrases", self.max_spam_phrases), "spam_phrases"),
            ],
        )


def _script_tag(simplified: int, traditional: int) -> str:
    """``Hans`` or ``Hant`` when at least 80 % of the distinguishing characters agree."""
    total = simplified + traditional
    if total == 0:
        return "none"
    if simplified >= 0.8 * total:
        return "Hans"
    return "Hant" if traditional >= 0.8 * total else "mixed"
