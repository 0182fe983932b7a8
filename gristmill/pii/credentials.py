"""Presidio pattern recognizers for secrets in source code: API keys and private-key blocks.

Presidio ships no recognizer for credentials, so these follow the token formats the
providers document and that secret scanners (gitleaks, GitHub secret scanning,
detect-secrets) look for: AWS access key ids, GitHub, Slack, Stripe, Google and OpenAI-style
keys, JSON Web Tokens, quoted values assigned to ``password``/``secret``/``api_key``-like
names, and PEM/PGP private-key blocks. Token formats are case-sensitive, so the patterns
run without presidio's default IGNORECASE flag.

Every pattern but the private-key block stays on one line (``[ \\t]`` rather than ``\\s``):
:mod:`gristmill.pii.analysis` relies on that to analyse candidate lines only.
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern, PatternRecognizer

#: case-sensitive, like the providers' formats (presidio's default adds IGNORECASE)
CASE_SENSITIVE = regex.DOTALL | regex.MULTILINE

#: names of variables and keys that hold secrets (as in detect-secrets' keyword plugin): the
#: word may end the name or be followed by ``_``/``-``/``.`` and more (``secret_access_key``),
#: but not by letters (``tokenizer``, ``max_tokens``)
_SECRET_NAMES = (
    r"(?:api[_-]?key|apikey|access[_-]?key|auth[_-]?key|private[_-]?key|secret|token"
    r"|passw(?:or)?d|pwd|credentials?)(?:[_.-][A-Za-z0-9_.-]*)?"
)

API_KEY_PATTERNS = (
    Pattern("AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", 0.9),
    Pattern("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{22,247})\b", 0.9),
    Pattern("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,250}\b", 0.9),
    Pattern("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,247}\b", 0.9),
    Pattern("Google API key", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", 0.9),
    Pattern(
        "OpenAI-style key", r"\bsk-(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])", 0.8
    ),
    Pattern(
        "JSON Web Token",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])",
        0.8,
    ),
    Pattern(
        "quoted value assigned to a secret name",
        r"(?<=(?i:" + _SECRET_NAMES + r")[\"']?[ \t]*[:=]{1,2}[ \t]*[\"'])"
        r"(?=[^\"'\s]*\d)(?=[^\"'\s]*[A-Za-z])[A-Za-z0-9_+/=.~!@#%^&*-]{8,200}(?=[\"'])",
        0.6,
    ),
)

PRIVATE_KEY_PATTERNS = (
    Pattern(
        "PEM or PGP private-key block",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"[\sA-Za-z0-9+/=:,.\\\"'-]*?"
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
        0.95,
    ),
)

#: ``(first characters, shape)`` for the pre-scan: every finding of the recognizers above
#: contains a match, except the quoted assignment, whose value follows its ``=``/``:`` match
#: on the same line (which is all the line-wise analysis needs)
API_KEY_SHAPES = (
    ("A", r"A(?:KIA|SIA|BIA|CCA|Iza)"),
    # each anchored on its first character that is rare in prose, the rest looked behind
    # from after it (a shape that starts by consuming a character is tried faster)
    ("_", r"_(?<=gh[pousr]_)|_pat_|_(?<=[rs]k_)(?:live|test)_"),
    (r"\-", r"-(?<=(?:xox[abposr]|sk)-)"),
    ("J", r"J(?<=eyJ)"),
    (":=", r"[:=][ \t]*[\"']"),
)
#: every private-key block starts with it; documents without it skip that recognizer
PRIVATE_KEY_MARKER = "-----BEGIN"
PRIVATE_KEY_SHAPES = ((r"\-", PRIVATE_KEY_MARKER),)


class ApiKeyRecognizer(PatternRecognizer):
    """API keys and tokens by their documented formats, and quoted secret assignments."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="API_KEY",
            name="ApiKeyRecognizer",
            supported_language=supported_language,
            patterns=list(API_KEY_PATTERNS),
            context=["key", "token", "secret", "password", "credential"],
            global_regex_flags=CASE_SENSITIVE,
        )


class PrivateKeyRecognizer(PatternRecognizer):
    """PEM (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted) and PGP private-key blocks."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="PRIVATE_KEY",
            name="PrivateKeyRecognizer",
            supported_language=supported_language,
            patterns=list(PRIVATE_KEY_PATTERNS),
            context=["key", "private"],
            global_regex_flags=CASE_SENSITIVE,
        )
