"""Which phonenumbers candidates cannot be valid numbers, decided from its metadata alone.

python-phonenumbers parses every candidate it meets (and pieces of it) once per region, and
most candidates in web text are years, dates and counts that no region accepts. For the
``VALID`` leniency presidio uses, a number written without a country code needs

1. a *national significant number* that is a run of the candidate's digits ending where
   a run of digits ends (a national prefix or carrier code is cut from its front, an
   extension is a run of its own), in one of the possible lengths of the general
   description of a region sharing the assumed region's country code, matching its
   ``national_number_pattern`` and the pattern of one of its number types
   (``is_valid_number``);
2. a written national prefix, when the format phonenumbers picks for that national number
   asks for one (``_is_national_prefix_present_if_required``), unless the candidate starts
   with the country code itself.

A candidate that may carry a country code (a ``+``, or digits that start like the region's
international prefix) only needs the fewest digits any country needs; one with letters
(read as keypad digits) is never ruled out. Each rule is a necessary condition of the
matcher's own checks, so ruling a candidate out never changes what it finds (checked
against the stock matcher in the tests).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import Leniency, PhoneMetadata, phonenumberutil

_DIGITS = re.compile(r"\d+")
_PLUS = re.compile("[+\uff0b]")
#: regex syntax whose result depends on what follows the match
_END_SENSITIVE = re.compile(r"\$|\\Z|\\b|\\B|\(\?[=!]")
_LETTER = re.compile(r"[^\W\d_]")

#: verdicts kept per process before the cache starts over
CACHE_ENTRIES = 100_000
_ruled_out: dict[tuple[str, str], bool] = {}
_facts_of: dict[str, _Facts] = {}
_prefix_required: dict[tuple[str, str], bool] = {}
_national_numbers: dict[tuple[int, str, tuple[int, ...]], tuple[str, ...]] = {}


def _possible_lengths(metadata: Any) -> frozenset[int]:
    return frozenset(n for n in metadata.general_desc.possible_length if n > 0)


def _inserted_digits(metadata: Any) -> int:
    """Digits a region's national-prefix transform rule may insert while parsing."""
    return len(re.findall(r"(?<!\\)\d", metadata.national_prefix_transform_rule or ""))


@cache
def fewest_international_digits() -> int:
    """Fewest digits of a valid number written with a country code (after ``+`` or an
    international prefix, which only add some): country code plus shortest national
    number, less what the transform rule of the code's main region may insert."""
    counts = []
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        regions = phonenumbers.region_codes_for_country_code(code)
        shortest = min(
            min(
                _possible_lengths(PhoneMetadata.metadata_for_region_or_calling_code(code, r)) or {1}
            )
            for r in regions
        )
        main = PhoneMetadata.metadata_for_region_or_calling_code(
            code, phonenumbers.region_code_for_country_code(code)
        )
        counts.append(len(str(code)) + max(shortest - _inserted_digits(main), 1))
    return min(counts)


#: the number types ``PhoneNumberUtil`` tries once the general description matched
_NUMBER_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)  # fmt: skip

_Description = tuple[frozenset[int], re.Pattern[str]]
#: phonenumbers' longest national significant number
_LONGEST_NATIONAL_NUMBER = 17


