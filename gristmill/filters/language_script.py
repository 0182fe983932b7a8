"""Script detection for language ID: scripts that are written by one language.

A text whose letters are mostly Hangul is Korean, mostly Thai letters is Thai, and so on
for the scripts below; Han characters with kana are Japanese, Han alone is Chinese. The
rule answers those texts before any model runs (the CLD3 paper, Salcianu et al. 2016,
and GlotLID, Kargaran et al. 2023, likewise use the script as the first feature), which
is faster and settles the zh/ja confusions of character-n-gram models on short
Han-heavy lines. Scripts shared by many languages (Latin, Cyrillic, Arabic, Devanagari,
Bengali, Hebrew, Ethiopic) are left to the models. Regex range classes count the letters of
each script over the first ``SAMPLE_CHARS`` characters, after one search has
found any of them at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gristmill.scripts import NON_SPACED_RANGES

#: Unicode script → the language written in it (ISO 639-1)
SINGLE_LANGUAGE_SCRIPTS: dict[str, str] = {
    "Hangul": "ko",
    "Thai": "th",
    "Lao": "lo",
    "Khmer": "km",
    "Myanmar": "my",
    "Greek": "el",
    "Armenian": "hy",
    "Georgian": "ka",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Sinhala": "si",
    "Oriya": "or",
    "Tibetan": "bo",
    "Thaana": "dv",
}
#: (first, last code point, script) of the blocks of the scripts above that
#: :mod:`gristmill.scripts` does not list already (Unicode 15 blocks)
_MORE_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "Greek"),
    (0x1F00, 0x1FFF, "Greek"),  # Greek Extended (polytonic)
    (0x0530, 0x058F, "Armenian"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1C90, 0x1CBF, "Georgian"),  # Mtavruli
    (0x2D00, 0x2D2F, "Georgian"),
    (0x0780, 0x07BF, "Thaana"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1100, 0x11FF, "Hangul"),  # Jamo
    (0x3130, 0x318F, "Hangul"),  # compatibility Jamo
    (0xA960, 0xA97F, "Hangul"),
    (0xAC00, 0xD7FF, "Hangul"),  # syllables, Jamo extended B
)
SAMPLE_CHARS = 2000
#: share of the letters a script must hold to decide the language
DOMINANT_SHARE = 0.6
#: fewer letters than this and the script says nothing (digits, symbols, a word or two);
#: the shares below are of words (or characters, for scripts written without spaces)
MIN_LETTERS = 8


def _character_class(ranges) -> str:
    return "[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges) + "]"


_RANGES = (*NON_SPACED_RANGES, *_MORE_RANGES)
_SCRIPTS = tuple(dict.fromkeys(script for _, _, script in _RANGES))
#: one pattern per script (stdlib ``re`` range classes: a C range test per character);
#: scripts written with spaces count words, as the other letters do, those written
#: without (Han, kana, Thai, ...) count characters, about one syllable each
_SPACED_SCRIPTS = {script for _, _, script in _MORE_RANGES}
_BY_SCRIPT = {
    script: re.compile(
        _character_class((a, b) for a, b, s in _RANGES if s == script)
        + ("+" if script in _SPACED_SCRIPTS else "")
    )
    for script in _SCRIPTS
}
#: any character of those scripts: most text (Latin, Cyrillic, Arabic, ...) has none, and
#: one search answers it without counting
_ANY = re.compile(_character_class((first, last) for first, last, _ in _RANGES))
#: runs of letters outside those scripts (a Latin name in Chinese text): each counts
#: once, as one Han character or Thai syllable does, so that "ω-force" or an English
#: product name does not outweigh the Chinese sentence around it
_OTHER_WORDS = re.compile(
    "[^\\W\\d_" + _character_class((a, b) for a, b, _ in _RANGES)[1:-1] + "]+"
)


@dataclass(frozen=True)
class ScriptVerdict:
    """The language a text's script settles, and the share of its letters in that script."""

    language: str
    share: float


def script_language(text: str) -> ScriptVerdict | None:
    """The language written in the dominant script of ``text``, when the script decides it."""
    sample = text[:SAMPLE_CHARS]
    if _ANY.search(sample) is None:
        return None
    counts = dict.fromkeys(_SCRIPTS, 0)
    characters = 0
    for script, pattern in _BY_SCRIPT.items():
        found = pattern.findall(sample)
        counts[script] = len(found)
        characters += sum(map(len, found))
    other_words = _OTHER_WORDS.findall(sample)
    if characters + sum(map(len, other_words)) < MIN_LETTERS:
        return None
    letters = sum(counts.values()) + len(other_words)
    kana = counts["Hiragana"] + counts["Katakana"]
    if kana >= 0.2 * letters and kana + counts["Han"] >= DOMINANT_SHARE * letters:
        return ScriptVerdict("ja", (kana + counts["Han"]) / letters)
    if counts["Hangul"] >= 0.5 * letters:
        return ScriptVerdict("ko", (counts["Hangul"] + counts["Han"]) / letters)
    if counts["Han"] >= DOMINANT_SHARE * letters and kana < 0.05 * letters:
        return ScriptVerdict("zh", counts["Han"] / letters)
    for script, language in SINGLE_LANGUAGE_SCRIPTS.items():
        if counts[script] >= DOMINANT_SHARE * letters:
            return ScriptVerdict(language, counts[script] / letters)
    return None
