"""The presidio recognizers of the ``pii`` step, their entities and their candidate shapes.

The pattern recognizers are presidio-analyzer's own (email, phone, IP, credit card with its
Luhn check, IBAN, US SSN, crypto wallet), with two changes that keep the step offline and
faithful to the survey's privacy reduction (Zhao et al. 2023, §4.1.2): the email recognizer
validates domains against tldextract's bundled public-suffix snapshot instead of downloading
the list, and the IP recognizer can reject private, loopback and reserved addresses (as
datatrove's ``PIIFormatter`` does by default). Credentials come from
:mod:`gristmill.pii.credentials`.

Each pattern entity also names its *candidate shapes*: regular expressions of which every
finding contains at least one match (a phone number has four digits at most four characters
apart, an email an ``@`` followed by a word character, ...). The pre-scan joins them into one
compiled regex; the shapes never cross a line break.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import cache

import regex
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    PatternRecognizer,
    RecognizerRegistry,
)
from presidio_analyzer.nlp_engine import NoOpNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from gristmill.pii.credentials import (
    API_KEY_SHAPES,
    PRIVATE_KEY_SHAPES,
    ApiKeyRecognizer,
    PrivateKeyRecognizer,
)
from gristmill.pii.phone import MemoizedPhoneRecognizer

NER_ENTITIES = ("PERSON", "LOCATION")
PATTERN_ENTITIES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "IP_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "CRYPTO",
    "API_KEY",
    "PRIVATE_KEY",
    "URL",
)
#: entities found only when named in ``entities``
OPT_IN_ENTITIES = ("URL",)
#: default entities per source profile: code gets secrets and email/IP, never NER
PROFILE_ENTITIES: dict[str, tuple[str, ...]] = {
    "web": tuple(e for e in PATTERN_ENTITIES if e not in OPT_IN_ENTITIES) + NER_ENTITIES,
    "code": ("EMAIL_ADDRESS", "IP_ADDRESS", "API_KEY", "PRIVATE_KEY"),
}

_FOUR_DIGITS = (r"\d", r"\d(?:[^\d\n]{0,4}\d){3}")
#: cards have 13+ digits and SSNs 9, each apart by at most one of ``- .``
_NINE_DIGITS = (r"\d", r"\d(?:[- .]?\d){8}")
#: per entity, ``(first characters, shape)``: every finding contains a match of a shape
ENTITY_SHAPES: dict[str, tuple[tuple[str, str], ...]] = {
    "EMAIL_ADDRESS": (("@", r"@\w"),),
    # phonenumbers needs >= 4 national digits (German numbers can be that short), in
    # blocks separated by at most 4 punctuation characters
    "PHONE_NUMBER": (_FOUR_DIGITS,),
    "CREDIT_CARD": (_NINE_DIGITS,),
    "US_SSN": (_NINE_DIGITS,),
    # IPv4 (plain, mapped, embedded) has four dotted octets; IPv6 has "::" or ":h:h:"
    "IP_ADDRESS": (
        (r"\d", r"\d\.\d{1,3}\.\d{1,3}\.\d"),
        (":", r":(?::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)"),
    ),
    # two letters and two digits, the letters looked behind from the first digit (a
    # look-behind first would be tried at every digit of the text)
    "IBAN_CODE": ((r"\d", r"[0-9](?<=(?i:[a-z]{2})[0-9])[0-9]"),),
    # presidio's pattern is (bc1|[13]) + 25..59 characters, matched case-insensitively
    "CRYPTO": (("13", r"(?i:[13][a-z0-9]{25})"),),
    # presidio's URL patterns all end in "." and a top-level domain
    "URL": ((".", r"\.\w"),),
    "API_KEY": API_KEY_SHAPES,
    "PRIVATE_KEY": PRIVATE_KEY_SHAPES,
}

#: entities whose findings may span lines: analysed on the whole document
MULTILINE_ENTITIES = frozenset({"PRIVATE_KEY"})


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's EmailRecognizer, validating domains with the bundled suffix list.

    ``tldextract.extract`` downloads the public-suffix list on first use; this one never
    touches the network (same regex, same score, same validation otherwise).
    """

    def validate_result(self, pattern_text: str) -> bool:
        return _offline_tldextract()(pattern_text).fqdn != ""


@cache
def _offline_tldextract() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def is_public_address(text: str) -> bool:
    """True when ``text`` (an IPv4/IPv6 address or interface) is globally routable."""
    address = ipaddress.ip_interface(text).ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global


class PublicIpRecognizer(IpRecognizer):
    """presidio's IpRecognizer that also rejects non-public (private, loopback, link-local,
    documentation, reserved) addresses, which identify no one."""

    def invalidate_result(self, pattern_text: str) -> bool:
        if super().invalidate_result(pattern_text):
            return True
        return not is_public_address(pattern_text)


def _as_registries_load_it(recognizer: PatternRecognizer) -> PatternRecognizer:
    """presidio's registries give every predefined pattern recognizer their regex flags
    (DOTALL, MULTILINE, IGNORECASE), overriding the IBAN recognizer's own default."""
    recognizer.global_regex_flags = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
    return recognizer


def pattern_recognizers(
    entities: tuple[str, ...], language: str, public_ip_only: bool, memoized_phone: bool = True
) -> list[EntityRecognizer]:
    """One presidio recognizer per requested pattern entity, in a stable order.

    ``memoized_phone=False`` gives presidio's stock PhoneRecognizer (the reference the
    memoized one is tested against).
    """
    phone_class = MemoizedPhoneRecognizer if memoized_phone else PhoneRecognizer
    factories: dict[str, Callable[[], EntityRecognizer]] = {
        "EMAIL_ADDRESS": lambda: OfflineEmailRecognizer(supported_language=language),
        "PHONE_NUMBER": lambda: phone_class(supported_language=language),
        "IP_ADDRESS": lambda: (PublicIpRecognizer if public_ip_only else IpRecognizer)(
            supported_language=language
        ),
        "CREDIT_CARD": lambda: CreditCardRecognizer(supported_language=language),
        "IBAN_CODE": lambda: _as_registries_load_it(IbanRecognizer(supported_language=language)),
        "US_SSN": lambda: UsSsnRecognizer(supported_language=language),
        "CRYPTO": lambda: CryptoRecognizer(supported_language=language),
        "API_KEY": lambda: ApiKeyRecognizer(supported_language=language),
        "PRIVATE_KEY": lambda: PrivateKeyRecognizer(supported_language=language),
        "URL": lambda: UrlRecognizer(supported_language=language),
    }
    return [factories[entity]() for entity in PATTERN_ENTITIES if entity in entities]


@cache
def pattern_engine(
    entities: tuple[str, ...], language: str, public_ip_only: bool, memoized_phone: bool = True
) -> AnalyzerEngine:
    """A presidio AnalyzerEngine with the pattern recognizers and no NLP model.

    presidio's ``NoOpNlpEngine`` returns empty NLP artifacts, so nothing is downloaded or
    loaded; context words therefore never raise scores. Built once per worker process.
    """
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": language, "model_name": "no_op"}])
    registry = RecognizerRegistry(
        recognizers=pattern_recognizers(entities, language, public_ip_only, memoized_phone),
        supported_languages=[language],
    )
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])