def _description(desc: Any) -> _Description | None:
    """``(possible lengths, pattern)`` of a number description; None if it holds none."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = frozenset(n for n in desc.possible_length if n > 0)
    if desc.possible_length and not lengths:
        return None  # [-1]: no numbers of this kind
    return lengths, re.compile(desc.national_number_pattern)


@cache
def _national_descriptions(
    region: str,
) -> tuple[tuple[_Description | None, tuple[_Description, ...]], ...]:
    """For every region sharing ``region``'s country code: its general description and
    the descriptions of its number types (a valid national number matches the first and
    one of the others, as ``is_valid_number`` requires)."""
    code = phonenumbers.country_code_for_region(region)
    regions = []
    for other in phonenumbers.region_codes_for_country_code(code):
        metadata = PhoneMetadata.metadata_for_region(other)
        types = (_description(getattr(metadata, name, None)) for name in _NUMBER_TYPES)
        regions.append(
            (_description(metadata.general_desc), tuple(t for t in types if t is not None))
        )
    return tuple(regions)


@cache
def _national_number_patterns(region: str) -> dict[int, re.Pattern[str]]:
    """Per national number length, one regex that fully matches a number of that length
    exactly when a region sharing ``region``'s country code has it in its general
    description and in one of its number types."""
    alternatives: dict[int, list[str]] = {}
    for general, types in _national_descriptions(region):
        if general is None:
            continue  # phonenumbers matches nothing in a region without a general pattern
        general_lengths, general_pattern = general
        for length in general_lengths or range(1, _LONGEST_NATIONAL_NUMBER + 1):
            kinds = [p.pattern for lengths, p in types if not lengths or length in lengths]
            if kinds:
                any_kind = "|".join(f"(?:{kind})" for kind in kinds)
                alternatives.setdefault(length, []).append(
                    f"(?=(?:{general_pattern.pattern})\\Z)(?:{any_kind})"
                )
    return {
        length: re.compile("|".join(f"(?:{a})" for a in options))
        for length, options in alternatives.items()
    }


@cache
def _pattern(expression: str | None) -> re.Pattern[str] | None:
    return re.compile(expression) if expression else None


@cache
def _main_metadata(region: str) -> Any:
    """Metadata of the main region of ``region``'s country code (what phonenumbers checks
    a national prefix against)."""
    code = phonenumbers.country_code_for_region(region)
    return PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(code))


class _Facts(NamedTuple):
    """What the bounds need to know of a candidate, whatever the region."""

    lettered: bool
    plus: bool
    digits: str  # ASCII, in order
    run_starts: tuple[int, ...]  # indexes into ``digits`` where a run of digits begins
    run_ends: tuple[int, ...]  # and where one ends


def _facts(candidate: str) -> _Facts:
    digits: list[str] = []
    run_starts: list[int] = []
    run_ends: list[int] = []
    length = 0
    for run in _DIGITS.findall(candidate):
        if not run.isascii():
            run = "".join(str(unicodedata.digit(character)) for character in run)
        run_starts.append(length)
        length += len(run)
        run_ends.append(length)
        digits.append(run)
    return _Facts(
        _LETTER.search(candidate) is not None,
        _PLUS.search(candidate) is not None,
        "".join(digits),
        tuple(run_starts),
        tuple(run_ends),
    )


class _Starts(NamedTuple):
    """A prefix pattern and whether what follows its match can change the match."""

    match: Any
    end_sensitive: bool


def _starts(expression: str | None) -> _Starts | None:
    pattern = _pattern(expression)
    if pattern is None:
        return None
    return _Starts(pattern.match, _END_SENSITIVE.search(pattern.pattern) is not None)


def _some_piece_starts_like(prefix: _Starts, facts: _Facts) -> bool:
    """Does the prefix match at the start of some piece phonenumbers may parse (digits
    from a run start to a run end)?"""
    match = prefix.match
    if prefix.end_sensitive:
        return any(
            match(facts.digits[start:end])
            for start in facts.run_starts
            for end in facts.run_ends
            if end > start
        )
    # a match that does not look at what follows it also matches the longer rest
    digits = facts.digits
    return any(match(digits, start) for start in facts.run_starts)


class _Region(NamedTuple):
    """What the bounds read of one assumed region, gathered once."""

    country_code: int
    international_prefix: _Starts | None
    inserted: int  # digits its national-prefix transform rule may insert
    shortest_general: int  # shortest general length of the regions of its country code
    #: ``(length, fullmatch)`` of :func:`_national_number_patterns`, shortest first
    national_numbers: tuple[tuple[int, Any], ...]
    fewest_digits: int  # fewer digits than this are ruled out whatever else holds
    main_id: str  # the main region of its country code (national prefix, formats)
    main_code: str
    national_prefix: _Starts | None
    #: per number format of the main region: the match of its last leading-digits
    #: pattern (None without one), the full match of its pattern, and whether a number
    #: in this format needs its national prefix written
    formats: tuple[tuple[Any, Any, bool], ...]


@cache
def _region(region: str) -> _Region:
    metadata = PhoneMetadata.metadata_for_region(region)
    inserted = _inserted_digits(metadata)
    generals = [min(general[0] or {1}) for general, _ in _national_descriptions(region) if general]
    patterns = _national_number_patterns(region)
    # fewest digits of a number with a country code, and of a national number (the
    # shortest national number pattern, or the shortest general length less what the
    # transform may insert)
    if inserted:
        national = min(generals) - inserted if generals else 0
    else:
        national = min(patterns, default=_LONGEST_NATIONAL_NUMBER + 1)
    main = _main_metadata(region)
    formats = []
    for rule in main.number_format:
        leading = rule.leading_digits_pattern
        required = bool(
            rule.national_prefix_formatting_rule
            and not rule.national_prefix_optional_when_formatting
            and not phonenumberutil._formatting_rule_has_first_group_only(
                rule.national_prefix_formatting_rule
            )
        )
        formats.append(
            (
                re.compile(leading[-1]).match if leading else None,
                re.compile(rule.pattern).fullmatch,
                required,
            )
        )
    return _Region(
        country_code=metadata.country_code,
        international_prefix=_starts(metadata.international_prefix),
        inserted=inserted,
        shortest_general=min(generals) if generals else 0,
        national_numbers=tuple(
            (length, pattern.fullmatch) for length, pattern in sorted(patterns.items())
        ),
        fewest_digits=min(fewest_international_digits(), national),
        main_id=main.id,
        main_code=str(main.country_code),
        national_prefix=_starts(main.national_prefix_for_parsing),
        formats=tuple(formats),
    )


def _may_carry_country_code(bounds: _Region, facts: _Facts) -> bool:
    """A ``+``, or a piece that starts like the region's international prefix."""
    if facts.plus:
        return True
    prefix = bounds.international_prefix
    return prefix is None or _some_piece_starts_like(prefix, facts)


