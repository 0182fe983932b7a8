"""Sentence-final punctuation and spaCy's sentencizer rule.

spaCy's ``sentencizer`` (Honnibal & Montani, spaCy 3) ends a sentence after a token in its
``punct_chars`` (:data:`SENTENCE_END`), at the next token that is not punctuation. Unicode's
``Sentence_Terminal`` property adds the terminals of scripts encoded later
(:data:`TERMINAL_PUNCTUATION`), which the FineWeb and Gopher rules use for line endings.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: sentence-final punctuation of spaCy's sentencizer (its default ``punct_chars``)
SENTENCE_END = frozenset(
    "!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？｡。"
    "𐩖𐩗𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑩂𑩃𑪛𑪜𑱁𑱂𖩮𖩯𖫵𖬷𖬸𖭄𛲟𝪈"
)

#: Unicode sentence terminals (the ``Sentence_Terminal`` property): the sentencizer's
#: characters plus those of scripts added in later Unicode versions
TERMINAL_PUNCTUATION = SENTENCE_END | frozenset(
    "؝؞࠷࠹࠽࠾។៕៖៙៚\u1b7d\u1b7e\u2e53\u2e54𐽕𐽖𐽗𐽘𐽙\U00010f86\U00010f87\U00010f88\U00010f89"
    "𑥄𑥆𑻷𑻸\U00011f43\U00011f44𖺘"
)


def is_punctuation(token: str) -> bool:
    """spaCy's ``is_punct``: every character is Unicode punctuation (category P*)."""
    return all(unicodedata.category(ch).startswith("P") for ch in token)


def count_sentences_in(tokens: Iterable[str]) -> int:
    """Sentences in a token sequence as spaCy's sentencizer finds them (at least 1)."""
    sentences = 1
    seen_end = False
    for token in tokens:
        if token in SENTENCE_END:
            seen_end = True
        elif seen_end and not is_punctuation(token):
            sentences += 1
            seen_end = False
    return sentences
