"""presidio's PhoneRecognizer with python-phonenumbers' per-candidate verdicts memoized.

presidio finds phone numbers with ``phonenumbers.PhoneNumberMatcher`` once per region; the
matcher parses and validates every digit run of the text, which makes it presidio's slowest
recognizer by far. Web text repeats the same runs endlessly (years, dates, prices), and a
verdict on a candidate depends only on the candidate, the region, the leniency and three
facts about its surroundings: whether the character before it and the one after it is a
Latin letter, ``%`` or a currency sign, and whether a ``:mm`` time follows it. The
:class:`MemoizedPhoneNumberMatcher` keys a per-process cache on exactly these, so the
result is the matcher's own, only computed once per distinct key; tests check it against
the stock recognizer. Near the matcher's ``max_tries`` limit it stops memoizing, since the
inner-match search then depends on how many tries are left.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import phonenumbers
from phonenumbers.phonenumbermatcher import (
    _PATTERN,
    _SECOND_NUMBER_START_PATTERN,
    _TIME_STAMPS_SUFFIX,
    PhoneNumberMatch,
    PhoneNumberMatcher,
)
from phonenumbers.phonenumberutil import NumberParseException
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from gristmill.pii import phone_bounds
from gristmill.pii.phone_bounds import cannot_be_valid

#: verdicts kept per process before the cache starts over (a few hundred bytes each)
CACHE_ENTRIES = 100_000
_verdicts: dict[tuple[Any, ...], tuple[tuple[int, str, Any] | None, int]] = {}
#: ``(regions, leniency, *context)`` of candidates rejected in every one of the regions
_rejected_everywhere: set[tuple[Any, ...]] = set()


@cache
def _rejects_neighbour(character: str) -> bool:
    """The matcher's test on the characters around a candidate (VALID leniency and up)."""
    return PhoneNumberMatcher._is_invalid_punctuation_symbol(
        character
    ) or PhoneNumberMatcher._is_latin_letter(character)


def _context(text: str, candidate: str, offset: int) -> tuple[str, bool, bool, bool]:
    """What a verdict on ``candidate`` at ``offset`` of ``text`` depends on, besides the
    region and the leniency."""
    end = offset + len(candidate)
    return (
        candidate,
        offset > 0 and _rejects_neighbour(text[offset - 1]),
        end < len(text) and _rejects_neighbour(text[end]),
        _TIME_STAMPS_SUFFIX.match(text, end) is not None,
    )


class MemoizedPhoneNumberMatcher(PhoneNumberMatcher):
    """``PhoneNumberMatcher`` whose verdict per candidate comes from a process cache.

    A candidate (or a piece of one) that :func:`~gristmill.pii.phone_bounds.cannot_be_valid`
    is rejected without parsing.
    """

    def _parse_and_verify(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        if cannot_be_valid(self.preferred_region, candidate, int(self.leniency)):
            return None
        return super()._parse_and_verify(candidate, offset)

    def _extract_match(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        if self._max_tries <= 16 * len(candidate) + 16:
            return super()._extract_match(candidate, offset)
        if cannot_be_valid(self.preferred_region, candidate, int(self.leniency)):
            return None  # and so has every piece of it
        key = (self.preferred_region, int(self.leniency), *_context(self.text, candidate, offset))
        verdict = _verdicts.get(key)
        if verdict is None:
            tries = self._max_tries
            match = super()._extract_match(candidate, offset)
            found = (
                None if match is None else (match.start - offset, match.raw_string, match.number)
            )
            verdict = (found, tries - self._max_tries)
            if len(_verdicts) >= CACHE_ENTRIES:
                _verdicts.clear()
            _verdicts[key] = verdict
            return match
        found, tries_used = verdict
        self._max_tries -= tries_used
        if found is None:
            return None
        delta, raw_string, number = found
        return PhoneNumberMatch(offset + delta, raw_string, number)


class MemoizedPhoneRecognizer(PhoneRecognizer):
    """presidio's PhoneRecognizer (same regions, leniency, score) on the memoized matcher."""

    def load(self) -> None:
        phone_bounds.prepare(tuple(self.supported_regions))

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for region in self.supported_regions:
            for match in MemoizedPhoneNumberMatcher(text, region, leniency=self.leniency):
                try:  # presidio names the number's own region in its explanation
                    number = phonenumbers.parse(text[match.start : match.end])
                    named = phonenumbers.region_code_for_number(number)
                except NumberParseException:
                    named = region
                results.append(self._get_recognizer_result(match, text, named, nlp_artifacts))
        return EntityRecognizer.remove_duplicates(results)

    def finds_nothing(self, text: str, start: int, end: int) -> bool:
        """True when the matchers would find nothing in ``text[start:end]``: every
        candidate there is ruled out by the bounds or rejected by the matcher in every
        region (a verdict not yet memoized is found now, by the matcher on this very
        candidate, and memoized).

        This walks the candidates as ``PhoneNumberMatcher._find`` does when nothing
        matches (search, trim a second number, move past the candidate), which is the same
        walk in every region until a region accepts a candidate; then it answers False.
        ``text[start:end]`` must end where no candidate can continue (at a barrier or the
        end of the text).
        """
        leniency = int(self.leniency)
        regions = tuple(self.supported_regions)
        index = start
        while (match := _PATTERN.search(text, index, end)) is not None:
            offset = match.start()
            candidate = text[offset : match.end()]
            second = _SECOND_NUMBER_START_PATTERN.search(candidate)
            if second is not None:
                candidate = candidate[: second.start()]
            if not candidate:
                return False
            context = _context(text, candidate, offset)
            known = (regions, leniency, *context)
            if known in _rejected_everywhere:
                index = offset + len(candidate)
                continue
            for region in regions:
                if cannot_be_valid(region, candidate, leniency):
                    continue
                verdict = _verdicts.get((region, leniency, *context))
                if verdict is None:
                    matcher = MemoizedPhoneNumberMatcher(text, region, leniency=self.leniency)
                    if matcher._extract_match(candidate, offset) is not None:
                        return False
                elif verdict[0] is not None:
                    return False
            if len(_rejected_everywhere) >= CACHE_ENTRIES:
                _rejected_everywhere.clear()
            _rejected_everywhere.add(known)
            index = offset + len(candidate)
        return True


def clear_caches() -> None:
    """Forget every memoized verdict (a cold worker, as benchmarks start from)."""
    _verdicts.clear()
    _rejected_everywhere.clear()
    phone_bounds.clear_caches()
