"""MinHash decisions beyond English prose: scripts written without spaces (a character is a
word), numbers kept, and the code profile (leading licence comments skipped, operators are
words). Issue 14 item 1 (MinHash) and issue 15 items 1 and 7."""

from __future__ import annotations

import json
import random
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from gristmill.dedupe.lsh import band_keys
from gristmill.dedupe.minhash import MinHashDedup
from gristmill.dedupe.shingles import normalized_word_hashes, shingle_hashes, word_hash
from gristmill.dedupe.signatures import estimated_jaccard
from gristmill.documents import encode_meta, make_batch
from gristmill.io.code import CodeReader
from gristmill.scripts import is_non_spaced
from tests.reader_checks import read_source

HEADERS = Path(__file__).parent / "golden" / "dedupe" / "code_headers"

SCRIPT_TEXTS = {
    "chinese": "我们在磨坊里磨面粉，每天早上九点开门。Python 3.12 版本",
    "japanese": "水車小屋では毎朝パンを焼きます。ｶﾀｶﾅも使えます",
    "thai": "โรงสีเปิดทุกวัน เวลาเก้าโมงเช้า",
    "korean": "방앗간은 매일 아침 아홉 시에 문을 엽니다.",
    "arabic": "تفتح المطحنة كل يوم في الساعة التاسعة صباحا.",
    "russian": "Мельница открывается каждый день в девять утра, 2024 год.",
}


def found_pairs(step: MinHashDedup, texts: list[str], is_code=None) -> set[tuple[int, int]]:
    """The pairs the step's resolve links: a shared band, verification and size guard."""
    signatures, counts = step.signatures(pa.array(texts, pa.large_string()), is_code)
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for document in np.flatnonzero(counts > 0):
        for band, key in enumerate(band_keys(signatures, step.bands, step.rows)[document]):
            buckets[band, int(key)].append(int(document))
    pairs = set()
    for members in buckets.values():
        for position, left in enumerate(members):
            for right in members[position + 1 :]:
                ratio = min(counts[left], counts[right]) / max(counts[left], counts[right])
                agree = estimated_jaccard(signatures[left], signatures[right])
                if agree >= step.verify_min_jaccard and ratio >= step.min_size_ratio:
                    pairs.add((left, right))
    return pairs


def space_delimited_words(text: str) -> list[str]:
    """The normalisation before scripts without spaces were segmented (digits kept)."""
    words = []
    for token in text.split():
        kept = [
            c
            for c in unicodedata.normalize("NFKC", token).lower()
            if unicodedata.category(c)[0] not in "PS"
        ]
        words.extend("".join(kept).split())
    return words


def test_word_scan_golden_per_script(golden):
    texts = list(SCRIPT_TEXTS.values())
    hashes, counts = normalized_word_hashes(pa.array(texts, pa.large_string()))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    shingles = shingle_hashes(pa.array(texts, pa.large_string()))
    result = {}
    for index, (script, text) in enumerate(SCRIPT_TEXTS.items()):
        words = [
            w
            for token in space_delimited_words(text)
            for w in "".join(f" {c} " if is_non_spaced(c) else c for c in token).split()
        ]
        assert hashes[offsets[index] : offsets[index + 1]].tolist() == [
            word_hash(w.encode()) for w in words
        ], script
        first = int(shingles.offsets[index])
        result[script] = {
            "words": words,
            "shingles": int(shingles.counts[index]),
            "first_shingle": f"{int(shingles.values[first]):016x}",
        }
    # space-delimited scripts hash exactly as before: one word per whitespace token
    for script in ("korean", "arabic", "russian"):
        assert result[script]["words"] == space_delimited_words(SCRIPT_TEXTS[script])
    assert result["chinese"]["words"][:3] == ["我", "们", "在"]
    assert "python" in result["chinese"]["words"] and "312" in result["chinese"]["words"]
    assert "カ" in result["japanese"]["words"]  # halfwidth katakana, NFKC
    golden.check("dedupe/minhash_words_by_script", result)


def _edited(rng: random.Random, text: str, alphabet: str, share: float = 0.01) -> str:
    characters = list(text)
    for position in rng.sample(range(len(characters)), max(1, round(share * len(characters)))):
        characters[position] = rng.choice([c for c in alphabet if c != characters[position]])
    return "".join(characters)


