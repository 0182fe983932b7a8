"""The fast path finds exactly what presidio's AnalyzerEngine finds on whole documents.

Reference: an AnalyzerEngine with the same recognizers (the stock PhoneRecognizer), called
once per whole document. Checked on the fixtures, on generated documents cut into small
chunks, on the presidio-research data and on real web text, plus the assumptions the fast
path rests on (barrier characters, case folding, digit bounds) against the libraries.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections import Counter

import pytest
import regex
from phonenumbers import phonenumbermatcher, phonenumberutil
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from gristmill.pii import phone
from gristmill.pii.analysis import PatternFinder, reference_findings
from gristmill.pii.phone import MemoizedPhoneRecognizer
from gristmill.pii.phone_bounds import cannot_be_valid
from gristmill.pii.prescan import _BARRIER, PHONE_CANDIDATE_CHARS
from gristmill.pii.recognizers import PATTERN_ENTITIES, PROFILE_ENTITIES
from tests.pii_fixtures import CHUNK_EDGE_TEXT, GOLDEN_CASES, generated_documents

CODE_ENTITIES = PROFILE_ENTITIES["code"]


def _assert_same(finder: PatternFinder, texts: list[str]) -> int:
    fast = finder.find(texts)
    for text, found in zip(texts, fast, strict=True):
        assert found == reference_findings(finder, text), text[:200]
    return sum(map(len, fast))


def test_fixtures_match_presidio():
    texts = [*GOLDEN_CASES.values(), CHUNK_EDGE_TEXT]
    assert _assert_same(PatternFinder(PATTERN_ENTITIES), texts) > 20
    assert _assert_same(PatternFinder(CODE_ENTITIES), texts) > 5
    assert _assert_same(PatternFinder(PATTERN_ENTITIES, chunk_chars=256, chunk_overlap=64), texts)


@pytest.mark.parametrize(("chunk_chars", "overlap"), [(256, 64), (1024, 128), (32_768, 1_024)])
def test_generated_documents_match_presidio(chunk_chars, overlap):
    texts = generated_documents(60, seed=chunk_chars)
    counters: Counter = Counter()
    finder = PatternFinder(PATTERN_ENTITIES, chunk_chars=chunk_chars, chunk_overlap=overlap)
    fast = finder.find(texts, counters)
    for text, found in zip(texts, fast, strict=True):
        assert found == reference_findings(finder, text)
    assert sum(map(len, fast)) > 300
    if chunk_chars == 256:
        assert counters["chunks"] > 0  # long lines were cut


def test_private_ip_setting_and_code_profile_match_presidio():
    texts = generated_documents(30, seed=5)
    _assert_same(PatternFinder(PATTERN_ENTITIES, public_ip_only=False), texts)
    _assert_same(PatternFinder(CODE_ENTITIES, chunk_chars=512, chunk_overlap=64), texts)


def test_memoized_phone_recognizer_matches_the_stock_one():
    rng = random.Random(3)
    pieces = ["+", "0", "00", "(", ")", " ", "-", ".", "/", " ext ", "x", ":", "#", "1", "a"]
    texts = []
    for _ in range(400):
        parts = [str(rng.randrange(10 ** rng.randint(1, 6))) for _ in range(rng.randint(1, 4))]
        glue = [rng.choice(pieces) for _ in parts]
        texts.append("".join(g + p for g, p in zip(glue, parts, strict=True)))
    stock, memoized = PhoneRecognizer(), MemoizedPhoneRecognizer()
    for attempt in range(2):  # cold cache, then warm
        for text in texts:
            want = sorted((r.start, r.end) for r in stock.analyze(text, ["PHONE_NUMBER"]))
            got = sorted((r.start, r.end) for r in memoized.analyze(text, ["PHONE_NUMBER"]))
            assert got == want, (attempt, text)


def test_digit_bounds_reject_only_what_phonenumbers_rejects():
    # 4- to 7-digit numbers in each region the recognizer uses: the bound never hides one
    rng = random.Random(4)
    numbers = [f"{n:04d}" for n in range(1600, 1700)]  # German numbers can be 4 digits
    lengths = [rng.randint(4, 7) for _ in range(600)]
    numbers += [str(rng.randrange(10 ** (n - 1), 10**n)) for n in lengths]
    numbers += ["0" + n for n in numbers[:300]] + ["+" + n for n in numbers[300:600]]
    text = " ; ".join(numbers)
    for region in PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS:
        found = {
            m.raw_string
            for m in phonenumbermatcher.PhoneNumberMatcher(
                text, region, leniency=1, max_tries=10**9
            )
        }
        assert not any(cannot_be_valid(region, number) for number in found)
    assert cannot_be_valid("US", "2019") and not cannot_be_valid("DE", "1640")
    assert not cannot_be_valid("US", "+49 1640") and not cannot_be_valid("US", "1-800-FLOWERS")


def test_phone_barriers_hold_no_candidate_character():
    """No character phonenumbers' candidate pattern can consume is a barrier."""
    extension = re.sub(
        r"\\[dt]|\{\d+,\d+\}|\(\?:|[()|?*+\[\]\\]", "", phonenumberutil._EXTN_PATTERNS_FOR_MATCHING
    )
    literal = set(extension) | {"\t"}
    consumable = re.compile(
        "["
        + phonenumberutil._VALID_PUNCTUATION
        + phonenumbermatcher._LEAD_CLASS_CHARS
        + "".join(map(re.escape, literal))
        + r"\d]",
        re.IGNORECASE | re.UNICODE,
    )
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if consumable.match(char):
            assert not _BARRIER.match(char), (
                f"U+{code:04X} is a barrier but phonenumbers may use it"
            )
    assert "\n" not in PHONE_CANDIDATE_CHARS and _BARRIER.match("\n")


