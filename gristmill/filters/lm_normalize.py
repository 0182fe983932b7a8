"""Text normalisation before n-gram language modelling, after CCNet's ``text_normalizer``.

CCNet (Wenzek et al. 2020, §3.3) normalises every line before SentencePiece and KenLM, both
when training the models and when scoring: lower case, accents removed (NFD, then
combining marks dropped), every digit replaced by 0, Unicode punctuation mapped to ASCII
(full-width CJK punctuation, curly quotes, dashes, ...) and non-printing characters
removed. The same function runs at training and scoring time, so it lives here.

For speed a batch is rewritten at once: the texts are lower-cased and decomposed by C
code, joined, viewed as UTF-32 code points in numpy and mapped through one lookup table
(code point → replacement, 0 = delete), then cut back into documents — about 10x faster
than a per-character ``str.translate``.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Sequence

import numpy as np

#: one-character replacements of Unicode punctuation (CCNet's "punct=1" families)
_PUNCTUATION = {
    "，": ",",
    "、": ",",
    "„": '"',
    "”": '"',
    "“": '"',
    "«": '"',
    "»": '"',
    "」": '"',
    "「": '"',
    "《": '"',
    "》": '"',
    "´": "'",
    "∶": ":",
    "：": ":",
    "？": "?",
    "！": "!",
    "（": "(",
    "）": ")",
    "；": ";",
    "–": "-",
    "～": "~",
    "’": "'",
    "‘": "'",
    "━": "-",
    "〈": "<",
    "〉": ">",
    "【": "[",
    "】": "]",
    "％": "%",
    "►": "-",
    "‹": '"',
    "›": '"',
    "‚": ",",
    "′": "'",
    "″": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "―": "-",
    "·": " ",
    "•": " ",
    "\u00a0": " ",
    "\t": " ",
}
#: replacements longer than one character, applied with ``str.replace`` when present
_EXPANSIONS = {"。": ". ", "．": ". ", "—": " - ", "…": "..."}


@functools.cache
def _code_point_map() -> np.ndarray:
    """code point → its replacement code point; 0 deletes (built once per process)."""
    table = np.arange(sys.maxunicode + 1, dtype=np.uint32)
    for code in range(0x80, sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category == "Nd":
            table[code] = ord("0")
        elif category in ("Mn", "Cc", "Cf", "Co", "Cs"):
            table[code] = 0
    table[ord("1") : ord("9") + 1] = ord("0")
    controls = [c for c in range(0x20) if chr(c) not in "\n\t"] + [0x7F]
    table[controls] = 0
    for source, target in _PUNCTUATION.items():
        table[ord(source)] = ord(target)
    return table


def normalize_batch(texts: Sequence[str]) -> list[str]:
    """CCNet-style normalisation of each text; newlines are kept (lines are not stripped)."""
    prepared = []
    for text in texts:
        text = text.lower()
        if not text.isascii():
            text = unicodedata.normalize("NFD", text)
            for source, target in _EXPANSIONS.items():
                if source in text:
                    text = text.replace(source, target)
        prepared.append(text)
    joined = "".join(prepared)
    if not joined:
        return list(prepared)
    code_points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    mapped = _code_point_map()[code_points]
    keep = mapped != 0
    kept = mapped[keep]
    ends = np.cumsum([len(text) for text in prepared])
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    new_ends = kept_before[ends].tolist()
    rewritten = kept.tobytes().decode("utf-32-le")
    starts = [0, *new_ends[:-1]]
    return [rewritten[start:end] for start, end in zip(starts, new_ends, strict=True)]


def normalize_for_lm(text: str) -> str:
    """CCNet-style normalisation of one text (each line stripped)."""
    return "\n".join(line.strip() for line in normalize_batch([text])[0].split("\n"))
