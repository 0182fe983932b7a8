"""The pii step: golden cases, replacement modes, signals, audit, counters, validation."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from pydantic import ValidationError

from gristmill.documents import make_batch
from gristmill.pii.analysis import Finding
from gristmill.pii.recognizers import is_public_address
from gristmill.pii.replace import fake_value, keyed_digest, resolve_overlaps
from gristmill.pii.step import PiiScrub
from gristmill.pipelines.registry import step_class
from tests.pii_fixtures import CHUNK_EDGE_TEXT, GOLDEN_CASES

PATTERNS_ONLY = {"ner": "off"}


def _batch(texts: list[str], source: str = "web") -> pa.Table:
    return make_batch(
        [f"{source}/s/{i}" for i in range(len(texts))],
        source,
        texts,
        [None] * len(texts),
        [None] * len(texts),
    )


def _findings(step: PiiScrub, text: str) -> list[list]:
    return [[f.entity, f.start, f.end] for f in resolve_overlaps(step.find([text])[0])]


@pytest.mark.parametrize("profile", ["web", "code"])
def test_golden_cases(golden, profile):
    step = PiiScrub(profile=profile, **PATTERNS_ONLY)
    result = {}
    for name, text in GOLDEN_CASES.items():
        scrubbed = step.scrub([text])
        result[name] = {"text": scrubbed.texts[0], "spans": _findings(step, text)}
    golden.check(f"pii/cases_{profile}", result)


def test_text_without_pii_is_left_byte_identical():
    text = GOLDEN_CASES["no_pii"]
    scrubbed = PiiScrub(**PATTERNS_ONLY).scrub([text, ""])
    assert scrubbed.texts == [text, ""]
    assert scrubbed.found == [0, 0]


def test_a_span_across_a_chunk_edge_is_found(golden):
    step = PiiScrub(chunk_chars=256, chunk_overlap=64, **PATTERNS_ONLY)
    counters = {}
    scrubbed = step.scrub([CHUNK_EDGE_TEXT])
    counters = dict(scrubbed.counters)
    assert counters["chunks"] == 3  # the line was cut, and the email crosses the first cut
    assert "<EMAIL_ADDRESS>" in scrubbed.texts[0]
    golden.check(
        "pii/chunk_edge", {"text": scrubbed.texts[0], "spans": _findings(step, CHUNK_EDGE_TEXT)}
    )


def test_public_addresses_only_by_default():
    assert is_public_address("8.8.8.8") and is_public_address("2606:4700:4700::1111")
    for private in ("10.0.0.1", "192.168.1.20", "127.0.0.1", "fe80::1", "::1", "::ffff:10.0.0.1"):
        assert not is_public_address(private)
    text = "hosts 8.8.8.8 and 10.0.0.1"
    assert PiiScrub(**PATTERNS_ONLY).scrub([text]).texts == ["hosts <IP_ADDRESS> and 10.0.0.1"]
    everything = PiiScrub(public_ip_only=False, **PATTERNS_ONLY).scrub([text]).texts
    assert everything == ["hosts <IP_ADDRESS> and <IP_ADDRESS>"]


def test_modes_replace_consistently(monkeypatch):
    monkeypatch.setenv("GRISTMILL_PII_SALT", "pepper")
    text = "mail jane.doe@example.com, again jane.doe@example.com, card 4111 1111 1111 1111"
    tag, redact, hashed, fake = (
        PiiScrub(mode=mode, **PATTERNS_ONLY).scrub([text]).texts[0]
        for mode in ("tag", "redact", "hash", "fake")
    )
    assert tag == "mail <EMAIL_ADDRESS>, again <EMAIL_ADDRESS>, card <CREDIT_CARD>"
    assert redact == "mail , again , card "
    first, second = hashed.split(", ")[:2]
    assert first.removeprefix("mail ") == second.removeprefix("again ")
    assert (
        first.startswith("mail <EMAIL_ADDRESS:") and len(first) == len("mail <EMAIL_ADDRESS:>") + 16
    )
    assert "jane" not in fake and fake.count("@example.com") == 2
    fakes = fake.split(", ")
    assert fakes[0].removeprefix("mail ") == fakes[1].removeprefix("again ")
    # the fake card keeps its layout but fails the Luhn check, so it is no card
    card = fakes[2].removeprefix("card ")
    assert len(card) == 19 and card.count(" ") == 3
    assert PiiScrub(**PATTERNS_ONLY).scrub([f"card {card}"]).found == [0]


def test_salt_changes_hashes(monkeypatch):
    one = keyed_digest(b"a", "EMAIL_ADDRESS", "x@example.com")
    assert one == keyed_digest(b"a", "EMAIL_ADDRESS", "x@example.com")
    assert one != keyed_digest(b"b", "EMAIL_ADDRESS", "x@example.com")
    assert fake_value("US_SSN", "536-22-8721", one)[0] == "9"  # never an issued area
    assert fake_value("IBAN_CODE", "GB82 WEST 1234 5698 7654 32", one).startswith("GB00")


def test_overlapping_findings_merge_under_the_best():
    spans = resolve_overlaps(
        [
            Finding("PHONE_NUMBER", 0, 10, 0.4),
            Finding("CREDIT_CARD", 2, 19, 1.0),
            Finding("EMAIL_ADDRESS", 25, 30, 1.0),
        ]
    )
    assert spans == [Finding("CREDIT_CARD", 0, 19, 1.0), Finding("EMAIL_ADDRESS", 25, 30, 1.0)]


def test_signals_counters_and_audit_never_hold_the_value():
    texts = [GOLDEN_CASES["emails"], GOLDEN_CASES["no_pii"], GOLDEN_CASES["credit_cards"]]
    step = step_class("pii")(audit=True, **PATTERNS_ONLY)
    result = step.process(_batch(texts), "pii")
    assert result.kept.column("pii_found").to_pylist() == [2, 0, 2]
    assert result.counters["found:EMAIL_ADDRESS"] == 2 and result.counters["found:CREDIT_CARD"] == 2
    assert result.counters["docs_changed"] == 2
    spans = result.kept.column("pii_spans").to_pylist()
    assert [s["type"] for s in spans[0]] == ["EMAIL_ADDRESS", "EMAIL_ADDRESS"]
    assert texts[0][spans[0][0]["start"] : spans[0][0]["end"]] == "jane.doe@example.com"
    audit = json.dumps(spans)
    for value in ("jane.doe", "example.com", "4111", "5555"):
        assert value not in audit


def test_a_document_emptied_by_redaction_is_counted():
    result = PiiScrub(mode="redact", **PATTERNS_ONLY).process(
        _batch(["jane.doe@example.com", "keep me"]), "pii"
    )
    assert result.kept.column("text").to_pylist() == ["keep me"]
    assert result.removed_by_reason() == {"pii:empty": 1}


def test_code_profile_gets_secrets_email_and_ip_only():
    step = PiiScrub(profile="code")
    assert step.selected_entities() == ("EMAIL_ADDRESS", "IP_ADDRESS", "API_KEY", "PRIVATE_KEY")
    text = "call +44 20 7946 0958, mail ops@example.com, key AKIAIOSFODNN7EXAMPLE"
    assert step.scrub([text]).texts == [
        "call +44 20 7946 0958, mail <EMAIL_ADDRESS>, key <API_KEY>"
    ]


def test_config_is_validated():
    with pytest.raises(ValidationError, match="unknown entities"):
        PiiScrub(entities=["EMAIL", "PHONE_NUMBER"])
    with pytest.raises(ValidationError, match="no NER"):
        PiiScrub(profile="code", entities=["PERSON"])
    with pytest.raises(ValidationError, match="chunk_overlap"):
        PiiScrub(chunk_chars=1000, chunk_overlap=600)
    with pytest.raises(ValidationError):
        PiiScrub(mode="mask")
