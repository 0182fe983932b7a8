"""Ensemble language ID: script rule, a cheap agreement check, then a four-model vote.

For each text, in order (cheapest first, each later stage only for what is still open):

1. **Script.** Letters mostly in a script of one language (Hangul, Thai, kana, ...)
   settle it (:mod:`gristmill.filters.language_script`).
2. **Agreement.** lid.176 on the whole text (one line, as before) and CLD2 on the whole
   text; when both name the same language and lid.176 gives it at least
   ``AGREEMENT_PROBABILITY``, that is the answer (about 3 in 4 sentences, most web pages).
   Texts with fewer than ``MIN_LETTERS`` letters ("ok", a date) keep lid.176's guess
   and score, as before the ensemble: there is nothing to vote on.
3. **Vote.** CLD3 and langid.py join, reading a sample of the text: the whole text up
   to ``SAMPLE_CHARS``, else its longest lines up to that length (the main text rather
   than a menu). Each language scores the mean probability the members give it, over
   the members that can output it (a model that does not know Sundanese abstains
   rather than votes against it); a language that only langid.py knows scores half its
   probability (``TRUSTED_ALONE``). The top language wins; its score is ``lid_score``.

Long pages are voted on by paragraph twice over: CLD2 reports the share of the text per
language over its own chunks, and the CLD3/langid.py sample is the longest lines. A
third, lid.176 per line weighted by length (FineWeb-2's and CCNet's line-level idea),
was measured and left out: of the 697 dolma web pages 25 reached it and none changed
label, nor did any of 93 UDHR documents wrapped in 40% English menus and footers.
The vote is unweighted on purpose: weights fitted on one test set would not carry to
other text (measured in ``bench/multilingual.py``, held-out and out-of-domain sets).
"""

from __future__ import annotations

from collections.abc import Sequence

from gristmill.filters.language_members import (
    Distribution,
    predict_cld2,
    predict_cld3,
    predict_fasttext,
    predict_langid,
    supported_languages,
)
from gristmill.filters.language_script import MIN_LETTERS, script_language

AGREEMENT_PROBABILITY = 0.5
#: members whose label counts in full when no other member can output that language:
#: lid.176 (176 Wikipedia languages: Chuvash, Yakut, Low German, ...), CLD2 (Tswana,
#: Tsonga, ...) and CLD3; langid.py's retrained model alone names multilingual wiki
#: pages Guadeloupean Creole (gcf) with 0.9, so its lone labels count half
TRUSTED_ALONE = frozenset({"fasttext", "cld2", "cld3"})
SAMPLE_CHARS = 1000
UNKNOWN = "und"


class EnsembleVote:
    """Language and score for texts, by script, agreement and a four-model vote.

    ``fasttext_model`` is the loaded lid.176 model (labels like ``__label__en``).
    """

    def __init__(self, fasttext_model) -> None:
        self.fasttext_model = fasttext_model
        self.supported = supported_languages(fasttext_model)

    def identify(
        self, texts: Sequence[str], one_line: Sequence[str]
    ) -> tuple[list[str], list[float]]:
        """Language and score of each of ``texts`` (``one_line``: the same, newlines as spaces)."""
        langs = [UNKNOWN] * len(texts)
        scores = [0.0] * len(texts)
        open_rows = []
        for row, text in enumerate(texts):
            verdict = script_language(text)
            if verdict is None:
                open_rows.append(row)
            else:
                langs[row], scores[row] = verdict.language, min(verdict.share, 1.0)
        if not open_rows:
            return langs, scores
        fasttext = predict_fasttext(self.fasttext_model, [one_line[row] for row in open_rows])
        cld2 = predict_cld2([texts[row] for row in open_rows])
        voting = []
        for row, ft, c2 in zip(open_rows, fasttext, cld2, strict=True):
            agreed = _agreement(ft, c2)
            if not _has_letters(texts[row]):  # "ok", digits, symbols: lid.176's guess as before
                if ft:
                    langs[row], scores[row] = max(ft.items(), key=lambda item: item[1])
            elif agreed is not None:
                langs[row], scores[row] = agreed
            else:
                voting.append((row, ft, c2))
        if voting:
            self._vote(texts, voting, langs, scores)
        return langs, scores

    def _vote(self, texts, voting, langs, scores) -> None:
        samples = [main_text_sample(texts[row]) for row, _, _ in voting]
        cld3 = predict_cld3(samples)
        langid = predict_langid(samples)
        for (row, ft, c2), c3, li in zip(voting, cld3, langid, strict=True):
            members = {"fasttext": ft, "cld2": c2, "cld3": c3, "langid": li}
            langs[row], scores[row] = vote(members, self.supported)


def vote(
    members: dict[str, Distribution],
    supported: dict[str, frozenset[str]],
    trusted_alone: frozenset[str] = TRUSTED_ALONE,
) -> tuple[str, float]:
    """The language with the highest mean probability over the members able to output it.

    A member with no answer (CLD2 on a text too short for it, CLD3 unsure) abstains. A
    language only one member can output scores that member's probability when the member
    is in ``trusted_alone``, else half of it (as if a second member had said nothing).
    """
    voting = {name: distribution for name, distribution in members.items() if distribution}
    candidates = set().union(*voting.values())
    best, best_score = UNKNOWN, 0.0
    for language in sorted(candidates):  # sorted: ties resolve the same way every run
        total = sum(distribution.get(language, 0.0) for distribution in voting.values())
        able = [name for name in voting if language in supported[name]]
        alone_untrusted = len(able) == 1 and able[0] not in trusted_alone
        score = total / (2.0 if alone_untrusted else max(len(able), 1))
        if score > best_score:
            best, best_score = language, score
    return best, min(best_score, 1.0)


def main_text_sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """``text`` itself when short, else its longest lines (in text order) up to ``limit``."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    order = sorted(range(len(lines)), key=lambda index: -len(lines[index]))
    chosen, size = [], 0
    for index in order:
        if size >= limit:
            break
        chosen.append(index)
        size += len(lines[index]) + 1
    return "\n".join(lines[index] for index in sorted(chosen))[: limit * 2]


def _agreement(fasttext: Distribution, cld2: Distribution) -> tuple[str, float] | None:
    if not fasttext or not cld2:
        return None
    language, probability = max(fasttext.items(), key=lambda item: item[1])
    if probability < AGREEMENT_PROBABILITY or max(cld2, key=cld2.get) != language:
        return None
    return language, min((probability + cld2[language]) / 2, 1.0)


def _has_letters(text: str, enough: int = MIN_LETTERS) -> bool:
    count = 0
    for character in text[:SAMPLE_CHARS]:
        count += character.isalpha()
        if count >= enough:
            return True
    return False
