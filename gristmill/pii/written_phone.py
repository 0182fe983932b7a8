"""Phone numbers as people write them, beyond what python-phonenumbers validates.

presidio's PhoneRecognizer keeps only numbers that python-phonenumbers finds *valid* for one
of a few regions (US, UK, DE, FE, IL, IN, CA, BE), so a well-formed number of any other
country or an unassigned range stays verbatim (about 40% of the phone numbers in
presidio-research's generated sentences). This recognizer is region-free: it reads a run of
digit groups and decides from its *layout*, in two tiers.

- **Layouts that only phone numbers have** are taken wherever they appear, 8 to 15 digits
  (ITU-T E.164's maximum) besides an extension (``x123``, ``ext. 123``):
  an international prefix (``+41 (0)96 471 07 95``, ``+447700677662``, ``001-755-329-4431``);
  the North American plan, ``3-3-4`` with ``-``, ``.`` or a space (``166-684-7899``,
  ``(579)888-3058``, ``259.735.7502x459``); a parenthesised area code before two groups or a
  long one (``(88) 684-334``, ``(08) 8747 6301``); three or more groups of 2 to 4 digits
  with one repeated separator (``0490 75 40 81``, ``03.93.92.16.85``, ``60-56-85-91``,
  ``21 284 698 2548``), as ITU-T E.123 writes national numbers.
- **Layouts that other numbers share** (one or two groups: ``467 3395``, ``5403926876``;
  thousands ``699 956 915``) are taken only next to a phone word, as presidio's context
  enhancement does with its words (``phone``, ``call``, ``mobile``...): one on the same line
  before the number (or ending the line above, when the number starts its line), or a label
  right after it (``... office``, ``-Fax``), and no identifier word (``order``, ``ISBN``,
  ``invoice``...) between that phone word and the number.

The same words veto phone findings of python-phonenumbers (:func:`names_another_number`):
its matcher takes any digit run that is a valid number in some region, so an ISBN
(``ISBN 9-230-58436-1``), an order or customer id or a date becomes a phone number there.

Never taken: a run inside a longer token (letters, ``/``, ``:`` or digits glued to it, as in
``v1.2.3``, ``12:20:39``, ``1/2/2024``), dates (``2024-01-15``, ``15.01.2024``), dotted quads
(IPv4 addresses), groups of one digit (ISBNs, versions), three or more groups of four digits
(years, card numbers), and runs after a currency sign or before ``%`` or a currency sign.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: digit groups joined by single separators, parentheses allowed, then an extension
_RUN = re.compile(
    r"(?=[+(\d][-+()\d. \xa0]{6})(?<![^\s\xa0:;,<>\"'\[{=*|])(?<!\d[-. \xa0])"
    r"(?P<number>\+?(?:\(\d{1,5}\)|\d)(?:[-. \xa0]?(?:\(\d{1,5}\)|\d))*+)"
    r"(?P<extension> ?(?:x|ext\.?|extension) ?\d{1,6})?"
    r"(?=$|[\s\xa0]|[.,;:!?)\]}>\"'\\<*|](?!\d)|-[A-Za-z])",
    re.ASCII | re.IGNORECASE,
)
_GROUP = re.compile(r"\(\d+\)|\d+")
_SEPARATOR = re.compile(r"[-. \u00a0]")
_NANP = re.compile(
    r"(?:(?:\+?1|001)[-. ]?)?(?:\(\d{3}\)[-. ]?|\d{3}(?P<sep>[-. ]))\d{3}(?(sep)(?P=sep)|[-. ])\d{4}"
)
#: a date, or a run that starts like one (``1935-12-055``)
_DATE = re.compile(
    r"(?:1[5-9]|20)\d\d[-./ ](?:0?[1-9]|1[0-2])(?!\d)"
    r"|(?:0?[1-9]|[12]\d|3[01])[-./ ](?:0?[1-9]|1[0-2])[-./ ](?:1[5-9]|20)\d\d$"
    r"|(?:0?[1-9]|1[0-2])[-./ ](?:0?[1-9]|[12]\d|3[01])[-./ ](?:1[5-9]|20)\d\d$"
)
_YEAR = re.compile(r"\((?:1[5-9]|20)\d\d\)")
#: the US social security number layout is the US_SSN recognizer's, not a phone's
_US_SSN = re.compile(r"\d{3}-\d{2}-\d{4}")
_WORD = re.compile(r"[^\W\d_]+")
#: words that name a phone number (presidio's PhoneRecognizer context words and the
#: labels of contact cards); matched on the word's start, lower-cased
PHONE_WORDS = frozenset(
    [
        "phone",
        "phones",
        "telephone",
        "tel",
        "mobile",
        "mob",
        "cell",
        "cellphone",
        "fax",
        "landline",
        "hotline",
        "whatsapp",
        "sms",
        "text",
        "texts",
        "call",
        "calls",
        "calling",
        "called",
        "dial",
        "reach",
        "ring",
        "contact",
        "message",
        "messages",
        "answer",
        "answering",
    ]
)
#: contact-card labels: a phone word only as a label (``Office: ...``, ``... office``)
LABEL_WORDS = frozenset(["office", "desk", "home", "work", "direct", "switchboard"])
#: words that name some other number: a phone word before one of these does not count
OTHER_NUMBER_WORDS = frozenset(
    [
        "order",
        "orders",
        "invoice",
        "account",
        "acct",
        "isbn",
        "issn",
        "serial",
        "ref",
        "reference",
        "tracking",
        "transaction",
        "zip",
        "postal",
        "postcode",
        "box",
        "id",
        "sku",
        "part",
        "model",
        "version",
        "patent",
        "case",
        "ticket",
        "booking",
        "confirmation",
        "receipt",
        "customer",
        "price",
        "total",
        "amount",
        "year",
        "years",
        "population",
        "page",
        "pages",
        "release",
        "build",
        "revision",
    ]
)
CONTEXT_CHARS = 48
#: every number taken has 7 digits or more
MIN_WRITTEN_PHONE_CHARS = 7
_CURRENCIES = "$€£¥%"
_OPERATORS_AND_CURRENCIES = "=<>*" + _CURRENCIES
SCORE = 0.4  # presidio's PhoneRecognizer score
WRITTEN_PHONE = "PHONE_NUMBER"


class WrittenPhone(NamedTuple):
    start: int
    end: int
    score: float


def find_written_phones(text: str, start: int = 0, end: int | None = None) -> list[WrittenPhone]:
    """Every phone number of ``text`` by layout (see the module docstring), in order; with
    ``start``/``end``, those starting in ``text[start:end]`` (context is read around it).

    A number is a run of phone-candidate characters (:mod:`gristmill.pii.prescan`'s
    non-barriers), so the numbers of a barrier window are all found by scanning it and the
    two characters after it.
    """
    end = len(text) if end is None else end
    found = []
    for match in _RUN.finditer(text, start, min(len(text), end + 2)):
        if match.start() >= end:
            break
        number = match.group("number")
        if len(number) < MIN_WRITTEN_PHONE_CHARS:
            continue  # fewer than 7 digits: neither tier (most runs: years, counts)
        if _self_evident(number) or (_plausible(number) and _phone_context(text, match)):
            found.append(WrittenPhone(match.start(), match.end(), SCORE))
    return found


def names_another_number(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` (a phone finding) is a date, an amount (a currency
    sign or ``%`` beside it), a literal in code (after ``=``, ``==``, ``<``, ``*``...), or the
    nearest label word before it on its line names another kind of number (``ISBN``,
    ``order``, ``ID``...)."""
    if _DATE.match(text, start, end):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    before_character = text[line_start:start].rstrip()[-1:]
    after_character = text[end : end + 3].lstrip()[:1]
    if before_character and before_character in _OPERATORS_AND_CURRENCIES:
        return True
    if after_character and after_character in _CURRENCIES:
        return True
    before = text[max(line_start, start - CONTEXT_CHARS) : start].lower()
    for word in reversed(_WORD.findall(before)):
        if word in PHONE_WORDS or word in LABEL_WORDS:
            return False
        if word in OTHER_NUMBER_WORDS:
            return True
    return False


