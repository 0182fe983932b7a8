"""The cheap pre-scan: where in a document can a pattern entity be at all?

One compiled regex joins the candidate shapes of the requested entities
(:data:`gristmill.pii.recognizers.ENTITY_SHAPES`). A document without a match cannot hold a
pattern finding and is never handed to presidio. In a document with matches, only *pieces*
around the matches are analysed, cut where presidio's result provably cannot change:

- **lines** for the regular-expression recognizers: none of their matches crosses a line
  break and every look-around sees a line break exactly like the start or end of text, so a
  line analysed alone (or next to other lines) gives the findings it has in the document;
- **barrier windows** for the phone recognizer (python-phonenumbers' ``PhoneNumberMatcher``,
  the slow one): a window reaches from a match out to the nearest *barrier* character on
  each side, a character that no phonenumbers candidate can contain (a line break, most
  consonants, ``@``, quotes...). The barrier itself is kept in the window, so the matcher's
  checks of the characters around a candidate see what they see in the whole document.

Why every finding is covered: each finding contains a match of one of its entity's shapes
(a quoted secret follows one, ``=`` or ``:``, on its line), and scanning left to right, the
pre-scan either matches at that place or has already matched across it; either way a
pre-scan match overlaps the finding, and both the finding's line and its barrier-free run
contain that overlap. The shapes never cross a line break.

Lines longer than the chunk size (a minified file, a page without line breaks) are cut into
chunks that overlap, so a finding across a cut is seen whole by one of them
(:func:`chunk_bounds`); phone windows are never cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import regex

from gristmill.pii.recognizers import ENTITY_SHAPES

#: every character a phonenumbers candidate can hold besides digits, whatever the case:
#: its punctuation, the leading ``(`` ``[`` ``+`` and wide forms, and what its extension
#: syntax uses (``;ext=``, ``ext``/``extn``/``extensión``/``anexo``/``int``/``доб``/``x``,
#: ``#``, ``:``, ``,``, tab), with every character Python's ``re`` folds onto those letters
#: (``ſ``, ``İ``, ``ı``, ``ᲁ``, ``ᲂ``). Any other character is a *barrier* (checked against
#: phonenumbers' own patterns, code point by code point, in the tests).
PHONE_CANDIDATE_CHARS = (
    "-x\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff0e\uff0f \xa0\xad\u200b\u2060"
    "\u3000()\uff08\uff09\uff3b\uff3d.[]/~\u2053\u223c\uff5e+\uff0b;=\t,:#\uff03"
    "aeinostx\xf3AEINOSTX\xd3\u017f\u0130\u0131\u0301"
    "\uff45\uff58\uff54\uff4e\uff49\uff25\uff38\uff34\uff2e\uff29"
    "\u0434\u043e\u0431\u0414\u041e\u0411\u1c81\u1c82"
)
_BARRIER_CLASS = "[^\\d" + regex.escape(PHONE_CANDIDATE_CHARS, special_only=True) + "]"
_BARRIER = regex.compile(_BARRIER_CLASS)
_LAST_BARRIER = regex.compile("(?r)" + _BARRIER_CLASS)

Span = tuple[int, int]


@cache
def candidate_regex(entities: tuple[str, ...]) -> regex.Pattern[str] | None:
    """One compiled regex of the candidate shapes of ``entities`` (None: nothing to scan).

    It uses the ``regex`` module, as presidio does, so ``\\d`` and ``\\w`` mean the same
    characters in the pre-scan and in presidio's patterns.
    """
    shapes: list[tuple[str, str]] = []
    for entity in entities:
        for lead_and_shape in ENTITY_SHAPES.get(entity, ()):
            if lead_and_shape[1] not in [shape for _, shape in shapes]:
                shapes.append(lead_and_shape)
    return shapes_regex(shapes) if shapes else None


def shapes_regex(shapes: Sequence[tuple[str, str]]) -> regex.Pattern[str]:
    """One compiled regex of ``(first characters, shape)`` pairs, the shapes in order.

    A look-ahead on the shapes' first characters lets the engine pass over the many
    positions no shape can start at (most of a text) without trying every alternative.
    """
    alternatives = "|".join(f"(?:{shape})" for _, shape in shapes)
    # each character (or escape) once: a class that repeats one is tried much slower
    leads = "".join(dict.fromkeys(regex.findall(r"\\.|.", "".join(lead for lead, _ in shapes))))
    return regex.compile(f"(?=[{leads}])(?:{alternatives})")


def candidate_spans(pattern: regex.Pattern[str], text: str) -> list[Span]:
    return [match.span() for match in pattern.finditer(text)]


def line_pieces(text: str, spans: list[Span]) -> list[Span]:
    """The lines holding the candidate spans (without their line breaks), neighbours merged.

    Two selected lines in a row become one piece (the line break between them included),
    which is the same text either way. ``spans`` must be sorted (as a scan returns them).
    """
    pieces: list[Span] = []
    for start, end in spans:
        if pieces and end <= pieces[-1][1]:
            continue  # on the line of the previous span
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        if pieces and line_start <= pieces[-1][1] + 1:
            pieces[-1] = (pieces[-1][0], line_end)
        else:
            pieces.append((line_start, line_end))
    return pieces


def barrier_windows(text: str, spans: list[Span]) -> list[Span]:
    """Windows around the candidate spans out to (and including) the nearest barriers.

    A window reaches from the last barrier before a span to the first barrier after it
    (or to the text's start or end), so it holds every barrier-free run the span touches.
    Windows that meet are merged. ``spans`` must be sorted.
    """
    windows: list[Span] = []
    for start, end in spans:
        if windows and start < windows[-1][1]:
            if end < windows[-1][1]:
                continue  # no barrier between the previous span and this one's end
            after = _BARRIER.search(text, end)
            windows[-1] = (windows[-1][0], len(text) if after is None else after.end())
            continue
        left = _last_barrier(text, start)
        after = _BARRIER.search(text, end)
        right = len(text) if after is None else after.end()
        if windows and left < windows[-1][1]:
            windows[-1] = (windows[-1][0], right)
        else:
            windows.append((left, right))
    return windows


def _last_barrier(text: str, position: int) -> int:
    """Where the last barrier before ``position`` is (0 if none).

    The regex module's reverse search costs what its range is long, so the range grows
    from 64 characters until a barrier turns up (a line break ends every search).
    """
    reach = 64
    while True:
        low = max(position - reach, 0)
        found = _LAST_BARRIER.search(text, low, position)
        if found is not None:
            return found.start()
        if low == 0:
            return 0
        reach *= 4


def chunk_bounds(length: int, chunk_chars: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Overlapping chunks of a piece of ``length`` characters.

    Returns ``(start, end, owned_start, owned_end)`` per chunk: consecutive chunks overlap
    by ``overlap`` characters and each owns the findings that start between the midpoints
    of its overlaps, so a finding shorter than half the overlap is reported exactly once,
    by a chunk that sees it whole with at least a quarter of the overlap around it.
    """
    if length <= chunk_chars:
        return [(0, length, 0, length)]
    step = chunk_chars - overlap
    starts = list(range(0, length - overlap, step))
    bounds = []
    for index, start in enumerate(starts):
        end = min(start + chunk_chars, length)
        owned_start = 0 if index == 0 else start + overlap // 2
        owned_end = length if index == len(starts) - 1 else starts[index + 1] + overlap // 2
        bounds.append((start, end, owned_start, owned_end))
    return bounds