def test_prescan_shapes_fold_case_like_presidio():
    crypto_class = regex.compile(r"(?i)[a-zA-HJ-NP-Z0-9]")
    shape_class = regex.compile(r"(?i:[a-z0-9])")
    for code in range(sys.maxunicode + 1):
        if crypto_class.match(chr(code)):
            assert shape_class.match(chr(code))


def test_presidio_research_data_matches_presidio(shared_data):
    folder = shared_data / "pii" / "presidio_research"
    texts = [row["full_text"] for row in json.loads((folder / "synth_dataset_v2.json").read_text())]
    texts += [row["full_text"] for row in json.loads((folder / "generated_small.json").read_text())]
    finder = PatternFinder(PATTERN_ENTITIES)
    assert _assert_same(finder, texts) > 300


def test_web_documents_match_presidio(shared_data):
    path = (
        shared_data
        / "web"
        / "jsonl"
        / "dolma"
        / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    )
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle][:120]
    phone.clear_caches()
    finder = PatternFinder(PATTERN_ENTITIES, chunk_chars=4096, chunk_overlap=256)
    assert _assert_same(finder, texts) > 50
    assert _assert_same(PatternFinder(CODE_ENTITIES), texts) >= 0


def test_long_pieces_match_presidio():
    rng = random.Random(8)
    digits_run = " ".join(str(rng.randrange(10, 10_000)) for _ in range(700))  # one phone window
    long_email = "x" * 700 + "@example.com and more"  # longer than half the overlap
    texts = [
        digits_run,
        "words " * 80 + long_email + " words" * 80,
        "a " * 300 + "+44 20 7946 0958",
    ]
    counters: Counter = Counter()
    finder = PatternFinder(PATTERN_ENTITIES, chunk_chars=256, chunk_overlap=64)
    fast = finder.find(texts, counters)
    for text, found in zip(texts, fast, strict=True):
        assert found == reference_findings(finder, text)
    assert counters["long_piece_fallbacks"] >= 1  # the email reached a cut edge
    assert any(f.entity == "EMAIL_ADDRESS" for f in fast[1])