def _digits(number: str) -> int:
    return sum(map(str.isdigit, number))


def _self_evident(number: str) -> bool:
    """A layout only phone numbers have."""
    digits = _digits(number)
    if not 8 <= digits <= 15 or _DATE.match(number) or _US_SSN.fullmatch(number):
        return False
    groups = _GROUP.findall(number)
    if sum(len(group) == 4 for group in groups) >= 3:
        return False  # years, card or account numbers in blocks of four
    if number.startswith("+"):
        return len(groups) >= 2 or digits >= 10
    if re.match(r"00[1-9]", number):
        return len(groups) >= 3
    if _NANP.fullmatch(number):
        return True
    if groups[0].startswith("("):
        if len(groups[0]) > 6 or _YEAR.fullmatch(groups[0]):
            return False
        rest = groups[1:]
        return len(rest) >= 2 or (len(rest) == 1 and len(rest[0]) >= 6)
    return len(groups) >= 3 and _national_groups(number, groups)


def _national_groups(number: str, groups: list[str]) -> bool:
    """Three or more groups of 2-4 digits, one separator, not four-digit blocks, not an
    IPv4 address, not thousands."""
    separators = set(_SEPARATOR.findall(number))
    if len(separators) != 1 or "(" in number:
        return False
    if not all(2 <= len(group) <= 4 for group in groups[1:]) or not 1 <= len(groups[0]) <= 4:
        return False
    if separators == {"."} and len(groups) == 4 and all(len(g) <= 3 for g in groups):
        return False  # a dotted quad
    if separators == {" "} and len(groups) <= 4 and all(len(g) <= 3 for g in groups):
        return number.startswith("0")  # else a row of small numbers (scores, table cells)
    return not _thousands(groups)


def _thousands(groups: list[str]) -> bool:
    return len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])


def _plausible(number: str) -> bool:
    """A layout phone numbers share with other numbers: 7-15 digits in at most four
    groups, no one-digit group after the first, not a date."""
    groups = _GROUP.findall(number)
    if len(groups) > 1 and _thousands(groups) and groups[-1] == "000":
        return False  # a round amount: 15 000 000
    return (
        7 <= _digits(number) <= 15
        and len(groups) <= 4
        and all(len(group.strip("()")) >= 2 for group in groups[1:])
        and not _DATE.match(number)
    )


def _phone_context(text: str, match: re.Match[str]) -> bool:
    """A phone word before the number (same line, or the line above when the number starts
    its line) with no identifier word after it, or a phone word right after the number."""
    start, end = match.span()
    line_start = text.rfind("\n", 0, start) + 1
    window_start = line_start
    if not text[line_start:start].strip() and line_start > 0:
        window_start = text.rfind("\n", 0, line_start - 1) + 1
    before = text[max(window_start, start - CONTEXT_CHARS) : start].lower()
    for word in reversed(list(_WORD.finditer(before))):
        if word.group() in OTHER_NUMBER_WORDS:
            break
        if word.group() in PHONE_WORDS or (
            word.group() in LABEL_WORDS and before[word.end() : word.end() + 1] == ":"
        ):
            return True
    after = _WORD.search(text, end, min(len(text), end + 24))
    if after is not None and not text[end : after.start()].strip(" -\\,:("):
        label = after.group().lower()
        return label in PHONE_WORDS or label in LABEL_WORDS
    return False
