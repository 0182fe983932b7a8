"""MinHash near-duplicates in Chinese and Japanese: recall on planted edits, precision, and
signature speed against English. Not run by CI.

Documents: the 1,104 passages of ``../shared/data/multilingual/zh_wiki_cmrc`` (Chinese
Wikipedia, 266-980 characters), and the Chinese and Japanese sentences of
``../shared/data/multilingual/lingua/sentences.jsonl`` joined in order into documents of at
least 300 characters. Each document gets a variant with 1% of its characters (at least one)
replaced by other characters of its corpus. The decisions are the ``minhash`` step's (default
parameters): signatures, LSH bands, signature verification (0.75) and the size guard (0.5),
applied in process to every candidate pair. Recall: planted pairs found; precision: found
pairs that are planted pairs (any other is two distinct documents merged).

Compared segmentations (same 5-gram shingles, 128 permutations, same decision rule):
- ``characters`` (gristmill): each Han/kana character is a word, so shingles are character
  5-grams;
- ``jieba``: jieba's words (precise mode; Chinese only), shingles of 5 words, hashed in
  Python; its time is segmentation alone;
- ``whitespace``: the scan before this change (a clause between spaces is a word), emulated
  by hashing whitespace tokens.

Speed: CPU seconds, best of 7 interleaved rounds, of ``MinHashDedup.signatures`` on the
Chinese passages and on English text of the same byte length per document (passages of the
Gutenberg books under ``../shared/data/books``), as documents per second; the English dolma
web documents of ``bench/dedup.py`` (longer on average) are timed too, for scale.

Ends with ``RESULT cjk_recall=<r> cjk_precision=<p> cjk_sig_speed_ratio=<zh docs/s over
en docs/s>``.
"""

from __future__ import annotations

import gc
import json
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash
from dedup import web_documents

from gristmill.dedupe.lsh import band_keys
from gristmill.dedupe.minhash import MinHashDedup
from gristmill.dedupe.shingles import ShingleHashes
from gristmill.dedupe.signatures import estimated_jaccard, minhash_signatures

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MULTILINGUAL = SHARED / "multilingual"


def passages() -> list[str]:
    path = MULTILINGUAL / "zh_wiki_cmrc" / "passages.jsonl"
    return [json.loads(line)["text"] for line in path.open(encoding="utf-8")]


