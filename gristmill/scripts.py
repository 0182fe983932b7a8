"""Unicode scripts written without spaces between words.

Chinese (Han), Japanese (kana and Han), Thai, Lao, Khmer and Myanmar do not separate words
with spaces, so splitting on whitespace yields clause-long "words" (NeMo Curator and
FineWeb-2 treat them specially for the same reason). This bottom-layer module is the one
place that names their code point ranges (Unicode 15 blocks), so the word segmentation used
by the filters and the compiled MinHash word scan agree on which characters they are.
Korean Hangul is written with spaces and is not listed here.
"""

from __future__ import annotations

import bisect

#: (first code point, last code point, script) of every block written without spaces.
NON_SPACED_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x1000, 0x109F, "Myanmar"),
    (0x1780, 0x17FF, "Khmer"),
    (0x19E0, 0x19FF, "Khmer"),
    (0x2E80, 0x2FDF, "Han"),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007, "Han"),  # 々 〆 〇
    (0x3021, 0x3029, "Han"),  # Hangzhou numerals
    (0x3038, 0x303B, "Han"),
    (0x3040, 0x309F, "Hiragana"),
    (0x30A0, 0x30FF, "Katakana"),
    (0x3100, 0x312F, "Bopomofo"),
    (0x31A0, 0x31BF, "Bopomofo"),
    (0x31F0, 0x31FF, "Katakana"),
    (0x3400, 0x4DBF, "Han"),  # Extension A
    (0x4E00, 0x9FFF, "Han"),  # CJK Unified Ideographs
    (0xA9E0, 0xA9FF, "Myanmar"),
    (0xAA60, 0xAA7F, "Myanmar"),
    (0xF900, 0xFAFF, "Han"),  # compatibility ideographs
    (0xFF66, 0xFF9F, "Katakana"),  # halfwidth katakana
    (0x1B000, 0x1B16F, "Hiragana"),  # kana supplement / extended
    (0x20000, 0x2FA1F, "Han"),  # Extensions B-F, compatibility supplement
    (0x30000, 0x323AF, "Han"),  # Extensions G-H
)

_STARTS = [start for start, _, _ in NON_SPACED_RANGES]


def non_spaced_script(code_point: int) -> str | None:
    """The script of ``code_point`` if it is written without spaces, else None."""
    index = bisect.bisect_right(_STARTS, code_point) - 1
    if index < 0:
        return None
    start, end, script = NON_SPACED_RANGES[index]
    return script if start <= code_point <= end else None


def is_non_spaced(character: str) -> bool:
    """Whether ``character`` belongs to a script written without spaces."""
    return non_spaced_script(ord(character)) is not None
