"""Texts with PII for the pii tests: named golden cases and a seeded generator.

All values are public test values (documentation IP ranges aside, which are private by
design): example.com mail, the card numbers of payment test suites, IBANs of the IBAN
registry's examples, AWS's documented example key, the Bitcoin genesis address. The
private-key block is random base64 made here, not a key.
"""

from __future__ import annotations

import base64
import random

WORDS = [
    "the",
    "mill",
    "ground",
    "grain",
    "for",
    "the",
    "village",
    "and",
    "the",
    "river",
    "turned",
    "its",
    "wheel",
    "while",
    "farmers",
    "brought",
    "sacks",
    "from",
    "the",
    "valley",
    "every",
    "autumn",
    "before",
    "the",
    "first",
    "rain",
    "came",
    "down",
]


def fake_private_key(seed: int = 1) -> str:
    rng = random.Random(seed)
    body = base64.b64encode(bytes(rng.randrange(256) for _ in range(300))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----"
    )


GOLDEN_CASES: dict[str, str] = {
    "emails": "Write to jane.doe@example.com or to sales+eu@mail.example.co.uk; not to a@b.",
    "phones_national_formats": (
        "US (415) 555-2671 or +1 415 555 2671. UK +44 20 7946 0958. "
        "Germany +49 30 901820 and 030 901820. France 01 42 68 53 00. "
        "India +91 98765 43210. Brazil +55 11 91234-5678."
    ),
    "ip_public_and_private": (
        "Public 8.8.8.8 and 2606:4700:4700::1111; private 192.168.1.20, 10.0.0.1, "
        "127.0.0.1, fe80::1 and ::1 stay."
    ),
    "credit_cards": "Valid 4111 1111 1111 1111 and 5555555555554444; invalid 4111 1111 1111 1112.",
    "iban": "Pay into GB82 WEST 1234 5698 7654 32 or DE89370400440532013000 today.",
    "us_ssn": "Her SSN is 536-22-8721 and his is 000-12-3456.",
    "crypto": "Send coins to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa please.",
    "aws_key_in_code": (
        'import boto3\n\nclient = boto3.client(\n    "s3",\n'
        '    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",\n'
        '    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCY2EXAMPLEKEY",\n)\n'
    ),
    "private_key_in_code": 'KEY = """\n' + fake_private_key() + '\n"""\nprint(len(KEY))\n',
    "no_pii": (
        "The mill ground 40 sacks of grain in 1887; version 2.1 of the ledger lists 12 farmers."
    ),
}

#: a long single line with an email across the edge of the first 256-character chunk
CHUNK_EDGE_TEXT = ("grain " * 40)[:236] + " miller.one@example.org " + ("flour " * 60)

PII_SNIPPETS = (
    "jane.doe@example.com",
    "ops-team@mail.example.co.uk",
    "(415) 555-2671",
    "+1 415 555 2671",
    "+44 20 7946 0958",
    "030 901820",
    "+49 30 901820",
    "01 42 68 53 00",
    "+91 98765 43210",
    "+55 11 91234-5678",
    "8.8.8.8",
    "192.168.1.20",
    "2606:4700:4700::1111",
    "fe80::1",
    "4111 1111 1111 1111",
    "4111-1111-1111-1112",
    "5555555555554444",
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "536-22-8721",
    "123456789",
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "AKIAIOSFODNN7EXAMPLE",
    'password = "s3cr3t-Passw0rd"',
    "2019-06-19 20:54",
    "March 03, 2018",
    "12:30:45",
    "v1.2.3",
    "ISBN 978-3-16-148410-0",
    "$1,299.99",
    "1640",
)


def generated_documents(count: int, seed: int = 11, long_lines: bool = True) -> list[str]:
    """Documents of filler words with PII snippets at random places, some in very long
    lines, some split over many short lines."""
    rng = random.Random(seed)
    documents = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(20, 200)):
            if rng.random() < 0.15:
                parts.append(rng.choice(PII_SNIPPETS))
            else:
                parts.append(rng.choice(WORDS))
            if rng.random() < (0.01 if long_lines and rng.random() < 0.5 else 0.08):
                parts.append("\n")
        documents.append(" ".join(parts).replace(" \n ", "\n"))
    return documents