def _national_numbers_in(bounds: _Region, facts: _Facts) -> tuple[str, ...]:
    """Every run of digits ending where a run ends (a national number ends there: only
    a national prefix is cut from its front, and an extension is a run of its own) that
    matches the general description and a number type of a region sharing the region's
    country code."""
    key = (bounds.country_code, facts.digits, facts.run_ends)
    found = _national_numbers.get(key)
    if found is None:
        digits = facts.digits
        pieces = []
        for end in facts.run_ends:
            for length, fullmatch in bounds.national_numbers:
                if length > end:
                    break
                if fullmatch(digits, end - length, end):
                    pieces.append(digits[end - length : end])
        found = tuple(pieces)
        if len(_national_numbers) >= CACHE_ENTRIES:
            _national_numbers.clear()
        _national_numbers[key] = found
    return found


def _national_prefix_may_be_written(bounds: _Region, facts: _Facts) -> bool:
    """Could a piece start with the national prefix, or with the country code without
    ``+`` (then phonenumbers requires no national prefix)?"""
    code = bounds.main_code
    if any(facts.digits.startswith(code, start) for start in facts.run_starts):
        return True
    prefix = bounds.national_prefix
    return prefix is not None and _some_piece_starts_like(prefix, facts)


def _format_requires_national_prefix(bounds: _Region, national_number: str) -> bool:
    """Whether phonenumbers (``_is_national_prefix_present_if_required``) insists on a
    national prefix for this national number written without a country code: the
    choice of ``phonenumberutil._choose_formatting_pattern_for_number`` (the first format
    whose last leading-digits pattern matches the number's start and whose pattern
    matches it whole), from patterns compiled once."""
    key = (bounds.main_id, national_number)
    required = _prefix_required.get(key)
    if required is None:
        required = False
        for leading, fullmatch, needs_prefix in bounds.formats:
            if (leading is None or leading(national_number)) and fullmatch(national_number):
                required = needs_prefix
                break
        if len(_prefix_required) >= CACHE_ENTRIES:
            _prefix_required.clear()
        _prefix_required[key] = required
    return required


def cannot_be_valid(region: str, candidate: str, leniency: int = Leniency.VALID) -> bool:
    """True when no piece of ``candidate`` can be a valid number found with ``region``
    assumed at ``leniency`` (VALID or stricter; see the module docstring)."""
    if leniency < Leniency.VALID:
        return False  # POSSIBLE asks for no validity at all
    key = (region, candidate)
    verdict = _ruled_out.get(key)
    if verdict is None:
        verdict = _cannot_be_valid(region, candidate)
        if len(_ruled_out) >= CACHE_ENTRIES:
            _ruled_out.clear()
        _ruled_out[key] = verdict
    return verdict


def _cannot_be_valid(region: str, candidate: str) -> bool:
    facts = _facts_of.get(candidate)
    if facts is None:
        facts = _facts(candidate)
        if len(_facts_of) >= CACHE_ENTRIES:
            _facts_of.clear()
        _facts_of[candidate] = facts
    if facts.lettered:
        return False
    bounds = _region(region)
    if len(facts.digits) < bounds.fewest_digits:
        return True  # too few for a number with a country code and for a national one
    if _may_carry_country_code(bounds, facts):
        return len(facts.digits) < fewest_international_digits()
    if bounds.inserted:
        return len(facts.digits) < bounds.shortest_general - bounds.inserted
    national_numbers = _national_numbers_in(bounds, facts)
    if not national_numbers:
        return True
    if _national_prefix_may_be_written(bounds, facts):
        return False
    return all(_format_requires_national_prefix(bounds, number) for number in national_numbers)


def clear_caches() -> None:
    _ruled_out.clear()
    _facts_of.clear()
    _national_numbers.clear()
    _prefix_required.clear()


def prepare(regions: tuple[str, ...]) -> None:
    """Read the metadata the bounds need now (phonenumbers loads it lazily, country by
    country), so that building a recognizer pays for it once per process."""
    fewest_international_digits()
    for region in regions:
        _region(region)
