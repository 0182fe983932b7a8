"""Replacing found PII: a tag, nothing, a salted hash, or a consistent fake value.

Overlapping findings (a card number that is also a phone number) merge into one span named
after the most confident one, so no character of any finding survives. Each span becomes

- ``tag``: ``<EMAIL_ADDRESS>`` (the convention of presidio's anonymizer and BigScience's
  ROOTS PII pipeline);
- ``redact``: nothing;
- ``hash``: ``<EMAIL_ADDRESS:3f9a1c2b7d4e5f60>``, a keyed HMAC-SHA256 of the value, so the
  same value links across a corpus without being readable;
- ``fake``: a value of the same kind derived from that hash, the same for the same input
  (like datatrove's ``PIIFormatter`` replacements, but consistent): ``user-3f9a1c2b@example.com``,
  RFC 5737/3849 documentation addresses, numbers with their layout kept but made invalid
  (an SSN area of 9xx, an IBAN check of 00, a failing Luhn digit), names from a short list.

Low-entropy values (phone numbers, SSNs) can be recovered from an unsalted hash by
enumeration: set a secret salt in the environment (``GRISTMILL_PII_SALT`` by default).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import string
from collections.abc import Sequence

from gristmill.pii.analysis import Finding

REPLACEMENT_MODES = ("tag", "redact", "hash", "fake")

_FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie",
    "Robin", "Avery", "Quinn", "Drew", "Reese", "Rowan", "Sasha", "Kai",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Garcia", "Chen", "Novak", "Okafor", "Larsen", "Silva", "Kowalski",
    "Haddad", "Moreau", "Tanaka", "Ivanova", "Byrne", "Rossi", "Mensah", "Kaur",
)  # fmt: skip
_PLACES = (
    "Springfield", "Riverton", "Lakeside", "Fairview", "Greenville", "Kingsport",
    "Milltown", "Oakridge", "Westbrook", "Ashford", "Brookhaven", "Northfield",
)  # fmt: skip
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ALNUM = string.ascii_letters + string.digits
_KEY_PREFIX = re.compile(r"[A-Za-z0-9]{1,10}[_-]")


def resolve_overlaps(findings: Sequence[Finding]) -> list[Finding]:
    """Non-overlapping spans covering every finding, each named after the best finding it
    covers (highest score, then longest, then first, then entity name)."""
    spans: list[Finding] = []
    group: list[Finding] = []
    end = -1
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if group and finding.start >= end:
            spans.append(_merged(group, end))
            group = []
        end = max(end, finding.end) if group else finding.end
        group.append(finding)
    if group:
        spans.append(_merged(group, end))
    return spans


def _merged(group: list[Finding], end: int) -> Finding:
    best = min(group, key=lambda f: (-f.score, f.start - f.end, f.start, f.entity))
    return Finding(best.entity, group[0].start, end, best.score)


def keyed_digest(salt: bytes, entity: str, value: str) -> bytes:
    """HMAC-SHA256 of ``entity`` and ``value`` under ``salt``."""
    return hmac.new(salt, f"{entity}\x00{value}".encode(), hashlib.sha256).digest()


def replacement(mode: str, entity: str, value: str, digest: bytes) -> str:
    """What replaces ``value`` (an ``entity`` span) in ``mode``."""
    if mode == "tag":
        return f"<{entity}>"
    if mode == "redact":
        return ""
    if mode == "hash":
        return f"<{entity}:{digest.hex()[:16]}>"
    return fake_value(entity, value, digest)


class _Stream:
    """Endless pseudo-random bytes from a digest (SHAKE-256), for fake values."""

    def __init__(self, digest: bytes) -> None:
        self._bytes = hashlib.shake_256(digest).digest(512)
        self._position = 0

    def next(self, modulus: int) -> int:
        value = self._bytes[self._position % len(self._bytes)]
        self._position += 1
        return value % modulus


def _same_layout(value: str, stream: _Stream) -> str:
    """Digits replaced by digits and letters by letters; punctuation and spaces kept."""
    out = []
    for char in value:
        if char.isdigit():
            out.append(str(stream.next(10)))
        elif char.isalpha():
            letter = string.ascii_uppercase[stream.next(26)]
            out.append(letter if char.isupper() else letter.lower())
        else:
            out.append(char)
    return "".join(out)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _fake_card(value: str, stream: _Stream) -> str:
    fake = _same_layout(value, stream)
    if _luhn_valid("".join(c for c in fake if c.isdigit())):
        last = max(i for i, c in enumerate(fake) if c.isdigit())
        fake = fake[:last] + str((int(fake[last]) + 1) % 10) + fake[last + 1 :]
    return fake


def _fake_ip(value: str, stream: _Stream) -> str:
    address, slash, prefix = value.partition("/")
    suffix = slash + prefix
    try:
        version = ipaddress.ip_address(address).version
    except ValueError:
        version = 6 if ":" in address else 4
    if version == 4:
        network = ("192.0.2", "198.51.100", "203.0.113")[stream.next(3)]
        return f"{network}.{stream.next(254) + 1}{suffix}"
    return f"2001:db8::{stream.next(256):x}{stream.next(256):02x}:{stream.next(256):x}{suffix}"


def fake_value(entity: str, value: str, digest: bytes) -> str:
    """A stand-in of the same kind as ``value``, the same for the same digest."""
    stream = _Stream(digest)
    if entity == "EMAIL_ADDRESS":
        return f"user-{digest.hex()[:8]}@example.com"
    if entity == "IP_ADDRESS":
        return _fake_ip(value, stream)
    if entity == "CREDIT_CARD":
        return _fake_card(value, stream)
    if entity == "US_SSN":
        fake = _same_layout(value, stream)
        first = next((i for i, c in enumerate(fake) if c.isdigit()), None)
        return fake if first is None else fake[:first] + "9" + fake[first + 1 :]
    if entity == "IBAN_CODE" and len(value) >= 4:
        return value[:2].upper() + "00" + _same_layout(value[4:], stream)
    if entity == "CRYPTO":
        keep = 3 if value.lower().startswith("bc1") else 1
        return value[:keep] + "".join(_BASE58[stream.next(58)] for _ in value[keep:])
    if entity == "API_KEY":
        prefix = _KEY_PREFIX.match(value)
        keep = prefix.end() if prefix else 0
        return value[:keep] + "".join(_ALNUM[stream.next(62)] for _ in value[keep:])
    if entity == "PRIVATE_KEY":
        lines = value.splitlines()
        body = "".join(_ALNUM[stream.next(62)] for _ in range(64))
        return f"{lines[0]}\n{body}\n{lines[-1]}" if len(lines) > 1 else body
    if entity == "PERSON":
        return f"{_FIRST_NAMES[stream.next(16)]} {_LAST_NAMES[stream.next(16)]}"
    if entity == "LOCATION":
        return _PLACES[stream.next(len(_PLACES))]
    if entity == "PHONE_NUMBER":
        return _same_layout(value, stream)
    return f"<{entity}>"


def apply_replacements(
    text: str, spans: Sequence[Finding], mode: str, salt: bytes
) -> tuple[str, list[bytes]]:
    """``text`` with every span replaced, and the digest of each span's value."""
    pieces = []
    digests = []
    position = 0
    for span in spans:
        value = text[span.start : span.end]
        digest = keyed_digest(salt, span.entity, value)
        digests.append(digest)
        pieces.append(text[position : span.start])
        pieces.append(replacement(mode, span.entity, value, digest))
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces), digests
