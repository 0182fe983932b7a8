"""One label space for the language-ID models: ISO 639-1 where a code exists, else 639-3.

The ensemble's members name languages differently: CLD2 and CLD3 (Google) keep the
withdrawn codes ``iw`` (Hebrew), ``jw`` (Javanese), ``in``/``ji`` and ``fil`` (Filipino),
CLD2 splits ``zh``/``zh-Hant`` and emits ``xx-Scrp`` for "some language in this script",
CLD3 adds romanised variants (``hi-Latn``), langid.py and lid.176 write Norwegian Bokmål
as ``no``. :func:`normalise_label` maps each to the code ``lid_lang`` carries, so a vote
counts one language once; labels that name no language (``un``, ``zxx``, ``xx-*``) and
romanised variants map to None (no vote). lid.176's Wikipedia code ``als`` (Alemannic)
becomes ISO 639-3 ``gsw`` (``als`` is Tosk Albanian there). Norwegian Bokmål stays ``no`` as in lid.176,
so existing ``languages: [no]`` configs keep working.
"""

from __future__ import annotations

from functools import lru_cache

#: label of a member model → the label gristmill reports
ALIASES: dict[str, str] = {
    "iw": "he",
    "jw": "jv",
    "in": "id",
    "ji": "yi",
    "fil": "tl",
    "mo": "ro",
    "nb": "no",
    "zh-Hant": "zh",
    "zh-Hans": "zh",
    "sr-ME": "sr",
    "als": "gsw",  # lid.176 follows Wikipedia (als = Alemannic); ISO 639-3 als is Tosk Albanian
}
#: labels that identify no language: unknown, no linguistic content, CLD2's script-only
#: and test labels
NOT_A_LANGUAGE = frozenset({"", "un", "und", "zxx", "xxx", "zzb", "zze", "zzh", "zzp"})


@lru_cache(maxsize=4096)
def normalise_label(label: str) -> str | None:
    """The reported code of a member's ``label``, or None when it names no language."""
    if label in ALIASES:
        return ALIASES[label]
    if label in NOT_A_LANGUAGE or label.startswith("xx-") or "-" in label:
        return None  # script-only (xx-Latn) or romanised (hi-Latn) variants: no vote
    return label
