"""The ``pii`` step: privacy reduction with presidio-analyzer (Zhao et al. 2023, §4.1.2).

Finds personally identifiable information and secrets with presidio-analyzer's recognizers
and replaces each span (:mod:`gristmill.pii.replace`). Pattern entities go through the fast
path of :mod:`gristmill.pii.analysis`, whose findings equal presidio's on each whole
document; PERSON and LOCATION come from a spaCy model when one is installed
(:mod:`gristmill.pii.ner`). Nothing is downloaded. Source profiles follow the survey and
BigCode's StarCoder PII pass: ``web`` gets every entity but ``URL``, ``code`` gets emails,
IP addresses, API keys and private keys, never NER.

Phone numbers come from presidio's PhoneRecognizer (numbers python-phonenumbers finds valid
in its regions) *and*, with ``written_phones`` (the default), from their written layout
whatever the region (:mod:`gristmill.pii.written_phone`): on presidio-research's generated
sentences that lifts phone recall from presidio's 0.55 to 1.0 (``bench/pii.py``). The same
option drops presidio's phone findings that are dates, amounts, code literals or numbers
labelled as something else (``ISBN``, ``order``, ``ID``...): python-phonenumbers takes any
digit run valid in some region, such as an ISBN-10, for a phone number.
IP addresses: with ``public_ip_only`` (the default) only globally routable addresses are
replaced; private, loopback, link-local, documentation and reserved ones stay.
``URL`` (presidio's UrlRecognizer: web addresses and bare domains such as ``example.org``)
is off by default, since links and domains are rarely personal and often useful text;
name it in ``entities`` to replace them.

Outputs: the ``<step>_found`` signal (spans replaced per document), ``found:<ENTITY>``
counters in the run stats, and with ``audit: true`` a ``<step>_spans`` column listing each
span's type, offsets in the input text and keyed hash, never the value itself.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from gristmill.pii.analysis import Finding, PatternFinder
from gristmill.pii.ner import find_ner, ner_engine
from gristmill.pii.recognizers import NER_ENTITIES, PATTERN_ENTITIES, PROFILE_ENTITIES
from gristmill.pii.replace import apply_replacements, resolve_overlaps
from gristmill.steps import StepResult, Transform, split_by_reasons

logger = logging.getLogger(__name__)

AUDIT_TYPE = pa.list_(
    pa.struct(
        [
            pa.field("type", pa.string()),
            pa.field("start", pa.int64()),
            pa.field("end", pa.int64()),
            pa.field("hash", pa.string()),
        ]
    )
)


@dataclass
class Scrubbed:
    """What the step made of a batch of texts."""

    texts: list[str]
    reasons: list[str | None]
    found: list[int]
    spans: list[list[dict[str, Any]]]
    counters: Counter = field(default_factory=Counter)


class PiiScrub(Transform):
    """Replace PII and secrets found by presidio-analyzer (tag, redact, hash or fake)."""

    name = "pii"

    profile: Literal["web", "code"] = "web"
    #: entities to find; default: the profile's (web: all, code: secrets + email + IP)
    entities: list[str] | None = None
    mode: Literal["tag", "redact", "hash", "fake"] = "tag"
    #: replace only globally routable IP addresses (datatrove's default too): private
    #: (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local, documentation and
    #: reserved addresses identify no one and stay verbatim; false replaces every address
    public_ip_only: bool = True
    #: also find phone numbers by their written layout, region-free, beyond presidio's
    #: validated ones, and drop presidio's phone findings that are dates, amounts, code
    #: literals or labelled as other numbers (:mod:`gristmill.pii.written_phone`)
    written_phones: bool = True
    #: PERSON/LOCATION: auto = when ``ner_model`` is installed, on = required, off = never
    ner: Literal["auto", "on", "off"] = "auto"
    ner_model: str = "en_core_web_sm"
    #: presidio's score threshold; 0 keeps every finding, as presidio does by default
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    #: environment variable holding the secret salt of hashes and fake values
    salt_env: str = "GRISTMILL_PII_SALT"
    audit: bool = False
    language: str = "en"
    #: longer lines are analysed in chunks of this size, overlapping by ``chunk_overlap``;
    #: findings up to half the overlap long are exact wherever they fall, longer ones send
    #: their line to presidio whole when they touch a cut
    chunk_chars: int = Field(32_768, ge=256, le=65_536)
    chunk_overlap: int = Field(4_096, ge=64)

    @field_validator("ner", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: object) -> object:
        """YAML reads a bare ``off``/``on`` as a boolean; take it as meant."""
        if isinstance(value, bool):
            return "on" if value else "off"
        return value

    @model_validator(mode="after")
    def _check(self) -> PiiScrub:
        known = PATTERN_ENTITIES + NER_ENTITIES
        unknown = sorted(set(self.entities or ()) - set(known))
        if unknown:
            raise ValueError(f"unknown entities {unknown}; allowed: {', '.join(known)}")
        if self.profile == "code" and set(self.entities or ()) & set(NER_ENTITIES):
            raise ValueError("profile 'code' gets no NER entities (PERSON, LOCATION)")
        if self.chunk_overlap * 2 >= self.chunk_chars:
            raise ValueError("chunk_overlap must be less than half of chunk_chars")
        return self

    def selected_entities(self) -> tuple[str, ...]:
        chosen = self.entities if self.entities is not None else PROFILE_ENTITIES[self.profile]
        return tuple(e for e in PATTERN_ENTITIES + NER_ENTITIES if e in chosen)

    def rewrite(self, batch: pa.Table) -> tuple[list[str], Sequence[str | None], Counter]:
        scrubbed = self.scrub(batch.column("text").to_pylist())
        return scrubbed.texts, scrubbed.reasons, scrubbed.counters

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(kept=batch)
        scrubbed = self.scrub(batch.column("text").to_pylist())
        index = batch.schema.get_field_index("text")
        batch = batch.set_column(index, "text", pa.array(scrubbed.texts, type=pa.large_string()))
        if keep_signals:
            batch = batch.append_column(f"{step_id}_found", pa.array(scrubbed.found, pa.int32()))
            if self.audit:
                batch = batch.append_column(
                    f"{step_id}_spans", pa.array(scrubbed.spans, type=AUDIT_TYPE)
                )
        result = split_by_reasons(batch, scrubbed.reasons, step_id)
        result.counters.update(scrubbed.counters)
        return result

    def find(self, texts: Sequence[str], counters: Counter | None = None) -> list[list[Finding]]:
        """Every finding per document (pattern and NER), before overlaps are resolved."""
        counters = counters if counters is not None else Counter()
        entities = self.selected_entities()
        threshold = self.min_score or None
        patterns = tuple(e for e in entities if e in PATTERN_ENTITIES)
        findings = _pattern_finder(
            patterns,
            self.language,
            self.public_ip_only,
            threshold,
            self.chunk_chars,
            self.chunk_overlap,
            self.written_phones,
        ).find(texts, counters)
        named = tuple(e for e in entities if e in NER_ENTITIES)
        if named and self.ner != "off":
            engine = ner_engine(self.ner_model, self.language, named)
            if engine is None and self.ner == "on":
                raise RuntimeError(
                    f"pii: ner is 'on' but spaCy model {self.ner_model!r} is not installed"
                )
            if engine is None:
                counters["docs_without_ner"] += len(texts)
            else:
                ner_found = find_ner(engine, texts, named, self.language, threshold)
                for doc, found in enumerate(ner_found):
                    findings[doc].extend(found)
        return findings

    def scrub(self, texts: Sequence[str]) -> Scrubbed:
        counters: Counter = Counter()
        findings = self.find(texts, counters)
        salt = _salt(self.salt_env, needed=self.mode in ("hash", "fake") or self.audit)
        result = Scrubbed(texts=[], reasons=[], found=[], spans=[], counters=counters)
        for text, found in zip(texts, findings, strict=True):
            spans = resolve_overlaps(found)
            new_text, digests = apply_replacements(text, spans, self.mode, salt)
            result.texts.append(new_text)
            result.reasons.append("empty" if text and not new_text.strip() else None)
            result.found.append(len(spans))
            result.spans.append(
                [
                    {"type": s.entity, "start": s.start, "end": s.end, "hash": d.hex()[:16]}
                    for s, d in zip(spans, digests, strict=True)
                ]
                if self.audit
                else []
            )
            if spans:
                counters["docs_changed"] += 1
                counters.update(f"found:{s.entity}" for s in spans)
        return result


@cache
def _pattern_finder(
    entities: tuple[str, ...],
    language: str,
    public_ip_only: bool,
    score_threshold: float | None,
    chunk_chars: int,
    chunk_overlap: int,
    written_phones: bool,
) -> PatternFinder:
    """One finder (and presidio engine) per worker process and configuration."""
    return PatternFinder(
        entities,
        language,
        public_ip_only,
        score_threshold,
        chunk_chars,
        chunk_overlap,
        written_phones,
    )


@cache
def _salt(variable: str, needed: bool) -> bytes:
    value = os.environ.get(variable)
    if value is None and needed:
        logger.warning(
            "pii: $%s is not set: hashes and fake values are unsalted, and low-entropy "
            "values (phone numbers, SSNs) can be recovered from them by enumeration",
            variable,
        )
    return (value or "").encode("utf-8")