def sentence_documents(language: str, min_characters: int = 300) -> list[str]:
    documents, current = [], ""
    for line in (MULTILINGUAL / "lingua" / "sentences.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row["lang"] != language:
            continue
        current += row["text"]
        if len(current) >= min_characters:
            documents.append(current)
            current = ""
    return documents


def edited(rng: random.Random, text: str, alphabet: list[str], share: float = 0.01) -> str:
    """``text`` with ``share`` of its non-space characters (at least one) replaced."""
    characters = list(text)
    positions = [i for i, c in enumerate(characters) if not c.isspace()]
    for position in rng.sample(positions, max(1, math.ceil(share * len(positions)))):
        replacement = characters[position]
        while replacement == characters[position]:
            replacement = rng.choice(alphabet)
        characters[position] = replacement
    return "".join(characters)


def found_pairs(step: MinHashDedup, signatures: np.ndarray, counts: np.ndarray) -> set:
    """Pairs the step's resolve would link: sharing a band, signatures agreeing on at least
    ``verify_min_jaccard`` of their positions, shingle counts within ``min_size_ratio``."""
    keys = band_keys(signatures, step.bands, step.rows)
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for document in np.flatnonzero(counts > 0):
        for band, key in enumerate(keys[document].tolist()):
            buckets[band, key].append(int(document))
    pairs = set()
    for members in buckets.values():
        for i, left in enumerate(members):
            for right in members[i + 1 :]:
                pairs.add((left, right))
    kept = set()
    for left, right in pairs:
        ratio = min(counts[left], counts[right]) / max(counts[left], counts[right])
        similar = estimated_jaccard(signatures[left], signatures[right]) >= step.verify_min_jaccard
        if similar and ratio >= step.min_size_ratio:
            kept.add((left, right))
    return kept


def python_signatures(step: MinHashDedup, token_lists: list[list[str]]) -> tuple:
    """Signatures of word 5-gram shingles of given tokens (for the compared segmenters)."""
    values, counts = [], []
    for tokens in token_lists:
        grams = {
            xxhash.xxh3_64_intdigest("\x00".join(tokens[i : i + 5]).encode())
            for i in range(max(1, len(tokens) - 4))
        }
        values.extend(grams)
        counts.append(len(grams))
    shingles = ShingleHashes(np.array(values, dtype=np.uint64), np.array(counts, dtype=np.int64))
    return minhash_signatures(shingles, step.num_perm, step.seed), shingles.counts


def quality(name: str, documents: list[str], segment=None, seed: int = 7) -> dict:
    rng = random.Random(seed)
    alphabet = sorted({c for text in documents for c in text if not c.isspace()})
    variants = [edited(rng, text, alphabet) for text in documents]
    texts = documents + variants
    step = MinHashDedup()
    if segment is None:
        signatures, counts = step.signatures(pa.array(texts, pa.large_string()))
    else:
        signatures, counts = python_signatures(step, [segment(t) for t in texts])
    pairs = found_pairs(step, signatures, counts)
    planted = {(i, i + len(documents)) for i in range(len(documents))}
    hits = len(pairs & planted)
    return {
        "corpus": name,
        "documents": len(documents),
        "recall": round(hits / len(planted), 4),
        "precision": round(hits / len(pairs), 4) if pairs else float("nan"),
        "distinct_merged": len(pairs - planted),
    }


def english_like(zh: list[str]) -> list[str]:
    """English text cut to the UTF-8 byte length of each Chinese passage."""
    books = sorted((SHARED / "books" / "gutenberg").rglob("*.txt"))
    words = " ".join(path.read_text(encoding="utf-8", errors="replace") for path in books[:4])
    words = " ".join(words.split()).encode()
    out, offset = [], 0
    for text in zh:
        size = len(text.encode())
        if offset + size > len(words):
            offset = 0
        out.append(words[offset : offset + size].decode("utf-8", errors="ignore"))
        offset += size
    return out


def best_cpu_seconds(functions: dict, rounds: int = 7) -> dict[str, float]:
    """Best CPU time of each function over interleaved rounds, garbage collection off."""
    best = dict.fromkeys(functions, float("inf"))
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, function in functions.items():
                started = time.process_time()
                function()
                best[name] = min(best[name], time.process_time() - started)
    finally:
        gc.enable()
    return best


def speed(zh: list[str]) -> dict[str, float]:
    import jieba

    copies = 4  # about 4,400 documents each
    chinese = pa.array(zh * copies, pa.large_string())
    english = pa.array(english_like(zh) * copies, pa.large_string())
    web = pa.array(web_documents(min_words=1)[: len(chinese)], pa.large_string())
    step = MinHashDedup()
    step.signatures(chinese[:10])  # tables and compiled code loaded
    step.signatures(english[:10])
    jieba.lcut(zh[0])
    seconds = best_cpu_seconds(
        {
            "zh": lambda: step.signatures(chinese),
            "en": lambda: step.signatures(english),
            "en_dolma_web": lambda: step.signatures(web),
        }
    )
    # timed apart: its allocations would disturb the others' rounds
    seconds |= best_cpu_seconds({"jieba_segmentation_only": lambda: [jieba.lcut(t) for t in zh]}, 2)
    seconds["jieba_segmentation_only"] *= copies
    documents = {"en_dolma_web": len(web)}
    result = {
        name: round(documents.get(name, len(chinese)) / value, 1) for name, value in seconds.items()
    }
    result["zh_mb_per_s"] = round(
        sum(len(t.encode()) for t in zh) * copies / seconds["zh"] / 1e6, 2
    )
    return result


def main() -> int:
    import jieba

    jieba.setLogLevel(60)
    zh = passages()
    corpora = {
        "zh_wiki_cmrc": zh,
        "lingua_zh": sentence_documents("zh"),
        "lingua_ja": sentence_documents("ja"),
    }
    results = []
    for name, documents in corpora.items():
        results.append({"segmentation": "characters", **quality(name, documents)})
        results.append({"segmentation": "whitespace", **quality(name, documents, str.split)})
        if name != "lingua_ja":
            results.append({"segmentation": "jieba", **quality(name, documents, jieba.lcut)})
    for row in results:
        print(json.dumps(row), flush=True)
    rates = speed(zh)
    print("signatures docs/s", json.dumps(rates), flush=True)
    ours = [row for row in results if row["segmentation"] == "characters"]
    found = sum(row["recall"] * row["documents"] for row in ours)
    planted = sum(row["documents"] for row in ours)
    merged = sum(row["distinct_merged"] for row in ours)
    precision = found / (found + merged) if found + merged else float("nan")
    print(
        f"RESULT cjk_recall={found / planted:.4f} cjk_precision={precision:.4f} "
        f"cjk_sig_speed_ratio={rates['zh'] / rates['en']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
