"""Text normalisation: Unicode NFC, line endings, control characters, blank lines.

A light cleaning transform applied before measuring text (CCNet normalises before hashing
and language ID; Dolma and datatrove strip control characters the same way). Documents
left empty are dropped under ``<step>:empty``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import pyarrow as pa

from gristmill.steps import Transform

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


class NormalizeText(Transform):
    """NFC, CRLF → LF, drop control characters, strip trailing spaces, ≤ 1 blank line."""

    name = "normalize"

    unicode_form: str | None = "NFC"
    max_blank_lines: int = 1

    def rewrite(self, batch: pa.Table) -> tuple[list[str], Sequence[str | None], Counter]:
        blank_runs = re.compile("\n{" + str(self.max_blank_lines + 2) + ",}")
        blank_replacement = "\n" * (self.max_blank_lines + 1)
        texts: list[str] = []
        reasons: list[str | None] = []
        changed = 0
        chars_removed = 0
        for text in batch.column("text").to_pylist():
            cleaned = text.replace("\r\n", "\n").replace("\r", "\n")
            cleaned = _CONTROL.sub("", cleaned)
            if self.unicode_form and not unicodedata.is_normalized(self.unicode_form, cleaned):
                cleaned = unicodedata.normalize(self.unicode_form, cleaned)
            cleaned = _TRAILING_SPACE.sub("\n", cleaned)
            cleaned = blank_runs.sub(blank_replacement, cleaned).strip()
            if cleaned != text:
                changed += 1
                chars_removed += len(text) - len(cleaned)
            texts.append(cleaned)
            reasons.append(None if cleaned else "empty")
        return texts, reasons, Counter(docs_changed=changed, chars_removed=chars_removed)