@pytest.mark.parametrize(
    "alphabet",
    [
        "".join(chr(0x4E00 + k) for k in range(0, 3000, 3)),  # Han
        "".join(chr(c) for c in range(0x3041, 0x3097)) + "日本語水車小屋毎朝焼",  # kana + kanji
    ],
    ids=["chinese", "japanese"],
)
def test_planted_one_percent_edits_are_found_and_distinct_texts_are_not(alphabet):
    rng = random.Random(3)
    originals = ["".join(rng.choice(alphabet) for _ in range(600)) for _ in range(40)]
    texts = originals + [_edited(rng, text, alphabet) for text in originals]
    pairs = found_pairs(MinHashDedup(), texts)
    planted = {(i, i + len(originals)) for i in range(len(originals))}
    assert len(pairs & planted) >= 0.95 * len(planted)
    assert pairs <= planted  # no two distinct documents merged


def test_planted_edits_in_chinese_wikipedia(shared_data):
    path = shared_data / "multilingual" / "zh_wiki_cmrc" / "passages.jsonl"
    originals = [json.loads(line)["text"] for line in path.open(encoding="utf-8")][:300]
    alphabet = "".join(sorted({c for text in originals for c in text if not c.isspace()}))
    rng = random.Random(5)
    texts = originals + [_edited(rng, text, alphabet) for text in originals]
    pairs = found_pairs(MinHashDedup(), texts)
    planted = {(i, i + len(originals)) for i in range(len(originals))}
    assert len(pairs & planted) >= 0.95 * len(planted)
    assert pairs <= planted


#: Short texts that differ only in their figures (the MRPC pattern of issue 15).
FIGURES = [
    (
        "The blue-chip index rose 18.25 points, or 0.2 percent, to 9,586.71 in late trading.",
        "The blue-chip index rose 98.74 points, or 1.1 percent, to 8,949.00 in late trading.",
    ),
    (
        "Shares of the company closed at $23.45 on Tuesday, up 12 cents from Monday.",
        "Shares of the company closed at $31.10 on Tuesday, up 75 cents from Monday.",
    ),
]


def test_texts_differing_only_in_numbers_are_kept_apart_by_default():
    texts = [text for pair in FIGURES for text in pair]
    assert found_pairs(MinHashDedup(), texts) == set()
    assert found_pairs(MinHashDedup(numbers="zero"), texts) == {(0, 1), (2, 3)}


def test_long_documents_differing_in_a_few_numbers_still_merge():
    rng = random.Random(9)
    words = [f"w{rng.randrange(2000)}" for _ in range(500)]
    changed = list(words)
    for position in rng.sample(range(len(words)), 10):
        changed[position] = str(rng.randrange(10_000))
        words[position] = str(rng.randrange(10_000))
    assert found_pairs(MinHashDedup(), [" ".join(words), " ".join(changed)]) == {(0, 1)}


def _header_files() -> tuple[list[str], list[str]]:
    files = sorted(HEADERS.iterdir())
    return [p.name for p in files], [p.read_text(encoding="utf-8") for p in files]


def test_distinct_headers_sharing_a_licence_comment_are_not_merged_as_code():
    names, texts = _header_files()
    text_pairs = found_pairs(MinHashDedup(profile="text"), texts)
    assert len(text_pairs) > 10  # the issue reproduced: the licence dominates the words
    assert found_pairs(MinHashDedup(profile="code"), texts) == set()
    # the same file with another licence header is still a duplicate as code
    rand = texts[names.index("rand.h")]
    relicensed = "// SPDX-License-Identifier: MIT\n// (c) someone else\n" + rand.split("*/", 1)[1]
    assert found_pairs(MinHashDedup(profile="code"), [rand, relicensed]) == {(0, 1)}


def test_code_tokens_make_operators_count():
    step = MinHashDedup(profile="code")
    left = "if (a < b) { return a - b; } else { return b - a; }"
    right = "if (a > b) { return a + b; } else { return b * a; }"
    _, text_counts = MinHashDedup(profile="text").signatures(pa.array([left]))
    _, code_counts = step.signatures(pa.array([left]))
    assert code_counts[0] > text_counts[0]
    assert found_pairs(step, [left, right]) == set()


def test_auto_profile_shingles_code_reader_documents_as_code():
    _, _, batches = read_source(CodeReader(), [str(HEADERS)], "code")
    batch = pa.concat_tables(batches)
    step = MinHashDedup()
    assert step.code_documents(batch).all()
    assert found_pairs(step, batch.column("text").to_pylist(), step.code_documents(batch)) == set()
    books = make_batch(
        ["b/0/0"], "books", ["A book."], [None], [encode_meta({"language": "English"})]
    )
    assert not step.code_documents(books).any()
    assert not MinHashDedup(profile="text").code_documents(batch).any()
