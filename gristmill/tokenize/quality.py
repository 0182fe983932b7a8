"""How good is the trained tokenizer? Measured on held-back documents, per source.

Four numbers, the ones tokenizer comparisons report (e.g. Rust et al., 2021; the BLOOM and
LLaMA reports): compression as UTF-8 bytes per token (higher is better), vocabulary usage
(share of ids that occur), the share of tokens that are bare bytes (SentencePiece byte
fallback, or a lone non-ASCII byte of byte-level BPE: characters the vocabulary does not
cover), and round-trip exactness, decode(encode(x)) == x, checked on every held-back
document with the failing ids listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from gristmill.tokenize.model import LoadedTokenizer

MAX_EXAMPLES = 5


class QualityReport:
    """Accumulates held-back documents of several sources, then ``to_dict()``."""

    def __init__(self, tokenizer: LoadedTokenizer) -> None:
        self.tokenizer = tokenizer
        self.counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
        self.sources: dict[str, dict[str, Any]] = {}

    def add(self, source: str, ids: Iterable[str], texts: list[str]) -> None:
        stats = self.sources.setdefault(
            source,
            {"docs": 0, "bytes": 0, "tokens": 0, "byte_tokens": 0, "roundtrip_exact": 0,
             "roundtrip_failures": []},
        )  # fmt: skip
        encoded = self.tokenizer.encode_batch(texts)
        for doc_id, text, token_ids in zip(ids, texts, encoded, strict=True):
            array = np.asarray(token_ids, dtype=np.int64)
            stats["docs"] += 1
            stats["bytes"] += len(text.encode("utf-8"))
            stats["tokens"] += int(array.size)
            stats["byte_tokens"] += int(self.tokenizer.byte_mask[array].sum())
            self.counts += np.bincount(array, minlength=self.tokenizer.vocab_size)
            decoded = self.tokenizer.decode(token_ids)
            if decoded == text:
                stats["roundtrip_exact"] += 1
            elif len(stats["roundtrip_failures"]) < MAX_EXAMPLES:
                stats["roundtrip_failures"].append(
                    {"id": doc_id, "first_difference": _first_difference(text, decoded)}
                )

    def to_dict(self) -> dict[str, Any]:
        sources = {name: _finish(stats) for name, stats in sorted(self.sources.items())}
        docs = sum(s["docs"] for s in self.sources.values())
        exact = sum(s["roundtrip_exact"] for s in self.sources.values())
        tokens = sum(s["tokens"] for s in self.sources.values())
        return {
            "held_out_docs": docs,
            "bytes_per_token": _ratio(sum(s["bytes"] for s in self.sources.values()), tokens),
            "byte_fallback_share": _ratio(
                sum(s["byte_tokens"] for s in self.sources.values()), tokens
            ),
            "roundtrip_exact_docs": exact,
            "roundtrip_exact": docs == exact,
            "vocab_used": int(np.count_nonzero(self.counts)),
            "vocab_usage": _ratio(int(np.count_nonzero(self.counts)), self.tokenizer.vocab_size),
            "sources": sources,
        }


def _finish(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        **stats,
        "bytes_per_token": _ratio(stats["bytes"], stats["tokens"]),
        "byte_fallback_share": _ratio(stats["byte_tokens"], stats["tokens"]),
        "roundtrip_exact_share": _ratio(stats["roundtrip_exact"], stats["docs"]),
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def _first_difference(expected: str, actual: str) -> int:
    for index, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if a != b:
            return index
    return min(len(expected), len(actual))
