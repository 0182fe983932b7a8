"""Script detection for language ID: scripts that are written by one language.

A text whose letters are mostly Hangul is Korean, mostly Thai letters is Thai, and so on
for the scripts below; Han characters with kana are Japanese, Han alone is Chinese. The
rule answers those texts before any model runs (the CLD3 paper, Salcianu et al. 2016,
and GlotLID, Kargaran et al. 2023, likewise use the script as the first feature), which
is faster and settles the zh/ja confusions of character-n-gram models on short
Han-heavy lines. Scripts shared by many languages (Latin, Cyrillic, Arabic, Devanagari,
Bengali, Hebrew, Ethiopic) are left to the models. One regex pass counts the letters of
each script over the first ``SAMPLE_CHARS`` characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

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
SAMPLE_CHARS = 2000
#: share of the letters a script must hold to decide the language
DOMINANT_SHARE = 0.6
#: fewer letters than this and the script says nothing (digits, symbols, a word or two)
MIN_LETTERS = 8

_SCRIPTS = ("Han", "Hiragana", "Katakana", *SINGLE_LANGUAGE_SCRIPTS)
_RUNS = regex.compile("|".join(f"(\\p{{Script={name}}}+)" for name in _SCRIPTS))
_LETTERS = regex.compile(r"[\p{L}\p{M}]")  # Thai, Indic vowel signs are marks


@dataclass(frozen=True)
class ScriptVerdict:
    """The language a text's script settles, and the share of its letters in that script."""

    language: str
    share: float


def script_language(text: str) -> ScriptVerdict | None:
    """The language written in the dominant script of ``text``, when the script decides it."""
    sample = text[:SAMPLE_CHARS]
    letters = len(_LETTERS.findall(sample))
    if letters < MIN_LETTERS:
        return None
    counts = dict.fromkeys(_SCRIPTS, 0)
    for match in _RUNS.finditer(sample):
        counts[_SCRIPTS[match.lastindex - 1]] += match.end() - match.start()
    kana = counts["Hiragana"] + counts["Katakana"]
    if kana >= 0.1 * letters and kana + counts["Han"] >= DOMINANT_SHARE * letters:
        return ScriptVerdict("ja", (kana + counts["Han"]) / letters)
    if counts["Hangul"] >= 0.5 * letters:
        return ScriptVerdict("ko", (counts["Hangul"] + counts["Han"]) / letters)
    if counts["Han"] >= DOMINANT_SHARE * letters and kana <= 0.02 * letters:
        return ScriptVerdict("zh", counts["Han"] / letters)
    for script, language in SINGLE_LANGUAGE_SCRIPTS.items():
        if counts[script] >= DOMINANT_SHARE * letters:
            return ScriptVerdict(language, counts[script] / letters)
    return None
